"""HTTP helpers shared by the services: JSON answers, error bodies, /healthz and /metrics."""
from __future__ import annotations

import json
import logging

from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from werkzeug.wrappers import Response

from . import clock
from .errors import ApiError
from .events import jsonable

log = logging.getLogger(__name__)

MESSAGES_HANDLED = Counter("paht_messages_total", "Bus messages handled", ["service", "kind", "outcome"])


def json_response(body, status: int = 200) -> Response:
    return Response(json.dumps(jsonable(body), ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status)


def read_json(request) -> dict:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError as exc:
        raise ApiError("INVALID_JSON", detail=str(exc)) from None
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
