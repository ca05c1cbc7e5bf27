"""What intake's HTTP and RPC entrypoints take and answer, declared for the generated OpenAPI and AsyncAPI documents
(paht.apidocs): the answer models describe what the code returns (services/intake/reports.py `public_view`,
`staff_view`, `snapshot`; paht.errors `ApiError.body()`), and every entrypoint has its entry here — generation
fails on an entrypoint without one, so a new endpoint is documented when it is added."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from paht.actions import DECIDERS
from paht.deadletters import DeadLetter
from paht.apidocs.errors import ErrorBody
from paht.apidocs.operations import Body, Content, Event, Operation, RpcOperation
from paht.roles import STAFF_ROLES
from paht.schemas import (
    CATEGORIES,
    CHANNELS,
    ClockAdvanceIn,
    InteractionIn,
    MediaRecord,
    PublicDeadline,
    RatingIn,
    Reason,
    ReportIn,
    ReportPurged,
    StaffActionIn,
    StaffQuery,
    SupplementIn,
    Transitioned,
)
from paht.states import STATES

from .channel_schemas import OperatorReportIn, ZaloEvent
from .rpc_schemas import (
    AddUserArgs,
    DisableUserArgs,
    GetReportArgs,
    ListReportsArgs,
    ListUsersArgs,
    ReportPage,
    ResetUserArgs,
    StaffActionAnswer,
    StaffActionArgs,
    SubmitReportAnswer,
    SubmitReportArgs,
)
from .schemas import DeadLetterQuery, FeedQuery, ScorecardQuery
from .staff import AccountIn, LoginIn, ResetIn

State = Literal[STATES]  # type: ignore[valid-type]


# ---- answers: the report ----------------------------------------------------------------------------------------
class AssignedAgency(BaseModel):
    id: str
    name: str
    role: Literal["lead", "co"]


class PendingCheck(BaseModel):
    """An operator's check the report waits for in `submitted`."""

    name: str
    rule: str | None
    article: str | None
    message: str | None


class LateStep(BaseModel):
    """A missed step and whose it was: the centre's own steps (receiving, dispatching, checking and publishing the
    result) are the centre's, never the lead agency's."""

    step: str
    subject: str | None = None
    party: Literal["centre", "agency", "reporter"]
    agency: str | None = Field(description="The unit that had to act (the pack's centre for its own steps).")
    name: str | None = None


class ReportDeadline(PublicDeadline):
    """A step's deadline in the province's time; an extension's new date in `extended_to`."""

    extended_to: str | None = None
    extended_from: str | None = None


class StateStep(BaseModel):
    """A state change of the report."""

    at: datetime
    kind: str
    from_state: State | None = Field(alias="from")
    to: State


class Interaction(BaseModel):
    """The reporter's message and the agency's answer."""

    id: str
    message: str | None
    at: datetime
    reply: str | None
    replied_at: datetime | None
    replied_by: str | None = None


class ExtensionHistory(BaseModel):
    new_due: str | None
    previous_due: str | None
    note: str | None
    at: str | None


class ExtensionNotice(BaseModel):
    """The agency's latest extension: the step, its new due time, the reason and the article allowing it."""

    step: str | None
    new_due: str | None
    note: str | None
    at: str | None
    by: Any
    article: str | None
    set: bool = Field(True, description="False while the centre has yet to set the agency's notified time in the "
                      "system (ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3): the deadline still runs to its "
                      "earlier due time.")
    history: list[ExtensionHistory]


class PublicResult(BaseModel):
    """The agency's answer (the result letter) once published, or to the reporter when delivered privately."""

    letter: Any
    published_at: str | None
    private: bool


class PreviousResult(BaseModel):
    """A result an update replaced (TTH Điều 11 khoản 4, VL Điều 12 khoản 4 điểm b): its letter as it was returned,
    and when the centre reopened the report to update it."""

    letter: Any
    published_at: str | None
    private: bool
    superseded_at: str | None


