"""Issue 13 item 5: staff accounts (argon2, login sessions, disable/reset), the identity provider's tokens (JWKS),
citizens' accounts signed by their provider, and `paht users`."""
from __future__ import annotations

import argparse
import io
from datetime import timedelta

import pytest
from pydantic import Field

from paht import accounts, callers, oidc
from paht.errors import ApiError
from paht.rules import get_pack
from paht.schemas import Reporter, ReportIn
from paht.storage import DuplicateKeyError, open_database
from paht.users_cli import parser as users_parser
from paht.users_cli import run as users_run
from services.gateway import staff
from services.gateway.dependencies import DoorStore
from services.gateway.submissions import account_verified, without_credentials
from services.intake.reports import reporter_record
from tests.oidc_helpers import Provider, stranger_key

PACK = "thua-thien-hue-2022"


@pytest.fixture
def store():
    return DoorStore(open_database("gateway", "memory://"))


@pytest.fixture
def agency():
    return min(get_pack(PACK).agencies)


# ---- the account store ------------------------------------------------------------------------------------------
def test_login_gives_a_session_token_stored_only_hashed(store, agency):
    account = store.accounts.add("Nguyen.Van.A", "mat-khau-dai-1", "agency_staff", PACK, agency, "Nguyễn Văn A")
    assert account["_id"] == "user:nguyen.van.a" and account["password_hash"].startswith("$argon2id$")
    assert "mat-khau-dai-1" not in str(store.accounts.accounts.find_one({}))
    assert store.accounts.login("nguyen.van.a", "wrong-password", 60) is None
    assert store.accounts.login("nobody", "mat-khau-dai-1", 60) is None
    token = store.accounts.login("NGUYEN.VAN.A", "mat-khau-dai-1", 60)[0]
    assert token not in str(list(store.accounts.sessions.find({})))
    user = staff.resolve(store, token)
    assert user["_id"] == "user:nguyen.van.a" and user["role"] == "agency_staff"
    assert (user["pack"], user["agency"], user["via"]) == (PACK, agency, "session")
    assert store.user_by_token(token) == user        # the RPC path (staff_action_rpc) resolves the same way
    assert store.accounts.logout(token) and staff.resolve(store, token) is None


def test_many_accounts_per_agency_and_unique_usernames(store, agency):
    store.accounts.add("a.staff", "password-one", "agency_staff", PACK, agency, None)
    store.accounts.add("b.staff", "password-two", "agency_staff", PACK, agency, None)
    with pytest.raises(DuplicateKeyError):
        store.accounts.add("A.Staff", "password-three", "agency_leader", PACK, agency, None)
    assert [a["username"] for a in store.accounts.list(pack=PACK, agency=agency)] == ["a.staff", "b.staff"]


def test_a_disabled_account_loses_its_sessions_at_once_and_cannot_log_in(store, agency):
    store.accounts.add("leader", "password-123", "agency_leader", PACK, agency, None)
    token = store.accounts.login("leader", "password-123", 60)[0]
    store.accounts.set_disabled("leader", True)
    assert staff.resolve(store, token) is None
    assert store.accounts.login("leader", "password-123", 60) is None
    store.accounts.set_disabled("user:leader", False)
    assert staff.resolve(store, token) is None                      # ended, not suspended
    assert staff.resolve(store, store.accounts.login("leader", "password-123", 60)[0])["role"] == "agency_leader"


def test_a_session_ends_when_it_expires_or_the_password_is_reset(store, agency, monkeypatch):
    store.accounts.add("op", "password-123", "operator", None, None, None)
    token = store.accounts.login("op", "password-123", 60)[0]
    real_now = store.accounts.now()
    monkeypatch.setattr(type(store.accounts), "now", staticmethod(lambda: real_now + timedelta(minutes=61)))
    assert staff.resolve(store, token) is None
    monkeypatch.undo()
    token = store.accounts.login("op", "password-123", 60)[0]
    store.accounts.reset_password("op", "another-password")
    assert staff.resolve(store, token) is None
    assert store.accounts.login("op", "password-123", 60) is None
    assert store.accounts.login("op", "another-password", 60) is not None


def test_demo_tokens_only_outside_production(store, monkeypatch):
    store.upsert_user("demo-admin-token", "admin", None, None, "demo admin")
    assert staff.resolve(store, "demo-admin-token")["role"] == "admin"
    monkeypatch.setenv("PAHT_ENV", "production")
    assert staff.resolve(store, "demo-admin-token") is None


def test_account_rules(agency):
    def check(**given):
        staff.check_account(staff.AccountIn(**{"username": "someone", "role": "agency_staff", **given}), get_pack)

    check(pack=PACK, agency=agency)
    check(role="operator")
    check(role="admin", pack=PACK)
    for bad, field in [({"pack": PACK}, "agency"), ({"agency": agency}, "pack"), ({"pack": "x", "agency": agency},
                       "pack"), ({"pack": PACK, "agency": "no-such-agency"}, "agency"),
                       ({"role": "operator", "agency": agency}, "agency"), ({"role": "root"}, "role"),
                       ({"role": "operator", "username": "A B"}, "username"),
                       ({"role": "operator", "password": "short"}, "password")]:
        with pytest.raises(ApiError) as refused:
            check(**bad)
        assert field in refused.value.fields, (bad, refused.value.fields)


