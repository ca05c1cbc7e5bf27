"""The broker is not an admin door (issue 20 item 4), on the real broker: every RPC that changes accounts, returns
personal data or administers the system refuses a call without a credential and with a forged one (FORBIDDEN, the
RPC API's error shape, the Vietnamese message first), and answers PAHT's internal assertion and a staff token of
the role the HTTP API asks for the same thing."""
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
        return internal_credential(f"intake.{method}", arguments)


def forged(monkeypatch, method: str, arguments: dict, wrong_role: str) -> list:
    """Every credential a caller without the secret or the right role could send."""
    return [
        None, "", "admin", "Bearer " + "x" * 40, "paht-internal-v1", wrong_role,
        foreign_assertion(monkeypatch, method, arguments),
        internal_credential("intake.get_report", arguments),                               # another call's
        internal_credential(f"intake.{method}", dict(arguments, other="value")),           # other arguments
        internal_credential(f"intake.{method}", arguments, now=time.time() - 120),        # expired
    ]


@pytest.fixture
def guarded(system):
    system.start("intake")
    with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
        yield system, cluster.intake


def test_every_guarded_intake_rpc_refuses_without_a_credential_and_answers_with_one(guarded, monkeypatch):
    system, intake = guarded
    report_id = intake.submit_report(good_report())["id"]
    letters = [park_letter(system, n) for n in range(3)]
    eventually(lambda: {letter["_id"] for letter in call_internal("intake", intake, "dead_letters")} >= set(letters),
               "the parked letters kept by intake")
    admin, operator = system.tokens["admin"], system.tokens["operator"]
    agency_staff = system.agency_tokens(PACK, min(system.tokens[PACK]))[0]

    added = call_internal("intake", intake, "add_user", account=ACCOUNT)
    assert added["user"]["id"] == "user:vo.thi.e" and added["password"] is None
    # method: (arguments, a staff token that may, one that may not)
    calls = {
        "add_user": (dict(account=dict(ACCOUNT, username="ke.gian", role="admin", pack=None)), admin, operator),
        "list_users": ({"pack": PACK}, admin, operator),
        "disable_user": ({"reference": "vo.thi.e", "disabled": False}, admin, operator),
        "reset_user": ({"reference": "vo.thi.e", "password": "mat-khau-moi-cua-e"}, admin, agency_staff),
        "dead_letters": ({"status": "open"}, operator, agency_staff),
        "dead_letter": ({"letter_id": letters[0]}, operator, agency_staff),
        "replay_dead_letter": ({"letter_id": letters[1]}, operator, agency_staff),
        "drop_dead_letter": ({"letter_id": letters[2]}, operator, agency_staff),
        "purge_expired": ({}, admin, operator),
        "reporter_contact": ({"report_id": report_id}, operator, agency_staff),
    }
    assert set(calls) == {name for name, rpc in __import__("services.intake.api_models", fromlist=["x"])
                          .RPC_OPERATIONS.items() if rpc.auth == "staff-or-internal"}   # every guarded one
    for method, (arguments, _, wrong_role) in calls.items():
        for credential in forged(monkeypatch, method, arguments, wrong_role):
            refused(getattr(intake, method), **arguments, **({} if credential is None else
                                                              {"credential": credential}))

    # nothing was done for the refused calls
    usernames = [u["username"] for u in call_internal("intake", intake, "list_users")]
    assert "ke.gian" not in usernames and "vo.thi.e" in usernames
    login = requests.post(f"{system.api}/api/v1/auth/login", timeout=10,
                          json={"username": "vo.thi.e", "password": ACCOUNT["password"]})
    assert login.status_code == 200, login.text                         # the refused resets changed nothing
    assert {letter["_id"] for letter in call_internal("intake", intake, "dead_letters")} >= set(letters)

    # PAHT itself (an internal assertion for the call) gets the answers
    contact = call_internal("intake", intake, "reporter_contact", report_id=report_id)
    assert contact["phone"] == "0905123456" and contact["email"] == "an@example.vn"
    assert call_internal("intake", intake, "dead_letter", letter_id=letters[0])["error"]["message"] == "boom 0"
    assert call_internal("intake", intake, "replay_dead_letter", letter_id=letters[1])["status"] == "replayed"
    assert call_internal("intake", intake, "purge_expired") == {"announced": []}
    assert "vo.thi.e" in [u["username"] for u in call_internal("intake", intake, "list_users", pack=PACK)]
    assert call_internal("intake", intake, "disable_user", reference="vo.thi.e")["user"]["disabled"] is True
    reset = call_internal("intake", intake, "reset_user", reference="vo.thi.e")
    assert reset["password"] and reset["user"]["username"] == "vo.thi.e"

    # … and so does a staff token of the role the HTTP API asks for the same thing
    assert intake.reporter_contact(report_id, credential=operator)["name"] == "Nguyễn Văn An"
    assert {letters[0], letters[2]} <= {letter["_id"] for letter in intake.dead_letters(credential=operator)}
    assert intake.dead_letter(letters[0], credential=operator)["_id"] == letters[0]
    assert intake.drop_dead_letter(letters[2], credential=operator)["status"] == "dropped"
    assert intake.replay_dead_letter(letters[0], credential=operator)["status"] == "replayed"
    assert intake.purge_expired(credential=admin) == {"announced": []}
    assert "vo.thi.e" in [u["username"] for u in intake.list_users(PACK, credential=admin)]
    assert intake.disable_user("vo.thi.e", False, credential=admin)["user"]["disabled"] is False
    assert intake.reset_user("vo.thi.e", "mat-khau-thu-ba-cua-e", credential=admin)["password"] is None
    assert intake.add_user(dict(ACCOUNT, username="le.thi.f"), credential=admin)["user"]["id"] == "user:le.thi.f"


def test_an_assertion_that_changes_something_is_taken_once(guarded):
    system, intake = guarded
    call_internal("intake", intake, "add_user", account=ACCOUNT)
    credential = internal_credential("intake.reset_user", {"reference": "vo.thi.e"})
    assert intake.reset_user("vo.thi.e", credential=credential)["password"]
    replayed = refused(intake.reset_user, reference="vo.thi.e", credential=credential)   # read off the broker
    assert callers.USED in replayed.value


def test_a_pack_admin_manages_its_own_packs_accounts_only(guarded):
    system, intake = guarded
    call_internal("intake", intake, "add_user", account=dict(ACCOUNT, username="admin.hue", role="admin"))
    call_internal("intake", intake, "add_user", account=dict(ACCOUNT, username="other.pack", pack="soc-trang-2022"))
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


def test_the_clis_say_why_intake_refused_them(system, monkeypatch, capsys):
    from paht import dlq_cli, users_cli

    system.start("intake")
    monkeypatch.setenv("AMQP_URI", system.rabbit_config["AMQP_URI"])
    assert users_cli.main(["list"]) == 0 and dlq_cli.main(["list"]) == 0       # signed with the system's secret
    capsys.readouterr()
    monkeypatch.setattr(callers, "internal_credential",                          # as if run with another secret
                        lambda method, arguments=None: foreign_assertion(monkeypatch, method.split(".")[1],
                                                                         arguments or {}))
    assert users_cli.main(["reset", "admin"]) == 1 and dlq_cli.main(["list"]) == 1
    said = capsys.readouterr().out
    assert said.count("refused") == 2 and "PAHT_INTERNAL_SECRET" in said and "not a valid internal assertion" in said
