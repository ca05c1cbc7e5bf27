"""One report through every service on the real broker (issue 2): the happy path and the supplement path."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from paht import accounts, clock
from paht.demo_media import camera_jpeg
from paht.rules import get_pack

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

HUE_POINT = (16.4637, 107.5909)  # Huế city centre (Phú Hội / Thuận Hóa area)
PACK = "thua-thien-hue-2022"


def good_report(**extra):
    report = {
        "pack": PACK, "channel": "app",
        "reporter": {"name": "Nguyễn Văn An", "phone": "0905123456", "email": "an@example.vn",
                     "account_id": "hue-s-1001", "account_proof": accounts.proof("hue-s-1001")},
        "description": "Ổ gà lớn giữa đường Lê Lợi, xe máy dễ té ngã", "category": "roads_traffic",
        "location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps"},
    }
    report.update(extra)
    return report


def fresh_photo(hours_ago=1.0, seed=1):
    return ("photo.jpg", camera_jpeg(clock.now() - timedelta(hours=hours_ago), seed=seed), "image/jpeg")


def lead(view):
    return next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")


def test_happy_path_from_submission_to_rating(system):
    system.start()
    answer = system.submit(good_report(), [fresh_photo()])
    assert answer.status_code == 201, answer.text
    report_id, token = answer.json()["id"], answer.json()["tracking_token"]

    view = system.wait_state(report_id, "dispatched")
    assert view["reasons"] == []
    assert view["ward"]["code"]
    agency = lead(view)
    route = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["route"]
    assert route["rule"] and route["article"]
    view = system.wait_for(report_id, lambda v: any(d["step"] == "acknowledge" for d in v["deadlines"]),
                           what="acknowledge deadline")
    deadline = next(d for d in view["deadlines"] if d["step"] == "acknowledge")
    assert deadline["rule"] and deadline["article"] and deadline["late"] is False

    staff, leader = system.agency_tokens(view["pack"], agency)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    refused = system.staff(report_id, "submit_result", staff, result_text="Đã vá ổ gà.")
    assert refused.status_code == 422 and refused.json()["error"]["fields"] == {"media": "after photos required"}
    answer = system.staff(report_id, "submit_result", staff, photos=[fresh_photo(0, seed=77)],
                          result_text="Đã vá ổ gà.")
    assert answer.status_code == 200, answer.text
    refused = system.staff(report_id, "approve", staff)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert system.staff(report_id, "approve", leader).status_code == 200
    system.wait_state(report_id, "approved")              # the centre checks the result before it is public
    assert system.staff(report_id, "publish", system.tokens["operator"]).status_code == 200
    view = system.wait_state(report_id, "published")
    assert "Đã vá ổ gà." in view["result"]["letter"]
    photo_url = next(line for line in view["result"]["letter"].splitlines() if "/result-photos/" in line)
    photo_url = photo_url[photo_url.index("/api/"):].split(",")[0].strip()
    photo = requests.get(f"{system.api}{photo_url}", timeout=10)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    own_media = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["media"][0]["sha256"]
    assert requests.get(f"{system.api}/api/v1/reports/{report_id}/result-photos/{own_media}",
                        timeout=10).status_code == 404      # the reporter's own photo is never served publicly
    feed = requests.get(f"{system.api}/api/v1/feed", params={"pack": PACK}, timeout=10).json()["results"]
    assert [item["report_id"] for item in feed] == [report_id] and "0905123456" not in repr(feed)

    level = get_pack(PACK).rating_levels()[0]["id"]
    rated = requests.post(f"{system.api}/api/v1/reports/{report_id}/rating", json={"level": level},
                          headers={"X-Tracking-Token": token}, timeout=10)
    assert rated.status_code == 200, rated.text
    view = system.wait_for(report_id, lambda v: v.get("rating"), what="rating")
    assert view["rating"]["level"] == level
    states = [step["to"] for step in view["timeline"]]
    assert states == ["submitted", "accepted", "dispatched", "in_progress", "result_submitted", "approved",
                      "published"]
    internal = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]
    kinds = [step["kind"] for step in internal]
    for kind in ("verified", "routed", "acknowledged", "result_submitted", "approved", "published", "rated",
                 "deadline_opened", "deadline_closed"):
        assert kind in kinds, kind
    event_ids = [step["event_id"] for step in internal]
    assert len(event_ids) == len(set(event_ids)), "an event was applied twice"


def test_report_without_media_or_location_needs_supplement(system):
    system.start()
    answer = system.submit(good_report(location=None))
    assert answer.status_code == 201, answer.text
    report_id, token = answer.json()["id"], answer.json()["tracking_token"]
    view = system.wait_state(report_id, "needs_supplement")
    codes = {r["code"] for r in view["reasons"]}
    assert {"MISSING_MEDIA", "MISSING_LOCATION"} <= codes
    for reason in view["reasons"]:
        assert reason["rule"] and reason["article"] and reason["message"]
    view = system.wait_for(report_id, lambda v: any(d["step"] == "supplement" for d in v["deadlines"]),
                           what="supplement deadline")

    supplement = {"location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps"}}
    answer = system.supplement(report_id, token, supplement, [fresh_photo()])
    assert answer.status_code == 200, answer.text
    system.wait_state(report_id, "dispatched")


def test_supplement_timeout_rejects_through_the_clock(system):
    system.start()
    report_id = system.submit(good_report(location=None)).json()["id"]
    system.wait_for(report_id, lambda v: any(d["step"] == "supplement" for d in v["deadlines"]),
                    what="supplement deadline")
    system.advance(3 * 86400)
    view = system.wait_state(report_id, "rejected")
    assert [r["code"] for r in view["reasons"]] == ["SUPPLEMENT_TIMEOUT"]
