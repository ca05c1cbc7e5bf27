"""The arguments of intake's RPCs: the record's calls for the gateway (record_rpc.py) and the guarded ones
(admin_rpc.py). Each model validates one call's arguments together, so an error names the argument; intake's
AsyncAPI document is generated from them (apidoc.py)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from paht.schemas import (
    Decision,
    EnteredReport,
    MediaRecord,
    ReportFilter,
    StaffActionIn,
    StaffQuery,
    Strict,
    SupplementIn,
    Timestamp,
)

ReportId = Annotated[str, Field(min_length=1, max_length=64)]
TrackingToken = Annotated[str, Field(min_length=1, max_length=100)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
InternalCredential = Annotated[str | None, Field(
    None, max_length=8192,
    description="Xác nhận nội bộ (an internal assertion made with PAHT_INTERNAL_SECRET for this one call: "
                "paht.callers). Absent, forged or expired: FORBIDDEN.")]
MAX_LISTED = 10000   # the reports one staff list (or export) reads, before sorting by deadline and cutting


class StaffUser(BaseModel):
    """The staff user as the gateway authenticated them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(alias="_id", max_length=200)
    role: str = Field(max_length=40)
    pack: str | None = Field(None, max_length=64)
    agency: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)

    def as_user(self) -> dict:
        return {"_id": self.id, "role": self.role, "pack": self.pack, "agency": self.agency, "name": self.name}


# ---- the record's calls (record_rpc.py): answered {"ok": …} or {"error": {"code", "detail", "fields", …}} ------
class CreateReportArgs(Strict):
    """`intake.create_report`: a validated submission with its stored media, under the id and tracking token the
    gateway gave it (the same id again answers the first)."""

    report: EnteredReport
    media: list[MediaRecord] = Field(default_factory=list, max_length=21)
    report_id: str = Field(pattern=r"^PA-\d{6}-[0-9A-F]{8}$")
    tracking_token: TrackingToken
    account_verified: bool = False   # the gateway checked the reporter's account proof (paht.accounts)
    credential: InternalCredential = None


class PublicReportArgs(Strict):
    """`intake.public_report`: the public record; with the tracking token the reporter's own view."""

    report_id: ReportId
    tracking_token: TrackingToken | None = None
    credential: InternalCredential = None


class ReporterSnapshotArgs(Strict):
    """`intake.reporter_snapshot`: the report as the deciders see it, for its reporter's rating or message."""

    report_id: ReportId
    tracking_token: TrackingToken
    credential: InternalCredential = None


class ReporterActArgs(Strict):
    """`intake.reporter_act`: the reporter's `supplement` (with its stored media) or `cancel`."""

    report_id: ReportId
    tracking_token: TrackingToken
    action: Literal["supplement", "cancel"]
    supplement: SupplementIn | None = None
    media: list[MediaRecord] = Field(default_factory=list, max_length=21)
    account_verified: bool = False   # of the supplement's reporter account, as the gateway found it
    credential: InternalCredential = None


class StaffReportArgs(Strict):
    """`intake.staff_report`: the staff view of a report the user may see."""

    user: StaffUser
    report_id: ReportId
    credential: InternalCredential = None


class StaffListArgs(Strict):
    """`intake.staff_list`: the reports a staff user may see, filtered and ordered; rows for an export."""

    user: StaffUser
    query: StaffQuery = Field(default_factory=StaffQuery)
    credential: InternalCredential = None


class ReportPageArgs(Strict):
    """`intake.report_page`: one page of the reports a staff user may see (the RPC API's list_reports)."""

    user: StaffUser
    filter: ReportFilter = Field(default_factory=ReportFilter)
    credential: InternalCredential = None