def test_a_pack_admin_manages_only_its_pack():
    assert staff.may_manage({"role": "admin", "pack": None}, {"pack": PACK})
    assert staff.may_manage({"role": "admin", "pack": PACK}, {"pack": PACK})
    assert not staff.may_manage({"role": "admin", "pack": PACK}, {"pack": "vinh-long-2025"})
    assert not staff.may_manage({"role": "admin", "pack": PACK}, {"pack": None})
    assert not staff.may_manage({"role": "operator", "pack": None}, {"pack": PACK})


# ---- the identity provider ------------------------------------------------------------------------------------
def test_a_provider_token_names_role_pack_and_agency_from_its_claims(store, provider, agency):
    token = provider.token("kc-42", paht_role="agency_leader", paht_pack=PACK, paht_agency=agency,
                           name="Trần Thị B")
    assert oidc.looks_like_jwt(token)
    user = staff.resolve(store, token)
    assert user == {"_id": "oidc:kc-42", "role": "agency_leader", "pack": PACK, "agency": agency,
                    "name": "Trần Thị B", "via": "oidc"}
    assert staff.resolve(store, provider.token("kc-43", paht_role="operator"))["role"] == "operator"


@pytest.mark.parametrize("why", ["expired", "stranger key", "unknown kid", "audience", "issuer", "no role",
                                 "agency role without agency", "hs256 with the public key", "alg none"])
def test_a_token_that_does_not_verify_is_refused(store, provider, agency, why):
    claims = {"paht_role": "agency_staff", "paht_pack": PACK, "paht_agency": agency}
    token = {
        "expired": lambda: provider.token(lifetime=-120, **claims),
        "stranger key": lambda: provider.token(key=stranger_key(), **claims),
        "unknown kid": lambda: provider.token(kid="k9", key=stranger_key(), **claims),
        "audience": lambda: provider.token(**dict(claims, aud="another-app")),
        "issuer": lambda: provider.token(**dict(claims, iss="https://evil.example/realms/hue")),
        "no role": lambda: provider.token(paht_pack=PACK, paht_agency=agency),
        "agency role without agency": lambda: provider.token(paht_role="agency_staff", paht_pack=PACK),
        "hs256 with the public key": lambda: forged_hs256(provider, claims),
        "alg none": lambda: forged_none(provider, claims),
    }[why]()
    assert oidc.looks_like_jwt(token)
    assert staff.resolve(store, token) is None


