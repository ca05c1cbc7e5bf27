"""Open311 GeoReport v2 answers: the pack's categories as services, a report as a service request, errors; and
their JSON and XML forms. Pure functions: everything they show comes from their arguments."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from paht.errors import ApiError
from paht.schemas import lead_agency
from paht.states import TERMINAL


# Every category takes the same attributes: the choices a report has beside its text and place (paht.schemas.ReportIn).
# `attribute[urgent]=true` in a POST sets ReportIn.urgent, and so on.
YES_NO = [{"key": "true", "name": "Có / Yes"}, {"key": "false", "name": "Không / No"}]
ATTRIBUTES = (
    {"code": "urgent", "description": "Cần xử lý khẩn cấp (nguy hiểm trước mắt)? / Urgent (immediate danger)?"},
    {"code": "keep_private", "description": "Đề nghị giữ bí mật nội dung phản ánh? / Keep this report private?"},
    {"code": "share_contact", "description": ("Đồng ý để cơ quan xử lý xem thông tin liên hệ của bạn? / Let the "
                                              "handling agencies see your contact details?")},
)
IMMEDIATE_GROUP = "Xử lý tức thời (cháy nổ, an ninh, thiên tai)"
FIELD_GROUP = "Phản ánh hiện trường"

# the Open311 field each ReportIn field comes from (validation errors name what the client sent)
FORM_FIELD = {"reporter.phone": "phone", "reporter.email": "email", "reporter.name": "last_name",
              "reporter.account_id": "account_id", "location.lat": "lat", "location.lon": "long",
              "location.address": "address_string", "location": "lat", "description": "description",
              "category": "service_code", "pack": "jurisdiction_id"}

# XML 1.0 allows no other characters; ElementTree would write them as they are
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LIST_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
              "values": "value"}


# ---- services ---------------------------------------------------------------------------------------------------
def services(categories: dict[str, dict]) -> list[dict]:
    """`GET services`: one service per category of the pack (rules/categories.yaml)."""
    return [{
        "service_code": code,
        "service_name": item["name"],
        "description": item.get("name_en") or item["name"],
        "metadata": True,
        "type": "realtime",      # the answer to a POST carries the service_request_id at once
        "keywords": ", ".join(item.get("keywords") or []) or None,
        "group": IMMEDIATE_GROUP if item.get("immediate") else FIELD_GROUP,
    } for code, item in categories.items()]


def service_definition(code: str) -> dict:
    """`GET services/{service_code}`: the attributes a request of this service may carry."""
    return {"service_code": code, "attributes": [
        {"variable": True, "code": attribute["code"], "datatype": "singlevaluelist", "required": False,
         "datatype_description": "true | false", "order": order, "description": attribute["description"],
         "values": YES_NO}
        for order, attribute in enumerate(ATTRIBUTES, start=1)]}


def attribute_flags(given: dict[str, str]) -> tuple[dict[str, bool], dict[str, str]]:
    """`attribute[code]=…` of a POST as ReportIn flags, and the errors of those that are not ours or not true/false."""
    known = {attribute["code"] for attribute in ATTRIBUTES}
    flags, errors = {}, {}
    for code, value in given.items():
        if code not in known:
            errors[f"attribute[{code}]"] = "unknown attribute (see services/{service_code})"
        elif value not in ("true", "false"):
            errors[f"attribute[{code}]"] = "true or false"
        else:
            flags[code] = value == "true"
    return flags, errors


def form_fields(fields: dict[str, str]) -> dict[str, str]:
    """Validation errors of the ReportIn built from a POST, named by the Open311 fields they came from."""
    return {FORM_FIELD.get(path, path): message for path, message in fields.items()}


# ---- service requests ---------------------------------------------------------------------------------------
def _local(value, tz: ZoneInfo) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(tz).isoformat()


def current_deadline(deadlines: list[dict]) -> str | None:
    """The deadline the report runs against now: the latest opened one still open (as extended, if it was)."""
    running = [d for d in deadlines if not d.get("closed_at")]
    if not running:
        return None
    latest = max(running, key=lambda d: datetime.fromisoformat(d["opened_at"]))
    return latest.get("extended_to") or latest["due"]


def _reasons(reasons: list[dict], english: bool) -> str:
    texts = []
    for reason in reasons:
        text = (reason.get("message_en") or reason.get("message") or reason.get("code")) if english \
            else (reason.get("message") or reason.get("code"))
        article = reason.get("article")
        texts.append(f"{text} ({article})" if article else text)
    return " ".join(t.rstrip() for t in texts if t)


def status_notes(view: dict, agency: str | None) -> str:
    """What the reporter should know of the report's state: Vietnamese, then English on a second line."""
    state, reasons = view["state"], view.get("reasons") or []
    handler = agency or "cơ quan có thẩm quyền"
    handler_en = agency or "the competent agency"
    if state == "needs_supplement":
        due = next((d.get("extended_to") or d["due"] for d in view.get("deadlines") or []
                    if d["step"] == "supplement" and not d.get("closed_at")), None)
        by, by_en = (f" trước {due}", f" by {due}") if due else ("", "")
        vi = (f"Phản ánh cần bổ sung: {_reasons(reasons, False)} Vui lòng bổ sung{by} bằng mã theo dõi (token) "
              f"của phản ánh: POST /api/v1/reports/{view['id']}/supplement với tiêu đề X-Tracking-Token.")
        en = (f"The report needs a supplement: {_reasons(reasons, True)} Please supplement it{by_en} with the "
              f"report's token: POST /api/v1/reports/{view['id']}/supplement with the X-Tracking-Token header.")
    elif state == "rejected":
        vi = f"Phản ánh không được tiếp nhận: {_reasons(reasons, False)}"
        en = f"The report was not accepted: {_reasons(reasons, True)}"
    elif state == "cancelled":
        vi, en = "Phản ánh đã được hủy theo yêu cầu của người phản ánh.", "The report was cancelled by its reporter."
    elif state == "submitted":
        checks = " ".join(c.get("message") or "" for c in view.get("pending_checks") or []).strip()
        identity = any(d["step"] == "identity_check" and not d.get("closed_at") for d in view.get("deadlines") or [])
        vi = "Đã nhận phản ánh, đang kiểm tra điều kiện tiếp nhận."
        en = "Received; the conditions of acceptance are being checked."
        if identity:
            vi, en = vi + " Tổng đài viên đang xác minh thông tin người phản ánh.", \
                en + " An operator is confirming the reporter's identity."
        if checks:
            vi, en = f"{vi} Cán bộ xác minh đang kiểm tra: {checks}", f"{en} An operator is checking: {checks}"
    elif state == "accepted":
        vi, en = "Đã tiếp nhận, đang chuyển đến cơ quan xử lý.", "Accepted; being routed to the handling agency."
    elif state == "routing_unresolved":
        vi = "Đã tiếp nhận; Trung tâm đang xác định cơ quan có thẩm quyền xử lý."
        en = "Accepted; the centre is determining the competent agency."
    elif state == "dispatched":
        vi, en = f"Đã chuyển đến {handler} xử lý.", f"Sent to {handler_en} for handling."
    elif state == "in_progress":
        vi, en = f"{handler} đang xử lý.", f"{handler_en} is handling it."
    elif state == "result_submitted":
        vi = f"{handler} đã báo cáo kết quả xử lý, đang chờ phê duyệt."
        en = f"{handler_en} reported the result; awaiting approval."
    elif state == "approved":
        vi, en = "Kết quả xử lý đã được phê duyệt, đang chờ công khai.", "The result was approved; to be published."
    elif state == "published":
        vi, en = "Đã có kết quả xử lý và được công khai.", "The result is published."
    elif state == "delivered_privately":
        vi, en = "Đã có kết quả xử lý, được gửi riêng cho người phản ánh.", \
            "The result was delivered privately to the reporter."
    elif state == "forwarded_for_monitoring":
        vi = "Phản ánh được chuyển đến cơ quan chức năng theo dõi, nắm tình hình."
        en = "Forwarded to the competent authorities for monitoring."
    else:
        vi, en = state, state
    if view.get("late") and state not in TERMINAL:
        vi, en = vi + " (Quá hạn xử lý.)", en + " (Overdue.)"
    return f"{vi}\n{en}"


