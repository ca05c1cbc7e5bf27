"""A service that dies mid-message loses nothing: the broker redelivers and the decision is applied once."""
from __future__ import annotations

import eventlet
import pytest

from services.routing import service as routing_service
from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = pytest.mark.integration


def test_routing_killed_mid_event_still_routes_the_report_once(system, monkeypatch):
    system.start()
    entered = eventlet.event.Event()
    real_facts = routing_service.routing_facts

    def stuck(report):
        if not entered.ready():
            entered.send(report["id"])
        eventlet.sleep(60)  # "crashes" before storing or sending anything
        return real_facts(report)

    monkeypatch.setattr(routing_service, "routing_facts", stuck)
    report_id = system.submit(good_report(), [fresh_photo()]).json()["id"]
    with eventlet.Timeout(20):
        assert entered.wait() == report_id
    system.kill("routing")                        # the worker dies holding the unacknowledged message
    assert system.get(report_id)["state"] == "accepted"

    monkeypatch.setattr(routing_service, "routing_facts", real_facts)
    system.start("routing")                        # a new worker gets the redelivered message
    view = system.wait_state(report_id, "dispatched")
    routed = [step for step in view["timeline"] if step["to"] == "dispatched"]
    assert len(routed) == 1


def test_intake_applies_a_redelivered_decision_once(system):
    system.start()
    report_id = system.submit(good_report(), [fresh_photo()]).json()["id"]
    system.wait_state(report_id, "dispatched")
    internal = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]
    verified = next(step for step in internal if step["kind"] == "verified")
    # send the same verification decision again, as a redelivery would
    from nameko.standalone.events import event_dispatcher

    from paht.events import DECISION
    dispatch = event_dispatcher(system.rabbit_config)
    payload = {"version": 1, "event_id": verified["event_id"], "report_id": report_id,
               "occurred_at": verified["at"], "pack": "thua-thien-hue-2022", "kind": "verified",
               "source": "verification", "to_state": "accepted", "from_states": ["submitted"],
               "actor": {}, "detail": {}, "patch": {}}
    before = system.metrics()
    dispatch("verification", DECISION, payload)
    # intake counts each decision it handled once it has stored what it does with it (paht.bus, apply_together):
    # the first `verified` was applied before the report could be dispatched, so only this one ends otherwise
    system.wait_metric("intake", "paht_messages_total", 1, before, "the redelivered decision handled",
                       service="intake", kind="verified", outcome=("duplicate", "refused"))
    assert system.metric("intake", "paht_messages_total", before, service="intake", kind="verified",
                         outcome="duplicate") == 1
    internal = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]
    assert [step["kind"] for step in internal].count("verified") == 1
    assert system.get(report_id)["state"] == "dispatched"