class Clarification(BaseModel):
    """The agency's answer to a "Không hài lòng" rating (its `clarify` action, with the pack's article)."""

    at: datetime
    note: str | None
    agency: str | None
    article: str | None


class RatingShown(BaseModel):
    level: str | None
    label: str | None
    clarifications: list[Clarification] = Field(default_factory=list, description="What the agency answered an "
                                                "unsatisfied rating with, oldest first (none while withheld).")


class PublicView(BaseModel):
    """Phản ánh (công khai) — a report as anyone may read it: never the reporter's data. With the report's
    `X-Tracking-Token` the reporter also reads a withheld description, messages and a privately delivered result."""

    id: str
    state: State
    pack: str
    category: Literal[CATEGORIES] | None  # type: ignore[valid-type]
    description: str | None = Field(description="None when the report is withheld from the public (`private`).")
    title: str | None = Field(None, description="The title the centre gave when it standardised the text "
                              "(edit_text); None otherwise or when withheld.")
    ward: dict[str, Any] | None = Field(description="{code, name, province} once verification located it.")
    assigned_agencies: list[AssignedAgency]
    reasons: list[Reason] = Field(description="Why the report was returned, rejected or cancelled (with the article).")
    pending_checks: list[PendingCheck]
    deadlines: list[ReportDeadline]
    late: bool
    late_by: list[LateStep] = Field(default_factory=list, description="Whose step is late: each missed step, the "
                                    "party (centre, agency) and the unit that had to act.")
    timeline: list[StateStep]
    interactions: list[Interaction]
    submitted_at: datetime
    extension: ExtensionNotice | None = None
    private: bool | None = Field(None, description="Present (true) when the report is withheld from the public.")
    result: PublicResult | None = None
    previous_results: list[PreviousResult] = Field(default_factory=list, description="Results an update replaced, "
                                                   "oldest first, each with when it was superseded.")
    rating: RatingShown | None = None


class StaffStep(BaseModel):
    """A timeline entry as staff see it: every decision, with its actor and detail."""

    at: datetime
    kind: str
    source: str | None = None
    from_state: State | None = Field(alias="from")
    to: State
    actor: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None
    event_id: str | None = None


class StaffView(PublicView):
    """Phản ánh (cán bộ) — the full record; an agency account without the right to the reporter's contact data sees
    the reporter masked ({name initials, phone, account_verified, share_contact, masked: true})."""

    reporter: dict[str, Any]
    secret: bool
    non_public: bool
    location: dict[str, Any] | None
    urgent: bool | None
    sos: bool
    keep_private: bool | None
    channel: Literal[CHANNELS] | None  # type: ignore[valid-type]
    media: list[MediaRecord]
    warnings: list[dict[str, Any]]
    facts: dict[str, Any] | None
    route: dict[str, Any] | None
    result: dict[str, Any] | None
    publication: dict[str, Any] | None
    processing_error: dict[str, Any] | None
    original_text: dict[str, Any] | None = Field(None, description="The reporter's own description and title beside "
                                                 "the centre's standardised text (edit_text), when it was edited.")
    contact_requests: list[dict[str, Any]] = Field(default_factory=list, description="The agencies that asked for "
                                                   "the reporter's contact data (request_contact) and when.")
    timeline: list[StaffStep]


class ZaloAnswer(BaseModel):
    """What the webhook did with the event: gathering a report's pieces per sender, reporting it (the report is
    stored after the answer), or ignored / a duplicate."""

    status: Literal["gathering", "reporting", "ignored", "duplicate"]
    event_name: str | None = None
    has: list[str] | None = None
    fields: dict[str, Any] | None = None


class ListedReport(PublicView):
    """A report in a staff list: its public view and its current deadline."""

    due: datetime | None = Field(description="The earliest open deadline (as extended), if any.")


class StaffReportList(BaseModel):
    """The reports the account may see."""

    reports: list[ListedReport]
    count: int


