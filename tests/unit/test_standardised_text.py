"""The centre standardises a report's text (issue 23 item 9; review M2 M3 M5 M7): `edit_text {"description",
"title"}` corrects spelling and format on receipt, the reporter's original stays beside the edit for staff, the
public reads the edited text. Pure functions, real rule packs."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from paht.errors import Refused
from paht.rules import get_pack
from paht.schemas import Decision, SupplementIn
from paht.states import plan
from services.handling.actions import decide
from services.intake.reports import forget_reporter, supplement_decision
from services.intake.views import public_view, staff_view

VN = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
OPERATOR = {"role": "operator", "agency": None, "name": "Tổng đài viên"}
AGENCY = {"role": "agency_staff", "agency": "so-xay-dung", "name": "Cán bộ"}
ORIGINAL = "o ga lon giua duong le loi , nguy hiem"
ARTICLES = {"soc-trang-2022": "Điều 8 khoản 1", "soc-trang-2023": "Điều 2 khoản 4; Điều 9 khoản 2 điểm c; Điều 12 khoản 2",
            "thua-thien-hue-2022": "Điều 9 khoản 1", "vinh-long-2025": "Điều 10 khoản 1"}


def report(pack="vinh-long-2025", state="accepted", **extra):
    doc = {"_id": "PA-261123-0000ABCD", "id": "PA-261123-0000ABCD", "pack": pack, "state": state,
           "category": "roads_traffic", "description": ORIGINAL, "ward": {"code": "1", "name": "Phường 1"},
           "assigned_agencies": [{"id": "so-xay-dung", "name": "Sở Xây dựng", "role": "lead"}], "route": {},
           "reporter": {"name": "An", "phone": "0905123456"}, "keep_private": False, "submitted_at": NOW,
           "deadlines": {}, "timeline": [], "applied_events": [], "version": 0}
    doc.update(extra)
    return doc


def act(doc, actor, **body):
    return decide(doc, "edit_text", actor, body, get_pack(doc["pack"]), NOW, uuid.uuid4().hex)


def apply(doc, decision: Decision) -> dict:
    update = plan(doc, decision)
    doc = dict(doc, **update["$set"])
    doc["timeline"] = doc["timeline"] + [update["$push"]["timeline"]]
    doc["applied_events"] = doc["applied_events"] + [decision.event_id]
    return doc


@pytest.mark.parametrize("pack_id", sorted(ARTICLES))
def test_the_centre_corrects_the_text_and_keeps_the_original_beside_it(pack_id):
    doc = report(pack_id)
    decision = act(doc, OPERATOR, description="Ổ gà lớn giữa đường Lê Lợi, nguy hiểm.", title="Ổ gà đường Lê Lợi")
    assert decision.kind == "text_edited" and decision.to_state is None and decision.source == "handling"
    assert decision.detail == {"fields": ["description", "title"], "article": ARTICLES[pack_id], "by": "Tổng đài viên"}
    assert ORIGINAL not in repr(decision.detail)          # the timeline outlives the reporter's text: no text in it
    doc = apply(doc, decision)
    assert doc["original_text"] == {"description": ORIGINAL, "title": None}
    public = public_view(doc)
    assert public["description"] == "Ổ gà lớn giữa đường Lê Lợi, nguy hiểm." and public["title"] == "Ổ gà đường Lê Lợi"
    assert "original_text" not in public and ORIGINAL not in repr(public)
    for viewer in (OPERATOR, AGENCY):                      # staff read the original beside the edit
        seen = staff_view(doc, viewer)
        assert seen["original_text"]["description"] == ORIGINAL and seen["description"].startswith("Ổ gà lớn")
    # a second edit keeps the reporter's first text as the original
    doc = apply(doc, act(doc, OPERATOR, description="Ổ gà lớn giữa đường Lê Lợi (đoạn trước số 12), nguy hiểm."))
    assert doc["original_text"] == {"description": ORIGINAL, "title": None}
    assert doc["timeline"][-1]["detail"]["fields"] == ["description"]


def test_only_the_centre_edits_and_only_while_it_receives_the_report():
    for actor in (AGENCY, dict(AGENCY, role="agency_leader")):
        with pytest.raises(Refused) as refused:
            act(report(), actor, description="Ổ gà lớn.")
        assert refused.value.code == "FORBIDDEN"
    for state in ("submitted", "accepted", "routing_unresolved", "dispatched"):
        assert act(report(state=state), OPERATOR, description="Ổ gà lớn.").kind == "text_edited"
    for state in ("in_progress", "result_submitted", "approved", "published", "rejected", "needs_supplement"):
        with pytest.raises(Refused) as refused:
            act(report(state=state), OPERATOR, description="Ổ gà lớn.")
        assert refused.value.code == "ACTION_NOT_ALLOWED"


def test_an_edit_says_what_changes_and_tay_ninh_has_no_such_clause():
    for body in ({}, {"description": ORIGINAL}, {"title": ""}, {"description": "   "}):
        with pytest.raises(Refused) as refused:
            act(report(), OPERATOR, **body)
        assert refused.value.code == "VALIDATION_FAILED"
    with pytest.raises(Refused) as refused:             # TN's Quy định has no standardisation article
        act(report("tay-ninh-2024"), OPERATOR, description="Ổ gà lớn.")
    assert refused.value.code == "ACTION_NOT_ALLOWED"


def test_the_reporters_supplement_is_their_own_text_and_retention_forgets_both():
    doc = apply(report(state="submitted"), act(report(state="submitted"), OPERATOR, description="Ổ gà lớn.",
                                               title="Ổ gà"))
    supplement = supplement_decision(dict(doc, state="needs_supplement"),
                                     SupplementIn(description="Ổ gà rất lớn, đã có người ngã"), [], NOW)
    assert supplement.patch["description"] == "Ổ gà rất lớn, đã có người ngã"
    assert supplement.patch["original_text"] == {"title": None}
    forgotten = forget_reporter(doc)
    assert forgotten["description"] is None and forgotten["title"] is None and forgotten["original_text"] is None


def test_the_staff_page_offers_each_form_to_whom_and_when_the_seed_says():
    from services.gateway.pages.staff import offered_actions
    centre, agency = {"role": "operator", "agency": None}, {"role": "agency_staff", "agency": "so-xay-dung"}
    lead = [{"id": "so-xay-dung", "role": "lead"}]

    def view(pack, state, **extra):
        return {"pack": pack, "state": state, "deadlines": [], "assigned_agencies": lead, "timeline": []} | extra

    assert "edit_text" in offered_actions(view("vinh-long-2025", "accepted"), centre)
    assert "edit_text" not in offered_actions(view("vinh-long-2025", "in_progress"), centre)
    assert "edit_text" not in offered_actions(view("tay-ninh-2024", "accepted"), centre)
    assert "edit_text" not in offered_actions(view("vinh-long-2025", "accepted"), agency)
    pending = {"extension": {"set": False, "new_due": "2026-12-02T09:00:00+07:00"}}
    assert "set_extension" in offered_actions(view("soc-trang-2022", "in_progress", **pending), centre)
    assert "set_extension" not in offered_actions(view("soc-trang-2022", "in_progress"), centre)
    masked = {"reporter": {"masked": True}}
    assert "request_contact" in offered_actions(view("tay-ninh-2024", "in_progress", **masked), agency)
    assert "request_contact" not in offered_actions(view("tay-ninh-2024", "in_progress", reporter={}), agency)
    assert "request_contact" not in offered_actions(view("soc-trang-2022", "in_progress", **masked), agency)
