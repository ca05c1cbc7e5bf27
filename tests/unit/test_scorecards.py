"""Per-period agency scorecards, per pack, on a controlled clock (issue 12): a month with known late, extended,
returned, reworked, unanswered, re-reported and rated reports gives exactly the expected counters, the pack's
report-to-province findings, and — over the year — its "Hoàn thành xuất sắc" criteria, each with its article.

The services run as classes with nameko's worker_factory on in-memory stores (no broker): intake's timeline
counters, the sla service's missed deadlines, and the rating service composing them and evaluating the pack."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from nameko.testing.services import worker_factory
from openpyxl import load_workbook

from paht import clock, periods, storage
from paht.clock import FixedClock
from paht.rules import get_pack
from services.intake.dependencies import ReportStore
from services.intake.service import IntakeService
from services.rating.dependencies import RatingStore
from services.rating.periodic import SHEETS, cutoff, due_since, to_xlsx
from services.rating.service import RatingService
from services.sla.dependencies import DeadlineStore
from services.sla.service import SlaService

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

A, B = "so-xay-dung", "cap-nuoc"
# (report_to_province in the month, not_eligible_excellent over the year, report_to_province over the year)
EXPECTED = {
    "soc-trang-2022": ({"st22-pen-report-late", "st22-pen-report-extended", "st22-pen-report-satisfaction"},
                       {"st22-pen-excellent-directives", "st22-pen-excellent-satisfaction",
                        "st22-pen-excellent-unanswered", "st22-pen-excellent-hotline", "st22-pen-excellent-late-returns",
                        "st22-pen-excellent-substandard", "st22-pen-excellent-repeat"},
                       {"st22-pen-report-late", "st22-pen-report-extended", "st22-pen-report-satisfaction"}),
    "soc-trang-2023": ({"st23-pen-report-late", "st23-pen-report-extended", "st23-pen-report-satisfaction",
                        "st23-pen-report-rereported"},
                       {"st23-pen-excellent-directives", "st23-pen-excellent-satisfaction",
                        "st23-pen-excellent-unanswered", "st23-pen-excellent-late-returns",
                        "st23-pen-excellent-substandard", "st23-pen-excellent-repeat"},
                       set()),                                  # "định kỳ hàng tháng": monthly only
    "thua-thien-hue-2022": ({"tth-pen-report-late", "tth-pen-report-extended", "tth-pen-report-satisfaction",
                             "tth-pen-report-unanswered-calls"},
                            {"tth-pen-excellent-directives", "tth-pen-excellent-unanswered",
                             "tth-pen-excellent-hotline", "tth-pen-excellent-centre-calls",
                             "tth-pen-excellent-late-returns", "tth-pen-excellent-substandard",
                             "tth-pen-excellent-repeat"},        # "hài lòng và chấp nhận" is 100 % here
                            {"tth-pen-report-late", "tth-pen-report-extended", "tth-pen-report-satisfaction",
                             "tth-pen-report-unanswered-calls"}),
    "vinh-long-2025": ({"vl25-pen-report-late", "vl25-pen-report-extended", "vl25-pen-report-satisfaction",
                        "vl25-pen-report-unanswered-calls"}, set(),
                       {"vl25-pen-report-late", "vl25-pen-report-extended", "vl25-pen-report-satisfaction",
                        "vl25-pen-report-unanswered-calls"}),
    "tay-ninh-2024": (set(), set(), set()),
}
MONTH = "2026-06"


def entry(at, kind, to, frm, actor=None, detail=None, event_id=None):
    return {"at": at, "kind": kind, "source": "test", "from": frm, "to": to, "actor": actor or {},
            "detail": detail or {}, "event_id": event_id}


def report(rid, pack, submitted, timeline, state, lead, **extra):
    return {"_id": rid, "pack": pack, "state": state, "submitted_at": submitted,
            "updated_at": max(e["at"] for e in timeline), "timeline": timeline,
            "assigned_agencies": [{"id": lead, "role": "lead"}] if lead else []} | extra


def handled(rid, pack, base, lead, published_after=None, rework=False, interaction=None, replied=None):
    """A report routed to `lead` at `base`, acknowledged, and (with published_after) resolved."""
    timeline = [entry(base - timedelta(minutes=5), "submitted", "submitted", None),
                entry(base, "routed", "dispatched", "accepted", detail={"lead": lead}),
                entry(base + timedelta(minutes=20), "acknowledged", "in_progress", "dispatched", {"agency": lead})]
    if interaction:
        timeline.append(entry(base + interaction, "interaction", "in_progress", "in_progress", {"role": "reporter"},
                              {"message": "Bao giờ sửa?"}, f"i-{rid}"))
    if replied:
        timeline.append(entry(base + replied, "interaction_replied", "in_progress", "in_progress",
                              {"role": "agency_staff", "agency": lead}, {"interaction_id": f"i-{rid}", "note": "Đang"}))
    if published_after is None:
        return report(rid, pack, base - timedelta(minutes=5), timeline, "in_progress", lead)
    done = base + published_after
    timeline.append(entry(done, "result_submitted", "result_submitted", "in_progress", {"agency": lead}))
    timeline.append(entry(done + timedelta(hours=1), "approved", "approved", "result_submitted", {"agency": lead}))
    if rework:
        timeline.append(entry(done + timedelta(hours=2), "rework_requested", "in_progress", "approved",
                              {"role": "operator"}, {"kind": "content"}))
        done += timedelta(hours=3)
        timeline.append(entry(done, "result_submitted", "result_submitted", "in_progress", {"agency": lead}))
        timeline.append(entry(done + timedelta(hours=1), "approved", "approved", "result_submitted", {"agency": lead}))
    timeline.append(entry(done + timedelta(hours=2), "published", "published", "approved", {"role": "operator"}))
    return report(rid, pack, base - timedelta(minutes=5), timeline, "published", lead)


def rating(pack, counts_as, at, agency):
    level = next((lv for lv in pack.rating_levels() if lv["counts_as"] == counts_as),
                 next(lv for lv in pack.rating_levels() if lv["counts_as"] == "unsatisfied"))
    return {"level": level["id"], "label": level["label"], "counts_as": level["counts_as"], "at": at.isoformat(),
            "agency": agency}


def month_of(pack_id):
    """The month's reports of agency A (and B after a return) and the sla service's deadlines."""
    pack = get_pack(pack_id)
    tz = pack.meta["timezone"]
    month = periods.parse(MONTH, tz, cutoff(pack))
    base = month.start + timedelta(days=3, hours=9)
    day = timedelta(days=1)
    r1 = handled("PA-260601-00000001", pack_id, base, A, 1 * day, rework=True, interaction=timedelta(hours=1))
    r1["rating"] = rating(pack, "satisfied", base + 4 * day, A)
    r2 = handled("PA-260601-00000002", pack_id, base, A, interaction=timedelta(hours=2), replied=timedelta(hours=3))
    r3 = handled("PA-260601-00000003", pack_id, base, A)
    r3["timeline"].append(entry(base + day, "extended", None, "in_progress", {"agency": A}, {"new_due": "x"}))
    r4 = report("PA-260601-00000004", pack_id, base, [
        entry(base, "routed", "dispatched", "accepted", detail={"lead": A}),
        entry(base + timedelta(hours=3), "returned", "accepted", "dispatched", {"agency": A}, {"suggested_agency": B}),
        entry(base + timedelta(hours=4), "routed", "dispatched", "accepted", detail={"lead": B}),
        entry(base + day, "result_submitted", "result_submitted", "dispatched", {"agency": B}),
        entry(base + day + timedelta(hours=1), "published", "published", "result_submitted", {"role": "operator"}),
    ], "published", B)
    r5 = handled("PA-260601-00000005", pack_id, base, A, 1 * day)
    r5["rating"] = rating(pack, "accepted", base + 3 * day, A)
    r6 = handled("PA-260601-00000006", pack_id, base, A, 1 * day)
    r6["rating"] = rating(pack, "accepted", base + 3 * day, A)
    r7 = handled("PA-260601-00000007", pack_id, base, A)
    r7["timeline"] += [entry(base + timedelta(hours=5 + i), "directive", None, "in_progress", {"role": "operator"},
                             {"agency": A, "note": "Chấn chỉnh"}) for i in range(4)]
    r7["timeline"] += [entry(base + timedelta(hours=10 + i), "missed_call", None, "in_progress", {"role": "operator"},
                             {"agency": A}) for i in range(6)]
    # re-reports (ST-23 Điều 17 khoản 2 "bị người phản ánh phản ánh lại"): only the same reporter's accepted
    # follow-ups count — not another reporter's, not one rejected, not one still waiting for a supplement
    r1["reporter"], r5["reporter"] = {"phone": "0905000001"}, {"phone": "0905000005"}

    def follow_up(rid, at, follows, phone, accepted=True, state=None):
        timeline = [entry(at, "submitted", "submitted", None)]
        if accepted:
            timeline.append(entry(at + timedelta(minutes=5), "accepted", "accepted", "submitted"))
        return report(rid, pack_id, at, timeline, state or ("accepted" if accepted else "submitted"), None,
                      follows=follows, reporter={"phone": phone})
    follow_ups = [follow_up(f"PA-260601-0000001{i}", base + (5 + i) * day, r5["_id"], "0905000005")
                  for i in range(4)]
    follow_ups.append(follow_up("PA-260601-00000020", base + 6 * day, r1["_id"], "0905000001"))
    follow_ups += [follow_up("PA-260601-00000021", base + 4 * day, r5["_id"], "0912999999"),   # another reporter
                   follow_up("PA-260601-00000022", base + 4 * day, r5["_id"], "0905000005", False, "rejected"),
                   follow_up("PA-260601-00000023", base + 4 * day, r5["_id"], "0905000005", False,
                             "needs_supplement"),
                   follow_up("PA-260601-00000024", base + 4 * day, r6["_id"], "0905000006")]  # r6: no reporter
    deadlines = [
        {"_id": "d2", "report_id": r2["_id"], "pack": pack_id, "step": "process", "agency": A, "status": "missed",
         "due": base + 8 * day, "missed_at": base + 8 * day, "active": True, "rule": "x", "article": "y"},
        {"_id": "d3", "report_id": r3["_id"], "pack": pack_id, "step": "process", "agency": A, "status": "missed",
         "due": base + 9 * day, "missed_at": base + 9 * day, "active": True, "extended": True, "rule": "x",
         "article": "y"},
        {"_id": "d4", "report_id": r4["_id"], "pack": pack_id, "step": "return", "agency": A, "status": "missed",
         "due": base + timedelta(hours=1), "missed_at": base + timedelta(hours=3), "active": False, "rule": "x",
         "article": "y"},
    ] + [{"_id": f"c{n}", "report_id": r["_id"], "pack": pack_id, "step": "process", "agency": A, "status": "closed",
          "due": base + 6 * day, "closed_at": base + day, "active": False} for n, r in enumerate((r1, r5, r6))]
    return pack, month, [r1, r2, r3, r4, r5, r6, r7] + follow_ups, deadlines


class Direct:
    """An RpcProxy stand-in that calls another worker's method directly (jsonable, as over the bus)."""

    def __init__(self, worker):
        self.worker = worker

    def __getattr__(self, name):
        return getattr(self.worker, name)


