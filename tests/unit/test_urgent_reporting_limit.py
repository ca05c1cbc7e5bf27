"""ST-23 Điều 17 khoản 2 "Quá thời gian xử lý theo quy định" (late_over_limit_count) against Điều 19 Bước 2: an
urgent report is processed "theo quy định chuyên ngành", with no time of the system's, so it is not counted past
the reporting limit; a multi-agency report (Điều 14 khoản 2), whose lead has no `process` deadline either, still is."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from paht.rules import get_pack
from paht.sla_facts import sla_facts
from services.intake.accountability import agency_counters

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
PACKS = ("soc-trang-2022", "soc-trang-2023", "thua-thien-hue-2022", "vinh-long-2025", "tay-ninh-2024")


def _late_count(report, skips_urgent):
    limit = lambda received: received + timedelta(days=9)
    counters = agency_counters([report], {}, {}, NOW, NOW + timedelta(days=30), NOW + timedelta(days=20),
                               limit_reached=limit, limit_skips_urgent=skips_urgent)
    return counters.get("so-xay-dung", {}).get("late_over_limit_count", 0)


def _report(**fields):
    return {"_id": "PA-U", "state": "in_progress",
            "timeline": [{"kind": "routed", "at": NOW, "detail": {"lead": "so-xay-dung"}}], **fields}


def test_an_urgent_report_is_not_counted_where_the_pack_says_so():
    assert _late_count(_report(urgent=True), skips_urgent=True) == 0
    assert _late_count(_report(urgent=True), skips_urgent=False) == 1      # TTH, VL, ST-22: their urgent deadlines
    assert _late_count(_report(urgent=False), skips_urgent=True) == 1


def test_a_multi_agency_report_still_counts():
    multi = _report(urgent=False, assigned_agencies=["so-xay-dung", "cong-an-tinh"])
    assert _late_count(multi, skips_urgent=True) == 1


def test_only_soc_trang_2023_skips_urgent_reports():
    skipping = {pack_id for pack_id in PACKS
                if (get_pack(pack_id).parameters.get("late_report_limit_skips_urgent") or {}).get("value") is True}
    assert skipping == {"soc-trang-2023"}


@pytest.mark.parametrize("pack_id", [p for p in PACKS if "late_report_limit" in get_pack(p).parameters])
def test_the_flag_agrees_with_the_packs_urgent_processing_deadline(pack_id):
    """A pack skips urgent reports exactly when its sla rules give an urgent report's processing no deadline."""
    pack = get_pack(pack_id)
    urgent = {"id": "PA-U", "pack": pack_id, "state": "in_progress", "urgent": True, "assigned_agencies": ["a"]}
    decision = pack.evaluate("sla", sla_facts(urgent, "process", multi_agency=False))
    skips = (pack.parameters.get("late_report_limit_skips_urgent") or {}).get("value") is True
    assert (decision.get("decision") == "no_deadline") == skips, decision
    # a normal report's processing has a deadline in every such pack (the limit times it)
    plain = dict(urgent, urgent=False)
    assert pack.evaluate("sla", sla_facts(plain, "process", multi_agency=False)).get("decision") == "set_deadline"


@pytest.mark.parametrize("pack_id, urgent, expected", [
    ("soc-trang-2023", True, 0), ("soc-trang-2023", False, 1), ("thua-thien-hue-2022", True, 1)])
def test_the_counter_through_intake_reads_the_packs_flag(pack_id, urgent, expected):
    """Through the service entrypoint (worker_factory, memory store): an open report routed 20 days ago."""
    from nameko.testing.services import worker_factory

    from paht import clock, storage
    from paht.clock import FixedClock
    from services.intake.dependencies import ReportStore
    from services.intake.service import IntakeService
    from tests.unit.test_scorecards import entry, report
    routed = NOW - timedelta(days=20)
    doc = report("PA-U", pack_id, routed, [entry(routed, "submitted", "submitted", None),
                                           entry(routed, "routed", "dispatched", "accepted",
                                                 detail={"lead": "so-xay-dung"})],
                 "dispatched", "so-xay-dung", urgent=urgent)
    store = ReportStore(storage.open_database("intake", "memory://"))
    store.reports.insert_one(doc)
    clock.set_clock(FixedClock(NOW))
    try:
        cards = worker_factory(IntakeService, store=store).agency_counters(
            pack_id, (NOW - timedelta(days=30)).isoformat(), NOW.isoformat())
    finally:
        clock.set_clock(None)
    assert cards.get("so-xay-dung", {}).get("late_over_limit_count", 0) == expected
