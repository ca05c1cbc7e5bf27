"""Retention on the real broker: Tây Ninh keeps reporters' data 30 days (pack.yaml publication.retention_days),
then a closed report's personal data leaves every service and its files leave the media store."""
from __future__ import annotations

import hashlib
import json
import random
from datetime import timedelta

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from paht import clock
from paht.callers import call_internal
from paht.demo_media import camera_jpeg
from paht.geo import WardIndex
from paht.mediastore import MediaStore
from paht.storage import open_database
from tests.integration.conftest import eventually

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

PACK = "tay-ninh-2024"
PHONE, KEY = "0912345678", "phone:84912345678"
COUNTED_AS = f"{PACK}/{KEY}"          # verification counts a reporter within the province (its tenant)
OTHER_PHONE = "0987654321"


def photo(seed: int) -> tuple[str, bytes, str]:
    return f"photo{seed}.jpg", camera_jpeg(clock.now() - timedelta(hours=1), seed=seed), "image/jpeg"


def sha(file) -> str:
    return hashlib.sha256(file[1]).hexdigest()


def tay_ninh_report(phone: str, description: str, seed: int) -> dict:
    lat, lon = WardIndex.of_pack("tay-ninh-2024").random_point(random.Random(seed))
    return {"pack": PACK, "channel": "app", "category": "trees_parks", "description": description,
            "reporter": {"name": "Trần Thị Bình", "phone": phone, "email": f"binh{phone}@example.vn"},
            "location": {"lat": lat, "lon": lon, "source": "gps", "address": "Số 12 đường 30/4"}}


def advance(system, seconds: float) -> None:
    answer = requests.post(f"{system.api}/api/v1/_clock/advance", json={"seconds": seconds}, timeout=10,
                           headers={"Authorization": f"Bearer {system.tokens['admin']}"})
    assert answer.status_code == 200, answer.text


def test_a_closed_report_is_forgotten_by_every_service_after_the_retention_period(system):
    system.start()
    db = {name: open_database(name, var=system.tmp_path) for name in ("verification", "routing", "rating")}
    media = MediaStore(system.tmp_path / "media")
    own, shared, after = photo(11), photo(12), photo(13)

    answer = system.submit(tay_ninh_report(PHONE, "Cây xanh đổ chắn ngang đường trước nhà tôi số 12", 1), [own, shared])
    assert answer.status_code == 201, answer.text
    report_id, token = answer.json()["id"], answer.json()["tracking_token"]
    answer = system.submit(tay_ninh_report(OTHER_PHONE, "Cành cây gãy treo trên đường, nguy hiểm", 2), [shared])
    assert answer.status_code == 201, answer.text
    other_id = answer.json()["id"]                      # stays open: the file it shares must stay

    view = system.wait_state(report_id, "dispatched")
    system.wait_state(other_id, "dispatched")
    talk = requests.post(f"{system.api}/api/v1/reports/{report_id}/interactions", timeout=10,
                         json={"message": f"Xin gọi tôi số {PHONE}"}, headers={"X-Tracking-Token": token})
    assert talk.status_code == 200, talk.text
    agency = next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")
    staff, leader = system.agency_tokens(view["pack"], agency)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    answer = system.staff(report_id, "submit_result", staff, photos=[after], result_text="Đã dọn cây đổ.")
    assert answer.status_code == 200, answer.text
    assert system.staff(report_id, "approve", leader).status_code == 200
    system.wait_state(report_id, "approved")
    assert system.staff(report_id, "publish", system.tokens["operator"]).status_code == 200
    system.wait_state(report_id, "published")
    level = "hai_long"
    rated = requests.post(f"{system.api}/api/v1/reports/{report_id}/rating", timeout=10,
                          json={"level": level, "comment": "Cảm ơn, Bình ở số 12"}, headers={"X-Tracking-Token": token})
    assert rated.status_code == 200, rated.text
    system.wait_for(report_id, lambda v: v.get("rating"), what="rating")
    # before: every service holds something of the reporter
    assert db["verification"]["fingerprints"].find_one({"_id": report_id})["reporter_key"] == COUNTED_AS
    assert report_id in db["verification"]["reporters"].find_one({"_id": COUNTED_AS})["reports"]
    assert db["rating"]["interactions"].find_one({"report_id": report_id})["message"].endswith(PHONE)
    assert all(media.exists(sha(f)) for f in (own, shared, after))

    advance(system, 30 * 86400 + 3600)
    with ClusterRpcProxy(system.rabbit_config) as rpc:
        announced = call_internal("intake", rpc.intake, "purge_expired")["announced"]
        assert announced == [report_id]                  # the open report is not due
        assert call_internal("intake", rpc.intake, "purge_expired")["announced"] == []   # announced once

    staff_view = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()
    assert staff_view["state"] == "published" and staff_view["result"]["after_photos"] == [sha(after)]
    assert staff_view["reporter"] == {} and staff_view["description"] is None and staff_view["location"] is None
    assert staff_view["media"] == [] and staff_view["rating"]["level"] == level
    text = json.dumps(staff_view, ensure_ascii=False)
    assert PHONE not in text and "Bình" not in text and "số 12" not in text
    other = system.staff_get(f"reports/{other_id}", system.tokens["operator"]).json()
    assert other["reporter"]["phone"] == OTHER_PHONE

    eventually(lambda: db["verification"]["fingerprints"].find_one({"_id": report_id}) is None,
               "verification forgot the fingerprint")
    assert db["verification"]["reporters"].find_one({"_id": COUNTED_AS}) is None
    assert not list(db["verification"]["reporters"].find({"reports": report_id}))
    assert db["verification"]["fingerprints"].find_one({"_id": other_id})["reporter_key"] == f"{PACK}/phone:84987654321"
    eventually(lambda: db["rating"]["interactions"].find_one({"report_id": report_id}) is None,
               "rating forgot the messages")
    assert db["rating"]["ratings"].find_one({"_id": report_id})["comment"] is None
    for name in ("verification", "routing", "rating"):
        for collection in db[name].list_collection_names():
            assert PHONE not in repr(list(db[name][collection].find({}))), f"{name}.{collection}"

    assert not media.exists(sha(own))                   # only this report had it
    assert media.exists(sha(shared)) and media.exists(sha(after))   # the open report's; the agency's
    refused = requests.post(f"{system.api}/api/v1/reports/{report_id}/interactions", timeout=10,
                            json={"message": "còn đó không?"}, headers={"X-Tracking-Token": token})
    assert refused.status_code == 403                   # no reporter any more: the token is gone too
    assert system.get(report_id)["state"] == "published"    # the public record stays
