"""The supplement, send-back, rework and dissatisfied paths of issue 22, each done in the pages by the person whose
job it is, over HTTP on the real services (Huế's pack): the citizen who forgot the photo reads why on their
tracking page and sends it with the supplement form; the leader sends a result back, the centre asks for the
result to be reworked before publishing it, the agency reports again each time; the citizen rates the published
result "Không hài lòng", and the agency answers with the clarification the pack asks for (Điều 13 khoản 2), which
the citizen then reads on their page."""
from __future__ import annotations

import re
from html import unescape

import pytest
import requests

from tests.integration.test_portal_public import CSRF, fields, form_token
from tests.integration.test_portal_staff import add_account, page_token, sign_in
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = pytest.mark.integration


def tracked(system, browser: requests.Session, token: str, report_id: str, tracking: str, action: str = "",
            files=(), **data) -> requests.Response:
    """The reporter's page (POST /track) or one of its forms (POST /track/<action>)."""
    url = f"{system.api}/track" + (f"/{action}" if action else "")
    return browser.post(url, data={"csrf_token": token, "id": report_id, "tracking_token": tracking, **data},
                        files=list(files) or None, timeout=10)


def act(system, browser: requests.Session, report_id: str, action: str, files=(), **data) -> requests.Response:
    """One action form of /staff/reports/{id}, with the page's CSRF token; the form must be on the page."""
    page, token = page_token(browser, f"{system.api}/staff/reports/{report_id}")
    assert f'action="/staff/reports/{report_id}/{action}"' in page, f"no {action} form on the page"
    return browser.post(f"{system.api}/staff/reports/{report_id}/{action}", data={"csrf_token": token, **data},
                        files=list(files) or None, allow_redirects=False, timeout=10)


def test_a_citizen_sends_the_missing_photo_from_the_tracking_page(system):
    system.start()
    citizen = requests.Session()
    token = form_token(citizen, f"{system.api}/submit")
    sent = citizen.post(f"{system.api}/submit", data=fields(token), timeout=10)
    assert sent.status_code == 200, sent.text[:800]
    report_id = re.search(r'id="report-id">(PA-[0-9A-F-]+)<', sent.text).group(1)
    tracking = re.search(r'id="tracking-token">([^<]+)<', sent.text).group(1)
    system.wait_for(report_id, lambda v: v["state"] == "needs_supplement" and
                    any(d["step"] == "supplement" for d in v["deadlines"]), what="a supplement asked, with its time")

    page = tracked(system, citizen, token, report_id, tracking)
    assert page.status_code == 200 and 'action="/track/supplement"' in page.text
    text = unescape(page.text)
    # what is missing, how to fix it, the article and the rule (tth-acc-no-media), and until when
    assert "Vui lòng bổ sung hình ảnh hoặc video" in text and "Điều 7 khoản 5 điểm b · tth-acc-no-media" in text
    assert "tth-sla-supplement" in text
    assert 'name="media"' in page.text and 'type="file"' in page.text

    wrong = tracked(system, citizen, token, report_id, tracking, "supplement",
                    files=[("media", ("photo.jpg", b"not a photo at all", "image/jpeg"))])
    assert wrong.status_code in (413, 415, 422) and system.get(report_id)["state"] == "needs_supplement"
    supplied = tracked(system, citizen, token, report_id, tracking, "supplement", files=[("media", fresh_photo(seed=61))])
    assert supplied.status_code == 200, supplied.text[:800]
    view = system.wait_for(report_id, lambda v: v["state"] != "needs_supplement", what="the supplement applied")
    assert any(entry["kind"] == "supplemented" for entry in view["timeline"])
    again = tracked(system, citizen, token, report_id, tracking)
    assert 'action="/track/supplement"' not in again.text      # nothing is asked any more


