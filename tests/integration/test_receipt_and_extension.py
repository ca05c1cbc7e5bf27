"""Through the real services (issue 23 items 5, 7, 9): the agency's notice of extension reaches the reporter and the
centre sets the time from it (ST-23 Điều 14 khoản 3), once; the centre standardises a report's text with the
original kept beside it (VL Điều 10 khoản 1); a Tây Ninh agency sees the reporter's contact data after asking
(TN Điều 13 khoản 8)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from paht import clock
from tests.integration.conftest import eventually
from tests.integration.test_centre_review import field_report, into_office_hours, lead, photo
from tests.integration.test_notifications import endpoints, notified  # noqa: F401 (the fixture)
from tests.integration.test_portal_staff import add_account, page_token, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def dispatched(system, pack, phone, account, description, seed):
    into_office_hours(system, pack)
    answer = system.submit(field_report(pack, phone, account, description), [photo(seed)])
    assert answer.status_code == 201, answer.text
    return system.wait_state(answer.json()["id"], "dispatched")


def process_due(view) -> datetime:
    return datetime.fromisoformat(next(d["due"] for d in view["deadlines"] if d["step"] == "process"
                                       and not d.get("closed_at")))


def test_the_agencys_notice_reaches_the_reporter_and_the_centre_sets_the_final_time(system, endpoints):  # noqa: F811
    mailbox, _ = endpoints
    system.start()
    pack, operator = "soc-trang-2023", system.tokens["operator"]
    view = dispatched(system, pack, "0905123456", "st23-ext", "Cống thoát nước bị tắc, nước tràn ra đường", 31)
    staff, leader = system.agency_tokens(pack, lead(view))
    assert system.staff(view["id"], "acknowledge", staff).status_code == 200
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "process" for d in v["deadlines"]),
                           what="the process deadline")
    due = process_due(view)
    committed = due + timedelta(days=2)

    answer = system.staff(view["id"], "extend", staff, new_due=committed.isoformat(),
                          note="Cần khảo sát toàn tuyến cống; cam kết xử lý dứt điểm")
    assert answer.status_code == 200, answer.text
    shown = system.get(view["id"])
    assert shown["extension"]["set"] is False and shown["extension"]["note"].startswith("Cần khảo sát")
    assert process_due(shown) == due                      # the notice alone moves nothing
    email = eventually(lambda: mailbox.to("st23-ext@example.vn", "thông báo gia hạn"),
                       "the notice of extension to the reporter")[0]
    assert view["id"] in email["Subject"] and "Cần khảo sát toàn tuyến cống" in email.get_content()
    eventually(lambda: notified(system, view["id"], template="extension", channel="email"), "the notice recorded")

    again = system.staff(view["id"], "extend", staff, new_due=(committed + timedelta(days=1)).isoformat(), note="x")
    assert again.status_code == 409 and again.json()["error"]["code"] == "ACTION_NOT_ALLOWED"
    for token in (staff, leader):                         # the agency does not set the time itself
        assert system.staff(view["id"], "set_extension", token).status_code == 403
    answer = system.staff(view["id"], "set_extension", operator, note="Theo văn bản thông báo gia hạn")
    assert answer.status_code == 200, answer.text
    shown = system.wait_for(view["id"], lambda v: process_due(v) == committed, what="the time the centre set")
    assert shown["extension"]["set"] is True
    timeline = [e["kind"] for e in system.staff_get(f"reports/{view['id']}", operator).json()["timeline"]]
    assert timeline.index("extension_noticed") < timeline.index("extended")
    final = system.staff(view["id"], "extend", staff, new_due=(committed + timedelta(days=1)).isoformat(), note="y")
    assert final.status_code == 409                       # "thời hạn xử lý dứt điểm": once


def test_the_centre_standardises_the_text_and_keeps_the_original(system):
    system.start()
    pack, operator = "vinh-long-2025", system.tokens["operator"]
    original = "den duong hu , toi om ca tuan nay o hem 12"
    view = dispatched(system, pack, "0905123457", "vl-text", original, 32)
    staff, _ = system.agency_tokens(pack, lead(view))
    assert system.staff(view["id"], "edit_text", staff, description="Đèn đường hư.").status_code == 403
    # through the centre's staff page: the edit_text form posts the API's fields to /staff/reports/{id}/edit_text
    add_account(system, "tdv.vl.text", "operator", pack=pack)
    browser, _ = sign_in(system, "tdv.vl.text")
    page, token = page_token(browser, f"{system.api}/staff/reports/{view['id']}")
    assert f'action="/staff/reports/{view["id"]}/edit_text"' in page and 'name="description"' in page
    answer = browser.post(f"{system.api}/staff/reports/{view['id']}/edit_text", allow_redirects=False, timeout=10,
                          data={"csrf_token": token, "title": "Đèn đường hư ở hẻm 12",
                                "description": "Đèn đường hư, tối om cả tuần nay ở hẻm 12."})
    assert answer.status_code == 303, answer.text[:800]
    page, _ = page_token(browser, f"{system.api}/staff/reports/{view['id']}")
    assert "Nội dung gốc của người phản ánh" in page and original in page
    public = system.get(view["id"])
    assert public["description"] == "Đèn đường hư, tối om cả tuần nay ở hẻm 12."
    assert public["title"] == "Đèn đường hư ở hẻm 12" and original not in str(public)
    for token in (operator, staff):                       # "đồng thời gửi kèm nội dung gốc"
        record = system.staff_get(f"reports/{view['id']}", token).json()
        assert record["original_text"] == {"description": original, "title": None}
        assert record["description"] == public["description"]
    entry = next(e for e in record["timeline"] if e["kind"] == "text_edited")
    assert entry["detail"]["article"] == "Điều 10 khoản 1" and original not in str(entry)
    assert system.staff(view["id"], "acknowledge", staff).status_code == 200
    late = system.staff(view["id"], "edit_text", operator, description="Đèn đường hư.")
    assert late.status_code == 409                        # the agency has taken it up: receipt is over


def test_a_tay_ninh_agency_sees_the_reporters_contact_after_asking(system):
    system.start()
    pack, operator = "tay-ninh-2024", system.tokens["operator"]
    view = dispatched(system, pack, "0905123458", "tn-contact", "Rác thải đổ trộm ven đường", 33)
    staff, _ = system.agency_tokens(pack, lead(view))
    seen = system.staff_get(f"reports/{view['id']}", staff).json()
    assert seen["reporter"]["masked"] is True and seen["contact_requests"] == []
    assert system.staff(view["id"], "request_contact", operator).status_code == 403
    answer = system.staff(view["id"], "request_contact", staff, note="Cần hỏi vị trí chính xác")
    assert answer.status_code == 200, answer.text
    seen = system.staff_get(f"reports/{view['id']}", staff).json()
    assert seen["reporter"]["phone"] == "0905123458" and seen["contact_requests"][0]["agency"] == lead(view)
    entry = next(e for e in seen["timeline"] if e["kind"] == "contact_requested")
    assert entry["detail"]["agency"] == lead(view) and entry["detail"]["article"].startswith("Điều 13 khoản 8")
    twice = system.staff(view["id"], "request_contact", staff)
    assert twice.status_code == 409


def test_the_centres_wait_after_a_timely_notice_is_not_the_agencys_lateness(system):
    """ST-22 Điều 10 khoản 2 điểm c: the agency gave its notice before the due time; the centre set the time only after
    it passed: the processing deadline runs again to the committed time, not late."""
    system.start()
    pack, operator = "soc-trang-2022", system.tokens["operator"]
    view = dispatched(system, pack, "0905123459", "st22-wait", "Cây xanh ngã đè lên vỉa hè đường Trần Hưng Đạo", 34)
    staff, _ = system.agency_tokens(pack, lead(view))
    assert system.staff(view["id"], "acknowledge", staff).status_code == 200
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "process" for d in v["deadlines"]),
                           what="the process deadline")
    due = process_due(view)
    committed = due + timedelta(days=1)                  # within ½ of 06 ngày làm việc
    answer = system.staff(view["id"], "extend", staff, new_due=committed.isoformat(), note="Chờ cắt tỉa toàn tuyến")
    assert answer.status_code == 200, answer.text
    system.advance((due - clock.now()).total_seconds() + 120)
    system.wait_for(view["id"], lambda v: any(d["step"] == "process" and d["late"] for d in v["deadlines"]),
                    what="the original due time passed")
    assert system.staff(view["id"], "set_extension", operator).status_code == 200
    shown = system.wait_for(view["id"], lambda v: process_due(v) == committed, what="the time the centre set")
    process = next(d for d in shown["deadlines"] if d["step"] == "process" and not d.get("closed_at"))
    assert process["late"] is False, process
    assert not [s for s in shown["late_by"] if s["step"] == "process"], shown["late_by"]
