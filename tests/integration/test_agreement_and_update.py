"""Issue 23 items 2 and 10 on the real broker and services.

The designated agency's agreement before publication (TTH Điều 16 khoản 4: "chuyển kết quả cho Cơ quan được chỉ
định phối hợp để xin ý kiến thống nhất trước khi công khai kết quả"; disagreement: "thực hiện lại Bước 3"): the
centre cannot publish until it agreed, it is told and finds the report in its queue, its disagreement sends the
result back to the agency. The update of a returned result (TTH Điều 11 khoản 4, VL Điều 12 khoản 4 điểm b): the
centre reopens it, the update is published and the public page keeps both results."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy

from paht import clock
from paht.callers import call_internal
from paht.rules import get_pack
from paht.worktime import calendar_for
from services.routing.route import routing_decision
from tests.integration.conftest import eventually
from tests.integration.test_centre_review import field_report, handle, into_office_hours, lead, photo
from tests.integration.test_notifications import endpoints  # noqa: F401  (the fixture)
from tests.integration.test_portal_staff import add_account, page_token, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

TTH = "thua-thien-hue-2022"
COORDINATOR, COMPETENT = "so-y-te", "so-xay-dung"


def unresolved(system, pack: str) -> str:
    """A report routing finds no agency for (TTH Điều 16: "chưa xác định được đơn vị xử lý"). In the packs'
    data every accepted report has a ward and a category with a route, so rule `tth-route-unresolved` is reached
    by no submission: the report is held at night (Điều 4 khoản 2) and routing's own decision for that rule
    (services/routing/route.py routing_decision) is applied as routing would send it."""
    calendar = calendar_for(get_pack(pack).meta)
    now = clock.now().astimezone(calendar.tz)
    night = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    system.advance((night - now).total_seconds())
    answer = system.submit(field_report(pack, "0905123456", f"{pack}-an", "Ống nước bệnh viện rò rỉ ra vỉa hè"),
                           [photo(31)])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    system.wait_for(report_id, lambda v: v["state"] == "accepted" and any(
        step["kind"] == "dispatch_deferred" for step in system.staff_get(
            f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]), what="held until the opening")
    snapshot = dict(system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json(), id=report_id)
    decision = routing_decision(snapshot, get_pack(pack), {"decision": "unresolved", "rule": "tth-route-unresolved",
                                                           "article": "Điều 16"}, f"test-unresolved-{report_id}",
                                clock.now())
    with ServiceRpcProxy("intake", system.rabbit_config) as intake:
        answer = call_internal("intake", intake, "apply_decision", decision=decision.model_dump(mode="json"))
    assert answer.get("ok"), answer
    system.wait_state(report_id, "routing_unresolved")
    into_office_hours(system, pack)
    return report_id


def test_the_designated_agency_agrees_before_the_centre_publishes_then_an_update_keeps_both(system, endpoints):  # noqa: F811
    _mailbox, gateway = endpoints
    system.start()
    operator = system.tokens["operator"]
    report_id = unresolved(system, TTH)

    # Bước 2: the centre designates; the designated agency names the competent one
    answer = system.staff(report_id, "designate", operator, agency=COORDINATOR)
    assert answer.status_code == 200, answer.text
    system.wait_state(report_id, "dispatched")
    coordinator, _ = system.agency_tokens(TTH, COORDINATOR)
    answer = system.staff(report_id, "return", coordinator, agency=COMPETENT, note="Thuộc thẩm quyền Sở Xây dựng")
    assert answer.status_code == 200, answer.text
    view = system.wait_for(report_id, lambda v: v["state"] == "dispatched" and lead(v) == COMPETENT,
                           what="routed to the competent agency")
    staff, leader = system.agency_tokens(TTH, COMPETENT)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    handle(system, TTH, report_id, staff, leader, 32, "Đã thay đoạn ống rò rỉ.")

    # Bước 4: no publication before the designated agency agrees
    refused = system.staff(report_id, "publish", operator)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "AGREEMENT_PENDING" and "Điều 16 khoản 4" in error["message"]
    assert error["fields"] == {"agency": COORDINATOR}
    # it is told, finds the report in its queue with its own `agree` step, and may see it
    hook = eventually(lambda: gateway.calls("/agency", event="agreement_requested", agency=COORDINATOR),
                      "the request for agreement")[0]
    assert hook["report_id"] == report_id and "Đã thay đoạn ống rò rỉ." in hook["text"]
    queue = system.staff_get("reports", coordinator).json()["reports"]
    listed = next(item for item in queue if item["id"] == report_id)
    assert any(d["step"] == "agree" and d["agency"] == COORDINATOR and not d.get("closed_at")
               for d in listed["deadlines"])
    assert system.staff_get(f"reports/{report_id}", coordinator).status_code == 200

    # disagreement: back to the agency's step (Bước 3), the lead told
    answer = system.staff(report_id, "agree", coordinator, value=False, note="Chưa kiểm tra áp lực nước sau sửa")
    assert answer.status_code == 200, answer.text
    system.wait_state(report_id, "in_progress")
    eventually(lambda: gateway.calls("/agency", event="rework", agency=COMPETENT), "the lead told")
    handle(system, TTH, report_id, staff, leader, 33, "Đã thay đoạn ống rò rỉ, kiểm tra áp lực đạt.")
    assert system.staff(report_id, "publish", operator).json()["error"]["code"] == "AGREEMENT_PENDING"
    assert system.staff(report_id, "agree", staff).status_code == 403            # the lead does not agree
    answer = system.staff(report_id, "agree", coordinator, note="Thống nhất")
    assert answer.status_code == 200, answer.text
    answer = system.staff(report_id, "publish", operator)
    assert answer.status_code == 200, answer.text
    first = system.wait_state(report_id, "published")
    assert "kiểm tra áp lực đạt" in first["result"]["letter"]

    # TTH Điều 11 khoản 4: the agency asks for an update; the centre reopens it back to the agency's step
    assert system.staff(report_id, "reopen", staff, note="x").status_code == 403
    answer = system.staff(report_id, "reopen", operator, note="Sở Xây dựng đề nghị cập nhật: đã hoàn trả mặt đường")
    assert answer.status_code == 200, answer.text
    during = system.wait_state(report_id, "in_progress")
    assert [r["letter"] for r in during["previous_results"]] == [first["result"]["letter"]]
    handle(system, TTH, report_id, staff, leader, 34, "Đã thay ống và hoàn trả mặt vỉa hè.")
    assert system.staff(report_id, "agree", coordinator, note="Thống nhất cập nhật").status_code == 200
    assert system.staff(report_id, "publish", operator).status_code == 200
    updated = system.wait_state(report_id, "published")
    assert "hoàn trả mặt vỉa hè" in updated["result"]["letter"]
    (earlier,) = updated["previous_results"]
    assert earlier["letter"] == first["result"]["letter"] and earlier["superseded_at"]
    kinds = [step["kind"] for step in updated["timeline"]]
    assert kinds.count("published") == 2 and "reopened" in kinds
    page = requests.get(f"{system.api}/reports/{report_id}", timeout=10)      # the portal's public page
    assert page.status_code == 200 and "Kết quả xử lý trước đây (đã được cập nhật)" in page.text


@pytest.mark.parametrize("pack", ["thua-thien-hue-2022", "vinh-long-2025"])
def test_the_agencys_updated_result_is_published_by_the_centre_beside_the_old_one(system, pack):
    system.start()
    into_office_hours(system, pack)
    operator = system.tokens["operator"]
    answer = system.submit(field_report(pack, "0905123457", f"{pack}-upd", "Ổ gà lớn giữa đường, xe máy dễ té ngã"),
                           [photo(41)])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    view = system.wait_state(report_id, "dispatched")
    staff, leader = system.agency_tokens(pack, lead(view))
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    handle(system, pack, report_id, staff, leader, 42, "Đã vá ổ gà.")
    assert system.staff(report_id, "publish", operator).status_code == 200     # no designated agency: at once
    first = system.wait_state(report_id, "published")
    # the centre's staff page offers the reopen form; the operator sends the agency's updated result with it
    add_account(system, f"dh.{pack}", "operator", pack=pack)
    browser, _ = sign_in(system, f"dh.{pack}")
    page, token = page_token(browser, f"{system.api}/staff/reports/{report_id}")
    assert f'action="/staff/reports/{report_id}/reopen"' in page
    answer = browser.post(f"{system.api}/staff/reports/{report_id}/reopen", allow_redirects=False, timeout=10,
                          data={"csrf_token": token, "note": "Cơ quan cung cấp kết quả cập nhật",
                                "result_text": "Đã vá ổ gà và thảm lại toàn bộ mặt đường."})
    assert answer.status_code == 303, answer.text[:800]
    system.wait_state(report_id, "approved")
    assert system.staff(report_id, "publish", operator).status_code == 200
    updated = system.wait_for(report_id, lambda v: v["state"] == "published" and v.get("previous_results"),
                              what="the update published")
    assert "thảm lại toàn bộ mặt đường" in updated["result"]["letter"]
    assert updated["previous_results"][0]["letter"] == first["result"]["letter"]
    internal = system.staff_get(f"reports/{report_id}", operator).json()["timeline"]
    reopened = next(step for step in internal if step["kind"] == "reopened")
    assert reopened["detail"]["article"] == get_pack(pack).meta["publication"]["update"]["article"]
    assert reopened["from"] == "published" and reopened["to"] == "approved"
