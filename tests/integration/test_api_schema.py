"""The OpenAPI document the running intake serves, against the running system: schemathesis over every operation
(no 5xx, every answer's status, content type and body as documented), then a report followed through the
documented operations only, each real answer checked against the document."""
from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
EXAMPLES = 10
JSON_PARTS = ("report", "supplement", "action")   # multipart parts the API reads as JSON

schemathesis.experimental.OPEN_API_3_1.enable()   # schemathesis 3 reads OpenAPI 3.1 only behind this switch


def served_schema(system):
    return schemathesis.from_uri(f"{system.api}/api/v1/openapi.json", base_url=system.api)


def as_sent(case, seed: dict):
    """A generated request, sent a little closer to real use: a multipart part the API reads as JSON is sent as
    JSON text (schemathesis writes an object part as Python's repr; the document says JSON with
    `encoding.contentType`), a `pack` is one that exists, and a report id is the seeded report's (with its tracking
    token), so the checks reach past "unknown pack" and "no such report"."""
    if case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        for part in JSON_PARTS:
            value = case.body.get(part)
            if isinstance(value, dict):
                if "pack" in value:
                    value["pack"] = seed["pack"]
                case.body[part] = json.dumps(value, ensure_ascii=False)
    elif isinstance(case.body, dict) and "pack" in case.body:
        case.body["pack"] = seed["pack"]
    if case.query and "pack" in case.query:
        case.query["pack"] = seed["pack"]
    if case.path_parameters and "report_id" in case.path_parameters:
        case.path_parameters["report_id"] = seed["report_id"]
        case.headers = {**(case.headers or {}), "X-Tracking-Token": seed["tracking_token"]}
    return case


def fuzz(operation, headers, seed) -> str | None:
    """A few generated requests to one operation; the first failing check, with the request to repeat, or None."""
    failure = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        response = as_sent(case, seed).call(headers=headers, timeout=20)
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as exc:
            failure.append(f"{operation.verbose_name}: {exc}")
            raise

    try:
        run()
    except AssertionError:
        return failure[0] if failure else f"{operation.verbose_name}: failed"
    return None


def submitted(system) -> dict:
    """A real report, past verification: {"pack", "report_id", "tracking_token"}."""
    from paht.rules import list_packs

    pack = list_packs()[0]
    answer = system.submit({"pack": pack, "description": "Ổ gà lớn giữa đường, xe máy dễ ngã.",
                            "category": "roads_traffic", "reporter": {"name": "Nguyễn Văn A", "phone": "0905123456"},
                            "location": {"lat": 16.4637, "lon": 107.5909, "source": "gps"}})
    assert answer.status_code == 201, answer.text
    system.wait_for(answer.json()["id"], lambda view: view["state"] != "submitted", what="verification")
    return {"pack": pack, "report_id": answer.json()["id"], "tracking_token": answer.json()["tracking_token"]}


def test_every_operation_answers_as_documented(system):
    system.start()
    schema = served_schema(system)
    seed = submitted(system)
    headers = {"Authorization": f"Bearer {system.tokens['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures = [found for found in (fuzz(operation, headers, seed) for operation in operations) if found]
    assert not failures, "\n\n".join(failures)


def checked(schema, method, path, **parts):
    """One documented operation called with the given parts; its answer validated against the document."""
    case = schema[path][method].make_case(**parts)
    response = case.call(timeout=20)
    case.validate_response(response, checks=CHECKS)
    return response


def test_a_report_is_submitted_and_followed_by_the_document_alone(system):
    from paht.rules import list_packs

    system.start()
    schema = served_schema(system)
    pack = list_packs()[0]
    staff = {"Authorization": f"Bearer {system.tokens['admin']}"}
    submitted = checked(schema, "POST", "/api/v1/reports", media_type="application/json", body={
        "pack": pack, "description": "Ổ gà lớn giữa đường, xe máy dễ ngã.", "category": "roads_traffic",
        "reporter": {"name": "Nguyễn Văn A", "phone": "0905123456"},
        "location": {"lat": 16.4637, "lon": 107.5909, "source": "gps"}})
    assert submitted.status_code == 201, submitted.text
    answer = submitted.json()
    report_id, token = answer["id"], answer["tracking_token"]
    system.wait_for(report_id, lambda view: view["state"] != "submitted", what="verification")

    public = checked(schema, "GET", "/api/v1/reports/{report_id}", path_parameters={"report_id": report_id})
    assert public.status_code == 200 and public.json()["id"] == report_id
    own = checked(schema, "GET", "/api/v1/reports/{report_id}", path_parameters={"report_id": report_id},
                  headers={"X-Tracking-Token": token})
    assert own.status_code == 200
    wrong = checked(schema, "GET", "/api/v1/reports/{report_id}", path_parameters={"report_id": report_id},
                    headers={"X-Tracking-Token": "not-the-token"})
    assert wrong.status_code == 403
    written = checked(schema, "POST", "/api/v1/reports/{report_id}/interactions",
                      path_parameters={"report_id": report_id}, headers={"X-Tracking-Token": token},
                      media_type="application/json", body={"message": "Xin cho biết khi nào sửa?"})
    assert written.status_code in (200, 409), written.text

    record = checked(schema, "GET", "/api/v1/staff/reports/{report_id}", path_parameters={"report_id": report_id},
                     headers=staff)
    assert record.status_code == 200 and record.json()["reporter"]["phone"] == "0905123456"
    listed = checked(schema, "GET", "/api/v1/staff/reports", headers=staff, query={"pack": pack})
    assert report_id in [view["id"] for view in listed.json()["reports"]]
    assert checked(schema, "GET", "/api/v1/feed", query={"limit": 5}).status_code == 200
    assert checked(schema, "GET", "/api/v1/auth/me", headers=staff).json()["role"] == "admin"


def test_the_served_documents_are_the_stored_ones(system):
    from services.gateway.apidoc import DOCS

    system.start("intake")
    for name in ("openapi.json", "asyncapi.json"):
        served = requests.get(f"{system.api}/api/v1/{name}", timeout=10)
        assert served.status_code == 200
        assert served.headers["Content-Type"].startswith("application/json")
        assert served.text == (DOCS / name).read_text(encoding="utf-8")
