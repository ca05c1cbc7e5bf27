"""Citizens' accounts: an `account_id` counts only with the proof the province's sign-in service issued for it
(HMAC-SHA256 of the id under PAHT_ACCOUNT_SECRET); a self-asserted id is just a name."""
from __future__ import annotations

import hashlib
import hmac

from . import settings


def proof(account_id: str, secret: bytes | None = None) -> str:
    secret = secret or settings.account_secret()
    if secret is None:
        raise RuntimeError("no PAHT_ACCOUNT_SECRET: accounts cannot be signed here")
    return hmac.new(secret, account_id.encode(), hashlib.sha256).hexdigest()


def verified(account_id: str | None, given_proof: str | None) -> bool:
    secret = settings.account_secret()
    if not account_id or not given_proof or secret is None:
        return False
    return hmac.compare_digest(proof(account_id, secret), given_proof)