class FeedItem(BaseModel):
    report_id: str
    pack: str
    category: str | None
    ward: dict[str, Any] | None
    letter: Any
    location: dict[str, Any] | None = Field(None, description="The place as the public may see it (rounded where "
                                                              "the pack hides the reporter's place).")
    published_at: datetime
    private: bool


class Feed(BaseModel):
    """Kết quả đã công khai — published results, newest first (never private ones), a page at a time."""

    results: list[FeedItem]
    next: str | None = Field(description="The `cursor` of the following page; null on the last.")


class ReporterSummary(BaseModel):
    """The reporter as other services see them: a key, which details were given, whether an account vouched."""

    key: str | None
    has: list[str]
    account_verified: bool


class ReportSnapshot(BaseModel):
    """The report as intake gives it to the services (services/intake/reports.py `snapshot`): no tracking token,
    no timeline, the reporter only as a summary; other stored fields (route, result, publication, facts, …) as
    they are."""

    id: str
    pack: str
    state: State
    channel: str
    reporter: ReporterSummary
    description: str | None
    category: str | None
    location: dict[str, Any] | None
    urgent: bool
    keep_private: bool
    media: list[MediaRecord]
    submitted_at: datetime
    updated_at: datetime
    reasons: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    ward: dict[str, Any] | None
    assigned_agencies: list[dict[str, Any]]
    deadlines: dict[str, Any]
    version: int


class TransitionedAnnouncement(Transitioned):
    """Intake announces a change it applied (paht.schemas.Transitioned) with the report's snapshot."""

    report: ReportSnapshot


class PublicReportPage(ReportPage):
    reports: list[PublicView]


# ---- answers: staff, accounts, operations ---------------------------------------------------------------------
class StaffAccount(BaseModel):
    id: str
    username: str
    role: Literal[STAFF_ROLES]  # type: ignore[valid-type]
    pack: str | None
    agency: str | None
    name: str | None
    disabled: bool
    created_at: datetime | None
    updated_at: datetime | None
    last_login_at: datetime | None


class LoginAnswer(BaseModel):
    """A session token for `Authorization: Bearer …`."""

    token: str
    token_type: Literal["Bearer"]
    expires_at: datetime
    expires_in: int
    user: StaffAccount


class LogoutAnswer(BaseModel):
    logged_out: bool


class Me(BaseModel):
    """The account the bearer token names."""

    id: str
    role: str
    username: str | None
    pack: str | None
    agency: str | None
    name: str | None
    via: str | None
    session_expires_at: datetime | None


class UserList(BaseModel):
    users: list[StaffAccount]
    count: int


class AccountAnswer(BaseModel):
    """The account; `password` only when it was generated here (shown once)."""

    user: StaffAccount
    password: str | None = None


class DeadLetterList(BaseModel):
    dead_letters: list[DeadLetter]
    count: int


class Scorecards(BaseModel):
    """A pack's agencies over a period: counters, rates, the late items and the pack's penalty findings."""

    pack: str
    pack_name: str | None
    period: str
    kind: str
    start: datetime
    end: datetime
    generated_at: datetime
    totals: dict[str, Any] | None
    agencies: list[dict[str, Any]]
    late: list[dict[str, Any]]
    criteria: list[dict[str, Any]]


class PeriodicReports(BaseModel):
    """The pack's periodic reports made so far, newest first (each as `<id>.xlsx|csv|json`)."""

    pack: str
    reports: list[dict[str, Any]]
    count: int


class ClockNow(BaseModel):
    now: datetime


class ClockState(BaseModel):
    now: datetime
    controlled: bool


class Health(BaseModel):
    status: Literal["ok"]
    service: str
    time: datetime


class Liveness(BaseModel):
    status: Literal["alive"]
    service: str


class CheckOutcome(BaseModel):
    ok: bool
    error: str | None = None