def forged_hs256(provider, claims):
    """The classic confusion: HMAC "signed" with the provider's public key (made by hand: PyJWT refuses to)."""
    import hashlib
    import hmac
    import json

    from cryptography.hazmat.primitives import serialization
    from jwt.utils import base64url_encode
    public = provider.keys["k1"].public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    payload = {"iss": provider.issuer, "aud": provider.audience, "sub": "x", "exp": 4102444800, **claims}
    header = base64url_encode(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    body = base64url_encode(json.dumps(payload).encode())
    signature = base64url_encode(hmac.new(public, header + b"." + body, hashlib.sha256).digest())
    return (header + b"." + body + b"." + signature).decode()


def forged_none(provider, claims):
    import json

    from jwt.utils import base64url_encode
    payload = {"iss": provider.issuer, "aud": provider.audience, "sub": "x", "exp": 4102444800, **claims}
    return (base64url_encode(json.dumps({"alg": "none", "kid": "k1"}).encode()) + b"." +
            base64url_encode(json.dumps(payload).encode()) + b".").decode() + "sig"


def test_keycloak_realm_roles_and_key_rotation(store, provider, monkeypatch):
    monkeypatch.setenv("PAHT_OIDC_ROLE_CLAIM", "realm_access.roles")
    token = provider.token(realm_access={"roles": ["offline_access", "operator", "uma_authorization"]})
    assert staff.resolve(store, token)["role"] == "operator"
    fetched = provider.requests
    assert staff.resolve(store, token)["role"] == "operator" and provider.requests == fetched   # cached
    provider.add_key("k2")                       # the provider rotates: a token with the new kid fetches again
    monkeypatch.setattr(oidc, "REFETCH_AFTER_SECONDS", 0.0)
    rotated = provider.token(kid="k2", realm_access={"roles": ["admin", "operator"]})
    assert staff.resolve(store, rotated)["role"] == "admin" and provider.requests == fetched + 1


def test_without_a_configured_provider_no_token_counts(store, provider, monkeypatch):
    token = provider.token(paht_role="admin")
    monkeypatch.delenv("PAHT_OIDC_AUDIENCE")
    assert staff.resolve(store, token) is None


# ---- citizens -------------------------------------------------------------------------------------------------
class ReporterWithToken(Reporter):
    account_token: str | None = Field(None, max_length=8192)


def test_a_citizen_account_counts_with_its_providers_token_or_the_hmac_proof(monkeypatch):
    idp = Provider(issuer="https://id.example.vn", audience="paht-app")
    try:
        for name, value in idp.env("PAHT_CITIZEN_OIDC").items():
            monkeypatch.setenv(name, value)
        oidc.JWKS.clear()
        token = idp.token("hue-s-1001")
        assert accounts.verified("hue-s-1001", None, token)
        assert not accounts.verified("hue-s-2002", None, token)                 # another account's token
        assert not accounts.verified("hue-s-1001", None, idp.token("hue-s-1001", key=stranger_key()))
        assert not accounts.verified("hue-s-1001", None, idp.token("hue-s-1001", lifetime=-120))
        with_token = ReporterWithToken(name="An", account_id="hue-s-1001", account_token=token)
        assert account_verified(with_token)                                     # the gateway's finding …
        record = reporter_record(with_token, account_verified(with_token))      # … kept by the record as a flag
        assert record["account_verified"] and "account_token" not in record
        assert accounts.verified("hue-s-1001", accounts.proof("hue-s-1001"))      # local/demo proof still works
        with_proof = Reporter(account_id="hue-s-1001", account_proof=accounts.proof("hue-s-1001"))
        record = reporter_record(with_proof, account_verified(with_proof))
        assert record["account_verified"] and "account_proof" not in record
        report = ReportIn(pack="thua-thien-hue-2022", description="Ổ gà", reporter=with_proof)
        assert "account_proof" not in without_credentials(report)["reporter"]
    finally:
        idp.close()
        oidc.JWKS.clear()


# ---- paht users ---------------------------------------------------------------------------------------------------
class FakeGateway:
    """the gateway's account RPCs as `paht users` calls them: each with an internal assertion for that very call."""

    def __init__(self):
        self.calls = []

    @staticmethod
    def signed(method, credential, **arguments):
        assert callers.internal_assertion(credential, f"gateway.{method}", arguments) is not None, method

    def add_user(self, account, credential=None):
        self.signed("add_user", credential, account=account)
        self.calls.append(("add_user", account))
        if account["username"] == "taken":
            return {"error": {"code": "VALIDATION_FAILED", "message_en": "Some fields are invalid; see `fields`.",
                              "fields": {"username": "already taken"}}}
        return {"user": {"id": "user:" + account["username"], "username": account["username"],
                         "role": account["role"], "pack": account["pack"], "agency": account["agency"],
                         "disabled": False}, "password": "generated-pass"}

    def disable_user(self, reference, disabled=True, credential=None):
        self.signed("disable_user", credential, reference=reference, disabled=disabled)
        self.calls.append(("disable_user", reference, disabled))
        return {"user": {"id": "user:" + reference, "username": reference, "role": "operator", "disabled": disabled}}

    def reset_user(self, reference, password=None, credential=None):
        self.signed("reset_user", credential, reference=reference, password=password)
        self.calls.append(("reset_user", reference, password))
        return {"user": {"id": "user:" + reference, "username": reference, "role": "operator", "disabled": False},
                "password": None if password else "new-generated"}

    def list_users(self, pack=None, agency=None, role=None, credential=None):
        self.signed("list_users", credential, pack=pack, agency=agency, role=role)
        self.calls.append(("list_users", pack, agency, role))
        return [{"id": "user:op", "username": "op", "role": "operator", "pack": None, "agency": None,
                 "disabled": True, "name": "Op"}]


def cli(*argv, stdin=""):
    gateway, lines = FakeGateway(), []
    code = users_run(users_parser().parse_args(list(argv)), gateway, lines.append, io.StringIO(stdin))
    return code, lines, gateway.calls


def test_paht_users_commands(monkeypatch):
    monkeypatch.setenv("PAHT_INTERNAL_SECRET", "test-secret")
    code, lines, calls = cli("add", "a.b", "--role", "agency_staff", "--pack", PACK, "--agency", "x")
    assert code == 0 and calls[0][1]["password"] is None and "password (shown once): generated-pass" in lines
    code, lines, calls = cli("add", "a.b", "--role", "operator", "--password-stdin", stdin="typed-password\n")
    assert calls[0][1]["password"] == "typed-password"
    code, lines, _ = cli("add", "taken", "--role", "operator")
    assert code == 1 and "already taken" in lines[0]
    assert cli("disable", "op")[2] == [("disable_user", "op", True)]
    assert cli("enable", "op")[2] == [("disable_user", "op", False)]
    code, lines, calls = cli("reset", "op")
    assert calls == [("reset_user", "op", None)] and "password (shown once): new-generated" in lines
    code, lines, calls = cli("list", "--pack", PACK)
    assert calls == [("list_users", PACK, None, None)] and "DISABLED" in lines[0] and lines[-1] == "1 accounts"
    with pytest.raises(SystemExit):
        users_parser().parse_args(["add", "x", "--role", "root"])
    assert isinstance(users_parser().parse_args(["list"]), argparse.Namespace)
