"""Pydantic models shared at every boundary: the report as submitted, its parts, and the decision events."""
from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

CATEGORIES = (
    "roads_traffic", "lighting_power", "water_drainage", "waste_sanitation", "trees_parks", "urban_order",
    "construction_land", "security_order", "fire_rescue", "natural_disaster", "health", "education",
    "admin_procedures", "other",
)
CHANNELS = ("app", "portal", "hotline", "email", "zalo", "facebook", "open311")
REASON_CODES = (
    "MISSING_REPORTER_INFO", "MISSING_MEDIA", "PHOTO_TOO_OLD", "MISSING_LOCATION", "EDITED_MEDIA", "UNCLEAR_MEDIA",
    "DUPLICATE", "ALREADY_IN_PROGRESS", "OUT_OF_SCOPE", "PROHIBITED_CONTENT", "UNCLEAR_OR_TEST",
    "SUPPLEMENT_TIMEOUT", "IDENTITY_TIMEOUT", "IDENTITY_FALSE", "CANCELLED_BY_REPORTER", "ACCOUNT_LOCKED",
    "OPERATOR_CHECK_TIMEOUT", "NOT_VIETNAMESE",
)


class Strict(BaseModel):
    """Input from outside: no unknown fields, no coercion ("yes" is not a boolean, "16.4" not a number)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"}   # controls, format marks, spaces, lone combining marks


def _visible(text: str) -> str:
    if not any(unicodedata.category(char) not in _INVISIBLE for char in text):
        raise ValueError("text has no visible characters")
    return text


VisibleText = Annotated[str, AfterValidator(_visible)]
# A datetime from JSON arrives as text: parse it even in strict models, but only with its offset.
Timestamp = Annotated[AwareDatetime, Field(strict=False)]


class Reporter(Strict):
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, pattern=r"^\+?[0-9 .-]{8,16}$")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    citizen_id: str | None = Field(None, pattern=r"^[0-9]{9,12}$")
    address: str | None = Field(None, max_length=500)
    account_id: str | None = Field(None, max_length=100)
    account_proof: str | None = Field(None, max_length=128)   # from the sign-in service (paht.accounts)
    account_token: str | None = Field(None, max_length=8192)  # an OIDC token of the citizen identity provider
    # the reporter's consent that the agencies handling the report see their contact data (ST-22/ST-23 Điều 4
    # khoản 5, TTH Điều 5 khoản 5, VL Điều 7 khoản 5); without it agency accounts see a masked form
    share_contact: bool | None = None


def lead_assignment(report: dict) -> dict | None:
    """The assignment of the agency leading a report now: the one place this is read from its assignments."""
    return next((a for a in report.get("assigned_agencies") or [] if a.get("role") == "lead"), None)


def lead_agency(report: dict) -> str | None:
    """The id of the agency leading a report now."""
    return (lead_assignment(report) or {}).get("id")


REPORTER_FIELDS = ("name", "phone", "email", "address", "citizen_id")   # what a reporter may give


def reporter_summary(reporter: dict) -> dict:
    """The reporter as services other than intake see them: who (a key, for history and duplicates), which
    details they gave, whether a sign-in service vouched for them; never the details themselves."""
    return {"key": reporter_key(reporter), "has": [field for field in REPORTER_FIELDS if reporter.get(field)],
            "account_verified": bool(reporter.get("account_verified"))}


def summary_key(report: dict) -> str | None:
    """The reporter's key in a report as services see it (intake's snapshot carries reporter_summary)."""
    return (report.get("reporter") or {}).get("key")


def tenant_key(report: dict) -> str | None:
    """The reporter as a province counts them: within the report's pack (history, duplicates, violations, locks and
    identity checks are each province's own; the same citizen in another province starts clean there)."""
    key = summary_key(report)
    return f"{report['pack']}/{key}" if key else None


def reporter_key(reporter: dict) -> str | None:
    """Who sent it, for history and duplicates: the phone (digits only), else the account, else the Zalo user,
    else the e-mail."""
    phone = "".join(ch for ch in (reporter.get("phone") or "") if ch.isdigit())
    if phone:
        return "phone:" + (("84" + phone[1:]) if phone.startswith("0") else phone)
    if reporter.get("account_id") and reporter.get("account_verified"):
        return "account:" + reporter["account_id"]
    if reporter.get("zalo_user_id"):
        return "zalo:" + reporter["zalo_user_id"]
    if reporter.get("email"):
        return "email:" + reporter["email"].lower()
    return None


class Location(Strict):
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    source: Literal["gps", "manual"] = "gps"
    address: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def both_or_neither(self):
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        return self


class MediaMeta(Strict):
    filename: str | None = Field(None, max_length=255)
    captured_at: Timestamp | None = None


class ReportIn(Strict):
    """The `report` JSON part of a submission."""

    pack: str = Field(min_length=1, max_length=64)
    channel: Literal[CHANNELS] = "app"  # type: ignore[valid-type]
    reporter: Reporter = Field(default_factory=Reporter)
    description: VisibleText = Field(min_length=1, max_length=5000)
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    location: Location | None = None
    urgent: bool = False
    # sent with the app's SOS button (TTH Điều 18: the centre calls the reporter back within 5 minutes); urgent
    sos: bool = Field(False, strict=True)
    keep_private: bool = False
    media_meta: list[MediaMeta] = Field(default_factory=list, max_length=20)
    follows: str | None = Field(None, pattern=r"^PA-\d{6}-[0-9A-F]{8}$")   # the earlier report this one re-reports


ZALO_ID = r"^[0-9]{1,32}$"


