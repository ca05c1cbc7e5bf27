"""Issue 23 item 11: the administrative-sanction procedure flag and its status updates (ST-22 Điều 13 Bước 4, TTH
Điều 11 khoản 2 and Điều 15 khoản 4, VL Điều 12 khoản 2 điểm b and Điều 16 khoản 4), the centre's report to the UBND
(the packs' Điều 3/4 principles, VL Điều 20 khoản 1 điểm d, ST-22 Điều 28 khoản 2) and "gọi 3 lần không bắt máy trong
thời gian 3 ngày" (TTH Điều 12 khoản 2, VL Điều 13 khoản 2 điểm c), as plain functions on the real packs."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from paht.rules import get_pack
from paht.worktime import calendar_for
from services.handling.actions import Refused, decide
from services.intake.accountability import agency_counters, province_referrals, unanswered_call_violations
from services.publishing.referrals import referral_decision
from services.rating.periodic import SHEETS, to_xlsx
from services.sla.deadlines import new_deadline

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
LEAD = {"role": "agency_staff", "agency": "so-xay-dung", "name": "cán bộ"}
OPERATOR = {"role": "operator", "agency": None, "name": "tổng đài viên"}


def report(pack_id, state="in_progress", urgent=False, agencies=("so-xay-dung",), **extra):
    doc = {"id": "PA-261123-00000001", "pack": pack_id, "state": state, "urgent": urgent, "category": "roads_traffic",
           "description": "Ổ gà lớn trên đường", "route": {},
           "assigned_agencies": [{"id": a, "role": "lead" if i == 0 else "co"} for i, a in enumerate(agencies)]}
    return doc | extra


def act(doc, action, actor=LEAD, **body):
    return decide(doc, action, actor, body, get_pack(doc["pack"]), NOW, "e1")


# ---- the sanction procedure ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("pack_id,urgent,article,updates", [
    ("thua-thien-hue-2022", False, "Điều 11 khoản 2", True), ("thua-thien-hue-2022", True, "Điều 15 khoản 4", False),
    ("vinh-long-2025", False, "Điều 12 khoản 2 điểm b", True), ("vinh-long-2025", True, "Điều 16 khoản 4", False),
    ("soc-trang-2022", True, "Điều 13 Bước 4", False)])
def test_the_lead_flags_a_report_under_the_sanction_procedure_with_its_note(pack_id, urgent, article, updates):
    decision = act(report(pack_id, urgent=urgent), "sanction_procedure", note="Đang lập biên bản xử phạt")
    assert decision.kind == "sanction_procedure_started" and decision.to_state is None
    flag = decision.patch["sanction_procedure"]
    assert (flag["article"], flag["status_updates"], flag["note"]) == (article, updates, "Đang lập biên bản xử phạt")
    assert decision.detail["article"] == article
    # the pack's sla rule for a flagged report: no processing deadline, with the article
    deadline = new_deadline(get_pack(pack_id), report(pack_id, urgent=urgent, sanction_procedure=flag), "process",
                            NOW, "e2")
    assert deadline is None
    assert get_pack(pack_id).evaluate("sla", {"step": "process", "urgent": urgent, "sanction_procedure": True})[
        "article"] == article


@pytest.mark.parametrize("pack_id,urgent", [("soc-trang-2022", False), ("soc-trang-2023", False),
                                            ("soc-trang-2023", True), ("tay-ninh-2024", False)])
def test_a_pack_without_the_clause_refuses_the_flag(pack_id, urgent):
    with pytest.raises(Refused) as refused:
        act(report(pack_id, urgent=urgent), "sanction_procedure", note="x")
    assert refused.value.code == "ACTION_NOT_ALLOWED" and "sanction_procedure" in refused.value.detail


def test_the_flag_needs_a_note_the_lead_or_the_centre_and_an_open_processing_step():
    doc = report("thua-thien-hue-2022")
    with pytest.raises(Refused) as refused:
        act(doc, "sanction_procedure")
    assert refused.value.code == "VALIDATION_FAILED"
    with pytest.raises(Refused) as refused:
        act(doc, "sanction_procedure", dict(LEAD, agency="cap-nuoc"), note="x")
    assert refused.value.code == "FORBIDDEN"
    assert act(doc, "sanction_procedure", OPERATOR, note="x").patch["sanction_procedure"]["by"] == "tổng đài viên"
    for state in ("approved", "published", "accepted"):
        with pytest.raises(Refused):
            act(report("thua-thien-hue-2022", state=state), "sanction_procedure", note="x")
    flagged = act(doc, "sanction_procedure", note="x").patch["sanction_procedure"]
    with pytest.raises(Refused):   # once
        act(dict(doc, sanction_procedure=flagged), "sanction_procedure", note="y")


def test_status_updates_where_the_clause_asks_for_them():
    doc = report("vinh-long-2025")
    with pytest.raises(Refused):   # not under the procedure
        act(doc, "status_update", note="Đang xác minh")
    flagged = dict(doc, sanction_procedure=act(doc, "sanction_procedure", note="x").patch["sanction_procedure"])
    decision = act(flagged, "status_update", note="Đã ra quyết định xử phạt, chờ thi hành")
    assert decision.kind == "status_updated" and decision.detail == {
        "note": "Đã ra quyết định xử phạt, chờ thi hành", "article": "Điều 12 khoản 2 điểm b"}
    assert act(dict(flagged, state="result_submitted"), "status_update", OPERATOR, note="x").kind == "status_updated"
    urgent = report("vinh-long-2025", urgent=True)
    urgent["sanction_procedure"] = act(urgent, "sanction_procedure", note="x").patch["sanction_procedure"]
    with pytest.raises(Refused):   # Điều 16 khoản 4 asks for none
        act(urgent, "status_update", note="x")


# ---- the report to the UBND -------------------------------------------------------------------------------------
def refer(doc, actor=OPERATOR, **body):
    return referral_decision(doc, get_pack(doc["pack"]), actor, body, NOW, "e3")


def test_the_centre_refers_a_multi_agency_disagreement_with_the_packs_letter():
    doc = report("thua-thien-hue-2022", agencies=("so-xay-dung", "cap-nuoc"))
    decision = refer(doc, reason="co_agencies_disagree", note="Hai đơn vị chưa thống nhất phương án", letter_number="12/BC")
    assert decision.kind == "referred_to_province" and decision.source == "publishing" and decision.to_state is None
    [entry] = decision.patch["province_referrals"]
    assert (entry["reason"], entry["article"], entry["number"]) == ("co_agencies_disagree", "Điều 3 khoản 8", "12/BC")
    assert entry["to"] == "Ủy ban nhân dân tỉnh Thừa Thiên Huế" and entry["agencies"] == ["so-xay-dung", "cap-nuoc"]
    letter = entry["letter"]
    assert "Số: 12/BC" in letter and "Kính gửi: Ủy ban nhân dân tỉnh Thừa Thiên Huế." in letter
    assert "không thống nhất được phương án xử lý" in letter and "Căn cứ Điều 3 khoản 8" in letter
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in letter and "Hai đơn vị chưa thống nhất phương án" in letter
    again = refer(dict(doc, province_referrals=[entry]), reason="not_thorough", note="Xử lý chưa dứt điểm")
    assert [e["reason"] for e in again.patch["province_referrals"]] == ["co_agencies_disagree", "not_thorough"]


def test_a_returned_report_concerns_the_agency_that_returned_it_too():
    doc = report("tay-ninh-2024", route={"returned_by": ["cap-nuoc"]})
    assert refer(doc, reason="co_agencies_disagree", note="x").patch["province_referrals"][0]["agencies"] == [
        "so-xay-dung", "cap-nuoc"]


def test_each_reason_needs_its_facts_and_the_pack_its_clause():
    single = report("soc-trang-2023")
    with pytest.raises(Refused) as refused:
        refer(single, reason="co_agencies_disagree", note="x")
    assert refused.value.code == "ACTION_NOT_ALLOWED"
    with pytest.raises(Refused) as refused:           # ST-23 has no "no agency" clause
        refer(report("soc-trang-2023", state="routing_unresolved", agencies=()), reason="no_agency", note="x")
    assert refused.value.code == "VALIDATION_FAILED"
    unresolved = report("vinh-long-2025", state="routing_unresolved", agencies=())
    assert refer(unresolved, reason="no_agency", note="x").detail["article"] == "Điều 20 khoản 1 điểm d"
    with pytest.raises(Refused):
        refer(report("vinh-long-2025"), reason="no_agency", note="x")
    assert refer(report("vinh-long-2025"), reason="not_handled", note="x").detail["to"] == \
        "Chủ tịch Ủy ban nhân dân tỉnh Vĩnh Long"
    with pytest.raises(Refused):
        refer(report("vinh-long-2025", state="published"), reason="not_handled", note="x")
    st22 = refer(report("soc-trang-2022"), reason="not_handled", note="Đơn vị chậm xử lý")
    assert (st22.detail["article"], st22.detail["to"]) == ("Điều 28 khoản 2", "Lãnh đạo tỉnh")   # ST-22 Đ28 k2
    with pytest.raises(Refused) as refused:
        refer(report("soc-trang-2022"), LEAD, reason="not_handled", note="x")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(Refused):
        refer(report("soc-trang-2022", state="rejected"), reason="not_handled", note="x")
    with pytest.raises(Refused) as refused:
        refer(report("soc-trang-2022"), reason="not_handled")
    assert refused.value.fields == {"note": "required"}


def test_the_letter_takes_the_reporters_words_as_data():
    doc = report("vinh-long-2025", description="# Tiêu đề giả\n[liên kết](http://x)")
    letter = refer(doc, reason="not_handled", note="**đậm**").patch["province_referrals"][0]["letter"]
    assert "\\# Tiêu đề giả" in letter and "\\[liên kết\\]" in letter and "\\*\\*đậm\\*\\*" in letter


def test_the_periodic_report_lists_the_referrals_of_its_period():
    start, end = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
    made = lambda at, reason: {"reason": reason, "article": "Điều 3 khoản 8", "to": "UBND", "number": "1",
                               "agencies": ["a", "b"], "letter": "…", "note": "…", "at": at.isoformat()}
    reports = [{"_id": "PA-2", "province_referrals": [made(start + timedelta(days=3), "not_thorough"),
                                                       made(end, "co_agencies_disagree")]},
               {"_id": "PA-1", "province_referrals": [made(start + timedelta(days=2), "co_agencies_disagree")]}]
    listed = province_referrals(reports, start, end)
    assert [(r["report_id"], r["reason"]) for r in listed] == [("PA-1", "co_agencies_disagree"),
                                                              ("PA-2", "not_thorough")]
    assert "letter" not in listed[0] and "note" not in listed[0]
    content = {"pack": "p", "pack_name": "P", "period": "2026-11", "start": start, "end": end, "generated_at": end,
               "totals": {}, "agencies": [], "late": [], "criteria": [], "referrals": listed}
    rows = list(load_workbook(io.BytesIO(to_xlsx(content)))[SHEETS[6]].iter_rows(values_only=True))
    assert rows[0][0] == "Mã phản ánh" and rows[1][0] == "PA-1"
    assert rows[1][3] == "Không thống nhất được phương án xử lý" and rows[1][4] == "a, b"


# ---- three unanswered calls within three days ------------------------------------------------------------------
def calls(agency, *hours, report_id="PA-1"):
    base = datetime(2026, 11, 2, 1, tzinfo=timezone.utc)
    return {"_id": report_id, "timeline": [
        {"at": (base + timedelta(hours=h)).isoformat(), "kind": "missed_call", "detail": {"agency": agency}}
        for h in hours]}


def three_days(first: datetime) -> datetime:
    """The pack's window of "3 ngày" (calendar days) from a first call."""
    return first + timedelta(days=3)


