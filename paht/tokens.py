"""What the front door hands out and the record keeps: report ids, tracking tokens and the hashes stored of
bearer secrets (a tracking token, a login session, a demo account's token)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_report_id(now: datetime) -> str:
    return f"PA-{now:%y%m%d}-{secrets.token_hex(4).upper()}"


def new_tracking_token() -> str:
    return secrets.token_urlsafe(18)
