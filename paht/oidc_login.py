"""The portal's staff sign-in through the province's identity provider: OpenID Connect's authorization code flow
with PKCE (RFC 7636, S256), a state and a nonce (settings.oidc_sign_in).

`begin` reads the provider's discovery document (`<issuer>/.well-known/openid-configuration`, kept as long as its
JWKS) and gives the authorization URL with fresh secrets; the gateway keeps them for one use. `finish` trades the
code at the token endpoint (with the PKCE verifier; HTTP Basic with the client secret when there is one) and checks
the ID token as the API checks a bearer token (paht.oidc.verify: the JWKS key's algorithm, issuer, expiry,
not-before; the audience is the portal's client) and its nonce; the staff user is then the one the API's tokens
map to (oidc.staff_user_of). Every outbound call goes through requests with a timeout. `Unavailable`: the provider
cannot be reached or answers nonsense (nothing is known about the user); `Refused`: its answer is not a sign-in.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests

from . import oidc, settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0


class Unavailable(Exception):
    """The provider could not be reached, or answered what is not OpenID Connect."""


class Refused(Exception):
    """The provider's answer is not a valid sign-in (its error, a code it no longer takes, a bad ID token)."""


class NoRole(Refused):
    """A valid ID token whose claims name no usable PAHT role."""


@dataclass(frozen=True)
class Started:
    state: str
    nonce: str
    verifier: str
    url: str


def challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _web_url(value) -> bool:
    """An endpoint the gateway may call: https (http too outside production: local and test providers)."""
    schemes = ("https",) if settings.environment() == "production" else ("https", "http")
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is not None and parts.scheme in schemes and bool(parts.hostname)


class Discovery:
    """The providers' discovery documents by issuer, each kept for its provider's JWKS TTL; a cached one is used
    while the provider cannot be reached."""

    def __init__(self):
        self._lock = threading.Lock()
        self._documents: dict[str, tuple[float, dict]] = {}

    def clear(self) -> None:
        with self._lock:
            self._documents.clear()

    def document(self, issuer: str, ttl: float) -> dict:
        now = time.monotonic()
        with self._lock:
            fetched_at, cached = self._documents.get(issuer, (None, None))
        if cached is not None and now - fetched_at <= ttl:
            return cached
        try:
            found = self._fetch(issuer)
        except Unavailable:
            if cached is None:
                raise
            log.warning("OIDC discovery of %s not refreshed: the cached document is used", issuer)
            return cached
        with self._lock:
            self._documents[issuer] = (now, found)
        return found

    @staticmethod
    def _fetch(issuer: str) -> dict:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            answer = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
            answer.raise_for_status()
            found = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise Unavailable(f"discovery {url}: {exc}") from None
        if not isinstance(found, dict):
            raise Unavailable(f"discovery {url}: not a JSON object")
        if found.get("issuer") != issuer:    # OpenID Connect Discovery 1.0 §4.3
            raise Unavailable(f"discovery {url}: names issuer {found.get('issuer')!r}, not {issuer!r}")
        for endpoint in ("authorization_endpoint", "token_endpoint"):
            if not _web_url(found.get(endpoint)):
                raise Unavailable(f"discovery {url}: no {endpoint} it may call (https in production)")
        return found


DISCOVERY = Discovery()


def _document(config: dict) -> dict:
    provider = config["provider"]
    return DISCOVERY.document(provider["issuer"], provider["jwks_ttl"])


def begin(config: dict) -> Started:
    """Fresh state, nonce and PKCE verifier, and the provider's authorization URL asking for a code with them."""
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    endpoint = _document(config)["authorization_endpoint"]
    query = urlencode({"response_type": "code", "client_id": config["client_id"],
                       "redirect_uri": config["redirect_url"], "scope": config["scopes"], "state": state,
                       "nonce": nonce, "code_challenge": challenge(verifier), "code_challenge_method": "S256"})
    return Started(state, nonce, verifier, f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}")


def exchange(config: dict, code: str, verifier: str) -> str:
    """The ID token the token endpoint gives for the code (with the PKCE verifier)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": config["redirect_url"],
            "code_verifier": verifier, "client_id": config["client_id"]}
    auth = (config["client_id"], config["client_secret"]) if config["client_secret"] else None
    endpoint = _document(config)["token_endpoint"]
    try:
        answer = requests.post(endpoint, data=form, auth=auth, timeout=TIMEOUT_SECONDS,
                               headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise Unavailable(f"token endpoint {endpoint}: {exc}") from None
    if answer.status_code >= 500:
        raise Unavailable(f"token endpoint {endpoint}: HTTP {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        raise Unavailable(f"token endpoint {endpoint}: HTTP {answer.status_code}, not JSON") from None
    if not isinstance(body, dict):
        raise Unavailable(f"token endpoint {endpoint}: not a JSON object")
    if answer.status_code != 200:      # RFC 6749 §5.2: invalid_grant for a used or expired code
        raise Refused(f"token endpoint: {body.get('error')!r} {body.get('error_description') or ''}".strip())
    token = body.get("id_token")
    if not isinstance(token, str) or not token:
        raise Refused("the token endpoint gave no id_token (is `openid` among the client's scopes?)")
    return token


def id_claims(config: dict, token: str, nonce: str) -> dict:
    """The claims of an ID token for this sign-in: verified as the API verifies a bearer token, for the portal's
    client (its audience; `azp` when it names several), carrying the sign-in's nonce."""
    provider = dict(config["provider"], audience=config["client_id"])
    try:
        claims = oidc.verify(token, provider)
    except oidc.KeysUnavailable as exc:
        raise Unavailable(str(exc)) from None
    except oidc.InvalidToken as exc:
        raise Refused(f"ID token: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != config["client_id"]:   # OpenID Connect Core §3.1.3.7
        raise Refused(f"ID token: azp {claims.get('azp')!r} is not the portal's client")
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise Refused("ID token: its nonce is not this sign-in's")
    return claims


def finish(config: dict, code: str, verifier: str, nonce: str) -> dict:
    """The staff user the provider signed in (as oidc.staff_user maps a bearer token); NoRole when its claims name
    no usable PAHT role."""
    claims = id_claims(config, exchange(config, code, verifier), nonce)
    user = oidc.staff_user_of(claims, config["provider"])
    if user is None:
        raise NoRole(f"ID token of {claims.get('sub')!r}: no PAHT role (with pack and agency for agency roles)")
    return user
