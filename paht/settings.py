"""Every limit and switch PAHT reads from the environment, in one place (read when used, so tests can set them)."""
from __future__ import annotations

import os
import secrets
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit


MB = 1024 * 1024


class SettingInvalid(SystemExit):
    """A setting that does not parse: its name, what it holds and the form it needs. A SystemExit: wherever it is
    read first (any extension's setup), the process stops with the message instead of running on a fallback."""


# Every numeric setting and its form, in one place: read when used, and all checked at start (`check_startup`).
NUMBERS: dict[str, tuple[type, float]] = {   # name: (int | float, smallest allowed)
    "PAHT_MAX_REQUEST_MB": (int, 1), "PAHT_MAX_UPLOAD_MB": (int, 0), "PAHT_RATE_LIMIT_PER_MINUTE": (int, 0),
    "PAHT_IDEMPOTENCY_HOURS": (int, 1), "PAHT_DELIVERY_LIMIT": (int, 1), "PAHT_RETRY_BACKOFF_SECONDS": (float, 0),
    "PAHT_REPORT_CHECK_SECONDS": (float, 0.01), "PAHT_SESSION_MINUTES": (int, 1),
    "PAHT_NOTIFICATION_ATTEMPTS": (int, 1), "PAHT_OUTBOX_GRACE_SECONDS": (float, 0),
    "PAHT_RPC_TIMEOUT_SECONDS": (float, 0.1), "PAHT_REPORT_RPC_TIMEOUT_SECONDS": (float, 0.1),
    "PAHT_HTTP_WORKERS": (int, 1),
    "PAHT_OIDC_JWKS_TTL_SECONDS": (float, 0), "PAHT_OIDC_LEEWAY_SECONDS": (float, 0),
    "PAHT_CITIZEN_OIDC_JWKS_TTL_SECONDS": (float, 0), "PAHT_CITIZEN_OIDC_LEEWAY_SECONDS": (float, 0),
}


def _number(name: str, default, env=None):
    kind, smallest = NUMBERS[name]
    raw = (os.environ if env is None else env).get(name, "")
    if not raw.strip():
        return default
    form = f"{'a whole number' if kind is int else 'a number'} ≥ {smallest:g}"
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingInvalid(f"{name}={raw!r} does not parse: expected {form}") from None
    if value != value or value < smallest:    # NaN, or below the least that works
        raise SettingInvalid(f"{name}={raw!r} is out of range: expected {form}")
    return value


_int = _float = _number


DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def var_dir() -> Path:
    """Where a local system keeps its files (embedded store, media, logs, clock, generated secrets)."""
    return Path(os.environ.get("PAHT_VAR_DIR", "var")).resolve()


def clock_kind() -> str:
    """PAHT_CLOCK: `real` (default) or `controlled` (dev and test systems only)."""
    return os.environ.get("PAHT_CLOCK", "real")


def db_prefix(default: str) -> str:
    """The prefix of MongoDB database names (`paht_` + the logical database)."""
    return os.environ.get("PAHT_DB_PREFIX", default)


def media_dir() -> Path:
    """The local media store's folder (without MongoDB)."""
    return Path(os.environ.get("PAHT_MEDIA_DIR", var_dir() / "media"))


def rules_dir() -> Path | None:
    """PAHT_RULES_DIR: the rule packs' folder (a mounted volume in Kubernetes); unset: the bundled rules/."""
    configured = os.environ.get("PAHT_RULES_DIR")
    return Path(configured) if configured else None


def ready_checks() -> set[str] | None:
    """PAHT_READY_CHECKS: the readiness checks that count (comma-separated); unset: all."""
    configured = os.environ.get("PAHT_READY_CHECKS")
    return None if configured is None else {name.strip() for name in configured.split(",") if name.strip()}


def demo_tokens_path() -> Path | None:
    """PAHT_DEMO_TOKENS: the demo accounts' token file of a local system (refused in production)."""
    configured = os.environ.get("PAHT_DEMO_TOKENS")
    return Path(configured) if configured else None


def immediate_webhook_url() -> str | None:
    """Where publishing posts an immediate case (the on-duty agency's system); unset: not posted."""
    return os.environ.get("PAHT_IMMEDIATE_WEBHOOK") or None


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP)


def mongo_uri() -> str:
    """The store: a MongoDB URI in production; the embedded file store by default."""
    return os.environ.get("MONGO_URI") or "embedded://"


def environment() -> str:
    """dev (`paht up`), test (the test suite), production; unset means production-like (no test endpoints)."""
    return os.environ.get("PAHT_ENV", "")


