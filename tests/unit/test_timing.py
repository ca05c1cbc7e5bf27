"""Issue 11 without a broker: intake hours (routing holds, deadlines from the opening), the rating's follow-ups and
interaction locks, the reprocessing transition, the clarify and agree actions, the disaster category."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory

from paht import clock, storage
from paht.categories import classify
from paht.clock import FixedClock
from paht.rules import get_pack
from paht.schemas import CATEGORIES, Decision, Transitioned, reporter_summary
from paht.states import IllegalTransition, plan
from paht.worktime import intake_opening
from services.handling.actions import Refused, decide
from services.rating.dependencies import RatingStore
from services.rating.ratings import Refused as RatingRefused
from services.rating.ratings import rating_decision, unsatisfied_follow_up
from services.rating.service import RatingService
from services.routing.dependencies import RoutingStore
from services.routing.route import held_until
from services.routing.service import RoutingService
from services.sla import deadlines
from tests.unit.test_citizen_penalties import rating_with_verification

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = timezone(timedelta(hours=7))


@pytest.fixture
def at():
    """Set the clock: at(datetime)."""
    def move(when):
        clock.set_clock(FixedClock(when))
        return when
    yield move
    clock.set_clock(None)


# ---- intake hours --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pack, sent, opening", [
    # TTH Điều 4 khoản 2: 24h00–07h30 only immediate matters
    ("thua-thien-hue-2022", datetime(2026, 11, 23, 2, 0, tzinfo=VN), datetime(2026, 11, 23, 7, 30, tzinfo=VN)),
    ("thua-thien-hue-2022", datetime(2026, 11, 23, 23, 0, tzinfo=VN), None),
    ("thua-thien-hue-2022", datetime(2026, 11, 22, 10, 0, tzinfo=VN), None),              # Sunday: 7 days a week
    # ST-22 Điều 5 khoản 2: 17h00–07h30 only immediate matters
    ("soc-trang-2022", datetime(2026, 11, 23, 22, 0, tzinfo=VN), datetime(2026, 11, 24, 7, 30, tzinfo=VN)),
    # ST-23 Điều 8 khoản 2: office hours of working days only (Saturday → Monday; Tuesday 24/11 is a day off)
    ("soc-trang-2023", datetime(2026, 11, 21, 9, 0, tzinfo=VN), datetime(2026, 11, 23, 7, 30, tzinfo=VN)),
    ("soc-trang-2023", datetime(2026, 11, 23, 12, 0, tzinfo=VN), datetime(2026, 11, 23, 13, 30, tzinfo=VN)),
    ("soc-trang-2023", datetime(2026, 11, 23, 17, 30, tzinfo=VN), datetime(2026, 11, 25, 7, 30, tzinfo=VN)),
    ("vinh-long-2025", datetime(2026, 11, 23, 2, 0, tzinfo=VN), None),                   # 24/7
])
def test_intake_opening(pack, sent, opening):
    meta = get_pack(pack).meta
    assert intake_opening(meta, sent) == (opening or sent)


def test_only_normal_reports_wait_for_the_opening():
    pack, night = get_pack("thua-thien-hue-2022"), datetime(2026, 11, 23, 2, 0, tzinfo=VN)
    normal = {"urgent": False}
    assert held_until(pack, normal, {"immediate": False}, night) == datetime(2026, 11, 23, 7, 30, tzinfo=VN)
    assert held_until(pack, {"urgent": True}, {"immediate": False}, night) is None
    assert held_until(pack, normal, {"immediate": True}, night) is None   # a fire is an immediate matter


def test_st23_weekend_report_starts_its_clock_on_monday():
    saturday = datetime(2026, 11, 21, 9, 0, tzinfo=VN)
    report = {"id": "R", "pack": "soc-trang-2023", "state": "submitted", "urgent": False}
    deadline = deadlines.new_deadline(get_pack("soc-trang-2023"), report, "receive", saturday, "e")
    assert deadline["starts_at"] == datetime(2026, 11, 23, 7, 30, tzinfo=VN)
    assert deadline["due"] == datetime(2026, 11, 23, 11, 30, tzinfo=VN)        # 04 giờ (Phụ lục II Bước 1)


def test_processing_steps_do_not_wait_for_intake_hours():
    night = datetime(2026, 11, 23, 2, 0, tzinfo=VN)
    report = {"id": "R", "pack": "thua-thien-hue-2022", "state": "approved", "urgent": False,
              "assigned_agencies": [{"id": "so-xay-dung", "role": "lead"}]}
    deadline = deadlines.new_deadline(get_pack("thua-thien-hue-2022"), report, "publish", night, "e")
    assert deadline["due"] == night + timedelta(hours=1)


def accepted_event(report, event_id="ev-accepted", at=None):
    return Transitioned(event_id=event_id, report_id=report["id"], occurred_at=at or clock.now(), pack=report["pack"],
                        cause="accepted", from_state="submitted", to_state="accepted",
                        report=report).model_dump(mode="json")


def hue_report(**extra):
    return {"id": "PA-1", "pack": "thua-thien-hue-2022", "state": "accepted", "urgent": False, "version": 3,
            "category": "roads_traffic", "ward": {"code": "19753"}, "route": {}, **extra}


def sent(service):
    return [d for call in service.dispatch.call_args_list for d in call.args[1].get("batch", [call.args[1]])]


def test_routing_holds_a_night_report_and_dispatches_it_as_of_the_opening(at):
    night = at(datetime(2026, 11, 23, 2, 0, tzinfo=VN))
    store = RoutingStore(storage.open_database("routing", "memory://"))
    service = worker_factory(RoutingService, routes=store)
    service.on_report(accepted_event(hue_report()))
    [deferred] = sent(service)
    assert deferred["kind"] == "dispatch_deferred" and deferred["to_state"] is None
    assert deferred["detail"]["until"] == "2026-11-23T07:30:00+07:00"
    assert deferred["detail"]["article"] == "Điều 4 khoản 2"
    assert service.release_due() == 0                               # still night

    at(night + timedelta(hours=5, minutes=31))
    assert service.release_due() == 1
    routed = sent(service)[-1]
    assert routed["kind"] == "routed" and routed["event_id"] == "routing:ev-accepted"   # as if at once: idempotent
    assert datetime.fromisoformat(routed["occurred_at"]) == datetime(2026, 11, 23, 7, 30, tzinfo=VN)
    assert routed["detail"]["lead"] == "so-xay-dung"
    assert service.release_due() == 0                               # released once


def test_routing_routes_at_once_in_hours_and_urgent_ones_at_night(at):
    at(datetime(2026, 11, 23, 2, 0, tzinfo=VN))
    store = RoutingStore(storage.open_database("routing", "memory://"))
    service = worker_factory(RoutingService, routes=store)
    service.on_report(accepted_event(hue_report(urgent=True)))
    assert [d["kind"] for d in sent(service)] == ["routed"]


def test_a_held_report_judged_urgent_goes_at_once_and_a_cancelled_one_is_dropped(at):
    at(datetime(2026, 11, 23, 2, 0, tzinfo=VN))
    store = RoutingStore(storage.open_database("routing", "memory://"))
    service = worker_factory(RoutingService, routes=store)
    service.on_report(accepted_event(hue_report()))
    later = hue_report(urgent=True, version=5)
    service.on_report(Transitioned(event_id="ev-urgent", report_id="PA-1", occurred_at=clock.now(),
                                   pack="thua-thien-hue-2022", cause="judged", from_state="accepted",
                                   to_state="accepted", report=later).model_dump(mode="json"))
    assert [d["kind"] for d in sent(service)] == ["dispatch_deferred", "routed"]
    assert store.held("PA-1") is None

    other = hue_report(id="PA-2")
    service.on_report(accepted_event(other, "ev-2"))
    service.on_report(Transitioned(event_id="ev-cancel", report_id="PA-2", occurred_at=clock.now(),
                                   pack="thua-thien-hue-2022", cause="cancelled", from_state="accepted",
                                   to_state="cancelled", report=dict(other, state="cancelled")).model_dump(mode="json"))
    at(datetime(2026, 11, 23, 8, 0, tzinfo=VN))
    assert service.release_due() == 0


# ---- the disaster category ------------------------------------------------------------------------------------
def test_natural_disaster_is_a_category_and_classified():
    assert "natural_disaster" in CATEGORIES
    assert classify("Sạt lở đất sau mưa lớn, nhà dân bị vùi lấp") == "natural_disaster"
    assert classify("Đường hư hỏng bao lâu rồi chưa sửa") != "natural_disaster"   # "bao" is not "bão"


@pytest.mark.parametrize("pack, immediate", [("soc-trang-2022", False), ("soc-trang-2023", True),
                                             ("thua-thien-hue-2022", True), ("vinh-long-2025", True),
                                             ("tay-ninh-2024", False)])
def test_disasters_take_the_immediate_track_where_the_seed_names_them(pack, immediate):
    result = get_pack(pack).evaluate("routing", {"category": "natural_disaster", "ward_found": False})
    assert result["decision"] == "route" and result["immediate"] is immediate


# ---- ratings ------------------------------------------------------------------------------------------------
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEVELS = get_pack("tay-ninh-2024").rating_levels()


def published(**extra):
    return {"id": "PA-1", "pack": "tay-ninh-2024", "state": "published",
            "assigned_agencies": [{"id": "so-xay-dung", "role": "lead"}],
            "publication": {"published_at": (NOW - timedelta(hours=1)).isoformat()}, **extra}


def test_one_rating_per_published_result():
    first = rating_decision(published(), LEVELS, "khong_hai_long", None, NOW, "e1", "Điều 11 khoản 3")
    rated = published(rating=first.patch["rating"])
    with pytest.raises(RatingRefused) as refused:
        rating_decision(rated, LEVELS, "hai_long", None, NOW, "e2", None)
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    republished = dict(rated, publication={"published_at": (NOW + timedelta(days=3)).isoformat()})
    assert rating_decision(republished, LEVELS, "hai_long", None, NOW + timedelta(days=4), "e3", None).kind == "rated"


@pytest.mark.parametrize("pack, kind", [("tay-ninh-2024", "reprocess_requested"),
                                        ("thua-thien-hue-2022", "clarification_requested"),
                                        ("vinh-long-2025", "clarification_requested"),
                                        ("soc-trang-2022", None), ("soc-trang-2023", None)])
def test_what_a_dissatisfied_rating_sets_off(pack, kind):
    rating = {"level": "khong_hai_long", "counts_as": "unsatisfied", "agency": "so-xay-dung"}
    follow_up = unsatisfied_follow_up(published(pack=pack, rating=rating), get_pack(pack).meta, "rating:e", NOW)
    assert (follow_up.kind if follow_up else None) == kind
    if kind == "reprocess_requested":
        assert follow_up.to_state == "in_progress" and follow_up.detail["article"] == "Điều 10 khoản 4"
    satisfied = dict(rating, level="hai_long", counts_as="satisfied")
    assert unsatisfied_follow_up(published(pack=pack, rating=satisfied), get_pack(pack).meta, "r", NOW) is None


def test_only_reprocessing_reopens_a_published_report():
    doc = {"_id": "PA-1", "state": "published", "timeline": [], "applied_events": [], "version": 4}
    reopen = Decision(report_id="PA-1", occurred_at=NOW, pack="tay-ninh-2024", kind="reprocess_requested",
                      source="rating", to_state="in_progress", from_states=["published"])
    assert plan(doc, reopen)["$set"]["state"] == "in_progress"
    with pytest.raises(IllegalTransition):
        plan(doc, reopen.model_copy(update={"kind": "rework_requested", "event_id": "other"}))


def test_rating_service_sends_the_follow_up_of_a_dissatisfied_rating(at):
    at(NOW)
    service = worker_factory(RatingService, store=RatingStore(storage.open_database("rating", "memory://")))
    rating = {"level": "khong_hai_long", "counts_as": "unsatisfied", "agency": "so-xay-dung", "at": NOW.isoformat()}
    service.on_report(Transitioned(event_id="ev-rated", report_id="PA-1", occurred_at=NOW, pack="tay-ninh-2024",
                                   cause="rated", from_state="published", to_state="published",
                                   report=published(rating=rating)).model_dump(mode="json"))
    [decision] = sent(service)
    assert decision["kind"] == "reprocess_requested" and decision["event_id"] == "rating:ev-rated"


def test_prohibited_interactions_lock_the_reporter_after_the_packs_limit(at):
    at(NOW)
    service, _ = rating_with_verification()          # verification counts the violations and keeps the lock
    report = published(pack="thua-thien-hue-2022", reporter=reporter_summary({"phone": "0905123456"}))
    assert "decision" in service.interact(report, "Xin làm rõ thời gian sửa xong")
    for n in range(4):                                   # "vi phạm trên 3 lần trong vòng 1 tháng" (Điều 14 khoản 1)
        answer = service.interact(report, f"Làm ăn như đồ chó lần {n}")
        assert answer["error"]["code"] == "PROHIBITED_INTERACTION"
    assert "Điều 14 khoản 1" in answer["error"]["detail"]
    locked = service.interact(report, "Xin làm rõ thời gian sửa xong")
    assert locked["error"]["code"] == "INTERACTION_LOCKED"
    other = published(pack="thua-thien-hue-2022", reporter=reporter_summary({"phone": "0905999888"}))
    assert "decision" in service.interact(other, "Xin làm rõ")        # someone else is not locked
    at(NOW + timedelta(days=31))                                       # the lock lasts 1 month
    assert "decision" in service.interact(report, "Xin làm rõ thời gian sửa xong")


def test_tay_ninh_sets_no_interaction_lock(at):
    at(NOW)
    service, _ = rating_with_verification()
    report = published(reporter={"phone": "0905123456"})
    for n in range(5):
        assert service.interact(report, f"đồ chó {n}")["error"]["code"] == "PROHIBITED_INTERACTION"
    assert "decision" in service.interact(report, "Xin làm rõ")


# ---- the clarify and agree actions ---------------------------------------------------------------------------
class Pack:
    def __init__(self, unsatisfied="clarify"):
        self.agencies, self.parameters = {"so-xay-dung": {}, "so-y-te": {}}, {}
        self.meta = {"rating_scale": {"unsatisfied": {"action": unsatisfied, "article": "Điều 13 khoản 2"}}}


def handled(report, action, actor, pack=None, **body):
    return decide(report, action, actor, body, pack or Pack(), NOW, "e1")


LEAD = {"role": "agency_staff", "agency": "so-xay-dung", "name": "x"}


def test_the_rated_agency_clarifies_a_dissatisfied_rating():
    report = published(rating={"counts_as": "unsatisfied"})
    decision = handled(report, "clarify", LEAD, note="Đã trao đổi lại với người dân")
    assert decision.kind == "clarified" and decision.to_state is None
    assert decision.detail["article"] == "Điều 13 khoản 2"
    with pytest.raises(Refused):
        handled(published(rating={"counts_as": "satisfied"}), "clarify", LEAD, note="x")
    with pytest.raises(Refused):
        handled(report, "clarify", LEAD, Pack("new_report"), note="x")
    with pytest.raises(Refused):
        handled(report, "clarify", {"role": "agency_staff", "agency": "so-y-te"}, note="x")


def test_the_designated_agency_agrees_or_sends_the_result_back():
    """A report designated before the route kept its designation: the open `agree` deadline names the agency."""
    tth = get_pack("thua-thien-hue-2022")
    pending = {"step": "agree", "agency": "so-y-te", "article": "Điều 16 khoản 4", "due": "x", "opened_at": "y"}
    report = published(state="approved", deadlines={"agree": pending})
    designated = {"role": "agency_leader", "agency": "so-y-te", "name": "y"}
    assert handled(report, "agree", designated, tth).kind == "agreed"
    refused = handled(report, "agree", designated, tth, value=False, note="Chưa thống nhất")
    assert refused.kind == "agreement_refused" and refused.to_state == "in_progress"
    recorded = handled(report, "agree", {"role": "operator", "agency": None, "name": "op"}, tth)
    assert recorded.detail["recorded_by"] == "op" and recorded.detail["agency"] == "so-y-te"
    with pytest.raises(Refused) as other:
        handled(report, "agree", LEAD, tth)
    assert other.value.code == "FORBIDDEN"
    with pytest.raises(Refused):
        handled(published(state="approved"), "agree", designated, tth)                 # nothing awaited
    closed = dict(pending, closed_at="z")
    with pytest.raises(Refused):
        handled(published(state="approved", deadlines={"agree": closed}), "agree", designated, tth)
