"""Who may make an RPC that changes accounts, returns personal data or administers the system: the broker is not an
admin door (issue 20 item 4).

Such an RPC takes a `credential`, one of:

- a **staff bearer token** (a login session, the province's identity provider's JWT), checked as the HTTP API checks
  it (services/gateway/staff.py `resolve`), of an account whose role may make the call;
- an **internal assertion**, what PAHT's own services and CLIs send. It is made with PAHT_INTERNAL_SECRET, which
  never goes on the wire: `paht-internal-v1.<expires>.<nonce>.<mac>`, the MAC an HMAC-SHA256 of the called method
  (`gateway.reset_user`), the expiry (Unix seconds, at most LIFETIME_SECONDS ahead), the nonce and the call's
  arguments (those given, by name). So one assertion is good for one call, with those arguments, for a minute:
  whoever reads it on the broker cannot make another call with it; a call that changes something takes each
  assertion once (the service remembers its nonce).

Anything else — no credential, a forged or expired one, another call's, a role that may not — is refused with
FORBIDDEN (`paht.errors.RpcApiError`: the error shape of the RPC API, the Vietnamese message first).

Plain functions, tested without a broker (tests/unit/test_callers.py); the services decide which roles may call.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from . import settings
from .errors import ApiError, RpcApiError

PREFIX = "paht-internal-v1"
LIFETIME_SECONDS = 60
CLOCK_SKEW_SECONDS = 30    # the caller's clock may run this far ahead of the service's
_ASSERTION = re.compile(rf"^{re.escape(PREFIX)}\.(\d{{1,12}})\.([0-9a-f]{{16,64}})\.([0-9a-f]{{64}})$")

NO_CREDENTIAL = ("no credential: this call needs a staff bearer token of an account that may make it, or an internal "
                 "assertion made with PAHT_INTERNAL_SECRET (paht.callers)")
NOT_AN_ASSERTION = ("not a valid internal assertion for this call: forged, expired, or made for another call or other "
                    "arguments")
NO_ACCOUNT = "the credential names no staff account (unknown, expired, or its account disabled)"
USED = "this internal assertion was already used: make a new one for each call"


def signed_arguments(arguments: dict | None) -> dict:
    """The arguments an assertion covers: those given, by name (None is absent, as the RPCs read it)."""
    return {name: value for name, value in (arguments or {}).items() if value is not None}


def _mac(method: str, expires: int, nonce: str, arguments: dict | None) -> str:
    message = json.dumps([method, expires, nonce, signed_arguments(arguments)], sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"), default=str)
    return hmac.new(settings.internal_secret(), message.encode(), hashlib.sha256).hexdigest()


def internal_credential(method: str, arguments: dict | None = None, *, now: float | None = None,
                        lifetime: int = LIFETIME_SECONDS) -> str:
    """An assertion for one call of `method` ("service.method") with these `arguments` (by name, as sent)."""
    expires = int((time.time() if now is None else now) + lifetime)
    nonce = secrets.token_hex(12)
    return f"{PREFIX}.{expires}.{nonce}.{_mac(method, expires, nonce, arguments)}"


def looks_internal(credential) -> bool:
    return isinstance(credential, str) and credential.startswith(PREFIX + ".")


@dataclass(frozen=True)
class Assertion:
    method: str
    expires: int
    nonce: str


def internal_assertion(credential, method: str, arguments: dict | None = None, *,
                       now: float | None = None) -> Assertion | None:
    """The assertion `credential` is, when it was made with this system's secret for this call of `method` with
    these arguments and has not expired; None otherwise."""
    found = _ASSERTION.match(credential) if isinstance(credential, str) else None
    if found is None:
        return None
    expires, nonce, mac = int(found.group(1)), found.group(2), found.group(3)
    now = time.time() if now is None else now
    if not now <= expires <= now + LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        return None
    if not hmac.compare_digest(mac, _mac(method, expires, nonce, arguments)):
        return None
    return Assertion(method, expires, nonce)


@dataclass(frozen=True)
class Caller:
    """Who made a guarded call: PAHT itself (`assertion`), or a staff account (`user`, as staff.resolve gives it)."""

    assertion: Assertion | None = None
    user: dict | None = None

    @property
    def internal(self) -> bool:
        return self.assertion is not None


def forbidden(detail: str) -> ApiError:
    return ApiError("FORBIDDEN", detail=detail)


def caller(credential, method: str, arguments: dict | None, *, staff: Callable[[str], dict | None] | None = None,
           roles: Collection[str] = (), now: float | None = None) -> Caller:
    """Who may make this call, or ApiError FORBIDDEN saying why not. `staff(token)` resolves a staff bearer token
    (None: this service takes internal assertions only); `roles` are the staff roles that may call."""
    if not isinstance(credential, str) or not credential.strip():
        raise forbidden(NO_CREDENTIAL)
    if looks_internal(credential):
        assertion = internal_assertion(credential, method, arguments, now=now)
        if assertion is None:
            raise forbidden(NOT_AN_ASSERTION)
        return Caller(assertion=assertion)
    if staff is None:
        raise forbidden(f"{method} is internal: it takes an internal assertion (paht.callers), no staff token")
    user = staff(credential)
    if user is None:
        raise forbidden(NO_ACCOUNT)
    if user.get("role") not in roles:
        raise forbidden(f"the role {user.get('role')} may not call {method} (only {', '.join(sorted(roles))})")
    return Caller(user=user)


def internal_only(credential, method: str, arguments: dict | None = None) -> Caller:
    """For an RPC of a service that keeps no staff accounts: an internal assertion, or the remote refusal
    (RpcApiError FORBIDDEN, raised for nameko to send back)."""
    try:
        return caller(credential, method, arguments)
    except ApiError as refused:
        raise RpcApiError.of(refused) from None


def call_internal(service: str, proxy, method: str, **arguments):
    """`proxy.method(**arguments)` as PAHT itself: with an internal assertion for this one call (arguments by name,
    as the assertion covers them). `proxy` is a nameko service proxy of `service` (RpcProxy, ClusterRpcProxy's)."""
    return getattr(proxy, method)(**arguments, credential=internal_credential(f"{service}.{method}", arguments))


def run_cli(command: str, run, args, service: str = "intake") -> int:
    """`run(args, proxy)` of a CLI (`paht users` → the gateway, `paht dlq` → intake) against a service's RPCs; a
    refused assertion said, not raised."""
    from nameko.exceptions import RemoteError
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=30) as cluster:
        try:
            return run(args, getattr(cluster, service))
        except RemoteError as exc:
            if exc.exc_type != "FORBIDDEN":
                raise
            print(cli_refused(command, exc.value))
            return 1


def cli_refused(command: str, value: str) -> str:
    """What a CLI says when a service refused its assertion (another system's secret)."""
    return (f"{command}: refused — {value}. It signs its calls with PAHT_INTERNAL_SECRET: run it where the services' "
            "secret is set (in a pod of the system; locally, in the directory `paht up` runs in, whose var/ holds the "
            "local secret)")