def system_of(reports, deadlines):
    intake_store = ReportStore(storage.open_database("intake", "memory://"))
    for doc in reports:
        intake_store.reports.insert_one(doc)
    sla_store = DeadlineStore(storage.open_database("sla", "memory://"))
    for doc in deadlines:
        sla_store.deadlines.insert_one(doc)
    intake = worker_factory(IntakeService, store=intake_store)
    sla = worker_factory(SlaService, deadlines=sla_store)
    rating_store = RatingStore(storage.open_database("rating", "memory://"))
    return worker_factory(RatingService, store=rating_store, intake=Direct(intake), sla=Direct(sla),
                          settled={}), rating_store


@pytest.fixture
def at_month_end():
    def install(month):
        clock.set_clock(FixedClock(month.end + timedelta(days=40)))
    yield install
    clock.set_clock(None)


@pytest.mark.parametrize("pack_id", sorted(EXPECTED))
def test_a_month_of_known_events_gives_exact_counters_and_findings(pack_id, at_month_end):
    pack, month, reports, deadlines = month_of(pack_id)
    at_month_end(month)
    rating_service, _ = system_of(reports, deadlines)
    card = rating_service.scorecards(pack_id, MONTH)
    rows = {row["agency"]: row for row in card["agencies"]}
    a = rows[A]["counters"]
    has_limit = "late_report_limit" in pack.parameters
    accepted = any(level["counts_as"] == "accepted" for level in pack.rating_levels())
    assert {k: a[k] for k in ("received", "resolved", "on_time", "late_count", "late_over_limit_count",
                              "extended_count", "extended_without_result", "returns_count", "late_returns_count",
                              "results_count", "rework_count", "corrective_directives", "missed_hotline_calls",
                              "interactions_count", "unanswered_interactions", "repeat_violations",
                              "rereported_over_3", "rated_count")} == {
        "received": 7, "resolved": 3, "on_time": 3, "late_count": 3, "late_over_limit_count": 3 if has_limit else 0,
        "extended_count": 1, "extended_without_result": 1, "returns_count": 1, "late_returns_count": 1,
        "results_count": 4, "rework_count": 1, "corrective_directives": 4, "missed_hotline_calls": 6,
        "interactions_count": 2, "unanswered_interactions": 1, "repeat_violations": 2, "rereported_over_3": 1,
        "rated_count": 3}
    assert (a["late_returns_rate"], a["substandard_results_rate"], a["unanswered_interactions_rate"]) == (1.0, 0.25, 0.5)
    # six unanswered calls within hours: two of "gọi 3 lần không bắt máy trong thời gian 3 ngày" (TTH Đ12 k2, VL Đ13
    # k2 c) where the pack counts them
    assert a["unanswered_call_violations"] == (2 if "unanswered_calls" in pack.parameters else 0)
    assert a["repeat_violations_rate"] == round(2 / 3, 4) and a["satisfied_rate"] == round(1 / 3, 4)
    assert a["satisfied_or_accepted_rate"] == (1.0 if accepted else round(1 / 3, 4))
    assert rows[B]["counters"]["received"] == 1 and rows[B]["counters"]["resolved"] == 1
    assert rows[B]["report_to_province"] == [] and rows[B]["not_eligible_excellent"] == []
    assert card["totals"]["received"] == 8 and len(card["late"]) == 3

    monthly, excellent, yearly = EXPECTED[pack_id]
    assert {f["rule"] for f in rows[A]["report_to_province"]} == monthly
    assert rows[A]["not_eligible_excellent"] == []                 # criteria of the year, not of a month
    assert all(f["article"].startswith("Điều") for f in rows[A]["report_to_province"])

    year = rating_service.scorecards(pack_id, MONTH[:4])
    a_year = next(row for row in year["agencies"] if row["agency"] == A)
    assert {f["rule"] for f in a_year["not_eligible_excellent"]} == excellent
    assert {f["rule"] for f in a_year["report_to_province"]} == yearly
    assert all(f["article"] for f in a_year["not_eligible_excellent"])


