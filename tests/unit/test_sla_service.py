"""The sla service class with nameko's worker_factory (no broker): a crash after opening a deadline but before
recording the report's version is redone on redelivery, and the deadline is open exactly once (issue 10)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import partial
from unittest import mock

import pytest
from nameko.testing.services import worker_factory
from prometheus_client import REGISTRY

from paht import clock, storage
from paht.clock import FixedClock
from paht.schemas import Transitioned
from services.sla.dependencies import DeadlineStore
from services.sla.service import SlaService

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 24, 9, 0, tzinfo=VN)


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(FixedClock(AT))
    yield
    clock.set_clock(None)


def dispatched(version=3, event_id="ev-dispatched"):
    report = {"id": "PA-1", "pack": "thua-thien-hue-2022", "state": "dispatched", "urgent": False, "version": version,
              "assigned_agencies": [{"id": "so-xay-dung", "role": "lead"}], "route": {}}
    return Transitioned(event_id=event_id, report_id="PA-1", occurred_at=AT, pack="thua-thien-hue-2022",
                        cause="dispatched", from_state="accepted", to_state="dispatched",
                        report=report).model_dump(mode="json")


def acknowledged():
    later = dispatched(version=4, event_id="ev-ack")
    later["cause"], later["from_state"], later["to_state"] = "acknowledged", "dispatched", "in_progress"
    later["report"]["state"] = "in_progress"
    return later


def fresh_service():
    store = DeadlineStore(storage.open_database("sla", "memory://"))
    return store, worker_factory(SlaService, deadlines=store)


def sent_kinds(service):
    """What intake was told, once the queue is sent."""
    service.tell_intake()
    return [d["kind"] for call in service.dispatch.call_args_list for d in call.args[1].get("batch", [call.args[1]])]


def test_a_crash_between_opening_and_recording_reopens_on_redelivery():
    store, service = fresh_service()
    queue = store.queue_for_intake
    store.queue_for_intake = mock.Mock(side_effect=[ConnectionError("store gone")])   # the worker dies queuing
    with pytest.raises(ConnectionError):
        service.on_report(dispatched())
    assert store.current_version("PA-1") == -1                        # nothing recorded: the broker redelivers
    assert sent_kinds(service) == []

    store.queue_for_intake = queue
    service.on_report(dispatched())                                   # the redelivery
    running = store.open_for("PA-1")
    assert [d["step"] for d in running] == ["acknowledge"] and running[0]["status"] == "open"
    assert store.current_version("PA-1") == 3
    assert sent_kinds(service) == ["deadline_opened"]

    service.on_report(dispatched())                                   # a third delivery changes nothing
    assert len(store.open_for("PA-1")) == 1 and store.current_version("PA-1") == 3
    assert sent_kinds(service) == ["deadline_opened"]


def test_decisions_queued_by_several_changes_reach_intake_in_one_message_in_order():
    store, service = fresh_service()
    service.on_report(dispatched())
    service.on_report(acknowledged())
    service.on_report(acknowledged())                                  # a redelivery queues nothing twice
    service.dispatch.assert_not_called()                               # nothing is sent while handling changes
    service.tell_intake()
    (call,) = service.dispatch.call_args_list
    told = call.args[1]["batch"]
    assert [(d["kind"], d["detail"]["step"]) for d in told] == [
        ("deadline_opened", "acknowledge"), ("deadline_closed", "acknowledge"), ("deadline_opened", "process")]
    service.tell_intake()                                              # sent once: the queue is empty
    assert service.dispatch.call_count == 1


def test_what_is_queued_stays_queued_while_the_broker_is_away():
    store, service = fresh_service()
    service.on_report(dispatched())
    service.dispatch.side_effect = [ConnectionError("broker gone")]
    with pytest.raises(ConnectionError):
        service.tell_intake()
    service.dispatch.reset_mock(side_effect=True)
    assert sent_kinds(service) == ["deadline_opened"]


def test_a_later_change_closes_the_step_and_an_older_one_is_ignored():
    store, service = fresh_service()
    service.on_report(dispatched())
    service.on_report(acknowledged())
    assert [d["step"] for d in store.open_for("PA-1")] == ["process"]
    service.on_report(dispatched())                                   # an old redelivery after the newer change
    assert [d["step"] for d in store.open_for("PA-1")] == ["process"]


def test_the_queue_for_intake_shows_as_sla_s_outbox():
    store, service = fresh_service()
    service.on_report(dispatched())
    clock.set_clock(FixedClock(AT + timedelta(minutes=7)))
    service.refresh_gauges()
    gauge = partial(REGISTRY.get_sample_value, labels={"service": "sla"})
    assert gauge("paht_outbox_backlog") == 1 and gauge("paht_outbox_oldest_age_seconds") == 420
    service.tell_intake()
    service.refresh_gauges()
    assert gauge("paht_outbox_backlog") == 0 and gauge("paht_outbox_oldest_age_seconds") == 0
