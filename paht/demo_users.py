"""Demo staff accounts for local runs: one operator, one admin, and a staff member and a leader per agency of
every pack. Every agency account belongs to one pack (province) and sees only that pack's reports.

Tokens are written to `var/demo-tokens.json` as `{"<pack>": {"<agency_id>": {"agency_staff", "agency_leader"}},
"operator": …, "admin": …}` and kept across runs; intake loads them at start.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from .roles import CENTRE_ROLES


def ensure_tokens(path: Path, agencies_by_pack: dict[str, list[str]]) -> dict:
    path = Path(path)
    tokens = json.loads(path.read_text()) if path.exists() else {}
    tokens = {k: v for k, v in tokens.items() if k in CENTRE_ROLES or k in agencies_by_pack}   # drops an older layout
    for role in CENTRE_ROLES:
        tokens.setdefault(role, secrets.token_urlsafe(18))
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
        if key in CENTRE_ROLES:
            yield value, key, None, None, f"demo {key}"
            continue
        for agency, roles in value.items():
            for role, token in roles.items():
                yield token, role, key, agency, f"demo {role} {agency} ({key})"


def all_agencies(list_packs, get_pack) -> dict[str, list[str]]:
    return {pack_id: sorted(get_pack(pack_id).agencies) for pack_id in list_packs()}