def test_another_province_is_never_counted():
    pack, month, reports, deadlines = month_of("thua-thien-hue-2022")
    _, _, others, other_deadlines = month_of("vinh-long-2025")
    clock.set_clock(FixedClock(month.end + timedelta(days=40)))
    try:
        rating_service, _ = system_of(reports + [dict(r, _id=r["_id"].replace("PA-2606", "PA-2607"))
                                                 for r in others],
                                      deadlines + [dict(d, _id="vl-" + d["_id"]) for d in other_deadlines])
        card = rating_service.scorecards("thua-thien-hue-2022", MONTH)
    finally:
        clock.set_clock(None)
    assert card["totals"]["received"] == 8 and len(card["late"]) == 3


def test_a_bad_period_is_refused_not_raised():
    rating_service, _ = system_of([], [])
    assert rating_service.scorecards("thua-thien-hue-2022", "2026-13")["error"]["code"] == "VALIDATION_FAILED"


def test_the_monthly_report_is_made_once_when_due_the_same_on_demand_and_opens_in_a_spreadsheet():
    pack_id = "thua-thien-hue-2022"
    pack, month, reports, deadlines = month_of(pack_id)
    monthly = next(item for item in pack.meta["reports"]["schedule"] if item["kind"] == "monthly")
    [due] = due_since(pack, monthly, None, month.end + timedelta(days=10))
    assert due.period.label == MONTH and due.due == month.end.replace(day=20)   # before the 20th
    rating_service, store = system_of(reports, deadlines)
    clock.set_clock(FixedClock(month.end + timedelta(days=5, hours=1)))   # stopped over the due time: catches up
    try:
        rating_service.make_due_reports()
        made = {doc["_id"]: doc for doc in store.periodic_list(pack_id)}
        rating_service.make_due_reports()                            # again: nothing new
        assert {doc["_id"] for doc in store.periodic_list(pack_id)} == set(made)
        assert f"{pack_id}:monthly:{MONTH}" in made
        stored = store.periodic_report(f"{pack_id}:monthly:{MONTH}")
        on_demand = rating_service.scorecards(pack_id, MONTH)
    finally:
        clock.set_clock(None)
    assert stored["partial"] is False and stored["due"] == due.due
    assert stored["content"]["pack_name"] == pack.meta["province"]        # the report names its province
    kept = {k: v for k, v in stored["content"].items() if k not in ("generated_at", "start", "end")}
    fresh = {k: v for k, v in on_demand.items() if k not in ("generated_at", "start", "end")}
    assert kept["agencies"] == fresh["agencies"] and kept["totals"] == fresh["totals"]

    book = load_workbook(io.BytesIO(to_xlsx(stored["content"])))
    assert book.sheetnames == list(SHEETS)
    criteria = list(book[SHEETS[5]].iter_rows(values_only=True))[1:]
    assert len(criteria) == 4 + 8 and all(row[1].startswith("Điều") for row in criteria)   # TTH Đ14 k2 (+ Đ12 k2), k3, Đ19 k2
    per_agency = list(book[SHEETS[1]].iter_rows(values_only=True))
    assert per_agency[0][:3] == ("Mã đơn vị", "Tên đơn vị", "Tiếp nhận")
    assert [row[0] for row in per_agency[1:]] == [B, A]
    assert len(list(book[SHEETS[2]].iter_rows())) == 1 + 3                  # the late list
    findings = list(book[SHEETS[3]].iter_rows(values_only=True))[1:]
    assert {row[2] for row in findings} == EXPECTED[pack_id][0]
    assert all(row[3].startswith(("Điều 14", "Điều 12 khoản 2; Điều 14")) for row in findings)
    referrals = list(book[SHEETS[6]].iter_rows(values_only=True))
    assert referrals[0][0] == "Mã phản ánh" and len(referrals) == 1      # no report was referred to the UBND


