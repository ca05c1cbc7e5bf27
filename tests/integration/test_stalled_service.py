"""A stalled downstream service stops only what needs it (issue 21 item 4): with `handling` answering no staff
action, many staff actions wait at the gateway and end in 503 SERVICE_UNAVAILABLE with Retry-After, while, at the
same time, new submissions still go through the gateway and the record (intake) still applies the decisions of
verification and routing — the gateway's HTTP workers have their own pool, and the record never calls a decider."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import eventlet
import pytest
import requests
from nameko.rpc import rpc

from paht import accounts

from tests.integration.conftest import SERVICES
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = pytest.mark.integration

STALL_SECONDS = 60
WAITING = 24   # more staff actions at once than a service's max_workers (10)


class StalledHandling:
    """`handling` that takes every staff action and never answers."""

    name = "handling"

    @rpc
    def act(self, report, action, actor, body):
        eventlet.sleep(STALL_SECONDS)
        return {"error": {"code": "INTERNAL_ERROR"}}


def test_staff_actions_wait_on_a_stalled_decider_while_submissions_and_decisions_flow(system, monkeypatch):
    monkeypatch.setenv("PAHT_RPC_TIMEOUT_SECONDS", "4")
    monkeypatch.setitem(SERVICES, "handling", StalledHandling)
    system.start()
    operator = system.tokens["operator"]

    first = system.submit(good_report(), [fresh_photo(seed=31)])
    assert first.status_code == 201, first.text
    view = system.wait_state(first.json()["id"], "dispatched")
    target, staff = view["id"], system.agency_tokens(PACK, lead(view))[0]

    with ThreadPoolExecutor(WAITING) as pool:
        started = time.monotonic()
        waiting = [pool.submit(system.staff, target, "acknowledge", staff) for _ in range(WAITING)]
        time.sleep(0.5)   # the actions are in the gateway, each waiting on handling
        assert not any(future.done() for future in waiting)

        # meanwhile a citizen reports, and verification's and routing's decisions are applied
        another = {"name": "Trần Thị Bình", "phone": "0905765432", "email": "binh@example.vn",
                   "account_id": "hue-s-1002", "account_proof": accounts.proof("hue-s-1002")}
        second = system.submit(good_report(reporter=another), [fresh_photo(seed=32)])
        assert second.status_code == 201, second.text
        dispatched = system.wait_state(second.json()["id"], "dispatched", timeout=20)
        listed = system.staff_get("reports", operator, limit=5)
        assert listed.status_code == 200
        assert not any(future.done() for future in waiting), "it flowed only after the waiting actions ended"

        answers = [future.result(timeout=30) for future in waiting]

    assert dispatched["state"] == "dispatched" and time.monotonic() - started >= 4
    assert {answer.status_code for answer in answers} == {503}
    assert all(answer.headers["Retry-After"] == "5" and answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
               for answer in answers)
    assert system.get(target)["state"] == "dispatched"   # nothing was applied for the actions that timed out
