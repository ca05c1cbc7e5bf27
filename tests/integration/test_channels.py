"""Reports an operator enters for a caller (issue 14 item 6): the same path and the same verification as the app's,
with the operator recorded as who entered it; only the centre may, and only for its own pack."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import requests
from openpyxl import load_workbook

from paht import clock
from paht.demo_media import camera_jpeg

pytestmark = pytest.mark.integration

PACK = "thua-thien-hue-2022"
HUE_POINT = (16.4637, 107.5909)   # phường Thuận Hóa, Huế


def call(**extra) -> dict:
    body = {"pack": PACK, "channel": "hotline",
            "caller": {"name": "Trần Thị Bình", "phone": "0914222333", "email": "binh@example.vn",
                       "address": "5 Lê Lợi, Huế", "citizen_id": "046123456789"},
            "description": "Cây xanh ngã chắn ngang đường Lê Lợi, người dân gọi tổng đài báo",
            "category": "trees_parks",
            # the coordinates the caller's phone shared (Huế asks for a GPS position: Điều 7 khoản 5 điểm a)
            "location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps", "address": "Lê Lợi, Huế"},
            "received_at": (clock.now() - timedelta(minutes=10)).isoformat()}
    body.update(extra)
    return body


def enter(system, token, body, photos=()):
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{system.api}/api/v1/staff/reports"
    if photos:
        parts = [("report", (None, json.dumps(body), "application/json"))]
        parts += [("media", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
        return requests.post(url, files=parts, headers=headers, timeout=10)
    return requests.post(url, json=body, headers=headers, timeout=10)


def test_an_operator_enters_a_callers_report_that_is_verified_and_dispatched(system):
    system.start()
    operator = system.tokens["operator"]
    photo = camera_jpeg(clock.now() - timedelta(hours=1), seed=41)
    answer = enter(system, operator, call(), [photo])
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert set(created) == {"id", "state", "tracking_token"} and created["state"] == "submitted"

    # a first-time caller's identity is the operator's to confirm, as for any reporter without a signed-in account
    system.wait_for(created["id"], lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                    what="identity check")
    judged = system.staff(created["id"], "judge", operator, value={"name": "identity", "value": "confirmed"})
    assert judged.status_code == 200, judged.text
    view = system.wait_state(created["id"], "dispatched")
    assert view["reasons"] == [] and view["ward"]["code"]
    staff_view = system.staff_get(f"reports/{created['id']}", operator).json()
    assert staff_view["channel"] == "hotline"
    assert staff_view["reporter"]["phone"] == "0914222333" and staff_view["reporter"]["name"] == "Trần Thị Bình"
    assert staff_view["entered_by"]["role"] == "operator" and staff_view["entered_by"]["user"]
    assert staff_view["received_at"]
    assert staff_view["timeline"][0]["actor"]["entered_by"] == staff_view["entered_by"]
    assert len(staff_view["media"]) == 1 and staff_view["media"][0]["kind"] == "photo"
    # the caller follows it with the tracking token like any reporter
    own = requests.get(f"{system.api}/api/v1/reports/{created['id']}",
                       headers={"X-Tracking-Token": created["tracking_token"]}, timeout=10)
    assert own.status_code == 200 and own.json()["description"].startswith("Cây xanh ngã")


def test_the_same_rules_apply_to_an_entered_report(system):
    system.start()
    answer = enter(system, system.tokens["operator"], call(caller={"name": "Ẩn danh"}, location=None))
    assert answer.status_code == 201, answer.text
    view = system.wait_state(answer.json()["id"], "needs_supplement")
    assert {"MISSING_REPORTER_INFO", "MISSING_MEDIA"} <= {r["code"] for r in view["reasons"]}


def test_only_the_centre_enters_reports_and_only_for_its_pack(system):
    system.start()
    agency = next(iter(system.tokens[PACK]))
    staff, leader = system.agency_tokens(PACK, agency)
    for token in (staff, leader):
        refused = enter(system, token, call())
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert requests.post(f"{system.api}/api/v1/staff/reports", json=call(), timeout=10).status_code == 401

    admin = {"Authorization": f"Bearer {system.tokens['admin']}"}
    created = requests.post(f"{system.api}/api/v1/admin/users", headers=admin, timeout=10,
                            json={"username": "tdv.vinhlong", "role": "operator", "pack": "vinh-long-2025",
                                  "password": "mat-khau-dai-du"})
    assert created.status_code == 201, created.text
    login = requests.post(f"{system.api}/api/v1/auth/login", timeout=10,
                          json={"username": "tdv.vinhlong", "password": "mat-khau-dai-du"})
    token = login.json()["token"]
    refused = enter(system, token, call())
    assert refused.status_code == 403 and refused.json()["error"]["fields"] == {
        "pack": "an operator of one pack enters reports for it only"}
    assert system.staff_get("reports", system.tokens["operator"]).json()["count"] == 0


@pytest.mark.parametrize("change, field", [
    ({"channel": "app"}, "channel"),                                   # the app's reports come from the app
    ({"channel": "open311"}, "channel"),
    ({"received_at": "2030-01-01T00:00:00+07:00"}, "received_at"),     # the call cannot come after now
    ({"received_at": "2024-01-01T09:00:00"}, "received_at"),           # no offset: ambiguous
    ({"caller": {"phone": "không có"}}, "caller.phone"),
    ({"caller": {"account_proof": "x"}}, "caller.account_proof"),      # no sign-in credentials from the centre
    ({"description": "\u200b \u200b"}, "description"),
    ({"reporter": {"name": "A"}}, "reporter"),                         # the caller is `caller`
])
def test_validation_errors(system, change, field):
    system.start()
    answer = enter(system, system.tokens["operator"], call(**change))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    assert any(name == field or name.startswith(field + ".") for name in answer.json()["error"]["fields"]), \
        answer.json()["error"]["fields"]
    assert system.staff_get("reports", system.tokens["operator"]).json()["count"] == 0


def test_bad_media_and_bodies_are_refused(system):
    system.start()
    operator = system.tokens["operator"]
    answer = enter(system, operator, call(), [b"not a photo at all"])
    assert answer.status_code == 415 and answer.json()["error"]["code"] == "UNSUPPORTED_MEDIA"
    answer = requests.post(f"{system.api}/api/v1/staff/reports", data="{", timeout=10,
                           headers={"Authorization": f"Bearer {operator}", "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "INVALID_JSON"
    answer = enter(system, operator, call(pack="no-such-pack"))
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "UNKNOWN_PACK"
    assert system.staff_get("reports", operator).json()["count"] == 0


def test_staff_lists_sort_by_deadline_and_export(system):
    system.start()
    operator = system.tokens["operator"]
    entered = []
    for seed in (1, 2):
        answer = enter(system, operator, call(description=f"Phản ánh qua tổng đài số {seed}",
                                              caller={"name": "Trần Thị Bình", "phone": f"09142223{seed:02d}"}))
        assert answer.status_code == 201, answer.text
        entered.append(answer.json()["id"])
    for report_id in entered:
        system.wait_for(report_id, lambda v: v["deadlines"], what="a deadline")

    listed = system.staff_get("reports", operator, sort="due").json()["reports"]
    dues = [item["due"] for item in listed]
    assert sorted(item["id"] for item in listed) == sorted(entered) and dues == sorted(dues) and None not in dues
    assert [item["id"] for item in system.staff_get("reports", operator, sort="-due").json()["reports"]] == \
        [item["id"] for item in reversed(listed)]
    assert system.staff_get("reports", operator, sort="soonest").status_code == 422

    exported = system.staff_get("reports", operator, format="csv", sort="due")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in exported.headers["Content-Disposition"]
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã phản ánh,Quy chế,Trạng thái")
    assert [line.split(",")[0] for line in lines[1:]] == [item["id"] for item in listed]
    assert "0914222301" in exported.text and "demo operator" in exported.text   # the centre sees the caller

    workbook = system.staff_get("reports", operator, format="xlsx", limit=1)
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet.max_row == 2 and sheet.cell(1, 1).value == "Mã phản ánh"
