"""The broker is not an admin door (issue 20 item 4), on the real broker: every RPC that changes accounts, returns
personal data or administers the system refuses a call without a credential and with a forged one (FORBIDDEN, the
RPC API's error shape, the Vietnamese message first), and answers PAHT's internal assertion. The gateway's account
RPCs also answer an admin's staff token; the record's (intake) take the internal assertion only — staff reach them
through the gateway's HTTP API, which checks their role."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from paht import callers, clock, deadletters
from paht.callers import call_internal, internal_credential
from tests.integration.conftest import eventually
from tests.integration.test_walking_route import PACK, good_report

pytestmark = pytest.mark.integration

ACCOUNT = {"username": "vo.thi.e", "role": "operator", "pack": PACK, "agency": None, "name": "Võ Thị E",
           "password": "mat-khau-cua-e-rat-dai"}


def park_letter(system, n: int) -> str:
    """A dead letter as a failing handler parks it (paht.deadletters), kept by intake; its id."""
    letter = {"queue": f"evt-test--nowhere-{n}", "exchange": "", "routing_key": "nowhere", "service": "test",
              "handler": "nowhere", "attempts": 5, "at": clock.now().isoformat(),
              "error": {"type": "Boom", "message": f"boom {n}", "traceback": ""}, "headers": {},
              "body": {"n": n, "marker": uuid.uuid4().hex}}
    with Connection(system.rabbit_config["AMQP_URI"]) as connection:
        connection.Producer().publish(letter, exchange=deadletters.EXCHANGE, routing_key="", serializer="json",
                                      declare=[deadletters.QUEUE], headers={deadletters.OWN_HEADER: True})
    return deadletters.letter_from_message(letter, {deadletters.OWN_HEADER: True}, clock.now())["_id"]


def refused(call, **kwargs) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        call(**kwargs)
    error = caught.value
    assert error.exc_type == "FORBIDDEN", (error.exc_type, error.value)
    assert error.value.startswith("Tài khoản không có quyền") and "(This account may not" in error.value   # vi first
    return error


def foreign_assertion(monkeypatch, method: str, arguments: dict) -> str:
    """What a broker user could make without the system's secret: the right form, another key."""
    with monkeypatch.context() as patched:
        patched.setenv("PAHT_INTERNAL_SECRET", "a-guess-at-the-secret")
        return internal_credential(method, arguments)


def forged(monkeypatch, method: str, arguments: dict, wrong_role: str) -> list:
    """Every credential a caller without the secret or the right role could send (`method`: service.method)."""
    service = method.split(".")[0]
    return [
        None, "", "admin", "Bearer " + "x" * 40, "paht-internal-v1", wrong_role,
        foreign_assertion(monkeypatch, method, arguments),
        internal_credential(f"{service}.get_report", arguments),                           # another call's
        internal_credential(method, dict(arguments, other="value")),                       # other arguments
        internal_credential(method, arguments, now=time.time() - 120),                    # expired
    ]


class Both:
    """The two services' RPC proxies: the gateway (accounts) and the record (intake)."""

    def __init__(self, cluster):
        self.gateway, self.intake = cluster.gateway, cluster.intake

    def call(self, method: str, **arguments):
        service, name = method.split(".")
        return call_internal(service, getattr(self, service), name, **arguments)

    def proxy(self, method: str):
        service, name = method.split(".")
        return getattr(getattr(self, service), name)


@pytest.fixture
def guarded(system):
    system.start("intake")
    with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
        yield system, Both(cluster)


