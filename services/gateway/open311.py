"""Open311 GeoReport v2 under /open311/v2/ (entrypoints of the gateway service): `jurisdiction_id` is the pack id,
the services are the categories, a service request is a report (its public view), `.json` or `.xml` by extension.
A POST is one more channel ("open311") into `create_report`, so the pack's verification rules apply to it."""
from __future__ import annotations

import hmac
import logging
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from paht import clock, proxies, settings
from paht.demo_users import open311_key
from paht.errors import ApiError
from paht.remote_media import fetch_media
from paht.rules import get_pack
from paht.schemas import ReportIn
from paht.states import STATES, TERMINAL
from paht.web import http, http_error, validation_fields

from . import open311_format as fmt_
from .open311_schemas import FORMATS, JurisdictionQuery, Open311Form, RequestsQuery
from .submissions import reporter_key
from .uploads import read_media

log = logging.getLogger(__name__)

BASE = "/open311/v2"
MAX_LISTED = 1000          # requests in one `GET requests` answer, newest first
DEFAULT_DAYS = 90          # GeoReport v2: without dates the last 90 days, and a range spans at most 90 days
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_ATTRIBUTE = re.compile(r"attribute\[([A-Za-z0-9_.-]{1,64})\]")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def accepted_api_keys() -> frozenset[str]:
    """PAHT_OPEN311_API_KEYS, and on a local system (PAHT_DEMO_TOKENS set, not production) the demo tokens file's
    `open311_api_key`."""
    keys = settings.open311_api_keys()
    demo_file = settings.demo_tokens_path()
    if demo_file and settings.environment() != "production":
        demo = open311_key(demo_file)
        if demo:
            keys = keys | {demo}
    return keys


def check_api_key(given: str | None) -> None:
    keys = accepted_api_keys()
    # every key compared, in constant time: the answer's timing tells nothing about a near miss
    matched = [hmac.compare_digest(given.encode(), key.encode()) for key in keys] if given else []
    if not any(matched):
        raise ApiError("INVALID_API_KEY")


def render(fmt: str, root: str, body, status: int = 200) -> Response:
    text = fmt_.to_xml(root, body) if fmt == "xml" else fmt_.to_json(body)
    return Response(text, status=status, content_type=CONTENT_TYPES[fmt])


