"""Issue 23 item 11 through the real services: a report handled under the administrative-sanction procedure loses
its processing deadline and takes status updates (TTH Điều 11 khoản 2); the centre reports a multi-agency report to
the UBND with the pack's letter (TTH Điều 3 khoản 8), listed in the month's scorecards; three unanswered calls
within three days are a violation reported to the UBND (TTH Điều 12 khoản 2)."""
from __future__ import annotations

import pytest

from paht import clock, periods
from paht.rules import get_pack
from tests.integration.conftest import eventually
from tests.integration.test_portal_staff import add_account, page_token, sign_in
from tests.integration.test_timing import deadline
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def staff_view(system, report_id, token):
    answer = system.staff_get(f"reports/{report_id}", token)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_sanction_procedure_status_updates_referral_and_unanswered_calls(system):
    system.start()
    report_id = system.submit(good_report(category="health",   # routed to one agency (tth-route-health)
                                          description="Rác thải y tế vứt bừa bãi trước trạm y tế phường"),
                              [fresh_photo()]).json()["id"]
    agency = lead(system.wait_state(report_id, "dispatched"))
    staff, _ = system.agency_tokens(PACK, agency)
    operator = system.tokens["operator"]
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    running = system.wait_for(report_id, lambda v: (d := deadline(v, "process")) and not d.get("closed_at"),
                              what="the processing deadline")
    assert deadline(running, "process")["rule"] == "tth-sla-process"

    # the sanction procedure: a note is required; refused as a status update before it; then no processing deadline
    early = system.staff(report_id, "status_update", staff, note="Đang xác minh")
    assert early.status_code == 409 and early.json()["error"]["code"] == "ACTION_NOT_ALLOWED"
    assert system.staff(report_id, "sanction_procedure", staff).status_code == 422
    add_account(system, "nv.xu.phat", "agency_staff", agency)       # the lead's form on the report's page
    browser, _ = sign_in(system, "nv.xu.phat")
    page, token = page_token(browser, f"{system.api}/staff/reports/{report_id}")
    assert f'action="/staff/reports/{report_id}/sanction_procedure"' in page
    assert f'action="/staff/reports/{report_id}/refer_to_province"' not in page     # the centre's
    flagged = browser.post(f"{system.api}/staff/reports/{report_id}/sanction_procedure", allow_redirects=False,
                           data={"csrf_token": token, "note": "Đã lập biên bản vi phạm hành chính"}, timeout=10)
    assert flagged.status_code == 303, flagged.text[:800]
    ended = system.wait_for(report_id, lambda v: (deadline(v, "process") or {}).get("closed_at"),
                            what="the processing deadline ended by the sanction procedure")
    assert not deadline(ended, "process").get("late")
    again = system.staff(report_id, "sanction_procedure", staff, note="lần hai")
    assert again.status_code == 409
    assert system.staff(report_id, "status_update", staff, note="Đã ra quyết định xử phạt").status_code == 200
    inside = staff_view(system, report_id, operator)
    assert inside["sanction_procedure"]["article"] == "Điều 11 khoản 2"
    assert inside["sanction_procedure"]["note"] == "Đã lập biên bản vi phạm hành chính"
    kinds = [(e["kind"], (e.get("detail") or {}).get("article")) for e in inside["timeline"]]
    assert ("sanction_procedure_started", "Điều 11 khoản 2") in kinds and ("status_updated", "Điều 11 khoản 2") in kinds
    public = system.get(report_id)                      # anyone following the report reads the status
    assert public["sanction_procedure"]["article"] == "Điều 11 khoản 2" and "note" not in public["sanction_procedure"]
    assert [u["note"] for u in public["sanction_procedure"]["updates"]] == ["Đã ra quyết định xử phạt"]
    assert "province_referrals" not in public
    assert staff_view(system, report_id, staff)["province_referrals"] == []            # the centre's letters

    # the report to the UBND: one agency cannot disagree with itself; with a co-agency the centre reports it
    single = system.staff(report_id, "refer_to_province", operator, reason="co_agencies_disagree", note="x")
    assert single.status_code == 409, single.text
    pack = get_pack(PACK)
    other = next(a for a, doc in pack.agencies.items() if a != agency and doc.get("kind") != "centre")
    assert system.staff(report_id, "forward", staff, agencies=[other]).status_code == 200
    system.wait_for(report_id, lambda v: len(v.get("assigned_agencies") or []) == 2, what="the co-agency")
    assert system.staff(report_id, "refer_to_province", staff, reason="not_thorough", note="x").status_code == 403
    unknown = system.staff(report_id, "refer_to_province", operator, reason="no_agency", note="x")
    assert unknown.status_code == 422                   # TTH names no such case
    add_account(system, "ttv.bao.cao", "operator")                  # the centre's form on the report's page
    centre, _ = sign_in(system, "ttv.bao.cao")
    page, token = page_token(centre, f"{system.api}/staff/reports/{report_id}")
    assert 'value="co_agencies_disagree"' in page and 'value="not_thorough"' in page and 'value="no_agency"' not in page
    referred = centre.post(f"{system.api}/staff/reports/{report_id}/refer_to_province", allow_redirects=False,
                           data={"csrf_token": token, "reason": "co_agencies_disagree", "letter_number": "15/BC-STTTT",
                                 "note": "Hai đơn vị chưa thống nhất phương án xử lý"}, timeout=10)
    assert referred.status_code == 303, referred.text[:800]
    [referral] = eventually(lambda: staff_view(system, report_id, operator).get("province_referrals"),
                            "the referral")
    assert referral["article"] == "Điều 3 khoản 8" and referral["agencies"] == [agency, other]
    assert "Số: 15/BC-STTTT" in referral["letter"] and "Kính gửi: Ủy ban nhân dân tỉnh Thừa Thiên Huế." in referral["letter"]

    # three calls unanswered within three days: one violation, reported to the UBND
    for _ in range(3):
        assert system.staff(report_id, "missed_call", operator).status_code == 200
    eventually(lambda: sum(e["kind"] == "missed_call" for e in staff_view(system, report_id, operator)["timeline"])
               == 3, "three missed calls")
    month = periods.containing("month", clock.now(), "Asia/Ho_Chi_Minh", 14)
    cards = system.staff_get("scorecards", operator, pack=PACK, period=month.label).json()
    row = next(r for r in cards["agencies"] if r["agency"] == agency)
    assert (row["counters"]["missed_hotline_calls"], row["counters"]["unanswered_call_violations"]) == (3, 1)
    assert "tth-pen-report-unanswered-calls" in {f["rule"] for f in row["report_to_province"]}
    assert [(r["report_id"], r["reason"], r["number"]) for r in cards["referrals"]] == [
        (report_id, "co_agencies_disagree", "15/BC-STTTT")]
