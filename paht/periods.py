"""Reporting periods: `YYYY-MM-DD`, `YYYY-Www` (ISO week), `YYYY-MM`, `YYYY-Qn`, `YYYY`, as [start, end) in the
pack's time zone. A pack whose regulation adopts NĐ 09/2019/NĐ-CP Điều 12 sets `reports.cutoff_day: 14`: its
month then runs from the 15th of the previous month to the 14th (November 2026 = 15/10–14/11/2026), a quarter from
the 15th of the month before it to the 14th of its last month, a year from 15/12 of the year before to 14/12."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KINDS = ("day", "week", "month", "quarter", "year")
_FORMS = [
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("year", re.compile(r"^(\d{4})$")),
]


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: datetime
    end: datetime   # exclusive

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def _month_start(year: int, month: int, cutoff: int | None) -> date:
    """The first day of month `month`'s data period."""
    if not cutoff:
        return date(year, month, 1)
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return date(year, month, cutoff + 1)


def _bounds(kind: str, numbers: tuple[int, ...], cutoff: int | None) -> tuple[date, date]:
    if kind == "day":
        day = date(*numbers)
        return day, day + timedelta(days=1)
    if kind == "week":
        monday = date.fromisocalendar(numbers[0], numbers[1], 1)
        return monday, monday + timedelta(days=7)
    if kind == "month":
        year, month = numbers
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        return _month_start(year, month, cutoff), _month_start(*following, cutoff)
    if kind == "quarter":
        year, quarter = numbers
        first = 3 * (quarter - 1) + 1
        following = (year + 1, 1) if quarter == 4 else (year, first + 3)
        return _month_start(year, first, cutoff), _month_start(*following, cutoff)
    year = numbers[0]
    return _month_start(year, 1, cutoff), _month_start(year + 1, 1, cutoff)


def parse(label: str, tz: str, cutoff: int | None = None) -> Period:
    for kind, form in _FORMS:
        match = form.match(label or "")
        if match:
            try:
                start, end = _bounds(kind, tuple(int(g) for g in match.groups()), cutoff)
            except ValueError as exc:
                raise BadPeriod(f"{label}: {exc}") from None
            zone = ZoneInfo(tz)
            return Period(kind, label, datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone))
    raise BadPeriod(f"{label!r}: expected YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn or YYYY")


def containing(kind: str, instant: datetime, tz: str, cutoff: int | None = None) -> Period:
    """The period of `kind` that `instant` falls in."""
    local = instant.astimezone(ZoneInfo(tz)).date()
    if kind == "day":
        return parse(local.isoformat(), tz, cutoff)
    if kind == "week":
        iso = local.isocalendar()
        return parse(f"{iso.year}-W{iso.week:02d}", tz, cutoff)
    year, month = local.year, local.month
    if cutoff and local.day > cutoff:     # past the cut-off: the data belongs to next month's period
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if kind == "month":
        return parse(f"{year}-{month:02d}", tz, cutoff)
    if kind == "quarter":
        return parse(f"{year}-Q{(month - 1) // 3 + 1}", tz, cutoff)
    return parse(f"{year}", tz, cutoff)


def previous(period: Period, tz: str, cutoff: int | None = None) -> Period:
    return containing(period.kind, period.start - timedelta(seconds=1), tz, cutoff)
