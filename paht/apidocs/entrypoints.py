"""A nameko service class's entrypoints, found as nameko's container finds them (the decorators' registrations)."""
from __future__ import annotations

import inspect
import re

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler

_RULE_PART = re.compile(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def _registered(service_cls):
    for name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            yield name, entrypoint


def openapi_path(rule: str) -> str:
    """werkzeug's `/reports/<string:report_id>` as OpenAPI's `/reports/{report_id}`."""
    return _RULE_PART.sub(r"{\1}", rule)


def http_routes(service_cls) -> dict[tuple[str, str], str]:
    """(METHOD, OpenAPI path) → the method's name, for every HTTP entrypoint of the class."""
    routes = {}
    for name, entrypoint in _registered(service_cls):
        if isinstance(entrypoint, HttpRequestHandler):
            for method in entrypoint.method.split(","):
                routes[(method.strip().upper(), openapi_path(entrypoint.url))] = name
    return routes


def rpc_methods(service_cls) -> set[str]:
    """The names of the class's RPC entrypoints (routing key `<service>.<name>` on the `nameko-rpc` exchange)."""
    return {name for name, entrypoint in _registered(service_cls) if isinstance(entrypoint, Rpc)}
