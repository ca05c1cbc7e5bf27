"""The centre's own deadlines on the real broker: the verification of a held report (TTH Điều 7 khoản 5 điểm b:
"không đủ điều kiện tiếp nhận phản ánh nếu sau 02 ngày vẫn xác minh không thành công") and the SOS call-back (TTH
Điều 18 khoản 1: the centre contacts the reporter "chậm nhất trong 5 phút")."""
from __future__ import annotations

import pytest

from paht import accounts
from paht.demo_media import camera_jpeg
from tests.integration.test_timing import deadline, internal, move_to
from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

PACK = "thua-thien-hue-2022"


def test_a_held_report_nobody_judges_within_two_days_is_rejected(system):
    system.start()
    move_to(system, PACK, 9, 0)
    no_exif = ("photo.jpg", camera_jpeg(None, seed=41), "image/jpeg")   # no capture time: the operator must check
    report_id = system.submit(good_report(), [no_exif]).json()["id"]
    view = system.wait_for(report_id, lambda v: v.get("pending_checks") and deadline(v, "operator_check"),
                           what="held with an operator_check deadline")
    step = deadline(view, "operator_check")
    assert view["state"] == "submitted"
    assert step["rule"] == "tth-sla-operator-check" and step["article"] == "Điều 7 khoản 5 điểm b"
    assert (step["amount"], step["unit"], step.get("agency"), step["party"]) == (2, "d", "trung-tam", "centre")

    system.advance(2 * 24 * 3600 - 600)                      # ten minutes before the deadline: still held
    assert system.get(report_id)["state"] == "submitted"
    system.advance(660)
    view = system.wait_state(report_id, "rejected")
    [reason] = view["reasons"]
    assert reason["code"] == "OPERATOR_CHECK_TIMEOUT" and reason["rule"] == "tth-sla-operator-check"
    assert reason["article"] == "Điều 7 khoản 5 điểm b" and "xác minh không thành công" in reason["message"]
    assert not deadline(view, "operator_check")["late"]      # a timeout that rejects is no agency's lateness
    assert view["assigned_agencies"] == []
    kinds = [entry["kind"] for entry in internal(system, report_id)["timeline"]]
    assert kinds.index("operator_check_started") < kinds.index("deadline_missed")


def test_an_sos_report_is_called_back_within_five_minutes(system):
    system.start()
    move_to(system, PACK, 9, 0)
    other = {"name": "Phạm Thị Dung", "phone": "0914000333", "email": "dung@example.vn", "account_id": "hue-s-2002",
             "account_proof": accounts.proof("hue-s-2002")}
    called = system.submit(good_report(sos=True, category="fire_rescue",
                                       description="Cháy nhà dân trên đường Lê Lợi, cần hỗ trợ gấp"),
                           [fresh_photo(seed=42)]).json()["id"]
    alone = system.submit(good_report(sos=True, reporter=other, category="fire_rescue",
                                      description="Cây đổ đè người trên đường Hùng Vương"),
                          [fresh_photo(seed=43)]).json()["id"]
    refused = system.submit(good_report(sos="yes"), [fresh_photo(seed=44)])
    assert refused.status_code == 422                        # strict: the SOS flag is a boolean
    for report_id in (called, alone):
        view = system.wait_for(report_id, lambda v: deadline(v, "sos_callback"), what="sos_callback deadline")
        step = deadline(view, "sos_callback")
        assert step["rule"] == "tth-sla-sos-callback" and step["article"] == "Điều 18 khoản 1"
        assert (step["amount"], step["unit"], step.get("agency"), step["party"]) == (5, "min", "trung-tam", "centre")
        assert internal(system, report_id)["urgent"] is True

    # only the centre calls back, with a note
    view = system.get(called)
    agency = next((a["id"] for a in view["assigned_agencies"] if a["role"] == "lead"), None)
    if agency:
        staff, _ = system.agency_tokens(PACK, agency)
        assert system.staff(called, "called_back", staff, note="x").status_code == 403
    assert system.staff(called, "called_back", system.tokens["operator"]).status_code == 422
    answer = system.staff(called, "called_back", system.tokens["operator"],
                          note="Đã gọi lại, hướng dẫn sơ tán và báo lực lượng PCCC.")
    assert answer.status_code == 200, answer.text
    system.wait_for(called, lambda v: deadline(v, "sos_callback").get("closed_at"), what="called back")

    system.advance(6 * 60)
    view = system.wait_for(alone, lambda v: deadline(v, "sos_callback")["late"], what="sos_callback late")
    assert not deadline(view, "sos_callback").get("closed_at")
    assert not deadline(system.get(called), "sos_callback")["late"]
    normal = system.submit(good_report(reporter=other, description="Đèn đường hỏng trên đường Lê Lợi"),
                           [fresh_photo(seed=45)]).json()["id"]
    system.wait_for(normal, lambda v: v["deadlines"], what="a deadline")
    assert deadline(system.get(normal), "sos_callback") is None
