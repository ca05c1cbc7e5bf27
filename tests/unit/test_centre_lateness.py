"""The centre's lateness is the centre's (issue 23 item 1; review W2 W4 W10 W15, F1, probe P11): a missed deadline of
the centre's own steps (publish after the leader's approval, dispatch, the SOS call-back) is charged to the pack's
centre — in the scorecards, the periodic report's late list and the public "late" mark — never to the lead agency."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory

from paht import clock, periods, storage
from paht.clock import FixedClock
from paht.rules import get_pack
from paht.rules.cases import _check
from paht.rules.steps import centre_agency, party_of
from paht.schemas import Transitioned
from services.intake.views import public_view
from services.rating.scorecards import province_scorecards
from services.sla.deadlines import agency_lateness
from services.sla.dependencies import DeadlineStore
from services.sla.service import SlaService

pytestmark = pytest.mark.calendar

VN = timezone(timedelta(hours=7))
MON = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
LEAD = "so-xay-dung"


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(FixedClock(MON))
    yield
    clock.set_clock(None)


class Walk:
    """One report through the sla service (worker_factory, memory store) from routing to an approved result."""

    def __init__(self, pack):
        self.store = DeadlineStore(storage.open_database("sla", "memory://"))
        self.service = worker_factory(SlaService, deadlines=self.store)
        self.service.handling.history.return_value = []
        self.report = {"id": "PA-1", "pack": pack, "state": "accepted", "urgent": False, "version": 0, "route": {},
                       "assigned_agencies": [{"id": LEAD, "role": "lead"}]}
        self.n = 0

    def announce(self, cause, to_state):
        self.n += 1
        from_state = self.report["state"]
        self.report = dict(self.report, state=to_state, version=self.report["version"] + 1)
        self.service.on_report(Transitioned(
            event_id=f"ev{self.n}", report_id="PA-1", occurred_at=clock.now(), pack=self.report["pack"], cause=cause,
            from_state=from_state, to_state=to_state, report=self.report).model_dump(mode="json"))

    def to_approved(self):
        for cause, state in (("routed", "dispatched"), ("acknowledged", "in_progress"),
                             ("result_submitted", "result_submitted"), ("approved", "approved")):
            self.announce(cause, state)
        return self

    def miss(self, step):
        [deadline] = self.store.for_report("PA-1", step)
        clock.set_clock(FixedClock(deadline["due"] + timedelta(minutes=1)))
        self.service.sweep()
        return self.store.for_report("PA-1", step)


@pytest.mark.parametrize("pack", ["soc-trang-2022", "soc-trang-2023", "thua-thien-hue-2022", "tay-ninh-2024"])
def test_a_missed_publication_is_the_centres_lateness_not_the_lead_agencys(pack):
    """[P11]: ST22 1 wh, ST23 1 wd (the regression W4), TTH 1 h, TN 4 wh — each missed by a minute."""
    walk = Walk(pack).to_approved()
    [missed] = walk.miss("publish")
    assert (missed["status"], missed["agency"], missed["party"]) == ("missed", "trung-tam", "centre")
    cards, late = agency_lateness([missed], MON, MON + timedelta(days=30))
    assert cards["trung-tam"]["late_count"] == 1 and LEAD not in cards
    assert [(item["agency"], item["step"], item["party"]) for item in late] == [("trung-tam", "publish", "centre")]
    # the decision intake applies names the centre, and the report's deadline says whose step it is
    walk.service.tell_intake()
    sent = [d for call in walk.service.dispatch.call_args_list for d in call.args[1].get("batch", [call.args[1]])
            if d["kind"] == "deadline_missed"]
    assert [(d["detail"]["agency"], d["detail"]["party"]) for d in sent] == [("trung-tam", "centre")]
    assert sent[0]["patch"]["deadlines.publish"]["party"] == "centre"


def test_the_lead_keeps_its_own_lateness():
    walk = Walk("soc-trang-2023")
    walk.announce("routed", "dispatched")
    walk.announce("acknowledged", "in_progress")
    [missed] = walk.miss("process")
    assert (missed["agency"], missed["party"]) == (LEAD, "agency")
    cards, late = agency_lateness([missed], MON, MON + timedelta(days=30))
    assert cards[LEAD]["late_count"] == 1 and "trung-tam" not in cards


def test_a_publication_deadline_kept_from_before_counts_for_the_centre_on_a_rerun():
    """A stored `publish` deadline opened before this change carries the lead in `agency`: the scorecards read the
    step again, so a rerun for a past period charges the centre."""
    old = {"report_id": "PA-1", "pack": "soc-trang-2022", "step": "publish", "agency": LEAD, "status": "missed",
           "missed_at": MON, "due": MON - timedelta(minutes=1), "rule": "st22-sla-publish",
           "article": "Điều 12 khoản 2", "on_miss": {"action": "flag_late"}}
    cards, late = agency_lateness([old], MON - timedelta(days=1), MON + timedelta(days=1))
    assert set(cards) == {"trung-tam"} and late[0]["agency"] == "trung-tam"


def test_a_timeout_that_rejects_the_report_is_no_ones_lateness():
    rejecting = {"report_id": "PA-1", "pack": "thua-thien-hue-2022", "step": "operator_check", "agency": None,
                 "status": "missed", "missed_at": MON, "due": MON, "rule": "tth-acc-operator-check",
                 "article": "Điều 7 khoản 5 điểm b", "on_miss": {"action": "reject", "reason": "OPERATOR_CHECK_TIMEOUT"}}
    assert agency_lateness([rejecting], MON - timedelta(days=1), MON + timedelta(days=1)) == ({}, [])


def scorecards_of_a_late_publication(pack, intake_cards: dict) -> dict:
    """The month's scorecards of one report whose approved result the centre published late."""
    walk = Walk(pack.id).to_approved()
    walk.miss("publish")
    period = periods.containing("month", MON, pack.meta["timezone"])
    cards, late = agency_lateness(walk.store.for_report("PA-1", "publish"), period.start, period.end)
    return province_scorecards(pack, period, intake_cards, {"agencies": cards, "late": late}, MON)


