from datetime import datetime, timedelta, timezone

import pytest

from paht.rules import get_pack, list_packs
from services.handling.actions import Refused, decide

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class Pack:
    agencies = {"so-xay-dung": {"name": "Sở Xây dựng"}, "ubnd-1": {"name": "UBND phường 1"},
                "dien-luc": {"name": "Điện lực"}}
    parameters = {"extension_max_fraction": {"value": 0.5, "article": "Điều 12 khoản 2"}}
    meta = {"publication": {"after_photos_required": {"article": "Điều 11 khoản 4", "categories": ["roads_traffic"]}}}

    @staticmethod
    def evaluate(stage, facts):   # as the packs' first routing rule: the designated agency leads
        assert stage == "routing"
        if facts["designated_agency"]:
            return {"decision": "route", "lead": facts["designated_agency"], "co": [], "immediate": False,
                    "rule": "p-route-designated", "article": "Điều 16 khoản 2"}
        return {"decision": "unresolved", "rule": None, "article": None}


def report(state, lead="so-xay-dung", **extra):
    doc = {"id": "PA-1", "pack": "p", "state": state, "category": "lighting_power",
           "assigned_agencies": [{"id": lead, "name": lead, "role": "lead"}] if lead else [], "route": {}}
    doc.update(extra)
    return doc


def staff(agency="so-xay-dung", role="agency_staff"):
    return {"role": role, "agency": agency, "name": "x"}


OPERATOR = {"role": "operator", "agency": None, "name": "op"}


def act(doc, action, actor, **body):
    return decide(doc, action, actor, body, Pack(), NOW, "e1")


def test_only_the_lead_agency_acknowledges():
    assert act(report("dispatched"), "acknowledge", staff()).to_state == "in_progress"
    with pytest.raises(Refused) as refused:
        act(report("dispatched"), "acknowledge", staff("ubnd-1"))
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(Refused):
        act(report("dispatched"), "acknowledge", OPERATOR)


def test_return_goes_back_to_routing_with_the_suggestion():
    decision = act(report("dispatched"), "return", staff(), agency="ubnd-1", note="thuộc thẩm quyền phường")
    assert decision.to_state == "accepted"
    assert decision.patch["route"]["suggested_agency"] == "ubnd-1"
    assert decision.patch["route"]["returned_count"] == 1
    assert decision.patch["assigned_agencies"] == []
    with pytest.raises(Refused):
        act(report("dispatched"), "return", staff(), agency="nobody")


def test_result_needs_text_and_approval_needs_a_leader():
    with pytest.raises(Refused):
        act(report("in_progress"), "submit_result", staff())
    decision = act(report("in_progress"), "submit_result", staff(), result_text="Đã xử lý")
    assert decision.to_state == "result_submitted"
    doc = report("result_submitted", result=decision.patch["result"])
    with pytest.raises(Refused):
        act(doc, "approve", staff())
    approved = act(doc, "approve", staff(role="agency_leader"), result_text="Đã xử lý xong")
    assert approved.to_state == "approved" and approved.patch["result"]["edited_by_leader"] is True
    assert act(doc, "send_back", staff(role="agency_leader"), note="bổ sung ảnh").to_state == "in_progress"


def test_extension_is_limited_to_the_packs_fraction():
    opened = NOW - timedelta(days=2)
    due = NOW + timedelta(days=4)          # a 6-day step: at most 3 more days
    doc = report("in_progress", deadlines={"process": {"opened_at": opened.isoformat(), "due": due.isoformat()}})
    ok = act(doc, "extend", staff(), new_due=(due + timedelta(days=3)).isoformat(), note="chờ vật tư")
    assert ok.to_state is None and ok.patch["extension"]["new_due"] == (due + timedelta(days=3)).isoformat()
    with pytest.raises(Refused) as refused:
        act(doc, "extend", staff(), new_due=(due + timedelta(days=3, hours=1)).isoformat(), note="chờ vật tư")
    assert refused.value.code == "EXTENSION_TOO_LONG"


def test_designation_is_the_centres():
    doc = report("routing_unresolved", lead=None)
    with pytest.raises(Refused):
        act(doc, "designate", staff(), agency="ubnd-1")
    decision = act(doc, "designate", OPERATOR, agency="ubnd-1")
    assert decision.to_state == "dispatched"
    assert decision.patch["assigned_agencies"] == [{"id": "ubnd-1", "name": "UBND phường 1", "role": "lead"}]
    assert decision.detail["rule"] == "p-route-designated" and decision.patch["route"]["article"] == "Điều 16 khoản 2"


