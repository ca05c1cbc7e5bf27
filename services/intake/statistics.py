"""The province's counts for the centre's console (the gateway's /centre/): the reports a staff user may see that
were submitted in a period, by state, category and ward, how many were resolved and how many of those in time,
the reporters' ratings, and the same month by month for a trend. Counts only: no report, reporter or staff data
leaves here. The months are the pack's reporting months (its time zone and `reports.cutoff_day`, paht.periods)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from paht import periods
from paht.states import RESULT_DELIVERED

# what a count reads of a report
PROJECTION = {"state": 1, "category": 1, "ward": 1, "submitted_at": 1, "deadlines": 1, "rating": 1}


def months(pack, until: datetime, count: int) -> list[periods.Period]:
    """The `count` reporting months up to the one `until` falls in (`until` exclusive), oldest first."""
    if count <= 0:
        return []
    tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
    cutoff = (pack.meta.get("reports") or {}).get("cutoff_day")
    month = periods.containing("month", until - timedelta(microseconds=1), tz, cutoff)
    found = [month]
    while len(found) < count:
        month = periods.previous(month, tz, cutoff)
        found.append(month)
    return found[::-1]


def _at(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _late(report: dict) -> bool:
    return any(d.get("late") for d in (report.get("deadlines") or {}).values())


class _Tally:
    def __init__(self):
        self.received = self.resolved = self.resolved_on_time = self.late = 0
        self.rated: Counter = Counter()

    def add(self, report: dict) -> None:
        self.received += 1
        late = _late(report)
        self.late += late
        if report.get("state") in RESULT_DELIVERED:
            self.resolved += 1
            self.resolved_on_time += not late
        rating = report.get("rating") or {}
        if rating.get("counts_as"):
            self.rated[rating["counts_as"]] += 1

    def view(self) -> dict:
        rated = sum(self.rated.values())
        return {"received": self.received, "resolved": self.resolved, "resolved_on_time": self.resolved_on_time,
                "late": self.late, "rated": rated, "rated_by": dict(self.rated),
                "on_time_rate": round(self.resolved_on_time / self.resolved, 4) if self.resolved else None,
                "satisfied_rate": round(self.rated["satisfied"] / rated, 4) if rated else None}


def report_statistics(reports, since: datetime, until: datetime, trend: list[periods.Period]) -> dict:
    """Counts of the reports submitted in [since, until) — `totals` (received; resolved: the result published
    or delivered privately; resolved_on_time: resolved with no deadline missed; late: any deadline missed; rated
    and rated_by the rating's `counts_as`; on_time_rate = resolved_on_time / resolved; satisfied_rate = satisfied
    / rated; a rate of nothing is None), `by_state`, `by_category` (None: not classified), `by_ward` (most first;
    `unlocated`: reports without a ward) — and the same totals for each month of `trend`."""
    totals, by_state, by_category, wards = _Tally(), Counter(), Counter(), {}
    unlocated = 0
    buckets = [(month, _Tally()) for month in trend]
    for report in reports:
        submitted = _at(report["submitted_at"])
        for month, tally in buckets:
            if month.contains(submitted):
                tally.add(report)
                break
        if not since <= submitted < until:
            continue
        totals.add(report)
        by_state[report.get("state")] += 1
        by_category[report.get("category")] += 1
        ward = report.get("ward") or {}
        if ward.get("code"):
            entry = wards.setdefault(ward["code"], {"code": ward["code"], "name": ward.get("name"), "count": 0})
            entry["count"] += 1
        else:
            unlocated += 1
    return {
        "since": since, "until": until, "totals": totals.view(), "by_state": dict(by_state),
        "by_category": [{"category": category, "count": n} for category, n in
                        sorted(by_category.items(), key=lambda item: (-item[1], item[0] or ""))],
        "by_ward": sorted(wards.values(), key=lambda w: (-w["count"], w["name"] or "", w["code"])),
        "unlocated": unlocated,
        "months": [dict(tally.view(), month=month.label, start=month.start, end=month.end)
                   for month, tally in buckets],
    }
