"""Daily flash reports at the end of each working day (issue 23 item 6; review W3 W7, F8, probe P9): ST-22 and ST-23
Điều 28 khoản 1 "Cuối ngày làm việc, Trung tâm GSĐH tỉnh báo cáo nhanh": one report per working day of the pack's
calendar (paht/worktime.py), made at the close of its office hours, none on weekends and holidays; each covers
everything since the previous one, so nothing received after hours or on a day off is left out."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from paht import clock
from paht.clock import FixedClock
from paht.rules import get_pack
from paht.worktime import calendar_for
from services.rating.periodic import due_since

PACKS = ("soc-trang-2022", "soc-trang-2023")


def _at(text):
    return datetime.fromisoformat(text)


def daily(pack):
    return next(item for item in get_pack(pack).meta["reports"]["schedule"] if item["kind"] == "daily")


@pytest.mark.parametrize("pack", PACKS)
def test_a_report_at_the_close_of_each_working_day_and_none_at_the_weekend(pack):
    """[P9]: Sunday 20/12/2026 used to have a daily report due on 21/12 at 00:00."""
    found = due_since(get_pack(pack), daily(pack), _at("2026-12-18T12:00:00+07:00"), _at("2026-12-21T18:00:00+07:00"))
    assert [(d.period.label, d.due.isoformat()) for d in found] == [
        ("2026-12-18", "2026-12-18T17:00:00+07:00"), ("2026-12-21", "2026-12-21T17:00:00+07:00")]
    monday = found[-1]
    assert (monday.period.start.isoformat(), monday.period.end.isoformat(), monday.generate_at) == (
        "2026-12-18T17:00:00+07:00", "2026-12-21T17:00:00+07:00", monday.due)    # Friday's close → Monday's


@pytest.mark.parametrize("pack", PACKS)
def test_no_report_on_a_public_holiday(pack):
    calendar = calendar_for(get_pack(pack).meta)
    assert calendar.holiday_name(_at("2027-01-01T00:00:00+07:00").date())      # Tết Dương lịch, a Friday
    found = due_since(get_pack(pack), daily(pack), _at("2026-12-31T12:00:00+07:00"), _at("2027-01-05T08:00:00+07:00"))
    assert [d.period.label for d in found] == ["2026-12-31", "2027-01-04"]
    assert found[-1].period.start.isoformat() == "2026-12-31T17:00:00+07:00"


@pytest.mark.parametrize("now, label", [
    ("2026-12-21T16:59:00+07:00", "2026-12-18"),   # Monday before its close: Friday's is the latest
    ("2026-12-21T17:00:00+07:00", "2026-12-21"),
    ("2026-12-20T10:00:00+07:00", "2026-12-18"),   # a Sunday
])
def test_the_first_check_makes_the_latest_working_day_only(now, label):
    [found] = due_since(get_pack("soc-trang-2022"), daily("soc-trang-2022"), None, _at(now))
    assert found.period.label == label


def test_nothing_due_again_before_the_next_close():
    pack = get_pack("soc-trang-2023")
    assert due_since(pack, daily(pack.id), _at("2026-12-21T17:00:00+07:00"), _at("2026-12-22T16:00:00+07:00")) == []


def test_the_rating_service_makes_the_flash_reports_of_working_days_only():
    from tests.unit.test_scorecards import system_of
    rating_service, store = system_of([], [])
    clock.set_clock(FixedClock(_at("2026-12-17T18:00:00+07:00")))                # Thursday after the close
    try:
        rating_service.make_due_reports()
        clock.get_clock().advance(5 * 86400)                                     # to Tuesday 22/12, 18:00
        rating_service.make_due_reports()
    finally:
        clock.set_clock(None)
    made = [doc for doc in store.periodic_list("soc-trang-2022") if doc["kind"] == "daily"]
    assert sorted(doc["period"] for doc in made) == ["2026-12-17", "2026-12-18", "2026-12-21", "2026-12-22"]
    assert all(doc["partial"] is False and doc["due"] == doc["end"] for doc in made)
    assert not any(doc["kind"] == "daily" for doc in store.periodic_list("thua-thien-hue-2022"))
