"""HTTP helpers shared by the services: JSON answers, error bodies, /healthz and /metrics."""
from __future__ import annotations

import http.client
import json
import logging
import time

import eventlet
from eventlet import wsgi
from kombu import Connection
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import clock, metrics, multipart, proxies, readiness, settings
from .errors import ApiError
from .events import jsonable

log = logging.getLogger(__name__)

MESSAGES_HANDLED = metrics.MESSAGES_HANDLED   # (imported from here by paht.bus and intake)


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
multipart.install()   # a multipart body's boundary without a pattern compiled for it (paht.multipart)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})   # else "other"
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
        proxies.of_environ(environ)   # the client behind trusted proxies, once: handlers read proxies.of_request
        started, route = time.perf_counter(), "unmatched"
        try:
            rule, values = self.url_map.bind_to_environ(environ).match(return_rule=True)
            request.path_values, route = values, rule.rule
            answer = rule.endpoint.handle_request(request)
        except HTTPException as exc:
            answer = error_response(http_error(exc))
        method = environ.get("REQUEST_METHOD", "")
        metrics.HTTP_SECONDS.labels(self.server.container.service_name, method if method in HTTP_METHODS else "other",
                                    route, metrics.status_class(answer.status_code)).observe(
            time.perf_counter() - started)
        return answer(environ, start_response)


class RequestHeaders(http.client.HTTPMessage):
    """A request's header block. http.server reads it with the e-mail parser, which for a multipart Content-Type
    compiles a pattern for the body's boundary (each client's own: a new pattern every request, ~0.15 ms of CPU)
    to look for parts in a body the header block never holds; the body is werkzeug's to read (paht.multipart)."""

    def get_boundary(self, failobj=None):
        return failobj


class ClientAddressProtocol(HttpOnlyProtocol):
    """The access log names the client as paht.proxies finds it (eventlet's own would prepend any X-Forwarded-For
    a client wrote, unverified)."""

    MessageClass = RequestHeaders

    def get_client_address(self):
        host, port = wsgi.addr_to_host_port(self.client_address)
        headers = getattr(self, "headers", None)
        forwarded = headers.get_all("X-Forwarded-For") if headers is not None else None
        return proxies.client_address(host, forwarded, settings.trusted_proxies()), port


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=ClientAddressProtocol, debug=False):
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)


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


HEALTH_CHECK_SECONDS = 2.0   # each readiness check; a probe must not hold one of the service's workers for long


class HealthChecks(DependencyProvider):
    """What `/healthz/ready` asks, found generically from the service's container: the broker (a fresh connection
    to the container's AMQP_URI), every store behind a dependency holding a `store` (each takes a write, or answers
    when the dependency is `read_only`: paht.readiness), and the rule packs."""

    def get_dependency(self, worker_ctx):
        return self

    def check_broker(self) -> dict:
        config = self.container.config
        with Connection(config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY),
                        connect_timeout=HEALTH_CHECK_SECONDS) as connection:
            connection.ensure_connection(max_retries=0)   # one attempt: the probe itself is retried
        return {}

    def check_store(self) -> dict:
        """Every store probed side by side: {"written": [names], "read": [names]}; the first refusal fails it."""
        targets = readiness.targets(self.container.dependencies)
        pile = eventlet.GreenPile(max(len(targets), 1))
        for target in targets:
            pile.spawn(readiness.probe, target, self.container.service_name, HEALTH_CHECK_SECONDS)
        done: dict[str, list[str]] = {}
        for target, outcome in zip(targets, pile):
            done.setdefault(outcome, []).append(target.name)
        return done

    @staticmethod
    def check_packs() -> dict:
        from .rules import list_packs

        packs = list_packs()
        if not packs:
            raise RuntimeError("no rule packs found")
        return {"packs": len(packs)}

    @staticmethod
    def _outcome(check) -> dict:
        try:
            with eventlet.Timeout(HEALTH_CHECK_SECONDS + 1):
                return {"ok": True, **check()}
        except (Exception, eventlet.Timeout) as exc:  # noqa: BLE001 — any failure is an answer, never a 500
            error = "timed out" if isinstance(exc, eventlet.Timeout) else f"{type(exc).__name__}: {exc}"
            return {"ok": False, "error": error[:300]}

    def run(self) -> dict:
        """Every check, side by side (a probe takes at most about HEALTH_CHECK_SECONDS + 1)."""
        checks = {"broker": self.check_broker, "store": self.check_store, "packs": self.check_packs}
        pile = eventlet.GreenPile(len(checks))
        for check in checks.values():
            pile.spawn(self._outcome, check)
        return dict(zip(checks, pile))

    @staticmethod
    def required() -> set[str]:
        """The checks that make the service unready when they fail: PAHT_READY_CHECKS (comma-separated; default
        all three). Intake leaves out `broker` in Kubernetes: its outbox keeps accepting reports while the broker is
        away, so it should keep receiving traffic (the failed check is still reported)."""
        configured = settings.ready_checks()
        return {"broker", "store", "packs"} if configured is None else configured


class Observable:
    """Mixin: `GET /healthz`, `/healthz/live`, `/healthz/ready` and `/metrics` for a service class (its `name` is
    used in the answers). Kubernetes probes liveness with /healthz/live (the process answers HTTP) and readiness
    with /healthz/ready (broker reachable, stores taking a write, rule packs present: 503 naming the failing check;
    PAHT_READY_CHECKS narrows which checks count)."""

    health_checks = HealthChecks()

    @http("GET", "/healthz")
    def healthz(self, request):
        return json_response({"status": "ok", "service": self.name, "time": clock.now()})

    @http("GET", "/healthz/live")
    def healthz_live(self, request):
        return json_response({"status": "alive", "service": self.name})

    @http("GET", "/healthz/ready")
    def healthz_ready(self, request):
        checks = self.health_checks.run()
        required = self.health_checks.required()
        failing = sorted(name for name, result in checks.items() if not result["ok"] and name in required)
        if failing:
            log.warning("not ready: %s", ", ".join(f"{name} ({checks[name]['error']})" for name in failing))
            return json_response({"status": "not_ready", "service": self.name, "failing": failing,
                                  "checks": checks}, 503)
        return json_response({"status": "ready", "service": self.name, "checks": checks})

    # every worker timed by service, entrypoint and type, and logged with the report/event it handles
    observed_workers = metrics.ObservedWorkers()

    @http("GET", "/metrics")
    def metrics(self, request):
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
