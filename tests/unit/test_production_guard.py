"""Issue 13 item 4: under PAHT_ENV=production a process refuses to start unless it is safe to run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paht import runner, settings, storage

SAFE = {"PAHT_ENV": "production", "MONGO_URI": "mongodb://paht:s3cr3t-pw@db-1:27017/?replicaSet=rs0",
        "PAHT_INTERNAL_SECRET": "0123456789abcdef", "PAHT_PUBLIC_URL": "https://paht.example.gov.vn"}


def test_a_safe_production_environment_has_no_problems():
    assert settings.production_problems(SAFE) == []
    assert settings.production_problems(dict(SAFE, MONGO_URI="mongodb+srv://cluster.example.vn/")) == []
    assert settings.production_problems(dict(SAFE, PAHT_PUBLIC_URL="https://portal.example.gov.vn/paht/")) == []
    assert settings.production_problems(dict(SAFE, PAHT_AGENCY_WEBHOOK_URL="https://agency.example.vn/hook",
                                             PAHT_WEBHOOK_SECRET="0123456789abcdef")) == []
    settings.check_production(SAFE)   # does not raise


def test_outside_production_nothing_is_checked():
    assert settings.production_problems({"PAHT_ENV": "dev", "PAHT_CLOCK": "controlled"}) == []
    assert settings.production_problems({}) == []


@pytest.mark.parametrize("change, named", [
    ({"MONGO_URI": None}, "MONGO_URI is not set"),
    ({"MONGO_URI": "embedded://"}, "MONGO_URI is embedded://…"),
    ({"MONGO_URI": "memory://"}, "MONGO_URI is memory://…"),
    ({"PAHT_CLOCK": "controlled"}, "PAHT_CLOCK=controlled"),
    ({"PAHT_DEMO_TOKENS": "/srv/paht/var/demo-tokens.json"}, "PAHT_DEMO_TOKENS is set"),
    ({"PAHT_INTERNAL_SECRET": None}, "PAHT_INTERNAL_SECRET is not set"),
    ({"PAHT_INTERNAL_SECRET": ""}, "PAHT_INTERNAL_SECRET is not set"),
    ({"PAHT_OIDC_ISSUER": "https://sso.example.vn/realms/hue"}, "PAHT_OIDC_JWKS_URL, PAHT_OIDC_AUDIENCE not set"),
    ({"PAHT_CITIZEN_OIDC_JWKS_URL": "https://id.example.vn/certs"}, "PAHT_CITIZEN_OIDC_ISSUER"),
    ({"PAHT_PUBLIC_URL": None}, "PAHT_PUBLIC_URL is not set"),
    ({"PAHT_PUBLIC_URL": "http://paht.example.gov.vn"}, "PAHT_PUBLIC_URL is 'http://paht.example.gov.vn', not an "
                                                        "https address"),
    ({"PAHT_PUBLIC_URL": "paht.example.gov.vn"}, "PAHT_PUBLIC_URL is 'paht.example.gov.vn', not an https address"),
    ({"PAHT_PUBLIC_URL": "https://paht.example.gov.vn/?from=sms"}, "PAHT_PUBLIC_URL is 'https://paht.example.gov.vn/"
                                                                   "?from=sms', with a query"),
    ({"PAHT_AGENCY_WEBHOOK_URL": "https://agency.example.vn/hook"}, "PAHT_WEBHOOK_SECRET is not set while "
                                                                    "PAHT_AGENCY_WEBHOOK_URL is"),
    ({"PAHT_IMMEDIATE_WEBHOOK": "https://agency.example.vn/now"}, "PAHT_WEBHOOK_SECRET is not set while "
                                                                  "PAHT_IMMEDIATE_WEBHOOK is"),
])
def test_each_unsafe_setting_is_refused_by_name_with_its_fix(change, named):
    env = {k: v for k, v in {**SAFE, **change}.items() if v is not None}
    problems = settings.production_problems(env)
    assert len(problems) == 1 and problems[0].startswith(named), problems
    with pytest.raises(SystemExit) as refused:
        settings.check_production(env)
    message = str(refused.value)
    assert message.startswith("PAHT_ENV=production: refusing to start") and named in message
    assert "s3cr3t-pw" not in message       # the database password of a MONGO_URI is never printed


def test_the_messages_say_how_to_fix_it():
    problems = " ".join(settings.production_problems({"PAHT_ENV": "production", "PAHT_CLOCK": "controlled",
                                                      "PAHT_DEMO_TOKENS": "x"}))
    for fix in ("MONGO_URI=mongodb://", "unset PAHT_CLOCK", "paht users add", "PAHT_INTERNAL_SECRET=$(openssl",
                "PAHT_PUBLIC_URL=https://"):
        assert fix in problems
    webhook = " ".join(settings.production_problems(dict(SAFE, PAHT_IMMEDIATE_WEBHOOK="https://agency.example.vn/")))
    assert "PAHT_WEBHOOK_SECRET=$(openssl rand -hex 32)" in webhook and "docs/webhooks.md" in webhook


def test_paht_up_outside_production_needs_no_public_url(tmp_path, monkeypatch):
    """`make up` (PAHT_ENV=dev) and the test systems start without PAHT_PUBLIC_URL: links then point at the local
    API's address."""
    for name in ("PAHT_ENV", "PAHT_PUBLIC_URL", "PAHT_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAHT_AGENCY_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    env = runner.service_env(tmp_path)
    assert env["PAHT_ENV"] == "dev" and settings.production_problems(env) == []


def test_every_service_refuses_where_it_opens_its_store(monkeypatch):
    """The hook: paht.storage.open_database, which every service's storage dependency calls in its setup."""
    monkeypatch.setenv("PAHT_ENV", "production")
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("PAHT_INTERNAL_SECRET", raising=False)
    with pytest.raises(settings.ProductionRefused, match="MONGO_URI is not set"):
        storage.open_database("intake", "memory://")
    monkeypatch.setenv("PAHT_ENV", "test")
    assert storage.open_database("intake", "memory://") is not None


def nameko_routing(env: dict, var: Path) -> subprocess.CompletedProcess:
    """The routing service started as `nameko run` starts it, with only `env` (and a broker nobody answers on)."""
    env = {"PATH": "/usr/bin:/bin", "PAHT_VAR_DIR": str(var), "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/", **env}
    root = Path(__file__).resolve().parents[2]
    nameko = Path(sys.executable).with_name("nameko")
    return subprocess.run([str(nameko), "run", "--config", str(root / "services/routing/config.yml"),
                           "services.routing.service:RoutingService"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_nameko_service_exits_with_the_message(tmp_path):
    done = nameko_routing({"PAHT_ENV": "production", "PAHT_CLOCK": "controlled"}, tmp_path)
    assert done.returncode != 0
    assert "refusing to start" in done.stderr and "PAHT_CLOCK=controlled" in done.stderr
    assert "MONGO_URI is not set" in done.stderr and "Traceback" not in done.stderr


def test_paht_up_in_production_passes_the_settings_on_and_writes_no_demo_tokens(tmp_path, monkeypatch):
    for name in ("PAHT_CLOCK", "PAHT_DEMO_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in SAFE.items():
        monkeypatch.setenv(name, value)
    env = runner.service_env(tmp_path)
    assert env["PAHT_ENV"] == "production" and "PAHT_CLOCK" not in env and "PAHT_DEMO_TOKENS" not in env
    assert settings.production_problems(env) == []
    monkeypatch.setenv("PAHT_ENV", "dev")
    dev = runner.service_env(tmp_path)
    assert dev["PAHT_CLOCK"] == "controlled" and dev["PAHT_DEMO_TOKENS"].endswith("demo-tokens.json")


def test_paht_up_refuses_an_unsafe_production_before_starting_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PAHT_ENV", "production")
    monkeypatch.setenv("PAHT_CLOCK", "controlled")
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("PAHT_DEMO_TOKENS", raising=False)
    monkeypatch.delenv("PAHT_INTERNAL_SECRET", raising=False)
    monkeypatch.setattr(runner, "ensure_broker", lambda *a, **k: pytest.fail("the broker was contacted"))
    monkeypatch.setattr(runner, "start_service", lambda *a, **k: pytest.fail("a service was started"))
    assert runner.up(None) == 1
    out = capsys.readouterr().out
    assert "refusing to start" in out and "PAHT_CLOCK=controlled" in out and "MONGO_URI is not set" in out
    assert not (tmp_path / "demo-tokens.json").exists()