@pytest.mark.parametrize("pack_id", list_packs())
def test_a_designated_report_is_routed_by_the_packs_designated_rule(pack_id):
    """Review F11: the `*-route-designated` rules took effect in worked cases only, the designation dispatching
    around them; the designation is decided by them now, and the route and timeline name the rule and article."""
    pack = get_pack(pack_id)
    rule = next(r for r in pack.stages["routing"] if r["id"].endswith("-route-designated"))
    agency = next(a for a in pack.agencies if a.startswith("so-"))
    doc = report("routing_unresolved", lead=None, pack=pack_id, category="other")
    decision = decide(doc, "designate", OPERATOR, {"agency": agency}, pack, NOW, "e1")
    assert decision.to_state == "dispatched" and decision.detail["lead"] == agency
    assert (decision.detail["rule"], decision.detail["article"]) == (rule["id"], rule["article"])
    assert decision.patch["route"]["rule"] == rule["id"] and decision.patch["route"]["designated_agency"] == agency


def test_forward_adds_co_agencies_once():
    doc = report("in_progress")
    decision = act(doc, "forward", staff(), agencies=["dien-luc", "dien-luc"])
    assert [a["role"] for a in decision.patch["assigned_agencies"]] == ["lead", "co"]


def test_rework_after_approval_by_the_centre():
    assert act(report("approved"), "rework", OPERATOR, kind="format").to_state == "in_progress"
    with pytest.raises(Refused):
        act(report("approved"), "rework", OPERATOR, kind="colour")


def test_co_agencies_do_their_own_part_without_moving_the_report():
    doc = report("in_progress")
    doc["assigned_agencies"] += [{"id": "dien-luc", "name": "Điện lực", "role": "co"},
                                 {"id": "ubnd-1", "name": "UBND", "role": "co"}]
    assert act(doc, "acknowledge", staff("dien-luc")).to_state is None
    part = act(doc, "submit_result", staff("dien-luc"), result_text="Đã thay dây điện")
    assert part.kind == "co_result_submitted" and part.to_state is None
    doc["result"] = {"contributions": part.patch["result.contributions"]}
    with pytest.raises(Refused):
        act(doc, "approve", staff("dien-luc"))                      # staff cannot approve
    approved = act(doc, "approve", staff("dien-luc", "agency_leader"))
    assert approved.detail["all_approved"] is False                 # ubnd-1 has not answered
    doc["result"] = {"contributions": approved.patch["result.contributions"]}
    returned = act(doc, "return", staff("ubnd-1"), agency="so-xay-dung")
    assert returned.detail["all_approved"] is True and returned.to_state is None
    assert [a["id"] for a in returned.patch["assigned_agencies"]] == ["so-xay-dung", "dien-luc"]
    with pytest.raises(Refused):
        act(doc, "forward", staff("dien-luc"), agencies=["ubnd-1"])  # only the lead forwards
    doc["assigned_agencies"] = returned.patch["assigned_agencies"]
    compiled = act(doc, "submit_result", staff(), result_text="Tổng hợp kết quả")
    assert compiled.to_state == "result_submitted" and "dien-luc" in compiled.patch["result"]["contributions"]


def test_after_photos_where_the_pack_requires_them():
    doc = report("in_progress", category="roads_traffic")
    with pytest.raises(Refused) as refused:
        act(doc, "submit_result", staff(), result_text="Đã vá")
    assert "Điều 11 khoản 4" in refused.value.detail
    assert act(doc, "submit_result", staff(), result_text="Đã vá", after_photos=["ab" * 32]).to_state == \
        "result_submitted"


@pytest.mark.parametrize("pack_id", list_packs())
def test_the_centre_finds_a_dispatched_report_unresolved(pack_id):
    """ST-22 Điều 16, ST-23 Điều 5, TTH Điều 16, VL Điều 17, TN Điều 7 khoản 3 điểm c: before the agency takes it
    up, the centre may find no agency can be identified; the report waits for the designation under the pack's
    unresolved routing rule."""
    pack = get_pack(pack_id)
    rule = next(r for r in pack.stages["routing"] if r["then"]["action"] == "unresolved")
    doc = report("dispatched", pack=pack_id, route={"lead": "so-xay-dung", "rule": "x"})
    with pytest.raises(Refused) as refused:
        decide(doc, "unresolve", staff(), {"note": "x"}, pack, NOW, "e1")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(Refused) as refused:
        decide(doc, "unresolve", OPERATOR, {}, pack, NOW, "e1")
    assert refused.value.code == "VALIDATION_FAILED"
    decision = decide(doc, "unresolve", OPERATOR, {"note": "Không thuộc lĩnh vực của cơ quan nào"}, pack, NOW, "e1")
    assert (decision.to_state, decision.patch["assigned_agencies"]) == ("routing_unresolved", [])
    assert (decision.detail["rule"], decision.detail["article"]) == (rule["id"], rule["article"])
    assert decision.patch["route"]["lead"] is None and decision.patch["route"]["rule"] == rule["id"]
    with pytest.raises(Refused):
        decide(report("in_progress", pack=pack_id), "unresolve", OPERATOR, {"note": "x"}, pack, NOW, "e1")
