"""Every limit and switch PAHT reads from the environment, in one place (read when used, so tests can set them)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .clock import var_dir

MB = 1024 * 1024


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def environment() -> str:
    """dev (`paht up`), test (the test suite), production; unset means production-like (no test endpoints)."""
    return os.environ.get("PAHT_ENV", "")


def test_endpoints_enabled() -> bool:
    return environment() in ("dev", "test")


# ---- HTTP input limits --------------------------------------------------------------------------------------
def max_request_bytes() -> int:
    """The whole request body (every part together)."""
    return _int("PAHT_MAX_REQUEST_MB", 100) * MB


def max_upload_bytes() -> int:
    """One media file."""
    return _int("PAHT_MAX_UPLOAD_MB", 20) * MB


MAX_FORM_FIELD_BYTES = 64 * 1024     # a `report`/`action` JSON part: a few KB in practice
MAX_MEDIA_PARTS = 20
MAX_FORM_PARTS = 50                  # every part of a multipart body, media included
MAX_JSON_DEPTH = 32


def rate_limit_per_minute() -> int:
    """Citizen submissions per minute per client address and per reporter; 0 turns the limit off."""
    return _int("PAHT_RATE_LIMIT_PER_MINUTE", 0 if environment() == "test" else 30)


def idempotency_hours() -> int:
    return _int("PAHT_IDEMPOTENCY_HOURS", 24)


# ---- bus ----------------------------------------------------------------------------------------------------
def delivery_limit() -> int:
    """How often one message is tried before it becomes a dead letter."""
    return max(1, _int("PAHT_DELIVERY_LIMIT", 5))


def retry_backoff_seconds() -> float:
    return float(os.environ.get("PAHT_RETRY_BACKOFF_SECONDS", "0.5"))


# ---- periodic reports ---------------------------------------------------------------------------------------
def report_check_seconds() -> float:
    """How often the rating service looks for periodic reports that fell due."""
    return float(os.environ.get("PAHT_REPORT_CHECK_SECONDS", "60"))


# ---- secrets ------------------------------------------------------------------------------------------------
def _secret(variable: str, filename: str, generated_ok: bool) -> bytes | None:
    configured = os.environ.get(variable)
    if configured:
        return configured.encode()
    if not generated_ok:
        return None
    path = Path(var_dir()) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        try:
            os.link(tmp, path)       # the first writer wins; every local service reads the same key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def internal_secret() -> bytes:
    """The key services sign internal assertions with (the staff actor intake authenticated). Production sets
    PAHT_INTERNAL_SECRET; a local system shares one made on first use under the var directory."""
    return _secret("PAHT_INTERNAL_SECRET", "internal-secret", True)


def account_secret() -> bytes | None:
    """The key the province's sign-in service signs account assertions with (PAHT_ACCOUNT_SECRET); local and test
    systems make their own so the demo app can sign in. Without it no account counts as verified."""
    return _secret("PAHT_ACCOUNT_SECRET", "account-secret", test_endpoints_enabled())