class Readiness(BaseModel):
    """Ready (200) or not (503, naming the failing checks)."""

    status: Literal["ready", "not_ready"]
    service: str
    checks: dict[str, CheckOutcome]
    failing: list[str] | None = None


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1)."""

    openapi: Literal["3.1.0"]
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


class AsyncApiDocument(BaseModel):
    """The AsyncAPI 3.0 document of intake's RPCs and events."""

    asyncapi: Literal["3.0.0"]
    info: dict[str, Any]
    channels: dict[str, Any]
    operations: dict[str, Any]
    components: dict[str, Any]


# ---- queries without a model in the code (read straight from the query string) ---------------------------------
class PackQuery(BaseModel):
    pack: str = Field(min_length=1, max_length=64)


class UsersQuery(BaseModel):
    pack: str | None = Field(None, max_length=64)
    agency: str | None = Field(None, max_length=100)
    role: Literal[STAFF_ROLES] | None = None  # type: ignore[valid-type]


# ---- path segments ------------------------------------------------------------------------------------------------
REPORT_ID = {"type": "string", "pattern": r"^PA-\d{6}-[0-9A-F]{8}$", "description": "Mã phản ánh (report id)."}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
LETTER_ID = {"type": "string", "pattern": "^dl-[0-9a-f]{24}$"}
USER_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_:@-][A-Za-z0-9_:@.-]{0,99}$",
           "description": "The account's id (`user:<username>`) or username."}

# ---- error codes each kind of operation may answer ------------------------------------------------------------------
JSON_BODY = ("INVALID_JSON", "PAYLOAD_TOO_LARGE", "VALIDATION_FAILED")
UPLOAD = ("INVALID_JSON", "PAYLOAD_TOO_LARGE", "VALIDATION_FAILED", "INVALID_MULTIPART", "UNSUPPORTED_CONTENT_TYPE",
          "UNSUPPORTED_MEDIA", "EMPTY_UPLOAD", "MEDIA_TOO_LARGE", "INVALID_MEDIA")
STAFF = ("UNAUTHORIZED", "FORBIDDEN")
REPORTER = ("NOT_FOUND", "INVALID_TOKEN")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