def assume_local_system() -> None:
    """A client of a local system (`paht demo`) is a dev process unless told otherwise: it signs citizens' accounts
    with the local key that `paht up` made under the var directory."""
    os.environ.setdefault("PAHT_ENV", "dev")


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


def trusted_proxies(env=None) -> tuple:
    """PAHT_TRUSTED_PROXIES: the proxies (comma-separated CIDRs or addresses, e.g. the ingress controller's pod
    network 10.0.0.0/8) whose X-Forwarded-For names the client (paht.proxies); empty (the default): none, the TCP
    peer is the client. Rate limits, login throttling and request logs key on that client."""
    from .proxies import parse_networks

    raw = (os.environ if env is None else env).get("PAHT_TRUSTED_PROXIES", "")
    try:
        return parse_networks(raw)
    except ValueError as exc:
        raise SettingInvalid(f"PAHT_TRUSTED_PROXIES={raw!r} does not parse ({exc}): expected comma-separated CIDR "
                             "networks or addresses, e.g. 10.0.0.0/8,192.168.1.7") from None


def idempotency_hours() -> int:
    return _int("PAHT_IDEMPOTENCY_HOURS", 24)


def http_workers() -> int:
    """HTTP requests one service process handles at once, in a pool of their own (paht.containers): they mostly
    wait on RPC and stores, and must not take the workers its bus messages need (`max_workers`)."""
    return _int("PAHT_HTTP_WORKERS", 64)


# ---- bus ----------------------------------------------------------------------------------------------------
def delivery_limit() -> int:
    """How often one message is tried before it becomes a dead letter."""
    return _int("PAHT_DELIVERY_LIMIT", 5)


def rpc_timeout_seconds() -> float:
    """The longest one service waits for another's RPC answer."""
    return _float("PAHT_RPC_TIMEOUT_SECONDS", 10.0)


def report_rpc_timeout_seconds() -> float:
    """The longest the rating service waits for the counts of a periodic report (background work, no one waits for
    it: a year of a province's reports takes longer to count than a page may wait; never less than
    rpc_timeout_seconds)."""
    return max(_float("PAHT_REPORT_RPC_TIMEOUT_SECONDS", 300.0), rpc_timeout_seconds())


def retry_backoff_seconds() -> float:
    return _float("PAHT_RETRY_BACKOFF_SECONDS", 0.5)


# ---- periodic reports ---------------------------------------------------------------------------------------
def outbox_grace_seconds() -> float:
    """How long an announcement may wait in intake's outbox before the relay sends it (the submission sends its own
    at once; the relay is for what a broker outage left behind)."""
    return _float("PAHT_OUTBOX_GRACE_SECONDS", 5.0)


def report_check_seconds() -> float:
    """How often the rating service looks for periodic reports that fell due."""
    return _float("PAHT_REPORT_CHECK_SECONDS", 60.0)


# ---- time ----------------------------------------------------------------------------------------------------
def clock_start(env=None):
    """PAHT_CLOCK_START (ISO 8601 with its offset, e.g. 2026-12-31T23:50:00+07:00): where a controlled clock
    (a dev or test system) starts when it has no time of its own yet; unset: now."""
    from datetime import datetime

    raw = (os.environ if env is None else env).get("PAHT_CLOCK_START", "").strip()
    if not raw:
        return None
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise SettingInvalid(f"PAHT_CLOCK_START={raw!r} does not parse: expected an ISO 8601 instant with its "
                             "offset, e.g. 2026-12-31T23:50:00+07:00")
    return instant


# ---- secrets ------------------------------------------------------------------------------------------------
_GENERATED: dict[tuple[str, str, str], bytes] = {}   # (PAHT_VAR_DIR, cwd, file) → its secret


def _secret(variable: str, filename: str, generated_ok: bool) -> bytes | None:
    configured = os.environ.get(variable)
    if configured:
        return configured.encode()
    if not generated_ok:
        return None
    # a generated secret is written once and never changes (the first writer wins): read once per process, not on
    # every signed call (two a submission at the gateway, one per RPC at intake)
    key = (os.environ.get("PAHT_VAR_DIR", "var"), os.getcwd(), filename)
    if key not in _GENERATED:
        _GENERATED[key] = _generated_secret(Path(var_dir()) / filename)
    return _GENERATED[key]


def _generated_secret(path: Path) -> bytes:
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


# ---- production -----------------------------------------------------------------------------------------------
class ProductionRefused(SystemExit):
    """A production process that must not start; its message names every setting to fix."""


