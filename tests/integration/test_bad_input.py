"""Bad input gets a 4xx with a stable code and a Vietnamese message, and nothing is stored (issue 2)."""
from __future__ import annotations

import json

import pytest
import requests

from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = pytest.mark.integration


def post(system, parts, content_type=None, data=None):
    if data is not None:
        return requests.post(f"{system.api}/api/v1/reports", data=data,
                             headers={"Content-Type": content_type}, timeout=10)
    return requests.post(f"{system.api}/api/v1/reports", files=parts, timeout=10)


def report_part(report):
    return ("report", (None, report if isinstance(report, str) else json.dumps(report), "application/json"))


CASES = [
    ("malformed JSON", [report_part("{not json")], 400, "INVALID_JSON"),
    ("missing description", [report_part({k: v for k, v in good_report().items() if k != "description"})], 422,
     "VALIDATION_FAILED"),
    ("unknown pack", [report_part(good_report(pack="ha-noi-2030"))], 422, "UNKNOWN_PACK"),
    ("latitude out of range", [report_part(good_report(location={"lat": 123, "lon": 107}))], 422,
     "VALIDATION_FAILED"),
    ("no report part", [("media", fresh_photo())], 400, "MISSING_REPORT_PART"),
    ("not a media file", [report_part(good_report()), ("media", ("x.jpg", b"MZ\x90\x00not an image", "image/jpeg"))],
     415, "UNSUPPORTED_MEDIA"),
    ("empty upload", [report_part(good_report()), ("media", ("x.jpg", b"", "image/jpeg"))], 400, "EMPTY_UPLOAD"),
]


@pytest.mark.parametrize("name,parts,status,code", CASES, ids=[c[0] for c in CASES])
def test_bad_submission_is_refused_and_nothing_is_stored(system, name, parts, status, code):
    system.start("intake")
    answer = post(system, parts)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["message_en"]
    operator = system.tokens["operator"]
    assert system.staff_get("reports", operator).json()["count"] == 0
    assert not (system.tmp_path / "media").exists() or not any((system.tmp_path / "media").rglob("*"))


def test_oversized_upload_is_refused(system, monkeypatch):
    monkeypatch.setenv("PAHT_MAX_UPLOAD_MB", "1")
    system.start("intake")
    big = fresh_photo()[1] + b"\0" * (1024 * 1024)
    answer = post(system, [report_part(good_report()), ("media", ("big.jpg", big, "image/jpeg"))])
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "MEDIA_TOO_LARGE"


def test_staff_api_needs_a_token_and_agency_users_see_only_their_reports(system):
    system.start("intake")
    assert system.staff_get("reports", "nope").status_code == 401
    agencies = sorted(system.tokens["thua-thien-hue-2022"])
    token = system.agency_tokens("thua-thien-hue-2022", agencies[0])[0]
    assert system.staff_get("reports", token, agency=agencies[1]).status_code == 403
