"""Issue 20 item 8: a setting that does not parse stops the process, naming it and the form it needs."""
from __future__ import annotations

from pathlib import Path

import pytest

from paht import runner, settings, storage
from tests.unit.test_production_guard import nameko_routing


@pytest.mark.parametrize("name, value, expected", [
    ("PAHT_DELIVERY_LIMIT", "five", "a whole number ≥ 1"),
    ("PAHT_DELIVERY_LIMIT", "0", "out of range"),
    ("PAHT_MAX_UPLOAD_MB", "2.5", "a whole number ≥ 0"),
    ("PAHT_RETRY_BACKOFF_SECONDS", "fast", "a number ≥ 0"),
    ("PAHT_RETRY_BACKOFF_SECONDS", "nan", "out of range"),
    ("PAHT_RATE_LIMIT_PER_MINUTE", "-3", "out of range"),
    ("PAHT_OIDC_LEEWAY_SECONDS", "30s", "a number ≥ 0"),
])
def test_a_value_that_does_not_parse_is_named_with_its_form(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    problems = settings.setting_problems()
    assert len(problems) == 1 and problems[0].startswith(f"{name}={value!r}") and expected in problems[0], problems
    with pytest.raises(settings.SettingsRefused, match=name):
        settings.check_startup()


def test_good_values_and_unset_ones_parse(monkeypatch):
    monkeypatch.setenv("PAHT_DELIVERY_LIMIT", " 7 ")
    monkeypatch.setenv("PAHT_RETRY_BACKOFF_SECONDS", "0.05")
    monkeypatch.setenv("PAHT_SESSION_MINUTES", "")
    assert settings.setting_problems() == []
    assert settings.delivery_limit() == 7 and settings.retry_backoff_seconds() == 0.05
    assert settings.session_minutes() == 60


def test_a_bad_value_read_later_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setenv("PAHT_DELIVERY_LIMIT", "five")
    with pytest.raises(settings.SettingInvalid, match="PAHT_DELIVERY_LIMIT"):
        settings.delivery_limit()


def test_no_number_is_read_from_the_environment_around_the_table():
    root = Path(__file__).resolve().parents[2]
    bypass = [f"{path.relative_to(root)}:{n}" for folder in ("paht", "services") for path in (root / folder).rglob("*.py")
              for n, line in enumerate(path.read_text().splitlines(), 1)
              if ("int(os.environ" in line or "float(os.environ" in line)]
    assert bypass == []


def test_every_service_refuses_where_it_opens_its_store(monkeypatch):
    monkeypatch.setenv("PAHT_NOTIFICATION_ATTEMPTS", "many")
    with pytest.raises(settings.SettingsRefused, match="PAHT_NOTIFICATION_ATTEMPTS"):
        storage.open_database("publishing", "memory://")


def test_a_nameko_service_exits_with_the_message(tmp_path):
    done = nameko_routing({"PAHT_ENV": "test", "PAHT_DELIVERY_LIMIT": "five"}, tmp_path)
    assert done.returncode != 0
    assert "PAHT_DELIVERY_LIMIT='five' does not parse" in done.stderr and "Traceback" not in done.stderr


def test_paht_up_refuses_before_starting_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PAHT_ENV", "dev")
    monkeypatch.setenv("PAHT_SESSION_MINUTES", "an hour")
    monkeypatch.setattr(runner, "ensure_broker", lambda *a, **k: pytest.fail("the broker was contacted"))
    monkeypatch.setattr(runner, "start_service", lambda *a, **k: pytest.fail("a service was started"))
    assert runner.up(None) == 1
    assert "PAHT_SESSION_MINUTES='an hour' does not parse" in capsys.readouterr().out


def test_the_environment_is_read_in_settings_only():
    """One place for each setting: paht/settings.py (the runner hands its whole environment to the services it
    starts, and reads where its own files go before any service exists)."""
    root = Path(__file__).resolve().parents[2]
    allowed = {"paht/settings.py", "paht/runner.py"}
    readers = sorted(str(path.relative_to(root)) for folder in ("paht", "services") for path in (root / folder).rglob("*.py")
                     if "os.environ" in path.read_text() and str(path.relative_to(root)) not in allowed)
    assert readers == []


def test_the_demo_is_a_client_of_a_local_system(monkeypatch, tmp_path):
    """`paht demo` signs citizens' accounts with the local key `paht up` made (it failed with "no
    PAHT_ACCOUNT_SECRET" when run, as the README says, from a plain shell)."""
    from paht import accounts

    monkeypatch.delenv("PAHT_ENV", raising=False)
    monkeypatch.delenv("PAHT_ACCOUNT_SECRET", raising=False)
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path))
    settings.assume_local_system()
    assert settings.environment() == "dev" and accounts.proof("citizen-1")
    monkeypatch.setenv("PAHT_ENV", "production")
    settings.assume_local_system()
    assert settings.environment() == "production"
