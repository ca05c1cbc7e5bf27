"""Who a staff user is (bearer token), and the staff accounts' models and rules. Which reports a user may see is
the record's to say (services/intake/access.py).

A bearer token is, in this order: a JWT → the province's identity provider (paht.oidc, PAHT_OIDC_*: role, pack
and agency from its claims); a login session (`POST /api/v1/auth/login`) → the staff account store; else a demo
account (PAHT_DEMO_TOKENS, never under PAHT_ENV=production)."""
from __future__ import annotations

import re

from pydantic import Field

from paht import oidc, settings
from paht.errors import ApiError
from paht.roles import AGENCY_ROLES, STAFF_ROLES
from paht.schemas import Strict

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
MIN_PASSWORD = 10
MAX_TOKEN = 8192


def bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None


def resolve(store, token: str | None) -> dict | None:
    """The staff user a bearer token names, or None."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN:
        return None
    if oidc.looks_like_jwt(token):
        return oidc.staff_user(token)
    user = store.accounts.user_by_session(token)
    if user is not None:
        return user
    if settings.environment() != "production":
        return store.demo_user(token)
    return None


def authenticate(store, request) -> dict:
    user = resolve(store, bearer(request))
    if user is None:
        raise ApiError("UNAUTHORIZED")
    return user


# ---- staff accounts -------------------------------------------------------------------------------------------
class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class AccountIn(Strict):
    username: str = Field(max_length=64)
    role: str
    pack: str | None = None
    agency: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=1024)   # none: one is generated and returned once


class ResetIn(Strict):
    password: str | None = Field(None, max_length=1024)


def check_account(account: AccountIn, packs) -> None:
    """A valid account: a known role; agency roles with a pack and one of its agencies; a centre account with or
    without a pack (without: every pack). `packs(pack_id)` gives a pack (KeyError when unknown)."""
    fields = {}
    if not USERNAME.match(account.username.lower()):
        fields["username"] = "3–64 of a-z 0-9 . _ @ -, starting with a letter or digit"
    if account.role not in STAFF_ROLES:
        fields["role"] = f"one of {', '.join(STAFF_ROLES)}"
    if account.password is not None and len(account.password) < MIN_PASSWORD:
        fields["password"] = f"at least {MIN_PASSWORD} characters"
    pack = None
    if account.pack:
        try:
            pack = packs(account.pack)
        except KeyError:
            fields["pack"] = "no such pack"
    if account.role in AGENCY_ROLES:
        if not account.pack:
            fields.setdefault("pack", "an agency account belongs to one pack")
        if not account.agency:
            fields["agency"] = "an agency account belongs to one agency"
        elif pack is not None and account.agency not in pack.agencies:
            fields["agency"] = "no such agency in this pack"
    elif account.agency:
        fields["agency"] = "only agency accounts have an agency"
    if fields:
        raise ApiError("VALIDATION_FAILED", fields=fields)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ApiError("VALIDATION_FAILED", fields={"password": f"at least {MIN_PASSWORD} characters"})


def account_view(account: dict) -> dict:
    """An account as the admin API and `paht users` show it (never its password hash)."""
    return {"id": account["_id"], "username": account["username"], "role": account["role"],
            "pack": account.get("pack"), "agency": account.get("agency"), "name": account.get("name"),
            "disabled": bool(account.get("disabled")), "created_at": account.get("created_at"),
            "updated_at": account.get("updated_at"), "last_login_at": account.get("last_login_at")}


def may_manage(admin: dict, account: dict) -> bool:
    """An admin of one pack manages that pack's accounts; an admin without a pack every account."""
    return admin["role"] == "admin" and admin.get("pack") in (None, account.get("pack"))
