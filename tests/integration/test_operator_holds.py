"""A `warn` rule with a check holds the report in `submitted` until the operator judges it (issue 11, review E8):
a photo whose file records no capture time is not accepted and routed within a second any more."""
from __future__ import annotations

import pytest

from paht import accounts
from paht.demo_media import camera_jpeg
from tests.integration.test_walking_route import good_report
from tests.media_factory import heic

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

RULE, ARTICLE = "tth-acc-photo-age-unknown", "Điều 7 khoản 5 điểm a"


def internal(system, report_id):
    return system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()


def held(system, report_id):
    view = system.wait_for(report_id, lambda v: v.get("pending_checks"), what="a pending check")
    assert view["state"] == "submitted" and view["assigned_agencies"] == []
    return view


def dispatched(system, report_id):
    """Verification let it through (accepted); routing dispatches it at once, or — a normal report accepted outside
    the pack's intake hours (TTH: 24h00–07h30) — at the next opening, so the clock is moved past it."""
    view = system.wait_for(report_id, lambda v: v["state"] in ("accepted", "dispatched"), what="accepted")
    if view["state"] == "accepted":
        try:
            return system.wait_state(report_id, "dispatched", timeout=3)
        except AssertionError:
            system.advance(8 * 3600)
    return system.wait_state(report_id, "dispatched")


def judge(system, report_id, value):
    answer = system.staff(report_id, "judge", system.tokens["operator"],
                          value={"name": "photo_age_unknown", "value": value})
    assert answer.status_code == 200, answer.text


def test_a_photo_without_capture_time_waits_for_the_operator(system):
    system.start()
    no_exif = ("photo.jpg", camera_jpeg(None, seed=31), "image/jpeg")   # as messaging apps send it: no EXIF time
    report_id = system.submit(good_report(), [no_exif]).json()["id"]

    view = held(system, report_id)
    [check] = view["pending_checks"]
    assert check["name"] == "photo_age_unknown" and check["rule"] == RULE and check["article"] == ARTICLE
    assert check["message"]
    kinds = [entry["kind"] for entry in internal(system, report_id)["timeline"]]
    assert "operator_check_started" in kinds and "verified" not in kinds

    refused = system.staff(report_id, "judge", system.tokens["operator"],
                           value={"name": "photo_age_unknown", "value": "maybe"})
    assert refused.status_code == 422
    judge(system, report_id, "confirmed")
    view = dispatched(system, report_id)
    assert view["pending_checks"] == [] and view["reasons"] == []
    warning = next(w for w in internal(system, report_id)["warnings"] if w["rule"] == RULE)
    assert warning["status"] == "confirmed"


def test_a_rejected_check_rejects_the_report_with_the_rules_article(system):
    system.start()
    other = {"name": "Phạm Thị Dung", "phone": "0914000333", "email": "dung@example.vn", "account_id": "hue-s-2002",
             "account_proof": accounts.proof("hue-s-2002")}
    heic_without_exif = ("IMG_0042.HEIC", heic(None, seed=32), "image/heic")
    report_id = system.submit(good_report(reporter=other, description="Cống thoát nước bị vỡ trên đường Hùng Vương",
                                          category="water_drainage"), [heic_without_exif]).json()["id"]
    assert [c["name"] for c in held(system, report_id)["pending_checks"]] == ["photo_age_unknown"]

    judge(system, report_id, "rejected")
    view = system.wait_state(report_id, "rejected")
    [reason] = view["reasons"]
    assert reason["code"] == "PHOTO_TOO_OLD" and reason["rule"] == RULE and reason["article"] == ARTICLE
    assert "không xác định được" in reason["message"]
    assert view["pending_checks"] == [] and view["assigned_agencies"] == []


def test_a_first_time_reporter_is_still_checked_after_the_photo_check(system):
    """The operator's check comes first; the report stays the reporter's first one when it is verified again, so the
    identity check (Điều 7 khoản 5 điểm b) follows instead of being skipped."""
    system.start()
    walk_in = {"name": "Hoàng Văn Em", "phone": "0914000444", "email": "em@example.vn"}   # no app account
    no_exif = ("photo.jpg", camera_jpeg(None, seed=33), "image/jpeg")
    report_id = system.submit(good_report(reporter=walk_in, description="Đèn chiếu sáng hỏng đường Trần Hưng Đạo",
                                          category="lighting_power"), [no_exif]).json()["id"]
    held(system, report_id)
    judge(system, report_id, "confirmed")
    view = system.wait_for(report_id, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                           what="identity check after the photo check")
    assert view["state"] == "submitted" and view["pending_checks"] == []
    answer = system.staff(report_id, "judge", system.tokens["operator"], value={"name": "identity", "value": "confirmed"})
    assert answer.status_code == 200, answer.text
    dispatched(system, report_id)