def production_problems(env=None) -> list[str]:
    """What keeps a `PAHT_ENV=production` process from starting, each naming its setting and the fix (empty
    outside production). `env` defaults to the process environment (`paht up` checks the one it passes on)."""
    env = os.environ if env is None else env
    if env.get("PAHT_ENV", "") != "production":
        return []
    problems = []
    uri = env.get("MONGO_URI", "")
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        shown = f"{uri.split(':', 1)[0]}://…" if "://" in uri else "not set" if not uri else "not a URI"
        problems.append(f"MONGO_URI is {shown}: production keeps its data in MongoDB; set "
                        "MONGO_URI=mongodb://USER:PASSWORD@HOST:27017/?replicaSet=rs0 (or mongodb+srv://…)")
    if env.get("PAHT_CLOCK", "real") != "real":
        problems.append(f"PAHT_CLOCK={env.get('PAHT_CLOCK')}: production runs on the real clock; unset PAHT_CLOCK "
                        "(or set PAHT_CLOCK=real)")
    if env.get("PAHT_DEMO_TOKENS"):
        problems.append("PAHT_DEMO_TOKENS is set: demo accounts are for local runs only; unset it and create staff "
                        "accounts with `paht users add` (or sign staff in through the province's identity provider, "
                        "PAHT_OIDC_ISSUER/PAHT_OIDC_JWKS_URL/PAHT_OIDC_AUDIENCE)")
    if not env.get("PAHT_INTERNAL_SECRET"):
        problems.append("PAHT_INTERNAL_SECRET is not set: every service of the system needs the same secret to sign "
                        "staff actors; set it, e.g. PAHT_INTERNAL_SECRET=$(openssl rand -hex 32), in every service")
    for prefix in ("PAHT_OIDC", "PAHT_CITIZEN_OIDC"):
        named = [f"{prefix}_{part}" for part in ("ISSUER", "JWKS_URL", "AUDIENCE")]
        missing = [name for name in named if not env.get(name)]
        if 0 < len(missing) < len(named):
            problems.append(f"{', '.join(missing)} not set: a provider's tokens are checked against its issuer, keys "
                            f"and audience together; set all of {', '.join(named)} (or none)")
    problems += oidc_sign_in_problems(env) + public_url_problems(env) + webhook_secret_problems(env)
    return problems


def oidc_sign_in_problems(env) -> list[str]:
    if not env.get("PAHT_OIDC_CLIENT_ID"):
        return []
    problems = []
    if not all(env.get(f"PAHT_OIDC_{part}") for part in ("ISSUER", "JWKS_URL", "AUDIENCE")):
        problems.append("PAHT_OIDC_CLIENT_ID is set without the staff provider: the portal's sign-in checks the ID "
                        "token as the API checks tokens; set PAHT_OIDC_ISSUER, PAHT_OIDC_JWKS_URL and "
                        "PAHT_OIDC_AUDIENCE too (or unset PAHT_OIDC_CLIENT_ID)")
    redirect = env.get("PAHT_OIDC_REDIRECT_URL", "").strip()
    if redirect and urlsplit(redirect).scheme != "https":
        problems.append(f"PAHT_OIDC_REDIRECT_URL is {redirect!r}, not an https address: the provider sends the "
                        "sign-in's code there; set it to the portal's https address + " + SIGN_IN_CALLBACK)
    return problems


def public_url_problems(env) -> list[str]:
    url = env.get("PAHT_PUBLIC_URL", "").strip()
    parts = urlsplit(url)
    if not url:
        shown = "not set"
    elif parts.scheme != "https" or not parts.hostname:
        shown = f"{url!r}, not an https address"
    elif parts.query or parts.fragment:
        shown = f"{url!r}, with a query or fragment the report's path would follow"
    else:
        return []
    return [f"PAHT_PUBLIC_URL is {shown}: every notification links citizens to PAHT_PUBLIC_URL/reports/<id> (the "
            "portal's page of the report); set it to the portal's https address, e.g. "
            "PAHT_PUBLIC_URL=https://paht.example.gov.vn"]


def webhook_secret_problems(env) -> list[str]:
    webhooks = [name for name in ("PAHT_AGENCY_WEBHOOK_URL", "PAHT_IMMEDIATE_WEBHOOK") if env.get(name)]
    if not webhooks or env.get("PAHT_WEBHOOK_SECRET"):
        return []
    named = f"{' and '.join(webhooks)} {'is' if len(webhooks) == 1 else 'are'}"
    return [f"PAHT_WEBHOOK_SECRET is not set while {named}: agencies could not tell PAHT's calls from forged ones; "
            "set PAHT_WEBHOOK_SECRET=$(openssl rand -hex 32) and give it to the receivers (docs/webhooks.md)"]


