"""Staff actors as intake authenticated them: intake signs who acts on which report, the deciding services check
the signature, so a caller on the bus cannot name itself operator or admin."""
from __future__ import annotations

import hashlib
import hmac
import json

from . import settings


def _mac(actor: dict, report_id: str, action: str) -> str:
    claims = {k: v for k, v in actor.items() if k != "signature"}
    message = json.dumps([claims, report_id, action], sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(settings.internal_secret(), message, hashlib.sha256).hexdigest()


def signed(actor: dict, report_id: str, action: str) -> dict:
    return dict(actor, signature=_mac(actor, report_id, action))


def authentic(actor: dict, report_id: str, action: str) -> bool:
    signature = actor.get("signature") if isinstance(actor, dict) else None
    return isinstance(signature, str) and hmac.compare_digest(signature, _mac(actor, report_id, action))


FORGED = {"error": {"code": "UNAUTHORIZED", "detail": "actor not signed by intake"}}
