"""The instants the suite is run from (`PAHT_CLOCK_START`, which the controlled clock reads): each one a date on
which calendar code has gone wrong somewhere. `make test` runs the calendar-sensitive tests from every one of
them; `PAHT_CLOCK_START=<instant> make test` runs the whole suite from one."""
from __future__ import annotations

import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from paht import settings

VN = ZoneInfo("Asia/Ho_Chi_Minh")

INSTANTS = {
    "saturday-night": "2027-03-06T22:30:00+07:00",   # intake windows closed until Monday 07:30
    "new-year-eve": "2026-12-31T23:50:00+07:00",     # a year, a quarter and a month end in ten minutes
    "tet-eve": "2027-02-02T17:30:00+07:00",          # the last working day before Tết (04–10/02/2027) is next
    "leap-day": "2028-02-28T23:00:00+07:00",         # 29/02/2028 in the first working day's deadlines
    "swap-saturday": "2026-08-21T18:00:00+07:00",    # Saturday 22/08/2026 is worked (for Monday 31/08)
}


def suite_start() -> datetime:
    """Where this run's time starts: PAHT_CLOCK_START, else now."""
    return settings.clock_start() or datetime.now(VN)


def office_morning(calendars) -> datetime:
    """The first Tuesday–Thursday 09:00 after the suite's start that is a working day in every calendar: the tests
    that need office hours run in them whatever the instant (intake windows hold night reports until morning)."""
    start = suite_start().astimezone(VN)
    day = start.date()
    while True:
        morning = datetime.combine(day, time(9, 0), VN)
        if morning > start and day.isoweekday() in (2, 3, 4) and all(c.is_working_day(day) for c in calendars):
            return morning
        day += timedelta(days=1)


if __name__ == "__main__":   # the Makefile's list
    print(" ".join(INSTANTS.values()) if sys.argv[1:] == ["values"] else "\n".join(INSTANTS))