def production_refusal(problems: list[str]) -> str:
    return "PAHT_ENV=production: refusing to start:\n" + "\n".join(f"  - {p}" for p in problems)


def check_production(env=None) -> None:
    """Raise ProductionRefused (a SystemExit with the message) when `production_problems` finds any."""
    problems = production_problems(env)
    if problems:
        raise ProductionRefused(production_refusal(problems))


def setting_problems(env=None) -> list[str]:
    """Every setting that does not parse, each with its name and the form it needs (any environment)."""
    checks = [partial(_number, name, None) for name in NUMBERS] + [clock_start, trusted_proxies]
    problems = []
    for check in checks:
        try:
            check(env=env)
        except SettingInvalid as exc:
            problems.append(str(exc))
    return problems


class SettingsRefused(SystemExit):
    """A process whose settings do not parse: it stops at start, naming each, instead of running on a fallback."""


def check_startup(env=None) -> None:
    """What every service and `paht up` run before anything else: settings that parse, and a safe production."""
    problems = setting_problems(env)
    if problems:
        raise SettingsRefused(settings_refusal(problems))
    check_production(env)


def settings_refusal(problems: list[str]) -> str:
    return "refusing to start, settings that do not parse:\n" + "\n".join(f"  - {p}" for p in problems)


# ---- staff sign-in ------------------------------------------------------------------------------------------------
def session_minutes() -> int:
    """How long a staff login token (`POST /api/v1/auth/login`) stays valid."""
    return _int("PAHT_SESSION_MINUTES", 60)


def oidc(prefix: str = "PAHT_OIDC") -> dict | None:
    """An OpenID Connect provider whose signed tokens PAHT accepts: `PAHT_OIDC_*` for staff (the province's
    identity provider, e.g. Keycloak), `PAHT_CITIZEN_OIDC_*` for citizens' app accounts. None unless the issuer, the
    JWKS URL and the audience are all set (a token is checked against all three)."""
    issuer, jwks_url, audience = (os.environ.get(f"{prefix}_{part}") for part in ("ISSUER", "JWKS_URL", "AUDIENCE"))
    if not (issuer and jwks_url and audience):
        return None
    return {
        "issuer": issuer,
        "jwks_url": jwks_url,
        "audience": audience,
        "role_claim": os.environ.get(f"{prefix}_ROLE_CLAIM", "paht_role"),
        "pack_claim": os.environ.get(f"{prefix}_PACK_CLAIM", "paht_pack"),
        "agency_claim": os.environ.get(f"{prefix}_AGENCY_CLAIM", "paht_agency"),
        "name_claim": os.environ.get(f"{prefix}_NAME_CLAIM", "name"),
        "subject_claim": os.environ.get(f"{prefix}_SUBJECT_CLAIM", "sub"),
        "jwks_ttl": _float(f"{prefix}_JWKS_TTL_SECONDS", 600.0),
        "leeway": _float(f"{prefix}_LEEWAY_SECONDS", 30.0),
    }


SIGN_IN_CALLBACK = "/staff/login/oidc/callback"


def oidc_sign_in() -> dict | None:
    """The portal's staff sign-in through the province's identity provider (/staff/login's "Đăng nhập bằng …"
    button: the authorization code flow with PKCE, paht.oidc_login). On when the staff provider is (PAHT_OIDC_ISSUER,
    _JWKS_URL, _AUDIENCE) and PAHT_OIDC_CLIENT_ID names the portal's client there; the ID token's audience is that
    client. PAHT_OIDC_CLIENT_SECRET for a confidential client (HTTP Basic at the token endpoint; unset: a public
    client, PKCE only), PAHT_OIDC_SCOPES (`openid profile`; `openid` always), PAHT_OIDC_REDIRECT_URL (the callback
    registered at the provider; PAHT_PUBLIC_URL + /staff/login/oidc/callback), PAHT_OIDC_DISPLAY_NAME (the button's
    "Đăng nhập bằng <name>"; unset: "… hệ thống định danh của tỉnh")."""
    provider = oidc("PAHT_OIDC")
    client_id = os.environ.get("PAHT_OIDC_CLIENT_ID", "").strip()
    if provider is None or not client_id:
        return None
    scopes = os.environ.get("PAHT_OIDC_SCOPES", "openid profile").split()
    return {
        "provider": provider,
        "client_id": client_id,
        "client_secret": os.environ.get("PAHT_OIDC_CLIENT_SECRET") or None,
        "scopes": " ".join(["openid"] + [scope for scope in scopes if scope != "openid"]),
        "redirect_url": os.environ.get("PAHT_OIDC_REDIRECT_URL", "").strip() or public_url() + SIGN_IN_CALLBACK,
        "display_name": os.environ.get("PAHT_OIDC_DISPLAY_NAME", "").strip() or None,
    }