OPERATIONS: dict[tuple[str, str], Operation] = {
    # ---- citizens ----
    ("POST", "/api/v1/reports"): Operation(
        "Gửi phản ánh (submit a report)", ("citizens",), {201: SubmitReportAnswer},
        errors=UPLOAD + ("MISSING_REPORT_PART", "UNKNOWN_PACK", "IDEMPOTENCY_CONFLICT", "RATE_LIMITED",
                         "SERVICE_UNAVAILABLE"),
        request=(Body(ReportIn, "multipart/form-data", part="report", files="media",
                      description="multipart/form-data: the `report` part (JSON) and up to 20 `media` files; or the "
                                  "report alone as an application/json body."),
                 Body(ReportIn)),
        headers={"Idempotency-Key": (("Gửi lại với cùng khóa trả về kết quả lần đầu (a retry with the same key "
                                      "returns the first answer)."), False)},
        description="Keep the `tracking_token`: it is shown only here, and it lets the reporter follow, supplement, "
                    "cancel, rate and write about the report. The report's further states are published as events "
                    "(AsyncAPI: `paht.public`, `report.<state>`)."),
    ("GET", "/api/v1/reports/{report_id}"): Operation(
        "Theo dõi phản ánh (a report's public view)", ("citizens",), {200: PublicView},
        errors=REPORTER, path={"report_id": REPORT_ID}, auth="tracking_optional",
        description="With the report's X-Tracking-Token: the reporter's own view (a privately delivered result)."),
    ("GET", "/api/v1/reports/{report_id}/result-photos/{sha256}"): Operation(
        "Ảnh kết quả xử lý (a photo of the fixed scene)", ("citizens",),
        {200: Content(("image/jpeg", "image/png", "image/heic", "application/octet-stream"), "The photo.")},
        errors=("NOT_FOUND",), path={"report_id": REPORT_ID, "sha256": SHA256}),
    ("POST", "/api/v1/reports/{report_id}/supplement"): Operation(
        "Bổ sung thông tin (supplement a report returned for more information)", ("citizens",),
        {200: StaffActionAnswer}, errors=UPLOAD + REPORTER + ("ACTION_NOT_ALLOWED",),
        request=(Body(SupplementIn, "multipart/form-data", part="supplement", files="media", required=False),
                 Body(SupplementIn)),
        path={"report_id": REPORT_ID}, auth="tracking"),
    ("POST", "/api/v1/reports/{report_id}/cancel"): Operation(
        "Hủy phản ánh (cancel before an agency takes it up)", ("citizens",), {200: StaffActionAnswer},
        errors=REPORTER + ("ACTION_NOT_ALLOWED",), path={"report_id": REPORT_ID}, auth="tracking"),
    ("POST", "/api/v1/reports/{report_id}/rating"): Operation(
        "Đánh giá kết quả (rate the result)", ("citizens",), {200: StaffActionAnswer},
        errors=JSON_BODY + REPORTER + ("ACTION_NOT_ALLOWED", "INVALID_RATING"), request=(Body(RatingIn),),
        path={"report_id": REPORT_ID}, auth="tracking"),
    ("POST", "/api/v1/reports/{report_id}/interactions"): Operation(
        "Tương tác (write to the agency about the report)", ("citizens",), {200: StaffActionAnswer},
        errors=JSON_BODY + REPORTER + ("ACTION_NOT_ALLOWED", "INTERACTION_LOCKED", "PROHIBITED_INTERACTION"),
        request=(Body(InteractionIn),), path={"report_id": REPORT_ID}, auth="tracking"),
    ("GET", "/api/v1/feed"): Operation(
        "Kết quả đã công khai (the public feed)", ("citizens",), {200: Feed}, errors=("VALIDATION_FAILED",),
        query=FeedQuery),
    # ---- staff ----
    ("GET", "/api/v1/staff/reports"): Operation(
        "Danh sách phản ánh (the reports the account may see)", ("staff",),
        {200: (StaffReportList, Content(("text/csv", XLSX), "`format=csv|xlsx`: the same list as a file."))},
        errors=STAFF + ("VALIDATION_FAILED",), query=StaffQuery, auth="bearer"),
    ("POST", "/api/v1/staff/reports"): Operation(
        "Nhập phản ánh cho người gọi (an operator enters a caller's report)", ("staff",), {201: SubmitReportAnswer},
        errors=UPLOAD + STAFF + ("MISSING_REPORT_PART", "UNKNOWN_PACK", "IDEMPOTENCY_CONFLICT", "SERVICE_UNAVAILABLE"),
        request=(Body(OperatorReportIn), Body(OperatorReportIn, "multipart/form-data", part="report", files="media",
                                              description="JSON; or multipart/form-data with the `report` part "
                                                          "(JSON) and `media` files.")),
        headers={"Idempotency-Key": ("As for a citizen's submission.", False)}, auth="bearer"),
    ("GET", "/api/v1/staff/reports/{report_id}"): Operation(
        "Hồ sơ phản ánh (a report's full record)", ("staff",), {200: StaffView},
        errors=STAFF + ("NOT_FOUND",), path={"report_id": REPORT_ID}, auth="bearer"),
    ("POST", "/api/v1/staff/reports/{report_id}/{action}"): Operation(
        "Thao tác của cán bộ (a staff action)", ("staff",), {200: StaffActionAnswer},
        errors=UPLOAD + STAFF + ("NOT_FOUND", "UNKNOWN_ACTION", "ACTION_NOT_ALLOWED", "EXTENSION_TOO_LONG",
                                 "INVALID_RESULT_PHOTOS", "INTERACTION_NOT_FOUND", "INVALID_RATING"),
        request=(Body(StaffActionIn),
                 Body(StaffActionIn, "multipart/form-data", part="action", files="media", required=False,
                      description="JSON; or multipart/form-data with the `action` part (JSON) and the result's "
                                  "`media` photos (submit_result).")),
        path={"report_id": REPORT_ID, "action": {"type": "string", "enum": list(DECIDERS)}}, auth="bearer"),
    ("GET", "/api/v1/staff/scorecards"): Operation(
        "Bảng đánh giá cơ quan (agency scorecards for a period)", ("staff",), {200: Scorecards},
        errors=STAFF + ("VALIDATION_FAILED", "UNKNOWN_PACK", "NOT_FOUND"), query=ScorecardQuery, auth="bearer"),
    ("GET", "/api/v1/staff/province-report"): Operation(
        "Báo cáo tháng này (this month's scorecards)", ("staff",), {200: Scorecards},
        errors=STAFF + ("VALIDATION_FAILED", "UNKNOWN_PACK", "NOT_FOUND"), query=ScorecardQuery, auth="bearer"),
    ("GET", "/api/v1/staff/periodic-reports"): Operation(
        "Báo cáo định kỳ (the pack's periodic reports)", ("staff",), {200: PeriodicReports},
        errors=STAFF + ("UNKNOWN_PACK",), query=PackQuery, auth="bearer"),
    ("GET", "/api/v1/staff/periodic-reports/{name}"): Operation(
        "Tệp báo cáo định kỳ (a periodic report as a file)", ("staff",),
        {200: Content((XLSX, "text/csv", "application/json"), "The report as xlsx, csv or json (by the name's "
                                                             "extension).")},
        errors=STAFF + ("NOT_FOUND",), auth="bearer"),
    ("GET", "/api/v1/staff/dead-letters"): Operation(
        "Thông điệp lỗi (dead letters)", ("operations",), {200: DeadLetterList},
        errors=STAFF + ("VALIDATION_FAILED",), query=DeadLetterQuery, auth="bearer"),
    ("GET", "/api/v1/staff/dead-letters/{letter_id}"): Operation(
        "Một thông điệp lỗi (a dead letter)", ("operations",), {200: DeadLetter},
        errors=STAFF + ("DEAD_LETTER_NOT_FOUND",), path={"letter_id": LETTER_ID}, auth="bearer"),
    ("POST", "/api/v1/staff/dead-letters/{letter_id}/{verb}"): Operation(
        "Gửi lại hoặc bỏ thông điệp lỗi (replay or drop a dead letter)", ("operations",), {200: DeadLetter},
        errors=STAFF + ("DEAD_LETTER_NOT_FOUND", "UNKNOWN_ACTION", "ACTION_NOT_ALLOWED"),
        path={"letter_id": LETTER_ID, "verb": {"type": "string", "enum": ["replay", "drop"]}}, auth="bearer"),
    # ---- channels ----
    ("POST", "/api/v1/channels/zalo"): Operation(
        "Webhook Zalo OA (a Zalo Official Account event)", ("channels",), {200: ZaloAnswer},
        errors=("INVALID_SIGNATURE", "PAYLOAD_TOO_LARGE"), request=(Body(ZaloEvent),),
        headers={"X-ZEvent-Signature": (("`mac=<sha256>` of app_id, body, timestamp and the OA secret (Zalo "
                                         "signs every call)."), True)}),
    # ---- sign-in and accounts ----
    ("POST", "/api/v1/auth/login"): Operation(
        "Đăng nhập (staff sign-in)", ("accounts",), {200: LoginAnswer},
        errors=JSON_BODY + ("UNAUTHORIZED", "RATE_LIMITED"), request=(Body(LoginIn),)),
    ("POST", "/api/v1/auth/logout"): Operation(
        "Đăng xuất (end the session)", ("accounts",), {200: LogoutAnswer}, errors=("UNAUTHORIZED",), auth="bearer"),
    ("GET", "/api/v1/auth/me"): Operation(
        "Tài khoản hiện tại (who the token names)", ("accounts",), {200: Me}, errors=("UNAUTHORIZED",),
        auth="bearer"),
    ("GET", "/api/v1/admin/users"): Operation(
        "Danh sách tài khoản (staff accounts)", ("accounts",), {200: UserList}, errors=STAFF, query=UsersQuery,
        auth="bearer"),
    ("POST", "/api/v1/admin/users"): Operation(
        "Tạo tài khoản (a new staff account)", ("accounts",), {201: AccountAnswer}, errors=JSON_BODY + STAFF,
        request=(Body(AccountIn),), auth="bearer"),
    ("POST", "/api/v1/admin/users/{user_id}/{verb}"): Operation(
        "Khóa, mở khóa, đặt lại mật khẩu (disable, enable, reset)", ("accounts",), {200: AccountAnswer},
        errors=JSON_BODY + STAFF + ("NOT_FOUND", "UNKNOWN_ACTION"), request=(Body(ResetIn, required=False),),
        path={"user_id": USER_ID, "verb": {"type": "string", "enum": ["disable", "enable", "reset"]}},
        auth="bearer"),
    # ---- test systems ----
    ("POST", "/api/v1/_clock/advance"): Operation(
        "Tua đồng hồ (move the controlled clock; dev and test systems only)", ("test",), {200: ClockNow},
        errors=JSON_BODY + STAFF + ("ROUTE_NOT_FOUND", "CLOCK_NOT_CONTROLLED"), request=(Body(ClockAdvanceIn),),
        auth="bearer"),
    ("GET", "/api/v1/_clock"): Operation("Đồng hồ hệ thống (the system's clock)", ("test",), {200: ClockState}),
    # ---- the documents and the probes ----
    ("GET", "/api/v1/openapi.json"): Operation("Tài liệu OpenAPI (this document)", ("documents",),
                                               {200: OpenApiDocument}),
    ("GET", "/api/v1/asyncapi.json"): Operation("Tài liệu AsyncAPI (RPCs and events)", ("documents",),
                                                {200: AsyncApiDocument}),
    ("GET", "/healthz"): Operation("Tình trạng (health)", ("operations",), {200: Health}),
    ("GET", "/healthz/live"): Operation("Còn hoạt động (liveness)", ("operations",), {200: Liveness}),
    ("GET", "/healthz/ready"): Operation("Sẵn sàng (readiness)", ("operations",), {200: Readiness, 503: Readiness}),
    ("GET", "/metrics"): Operation("Số đo Prometheus (metrics)", ("operations",),
                                   {200: Content(("text/plain",), "Prometheus text exposition.", text=True)}),
}