def test_results_sent_back_and_reworked_then_clarified_for_an_unsatisfied_citizen(system):
    system.start()
    submitted = system.submit(good_report(), [fresh_photo(seed=62)]).json()
    report_id, tracking = submitted["id"], submitted["tracking_token"]
    agency = lead(system.wait_state(report_id, "dispatched"))
    add_account(system, "nv.paths", "agency_staff", agency)
    add_account(system, "ld.paths", "agency_leader", agency)
    add_account(system, "dh.paths", "operator", pack=PACK)
    staff, _ = sign_in(system, "nv.paths")
    leader, _ = sign_in(system, "ld.paths")
    centre, _ = sign_in(system, "dh.paths")

    assert act(system, staff, report_id, "acknowledge", note="Đã nhận").status_code == 303
    system.wait_state(report_id, "in_progress")

    def report_result(text: str, seed: int) -> None:
        answer = act(system, staff, report_id, "submit_result", result_text=text,
                     files=[("media", fresh_photo(0, seed=seed))])
        assert answer.status_code == 303, answer.text[:1500]
        system.wait_state(report_id, "result_submitted")

    report_result("Đã vá tạm ổ gà.", 63)
    sent_back = act(system, leader, report_id, "send_back", note="Vá tạm chưa đạt, cần thảm lại mặt đường")
    assert sent_back.status_code == 303, sent_back.text[:1500]
    system.wait_state(report_id, "in_progress")
    page, _ = page_token(staff, f"{system.api}/staff/reports/{report_id}")
    assert "Vá tạm chưa đạt, cần thảm lại mặt đường" in unescape(page)    # the agency reads why

    report_result("Đã thảm lại mặt đường.", 64)
    assert act(system, leader, report_id, "approve", result_text="", note="").status_code == 303
    system.wait_state(report_id, "approved")
    unknown_kind = act(system, centre, report_id, "rework", kind="whatever", note="x")
    assert unknown_kind.status_code == 422 and system.get(report_id)["state"] == "approved"
    reworked = act(system, centre, report_id, "rework", kind="content", note="Ảnh sau xử lý chưa thấy mặt đường")
    assert reworked.status_code == 303, reworked.text[:1500]
    view = system.wait_state(report_id, "in_progress")
    assert [e["kind"] for e in view["timeline"]].count("rework_requested") == 1
    page, _ = page_token(staff, f"{system.api}/staff/reports/{report_id}")
    assert "Ảnh sau xử lý chưa thấy mặt đường" in unescape(page)

    report_result("Đã thảm lại mặt đường, ảnh chụp toàn cảnh.", 65)
    assert act(system, leader, report_id, "approve", result_text="", note="").status_code == 303
    system.wait_state(report_id, "approved")
    assert act(system, centre, report_id, "publish", letter_number="15/TTGS").status_code == 303
    system.wait_state(report_id, "published")

    citizen = requests.Session()
    token = form_token(citizen, f"{system.api}/track")
    page = tracked(system, citizen, token, report_id, tracking)
    assert 'action="/track/rating"' in page.text and "khong_hai_long" in page.text
    rated = tracked(system, citizen, token, report_id, tracking, "rating", level="khong_hai_long",
                    comment="Mặt đường vẫn còn lún")
    assert rated.status_code == 200, rated.text[:800]
    system.wait_for(report_id, lambda v: any(d["step"] == "clarify" and d["agency"] == agency
                                             for d in v["deadlines"]), what="the clarification asked of the agency")

    clarified = act(system, staff, report_id, "clarify",
                    note="Đơn vị đã kiểm tra lại: phần lún do đường ống nước, đã báo Công ty cấp nước xử lý")
    assert clarified.status_code == 303, clarified.text[:1500]
    system.wait_for(report_id, lambda v: any(d["step"] == "clarify" and d.get("closed_at") for d in v["deadlines"]),
                    what="the clarification's step done")
    again = tracked(system, citizen, token, report_id, tracking)
    assert "phần lún do đường ống nước" in unescape(again.text)
    assert CSRF.search(again.text)      # the page still carries its forms' token
