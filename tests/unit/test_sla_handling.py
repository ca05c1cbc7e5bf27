"""One deadline for the whole handling (issue 24 item 3): a pack's sla rule for the step `handling` times the report
from its first dispatch to the delivery of its result, beside (or instead of) each step's deadline, through
returns and re-dispatches, charged to the lead. Written on a copy of Huế's pack (none of the five seeds sets one);
the sla service class runs with nameko's worker_factory (no broker)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory

from paht import clock, storage
from paht.clock import FixedClock
from paht.rules import load_pack
from paht.schemas import Transitioned
from services.sla import service as sla_service
from services.sla.dependencies import DeadlineStore
from services.sla.service import SlaService
from tests.unit.pack_files import edit

VN = timezone(timedelta(hours=7))
AT = datetime(2027, 3, 1, 9, 0, tzinfo=VN)      # a Monday
HANDLING_RULE = """rules:
  - id: tth-sla-handling
    article: Điều 11 khoản 2
    title: Xử lý và phản hồi kết quả trong một thời hạn chung
    when: {step: handling}
    then: {action: set_deadline, amount: 3, unit: wd}
"""


@pytest.fixture()
def service(pack_copy, monkeypatch):
    edit(pack_copy / "sla.yaml", "rules:\n", HANDLING_RULE)
    pack = load_pack(pack_copy)
    monkeypatch.setattr(sla_service, "get_pack", lambda _pack_id: pack)
    clock.set_clock(FixedClock(AT))
    store = DeadlineStore(storage.open_database("sla", "memory://"))
    yield store, worker_factory(SlaService, deadlines=store)
    clock.set_clock(None)


def change(version, cause, from_state, to_state):
    report = {"id": "PA-1", "pack": "thua-thien-hue-2022", "state": to_state, "urgent": False, "version": version,
              "assigned_agencies": [{"id": "so-xay-dung", "role": "lead"}], "route": {}}
    return Transitioned(event_id=f"ev-{version}", report_id="PA-1", occurred_at=AT + timedelta(hours=version),
                        pack="thua-thien-hue-2022", cause=cause, from_state=from_state, to_state=to_state,
                        report=report).model_dump(mode="json")


def running(store, step):
    return [d for d in store.open_for("PA-1") if d["step"] == step]


def test_the_whole_handling_runs_from_dispatch_to_the_result_through_a_return(service):
    store, sla = service
    sla.on_report(change(3, "dispatched", "accepted", "dispatched"))
    (handling,) = running(store, "handling")
    assert (handling["amount"], handling["unit"], handling["rule"]) == (3, "wd", "tth-sla-handling")
    assert handling["agency"] == "so-xay-dung" and handling["starts_at"] == AT + timedelta(hours=3)
    # returned as outside its remit, dispatched again: the same deadline runs on
    sla.on_report(change(4, "returned", "dispatched", "accepted"))
    sla.on_report(change(5, "dispatched", "accepted", "dispatched"))
    assert [d["_id"] for d in running(store, "handling")] == [handling["_id"]]
    sla.on_report(change(6, "acknowledged", "dispatched", "in_progress"))
    sla.on_report(change(7, "result_submitted", "in_progress", "result_submitted"))
    sla.on_report(change(8, "approved", "result_submitted", "approved"))
    assert running(store, "handling")
    sla.on_report(change(9, "published", "approved", "published"))
    assert running(store, "handling") == []


def test_a_pack_without_a_handling_rule_opens_none(pack_copy, monkeypatch):
    pack = load_pack(pack_copy)
    monkeypatch.setattr(sla_service, "get_pack", lambda _pack_id: pack)
    clock.set_clock(FixedClock(AT))
    try:
        store = DeadlineStore(storage.open_database("sla", "memory://"))
        worker_factory(SlaService, deadlines=store).on_report(change(3, "dispatched", "accepted", "dispatched"))
        assert [d["step"] for d in store.open_for("PA-1")] == ["acknowledge"]
    finally:
        clock.set_clock(None)
