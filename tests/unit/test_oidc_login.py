"""The portal's staff sign-in through the province's identity provider, piece by piece (paht/oidc_login.py, the
door's store, settings): PKCE S256, the authorization URL, discovery (its issuer checked, kept while the provider is
down), the code traded once with the verifier, the ID token checked as the API checks tokens plus its nonce, the
staff user mapped as the API maps a token, a sign-in taken once by the browser it began in, and the session it opens.
The provider is tests/oidc_helpers.py's, on loopback."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from paht import oidc_login, settings
from paht.rules import get_pack
from paht.storage import open_database
from services.gateway import staff
from services.gateway.dependencies import DoorStore, StaffAccounts
from tests.oidc_helpers import CLIENT_ID, stranger_key

PACK = "thua-thien-hue-2022"
REDIRECT = "https://paht.example.vn/staff/login/oidc/callback"


@pytest.fixture
def config(sign_in_provider, monkeypatch):
    monkeypatch.setenv("PAHT_OIDC_REDIRECT_URL", REDIRECT)
    return settings.oidc_sign_in()


@pytest.fixture
def agency():
    return min(get_pack(PACK).agencies)


def authorize(idp, started: oidc_login.Started) -> str:
    """What the browser does at the provider: the code it is sent back with."""
    answer = requests.get(started.url, allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert back._replace(query="").geturl() == REDIRECT and query["state"] == started.state
    return query["code"]


def test_pkce_is_s256_as_rfc_7636_appendix_b():
    assert oidc_login.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_settings_turn_the_sign_in_on_only_with_the_provider_and_a_client(monkeypatch, sign_in_provider):
    monkeypatch.delenv("PAHT_OIDC_REDIRECT_URL", raising=False)
    monkeypatch.setenv("PAHT_PUBLIC_URL", "https://paht.example.vn/")
    monkeypatch.setenv("PAHT_OIDC_SCOPES", "profile email")
    config = settings.oidc_sign_in()
    assert config["redirect_url"] == REDIRECT and config["scopes"] == "openid profile email"
    assert (config["client_id"], config["display_name"]) == (CLIENT_ID, None)
    monkeypatch.setenv("PAHT_OIDC_CLIENT_SECRET", "")
    assert settings.oidc_sign_in()["client_secret"] is None                   # a public client: PKCE only
    monkeypatch.delenv("PAHT_OIDC_CLIENT_ID")
    assert settings.oidc_sign_in() is None
    monkeypatch.setenv("PAHT_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.delenv("PAHT_OIDC_JWKS_URL")
    assert settings.oidc_sign_in() is None


def test_production_refuses_a_client_without_its_provider_or_a_plain_http_callback():
    base = {"PAHT_ENV": "production", "PAHT_OIDC_CLIENT_ID": CLIENT_ID, "PAHT_OIDC_REDIRECT_URL": "http://x/cb"}
    problems = settings.oidc_sign_in_problems(base)
    assert len(problems) == 2 and "PAHT_OIDC_ISSUER" in problems[0] and "https" in problems[1]
    assert settings.oidc_sign_in_problems({"PAHT_OIDC_REDIRECT_URL": "http://x/cb"}) == []


def test_the_authorization_url_asks_for_a_code_with_state_nonce_and_s256(config):
    started = oidc_login.begin(config)
    parts = urlsplit(started.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert started.url.startswith(f"{config['provider']['issuer']}/auth?")
    assert query == {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                     "scope": "openid profile", "state": started.state, "nonce": started.nonce,
                     "code_challenge": oidc_login.challenge(started.verifier), "code_challenge_method": "S256"}
    again = oidc_login.begin(config)
    assert len({started.state, started.nonce, started.verifier, again.state, again.nonce, again.verifier}) == 6
    assert len(started.verifier) >= 43                                        # RFC 7636 §4.1


def test_discovery_checks_the_issuer_and_is_kept_while_the_provider_is_down(config, sign_in_provider,
                                                                           monkeypatch):
    oidc_login.begin(config)
    sign_in_provider.down = True
    assert oidc_login.begin(config).url                                       # the cached document
    oidc_login.DISCOVERY.clear()
    with pytest.raises(oidc_login.Unavailable):
        oidc_login.begin(config)
    sign_in_provider.down = False
    wrong = dict(config, provider=dict(config["provider"], issuer=sign_in_provider.issuer + "/"))
    with pytest.raises(oidc_login.Unavailable, match="names issuer"):        # Discovery §4.3: exactly the issuer
        oidc_login.begin(wrong)
    monkeypatch.setenv("PAHT_ENV", "production")
    oidc_login.DISCOVERY.clear()
    with pytest.raises(oidc_login.Unavailable, match="https in production"):  # no code or secret over plain http
        oidc_login.begin(config)


def test_a_code_is_traded_once_with_the_verifier_for_the_staff_user(config, sign_in_provider, agency):
    sign_in_provider.signs_in = {"sub": "kc-1", "paht_role": "agency_staff", "paht_pack": PACK,
                                 "paht_agency": agency, "name": "Lê Văn C"}
    started = oidc_login.begin(config)
    code = authorize(sign_in_provider, started)
    with pytest.raises(oidc_login.Refused):                                   # another verifier: not this code's
        oidc_login.finish(config, code, "x" * 43, started.nonce)
    started = oidc_login.begin(config)
    code = authorize(sign_in_provider, started)
    user = oidc_login.finish(config, code, started.verifier, started.nonce)
    assert user == {"_id": "oidc:kc-1", "role": "agency_staff", "pack": PACK, "agency": agency, "name": "Lê Văn C",
                    "via": "oidc"}                                            # as the API maps a bearer token
    with pytest.raises(oidc_login.Refused, match="invalid_grant"):           # a code is good once
        oidc_login.finish(config, code, started.verifier, started.nonce)


def test_the_id_token_is_checked_as_the_apis_tokens_and_carries_the_nonce(config, sign_in_provider):
    idp = sign_in_provider
    good = dict(aud=CLIENT_ID, nonce="n-1", paht_role="operator")
    assert oidc_login.id_claims(config, idp.token("kc-2", **good), "n-1")["sub"] == "kc-2"
    refused = {
        "another nonce": idp.token("kc-2", **dict(good, nonce="n-2")),
        "no nonce": idp.token("kc-2", aud=CLIENT_ID, paht_role="operator"),
        "the API's audience, not the client": idp.token("kc-2", **dict(good, aud="paht")),
        "expired": idp.token("kc-2", lifetime=-120, **good),
        "a key the provider did not publish": idp.token("kc-2", key=stranger_key(), **good),
        "another issuer": idp.token("kc-2", **dict(good, iss="https://evil.example")),
        "several audiences, azp another": idp.token("kc-2", **dict(good, aud=[CLIENT_ID, "x"], azp="x")),
    }
    for why, token in refused.items():
        with pytest.raises(oidc_login.Refused):
            oidc_login.id_claims(config, token, "n-1")
            pytest.fail(why)
    assert oidc_login.id_claims(config, idp.token("kc-2", **dict(good, aud=[CLIENT_ID, "x"], azp=CLIENT_ID)), "n-1")


def test_a_user_without_a_role_a_refusing_provider_and_a_down_one(config, sign_in_provider, monkeypatch):
    sign_in_provider.signs_in = {"sub": "kc-3", "paht_role": "agency_staff", "paht_pack": PACK}   # no agency
    started = oidc_login.begin(config)
    with pytest.raises(oidc_login.NoRole):
        oidc_login.finish(config, authorize(sign_in_provider, started), started.verifier, started.nonce)

    started = oidc_login.begin(config)
    code = authorize(sign_in_provider, started)
    sign_in_provider.down = True                                              # 503 at the token endpoint
    with pytest.raises(oidc_login.Unavailable):
        oidc_login.finish(config, code, started.verifier, started.nonce)

    def timing_out(*args, **kwargs):
        assert kwargs["timeout"] == oidc_login.TIMEOUT_SECONDS
        raise requests.Timeout("read timed out")
    monkeypatch.setattr(oidc_login.requests, "post", timing_out)
    with pytest.raises(oidc_login.Unavailable, match="timed out"):
        oidc_login.exchange(config, code, started.verifier)


def test_a_confidential_client_authenticates_and_a_wrong_secret_is_refused(config, sign_in_provider):
    sign_in_provider.signs_in = {"sub": "kc-4", "paht_role": "admin"}
    started = oidc_login.begin(config)
    code = authorize(sign_in_provider, started)
    with pytest.raises(oidc_login.Refused, match="invalid_client"):
        oidc_login.exchange(dict(config, client_secret="not-it"), code, started.verifier)


# ---- the door's store ---------------------------------------------------------------------------------------------
@pytest.fixture
def store():
    return DoorStore(open_database("gateway", "memory://"))


def test_a_sign_in_is_taken_once_by_the_browser_it_began_in(store):
    later = StaffAccounts.now() + timedelta(minutes=10)
    store.begin_sign_in("state-1", "browser-1", {"nonce": "n", "verifier": "v", "next": "/staff/"}, later)
    assert "state-1" not in str(list(store.sign_ins.find({})))              # kept hashed
    assert store.take_sign_in("state-1", "browser-2") is None                 # another browser's cookie …
    assert store.take_sign_in("state-1", "browser-1") is None                 # … spent it: no second try
    store.begin_sign_in("state-2", "browser-1", {"nonce": "n", "verifier": "v", "next": None}, later)
    taken = store.take_sign_in("state-2", "browser-1")
    assert (taken["nonce"], taken["verifier"]) == ("n", "v")
    assert store.take_sign_in("state-2", "browser-1") is None                 # a replayed callback
    store.begin_sign_in("state-3", "browser-1", {"nonce": "n", "verifier": "v", "next": None},
                        StaffAccounts.now() - timedelta(seconds=1))
    assert store.take_sign_in("state-3", "browser-1") is None                 # expired


def test_the_providers_user_gets_a_login_session_like_a_password(store, agency):
    user = {"_id": "oidc:kc-1", "role": "agency_leader", "pack": PACK, "agency": agency, "name": "Lê C", "via": "oidc"}
    token = store.accounts.open_session(user, 60)
    assert token not in str(list(store.accounts.sessions.find({})))
    found = staff.resolve(store, token)
    assert {k: found[k] for k in user} == user and found["session_expires_at"] > StaffAccounts.now()
    assert store.accounts.logout(token) and staff.resolve(store, token) is None


def test_every_refusal_of_the_sign_in_is_a_page_in_vietnamese_and_english_and_never_a_5xx():
    from services.gateway.pages.signin import PROBLEMS, problem
    for code, (status, vietnamese, english) in PROBLEMS.items():
        assert status < 500 and vietnamese != english and vietnamese.endswith(".") and english.endswith("."), code
        assert problem(code).code == code and problem(code).fields == {}
    assert problem("OIDC_UNAVAILABLE").status == 200     # the provider's outage is not the gateway's error
