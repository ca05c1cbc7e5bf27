"""Demo staff accounts for local runs: one operator, one admin, and a staff member and a leader per agency of
every pack. Every agency account belongs to one pack (province) and sees only that pack's reports.

Tokens are written to `var/demo-tokens.json` as `{"<pack>": {"<agency_id>": {"agency_staff", "agency_leader"}},
"operator": …, "admin": …, "open311_api_key": …}` and kept across runs; intake loads them at start, and accepts
`open311_api_key` as an Open311 `api_key` (beside PAHT_OPEN311_API_KEYS) while PAHT_DEMO_TOKENS is set outside
production.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from .roles import CENTRE_ROLES

OPEN311_KEY = "open311_api_key"


def ensure_tokens(path: Path, agencies_by_pack: dict[str, list[str]]) -> dict:
    path = Path(path)
    tokens = json.loads(path.read_text()) if path.exists() else {}
    tokens = {k: v for k, v in tokens.items()
              if k in CENTRE_ROLES or k in agencies_by_pack or k == OPEN311_KEY}   # drops an older layout
    for role in CENTRE_ROLES:
        tokens.setdefault(role, secrets.token_urlsafe(18))
    tokens.setdefault(OPEN311_KEY, secrets.token_urlsafe(18))
    for pack_id, agency_ids in agencies_by_pack.items():
        pack = tokens.setdefault(pack_id, {})
        for agency_id in agency_ids:
            entry = pack.setdefault(agency_id, {})
            entry.setdefault("agency_staff", secrets.token_urlsafe(18))
            entry.setdefault("agency_leader", secrets.token_urlsafe(18))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=1, sort_keys=True))
    return tokens


def users_from_tokens(tokens: dict):
    """(token, role, pack, agency, display name) for every account in a tokens file."""
    for key, value in tokens.items():
        if key == OPEN311_KEY:   # a client system's key, not a staff account
            continue
        if key in CENTRE_ROLES:
            yield value, key, None, None, f"demo {key}"
            continue
        for agency, roles in value.items():
            for role, token in roles.items():
                yield token, role, key, agency, f"demo {role} {agency} ({key})"


def open311_key(path) -> str | None:
    """The demo Open311 api_key of a tokens file (None when the file or the key is missing)."""
    try:
        key = json.loads(Path(path).read_text()).get(OPEN311_KEY)
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) and key else None


def all_agencies(list_packs, get_pack) -> dict[str, list[str]]:
    return {pack_id: sorted(get_pack(pack_id).agencies) for pack_id in list_packs()}