OPEN311 = "Open311 GeoReport v2 (its own specification; form-encoded requests, JSON or XML by the extension)"
# entrypoints left out of the OpenAPI document, with the reason; anything else must be in OPERATIONS
EXCLUDED: dict[tuple[str, str], str] = {
    ("GET", "/open311/v2/services.{fmt}"): OPEN311,
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): OPEN311,
    ("POST", "/open311/v2/requests.{fmt}"): OPEN311,
    ("GET", "/open311/v2/requests.{fmt}"): OPEN311,
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"): OPEN311,
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): OPEN311,
}


REFUSED = ("A refused call is a nameko remote error whose `exc_type` is the HTTP API's error code and whose "
           "`exc_args` are [code, message (Vietnamese), message_en, fields, detail].")

# Who an RPC is for: other systems (a province's portal, an agency's software, paht.client) or PAHT itself (its
# services and CLIs; a staff token of the role named is also taken). What it asks of the caller: nothing (citizens'
# calls, rate-limited), a staff bearer token, a staff token or PAHT's internal assertion (paht.callers), or nothing on
# the wire yet (aggregates only).
OTHER_SYSTEMS, INTERNAL = "other-systems", "internal"
GUARDED = ("Cần `credential` (needs a credential): {who}, or PAHT's internal assertion for this one call (paht.callers, "
           "made with PAHT_INTERNAL_SECRET). Without it, or forged, expired, made for another call, or of another role: "
           "the remote error FORBIDDEN. " + REFUSED)
