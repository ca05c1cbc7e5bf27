"""Citizens' accounts: an `account_id` counts only with what the province's sign-in service issued for it — a
token its OpenID Connect provider signed for that id (`reporter.account_token`, checked against the provider's
JWKS: PAHT_CITIZEN_OIDC_*, see paht.oidc), or the HMAC-SHA256 proof of the id under PAHT_ACCOUNT_SECRET
(`reporter.account_proof`, local and demo systems); a self-asserted id is just a name."""
from __future__ import annotations

import hashlib
import hmac

from . import settings


def proof(account_id: str, secret: bytes | None = None) -> str:
    secret = secret or settings.account_secret()
    if secret is None:
        raise RuntimeError("no PAHT_ACCOUNT_SECRET: accounts cannot be signed here")
    return hmac.new(secret, account_id.encode(), hashlib.sha256).hexdigest()


def verified(account_id: str | None, given_proof: str | None, token: str | None = None) -> bool:
    if account_id and token:
        from .oidc import citizen_verified
        if citizen_verified(account_id, token):
            return True
    secret = settings.account_secret()
    if not account_id or not given_proof or secret is None:
        return False
    return hmac.compare_digest(proof(account_id, secret), given_proof)
