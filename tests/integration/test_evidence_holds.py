"""Issue 23 items 3, 4, 8 through the real services (review W12 W9 M1; F3 F4 F6; probes P12 P2):

- an SOS without photo or GPS is dispatched at once and the agency's 30-minute confirmation starts (TTH Điều 18
  Bước 2–3); what is missing is asked beside the dispatch;
- a new report on the same matter is refused only while the earlier one is "còn trong thời hạn xử lý" (TTH Điều 7
  khoản 5 điểm b): once the earlier report's processing deadline has passed, the new one is received;
- ST-22 Điều 6 khoản 5 điểm b: a report held for the centre's check fails after 48 giờ, and the hold leaves the
  receive deadline (Điều 8 khoản 2) running.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from paht import accounts, clock
from paht.demo_media import camera_jpeg
from tests.integration.test_agency_paths import SOC_TRANG
from tests.integration.test_timing import deadline, internal, lead_of, move_to
from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

TTH = "thua-thien-hue-2022"


def test_an_sos_without_photo_or_gps_is_dispatched_at_once_and_the_agency_must_confirm(system):
    system.start()
    move_to(system, TTH, 9, 0)
    report = good_report(sos=True, category="fire_rescue", description="Cháy nhà dân trên đường Lê Lợi, cần hỗ trợ gấp")
    report.pop("location")
    answer = system.submit(report)
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]

    view = system.wait_for(report_id, lambda v: v["state"] == "dispatched" and deadline(v, "acknowledge"),
                           what="dispatched, the agency's confirmation running")
    step = deadline(view, "acknowledge")
    assert (step["amount"], step["unit"]) == (30, "min") and step["agency"] == lead_of(view)
    assert deadline(view, "sos_callback")["rule"] == "tth-sla-sos-callback"
    record = internal(system, report_id)
    beside = {w["code"]: w for w in record["warnings"] if w.get("status") == "beside"}
    assert set(beside) == {"MISSING_MEDIA", "MISSING_LOCATION"}
    assert all(w["action"] == "request_supplement" and w["message"] for w in beside.values())
    verified = next(e for e in record["timeline"] if e["kind"] == "verified")
    assert verified["detail"]["at_once"] == {"rule": "tth-acc-sos", "article": "Điều 18"}
    assert view["reasons"] == [] and "needs_supplement" not in [e["kind"] for e in record["timeline"]]


def test_a_new_report_on_the_same_matter_is_refused_only_within_the_earlier_ones_processing_deadline(system):
    system.start()
    move_to(system, TTH, 9, 0)
    reporter = {"name": "Lê Văn Bình", "phone": "0914000555", "email": "binh@example.vn", "account_id": "hue-s-3003",
                "account_proof": accounts.proof("hue-s-3003")}
    first = system.submit(good_report(reporter=reporter), [fresh_photo(seed=61)]).json()["id"]
    view = system.wait_state(first, "dispatched")
    staff, _ = system.agency_tokens(TTH, lead_of(view))
    assert system.staff(first, "acknowledge", staff).status_code == 200
    view = system.wait_for(first, lambda v: deadline(v, "process"), what="processing deadline")
    due = datetime.fromisoformat(deadline(view, "process")["due"])

    again = system.submit(good_report(reporter=reporter, description="Ổ gà giữa đường Lê Lợi vẫn chưa được sửa"),
                          [fresh_photo(seed=62)]).json()["id"]
    refused = system.wait_state(again, "rejected")
    [reason] = refused["reasons"]
    assert reason["code"] == "ALREADY_IN_PROGRESS" and reason["rule"] == "tth-acc-already-in-progress"
    assert reason["article"] == "Điều 7 khoản 5 điểm b"

    system.advance((due - clock.now()).total_seconds() + 120)        # the earlier report is now overdue
    system.wait_for(first, lambda v: deadline(v, "process")["late"], what="processing deadline missed")
    assert system.get(first)["state"] == "in_progress"               # still open: the old engine refused here
    later = system.submit(good_report(reporter=reporter, description="Ổ gà giữa đường Lê Lợi đã quá hạn chưa sửa"),
                          [fresh_photo(seed=63)]).json()["id"]
    view = system.wait_for(later, lambda v: v["state"] in ("accepted", "dispatched", "rejected"), what="verified")
    assert view["state"] != "rejected", view["reasons"]
    verified = next(e for e in internal(system, later)["timeline"] if e["kind"] == "verified")
    assert verified["detail"]["same_matter_as"] is None


def test_st22_a_held_report_keeps_its_receive_deadline_and_fails_after_48_hours(system):
    system.start()
    move_to(system, "soc-trang-2022", 9, 0)
    no_exif = ("photo.jpg", camera_jpeg(None, seed=64), "image/jpeg")   # no capture time: the centre checks it
    answer = system.submit(good_report(**SOC_TRANG, description="Cây xanh ngã chắn đường Trần Hưng Đạo",
                                       category="trees_parks"), [no_exif])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    view = system.wait_for(report_id, lambda v: v.get("pending_checks") and deadline(v, "operator_check")
                           and deadline(v, "receive"), what="held with an operator_check deadline")
    check = deadline(view, "operator_check")
    assert check["rule"] == "st22-sla-operator-check" and check["article"] == "Điều 6 khoản 5 điểm b"
    assert (check["amount"], check["unit"], check["party"]) == (48, "h", "centre")
    receive = deadline(view, "receive")
    assert receive and not receive.get("closed_at")                  # the hold does not end receiving

    system.advance(48 * 3600 - 600)
    assert system.get(report_id)["state"] == "submitted"
    system.advance(660)
    view = system.wait_state(report_id, "rejected")
    [reason] = view["reasons"]
    assert reason["code"] == "OPERATOR_CHECK_TIMEOUT" and reason["rule"] == "st22-sla-operator-check"
    assert deadline(view, "receive")["late"]                          # the centre's own lateness, Điều 8 khoản 2


def judge_language(system, report_id, value):
    return system.staff(report_id, "judge", system.tokens["operator"], value={"name": "not_vietnamese", "value": value})


def test_a_report_not_in_vietnamese_waits_for_the_operator_who_may_refuse_it_where_the_seed_says_so(system):
    """TTH Điều 5 khoản 1 (the language), Điều 7 khoản 5 điểm a (the conditions): held with the reason, never
    refused by the engine itself; the operator confirms or refuses."""
    system.start()
    move_to(system, TTH, 9, 0)
    english = system.submit(good_report(description="Big pothole in the middle of Le Loi street, please fix it"),
                            [fresh_photo(seed=71)]).json()["id"]
    view = system.wait_for(english, lambda v: v.get("pending_checks"), what="held for the operator")
    [check] = view["pending_checks"]
    assert check["name"] == "not_vietnamese" and check["rule"] == "tth-acc-language"
    assert check["article"] == "Điều 5 khoản 1; Điều 7 khoản 5 điểm a" and view["state"] == "submitted"
    assert judge_language(system, english, "rejected").status_code == 200
    [reason] = system.wait_state(english, "rejected")["reasons"]
    assert reason["code"] == "NOT_VIETNAMESE" and "tiếng Việt" in reason["message"]

    plain = system.submit(good_report(description="O ga lon giua duong Le Loi, xe may de te nga"),
                          [fresh_photo(seed=72)]).json()["id"]      # Vietnamese without accents: not held
    view = system.wait_for(plain, lambda v: v["state"] in ("accepted", "dispatched"), what="accepted")
    assert not view.get("pending_checks")


def test_tn_holds_text_without_accents_and_the_operator_can_only_confirm(system):
    """TN Điều 6 khoản 1 ("từ ngữ tiếng Việt, có dấu và … Unicode theo tiêu chuẩn 6909:2011"); Điều 7 khoản 3 Bước 1
    refuses a report only for khoản 5 of Điều 6, so the language holds it for the operator but is no ground to refuse;
    the receive deadline (Điều 7 khoản 2, from the report's arrival) keeps running while it waits."""
    system.start()
    move_to(system, "tay-ninh-2024", 9, 0)
    report = good_report(pack="tay-ninh-2024", category="roads_traffic",
                         description="Duong bi sut lun truoc cho Tan Ninh, rat nguy hiem",
                         location={"lat": 11.3101, "lon": 106.0983, "source": "gps"})
    answer = system.submit(report, [fresh_photo(seed=73)])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    view = system.wait_for(report_id, lambda v: v.get("pending_checks") and deadline(v, "receive"),
                           what="held for the operator, receiving timed")
    assert [c["rule"] for c in view["pending_checks"]] == ["tn24-acc-language"]
    assert not deadline(view, "receive").get("closed_at")
    refused = judge_language(system, report_id, "rejected")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "VALIDATION_FAILED"
    assert judge_language(system, report_id, "confirmed").status_code == 200
    view = system.wait_for(report_id, lambda v: v["state"] in ("dispatched", "routing_unresolved"), what="received")
    assert view["reasons"] == []
