"""Working-time arithmetic over real dates (Asia/Ho_Chi_Minh, office 07:30–11:30 and 13:30–17:00)."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paht.worktime import WorkCalendar, calendar_for

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = timezone(timedelta(hours=7))
CAL = WorkCalendar()


def vn(*args):
    return datetime(*args, tzinfo=VN)


@pytest.mark.parametrize("start,amount,unit,due,why", [
    (vn(2026, 11, 20, 16, 30), 1, "wh", vn(2026, 11, 23, 8, 0), "Friday 16:30 + 1 wh: 30 min Friday, 30 Monday"),
    (vn(2026, 11, 19, 10, 0), 6, "wd", vn(2026, 11, 30, 10, 0), "6 wd from Thu 19/11: 20, 23, 25, 26, 27, 30 (24/11 off)"),
    (vn(2027, 2, 3, 10, 0), 2, "wd", vn(2027, 2, 12, 10, 0), "Tết 2027: 4–10 Feb off, so Wed 3 → Thu 11 → Fri 12"),
    (vn(2026, 4, 29, 9, 0), 1, "wd", vn(2026, 5, 4, 9, 0), "30/4 and 1/5 off, then the weekend"),
    (vn(2026, 8, 21, 16, 0), 2, "wh", vn(2026, 8, 22, 8, 30), "Saturday 22/8/2026 is worked (swapped for 31/8)"),
    (vn(2026, 8, 28, 16, 0), 2, "wh", vn(2026, 9, 3, 8, 30), "31/8 (swap), 1/9, 2/9 off"),
    (vn(2026, 11, 23, 20, 0), 30, "min", vn(2026, 11, 23, 20, 30), "calendar minutes ignore office hours"),
    (vn(2026, 11, 23, 12, 0), 1, "wh", vn(2026, 11, 23, 14, 30), "lunch break does not count"),
    (vn(2026, 11, 21, 9, 0), 1, "wh", vn(2026, 11, 23, 8, 30), "Saturday start: clock starts Monday 07:30"),
])
def test_add(start, amount, unit, due, why):
    assert CAL.add(start, amount, unit) == due, why


def test_supplement_timeouts_differ_by_pack_units():
    start = vn(2026, 11, 20, 15, 0)   # a Friday afternoon
    assert CAL.add(start, 48, "h") == vn(2026, 11, 22, 15, 0)    # Sóc Trăng: 48 hours
    assert CAL.add(start, 2, "d") == vn(2026, 11, 22, 15, 0)     # Huế: 2 days
    assert CAL.add(start, 2, "wd") == vn(2026, 11, 25, 15, 0)    # Vĩnh Long: 2 working days (24/11 is off)


def test_cultural_day_and_tet_are_holidays():
    assert not CAL.is_working_day(vn(2026, 11, 24).date())
    assert CAL.holiday_name(vn(2027, 2, 6).date())
    assert CAL.is_working_day(vn(2026, 8, 22).date()) and not CAL.is_working_day(vn(2026, 8, 31).date())


def test_other_offsets_are_converted():
    utc = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)       # 16:30 in Vietnam
    tokyo = datetime(2026, 11, 20, 18, 30, tzinfo=timezone(timedelta(hours=9)))
    assert CAL.add(utc, 1, "wh") == CAL.add(tokyo, 1, "wh") == vn(2026, 11, 23, 8, 0)
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 11, 20, 9, 30), 1, "wh")


def test_elapsed_counts_office_time_only():
    assert CAL.elapsed(vn(2026, 11, 20, 16, 30), vn(2026, 11, 23, 8, 0)) == timedelta(hours=1)
    assert CAL.elapsed(vn(2026, 11, 23, 7, 30), vn(2026, 11, 23, 17, 0)) == timedelta(hours=7.5)
    assert CAL.elapsed(vn(2026, 11, 23, 17, 0), vn(2026, 11, 23, 9, 0)) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1)),
       st.integers(min_value=1, max_value=200))
def test_elapsed_inverts_add(start, quarter_hours):
    start = start.replace(tzinfo=VN, microsecond=0, second=0)
    opening = CAL.next_opening(start)
    due = CAL.add(start, quarter_hours / 4, "wh")
    assert CAL.elapsed(opening, due) == timedelta(minutes=15 * quarter_hours)


def test_intake_windows():
    hue_normal = [["07:30", "24:00"]]          # 00:00–07:30 only urgent
    assert not CAL.within_windows(vn(2026, 11, 23, 3, 0), hue_normal)
    assert CAL.within_windows(vn(2026, 11, 23, 23, 59), hue_normal)
    soc_trang_normal = [["07:30", "17:00"]]    # 17:00–07:30 only urgent
    assert not CAL.within_windows(vn(2026, 11, 23, 17, 0), soc_trang_normal)
    assert CAL.within_windows(vn(2026, 11, 23, 7, 30), soc_trang_normal)
    assert CAL.within_windows(vn(2026, 11, 23, 3, 0), None)


def test_pack_day_swaps():
    cal = calendar_for({"day_swaps": {"extra_days_off": ["2026-12-31"], "extra_working_days": ["2026-12-26"]}})
    assert not cal.is_working_day(vn(2026, 12, 31).date())
    assert cal.is_working_day(vn(2026, 12, 26).date())
