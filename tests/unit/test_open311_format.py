"""Open311 GeoReport v2 answers built from packs and reports, in JSON and XML, against the schemas written from the
specification (tests/contract/open311)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from paht.errors import ApiError
from paht.events import jsonable
from paht.rules import get_pack
from services.gateway import open311_format as fmt
from services.gateway.open311 import report_in
from services.gateway.open311_schemas import Open311Form, RequestsQuery
from services.intake.record_rpc import public_record
from tests.contract.open311.helpers import validate, xml_to_json

PACK = get_pack("thua-thien-hue-2022")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)


def both_formats(kind: str, root: str, body) -> None:
    validate(kind, json.loads(fmt.to_json(body)))
    read_back = xml_to_json(fmt.to_xml(root, body))
    validate(kind, read_back)
    assert read_back == json.loads(fmt.to_json(body))


def report(state="submitted", **extra) -> dict:
    base = {"_id": "PA-250304-0A1B2C3D", "pack": PACK.id, "state": state, "category": "roads_traffic",
            "description": "Ổ gà <lớn> & sâu", "reporter": {"name": "Nguyễn Văn An", "phone": "0905123456"},
            "location": {"lat": 16.46, "lon": 107.59}, "submitted_at": T0, "updated_at": T0 + timedelta(hours=1),
            "timeline": [{"at": T0, "kind": "submitted", "from": None, "to": "submitted"}], "reasons": [],
            "warnings": [], "deadlines": {}, "assigned_agencies": [], "ward": None}
    return base | extra


def request_of(report_doc):
    # the record as the gateway gets it from intake over RPC (record_rpc.public_record, in JSON)
    record = jsonable(public_record(report_doc))
    return fmt.service_request(record, PACK.categories, PACK.agencies, VN, "https://paht.example")


def test_every_category_is_a_service_with_its_attributes_in_both_formats():
    services = fmt.services(PACK.categories)
    both_formats("services", "services", services)
    assert [s["service_code"] for s in services] == list(PACK.categories)
    fire = next(s for s in services if s["service_code"] == "fire_rescue")
    assert fire["group"] == fmt.IMMEDIATE_GROUP and "cháy" in fire["keywords"]
    definition = fmt.service_definition("roads_traffic")
    both_formats("service_definition", "service_definition", definition)
    assert [a["code"] for a in definition["attributes"]] == ["urgent", "keep_private", "share_contact"]


def test_a_request_shows_the_public_view_and_never_the_reporter():
    dispatched = report("dispatched", ward={"code": "19753", "name": "Phường Phú Hội"},
                        assigned_agencies=[{"id": "so-xay-dung", "role": "lead"}],
                        deadlines={"dispatch": {"step": "dispatch", "due": "2025-03-04T09:30:00+07:00",
                                                "opened_at": "2025-03-04T09:00:00+07:00", "late": False,
                                                "closed_at": "2025-03-04T09:10:00+07:00"},
                                   "acknowledge": {"step": "acknowledge", "due": "2025-03-04T09:40:00+07:00",
                                                   "opened_at": "2025-03-04T09:10:00+07:00", "late": False}})
    answer = request_of(dispatched)
    both_formats("requests", "service_requests", [answer])
    assert answer["status"] == "open" and answer["agency_responsible"] == "Sở Xây dựng thành phố Huế"
    assert answer["status_notes"].startswith("Đã chuyển đến Sở Xây dựng thành phố Huế xử lý.")
    assert answer["expected_datetime"] == "2025-03-04T09:40:00+07:00"   # the open one, not the closed dispatch
    assert answer["requested_datetime"] == "2025-03-04T09:00:00+07:00"
    assert answer["updated_datetime"] == "2025-03-04T10:00:00+07:00"
    assert answer["address"] == "Phường Phú Hội" and answer["lat"] is None
    assert "0905123456" not in json.dumps(answer, ensure_ascii=False) and "Nguyễn" not in json.dumps(answer)


def test_a_report_that_needs_a_supplement_says_what_and_how():
    reasons = [{"code": "MISSING_MEDIA", "rule": "r", "article": "Điều 7 khoản 5 điểm b",
                "message": "Vui lòng bổ sung hình ảnh hoặc video chụp tại hiện trường.",
                "message_en": "Please add a photo or video taken at the scene."}]
    deadline = {"step": "supplement", "due": "2025-03-06T09:00:00+07:00", "opened_at": "2025-03-04T09:00:00+07:00",
                "late": False}
    answer = request_of(report("needs_supplement", reasons=reasons, deadlines={"supplement": deadline}))
    notes = answer["status_notes"]
    assert notes.startswith("Phản ánh cần bổ sung: Vui lòng bổ sung hình ảnh")
    assert "trước 2025-03-06T09:00:00+07:00" in notes and "/supplement" in notes and "X-Tracking-Token" in notes
    assert "Please add a photo" in notes.splitlines()[1]
    assert answer["status"] == "open"


def test_terminal_states_are_closed_and_a_rejected_report_hides_its_text():
    reason = {"code": "OUT_OF_SCOPE", "rule": "r", "article": "Điều 5 khoản 2", "message": "Không thuộc phạm vi.",
              "message_en": None}
    rejected = request_of(report("rejected", reasons=[reason]))
    assert rejected["status"] == "closed" and rejected["description"] is None
    assert rejected["status_notes"].startswith("Phản ánh không được tiếp nhận: Không thuộc phạm vi. (Điều 5 khoản 2)")
    published = request_of(report("published", result={"after_photos": ["ab" * 32]}))
    assert published["status"] == "closed"
    assert published["media_url"] == f"https://paht.example/api/v1/reports/PA-250304-0A1B2C3D/result-photos/{'ab' * 32}"
    assert request_of(report("in_progress"))["status"] == "open"


def test_xml_escapes_markup_and_drops_characters_xml_cannot_hold():
    hostile = report(description="</description><x>&amp;\x00\x1b]]>")
    text = fmt.to_xml("service_requests", [request_of(hostile)])
    parsed = ET.fromstring(text)
    assert parsed.find("request/description").text == "</description><x>&amp;\ufffd\ufffd]]>"
    assert parsed.find("request/lat").text is None


def test_errors_carry_the_status_and_each_field_in_both_formats():
    error = ApiError("VALIDATION_FAILED", fields={"lat": "Input should be less than or equal to 90"})
    body = fmt.errors(error)
    both_formats("errors", "errors", body)
    assert body[0]["code"] == 422 and body[0]["description"].startswith("VALIDATION_FAILED: Thông tin")
    assert body[1] == {"code": 422, "description": "lat: Input should be less than or equal to 90"}


def test_post_and_token_answers_match_their_schemas():
    created = fmt.created({"id": "PA-250304-0A1B2C3D", "tracking_token": "tok_123"}, None, "Thông báo")
    both_formats("post_response", "service_requests", created)
    both_formats("tokens", "service_requests", fmt.token_answer("tok_123", "PA-250304-0A1B2C3D"))
    with pytest.raises(jsonschema.ValidationError):
        validate("post_response", [{"service_request_id": None, "token": None, "service_notice": None,
                                    "account_id": None}])


def form(**fields):
    base = {"jurisdiction_id": PACK.id, "service_code": "roads_traffic", "description": "Ổ gà giữa đường",
            "lat": "16.4637", "long": "107.5909"}
    return Open311Form.model_validate(base | fields)


def test_form_fields_become_the_report_every_channel_submits():
    submission = report_in(form(first_name="An", last_name="Nguyễn Văn", phone="0905123456",
                                attribute={"urgent": "true", "share_contact": "false"}))
    assert submission.channel == "open311" and submission.category == "roads_traffic"
    assert submission.reporter.name == "Nguyễn Văn An" and submission.reporter.share_contact is False
    assert submission.location.lat == 16.4637 and submission.location.source == "gps" and submission.urgent
    by_hand = report_in(form(lat="", long="", address_string="12 Lê Lợi, phường Phú Hội"))
    assert by_hand.location.source == "manual" and by_hand.location.lat is None


@pytest.mark.parametrize(("fields", "field"), [
    ({"lat": "91"}, "lat"), ({"long": "nan"}, "long"), ({"lat": "inf"}, "lat"), ({"lat": "16,4"}, "lat"),
    ({"long": ""}, "lat"), ({"phone": "call me"}, "phone"), ({"description": "\u200b"}, "description"),
    ({"attribute": {"colour": "red"}}, "attribute[colour]"), ({"attribute": {"urgent": "yes"}}, "attribute[urgent]"),
    ({"address_id": "A-1"}, "address_id"),
])
def test_invalid_form_fields_are_named_as_the_client_sent_them(fields, field):
    with pytest.raises((ApiError, ValueError)) as refused:
        report_in(form(**fields))
    if isinstance(refused.value, ApiError):
        assert refused.value.code == "VALIDATION_FAILED" and field in refused.value.fields
    else:   # refused by the form model already
        assert field in str(refused.value)


def test_the_query_takes_only_open_and_closed():
    assert RequestsQuery.model_validate({"jurisdiction_id": "x", "status": "closed,open"}).listed("status") == \
        ["closed", "open"]
    with pytest.raises(ValueError):
        RequestsQuery.model_validate({"jurisdiction_id": "x", "status": "pending"})
