"""The OpenAPI 3.1 document of intake's HTTP API and the AsyncAPI 3.0 document of its RPCs and events, generated
from the pydantic models its entrypoints declare (services/intake/api_models.py); `paht api write` keeps copies in
docs/api/ and `paht api check` (part of `make test`) fails when they are stale."""
from __future__ import annotations

import json
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"

OPENAPI_INFO = {
    "title": "PAHT — Phản ánh hiện trường (HTTP API)",
    "version": "1",
    "description": "Người dân gửi và theo dõi phản ánh; cán bộ xử lý (citizens submit and follow reports; staff "
                   "handle them). Errors are `{\"error\": {\"code\", \"message\", \"message_en\", \"fields\"}}` with "
                   "a stable code, the Vietnamese message first. Open311 GeoReport v2 is served under /open311/v2/ "
                   "by its own specification (`x-excluded`). The report's later states are events: see "
                   "/api/v1/asyncapi.json.",
}
ASYNCAPI_INFO = {
    "title": "PAHT — Phản ánh hiện trường (AMQP: RPCs and events)",
    "version": "1",
    "description": "intake's nameko RPCs (exchange `nameko-rpc`, routing key `intake.<method>`, body "
                   "`{\"args\": [], \"kwargs\": {}}`, the reply `{\"result\", \"error\"}` on the caller's `reply_to` "
                   "with its `correlation_id`) and the events: the public `paht.public` (`report.<state>`, the public "
                   "view) and intake's internal announcements on `intake.events`. Each operation says whom it is for "
                   "(`x-audience`, also its first tag): `other-systems` — the interface for a province's portal, an "
                   "agency's software or paht.client — or `internal` — PAHT's own services and CLIs, which may change "
                   "with them. `x-credential` says what the `credential` argument must be: `none` (citizens' calls, "
                   "rate-limited), `staff` (a staff bearer token, as the HTTP API takes it), `staff-or-internal` (a "
                   "staff token of the role named, or PAHT's internal assertion for that one call: an HMAC with "
                   "PAHT_INTERNAL_SECRET of the method, its arguments and a one-minute expiry, see paht/callers.py). "
                   "A broker account is no admin account: calls that change accounts, return personal data or "
                   "administer the system are refused with FORBIDDEN without one.",
}
SERVERS = {"broker": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                      "description": "RabbitMQ (the AMQP_URI setting)."}}


def intake_openapi() -> dict:
    from services.intake.api_models import EXCLUDED, OPERATIONS
    from services.intake.service import IntakeService

    from .openapi import openapi_document
    return openapi_document(IntakeService, OPERATIONS, EXCLUDED, OPENAPI_INFO)


def intake_asyncapi() -> dict:
    from services.intake.api_models import EVENTS, RPC_OPERATIONS
    from services.intake.service import IntakeService

    from .asyncapi import asyncapi_document
    return asyncapi_document(IntakeService, RPC_OPERATIONS, EVENTS, ASYNCAPI_INFO, SERVERS)


def rendered(document: dict) -> str:
    """The stored form: keys sorted, indent 2, UTF-8 text as is, a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def documents() -> dict[str, str]:
    """File name → its current content."""
    return {"openapi.json": rendered(intake_openapi()), "asyncapi.json": rendered(intake_asyncapi())}
