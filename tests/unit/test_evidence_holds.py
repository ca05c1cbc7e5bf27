"""Issue 23 items 3, 4, 8 (review W8 W9 W12 W13 M1, F3 F4 F6): what holds a report for its evidence and for how long.

- ST-22 Điều 6 khoản 5 điểm b: the centre's check of a held report fails it after 48 giờ; Điều 8 khoản 2: the
  receive deadline runs from the report's arrival, the hold does not end it.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.test_sla_timing_service import MON, Flow, fixed_clock  # noqa: F401 — the sla harness and its clock

pytestmark = pytest.mark.calendar


def held_st22():
    flow = Flow("soc-trang-2022", state="needs_supplement", agencies=())
    flow.announce("supplemented", "submitted")
    assert [k for k, _ in flow.running()] == ["receive"]
    flow.announce("operator_check_started")
    return flow


def test_st22_the_hold_keeps_the_receive_deadline_and_fails_the_report_after_48_hours():
    flow = held_st22()
    assert sorted(k for k, _ in flow.running()) == ["operator_check", "receive"]
    check = flow.one("operator_check")
    assert check["rule"] == "st22-sla-operator-check" and check["article"] == "Điều 6 khoản 5 điểm b"
    assert check["due"] - check["starts_at"] == timedelta(hours=48) and check["role"] == "side"
    # a second check found later does not restart the 48 hours
    flow.announce("operator_check_started", at=flow.at(check["starts_at"] + timedelta(hours=3)))
    assert [d["_id"] for d in flow.all("operator_check")] == [check["_id"]]
    flow.at(check["due"] + timedelta(minutes=1))
    flow.service.sweep()
    [rejected] = [d for d in flow.sent("deadline_missed") if d["detail"]["step"] == "operator_check"]
    assert rejected["to_state"] == "rejected" and rejected["from_states"] == ["submitted"]
    assert rejected["patch"]["reasons"][0]["code"] == "OPERATOR_CHECK_TIMEOUT"
    assert rejected["patch"]["reasons"][0]["article"] == "Điều 6 khoản 5 điểm b"


def test_st22_a_judged_check_ends_the_hold_and_receiving_ends_with_acceptance():
    flow = held_st22()
    flow.announce("verified", "accepted", at=flow.at(MON + timedelta(hours=1)))
    assert [d["status"] for d in flow.all("operator_check")] == ["closed"]
    assert [d["status"] for d in flow.all("receive")] == ["closed"]


def test_tth_the_hold_still_replaces_receiving():
    """VL Điều 10 khoản 1, TTH: receiving counts from a successful verification — the check replaces it."""
    flow = Flow("thua-thien-hue-2022", state="needs_supplement", agencies=())
    flow.announce("supplemented", "submitted")
    flow.announce("operator_check_started")
    assert [k for k, _ in flow.running()] == ["operator_check"]
    assert [d["status"] for d in flow.all("receive")] == ["closed"]