def test_three_calls_within_three_days_are_one_violation_at_the_third():
    [(agency, at)] = unanswered_call_violations([calls("a", 0, 30, 72)], 3, three_days)
    assert agency == "a" and at == datetime(2026, 11, 5, 1, tzinfo=timezone.utc)   # 72 h after the first: within
    assert unanswered_call_violations([calls("a", 0, 30, 73)], 3, three_days) == []
    # the window slides: 0 is too early for 73, but 30, 73, 80 are within three days
    assert len(unanswered_call_violations([calls("a", 0, 30, 73, 80)], 3, three_days)) == 1


def test_a_call_counts_once_and_across_reports_of_the_same_agency():
    window = three_days
    assert len(unanswered_call_violations([calls("a", 0, 1, 2, 3, 4)], 3, window)) == 1       # 4 and 5 wait
    assert len(unanswered_call_violations([calls("a", 0, 1, 2, 3, 4, 5)], 3, window)) == 2
    assert len(unanswered_call_violations([calls("a", 0, 1), calls("a", 2, report_id="PA-2")], 3, window)) == 1
    assert unanswered_call_violations([calls("a", 0, 1), calls("b", 2, report_id="PA-2")], 3, window) == []


def test_a_window_in_working_days_skips_the_weekend():
    """A pack may say "3 ngày làm việc": the window is added in its calendar (Friday's first call, then Monday's
    and Wednesday morning's: within 3 working days, not within 3 calendar days)."""
    calendar = calendar_for(get_pack("thua-thien-hue-2022").meta)
    friday = datetime(2026, 11, 6, 2, tzinfo=timezone.utc)            # 09:00 in Huế
    history = [{"_id": "PA-1", "timeline": [{"at": at.isoformat(), "kind": "missed_call", "detail": {"agency": "a"}}
                                            for at in (friday, friday + timedelta(days=3),
                                                       friday + timedelta(days=4, hours=23))]}]
    assert unanswered_call_violations(history, 3, three_days) == []
    [(agency, at)] = unanswered_call_violations(history, 3, lambda first: calendar.add(first, 3, "wd"))
    assert (agency, at) == ("a", friday + timedelta(days=4, hours=23))