def test_the_scorecards_and_late_list_show_the_centre_by_name():
    pack = get_pack("soc-trang-2023")
    content = scorecards_of_a_late_publication(pack, {LEAD: {"received": 1}})
    rows = {a["agency"]: a for a in content["agencies"]}
    assert rows["trung-tam"]["counters"]["late_count"] == 1 and rows[LEAD]["counters"]["late_count"] == 0
    assert rows["trung-tam"]["name"].startswith("Trung tâm Giám sát")
    assert rows["trung-tam"]["report_to_province"] == [] and rows["trung-tam"]["not_eligible_excellent"] == []


def report_with(deadlines: dict) -> dict:
    return {"_id": "PA-1", "pack": "soc-trang-2023", "state": "approved", "category": "roads_traffic",
            "assigned_agencies": [{"id": LEAD, "name": "Sở Xây dựng thành phố Cần Thơ", "role": "lead"}],
            "timeline": [], "submitted_at": MON.isoformat(), "deadlines": deadlines}


def deadline(step, agency, late, **extra):
    return {"step": step, "due": MON.isoformat(), "opened_at": (MON - timedelta(days=1)).isoformat(), "late": late,
            "agency": agency, "rule": f"st23-sla-{step}", "article": "Điều 15 khoản 2", "amount": 1, "unit": "wd",
            **extra}


def test_the_public_late_mark_names_whose_step_is_late():
    view = public_view(report_with({"approve": deadline("approve", LEAD, False, closed_at=MON.isoformat()),
                                    "publish": deadline("publish", LEAD, True)}))   # a report kept from before
    assert view["late"] is True
    assert view["late_by"] == [{"step": "publish", "subject": None, "party": "centre", "agency": "trung-tam",
                                "name": get_pack("soc-trang-2023").agencies["trung-tam"]["name"]}]
    view = public_view(report_with({"process": deadline("process", LEAD, True)}))
    assert [(i["party"], i["agency"], i["name"]) for i in view["late_by"]] == \
        [("agency", LEAD, "Sở Xây dựng thành phố Cần Thơ")]
    assert public_view(report_with({"publish": deadline("publish", "trung-tam", False)}))["late_by"] == []


def test_the_report_page_names_the_centre_as_late():
    from services.gateway.pages.web import environment
    view = public_view(report_with({"publish": deadline("publish", "trung-tam", True, party="centre")}))
    html = environment("vi").get_template("_report.html").render(view=view, photos=[], owner=False, lang="vi")
    assert "Bước trễ hạn" in html and "Trung tâm Giám sát, điều hành đô thị thông minh" in html


