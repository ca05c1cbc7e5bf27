"""The centre's wait is not the agency's lateness (issue 23 item 5): where the centre sets an extension's time from
the agency's notice (ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3), a processing deadline that fell due while
a timely notice waited for the centre runs again to the committed time once the centre sets it; a notice given
after the due time leaves the miss standing. The sla service class with nameko's worker_factory, no broker."""
from __future__ import annotations

from datetime import timedelta

import pytest

from paht import clock
from paht.clock import FixedClock
from paht.schemas import Transitioned
from tests.unit.test_sla_service import AT, acknowledged, dispatched, fresh_service, sent_kinds

pytestmark = pytest.mark.calendar


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(FixedClock(AT))
    yield
    clock.set_clock(None)


def extended(noticed_at, new_due, event_id="ev-extended"):
    later = acknowledged()
    extension = {"step": "process", "new_due": new_due.isoformat(), "noticed_at": noticed_at.isoformat()}
    later.update(event_id=event_id, cause="extended", from_state="in_progress")
    later["report"].update(version=6, extension=extension)
    return Transitioned.model_validate(later).model_dump(mode="json")


def missed_process(store, service):
    service.on_report(dispatched())
    service.on_report(acknowledged())
    [process] = store.open_for("PA-1")
    clock.set_clock(FixedClock(process["due"] + timedelta(minutes=5)))
    assert service.sweep() == 1
    [process] = store.open_for("PA-1")
    assert process["status"] == "missed"
    return process


@pytest.mark.parametrize("timely", [True, False])
def test_a_deadline_missed_while_a_timely_notice_waited_runs_again(timely):
    store, service = fresh_service()
    process = missed_process(store, service)
    noticed = process["due"] - timedelta(hours=1) if timely else process["due"] + timedelta(minutes=1)
    new_due = process["due"] + timedelta(days=3)
    service.on_report(extended(noticed, new_due))
    [moved] = store.open_for("PA-1")
    assert sent_kinds(service)[-1] == "deadline_extended"
    last = service.dispatch.call_args_list[-1].args[1]
    entry = (last.get("batch") or [last])[-1]["patch"]["deadlines.process"]
    if timely:
        assert moved["status"] == "open" and moved["due"] == new_due and not moved.get("missed_at")
        assert entry["late"] is False
        ended = store.ended_between("thua-thien-hue-2022", AT, AT + timedelta(days=30))
        assert [d["step"] for d in ended] == ["acknowledge"]       # the processing step is no longer counted late
    else:
        assert moved["status"] == "missed" and moved["due"] == process["due"] and entry["late"] is True