def service_request(record: dict, categories: dict[str, dict], agencies: dict[str, dict], tz: ZoneInfo,
                    public_url: str) -> dict:
    """A report as a GeoReport v2 service request, from its public view (never the reporter's data, and no
    coordinates: the place may be the reporter's home; the ward is shown instead). A rejected report shows no
    description (its content was not accepted for publication); a published one links its result photo."""
    view = record["view"]
    lead = lead_agency(view)
    agency = (agencies.get(lead) or {}).get("name", lead) if lead else None
    category = view.get("category")
    photos = record["result_photos"]
    return {
        "service_request_id": view["id"],
        "status": "closed" if view["state"] in TERMINAL else "open",
        "status_notes": status_notes(view, agency),
        "service_name": (categories.get(category) or {}).get("name") if category else None,
        "service_code": category,
        "description": None if view["state"] == "rejected" else view.get("description"),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": _local(view["submitted_at"], tz),
        "updated_datetime": _local(record.get("updated_at") or view["submitted_at"], tz),
        "expected_datetime": current_deadline(view.get("deadlines") or []),
        "address": (view.get("ward") or {}).get("name"),
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": f"{public_url}/api/v1/reports/{view['id']}/result-photos/{photos[0]}" if photos else None,
    }


def created(answer: dict, account_id: str | None, notice: str) -> list[dict]:
    """The answer to `POST requests`; the token is the report's tracking token (`GET tokens/{token}`, and the
    reporter's X-Tracking-Token on the JSON API)."""
    return [{"service_request_id": answer["id"], "token": answer["tracking_token"], "service_notice": notice,
             "account_id": account_id}]


def token_answer(token: str, report_id: str) -> list[dict]:
    return [{"token": token, "service_request_id": report_id}]


def errors(error: ApiError) -> list[dict]:
    """An ApiError as GeoReport v2 errors: the HTTP status as `code`, the message (Vietnamese, then English), then
    one entry per field at fault."""
    detail = f" ({error.detail})" if error.detail else ""
    found = [{"code": error.status, "description": f"{error.code}: {error.message} / {error.message_en}{detail}"}]
    found += [{"code": error.status, "description": f"{field}: {message}"} for field, message in error.fields.items()]
    return found


# ---- serialisation ------------------------------------------------------------------------------------------
def to_json(body) -> str:
    return json.dumps(body, ensure_ascii=False)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        item_tag = LIST_ITEMS[tag]
        for item in value:
            element.append(_element(item_tag, item))
    else:
        element.text = _text(value)
    return element


def to_xml(root: str, body) -> str:
    """`body` (a list of objects under `root`, or one object) as GeoReport v2 XML: a null is an empty element, a
    boolean true/false, every text escaped and stripped of characters XML cannot hold."""
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(_element(root, body), encoding="unicode")
