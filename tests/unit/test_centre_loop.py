"""The centre's loop around a result (issue 11): its check before publication (publish or rework), extensions
capped against the step's original time where the pack caps them, state secrets and non-public reports, the
reporter's contact data for agencies, and each pack's own result letter. Pure functions, real rule packs."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory

from paht import actors
from paht.errors import Refused
from paht.rules import get_pack
from paht.schemas import Decision, Transitioned
from paht.states import plan
from paht.worktime import calendar_for
from services.handling.actions import decide
from services.intake.views import masked_reporter, public_view, staff_view, withheld
from services.publishing.letters import delivery, md, publication_decision
from services.publishing.service import PublishingService

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = timezone(timedelta(hours=7))
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=VN)      # a Monday, in office hours
PACKS = ("soc-trang-2022", "soc-trang-2023", "thua-thien-hue-2022", "vinh-long-2025", "tay-ninh-2024")
OPERATOR = {"role": "operator", "agency": None, "name": "Tổng đài viên"}
REPORTER = {"name": "Nguyễn Văn An", "phone": "0905123456", "email": "an@example.vn", "address": "1 Lê Lợi",
            "citizen_id": "079123456789", "account_id": "acc-1", "account_verified": True}


def staff(role="agency_staff", agency="so-xay-dung"):
    return {"role": role, "agency": agency, "name": "Cán bộ"}


def report(pack="soc-trang-2022", state="in_progress", **extra):
    doc = {"_id": "PA-261123-0000ABCD", "id": "PA-261123-0000ABCD", "pack": pack, "state": state,
           "category": "roads_traffic", "description": "Ổ gà lớn giữa đường", "ward": {"code": "1", "name": "Phường 1"},
           "assigned_agencies": [{"id": "so-xay-dung", "name": "Sở Xây dựng", "role": "lead"}], "route": {},
           "reporter": dict(REPORTER), "keep_private": False, "submitted_at": OPENED, "deadlines": {},
           "timeline": [], "applied_events": [], "version": 0}
    doc.update(extra)
    return doc


def process_deadline(pack_id, opened=OPENED):
    pack = get_pack(pack_id)
    rule = pack.evaluate("sla", {"step": "process", "urgent": False, "multi_agency": False})
    due = calendar_for(pack.meta).add(opened, rule["amount"], rule["unit"])
    return {"step": "process", "opened_at": opened.isoformat(), "due": due.isoformat(), "late": False,
            "amount": rule["amount"], "unit": rule["unit"], "rule": rule["rule"], "article": rule["article"]}


def act(doc, action, actor, now=OPENED + timedelta(hours=1), **body):
    return decide(doc, action, actor, body, get_pack(doc["pack"]), now, uuid.uuid4().hex)


def apply(doc, decision: Decision) -> dict:
    update = plan(doc, decision)
    doc = dict(doc, **update["$set"])
    doc["timeline"] = doc["timeline"] + [update["$push"]["timeline"]]
    doc["applied_events"] = doc["applied_events"] + [decision.event_id]
    for key in [k for k in doc if "." in k]:          # "deadlines.process" → nested, as the store does
        outer, inner = key.split(".", 1)
        doc[outer] = dict(doc.get(outer) or {}, **{inner: doc.pop(key)})
    return doc


def extend(doc, new_due, note="Chờ vật tư, cam kết hoàn thành đúng hạn mới"):
    """The agency's extension applied — in ST-22 and ST-23 its notice, then the centre's setting of the time from it
    — and the deadline moved as sla does."""
    decision = act(doc, "extend", staff(), new_due=new_due.isoformat(), note=note)
    doc = apply(doc, decision)
    if decision.kind == "extension_noticed":
        doc = apply(doc, act(doc, "set_extension", OPERATOR))
    return dict(doc, deadlines={"process": dict(doc["deadlines"]["process"], due=new_due.isoformat())})


# ---- extensions ------------------------------------------------------------------------------------------------
def test_st22_caps_the_extension_at_half_the_steps_original_time():
    """ST-22 Điều 10 khoản 2 điểm c: not beyond ½ of the prescribed 6 working days."""
    pack = get_pack("soc-trang-2022")
    calendar = calendar_for(pack.meta)
    deadline = process_deadline("soc-trang-2022")
    original = datetime.fromisoformat(deadline["due"])
    assert (deadline["amount"], deadline["unit"]) == (6, "wd")
    doc = report(deadlines={"process": deadline})
    with pytest.raises(Refused) as refused:          # 3.75 wd > 3 wd
        act(doc, "extend", staff(), new_due=calendar.add(original, 3.75, "wd").isoformat(), note="Thêm")
    assert refused.value.code == "EXTENSION_TOO_LONG"
    assert refused.value.fields["latest_due"] == calendar.add(original, 3, "wd").isoformat()
    with pytest.raises(Refused) as refused:          # not even a minute more
        act(doc, "extend", staff(), new_due=(calendar.add(original, 3, "wd") + timedelta(minutes=1)).isoformat(),
            note="Thêm")
    assert refused.value.code == "EXTENSION_TOO_LONG"
    doc = extend(doc, calendar.add(original, 3, "wd"))   # exactly ½ is allowed
    assert [e["number"] for e in doc["extensions"]] == [1]
    assert doc["extensions"][0]["original_due"] == original.isoformat()
    assert doc["extension"] == doc["extensions"][-1] and doc["extension"]["article"] == "Điều 10 khoản 2 điểm c"


@pytest.mark.parametrize("pack_id, article", [("soc-trang-2022", "Điều 10 khoản 2 điểm c"),
                                              ("soc-trang-2023", "Điều 14 khoản 3")])
def test_in_soc_trang_the_agency_notifies_and_the_centre_sets_the_final_time_once(pack_id, article):
    """ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3: the agency's "văn bản thông báo và cam kết thời hạn xử lý
    dứt điểm gửi đến tổ chức, cá nhân" is a notice (the reporter reads it; the deadline does not move); "Nhân sự
    tiếp nhận tại Trung tâm GSĐH tỉnh căn cứ văn bản thông báo gia hạn ... xác định thời gian xử lý": the centre's
    set_extension moves it, to the committed time. "Dứt điểm": one extension per processing deadline."""
    deadline = process_deadline(pack_id)
    due = datetime.fromisoformat(deadline["due"])
    doc = report(pack_id, deadlines={"process": deadline})
    with pytest.raises(Refused) as refused:          # nothing to set yet
        act(doc, "set_extension", OPERATOR)
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    noticed = act(doc, "extend", staff(), new_due=(due + timedelta(days=1)).isoformat(), note="Cần khảo sát thêm")
    assert noticed.kind == "extension_noticed" and noticed.to_state is None
    assert "extension" not in noticed.patch and noticed.patch["extension_notice"]["new_due"] == \
        (due + timedelta(days=1)).isoformat()
    assert noticed.detail["to_reporter"] is True and noticed.detail["article"] == article
    doc = apply(doc, noticed)
    view = public_view(doc)
    assert view["extension"]["set"] is False and view["extension"]["note"] == "Cần khảo sát thêm"
    assert "extended_to" not in next(d for d in view["deadlines"] if d["step"] == "process")
    with pytest.raises(Refused) as refused:          # a second notice while the first awaits the centre
        act(doc, "extend", staff(), new_due=(due + timedelta(days=2)).isoformat(), note="Thêm")
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    for actor in (staff(), staff("agency_leader")):  # the agency does not set the time itself
        with pytest.raises(Refused) as refused:
            act(doc, "set_extension", actor)
        assert refused.value.code == "FORBIDDEN"
    decision = act(doc, "set_extension", OPERATOR)
    assert decision.kind == "extended" and decision.patch["extension_notice"] is None
    assert decision.patch["extension"]["new_due"] == (due + timedelta(days=1)).isoformat()
    assert decision.patch["extension"]["by"] == "so-xay-dung" and decision.patch["extension"]["set_by"] == "Tổng đài viên"
    doc = apply(doc, decision)
    doc = dict(doc, deadlines={"process": dict(doc["deadlines"]["process"], due=(due + timedelta(days=1)).isoformat())})
    view = public_view(doc)
    assert view["extension"]["set"] is True
    assert next(d for d in view["deadlines"] if d["step"] == "process")["extended_to"] == \
        (due + timedelta(days=1)).isoformat()
    with pytest.raises(Refused) as refused:          # the committed time is final
        act(doc, "extend", staff(), new_due=(due + timedelta(days=2)).isoformat(), note="Thêm nữa")
    assert refused.value.code == "ACTION_NOT_ALLOWED" and "dứt điểm" in refused.value.detail


@pytest.mark.parametrize("pack_id", ["thua-thien-hue-2022", "vinh-long-2025", "tay-ninh-2024"])
def test_packs_where_the_agency_sets_the_time_accept_chained_extensions(pack_id):
    """TN Điều 8 khoản 2 điểm a (reason and expected date, in writing): no cap, no limit on the number, the agency
    sets the time; nor do Huế and Vĩnh Long set one. The centre has nothing to set there."""
    assert "extension_max_fraction" not in get_pack(pack_id).parameters
    assert not get_pack(pack_id).meta.get("extension")
    deadline = process_deadline(pack_id)
    doc = report(pack_id, deadlines={"process": deadline})
    due = datetime.fromisoformat(deadline["due"])
    for n in range(1, 4):
        doc = extend(doc, due + timedelta(days=10 * n))
    assert len(doc["extensions"]) == 3 and doc["extension"]["new_due"] == (due + timedelta(days=30)).isoformat()
    with pytest.raises(Refused) as refused:
        act(doc, "set_extension", OPERATOR)
    assert refused.value.code == "ACTION_NOT_ALLOWED"


def test_an_extension_needs_the_notice_and_a_later_date_and_the_lead():
    doc = report(deadlines={"process": process_deadline("soc-trang-2022")})
    due = datetime.fromisoformat(doc["deadlines"]["process"]["due"])
    with pytest.raises(Refused) as refused:
        act(doc, "extend", staff(), new_due=(due + timedelta(hours=2)).isoformat())
    assert refused.value.code == "VALIDATION_FAILED"
    with pytest.raises(Refused):
        act(doc, "extend", staff(), new_due=(due - timedelta(hours=2)).isoformat(), note="x")
    with pytest.raises(Refused) as refused:
        act(doc, "extend", staff(agency="dien-luc"), new_due=(due + timedelta(hours=2)).isoformat(), note="x")
    assert refused.value.code == "FORBIDDEN"


def test_the_reporter_sees_the_new_due_date_and_the_agencys_commitment():
    deadline = process_deadline("tay-ninh-2024")
    due = datetime.fromisoformat(deadline["due"])
    doc = report("tay-ninh-2024", deadlines={"process": deadline})
    doc = extend(doc, due + timedelta(days=2), note="Cần khảo sát thêm; cam kết xong trước ngày mới")
    doc = extend(doc, due + timedelta(days=4), note="Chờ vật tư về")
    view = public_view(doc)
    shown = next(d for d in view["deadlines"] if d["step"] == "process")
    assert shown["extended_to"] == (due + timedelta(days=4)).isoformat() and shown["extended_from"] == due.isoformat()
    assert view["extension"]["new_due"] == (due + timedelta(days=4)).isoformat()
    assert view["extension"]["note"] == "Chờ vật tư về" and view["extension"]["at"]
    assert [item["note"] for item in view["extension"]["history"]] == [
        "Cần khảo sát thêm; cam kết xong trước ngày mới", "Chờ vật tư về"]


# ---- the centre's check: publish or rework ---------------------------------------------------------------------
@pytest.mark.parametrize("pack_id", PACKS)
def test_every_pack_holds_an_approved_result_for_the_centres_check(pack_id, monkeypatch):
    monkeypatch.setenv("PAHT_INTERNAL_SECRET", "test-secret")
    publication = get_pack(pack_id).meta["publication"]
    assert publication["operator_review"] is True and publication["operator_review_article"]
    service = worker_factory(PublishingService)
    doc = report(pack_id, "approved", result={"text": "Đã vá ổ gà", "approved_by": "Lãnh đạo"})
    announced = Transitioned(event_id="ev-approved", report_id=doc["id"], occurred_at=OPENED, pack=pack_id,
                             cause="approved", from_state="result_submitted", to_state="approved",
                             report={k: v for k, v in doc.items() if k != "_id"}).model_dump(mode="json")
    service.on_report(announced)
    assert not service.dispatch.called                 # nothing published by itself

    snapshot = {k: v for k, v in doc.items() if k != "_id"}
    for role in ("agency_staff", "agency_leader"):
        actor = actors.signed(staff(role), doc["id"], "publish")
        assert service.act(snapshot, "publish", actor, {})["error"]["code"] == "FORBIDDEN"
    actor = actors.signed(OPERATOR, doc["id"], "publish")
    early = dict(snapshot, state="result_submitted")
    assert service.act(early, "publish", actor, {})["error"]["code"] == "ACTION_NOT_ALLOWED"
    answer = service.act(snapshot, "publish", actor, {"result_text": "Đã vá ổ gà, thảm lại mặt đường",
                                                      "letter_number": "15/SXD-HT"})
    decision = Decision.model_validate(answer["decision"])
    assert decision.to_state == "published" and decision.from_states == ["approved"]
    assert "Đã vá ổ gà, thảm lại mặt đường" in decision.patch["publication"]["letter"]
    assert decision.patch["publication"]["edited_by_centre"] is True


def test_rework_sends_an_approved_result_back_with_its_kind_by_the_centre_only():
    doc = report("thua-thien-hue-2022", "approved")
    for kind, article in (("format", "Điều 12 khoản 2 đoạn 1"), ("content", "Điều 12 khoản 2 đoạn 2")):
        decision = act(doc, "rework", OPERATOR, kind=kind, note="Thiếu ảnh sau xử lý")
        assert (decision.kind, decision.to_state) == ("rework_requested", "in_progress")
        assert decision.detail == {"kind": kind, "note": "Thiếu ảnh sau xử lý", "article": article}
    with pytest.raises(Refused) as refused:
        act(doc, "rework", staff("agency_leader"), kind="content")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(Refused) as refused:
        act(report("thua-thien-hue-2022", "result_submitted"), "rework", OPERATOR, kind="content")
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    with pytest.raises(Refused):
        act(doc, "rework", OPERATOR, kind="colour")


# ---- privacy -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pack_id", PACKS)
def test_the_centre_marks_a_state_secret_in_any_open_state_and_it_is_delivered_privately(pack_id):
    for state in ("submitted", "dispatched", "in_progress", "approved"):
        decision = act(report(pack_id, state), "mark_secret", OPERATOR, note="Liên quan bí mật nhà nước")
        assert decision.kind == "marked_secret" and decision.to_state is None
        assert decision.patch == {"secret": True} and decision.detail["article"]
    with pytest.raises(Refused) as refused:
        act(report(pack_id, "in_progress"), "mark_secret", staff("agency_leader"))
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(Refused) as refused:
        act(report(pack_id, "published"), "mark_secret", OPERATOR)
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    assert act(report(pack_id, "in_progress", secret=True), "mark_secret", OPERATOR, value=False).patch == \
        {"secret": False}

    doc = report(pack_id, "approved", secret=True, result={"text": "Đã xử lý", "approved_by": "Lãnh đạo"})
    assert delivery(doc, get_pack(pack_id))[:2] == (True, "secret")
    decision = publication_decision({k: v for k, v in doc.items() if k != "_id"}, get_pack(pack_id), OPENED, "e",
                                    OPERATOR)
    assert decision.to_state == "delivered_privately" and decision.patch["publication"]["private"] is True


@pytest.mark.parametrize("pack_id,has_clause", [("thua-thien-hue-2022", True), ("vinh-long-2025", True),
                                                ("soc-trang-2022", False), ("soc-trang-2023", False),
                                                ("tay-ninh-2024", False)])
def test_non_public_reception_only_where_the_regulation_has_it(pack_id, has_clause):
    """TTH Điều 9 khoản 2, VL Điều 10 khoản 2: sensitive reports received non-publicly; the other seeds have no
    such clause."""
    if not has_clause:
        with pytest.raises(Refused) as refused:
            act(report(pack_id), "mark_non_public", OPERATOR)
        assert refused.value.code == "ACTION_NOT_ALLOWED"
        return
    decision = act(report(pack_id, "dispatched"), "mark_non_public", OPERATOR, note="Phản ánh cá nhân cụ thể")
    assert decision.patch == {"non_public": True} and decision.detail["article"].startswith("Điều")
    doc = report(pack_id, "approved", non_public=True, result={"text": "Đã xử lý"})
    assert delivery(doc, get_pack(pack_id))[:2] == (True, "non_public")


@pytest.mark.parametrize("pack_id,private", [("soc-trang-2022", True), ("soc-trang-2023", True),
                                             ("thua-thien-hue-2022", False), ("tay-ninh-2024", True),
                                             ("vinh-long-2025", False)])
def test_the_reporters_request_for_secrecy(pack_id, private):
    """ST-22 Điều 12 khoản 3 điểm b, ST-23 Điều 15 khoản 3 điểm b, TN Điều 6 khoản 4 / Điều 10 khoản 3 điểm b:
    delivered privately; TTH has no such clause (Điều 9 khoản 2 is the centre's non-public reception of sensitive
    reports, `mark_non_public`) and VL Điều 5 khoản 4 hides the reporter's personal data only (never public anyway):
    the result is published."""
    doc = report(pack_id, "published", keep_private=True,
                 publication={"letter": "Thư kết quả", "published_at": OPENED.isoformat(), "private": private})
    assert delivery(doc, get_pack(pack_id))[0] is private
    assert (withheld(doc) is not None) is private
    view = public_view(doc)
    assert ("result" in view) is not private and (view["description"] is None) is private


def test_a_withheld_report_shows_no_description_messages_or_letter_but_its_reporter_reads_them():
    doc = report("tay-ninh-2024", "delivered_privately", secret=True,
                 publication={"letter": "Thư riêng cho người phản ánh", "published_at": OPENED.isoformat(),
                              "private": True},
                 timeline=[{"at": OPENED, "kind": "interaction", "from": "in_progress", "to": "in_progress",
                            "event_id": "i1", "actor": {"role": "reporter"}, "detail": {"message": "Xin hỏi"}}])
    public = public_view(doc)
    assert public["description"] is None and public["interactions"] == [] and "result" not in public
    assert public["private"] is True and "REPORTER" not in repr(public) and "0905123456" not in repr(public)
    own = public_view(doc, owner=True)
    assert own["result"]["letter"] == "Thư riêng cho người phản ánh" and own["result"]["private"] is True
    assert own["description"] == "Ổ gà lớn giữa đường" and own["interactions"][0]["message"] == "Xin hỏi"


def test_agencies_see_the_reporter_masked_without_consent_and_the_centre_sees_all():
    assert masked_reporter(REPORTER) == {"name": "N. V. A.", "phone": "09******56", "account_verified": True,
                                         "share_contact": None, "masked": True}
    for pack_id in ("soc-trang-2022", "soc-trang-2023", "thua-thien-hue-2022", "vinh-long-2025"):
        doc = report(pack_id)
        for role in ("agency_staff", "agency_leader"):
            seen = staff_view(doc, staff(role))["reporter"]
            assert seen["masked"] and "email" not in seen and "citizen_id" not in seen and "address" not in seen
            assert "0905123456" not in repr(staff_view(doc, staff(role)))
        assert staff_view(doc, OPERATOR)["reporter"]["phone"] == "0905123456"
        assert staff_view(doc, {"role": "admin"})["reporter"]["email"] == "an@example.vn"
        consented = report(pack_id, reporter=dict(REPORTER, share_contact=True))
        assert staff_view(consented, staff())["reporter"]["phone"] == "0905123456"
    # Tây Ninh Điều 13 khoản 8 gives agencies the reporter's data "nếu có yêu cầu": only to the agency that asked
    # (request_contact, in the timeline), and never where the reporter asked for secrecy (Điều 6 khoản 4)
    doc = report("tay-ninh-2024", assigned_agencies=[{"id": "so-xay-dung", "role": "lead"},
                                                     {"id": "dien-luc", "role": "co"}])
    assert staff_view(doc, staff())["reporter"]["masked"] is True
    decision = act(doc, "request_contact", staff(), note="Cần liên hệ để xác định vị trí")
    assert decision.kind == "contact_requested" and decision.to_state is None
    assert decision.detail == {"agency": "so-xay-dung", "article": "Điều 13 khoản 8; Điều 6 khoản 4; Điều 17 khoản 6",
                               "note": "Cần liên hệ để xác định vị trí"}
    doc = apply(doc, decision)
    assert doc["timeline"][-1]["kind"] == "contact_requested"
    assert staff_view(doc, staff())["reporter"]["phone"] == "0905123456"
    assert staff_view(doc, staff(agency="dien-luc"))["reporter"]["masked"] is True   # the co-agency did not ask
    assert staff_view(doc, staff())["contact_requests"][0]["agency"] == "so-xay-dung"
    with pytest.raises(Refused) as refused:
        act(doc, "request_contact", staff())
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    doc = apply(doc, act(doc, "request_contact", staff(agency="dien-luc")))   # a co-agency asks for itself
    assert staff_view(doc, staff(agency="dien-luc"))["reporter"]["phone"] == "0905123456"
    for refused_doc, actor in ((report("tay-ninh-2024", keep_private=True), staff()),
                               (report("tay-ninh-2024", secret=True), staff()),
                               (report("soc-trang-2022"), staff()),          # a consent pack: no request route
                               (report("tay-ninh-2024"), staff(agency="ubnd-1")),   # not its report
                               (report("tay-ninh-2024"), OPERATOR)):
        with pytest.raises(Refused) as refused:
            act(refused_doc, "request_contact", actor)
        assert refused.value.code in ("ACTION_NOT_ALLOWED", "FORBIDDEN")
    assert staff_view(report("tay-ninh-2024", keep_private=True, contact_requests=[{"agency": "so-xay-dung"}]),
                      staff())["reporter"]["masked"] is True


# ---- letters -------------------------------------------------------------------------------------------------
OWN_WORDING = {
    "soc-trang-2022": ["UBND THÀNH PHỐ CẦN THƠ", "Sóc Trăng, ngày 05 tháng 02 năm 2027",
                       "xin thông báo kết quả xử lý phản ánh của quý cá nhân/tổ chức như sau:",
                       "Chúng tôi cảm ơn cá nhân/tổ chức và mong tiếp tục nhận được phản ánh."],
    "soc-trang-2023": ["Sóc Trăng, ngày 05 tháng 02 năm 2027",
                       "xin thông báo kết quả xử lý phản ánh của quý cá nhân/tổ chức như sau:",
                       "Chúng tôi cảm ơn cá nhân/tổ chức và mong tiếp tục nhận được phản ánh."],
    "tay-ninh-2024": ["UBND TỈNH TÂY NINH", "Tây Ninh, ngày 05 tháng 02 năm 2027",
                      "xin thông báo kết quả xử lý phản ánh, kiến nghị của quý cá nhân/tổ chức như sau:",
                      "Chúng tôi cảm ơn cá nhân/tổ chức và mong tiếp tục nhận được phản ánh, kiến nghị."],
    "thua-thien-hue-2022": ["Vấn đề quý cá nhân/tổ chức phản ánh, Sở Xây dựng xin thông báo kết quả xử lý như sau:",
                            ("Chân thành cảm ơn phản ánh của quý cá nhân/tổ chức và mong tiếp tục nhận được phản ánh "
                             "trong thời gian tới.")],
    "vinh-long-2025": ["Kính chào: Ông/bà",
                       ("Sau khi nhận được phản ánh của Ông/bà, Sở Xây dựng đã tiến hành kiểm tra, xử lý và thông "
                        "báo kết quả như sau:"),
                       ("Chúng tôi chân thành cảm ơn Ông/Bà đã kịp thời phản ánh và mong tiếp tục nhận được phản "
                        "ánh trong thời gian tới.")],
}
ADMINISTRATIVE_FORM = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số: 12/SXD",
                       "**Nơi nhận:**", "- Như trên;", "- Lưu: VT.", "THỦ TRƯỞNG ĐƠN VỊ", "SỞ XÂY DỰNG")


def letter(pack_id, **extra):
    doc = report(pack_id, "approved", result={"text": "Đã vá ổ gà ngày 04/02.", "approved_by": "Trần Văn Bình",
                                              "after_photos": ["ab" * 32]}, **extra)
    published = datetime(2027, 2, 5, 1, 0, tzinfo=UTC)     # 08:00 on 05/02/2027 in Việt Nam
    decision = publication_decision({k: v for k, v in doc.items() if k != "_id"}, get_pack(pack_id), published,
                                    "e", OPERATOR, letter_number="12/SXD")
    return decision.patch["publication"]["letter"]


@pytest.mark.parametrize("pack_id", PACKS)
def test_each_pack_writes_the_letter_of_its_own_appendix(pack_id):
    text = letter(pack_id)
    for wording in OWN_WORDING[pack_id]:
        assert wording in text, wording
    assert "Đã vá ổ gà ngày 04/02." in text and "Trân trọng./." in text
    assert f"/api/v1/reports/PA-261123-0000ABCD/result-photos/{'ab' * 32}" in text
    # Sóc Trăng (Phụ lục, Phụ lục I) and Tây Ninh (Phụ lục 1) prescribe the administrative form; the appendices of
    # Huế (Phụ lục 1) and Vĩnh Long (Phụ lục, "Mẫu hiển thị") have none of it, and the seed wins
    form = pack_id in ("soc-trang-2022", "soc-trang-2023", "tay-ninh-2024")
    for part in ADMINISTRATIVE_FORM:
        assert (part in text) is form, part
    for other, wordings in OWN_WORDING.items():   # no pack borrows another's sentences
        if other != pack_id and not (other.startswith("soc-trang") and pack_id.startswith("soc-trang")):
            assert wordings[-1] not in text, other


def test_the_letter_embeds_citizen_and_agency_text_as_data():
    evil = ("{{ 7 * 7 }} {% if true %}X{% endif %}\n# Nơi nhận giả\n1. mục\n- danh sách\n<script>alert(1)</script>"
            "\n[bấm](javascript:alert(1)) ![ảnh](http://x/y.png) | a | b |\n    code\n---")
    doc = report("soc-trang-2022", "approved", description=evil, result={"text": evil, "approved_by": "# Lãnh đạo"},
                 assigned_agencies=[{"id": "x", "name": "[Sở](http://x) *X*", "role": "lead"}])
    text = publication_decision({k: v for k, v in doc.items() if k != "_id"}, get_pack("soc-trang-2022"), OPENED,
                                "e", OPERATOR).patch["publication"]["letter"]
    assert "{{ 7 \\* 7 }}" in text and "49" not in text and "{% if true %}X{% endif %}" in text
    lines = text.splitlines()
    assert "\\# Nơi nhận giả" in lines and "1\\. mục" in lines and "\\- danh sách" in lines and "code" in lines
    body = text[text.index("như sau:") + len("như sau:"):text.index("Chúng tôi cảm ơn")]
    for char in "<[]|`*_":                     # every structural character of the result arrives escaped
        assert not re.search(r"(?<!\\)" + re.escape(char), body), char
    assert "\\<script\\>" in text and "\\[bấm\\](javascript:alert(1))" in text and "\\| a \\|" in text
    assert "\\[Sở\\](http://x) \\*X\\*" in text and "\\# Lãnh đạo" in text
    assert md("a\r\nb") == "a\nb" and md(None) is None and md("Đã vá ổ gà.") == "Đã vá ổ gà."