class ChannelReporter(Reporter):
    """The reporter as a channel knows them: also the Zalo user id (the Official Account's sender id), the contact
    a Zalo reporter is told on."""

    zalo_user_id: str | None = Field(None, pattern=ZALO_ID)


class EnteredReport(ReportIn):
    """A report as the record stores it for a channel (paht.schemas.ReportIn, so `create_report` and verification treat it as
    any other), with who entered it and when the caller reported; intake's reports.new_report keeps both on the report."""

    reporter: ChannelReporter = Field(default_factory=ChannelReporter)
    entered_by: dict | None = None        # the operator who typed it in: {"user", "role", "name"}
    received_at: Timestamp | None = None  # when the caller reported (the call, the e-mail, the message)


class SupplementIn(Strict):
    reporter: Reporter | None = None
    description: VisibleText | None = Field(None, min_length=1, max_length=5000)
    location: Location | None = None
    media_meta: list[MediaMeta] = Field(default_factory=list, max_length=20)


class MediaRecord(BaseModel):
    sha256: str
    filename: str
    content_type: str
    kind: str
    size: int
    captured_at: datetime | None = None


class Reason(BaseModel):
    code: Literal[REASON_CODES]  # type: ignore[valid-type]
    rule: str | None
    article: str | None
    message: str
    message_en: str | None = None


class RatingIn(Strict):
    level: str = Field(min_length=1, max_length=64)
    comment: str | None = Field(None, max_length=2000)


class InteractionIn(Strict):
    message: VisibleText = Field(min_length=1, max_length=2000)


class ClockAdvanceIn(Strict):
    seconds: float = Field(gt=0, le=400 * 86400)


class StaffQuery(BaseModel):
    state: str | None = None
    agency: str | None = None
    category: str | None = None
    ward: str | None = None
    pack: str | None = None
    late: bool | None = None
    limit: int = Field(100, ge=1, le=1000)
    sort: Literal["due", "-due", "submitted", "-submitted"] = "-submitted"   # due: the next open deadline
    format: Literal["json", "csv", "xlsx"] = "json"


class ReportFilter(Strict):
    """Which reports `list_reports` lists, newest first. An agency account is always narrowed to its own agency
    and pack; `cursor` is the `next` of the previous page."""

    state: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    agency: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    category: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    ward: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    pack: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=500)


class StaffActionIn(Strict):
    """Body of `POST /api/v1/staff/reports/{id}/{action}`; which fields matter depends on the action."""

    note: str | None = Field(None, max_length=5000)
    agency: str | None = Field(None, max_length=100)          # return: suggested agency; designate: the lead
    agencies: list[str] = Field(default_factory=list, max_length=20)  # forward: co-agencies
    result_text: str | None = Field(None, max_length=20000)   # submit_result, approve with an edited text
    new_due: Timestamp | None = None                          # extend
    kind: Literal["format", "content"] | None = None          # rework
    letter_number: str | None = Field(None, max_length=60)    # publish, refer_to_province: the letter's "Số"
    reason: Literal["co_agencies_disagree", "not_thorough", "no_agency", "not_handled"] | None = None
    # refer_to_province: why the centre reports the report to the UBND (the pack's province_referral.reasons)
    interaction_id: str | None = Field(None, max_length=100)  # reply: the reporter's message answered
    question: str | None = Field(None, max_length=2000)       # request_info
    description: str | None = Field(None, max_length=5000)    # edit_text: the standardised description
    title: str | None = Field(None, max_length=300)           # edit_text: the standardised title
    value: Any = None                                          # operator judgements (classify, urgency, identity)
    after_photos: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=20)
    # submit_result: the sha256 of photos uploaded with this very action (intake checks that)


class Decision(BaseModel):
    """A decision event from a service to intake: intake applies it through the state machine.

    `to_state` None means the report's state does not change (a deadline, a rating, an annotation).
    `patch` sets whitelisted report fields; `timeline` is the entry intake appends.
    """

    version: int = 1
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    report_id: str
    occurred_at: datetime
    pack: str
    kind: str
    source: str
    to_state: str | None = None
    from_states: list[str] | None = None   # guard: apply only from one of these states
    actor: dict = Field(default_factory=dict)
    detail: dict = Field(default_factory=dict)
    patch: dict = Field(default_factory=dict)


class Transitioned(BaseModel):
    """What intake announces after it applied a change: every other service reacts to this."""

    version: int = 1
    event_id: str
    report_id: str
    occurred_at: datetime
    pack: str
    cause: str
    from_state: str | None
    to_state: str
    report: dict


class ReportPurged(BaseModel):
    """What intake announces once per report whose retention period (pack.yaml publication.retention_days) ended:
    intake has forgotten the reporter's data and deleted the reporter's files no other report uses; every
    service now forgets what it holds about the report's reporter. Sent until intake recorded it as sent, so it
    may come more than once (`event_id` is the same each time): handlers are idempotent."""

    version: int = 1
    event_id: str                   # "purge:<report_id>"
    report_id: str
    occurred_at: datetime           # when intake purged the report
    pack: str
    retention_days: int
    reporter_key: str | None = None   # reporter_key() of the reporter as intake last knew them (phone-based)
    media: list[str] = Field(default_factory=list)   # sha256 of the reporter's own files (never after_photos)


# The deadline as a report shows it: sla makes it, intake shows it (public and staff views).
class PublicDeadline(BaseModel):
    step: str
    subject: str | None = None      # which co-agency (co_process) or which interaction (interaction_reply)
    due: str
    opened_at: str
    late: bool
    agency: str | None = None       # who must act: the centre's own steps name the pack's centre
    party: str | None = None        # whose step: centre, agency or reporter (paht.rules.steps.party_of)
    rule: str | None = None
    article: str | None = None
    amount: float
    unit: str
    closed_at: str | None = None