# ---- other systems and notifications (the interfaces) ----------------------------------------------------------
def public_url() -> str:
    """The citizens' portal (https in production): a notification links to its page of the report,
    PAHT_PUBLIC_URL/reports/<id>, which asks for the tracking token itself (never carried in the link)."""
    return os.environ.get("PAHT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def tile_url() -> str | None:
    """The portal's map tiles (`https://tile.example.vn/{z}/{x}/{y}.png`); unset, the maps show the ward polygons
    and the reports only (they work offline, and the Content-Security-Policy allows no other host)."""
    return os.environ.get("PAHT_TILE_URL") or None


def smtp_url() -> str | None:
    """smtp://[user:password@]host[:port][?starttls=1] (port 25) or smtps://… (TLS from the start, port 465) of the
    mail relay; unset: no e-mail is sent. TLS always verifies the relay's certificate and host name."""
    return os.environ.get("PAHT_SMTP_URL") or None


def smtp_ca_file() -> str | None:
    """A PEM bundle of the CA(s) that sign the mail relay's certificate (a province's internal CA), trusted instead
    of the system's; unset: the system's CAs."""
    return os.environ.get("PAHT_SMTP_CA_FILE") or None


def mail_from() -> str:
    return os.environ.get("PAHT_MAIL_FROM", "PAHT <no-reply@paht.local>")


def sms_url() -> str | None:
    """The SMS gateway's HTTP endpoint; unset: no SMS is sent."""
    return os.environ.get("PAHT_SMS_URL") or None


def sms_api_key() -> str | None:
    """The SMS gateway's API key, sent as `Authorization: Bearer <key>`; unset: no credential is sent."""
    return os.environ.get("PAHT_SMS_API_KEY") or None


def zalo_url() -> str | None:
    """The Zalo ZNS template-message endpoint; unset: no Zalo message is sent."""
    return os.environ.get("PAHT_ZALO_URL") or None


def zalo_access_token() -> str | None:
    """The Official Account's access token, sent in the `access_token` header as Zalo's ZNS API takes it; unset: no
    credential is sent (a proxy in front of Zalo adds it)."""
    return os.environ.get("PAHT_ZALO_ACCESS_TOKEN") or None


def agency_webhook_url() -> str | None:
    """Where agencies' systems are told of assignments and deadlines; unset: agencies get e-mail only."""
    return os.environ.get("PAHT_AGENCY_WEBHOOK_URL") or None


def webhook_secret() -> bytes | None:
    """The key every outbound webhook is signed with (paht.webhooks); unset: unsigned (refused in production)."""
    value = os.environ.get("PAHT_WEBHOOK_SECRET")
    return value.encode() if value else None


def zalo_oa_secret() -> bytes | None:
    """The Zalo Official Account's secret that signs its webhook calls; unset: the webhook refuses every call."""
    value = os.environ.get("PAHT_ZALO_OA_SECRET")
    return value.encode() if value else None


def zalo_oa_message_url() -> str | None:
    """The Official Account's message endpoint (Zalo's OA API `v3.0/oa/message/cs`, or a proxy of it) the gateway
    answers a Zalo reporter on in the chat — their report's id and tracking token, or why it was refused —, with
    PAHT_ZALO_ACCESS_TOKEN; unset: nothing is answered in the chat."""
    return os.environ.get("PAHT_ZALO_OA_MESSAGE_URL") or None


def zalo_pack() -> str | None:
    """The rule pack (province) the Zalo Official Account's messages are reported to; unset: the webhook refuses
    every call."""
    return os.environ.get("PAHT_ZALO_PACK") or None


def open311_api_keys() -> frozenset[str]:
    """Keys accepted by Open311 `POST requests` (comma-separated); a local system adds the demo key."""
    return frozenset(k.strip() for k in os.environ.get("PAHT_OPEN311_API_KEYS", "").split(",") if k.strip())


def media_url_hosts() -> frozenset[str]:
    """Hosts an Open311 `media_url` may be fetched from (comma-separated); none: media_url is refused."""
    return frozenset(h.strip().lower() for h in os.environ.get("PAHT_MEDIA_URL_HOSTS", "").split(",") if h.strip())


def notification_attempts() -> int:
    """How often a notification is tried (with a growing pause) before it becomes a dead letter."""
    return _int("PAHT_NOTIFICATION_ATTEMPTS", 6)
