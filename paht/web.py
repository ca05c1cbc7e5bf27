"""HTTP helpers shared by the services: JSON answers, error bodies, /healthz and /metrics."""
from __future__ import annotations

import json
import logging

from eventlet import wsgi
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import clock, settings
from .errors import ApiError
from .events import jsonable

log = logging.getLogger(__name__)

MESSAGES_HANDLED = Counter("paht_messages_total", "Bus messages handled", ["service", "kind", "outcome"])


def json_response(body, status: int = 200) -> Response:
    return Response(json.dumps(jsonable(body), ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


def error_response(error: ApiError) -> Response:
    response = json_response(error.body(), error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# eventlet answers a longer header line with a bare 400 before any of this code runs; 16 KiB lets an oversized
# token or tracking header reach the API, which refuses it in JSON
wsgi.MAX_HEADER_LINE = 16 * 1024

HTTP_ERRORS = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def http_error(exc: HTTPException) -> ApiError:
    """werkzeug's own refusals (routing, body limits, a malformed body) as our JSON errors."""
    return ApiError(HTTP_ERRORS.get(exc.code, "BAD_REQUEST"), detail=exc.description)


class LimitedRequest(Request):
    """Every request is bounded before anything reads it (werkzeug answers 413 past these; a JSON part is held to
    settings.MAX_FORM_FIELD_BYTES when it is parsed)."""

    max_form_parts = settings.MAX_FORM_PARTS

    @property
    def max_content_length(self):
        return settings.max_request_bytes()


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            environ["wsgi.input_terminated"] = True   # eventlet de-chunks; werkzeug then reads to the end, bounded
        request = LimitedRequest(environ, shallow=True)
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
            request.path_values = values
            answer = provider.handle_request(request)
        except HTTPException as exc:
            answer = error_response(http_error(exc))
        return answer(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class JsonHttpHandler(HttpRequestHandler):
    """nameko's HTTP entrypoint, answering unknown routes, methods and over-limit bodies in JSON."""

    server = JsonWebServer()


http = JsonHttpHandler.decorator


def _depth(value, limit: int) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: str | bytes) -> object:
    """Standard JSON only (no NaN/Infinity), bounded size and nesting; anything else is INVALID_JSON (or
    PAYLOAD_TOO_LARGE), never a 500."""
    if len(raw) > settings.MAX_FORM_FIELD_BYTES:
        raise ApiError("PAYLOAD_TOO_LARGE", detail=f"JSON over {settings.MAX_FORM_FIELD_BYTES} bytes")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError("INVALID_JSON", detail="not UTF-8") from None
    elif "\ufffd" in raw:   # a form field werkzeug decoded with errors="replace": where invalid UTF-8 was
        raise ApiError("INVALID_JSON", detail="not UTF-8")
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError("INVALID_JSON", detail=str(exc)[:200]) from None
    if _depth(value, settings.MAX_JSON_DEPTH) > settings.MAX_JSON_DEPTH:
        raise ApiError("INVALID_JSON", detail=f"nested deeper than {settings.MAX_JSON_DEPTH}")
    return value


def read_json(request) -> dict:
    """A JSON object body (an empty body is {})."""
    if (request.content_length or 0) > settings.MAX_FORM_FIELD_BYTES:
        raise ApiError("PAYLOAD_TOO_LARGE", detail=f"JSON over {settings.MAX_FORM_FIELD_BYTES} bytes")
    raw = request.get_data()
    body = parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ApiError("INVALID_JSON", detail="expected a JSON object")
    return body


def validation_fields(exc) -> dict:
    """pydantic ValidationError → {"field.path": "message"}."""
    fields = {}
    for err in exc.errors():
        path = ".".join(str(part) for part in err["loc"]) or "_"
        fields[path] = err["msg"]
    return fields


def guarded(handler):
    """Turn ApiError into its JSON answer; anything else into a 500 with a stable code, logged."""
    def wrapper(self, request, *args, **kwargs):
        try:
            return handler(self, request, *args, **kwargs)
        except ApiError as exc:
            return error_response(exc)
        except HTTPException as exc:
            return error_response(http_error(exc))
        except Exception:  # noqa: BLE001 — the client gets a stable answer, the log the trace
            log.exception("unhandled error in %s", handler.__name__)
            return json_response({"error": {"code": "INTERNAL_ERROR", "message": "Lỗi hệ thống, vui lòng thử lại sau.",
                                            "message_en": "Internal error; try again later.", "fields": {}}}, 500)
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


class Observable:
    """Mixin: `GET /healthz` and `GET /metrics` for a service class (its `name` is used in the answer)."""

    @http("GET", "/healthz")
    def healthz(self, request):
        return json_response({"status": "ok", "service": self.name, "time": clock.now()})

    @http("GET", "/metrics")
    def metrics(self, request):
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