def test_the_violation_counts_in_the_period_of_its_third_call_from_a_window_begun_before():
    start = datetime(2026, 11, 3, tzinfo=timezone.utc)
    end = start + timedelta(days=30)
    history = [calls("a", 0, 20, 40)]                     # 2/11 01:00, 2/11 21:00, 3/11 17:00
    cards = agency_counters([], {}, {}, start, end, end, unanswered_calls=(history, 3, three_days))
    assert cards["a"]["unanswered_call_violations"] == 1
    before = agency_counters([], {}, {}, start - timedelta(days=30), start, start,
                             unanswered_calls=(history, 3, three_days))
    assert before == {}
    assert agency_counters([], {}, {}, start, end, end) == {}          # a pack without the clause counts none


# ---- the reporter reads the status updates ------------------------------------------------------------------------
def test_the_reporter_is_told_each_status_update_where_the_pack_asks_for_them():
    from paht.schemas import Transitioned
    from services.publishing import notifications as n

    doc = report("thua-thien-hue-2022")
    doc["sanction_procedure"] = act(doc, "sanction_procedure", note="x").patch["sanction_procedure"]
    updated = act(doc, "status_update", note="Đã ra quyết định xử phạt")
    doc.update(updated.patch)
    change = Transitioned(event_id="ev", report_id=doc["id"], occurred_at=NOW, pack=doc["pack"], cause="status_updated",
                          from_state="in_progress", to_state="in_progress", report=doc)
    pack = get_pack(doc["pack"])
    [notice] = n.notifications_for(change, pack)
    assert notice.event == "status_update" and notice.agency is None
    rendered = n.render(pack, "status_update", n.context_for(notice, change, pack, {"name": "Nguyễn Văn An"}))
    assert "Đã ra quyết định xử phạt" in rendered.body and doc["id"] in rendered.short
    assert "status_update" in n.pack_events(pack) and "status_update" not in n.pack_events(get_pack("soc-trang-2022"))


def test_a_report_under_the_sanction_procedure_is_not_counted_past_the_reporting_limit():
    """TTH Điều 11 khoản 2: its processing time is the sanction procedure's, so Điều 14 khoản 2 "quá thời gian xử lý
    theo quy định" (late_report_limit) does not count it; an unflagged report does."""
    routed = {"kind": "routed", "at": NOW, "detail": {"lead": "so-xay-dung"}}
    flagged = {"_id": "PA-S", "state": "in_progress", "timeline": [
        routed, {"kind": "sanction_procedure_started", "at": NOW + timedelta(hours=2), "detail": {}}]}
    plain = {"_id": "PA-P", "state": "in_progress", "timeline": [routed]}
    limit = lambda received: received + timedelta(days=9)
    for doc, expected in ((flagged, 0), (plain, 1)):
        counters = agency_counters([doc], {}, {}, NOW, NOW + timedelta(days=30), NOW + timedelta(days=20),
                                   limit_reached=limit)
        assert counters.get("so-xay-dung", {}).get("late_over_limit_count", 0) == expected