HUE = "thua-thien-hue-2022"
VN_TZ = "Asia/Ho_Chi_Minh"


def _at(text):
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("since, now, labels", [
    # the suite's start on 2026-12-05 (a Tuesday after it, then 40 days on): two months passed, both made
    ("2026-12-08T09:00:00+07:00", "2027-01-17T09:00:00+07:00", ["2026-12", "2027-01"]),
    # across the year boundary with the cut-off: 2027-01 runs 15/12/2026–14/01/2027
    ("2026-12-31T23:50:00+07:00", "2027-01-15T00:10:00+07:00", ["2027-01"]),
    ("2026-12-31T23:50:00+07:00", "2027-01-14T23:50:00+07:00", []),
    # a service stopped for a quarter catches up on each month, oldest first
    ("2027-02-20T10:00:00+07:00", "2027-05-20T10:00:00+07:00", ["2027-03", "2027-04", "2027-05"]),
    (None, "2027-01-17T09:00:00+07:00", ["2027-01"]),          # first check ever: the latest only
])
def test_every_month_that_fell_due_since_the_last_check_is_made(since, now, labels):
    pack = get_pack(HUE)
    monthly = next(item for item in pack.meta["reports"]["schedule"] if item["kind"] == "monthly")
    found = due_since(pack, monthly, since and _at(since), _at(now))
    assert [due.period.label for due in found] == labels


