"""Signed webhooks: every POST PAHT makes to an agency's system (publishing's agency webhook and immediate case)
goes through `post`, which signs the exact bytes it sends with PAHT_WEBHOOK_SECRET:

    X-PAHT-Timestamp: <unix seconds>
    X-PAHT-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

so a receiver can tell PAHT's calls from forged or replayed ones (docs/webhooks.md has the check to paste)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

from . import settings

TIMESTAMP_HEADER = "X-PAHT-Timestamp"
SIGNATURE_HEADER = "X-PAHT-Signature"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def encode(payload) -> bytes:
    """The body as sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_headers(body: bytes, secret: bytes | None, now: float | None = None) -> dict[str, str]:
    """The headers of one attempt; without a secret the call goes unsigned (production refuses to start so)."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if secret:
        # the wall clock, never paht.clock: the receiver compares it with its own real time
        timestamp = str(int(time.time() if now is None else now))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    return headers


def post(url: str, payload, timeout, session=None):
    """POST `payload` as signed JSON (signed again at each attempt, so a retry carries a fresh timestamp); returns
    the answer, raises requests' errors."""
    body = encode(payload)
    return (session or requests).post(url, data=body, headers=signed_headers(body, settings.webhook_secret()),
                                      timeout=timeout)
