"""The gateway's AMQP RPC API for other systems (entrypoints of the gateway service).

nameko RPC: exchange `nameko-rpc`, routing key `gateway.<method>`, body `{"args": [], "kwargs": {}}`, the answer on
`reply_to` with the same `correlation_id`. The arguments are validated by the models of rpc_schemas.py. A refused
call is a remote error whose `exc_type` is the HTTP API's error code and whose `exc_args` are
[code, message (Vietnamese), message_en, fields, detail] (rpc_schemas.RpcErrorArgs)."""
from __future__ import annotations

from nameko.rpc import rpc

from paht import settings
from paht.errors import ApiError, RpcApiError
from paht.rpc import answered_remotely, given

from .record import user_of
from .rpc_schemas import (
    GetReportArgs,
    ListReportsArgs,
    ReportPage,
    StaffActionAnswer,
    StaffActionArgs,
    SubmitReportAnswer,
    SubmitReportArgs,
)
from .submissions import reporter_key
from .uploads import decode_media


class RpcApi:
    @rpc(expected_exceptions=RpcApiError)
    def submit_report(self, report=None, media=None, idempotency_key=None):
        """A citizen's report from another system → {"id", "state", "tracking_token"}; media as
        [{"filename", "content_type", "data_b64"}], checked like HTTP uploads; a retry with the same
        idempotency_key returns the first answer."""
        with answered_remotely("gateway.submit_report"):
            call = self.validated(SubmitReportArgs, given(report=report, media=media,
                                                          idempotency_key=idempotency_key))
            self.within_rate(reporter_key(call.report))
            files = decode_media(call.media, settings.max_upload_bytes())
            answer = self.create_report(call.report, files, call.idempotency_key or "")
            return SubmitReportAnswer.model_validate(answer).model_dump()

    @rpc(expected_exceptions=RpcApiError)
    def get_report(self, report_id=None):
        """The public view of a report (what `GET /api/v1/reports/{id}` shows anyone)."""
        with answered_remotely("gateway.get_report"):
            call = self.validated(GetReportArgs, given(report_id=report_id))
            return self.record.public_report(report_id=call.report_id)["view"]

    @rpc(expected_exceptions=RpcApiError)
    def list_reports(self, credential=None, filter=None):
        """The reports the credential's account may see (its province, an agency's own), newest first, as public
        views: {"reports", "count", "next"}; `next` is the `filter.cursor` of the following page (None at the
        end)."""
        with answered_remotely("gateway.list_reports"):
            call = self.validated(ListReportsArgs, given(credential=credential, filter=filter))
            user = self.rpc_user(call.credential)
            page = self.record.report_page(user=user_of(user), filter=call.filter.model_dump(mode="json"))
            return ReportPage.model_validate(page).model_dump()

    @rpc(expected_exceptions=RpcApiError)
    def staff_action(self, credential=None, report_id=None, action=None, body=None, media=None):
        """A staff action from another system, as `POST /api/v1/staff/reports/{id}/{action}`: the credential (a
        staff bearer token) decides who acts; `media` are the action's photos → {"id", "state", "event_id"}."""
        with answered_remotely("gateway.staff_action"):
            call = self.validated(StaffActionArgs, given(credential=credential, report_id=report_id, action=action,
                                                         body=body, media=media))
            user = self.rpc_user(call.credential)
            files = decode_media(call.media, settings.max_upload_bytes())
            answer = self.act(user, call.report_id, call.action, call.body, files)
            return StaffActionAnswer.model_validate(answer).model_dump()

    def rpc_user(self, credential: str) -> dict:
        user = self.store.user_by_token(credential)
        if user is None:
            raise ApiError("UNAUTHORIZED")
        return user
