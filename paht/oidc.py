"""Tokens signed by an OpenID Connect provider (the province's Keycloak or another), checked against its JWKS.

Two providers may be configured (paht.settings.oidc): `PAHT_OIDC_*` for staff, `PAHT_CITIZEN_OIDC_*` for the
citizens' sign-in service. A token counts only when its signature verifies with a key of the provider's JWKS (the
algorithm is the key's, never the token's own choice; no `none`, no shared-secret HMAC), and its issuer, audience,
expiry (`exp` required) and not-before agree. The JWKS is fetched with requests and kept for
`…_JWKS_TTL_SECONDS` (600); a token signed with a key id the cached set does not have fetches it again at once
(key rotation), at most every 30 s.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import time

import jwt
import requests

from . import settings
from .roles import ROLE_STRENGTH

log = logging.getLogger(__name__)

# where a role claim lists several known roles (Keycloak's realm_access.roles), the strongest counts
REFETCH_AFTER_SECONDS = 30.0


class InvalidToken(Exception):
    pass


class KeysUnavailable(InvalidToken):
    """The provider's JWKS could not be fetched (and none is cached): the token is not known to be bad."""


def looks_like_jwt(token: str) -> bool:
    """A compact JWS (header.payload.signature whose header is JSON naming an algorithm); session and demo tokens
    have no dots."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, TypeError):
        return False
    return isinstance(header, dict) and "alg" in header


class JwksCache:
    """The key sets by URL, each kept for its provider's TTL."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[float, dict]] = {}   # url → (fetched at, {kid: PyJWK})

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()

    def _fetch(self, url: str) -> dict:
        answer = requests.get(url, timeout=5)
        answer.raise_for_status()
        keys = {}
        for data in answer.json().get("keys", []):
            if data.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK.from_dict(data)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
                log.info("JWKS %s: key %s skipped (%s)", url, data.get("kid"), exc)
                continue
            keys[data.get("kid")] = key
        return keys

    def key(self, url: str, kid: str | None, ttl: float):
        now = time.monotonic()
        with self._lock:
            fetched_at, keys = self._sets.get(url, (None, {}))
        stale = fetched_at is None or now - fetched_at > ttl
        unknown = kid not in keys and (fetched_at is None or now - fetched_at > REFETCH_AFTER_SECONDS)
        if stale or unknown:
            try:
                keys = self._fetch(url)
                with self._lock:
                    self._sets[url] = (now, keys)
            except (requests.RequestException, ValueError) as exc:
                if fetched_at is None:
                    raise KeysUnavailable(f"JWKS not available: {exc}") from None
                log.warning("JWKS %s not refreshed (%s): the cached keys are used", url, exc)
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))
        found = keys.get(kid)
        if found is None:
            raise InvalidToken(f"no key {kid!r} in the provider's JWKS")
        return found


JWKS = JwksCache()


def verify(token: str, provider: dict) -> dict:
    """The claims of a token the provider signed, or InvalidToken."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    key = JWKS.key(provider["jwks_url"], header.get("kid"), provider["jwks_ttl"])
    algorithm = key.algorithm_name
    if not algorithm or algorithm.upper().startswith("HS") or header.get("alg") != algorithm:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not the key's ({algorithm})")
    try:
        claims = jwt.decode(token, key.key, algorithms=[algorithm], audience=provider["audience"],
                            issuer=provider["issuer"], leeway=provider["leeway"],
                            options={"require": ["exp", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claim(claims, provider["subject_claim"]) in (None, ""):
        raise InvalidToken(f"no {provider['subject_claim']} claim")
    return claims


def claim(claims: dict, path: str):
    """A claim by its name, or a dotted path into nested claims (`realm_access.roles`)."""
    if path in claims:
        return claims[path]
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _one(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) and value else None


def _claims(token: str, provider: dict, whose: str) -> dict | None:
    try:
        return verify(token, provider)
    except InvalidToken as exc:
        log.info("%s token refused: %s", whose, exc)
        return None


def staff_user(token: str) -> dict | None:
    """The staff user a token of the staff provider (PAHT_OIDC_*) names, from its claims; None when no provider
    is configured or the token does not verify or names no usable role (agency roles need a pack and an agency)."""
    provider = settings.oidc("PAHT_OIDC")
    if provider is None:
        return None
    claims = _claims(token, provider, "staff")
    return None if claims is None else staff_user_of(claims, provider)


def staff_user_of(claims: dict, provider: dict) -> dict | None:
    """The staff user verified claims name (a bearer token's, or the portal sign-in's ID token): the strongest
    PAHT role of the role claim, with its pack and agency; None without a usable role."""
    roles = claim(claims, provider["role_claim"])
    roles = [roles] if isinstance(roles, str) else roles if isinstance(roles, list) else []
    known = sorted((r for r in roles if r in ROLE_STRENGTH), key=ROLE_STRENGTH.get, reverse=True)
    if not known:
        log.info("staff token of %s refused: no PAHT role in claim %s", claims.get("sub"), provider["role_claim"])
        return None
    role = known[0]
    pack, agency = _one(claim(claims, provider["pack_claim"])), _one(claim(claims, provider["agency_claim"]))
    if role in ("agency_staff", "agency_leader"):
        if not (pack and agency):
            log.info("staff token of %s refused: role %s without pack and agency", claims.get("sub"), role)
            return None
    else:
        agency = None
    subject = str(claim(claims, provider["subject_claim"]))
    name = claim(claims, provider["name_claim"]) or claims.get("preferred_username") or subject
    return {"_id": f"oidc:{subject}", "role": role, "pack": pack, "agency": agency, "name": str(name),
            "via": "oidc"}


def citizen_verified(account_id: str | None, token: str | None) -> bool:
    """A citizen's account counts as signed in when the citizens' provider (PAHT_CITIZEN_OIDC_*) signed a token
    for exactly this account id (its subject claim)."""
    provider = settings.oidc("PAHT_CITIZEN_OIDC")
    if provider is None or not account_id or not token:
        return False
    claims = _claims(token, provider, "citizen")
    return claims is not None and str(claim(claims, provider["subject_claim"])) == account_id