class ReportStatisticsArgs(Strict):
    """`intake.report_statistics`: counts of the reports of a pack the user may see, submitted in [since, until),
    and month by month for the `trend_months` reporting months up to `until` (the centre's console)."""

    user: StaffUser
    pack: str = Field(min_length=1, max_length=64)
    since: Timestamp
    until: Timestamp
    trend_months: int = Field(12, ge=0, le=36)
    credential: InternalCredential = None

    @model_validator(mode="after")
    def ordered(self):
        if self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class PublicReportsArgs(Strict):
    """`intake.public_reports`: a pack's public records, newest first, by ids, by tracking token, or submitted in
    [since, until] of these categories and states (Open311's GET requests)."""

    pack: str = Field(min_length=1, max_length=64)
    ids: list[ReportId] | None = Field(None, max_length=MAX_LISTED)
    since: Timestamp | None = None
    until: Timestamp | None = None
    categories: list[str] | None = None
    states: list[str] | None = None
    tracking_token: TrackingToken | None = None
    limit: int = Field(1000, ge=1, le=MAX_LISTED)
    credential: InternalCredential = None

    def store_query(self, hash_token) -> dict:
        query: dict = {"pack": self.pack}
        if self.ids is not None:
            return query | {"_id": {"$in": self.ids}}
        if self.tracking_token is not None:
            return query | {"tracking_token_hash": hash_token(self.tracking_token)}
        if self.since or self.until:
            query["submitted_at"] = {k: v for k, v in (("$gte", self.since), ("$lte", self.until)) if v}
        if self.categories:
            query["category"] = {"$in": self.categories}
        if self.states is not None:
            query["state"] = {"$in": self.states}
        return query


class PrepareActionArgs(Strict):
    """`intake.prepare_action`: before a staff action is decided, the report as its decider sees it and the body
    with the photos of a result checked (exactly those uploaded with it, by SHA-256)."""

    user: StaffUser
    report_id: ReportId
    action: str = Field(min_length=1, max_length=40)
    body: StaffActionIn = Field(default_factory=StaffActionIn)
    uploaded: list[Sha256] = Field(default_factory=list, max_length=21)
    credential: InternalCredential = None


class ApplyDecisionArgs(Strict):
    """`intake.apply_decision`: a decision another service took on a person's request."""

    decision: Decision
    credential: InternalCredential = None


class RecordError(BaseModel):
    code: str
    detail: str | None = None
    fields: dict | None = None
    retry_after: int | None = None


class RecordAnswer(BaseModel):
    """What a record call answers: its result, or the API error the gateway raises."""

    ok: Any = None
    error: RecordError | None = None


class AgencyCountersArgs(Strict):
    """`intake.agency_counters(pack_id, start, end)`: intake's share of a pack's agency scorecards (counts per
    agency only)."""

    pack_id: str = Field(min_length=1, max_length=64)
    start: Timestamp
    end: Timestamp


# ---- the guarded calls (admin_rpc.py) ---------------------------------------------------------------------------
class DeadLettersArgs(Strict):
    """`intake.dead_letters(status="open", limit=100, credential)`: PAHT itself (`paht dlq`, the gateway)."""

    status: Literal["open", "replayed", "dropped"] = "open"
    limit: int = Field(100, ge=1, le=1000)
    credential: InternalCredential = None


class DeadLetterArgs(Strict):
    """`intake.dead_letter(letter_id, credential)` (and replay_dead_letter, drop_dead_letter)."""

    letter_id: str = Field(min_length=1, max_length=100)
    credential: InternalCredential = None


class PurgeArgs(Strict):
    """`intake.purge_expired(credential)`: PAHT itself (the hourly timer runs it too)."""

    credential: InternalCredential = None


class PurgeAnswer(BaseModel):
    announced: list[str]


class ReporterContactArgs(Strict):
    """`intake.reporter_contact(report_id, credential)`: PAHT's notifier."""

    report_id: ReportId
    credential: InternalCredential = None


class ReporterContact(BaseModel):
    """What the notifier may use: only the contacts the reporter gave, with a consent per channel."""

    name: str | None
    email: str | None
    phone: str | None
    zalo_user_id: str | None
    consents: dict[str, bool]