def test_whose_step_each_step_is():
    assert {step for step in ("receive", "dispatch", "operator_check", "publish", "sos_callback")
            if party_of(step) == "centre"} == {"receive", "dispatch", "operator_check", "publish", "sos_callback"}
    assert party_of("supplement") == party_of("identity_check") == "reporter"
    assert {party_of(s) for s in ("acknowledge", "process", "approve", "rework", "agree", "co_process")} == {"agency"}
    for pack in ("soc-trang-2022", "soc-trang-2023", "thua-thien-hue-2022", "tay-ninh-2024", "vinh-long-2025"):
        assert centre_agency(get_pack(pack).agencies) == "trung-tam"


def test_a_worked_case_says_whose_lateness_a_step_is():
    pack = get_pack("soc-trang-2023")
    case = {"name": "x", "article": "Điều 15 khoản 2", "stage": "sla", "facts": {"step": "publish"},
            "expect": {"amount": 1, "unit": "wd", "charged": "centre"}}
    assert _check(pack, case)[0]
    ok, detail, _ = _check(pack, dict(case, expect={"charged": "agency"}))
    assert not ok and detail == "charged to centre ≠ agency"


def test_the_periodic_late_list_says_the_step_was_the_centres():
    import io

    from openpyxl import load_workbook

    from services.rating.periodic import SHEETS, to_xlsx
    content = scorecards_of_a_late_publication(get_pack("soc-trang-2022"), {})
    rows = list(load_workbook(io.BytesIO(to_xlsx(content)))[SHEETS[2]].iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã phản ánh", "Đơn vị", "Bước của", "Bước")
    assert rows[1][:4] == ("PA-1", "trung-tam", "Trung tâm", "publish")


# ---- item 6: "bị người phản ánh phản ánh lại quá 03 lần" (ST-23 Điều 17 khoản 2; review W6, F5, probe P6) ----------
def _followed_and_follow_ups(valid: int):
    """A report of reporter X resolved by the lead, then `valid` accepted re-reports by X and noise: another
    reporter's accepted re-reports, X's rejected one and X's one still waiting for a supplement."""
    from tests.unit.test_scorecards import entry, report
    day = timedelta(days=1)
    followed = report("PA-A", "soc-trang-2023", MON, [
        entry(MON, "submitted", "submitted", None),
        entry(MON + timedelta(hours=1), "routed", "dispatched", "accepted", detail={"lead": LEAD}),
        entry(MON + 2 * day, "published", "published", "approved", {"role": "operator"})], "published", LEAD,
        reporter={"phone": "0905000001"})

    def again(n, phone, state):
        at = MON + (3 + n) * timedelta(hours=5)
        timeline = [entry(at, "submitted", "submitted", None)]
        if state == "accepted":
            timeline.append(entry(at + timedelta(minutes=5), "accepted", "accepted", "submitted"))
        return report(f"PA-F{n}", "soc-trang-2023", at + 2 * day, timeline, state, None, follows="PA-A",
                      reporter={"phone": phone})
    noise = [again(10, "0912999999", "accepted"), again(11, "0912999998", "accepted"),
             again(12, "+84905000001", "rejected"), again(13, "0905000001", "needs_supplement")]
    return followed, [again(n, "0905000001", "accepted") for n in range(valid)] + noise


def test_only_the_same_reporters_accepted_follow_ups_count():
    from services.intake.accountability import counted_follow_ups
    followed, follow_ups = _followed_and_follow_ups(3)
    assert len(counted_follow_ups(followed, follow_ups)) == 3          # "+84905000001" is X too, but rejected
    assert counted_follow_ups(dict(followed, reporter={}), follow_ups) == []   # forgotten by retention: no one


@pytest.mark.parametrize("valid, over_3, repeat", [(3, 0, 1), (4, 1, 1), (0, 0, 0)])
def test_the_counters_through_intake_take_only_counted_follow_ups(valid, over_3, repeat):
    from services.intake.dependencies import ReportStore
    from services.intake.service import IntakeService
    followed, follow_ups = _followed_and_follow_ups(valid)
    store = ReportStore(storage.open_database("intake", "memory://"))
    for doc in [followed, *follow_ups]:
        store.reports.insert_one(doc)
    intake = worker_factory(IntakeService, store=store)
    cards = intake.agency_counters("soc-trang-2023", (MON - timedelta(days=1)).isoformat(),
                                   (MON + timedelta(days=30)).isoformat())
    assert (cards[LEAD]["rereported_over_3"], cards[LEAD]["repeat_violations"]) == (over_3, repeat)
