"""Deadline documents from the packs' sla rules (no broker)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from paht.rules import get_pack
from services.sla.deadlines import deadline_decision, new_deadline, step_for

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = timezone(timedelta(hours=7))


def test_night_report_starts_its_clock_at_the_next_opening():
    vn = VN
    night = datetime(2026, 11, 23, 2, 15, tzinfo=vn)           # Huế: 00:00–07:30 only urgent matters
    report = {"id": "R", "pack": "thua-thien-hue-2022", "state": "submitted", "urgent": False}
    deadline = new_deadline(get_pack("thua-thien-hue-2022"), report, "receive", night, "e")
    assert deadline["starts_at"] == datetime(2026, 11, 23, 7, 30, tzinfo=vn)
    assert deadline["due"] == datetime(2026, 11, 23, 8, 0, tzinfo=vn)
    urgent = new_deadline(get_pack("thua-thien-hue-2022"), dict(report, urgent=True), "receive", night, "e")
    assert urgent["due"] == night + timedelta(minutes=30)


def test_each_state_waits_on_its_step():
    class Announced:
        def __init__(self, to_state, cause="x"):
            self.to_state, self.cause = to_state, cause
    assert step_for(Announced("dispatched")) == "acknowledge"
    assert step_for(Announced("in_progress", "rework_requested")) == "rework"
    assert step_for(Announced("published")) is None


def test_a_missed_supplement_rejects_with_the_rule_and_article():
    start = datetime(2026, 11, 20, 15, 0, tzinfo=VN)
    report = {"id": "R", "pack": "vinh-long-2025", "state": "needs_supplement", "urgent": False}
    deadline = new_deadline(get_pack("vinh-long-2025"), report, "supplement", start, "e")
    assert deadline["due"] == datetime(2026, 11, 25, 15, 0, tzinfo=VN)   # 2 wd, 24/11 off
    missed = deadline_decision("deadline_missed", deadline, start + timedelta(days=6), "id", late=True)
    assert missed.to_state == "rejected" and missed.from_states == ["needs_supplement"]
    assert missed.patch["reasons"][0]["code"] == "SUPPLEMENT_TIMEOUT"
    assert missed.patch["reasons"][0]["article"] == "Điều 8 khoản 2"
    assert "02 ngày làm việc" in missed.patch["reasons"][0]["message"]   # the pack's own wording
    assert missed.patch["deadlines.supplement"]["late"] is False   # the reporter's timeout is not an agency's lateness


def test_a_late_return_is_a_missed_return_deadline():
    received = datetime(2026, 11, 23, 8, 0, tzinfo=VN)
    report = {"id": "R", "pack": "thua-thien-hue-2022", "state": "in_progress", "urgent": False,
              "assigned_agencies": [{"id": "so-xay-dung", "role": "lead"}]}
    deadline = new_deadline(get_pack("thua-thien-hue-2022"), report, "return", received, "e")
    assert deadline["due"] == received + timedelta(minutes=60)          # Điều 11 khoản 2
    assert deadline["rule"] == "tth-sla-return"