def test_every_guarded_rpc_refuses_without_a_credential_and_answers_with_one(guarded, monkeypatch):
    system, rpc = guarded
    report_id = rpc.gateway.submit_report(good_report())["id"]
    letters = [park_letter(system, n) for n in range(3)]
    eventually(lambda: {letter["_id"] for letter in rpc.call("intake.dead_letters")} >= set(letters),
               "the parked letters kept by intake")
    admin, operator = system.tokens["admin"], system.tokens["operator"]
    agency_staff = system.agency_tokens(PACK, min(system.tokens[PACK]))[0]

    added = rpc.call("gateway.add_user", account=ACCOUNT)
    assert added["user"]["id"] == "user:vo.thi.e" and added["password"] is None
    # method: (arguments, a staff token that may (None: none may), one that may not)
    calls = {
        "gateway.add_user": (dict(account=dict(ACCOUNT, username="ke.gian", role="admin", pack=None)), admin,
                             operator),
        "gateway.list_users": ({"pack": PACK}, admin, operator),
        "gateway.disable_user": ({"reference": "vo.thi.e", "disabled": False}, admin, operator),
        "gateway.reset_user": ({"reference": "vo.thi.e", "password": "mat-khau-moi-cua-e"}, admin, agency_staff),
        "intake.dead_letters": ({"status": "open"}, None, operator),
        "intake.dead_letter": ({"letter_id": letters[0]}, None, operator),
        "intake.replay_dead_letter": ({"letter_id": letters[1]}, None, operator),
        "intake.drop_dead_letter": ({"letter_id": letters[2]}, None, operator),
        "intake.purge_expired": ({}, None, admin),
        "intake.reporter_contact": ({"report_id": report_id}, None, operator),
    }
    from services.gateway.api_models import RPC_OPERATIONS
    from services.intake.apidoc import RPC_OPERATIONS as RECORD_OPERATIONS
    assert {m for m in calls if m.startswith("gateway.")} == {
        f"gateway.{name}" for name, op in RPC_OPERATIONS.items() if op.auth == "staff-or-internal"}
    assert {m for m in calls if m.startswith("intake.")} == {   # every guarded one (the record's calls: below)
        f"intake.{name}" for name, op in RECORD_OPERATIONS.items() if op.auth == "internal" and op.tags != ("record",)}
    for method, (arguments, _, wrong_role) in calls.items():
        for credential in forged(monkeypatch, method, arguments, wrong_role):
            refused(rpc.proxy(method), **arguments, **({} if credential is None else {"credential": credential}))

    # nothing was done for the refused calls
    usernames = [u["username"] for u in rpc.call("gateway.list_users")]
    assert "ke.gian" not in usernames and "vo.thi.e" in usernames
    login = requests.post(f"{system.api}/api/v1/auth/login", timeout=10,
                          json={"username": "vo.thi.e", "password": ACCOUNT["password"]})
    assert login.status_code == 200, login.text                         # the refused resets changed nothing
    assert {letter["_id"] for letter in rpc.call("intake.dead_letters")} >= set(letters)

    # PAHT itself (an internal assertion for the call) gets the answers
    contact = rpc.call("intake.reporter_contact", report_id=report_id)
    assert contact["phone"] == "0905123456" and contact["email"] == "an@example.vn"
    assert rpc.call("intake.dead_letter", letter_id=letters[0])["error"]["message"] == "boom 0"
    assert rpc.call("intake.replay_dead_letter", letter_id=letters[1])["status"] == "replayed"
    assert rpc.call("intake.purge_expired") == {"announced": []}
    assert "vo.thi.e" in [u["username"] for u in rpc.call("gateway.list_users", pack=PACK)]
    assert rpc.call("gateway.disable_user", reference="vo.thi.e")["user"]["disabled"] is True
    reset = rpc.call("gateway.reset_user", reference="vo.thi.e")
    assert reset["password"] and reset["user"]["username"] == "vo.thi.e"

    # … an admin's token manages accounts over RPC; the centre's staff settle dead letters over HTTP
    assert "vo.thi.e" in [u["username"] for u in rpc.gateway.list_users(PACK, credential=admin)]
    assert rpc.gateway.disable_user("vo.thi.e", False, credential=admin)["user"]["disabled"] is False
    assert rpc.gateway.reset_user("vo.thi.e", "mat-khau-thu-ba-cua-e", credential=admin)["password"] is None
    assert rpc.gateway.add_user(dict(ACCOUNT, username="le.thi.f"), credential=admin)["user"]["id"] == \
        "user:le.thi.f"
    staff = {"Authorization": f"Bearer {operator}"}
    dropped = requests.post(f"{system.api}/api/v1/staff/dead-letters/{letters[2]}/drop", headers=staff, timeout=10)
    assert dropped.status_code == 200 and dropped.json()["status"] == "dropped"
    shown = requests.get(f"{system.api}/api/v1/staff/dead-letters/{letters[0]}", headers=staff, timeout=10)
    assert shown.status_code == 200 and shown.json()["_id"] == letters[0]
    hidden = requests.get(f"{system.api}/api/v1/staff/dead-letters/{letters[0]}", timeout=10,
                          headers={"Authorization": f"Bearer {agency_staff}"})
    assert hidden.status_code == 403