def test_weekly_and_yearly_reports_across_new_year():
    pack = get_pack(HUE)
    schedule = {item["kind"]: item for item in pack.meta["reports"]["schedule"]}
    weeks = due_since(pack, schedule["weekly"], _at("2026-12-27T12:00:00+07:00"), _at("2027-01-05T12:00:00+07:00"))
    assert [due.period.label for due in weeks] == ["2026-W52", "2026-W53"]     # W53: 28/12/2026–03/01/2027
    years = due_since(pack, schedule["yearly"], _at("2026-12-14T12:00:00+07:00"), _at("2026-12-15T00:00:00+07:00"))
    assert [(d.period.label, d.due.date().isoformat()) for d in years] == [("2026", "2026-12-20")]


def test_a_clock_jump_over_two_month_ends_makes_both_reports():
    pack, month, reports, deadlines = month_of(HUE)
    rating_service, store = system_of(reports, deadlines)
    start = month.end - timedelta(days=20)
    clock.set_clock(FixedClock(start))
    try:
        rating_service.make_due_reports()                             # the first check: the latest month only
        first = {doc["_id"] for doc in store.periodic_list(HUE)}
        clock.get_clock().advance(60 * 86400)                         # past this month's end and the next's
        rating_service.make_due_reports()
        second = {doc["_id"] for doc in store.periodic_list(HUE)}
    finally:
        clock.set_clock(None)
    following = periods.containing("month", month.end + timedelta(days=1), VN_TZ, cutoff(pack)).label
    assert f"{HUE}:monthly:{MONTH}" not in first
    assert {f"{HUE}:monthly:{MONTH}", f"{HUE}:monthly:{following}"} <= second


