"""Demo staff accounts for local runs: one operator, one admin, and a staff member and a leader per agency.

Tokens are written to `var/demo-tokens.json` (DESIGN.md §3) and kept across runs; intake loads them at start.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path


def ensure_tokens(path: Path, agency_ids: list[str]) -> dict:
    path = Path(path)
    tokens = json.loads(path.read_text()) if path.exists() else {}
    tokens.setdefault("operator", secrets.token_urlsafe(18))
    tokens.setdefault("admin", secrets.token_urlsafe(18))
    for agency_id in agency_ids:
        entry = tokens.setdefault(agency_id, {})
        entry.setdefault("agency_staff", secrets.token_urlsafe(18))
        entry.setdefault("agency_leader", secrets.token_urlsafe(18))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=1, sort_keys=True))
    return tokens


def users_from_tokens(tokens: dict):
    """(token, role, agency, display name) for every account in a tokens file."""
    for key, value in tokens.items():
        if key in ("operator", "admin"):
            yield value, key, None, f"demo {key}"
        else:
            for role, token in value.items():
                yield token, role, key, f"demo {role} {key}"
