"""Working time for Vietnamese deadlines: office hours, public holidays (incl. Tết), government day swaps.

Units: `min`, `h`, `d` are calendar time; `wh` counts only office hours of working days; `wd` is that many office
days of working time (so 6 wd from Thursday 10:00 ends at 10:00 on the sixth working day after). Working time
that starts outside office hours starts at the next opening.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UNITS = ("min", "h", "d", "wh", "wd")
DEFAULT_OFFICE_HOURS = (("07:30", "11:30"), ("13:30", "17:00"))
_SWAP = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@lru_cache(maxsize=64)
def _vn_holidays(year: int) -> tuple[dict, frozenset]:
    """Public holidays of a year, and the weekend days worked in exchange for a day off (government swaps)."""
    days = holidays.country_holidays("VN", years=year, language="en_US")
    worked = set()
    for name in days.values():
        for match in _SWAP.finditer(name):
            month, day, swap_year = (int(g) for g in match.groups())
            worked.add(date(swap_year, month, day))
    return dict(days), frozenset(worked)


class WorkCalendar:
    def __init__(self, office_hours=DEFAULT_OFFICE_HOURS, timezone: str = "Asia/Ho_Chi_Minh",
                 extra_days_off=(), extra_working_days=()):
        self.tz = ZoneInfo(timezone)
        self.intervals = tuple(sorted((_minutes(a), _minutes(b)) for a, b in office_hours))
        if not self.intervals or any(a >= b for a, b in self.intervals):
            raise ValueError(f"bad office hours {office_hours}")
        self.day_minutes = sum(b - a for a, b in self.intervals)
        self.extra_days_off = frozenset(_as_date(d) for d in extra_days_off)
        self.extra_working_days = frozenset(_as_date(d) for d in extra_working_days)
        self._working = {}

    # days
    def holiday_name(self, day: date) -> str | None:
        return _vn_holidays(day.year)[0].get(day)

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = self._compute_working(day)
        return known

    def _compute_working(self, day: date) -> bool:
        if day in self.extra_days_off:
            return False
        days_off, swapped_in = _vn_holidays(day.year)
        if day in self.extra_working_days or day in swapped_in:
            return True
        return day.weekday() < 5 and day not in days_off

    def previous_working_day(self, day: date) -> date:
        for _ in range(400):
            day -= timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day within 400 days")

    def day_close(self, day: date) -> datetime:
        """When the day's office hours end ("cuối ngày làm việc")."""
        return self._at(day, self.intervals[-1][1])

    # instants
    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("an instant needs a time zone offset")
        return instant.astimezone(self.tz)

    def _at(self, day: date, minute: int) -> datetime:
        return datetime.combine(day, time(0), self.tz) + timedelta(minutes=minute)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        local = self._local(start)
        if unit == "min":
            return local + timedelta(minutes=amount)
        if unit == "h":
            return local + timedelta(hours=amount)
        if unit == "d":
            return local + timedelta(days=amount)
        if unit == "wh":
            return self._add_working(local, amount * 60)
        if unit == "wd":
            return self._add_working(local, amount * self.day_minutes)
        raise ValueError(f"unknown unit {unit!r}; one of {', '.join(UNITS)}")

    def _add_working(self, local: datetime, minutes: float) -> datetime:
        if minutes < 0:
            raise ValueError("working time only adds forward")
        day = local.date()
        now_minute = (local - self._at(day, 0)).total_seconds() / 60
        remaining = minutes
        while True:
            if self.is_working_day(day):
                if now_minute <= self.intervals[0][0] and remaining > self.day_minutes:
                    remaining -= self.day_minutes      # a whole office day at once
                else:
                    for begin, end in self.intervals:
                        if now_minute >= end:
                            continue
                        since = max(now_minute, begin)
                        available = end - since
                        if remaining <= available:
                            return self._at(day, 0) + timedelta(minutes=since + remaining)
                        remaining -= available
                        now_minute = end
            day += timedelta(days=1)
            now_minute = 0

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        a, b = self._local(start), self._local(end)
        if b <= a:
            return timedelta(0)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                midnight = self._at(day, 0)
                lo = (a - midnight).total_seconds() / 60 if day == a.date() else 0
                hi = (b - midnight).total_seconds() / 60 if day == b.date() else 24 * 60
                for begin, finish in self.intervals:
                    total += max(0.0, min(hi, finish) - max(lo, begin))
            day += timedelta(days=1)
        return timedelta(minutes=total)

    def next_opening(self, instant: datetime) -> datetime:
        local = self._local(instant)
        day = local.date()
        minute = (local - self._at(day, 0)).total_seconds() / 60
        for _ in range(400):
            if self.is_working_day(day):
                for begin, end in self.intervals:
                    if minute < end:
                        return local if minute >= begin else self._at(day, begin)
            day += timedelta(days=1)
            minute = 0
        raise ValueError("no working day within 400 days")

    def within_windows(self, instant: datetime, windows) -> bool:
        """Whether the local time of day falls in one of `windows` ([["07:30", "24:00"]]); no windows = always."""
        if not windows:
            return True
        local = self._local(instant)
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(_minutes(a) <= minute < _minutes(b) for a, b in windows)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@lru_cache(maxsize=32)
def _calendar(office_hours: tuple, timezone: str, days_off: tuple, working: tuple) -> WorkCalendar:
    return WorkCalendar(office_hours, timezone, days_off, working)


def calendar_for(pack_meta: dict, agency: dict | None = None) -> WorkCalendar:
    """The calendar of a pack (pack.yaml: office_hours, timezone, day_swaps). With `agency` (an entry of the pack's
    agencies.yaml), that agency's own `office_hours` where it has them: a utility or a central agency outside the
    province's administration keeps its own hours, on the pack's working days (issue 24 item 3)."""
    swaps = pack_meta.get("day_swaps") or {}
    hours = (agency or {}).get("office_hours") or pack_meta.get("office_hours") or DEFAULT_OFFICE_HOURS
    return _calendar(tuple(tuple(pair) for pair in hours),
                     pack_meta.get("timezone") or "Asia/Ho_Chi_Minh",
                     tuple(str(d) for d in swaps.get("extra_days_off") or ()),
                     tuple(str(d) for d in swaps.get("extra_working_days") or ()))


def intake_opening(pack_meta: dict, at: datetime) -> datetime:
    """`at` when the pack receives normal reports then, else the next opening: pack.yaml `intake.normal_windows`
    (local times of day; none = always) on every day, or on working days only with `intake.working_days_only`
    (ST-23 Điều 8 khoản 2: "trong giờ hành chính"). Routing holds reports by it; the sla service starts the
    receiving steps' clocks by it."""
    intake = pack_meta.get("intake") or {}
    windows = intake.get("normal_windows")
    if not windows:
        return at
    calendar = calendar_for(pack_meta)
    local = at.astimezone(calendar.tz)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    spans = sorted((_minutes(a), _minutes(b)) for a, b in windows)
    for offset in range(400):
        day = local.date() + timedelta(days=offset)
        if intake.get("working_days_only") and not calendar.is_working_day(day):
            continue
        for begin, end in spans:
            if offset == 0 and minute >= end:
                continue
            if offset == 0 and minute >= begin:
                return at
            return datetime.combine(day, time(0), calendar.tz) + timedelta(minutes=begin)
    return at
