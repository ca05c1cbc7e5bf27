"""Issue 23 items 2 and 10 without a broker: the designated agency's agreement gates publication (TTH Điều 16
khoản 4, VL Điều 17 khoản 4) and the centre reopens a returned result for an update (TTH Điều 11 khoản 4, VL Điều
12 khoản 4 điểm b), the old result staying visible beside the new one."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from paht import actors
from paht.agreement import agreeing_agency, awaited_agreement, designated_agency
from paht.errors import MESSAGES
from paht.rules import get_pack
from paht.schemas import Decision, StaffQuery, Transitioned
from paht.states import IllegalTransition, plan
from services.handling.actions import Refused, decide
from services.intake.access import may_see, staff_filter
from services.intake.views import public_view
from services.publishing import notifications as n
from services.publishing.service import PublishingService

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
COORDINATING = ("thua-thien-hue-2022", "vinh-long-2025")
OPERATOR = {"role": "operator", "agency": None, "name": "op"}
COORDINATOR = {"role": "agency_leader", "agency": "so-y-te", "name": "LĐ Sở Y tế"}
LEAD = {"role": "agency_leader", "agency": "so-xay-dung", "name": "LĐ Sở Xây dựng"}


def report(pack_id="thua-thien-hue-2022", state="approved", designated="so-y-te", **extra) -> dict:
    """A report the province designated `designated` for, which named so-xay-dung competent (the lead now)."""
    route = {"lead": "so-xay-dung", "designated_agency": None, "returned_by": [designated]}
    if designated:
        route["designation"] = {"agency": designated, "at": NOW.isoformat(), "by": "op"}
    doc = {"id": "PA-261124-0000ABCD", "_id": "PA-261124-0000ABCD", "pack": pack_id, "state": state,
           "category": "roads_traffic", "description": "Ổ gà", "submitted_at": NOW - timedelta(days=3),
           "assigned_agencies": [{"id": "so-xay-dung", "name": "Sở Xây dựng", "role": "lead"}], "route": route,
           "result": {"text": "Đã vá ổ gà", "approved_by": "LĐ", "approved_at": NOW.isoformat()},
           "deadlines": {}, "timeline": [], "applied_events": [], "version": 3}
    doc.update(extra)
    return doc


def act(doc, action, actor, **body) -> Decision:
    return decide(doc, action, actor, body, get_pack(doc["pack"]), NOW, "e1")


def applied(doc: dict, decision: Decision) -> dict:
    update = plan(doc, decision)
    return dict(doc, **update["$set"])


# ---- the agreement --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pack_id", COORDINATING)
def test_the_designation_is_kept_on_the_route_and_names_whose_agreement_the_result_needs(pack_id):
    held = report(pack_id, state="routing_unresolved", designated=None, assigned_agencies=[], route={})
    decision = act(held, "designate", OPERATOR, agency="so-y-te")
    assert decision.patch["route"]["designation"]["agency"] == "so-y-te"
    meta = get_pack(pack_id).meta
    assert agreeing_agency(meta, report(pack_id)) == "so-y-te"
    assert agreeing_agency(meta, report(pack_id, designated="so-xay-dung")) is None   # it handled it itself
    assert agreeing_agency(meta, report(pack_id, designated=None)) is None            # never designated
    # the lead designated by the province in ST-22 processes the report itself: no agreement
    assert agreeing_agency(get_pack("soc-trang-2022").meta, report("soc-trang-2022")) is None


@pytest.mark.parametrize("pack_id", COORDINATING)
def test_an_agreement_counts_for_the_result_it_was_given_to(pack_id):
    doc = report(pack_id)
    meta = get_pack(pack_id).meta
    assert awaited_agreement(meta, doc) == "so-y-te"
    agreed = applied(doc, act(doc, "agree", COORDINATOR, note="Thống nhất"))
    assert agreed["agreement"]["agreed"] is True and awaited_agreement(meta, agreed) is None
    article = get_pack(pack_id).parameters["agree_time"]["article"]
    assert agreed["agreement"]["article"] == article
    reapproved = dict(agreed, result=dict(agreed["result"], approved_at=(NOW + timedelta(hours=2)).isoformat()))
    assert awaited_agreement(meta, reapproved) == "so-y-te"                          # a new result: asked again


@pytest.mark.parametrize("pack_id", COORDINATING)
def test_disagreement_sends_the_result_back_to_the_agencys_step(pack_id):
    doc = report(pack_id)
    decision = act(doc, "agree", COORDINATOR, value=False, note="Chưa khắc phục triệt để")
    assert (decision.kind, decision.to_state) == ("agreement_refused", "in_progress")
    assert decision.patch["agreement"]["agreed"] is False
    back = applied(doc, decision)
    assert back["state"] == "in_progress" and awaited_agreement(get_pack(pack_id).meta, dict(back, state="approved"))
    with pytest.raises(Refused) as other:
        act(doc, "agree", LEAD)
    assert other.value.code == "FORBIDDEN"


@pytest.mark.parametrize("pack_id", COORDINATING)
def test_the_centre_cannot_publish_before_the_designated_agency_agrees(pack_id, monkeypatch):
    monkeypatch.setenv("PAHT_INTERNAL_SECRET", "test-secret")
    service = worker_factory(PublishingService)
    doc = {k: v for k, v in report(pack_id).items() if k != "_id"}
    actor = actors.signed(OPERATOR, doc["id"], "publish")
    refused = service.act(doc, "publish", actor, {})["error"]
    article = get_pack(pack_id).parameters["agree_time"]["article"]
    assert refused["code"] == "AGREEMENT_PENDING" and article in refused["detail"]
    assert refused["fields"] == {"agency": "so-y-te"}
    status, message, _english = MESSAGES["AGREEMENT_PENDING"]
    assert status == 409 and article in message and "thống nhất trước khi công khai" in message
    agreed = dict(doc, agreement={"agency": "so-y-te", "agreed": True, "approved_at": doc["result"]["approved_at"]})
    decision = Decision.model_validate(service.act(agreed, "publish", actor, {})["decision"])
    assert decision.to_state == "published"
    # a report whose designated agency handled it itself publishes at once
    own = dict(doc, route={"designation": {"agency": "so-xay-dung"}})
    assert "decision" in service.act(own, "publish", actor, {})


def test_the_designated_agency_is_told_and_sees_the_report():
    change = Transitioned(event_id="ev-1", report_id="PA-261124-0000ABCD", occurred_at=NOW,
                          pack="thua-thien-hue-2022", cause="approved", from_state="result_submitted",
                          to_state="approved", report={k: v for k, v in report().items() if k != "_id"})
    pack = get_pack("thua-thien-hue-2022")
    assert [(x.event, x.agency) for x in n.notifications_for(change, pack)] == [("agreement_requested", "so-y-te")]
    notice = n.notifications_for(change, pack)[0]
    rendered = n.render(pack, "agreement_requested", n.context_for(notice, change, pack, None))
    assert "Điều 16 khoản 4" in rendered.body and "01 ngày làm việc" in rendered.body
    assert "Đã vá ổ gà" in rendered.body
    for cause in ("agreement_refused", "reopened"):
        back = change.model_copy(update={"cause": cause, "from_state": "approved", "to_state": "in_progress"})
        assert [(x.event, x.agency) for x in n.notifications_for(back, pack)] == [("rework", "so-xay-dung")]
        assert "PA-261124-0000ABCD" in n.render(pack, "rework", n.context_for(
            n.notifications_for(back, pack)[0], back, pack, None)).body
    designated = {"role": "agency_staff", "agency": "so-y-te", "pack": "thua-thien-hue-2022"}
    assert may_see(designated, report()) and designated_agency(report()) == "so-y-te"
    assert not may_see(dict(designated, agency="cong-an"), report())
    query = staff_filter(designated, StaffQuery())
    assert query["$or"] == [{"assigned_agencies.id": "so-y-te"}, {"route.designation.agency": "so-y-te"}]


# ---- the update of a returned result ---------------------------------------------------------------------------
def published(pack_id="thua-thien-hue-2022", private=False, **extra) -> dict:
    publication = {"letter": "**THÔNG TIN KẾT QUẢ XỬ LÝ**\n\nĐã vá ổ gà.", "published_at": NOW.isoformat(),
                   "private": private}
    return report(pack_id, state="delivered_privately" if private else "published", designated=None,
                  publication=publication, **extra)


@pytest.mark.parametrize("pack_id", COORDINATING)
def test_the_centre_reopens_a_published_result_back_to_the_agency(pack_id):
    doc = published(pack_id)
    decision = act(doc, "reopen", OPERATOR, note="Sở Xây dựng đề nghị cập nhật kết quả thảm lại mặt đường")
    article = get_pack(pack_id).meta["publication"]["update"]["article"]
    assert (decision.kind, decision.to_state, decision.detail["article"]) == ("reopened", "in_progress", article)
    reopened = applied(doc, decision)
    assert reopened["state"] == "in_progress" and reopened["publication"] is None
    (earlier,) = reopened["previous_results"]
    assert earlier["publication"]["letter"] == doc["publication"]["letter"] and earlier["superseded_at"]
    # the agency reports again, its leader approves, the centre publishes: both results are shown
    view = public_view(dict(reopened, state="published", publication={
        "letter": "Đã thảm lại mặt đường.", "published_at": (NOW + timedelta(days=1)).isoformat(), "private": False}))
    assert view["result"]["letter"] == "Đã thảm lại mặt đường."
    assert [r["letter"] for r in view["previous_results"]] == [doc["publication"]["letter"]]
    assert view["previous_results"][0]["superseded_at"] == NOW.isoformat()
    # while the update is under way the old result stays visible
    assert public_view(reopened)["previous_results"][0]["letter"] == doc["publication"]["letter"]


@pytest.mark.parametrize("pack_id", COORDINATING)
def test_the_agencys_updated_result_goes_straight_to_the_centres_publication(pack_id):
    doc = published(pack_id)
    decision = act(doc, "reopen", OPERATOR, note="Cập nhật theo đề nghị", result_text="Đã thảm lại mặt đường")
    assert (decision.to_state, decision.detail["update"]) == ("approved", "centre")
    updated = applied(doc, decision)
    assert updated["result"]["text"] == "Đã thảm lại mặt đường" and updated["result"]["approved_at"] == NOW.isoformat()
    assert updated["result"]["update"]["provided_by"] == "so-xay-dung"


def test_only_the_centre_reopens_only_a_returned_result_where_the_pack_says_so():
    with pytest.raises(Refused) as agency:
        act(published(), "reopen", LEAD, note="x")
    assert agency.value.code == "FORBIDDEN"
    with pytest.raises(Refused) as early:
        act(report(state="in_progress"), "reopen", OPERATOR, note="x")
    assert early.value.code == "ACTION_NOT_ALLOWED"
    with pytest.raises(Refused) as no_note:
        act(published(), "reopen", OPERATOR)
    assert no_note.value.code == "VALIDATION_FAILED"
    with pytest.raises(Refused) as no_clause:                       # ST-22 has no update clause
        act(published("soc-trang-2022"), "reopen", OPERATOR, note="x")
    assert no_clause.value.code == "ACTION_NOT_ALLOWED"
    assert act(published(private=True), "reopen", OPERATOR, note="x").to_state == "in_progress"


def test_only_a_reopening_leaves_a_returned_result():
    doc = published()
    other = Decision(event_id="e2", report_id=doc["id"], occurred_at=NOW, pack=doc["pack"], kind="sent_back",
                     source="handling", to_state="approved", from_states=["published"])
    with pytest.raises(IllegalTransition):
        plan(doc, other)


def test_a_private_earlier_result_is_its_reporters_alone():
    doc = applied(published(private=True), act(published(private=True), "reopen", OPERATOR, note="x"))
    assert "previous_results" not in public_view(doc)
    assert public_view(doc, owner=True)["previous_results"][0]["private"] is True


def test_an_update_is_neither_a_second_resolution_nor_late_against_the_reporting_limit():
    from services.intake.accountability import agency_counters
    at = lambda hours: (NOW + timedelta(hours=hours)).isoformat()
    entry = lambda kind, hours, **detail: {"kind": kind, "at": at(hours), "detail": detail, "actor": {}}
    timeline = [entry("routed", 0, lead="so-xay-dung"), entry("result_submitted", 5), entry("published", 6),
                entry("reopened", 24 * 30), entry("result_submitted", 24 * 31), entry("published", 24 * 31 + 1)]
    doc = {"_id": "PA-1", "state": "published", "timeline": timeline}
    limit = lambda received: received + timedelta(days=7)          # the pack's late_report_limit
    card = agency_counters([doc], {}, {}, NOW, NOW + timedelta(days=60), NOW + timedelta(days=60), limit)
    assert card["so-xay-dung"]["resolved"] == 1 and card["so-xay-dung"]["results_count"] == 2
    assert card["so-xay-dung"]["late_over_limit_count"] == 0
    reopened = dict(doc, state="in_progress", timeline=timeline[:4])     # the update still under way
    card = agency_counters([reopened], {}, {}, NOW, NOW + timedelta(days=60), NOW + timedelta(days=60), limit)
    assert card["so-xay-dung"]["late_over_limit_count"] == 0
