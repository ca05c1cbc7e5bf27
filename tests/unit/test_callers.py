"""Who may make a guarded RPC (issue 20 item 4): paht.callers, without a broker."""
from __future__ import annotations

import pytest

from paht import callers
from paht.callers import Caller, caller, internal_assertion, internal_credential
from paht.errors import ApiError, RpcApiError

NOW = 1_900_000_000.0
ARGS = {"reference": "nguyen.van.a", "password": None}


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("PAHT_INTERNAL_SECRET", "the-systems-secret")


def test_an_assertion_is_good_for_its_call_and_arguments_for_a_minute():
    made = internal_credential("gateway.reset_user", ARGS, now=NOW)
    assert made.startswith("paht-internal-v1.") and "the-systems-secret" not in made
    found = internal_assertion(made, "gateway.reset_user", {"reference": "nguyen.van.a"}, now=NOW + 59)
    assert found is not None and found.method == "gateway.reset_user" and found.expires == int(NOW) + 60
    assert internal_assertion(made, "gateway.reset_user", ARGS, now=NOW + 61) is None            # expired
    assert internal_assertion(made, "gateway.add_user", ARGS, now=NOW) is None                   # another call
    assert internal_assertion(made, "gateway.reset_user", {"reference": "admin"}, now=NOW) is None   # other args
    assert internal_assertion(made, "gateway.reset_user", dict(ARGS, password="x" * 12), now=NOW) is None


def test_a_forged_or_foreign_assertion_is_none():
    made = internal_credential("intake.dead_letters", {}, now=NOW)
    prefix, expires, nonce, mac = made.split(".")
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    assert internal_assertion(f"{prefix}.{expires}.{nonce}.{flipped}", "intake.dead_letters", now=NOW) is None
    later = f"{prefix}.{int(expires) + 3600}.{nonce}.{mac}"                                     # a longer life
    assert internal_assertion(later, "intake.dead_letters", now=NOW) is None
    far = internal_credential("intake.dead_letters", now=NOW, lifetime=3600)                   # too far ahead
    assert internal_assertion(far, "intake.dead_letters", now=NOW) is None
    for junk in ("", "paht-internal-v1", "paht-internal-v1.x.y.z", made + ".", made.upper(), None, 42, ["a"]):
        assert internal_assertion(junk, "intake.dead_letters", now=NOW) is None


def test_another_systems_secret_makes_no_assertion_of_this_one(monkeypatch):
    made = internal_credential("gateway.list_users", now=NOW)
    monkeypatch.setenv("PAHT_INTERNAL_SECRET", "another-systems-secret")
    assert internal_assertion(made, "gateway.list_users", now=NOW) is None


def test_an_assertion_made_just_ahead_of_the_services_clock_is_taken():
    made = internal_credential("gateway.list_users", now=NOW + callers.CLOCK_SKEW_SECONDS)
    assert internal_assertion(made, "gateway.list_users", now=NOW) is not None


ACCOUNTS = {"admin-token": {"_id": "user:root", "role": "admin", "pack": None},
            "agency-token": {"_id": "user:a", "role": "agency_staff", "pack": "p", "agency": "x"}}


def refusal(*args, **kwargs) -> str:
    with pytest.raises(ApiError) as refused:
        caller(*args, **kwargs)
    assert refused.value.code == "FORBIDDEN" and refused.value.status == 403
    assert refused.value.message.startswith("Tài khoản không có quyền")           # Vietnamese first
    return refused.value.detail


def test_who_may_call_a_guarded_rpc():
    staff = ACCOUNTS.get
    for missing in (None, "", "   ", 7, {"token": "admin-token"}):
        assert refusal(missing, "gateway.add_user", {}, staff=staff, roles=("admin",)) == callers.NO_CREDENTIAL
    assert refusal("stolen?", "gateway.add_user", {}, staff=staff, roles=("admin",)) == callers.NO_ACCOUNT
    assert "agency_staff may not call gateway.add_user" in refusal("agency-token", "gateway.add_user", {}, staff=staff,
                                                                   roles=("admin",))
    forged = internal_credential("gateway.add_user", {"account": {"username": "x"}})
    assert refusal(forged, "gateway.add_user", {"account": {"username": "root"}}, staff=staff,
                   roles=("admin",)) == callers.NOT_AN_ASSERTION
    assert caller("admin-token", "gateway.add_user", {}, staff=staff, roles=("admin",)) == \
        Caller(user=ACCOUNTS["admin-token"])
    found = caller(forged, "gateway.add_user", {"account": {"username": "x"}}, staff=staff, roles=("admin",))
    assert found.internal and found.user is None


def test_a_service_without_accounts_takes_assertions_only():
    assert "internal" in refusal("admin-token", "handling.history", {"report_id": "R"})
    with pytest.raises(RpcApiError) as refused:          # the remote refusal nameko sends back
        callers.internal_only("admin-token", "handling.history", {"report_id": "R"})
    assert type(refused.value).__name__ == "FORBIDDEN"
    code, message, message_en, fields, detail = refused.value.args
    assert (code, fields) == ("FORBIDDEN", {}) and message.startswith("Tài khoản") and message_en and detail
    made = internal_credential("handling.history", {"report_id": "R"})
    assert callers.internal_only(made, "handling.history", {"report_id": "R"}).internal


def test_call_internal_signs_the_call_it_makes():
    class Proxy:
        def reporter_contact(self, **kwargs):
            self.kwargs = kwargs
            return "answered"

    proxy = Proxy()
    assert callers.call_internal("intake", proxy, "reporter_contact", report_id="PA-1") == "answered"
    credential = proxy.kwargs.pop("credential")
    assert proxy.kwargs == {"report_id": "PA-1"}
    assert internal_assertion(credential, "intake.reporter_contact", {"report_id": "PA-1"}) is not None
    assert internal_assertion(credential, "intake.reporter_contact", {"report_id": "PA-2"}) is None