ADMINS = "the bearer token of an admin (an admin of one pack: that pack's accounts)"
CENTRE = "the bearer token of the centre (operator, admin)"


def guarded_rpc(summary: str, args, answer, tag: str, who: str) -> RpcOperation:
    """An internal RPC that needs a credential (paht.callers): `who` may call it with a staff token."""
    return RpcOperation(summary, args, answer, (tag,), GUARDED.format(who=who), INTERNAL, "staff-or-internal")


RPC_OPERATIONS: dict[str, RpcOperation] = {
    "submit_report": RpcOperation("Gửi phản ánh (submit a report; media as base64)", SubmitReportArgs,
                                  SubmitReportAnswer, ("citizens",), REFUSED, OTHER_SYSTEMS, "none"),
    "get_report": RpcOperation("Theo dõi phản ánh (a report's public view)", GetReportArgs, PublicView,
                               ("citizens",), REFUSED, OTHER_SYSTEMS, "none"),
    "list_reports": RpcOperation("Danh sách phản ánh (the reports a staff credential may see, paged)",
                                 ListReportsArgs, PublicReportPage, ("staff",), REFUSED, OTHER_SYSTEMS, "staff"),
    "staff_action": RpcOperation("Thao tác của cán bộ (a staff action; photos as base64)", StaffActionArgs,
                                 StaffActionAnswer, ("staff",), REFUSED, OTHER_SYSTEMS, "staff"),
    "add_user": guarded_rpc("Tạo tài khoản (add a staff account; `paht users add`)", AddUserArgs,
                            AccountAnswer | ErrorBody, "accounts", ADMINS),
    "list_users": guarded_rpc("Danh sách tài khoản (staff accounts; `paht users list`)", ListUsersArgs,
                              list[StaffAccount], "accounts", ADMINS),
    "disable_user": guarded_rpc("Khóa / mở khóa tài khoản (disable or enable; `paht users disable|enable`)",
                                DisableUserArgs, AccountAnswer | ErrorBody, "accounts", ADMINS),
    "reset_user": guarded_rpc("Đặt lại mật khẩu (reset a password; `paht users reset`)", ResetUserArgs,
                              AccountAnswer | ErrorBody, "accounts", ADMINS),
}