def error_answer(error: ApiError, fmt: str) -> Response:
    response = render(fmt, "errors", fmt_.errors(error), error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def open311(handler):
    """An Open311 entrypoint: `fmt` (json | xml) from the URL's extension; the handler returns (root, body[,
    status]); every refusal is a GeoReport v2 error list in that format, never a bare 500."""
    def wrapper(self, request, fmt, **values):
        if fmt not in FORMATS:
            return error_answer(ApiError("ROUTE_NOT_FOUND", detail="the format is .json or .xml"), "json")
        try:
            root, body, *status = handler(self, request, fmt=fmt, **values)
            return render(fmt, root, body, *status)
        except ApiError as exc:
            return error_answer(exc, fmt)
        except HTTPException as exc:
            return error_answer(http_error(exc), fmt)
        except Exception:   # the client gets a stable answer, the log the trace
            log.exception("unhandled error in %s", handler.__name__)
            return render(fmt, "errors", [{"code": 500, "description": "INTERNAL_ERROR: Lỗi hệ thống, vui lòng thử "
                                           "lại sau. / Internal error; try again later."}], 500)
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def jurisdiction(pack_id: str):
    try:
        return get_pack(pack_id)
    except KeyError:
        raise ApiError("UNKNOWN_JURISDICTION", fields={"jurisdiction_id": pack_id}) from None


def form_values(request) -> dict:
    """The POST's fields, `attribute[code]` gathered under `attribute`; a field sent twice, text that was not
    UTF-8 and file parts other than `media` are refused."""
    content_type = request.mimetype or ""
    if content_type not in FORM_TYPES:
        raise ApiError("UNSUPPORTED_CONTENT_TYPE", detail=f"{content_type or 'none'}; send {' or '.join(FORM_TYPES)}")
    if content_type == "multipart/form-data" and not request.mimetype_params.get("boundary"):
        raise ApiError("INVALID_MULTIPART", detail="no boundary")
    values, attributes, wrong = {}, {}, {}
    for key, items in request.form.lists():
        if len(items) > 1:
            wrong[key] = "given more than once"
        if "\ufffd" in key or any("\ufffd" in item for item in items):   # werkzeug's replacement of invalid UTF-8
            wrong[key] = "not UTF-8"
        match = _ATTRIBUTE.fullmatch(key)
        if match:
            attributes[match.group(1)] = items[0]
        else:
            values[key] = items[0]
    for key in request.files:
        if key != "media":
            wrong[key] = "a file is accepted only as `media`"
    if wrong:
        raise ApiError("VALIDATION_FAILED", fields=wrong)
    if attributes:
        values["attribute"] = attributes
    return values


def report_in(given: Open311Form) -> ReportIn:
    """The submission as every channel makes it. Coordinates count as the device's position (GeoReport v2 does not
    say how they were found); an address alone is a place given by hand. Vietnamese names are family name first."""
    flags, wrong = fmt_.attribute_flags(given.attribute)
    if given.address_id:
        wrong["address_id"] = "no address ids are kept here: send lat/long or address_string"
    if wrong:
        raise ApiError("VALIDATION_FAILED", fields=wrong)
    located = given.lat is not None or given.long is not None
    location = {"lat": given.lat, "lon": given.long, "address": given.address_string,
                "source": "gps" if located else "manual"} if located or given.address_string else None
    reporter = {"name": " ".join(part for part in (given.last_name, given.first_name) if part) or None,
                "phone": given.phone, "email": given.email, "account_id": given.account_id}
    if "share_contact" in flags:
        reporter["share_contact"] = flags["share_contact"]
    data = {"pack": given.jurisdiction_id, "channel": "open311",
            "reporter": {k: v for k, v in reporter.items() if v is not None},
            "description": given.description, "category": given.service_code, "location": location,
            "urgent": flags.get("urgent", False), "keep_private": flags.get("keep_private", False)}
    try:
        return ReportIn.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", fields=fmt_.form_fields(validation_fields(exc))) from None


def service_notice(pack) -> str:
    regulation = pack.meta.get("regulation") or {}
    number = regulation.get("number")
    where = f"theo Quy định {number} của {pack.meta.get('province')}" if number else "theo quy định của tỉnh"
    return (f"Phản ánh được kiểm tra, tiếp nhận và xử lý {where}; theo dõi bằng GET requests/{{id}}. "
            f"/ The report is checked and handled under the province's regulation; follow it with GET requests/{{id}}.")


def states_of(statuses: list[str]) -> list[str]:
    """The report states of Open311 statuses: closed = the terminal states, open = every other."""
    return [state for state in STATES if ("closed" if state in TERMINAL else "open") in statuses]


class Open311Api:
    def open311_request(self, record: dict, pack) -> dict:
        return fmt_.service_request(record, pack.categories, pack.agencies,
                                    ZoneInfo(pack.meta.get("timezone") or "Asia/Ho_Chi_Minh"), settings.public_url())

    @http("GET", f"{BASE}/services.<string:fmt>")
    @open311
    def open311_services(self, request, fmt):
        """The pack's categories as GeoReport v2 services."""
        pack = jurisdiction(self.validated(JurisdictionQuery, request.args.to_dict()).jurisdiction_id)
        return "services", fmt_.services(pack.categories)

    @http("GET", f"{BASE}/services/<string:service_code>.<string:fmt>")
    @open311
    def open311_service_definition(self, request, service_code, fmt):
        """The attributes a request of one service may carry."""
        pack = jurisdiction(self.validated(JurisdictionQuery, request.args.to_dict()).jurisdiction_id)
        if service_code not in pack.categories:
            raise ApiError("UNKNOWN_SERVICE_CODE", fields={"service_code": service_code})
        return "service_definition", fmt_.service_definition(service_code)

    @http("POST", f"{BASE}/requests.<string:fmt>")
    @open311
    def open311_submit(self, request, fmt):
        """A report from another system: form fields of GeoReport v2 (`api_key` required), `media_url` fetched
        from an allowed host, and files as multipart `media` parts (an extension of the standard)."""
        self.within_rate(proxies.of_request(request))
        values = form_values(request)
        check_api_key(values.pop("api_key", None))
        given = self.validated(Open311Form, values)
        pack = jurisdiction(given.jurisdiction_id)
        if given.service_code not in pack.categories:
            raise ApiError("VALIDATION_FAILED", fields={"service_code": "unknown service_code (see services)"})
        submission = report_in(given)
        self.within_rate(reporter_key(submission))
        files = read_media(request, settings.max_upload_bytes())
        if given.media_url:
            files.append(fetch_media(given.media_url))
        answer = self.create_report(submission, files, request.headers.get("Idempotency-Key", ""))
        return "service_requests", fmt_.created(answer, given.account_id, service_notice(pack)), 201

    @http("GET", f"{BASE}/requests.<string:fmt>")
    @open311
    def open311_requests(self, request, fmt):
        """Service requests of the pack, newest first: by ids (which then override every other filter), or by
        service codes, statuses and a requested_datetime range (the last 90 days without one; at most 90 days)."""
        query = self.validated(RequestsQuery, request.args.to_dict())
        pack = jurisdiction(query.jurisdiction_id)
        ids = query.listed("service_request_id")
        if ids:
            found = self.record.public_reports(pack=pack.id, ids=ids, limit=MAX_LISTED)
        else:
            now = clock.now()
            end = query.end_date or max(now, query.start_date or now)   # a start in the future finds nothing
            start = query.start_date or end - timedelta(days=DEFAULT_DAYS)
            if start > end or end - start > timedelta(days=DEFAULT_DAYS):
                raise ApiError("VALIDATION_FAILED", fields={"start_date": f"from start_date to end_date: 0 to "
                                                                         f"{DEFAULT_DAYS} days"})
            found = self.record.public_reports(
                pack=pack.id, since=start, until=end, categories=query.listed("service_code") or None,
                states=states_of(query.listed("status")) if query.status else None, limit=MAX_LISTED)
        return "service_requests", [self.open311_request(record, pack) for record in found]

    @http("GET", f"{BASE}/requests/<string:request_id>.<string:fmt>")
    @open311
    def open311_request_by_id(self, request, request_id, fmt):
        pack = jurisdiction(self.validated(JurisdictionQuery, request.args.to_dict()).jurisdiction_id)
        record = self.record.public_report(report_id=request_id)
        if record["view"]["pack"] != pack.id:
            raise ApiError("NOT_FOUND")
        return "service_requests", [self.open311_request(record, pack)]

    @http("GET", f"{BASE}/tokens/<string:token>.<string:fmt>")
    @open311
    def open311_token(self, request, token, fmt):
        """The service_request_id of the token a POST answered with (the report's tracking token)."""
        pack = jurisdiction(self.validated(JurisdictionQuery, request.args.to_dict()).jurisdiction_id)
        found = self.record.public_reports(pack=pack.id, tracking_token=token, limit=1) if len(token) <= 100 else []
        if not found:
            raise ApiError("NOT_FOUND", detail="no request has this token")
        return "service_requests", fmt_.token_answer(token, found[0]["view"]["id"])