def test_an_assertion_that_changes_something_is_taken_once(guarded):
    system, rpc = guarded
    rpc.call("gateway.add_user", account=ACCOUNT)
    credential = internal_credential("gateway.reset_user", {"reference": "vo.thi.e"})
    assert rpc.gateway.reset_user("vo.thi.e", credential=credential)["password"]
    replayed = refused(rpc.gateway.reset_user, reference="vo.thi.e", credential=credential)   # read off the broker
    assert callers.USED in replayed.value
    credential = internal_credential("intake.purge_expired", {})
    assert rpc.intake.purge_expired(credential=credential) == {"announced": []}
    assert callers.USED in refused(rpc.intake.purge_expired, credential=credential).value


def test_a_pack_admin_manages_its_own_packs_accounts_only(guarded):
    system, rpc = guarded
    rpc.call("gateway.add_user", account=dict(ACCOUNT, username="admin.hue", role="admin"))
    rpc.call("gateway.add_user", account=dict(ACCOUNT, username="other.pack", pack="soc-trang-2022"))
    intake = rpc.gateway
    session = requests.post(f"{system.api}/api/v1/auth/login", timeout=10,
                            json={"username": "admin.hue", "password": ACCOUNT["password"]}).json()["token"]
    assert {u["pack"] for u in intake.list_users(credential=session)} == {PACK}
    refused(intake.add_user, account=dict(ACCOUNT, username="x.y.z", pack="soc-trang-2022"), credential=session)
    assert intake.reset_user("other.pack", credential=session)["error"]["code"] == "NOT_FOUND"


def test_internal_rpcs_of_other_services_take_the_internal_assertion_only(system, monkeypatch):
    system.start("handling")
    with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
        for service, method, arguments in (("handling", "history", {"report_id": "PA-000000-00000000"}),):
            call = getattr(getattr(cluster, service), method)
            for credential in (None, system.tokens["admin"], internal_credential(f"{service}.other", arguments),
                               internal_credential(f"{service}.{method}", arguments, now=time.time() - 120)):
                refused(call, **arguments, **({} if credential is None else {"credential": credential}))
            assert call_internal(service, getattr(cluster, service), method, **arguments) == []


def test_the_clis_say_why_they_were_refused(system, monkeypatch, capsys):
    from paht import dlq_cli, users_cli

    system.start("intake")
    monkeypatch.setenv("AMQP_URI", system.rabbit_config["AMQP_URI"])
    assert users_cli.main(["list"]) == 0 and dlq_cli.main(["list"]) == 0       # signed with the system's secret
    capsys.readouterr()
    monkeypatch.setattr(callers, "internal_credential",                          # as if run with another secret
                        lambda method, arguments=None: foreign_assertion(monkeypatch, method, arguments or {}))
    assert users_cli.main(["reset", "admin"]) == 1 and dlq_cli.main(["list"]) == 1
    said = capsys.readouterr().out
    assert said.count("refused") == 2 and "PAHT_INTERNAL_SECRET" in said and "not a valid internal assertion" in said


def test_the_records_calls_take_the_internal_assertion_only(system, monkeypatch):
    """The gateway's calls to the record answer nothing to a broker user without PAHT's secret."""
    from services.intake.apidoc import RPC_OPERATIONS

    system.start("intake")
    report_id = system.submit(good_report()).json()["id"]
    arguments = {"report_id": report_id}
    with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
        record = sorted(name for name, op in RPC_OPERATIONS.items() if op.tags == ("record",))
        assert {"create_report", "public_report", "prepare_action", "apply_decision"} <= set(record)
        for method in record:   # no credential: refused before anything is read or validated
            assert getattr(cluster.intake, method)()["error"]["code"] == "FORBIDDEN", method
        for credential in (None, system.tokens["admin"], foreign_assertion(monkeypatch, "intake.public_report",
                                                                           arguments),
                           internal_credential("intake.public_report", arguments, now=time.time() - 120)):
            answer = cluster.intake.public_report(**arguments, **({} if credential is None else
                                                                 {"credential": credential}))
            assert answer["error"]["code"] == "FORBIDDEN" and "ok" not in answer
        assert call_internal("intake", cluster.intake, "public_report", **arguments)["ok"]["view"]["id"] == report_id