STATE_PARAMETER = {"description": "Trạng thái (the report's state).", "enum": list(STATES)}
CAUSE_PARAMETER = {"description": "Nguyên nhân (the decision's kind: submitted, verified, routed, acknowledged, "
                                  "rated, deadline_missed, …)."}

EVENTS: dict[str, Event] = {
    "public.report": Event(
        "paht.public", "report.{state}", PublicView, "Phản ánh chuyển trạng thái (a report reached a state)",
        {"state": STATE_PARAMETER},
        "Mỗi trạng thái mới của phản ánh, dạng công khai (each state a report reaches, as its public view; never "
        "the reporter's data). Bind a queue to `report.#` or to the states you follow; the message id is the "
        "announcement's event id (a resent one repeats it).", (OTHER_SYSTEMS, "citizens")),
    "intake.transitioned": Event(
        "intake.events", "transitioned.{to_state}.{cause}", TransitionedAnnouncement,
        "Intake applied a change of state", {"to_state": STATE_PARAMETER, "cause": CAUSE_PARAMETER},
        "Internal: the services react to these (paht.flow.SUBSCRIPTIONS).", ("internal",)),
    "intake.noted": Event(
        "intake.events", "noted.{state}.{cause}", TransitionedAnnouncement,
        "Intake applied a change that kept the state", {"state": STATE_PARAMETER, "cause": CAUSE_PARAMETER},
        "Internal; deadline bookkeeping (deadline_opened/closed/extended, notified) is never announced.",
        ("internal",)),
    "intake.report_purged": Event(
        "intake.events", "report_purged", ReportPurged, "A report's retention ended: forget its reporter",
        description="Internal; sent until intake records it as sent (handlers are idempotent).", tags=("internal",)),
}
