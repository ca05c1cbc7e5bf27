"""A generated secret (a local system's, under the var directory) is read once per process and is the same for
every service of that directory; another directory has its own; a configured one wins."""
from paht import settings


def test_generated_secret_is_made_once_and_read_once(tmp_path, monkeypatch):
    monkeypatch.delenv("PAHT_INTERNAL_SECRET", raising=False)
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path))
    first = settings.internal_secret()
    assert (tmp_path / "internal-secret").read_text().strip().encode() == first
    (tmp_path / "internal-secret").write_text("changed under the process")   # never happens: written once
    assert settings.internal_secret() == first


def test_each_var_directory_has_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("PAHT_INTERNAL_SECRET", raising=False)
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path / "a"))
    one = settings.internal_secret()
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path / "b"))
    other = settings.internal_secret()
    assert one != other
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "internal-secret").write_text("made by another service\n")
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path / "c"))
    assert settings.internal_secret() == b"made by another service"


def test_configured_secret_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PAHT_INTERNAL_SECRET", "from the environment")
    assert settings.internal_secret() == b"from the environment"
    monkeypatch.delenv("PAHT_INTERNAL_SECRET")
    assert settings.internal_secret() != b"from the environment"
