"""What each agency did in a period, read from the reports' timelines (intake's share of the scorecards; the sla
service counts the missed deadlines). Nothing is counted on the side: a rerun for a past period gives the same."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

from paht.schemas import reporter_key
from paht.states import RESULT_DELIVERED, STATES, TERMINAL

OPEN_STATES = [state for state in STATES if state not in TERMINAL]
# the states a report is in only once it passed acceptance (a follow-up in any of them, ever, was accepted)
ACCEPTED_STATES = frozenset(STATES) - {"submitted", "needs_supplement", "rejected", "cancelled",
                                       "forwarded_for_monitoring"}

# counters this module computes; the sla service adds late_count, on_time, late_returns_count,
# extended_without_result
COUNTERS = ("received", "resolved", "returns_count", "extended_count", "results_count", "rework_count",
            "corrective_directives", "missed_hotline_calls", "interactions_count", "unanswered_interactions",
            "late_over_limit_count", "repeat_violations", "rereported_over_3", "rated_count",
            "unanswered_call_violations")


# what the counters read of a report (agency_counters, _walk, _follow_ups; of a followed report also its reporter,
# for counted_follow_ups, and its assignments, for its lead): the rest of it (facts, deadlines, the published
# result, media…) is most of its size and never counted
FIELDS = {"state": 1, "urgent": 1, "timeline": 1, "rating": 1, "reporter": 1, "assigned_agencies": 1}


def relevant_query(pack: str, start: datetime, end: datetime) -> list[dict]:
    """Store queries for the reports whose timeline can count in [start, end): touched since `start`, or still
    open (an open report may cross the processing limit without anything happening to it)."""
    return [{"pack": pack, "submitted_at": {"$lt": end}, "updated_at": {"$gte": start}},
            {"pack": pack, "submitted_at": {"$lt": end}, "state": {"$in": OPEN_STATES}}]


def counted_follow_ups(followed: dict, follow_ups: list[dict]) -> list[datetime]:
    """The follow-ups of `followed` that count as it being reported again: ST-23 Điều 17 khoản 2 "bị người phản
    ánh phản ánh lại" — filed by the same reporter (the followed report's reporter key; a report whose reporter
    data retention forgot matches no one) and accepted (it passed acceptance: a rejected duplicate, test or
    prohibited submission, or one still waiting for a supplement, is no report). Their submission times."""
    key = reporter_key(followed.get("reporter") or {})
    if key is None:
        return []
    return [_at(f["submitted_at"]) for f in follow_ups
            if reporter_key(f.get("reporter") or {}) == key and _was_accepted(f)]


def _was_accepted(report: dict) -> bool:
    return report.get("state") in ACCEPTED_STATES or any(
        entry.get("to") in ACCEPTED_STATES or entry.get("from") in ACCEPTED_STATES
        for entry in report.get("timeline") or [])


def missed_calls_query(pack: str, end: datetime) -> dict:
    """The reports of a pack on which the centre recorded an unanswered call before `end`, however long ago."""
    return {"pack": pack, "submitted_at": {"$lt": end}, "timeline.kind": "missed_call"}


def _at(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def unanswered_call_violations(reports, calls_needed: int,
                               window_end: Callable[[datetime], datetime]) -> list[tuple[str, datetime]]:
    """"Gọi 3 lần không bắt máy trong thời gian 3 ngày sẽ vi phạm quy định này" (TTH Điều 12 khoản 2, VL Điều 13
    khoản 2 điểm c): each agency's unanswered calls of the centre (`missed_call`, on any report), oldest first;
    `calls_needed` of them within the window (the last no later than `window_end(first)`: the pack's
    `unanswered_calls_window` added in its calendar, so "3 ngày" or "3 ngày làm việc" alike) are one violation, at the
    moment of the last; a call counts in one violation only (the next needs as many new calls). Taken from the
    agency's whole history, so a window that began in the previous period counts. → [(agency, at), …]"""
    calls: dict[str, list[datetime]] = defaultdict(list)
    for report in reports:
        for entry in report.get("timeline") or []:
            if entry["kind"] == "missed_call" and (entry.get("detail") or {}).get("agency"):
                calls[entry["detail"]["agency"]].append(_at(entry["at"]))
    found = []
    for agency, times in calls.items():
        times.sort()
        first = 0
        while first + calls_needed <= len(times):
            last = times[first + calls_needed - 1]
            if last <= window_end(times[first]):
                found.append((agency, last))
                first += calls_needed
            else:
                first += 1
    return found


