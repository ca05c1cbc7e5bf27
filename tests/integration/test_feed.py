"""The public feed (issue 14 item 7): published results a page at a time, filtered by pack, ward, category,
publication day and bounding box, each with its place — rounded where the pack hides the reporter's personal data
on request (Vĩnh Long Điều 5 khoản 4) — and never the reporter's data."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from paht import accounts, clock
from paht.demo_media import camera_jpeg
from paht.rules import get_pack
from paht.worktime import calendar_for

pytestmark = pytest.mark.integration

HUE, VL = "thua-thien-hue-2022", "vinh-long-2025"
THUAN_HOA = (16.4637, 107.5909)      # phường Thuận Hóa, Huế
PHU_XUAN = (16.4700, 107.5790)       # phường Phú Xuân, Huế
LONG_CHAU = (10.253712, 105.972249)  # phường Long Châu, Vĩnh Long


def publish(system, pack, point, category, seed, keep_private=False) -> str:
    """A citizen's report taken all the way to a public result."""
    account = f"{pack}-{seed}"
    report = {"pack": pack, "channel": "app", "category": category, "keep_private": keep_private,
              "description": f"Phản ánh hiện trường số {seed}: hư hỏng cần khắc phục",
              "reporter": {"name": "Lê Thị Cúc", "phone": f"09051234{seed:02d}", "email": f"cuc{seed}@example.vn",
                           "address": "3 Hùng Vương", "citizen_id": "079123456789", "account_id": account,
                           "account_proof": accounts.proof(account)},
              "location": {"lat": point[0], "lon": point[1], "source": "gps", "address": f"{seed} Hùng Vương"}}
    photo = (f"p{seed}.jpg", camera_jpeg(clock.now() - timedelta(hours=1), seed=seed), "image/jpeg")
    answer = system.submit(report, [photo])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    view = system.wait_state(report_id, "dispatched")
    lead = next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")
    staff, leader = system.agency_tokens(pack, lead)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    after = (f"a{seed}.jpg", camera_jpeg(clock.now(), seed=100 + seed), "image/jpeg")
    answer = system.staff(report_id, "submit_result", staff, photos=[after], result_text="Đã khắc phục xong.")
    assert answer.status_code == 200, answer.text
    assert system.staff(report_id, "approve", leader).status_code == 200
    system.wait_state(report_id, "approved")
    assert system.staff(report_id, "publish", system.tokens["operator"]).status_code == 200
    system.wait_state(report_id, "published")
    return report_id


def feed(system, **params):
    answer = requests.get(f"{system.api}/api/v1/feed", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def ids(page) -> list[str]:
    return [item["report_id"] for item in page["results"]]


def day(pack) -> str:
    return clock.now().astimezone(calendar_for(get_pack(pack).meta).tz).date().isoformat()


def test_feed_pages_filters_and_places(system):
    system.start()
    first = publish(system, HUE, THUAN_HOA, "roads_traffic", 1)
    first_day = day(HUE)
    system.advance(86400)
    second = publish(system, HUE, PHU_XUAN, "waste_sanitation", 2)
    private = publish(system, VL, LONG_CHAU, "roads_traffic", 3, keep_private=True)
    second_day = day(HUE)

    everything = feed(system)
    assert ids(everything) == [private, second, first] and everything["next"] is None
    places = {item["report_id"]: item["location"] for item in everything["results"]}
    assert places[first] == {"lat": THUAN_HOA[0], "lon": THUAN_HOA[1], "address": "1 Hùng Vương", "rounded": False}
    assert places[private] == {"lat": 10.254, "lon": 105.972, "address": None, "rounded": True}
    assert "Lê Thị Cúc" not in repr(everything) and "0905123403" not in repr(everything)

    # paging: each result once, in order
    page = feed(system, limit=2)
    assert ids(page) == [private, second] and page["next"]
    rest = feed(system, limit=2, cursor=page["next"])
    assert ids(rest) == [first] and rest["next"] is None

    assert ids(feed(system, pack=VL)) == [private]
    assert ids(feed(system, ward="19753")) == [second]               # phường Phú Xuân
    assert ids(feed(system, category="waste_sanitation")) == [second]
    assert ids(feed(system, **{"from": first_day, "to": first_day})) == [first]
    assert ids(feed(system, **{"from": second_day})) == [private, second]
    assert ids(feed(system, to=first_day, pack=HUE)) == [first]
    assert ids(feed(system, bbox="107.5,16.4,107.7,16.5")) == [second, first]   # Huế only
    assert ids(feed(system, bbox="107.585,16.46,107.595,16.47")) == [first]
    # the box reads the public (rounded) place: no finer than the feed shows it
    assert ids(feed(system, bbox="105.9722,10.2536,105.9723,10.2538")) == []
    assert ids(feed(system, bbox="105.97,10.25,105.98,10.26")) == [private]

    for bad in ({"cursor": "bm90LWEtY3Vyc29y"}, {"bbox": "1,2,3"}, {"bbox": "107.7,16.4,107.5,16.5"},
                {"from": "2025-02-30"}, {"from": second_day, "to": first_day}):
        answer = requests.get(f"{system.api}/api/v1/feed", params=bad, timeout=10)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED", (bad, answer.text)
