"""intake's AMQP RPC API for other systems (entrypoints of the intake service).

nameko RPC: exchange `nameko-rpc`, routing key `intake.<method>`, body `{"args": [], "kwargs": {}}`, the answer on
`reply_to` with the same `correlation_id`. The arguments are validated by the models of rpc_schemas.py. A refused
call is a remote error whose `exc_type` is the HTTP API's error code and whose `exc_args` are
[code, message (Vietnamese), message_en, fields, detail] (rpc_schemas.RpcErrorArgs)."""
from __future__ import annotations

import base64
import binascii
import json
import logging
from contextlib import contextmanager
from datetime import datetime

from nameko.rpc import rpc

from paht import settings
from paht.errors import ApiError, RpcApiError
from paht.events import jsonable

from . import reports as domain
from .rpc_schemas import (
    GetReportArgs,
    ListReportsArgs,
    ReportPage,
    StaffActionAnswer,
    StaffActionArgs,
    SubmitReportAnswer,
    SubmitReportArgs,
)
from .staff import staff_filter
from .uploads import decode_media

log = logging.getLogger(__name__)

PAGE_ORDER = [("submitted_at", -1), ("_id", -1)]   # newest first; the id breaks ties (one clock tick, many reports)


@contextmanager
def answered_remotely(method: str):
    """ApiError → its RpcApiError; anything else → INTERNAL_ERROR (logged with its trace, which the caller never
    sees), as the HTTP API answers 500."""
    try:
        yield
    except ApiError as exc:
        raise RpcApiError.of(exc) from None
    except Exception:
        log.exception("unhandled error in intake.%s", method)
        raise RpcApiError.of(ApiError("INTERNAL_ERROR")) from None


def given(**arguments) -> dict:
    """The arguments a caller gave: null means absent (a model default applies, a required one is missing)."""
    return {name: value for name, value in arguments.items() if value is not None}


def encode_cursor(report: dict) -> str:
    position = json.dumps([report["submitted_at"].isoformat(), report["_id"]])
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def after_cursor(cursor: str) -> dict:
    """The store condition for the reports after `cursor` in PAGE_ORDER."""
    try:
        submitted, report_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        submitted = datetime.fromisoformat(submitted)
        if not isinstance(report_id, str) or submitted.tzinfo is None:
            raise ValueError("not a position")
    except (ValueError, TypeError, binascii.Error):
        raise ApiError("VALIDATION_FAILED", fields={"filter.cursor": "not a cursor of this listing"}) from None
    return {"$or": [{"submitted_at": {"$lt": submitted}}, {"submitted_at": submitted, "_id": {"$lt": report_id}}]}


class RpcApi:
    @rpc(expected_exceptions=RpcApiError)
    def submit_report(self, report=None, media=None, idempotency_key=None):
        """A citizen's report from another system → {"id", "state", "tracking_token"}; media as
        [{"filename", "content_type", "data_b64"}], checked like HTTP uploads; a retry with the same
        idempotency_key returns the first answer."""
        with answered_remotely("submit_report"):
            call = self.validated(SubmitReportArgs, given(report=report, media=media,
                                                          idempotency_key=idempotency_key))
            self.within_rate(domain.reporter_key(call.report))
            files = decode_media(call.media, settings.max_upload_bytes())
            answer = self.create_report(call.report, files, call.idempotency_key or "")
            return SubmitReportAnswer.model_validate(answer).model_dump()

    @rpc(expected_exceptions=RpcApiError)
    def get_report(self, report_id=None):
        """The public view of a report (what `GET /api/v1/reports/{id}` shows anyone)."""
        with answered_remotely("get_report"):
            call = self.validated(GetReportArgs, given(report_id=report_id))
            return jsonable(domain.public_view(self.reported(call.report_id)))

    @rpc(expected_exceptions=RpcApiError)
    def list_reports(self, credential=None, filter=None):
        """The reports the credential's account may see (its province, an agency's own), newest first, as public
        views: {"reports", "count", "next"}; `next` is the `filter.cursor` of the following page (None at the
        end)."""
        with answered_remotely("list_reports"):
            call = self.validated(ListReportsArgs, given(credential=credential, filter=filter))
            user = self.rpc_user(call.credential)
            query = staff_filter(user, call.filter)
            if call.filter.cursor:
                query = {"$and": [query, after_cursor(call.filter.cursor)]}
            found = list(self.store.reports.find(query, sort=PAGE_ORDER, limit=call.filter.limit + 1))
            page, more = found[:call.filter.limit], len(found) > call.filter.limit
            return jsonable(ReportPage(reports=[domain.public_view(r) for r in page], count=len(page),
                                       next=encode_cursor(page[-1]) if more else None).model_dump())

    @rpc(expected_exceptions=RpcApiError)
    def staff_action(self, credential=None, report_id=None, action=None, body=None, media=None):
        """A staff action from another system, as `POST /api/v1/staff/reports/{id}/{action}`: the credential (a
        staff bearer token) decides who acts; `media` are the action's photos → {"id", "state", "event_id"}."""
        with answered_remotely("staff_action"):
            call = self.validated(StaffActionArgs, given(credential=credential, report_id=report_id, action=action,
                                                         body=body, media=media))
            user = self.rpc_user(call.credential)
            files = decode_media(call.media, settings.max_upload_bytes())
            answer = self.act(user, call.report_id, call.action, call.body, files)
            return StaffActionAnswer.model_validate(json.loads(answer.get_data(as_text=True))).model_dump()

    def rpc_user(self, credential: str) -> dict:
        user = self.store.user_by_token(credential)
        if user is None:
            raise ApiError("UNAUTHORIZED")
        return user
