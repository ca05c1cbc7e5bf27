"""The arguments and answers of the gateway's AMQP RPC API for other systems (rpc_api.py, admin_rpc.py).

Each `…Args` model validates one call's arguments together, so an error names the argument (`report.description`,
`media.0.data_b64`); the AsyncAPI document of the RPC API is generated from these models."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from paht.schemas import ReportFilter, ReportIn, StaffActionIn, Strict

from .staff import AccountIn

Name = Annotated[str, Field(min_length=1, max_length=100)]
ReportId = Annotated[str, Field(min_length=1, max_length=64)]
PackId = Annotated[str, Field(min_length=1, max_length=64)]
Credential = Annotated[str, Field(min_length=1, max_length=8192)]   # a staff bearer token (staff.py MAX_TOKEN)


class MediaIn(Strict):
    """One attached file. `content_type` is the caller's word for it; what is stored is the type the bytes are
    (like an HTTP upload's part)."""

    filename: str = Field("", max_length=255)
    content_type: str = Field("", max_length=100)
    data_b64: str   # standard base64 (RFC 4648 §4); whitespace is ignored. Its size is checked before decoding


class SubmitReportArgs(Strict):
    """`gateway.submit_report(report, media=[], idempotency_key=None)`."""

    report: ReportIn
    media: list[MediaIn] = Field(default_factory=list)   # more than 20: PAYLOAD_TOO_LARGE, as over HTTP
    idempotency_key: str | None = Field(None, max_length=200)


class SubmitReportAnswer(BaseModel):
    id: str
    state: str
    tracking_token: str   # the reporter's, to follow the report on the public API; given only here


class GetReportArgs(Strict):
    """`gateway.get_report(report_id)` → the public view (services/intake/views.py `public_view`)."""

    report_id: ReportId


class ListReportsArgs(Strict):
    """`gateway.list_reports(credential, filter=None)`."""

    credential: Credential
    filter: ReportFilter = Field(default_factory=ReportFilter)


class ReportPage(BaseModel):
    reports: list[dict]       # public views
    count: int                # on this page
    next: str | None = None   # the cursor of the next page; None on the last


class StaffActionArgs(Strict):
    """`gateway.staff_action(credential, report_id, action, body=None, media=[])`: the credential decides who acts;
    `media` are the action's photos (submit_result's "after" photos)."""

    credential: Credential
    report_id: ReportId
    action: Name
    body: StaffActionIn = Field(default_factory=StaffActionIn)
    media: list[MediaIn] = Field(default_factory=list)


class StaffActionAnswer(BaseModel):
    id: str
    state: str
    event_id: str


# ---- the guarded RPCs: accounts, dead letters, the retention purge, the reporter's contacts (admin_rpc.py) ----------
GuardCredential = Annotated[str | None, Field(
    None, max_length=8192,
    description="Một mã truy cập của cán bộ có quyền, hoặc xác nhận nội bộ (a staff bearer token of an account "
                "whose role may make the call, or an internal assertion made with PAHT_INTERNAL_SECRET for this one "
                "call: paht.callers). Absent, forged, expired or of a role that may not: FORBIDDEN.")]


class AddUserArgs(Strict):
    """`gateway.add_user(account, credential)`: an admin (one of a pack: that pack's accounts) or PAHT itself."""

    account: AccountIn
    credential: GuardCredential = None


class ListUsersArgs(Strict):
    """`gateway.list_users(pack=None, agency=None, role=None, credential)`: an admin of a pack sees its accounts."""

    pack: PackId | None = None
    agency: Name | None = None
    role: Name | None = None
    credential: GuardCredential = None


class DisableUserArgs(Strict):
    """`gateway.disable_user(reference, disabled=True, credential)`: its sessions end at once."""

    reference: str = Field(min_length=1, max_length=100, description="The account's id or username.")
    disabled: bool = True
    credential: GuardCredential = None


class ResetUserArgs(Strict):
    """`gateway.reset_user(reference, password=None, credential)`: a new password (generated unless given)."""

    reference: str = Field(min_length=1, max_length=100, description="The account's id or username.")
    password: str | None = Field(None, max_length=1024)
    credential: GuardCredential = None


class RpcErrorArgs(BaseModel):
    """What a refused call carries to any caller (nameko's reply `error.exc_args`, in this order); the reply's
    `error.exc_type` is the code itself, as the HTTP API's `error.code`."""

    code: str
    message: str      # Vietnamese
    message_en: str
    fields: dict
    detail: str = ""   # "" when there is none