def test_periods_follow_the_national_cut_off_where_the_pack_adopts_it():
    tz = "Asia/Ho_Chi_Minh"
    november = periods.parse("2026-11", tz, 14)
    assert (november.start.date().isoformat(), november.end.date().isoformat()) == ("2026-10-15", "2026-11-15")
    assert periods.parse("2026-Q4", tz, 14).start.date().isoformat() == "2026-09-15"
    year = periods.parse("2026", tz, 14)
    assert (year.start.date().isoformat(), year.end.date().isoformat()) == ("2025-12-15", "2026-12-15")
    assert periods.containing("month", datetime.fromisoformat("2026-11-20T10:00:00+07:00"), tz, 14).label == "2026-12"
    assert periods.containing("year", datetime.fromisoformat("2026-12-16T10:00:00+07:00"), tz, 14).label == "2027"
    assert periods.parse("2026-11", tz).start.date().isoformat() == "2026-11-01"
    assert periods.parse("2026-W48", tz).start.date().isoformat() == "2026-11-23"
    with pytest.raises(periods.BadPeriod):
        periods.parse("2026-13", tz)


class Counting(Direct):
    """Direct, noting each call of intake's share of the scorecards."""

    def __init__(self, worker, asked: list):
        super().__init__(worker)
        self.asked = asked

    def agency_counters(self, *arguments):
        self.asked.append(arguments)
        return self.worker.agency_counters(*arguments)


def test_a_period_long_over_is_counted_once_then_read_as_counted():
    """The leaders' trend and the console ask for the same past months on every page: a period over for a day is
    counted once (for five minutes), the current one every time; a jump of the clock forgets what was counted."""
    pack_id = "thua-thien-hue-2022"
    pack, month, reports, deadlines = month_of(pack_id)
    clock.set_clock(FixedClock(month.end + timedelta(days=2)))
    try:
        rating_service, _ = system_of(reports, deadlines)
        asked = []
        rating_service.intake = Counting(rating_service.intake.worker, asked)
        first = rating_service.scorecards(pack_id, MONTH)
        assert rating_service.scorecards(pack_id, MONTH) == first and len(asked) == 1
        current = periods.containing("month", clock.now(), pack.meta["timezone"], cutoff(pack)).label
        rating_service.scorecards(pack_id, current)
        rating_service.scorecards(pack_id, current)
        assert len(asked) == 3
        rating_service.on_clock_advanced({})   # (which makes the periodic reports due, counting them)
        made = len(asked)
        rating_service.scorecards(pack_id, MONTH)
        assert len(asked) == made + 1
    finally:
        clock.set_clock(None)