def agency_counters(reports, followers: dict[str, list[datetime]], leads: dict[str, str | None], start: datetime,
                    end: datetime, now: datetime, limit_reached=None,
                   unanswered_calls=None, limit_skips_urgent: bool = False) -> dict[str, dict]:
    """Counters per agency for [start, end).

    `followers[report_id]` are the submission times of the reports filed as follow-ups of that report (`follows`)
    that count (`counted_follow_ups`: the same reporter's, accepted);
    `leads[report_id]` the lead agency of a followed report; `limit_reached(received_at)` the moment a report
    received then runs past the pack's `late_report_limit` (None: the pack sets none); `unanswered_calls` is
    (the reports with a `missed_call`, ever, the calls, the window's end from its first call) where the pack counts
    unanswered calls
    (`unanswered_call_violations`); `limit_skips_urgent`: an urgent report is not timed against that limit (the
    pack's `late_report_limit_skips_urgent`: ST-23 Điều 19 Bước 2 gives its processing no time of the system's).
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    rated: dict[str, Counter] = defaultdict(Counter)

    def count(agency, name, when):
        if agency and start <= when < end:
            counts[agency][name] += 1

    for report in reports:
        timed = None if limit_skips_urgent and report.get("urgent") else limit_reached
        _walk(report, count, rated, start, end, now, timed)
        _follow_ups(report, followers.get(report["_id"]), leads.get(report["_id"]), count, start, end)
    if unanswered_calls is not None:
        call_reports, calls_needed, window_end = unanswered_calls
        for agency, at in unanswered_call_violations(call_reports, calls_needed, window_end):
            count(agency, "unanswered_call_violations", at)
    cards = {}
    for agency in set(counts) | set(rated):
        card = {name: counts[agency][name] for name in COUNTERS}
        card["rated_count"] = sum(rated[agency].values())
        card["rated_by"] = dict(rated[agency])
        cards[agency] = card
    return cards


def _walk(report: dict, count, rated, start, end, now, limit_reached) -> None:
    lead, received_at, crossing_counted, updating = None, None, False, False
    interactions: dict[str, datetime] = {}
    replied: dict[str, datetime] = {}
    for entry in report.get("timeline") or []:
        kind, at, detail = entry["kind"], _at(entry["at"]), entry.get("detail") or {}
        actor_agency = (entry.get("actor") or {}).get("agency")
        if kind in ("routed", "designated"):
            lead, received_at, crossing_counted = detail.get("lead"), at, False
            count(lead, "received", at)
        elif kind == "returned":
            count(actor_agency, "returns_count", at)
            crossing_counted = _crossing(lead, received_at, at, count, limit_reached, crossing_counted)
            lead, received_at = None, None
        elif kind == "extended":
            count(actor_agency or lead, "extended_count", at)
        elif kind == "result_submitted":
            count(actor_agency or lead, "results_count", at)
            crossing_counted = _crossing(lead, received_at, at, count, limit_reached, crossing_counted)
        elif kind == "rework_requested" and detail.get("kind") == "content":
            count(lead, "rework_count", at)      # "kết quả xử lý không đảm bảo nội dung"
        elif kind == "reopened":
            # an update of a returned result (TTH Điều 11 khoản 4, VL Điều 12 khoản 4 điểm b): the report was
            # resolved already and its processing is not timed again against the reporting limit
            received_at, updating = None, True
        elif kind == "sanction_procedure_started":   # its time is the sanction procedure's (TTH Đ11 k2, VL Đ12 k2 b…)
            received_at = None
        elif kind in RESULT_DELIVERED:
            if not updating:
                count(lead, "resolved", at)
            updating = False
        elif kind == "directive":
            count(detail.get("agency") or lead, "corrective_directives", at)
        elif kind == "missed_call":
            count(detail.get("agency") or lead, "missed_hotline_calls", at)
        elif kind == "interaction":
            interactions[entry.get("event_id")] = at
            count(lead, "interactions_count", at)
        elif kind == "interaction_replied":
            replied[detail.get("interaction_id")] = at
    if report.get("state") not in TERMINAL:
        _crossing(lead, received_at, None, count, limit_reached, crossing_counted, now)
    for interaction_id, at in interactions.items():
        if start <= at < end and not (interaction_id in replied and replied[interaction_id] < end):
            count(lead, "unanswered_interactions", at)
    rating = report.get("rating")
    if rating and lead and start <= _at(rating["at"]) < end:
        rated[rating.get("agency") or lead][rating.get("counts_as", "unknown")] += 1


def _crossing(lead, received_at, finished_at, count, limit_reached, counted, now=None) -> bool:
    """A report whose processing ran past the reporting limit counts once, in the period it crossed the limit."""
    if counted or lead is None or received_at is None or limit_reached is None:
        return counted
    crossing = limit_reached(received_at)
    if finished_at is not None and finished_at <= crossing:
        return counted
    if now is not None and crossing > now:
        return counted
    count(lead, "late_over_limit_count", crossing)
    return True


def _follow_ups(report: dict, times: list[datetime] | None, lead: str | None, count, start, end) -> None:
    """Reports filed again by their reporter (`follows`, the counted ones): after the result was published the
    problem came back ("vi phạm được lặp lại", whose rate is over the agency's resolved reports); more than 3
    re-reports is its own count ("phản ánh lại quá 03 lần", ST-23 Điều 17 khoản 2)."""
    if not times or lead is None:
        return
    resolved_at = next((_at(e["at"]) for e in report.get("timeline") or []
                        if e["kind"] in RESULT_DELIVERED), None)
    times = sorted(times)
    after_result = [t for t in times if resolved_at is not None and t > resolved_at]
    if after_result:
        count(lead, "repeat_violations", after_result[0])
    if len(times) > 3:
        count(lead, "rereported_over_3", times[3])


def referrals_query(pack: str, end: datetime) -> dict:
    return {"pack": pack, "submitted_at": {"$lt": end}, "province_referrals": {"$exists": True}}


def province_referrals(reports, start: datetime, end: datetime) -> list[dict]:
    """The centre's reports of single reports to the UBND made in [start, end) (publishing's `refer_to_province`:
    the packs' Điều 3/4 principles, VL Điều 20 khoản 1 điểm d, ST-22 Điều 28 khoản 2), oldest first: a line each
    of the periodic report. No letter text, no reporter data."""
    found = []
    for report in reports:
        for referral in report.get("province_referrals") or []:
            at = _at(referral["at"])
            if start <= at < end:
                found.append({"report_id": report["_id"], "at": at, "number": referral.get("number"),
                              **{key: referral.get(key) for key in ("reason", "article", "to", "agencies")}})
    return sorted(found, key=lambda item: (item["at"], item["report_id"]))
