"""The models of the channels the gateway takes reports from besides the app: reports an operator enters for a caller
(hotline, e-mail, Zalo, Facebook) and the Zalo Official Account's webhook events."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paht.schemas import (
    ZALO_ID,
    ChannelReporter,
    EnteredReport,
    CATEGORIES,
    Location,
    MediaMeta,
    Strict,
    Timestamp,
    VisibleText,
)

ENTERED_CHANNELS = ("hotline", "email", "zalo", "facebook")   # paht.schemas.CHANNELS an operator types in


class Caller(Strict):
    """The caller's details as the operator took them down (no account credentials: only an app sign-in has them)."""

    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, pattern=r"^\+?[0-9 .-]{8,16}$")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    citizen_id: str | None = Field(None, pattern=r"^[0-9]{9,12}$")
    address: str | None = Field(None, max_length=500)
    zalo_user_id: str | None = Field(None, pattern=ZALO_ID)
    share_contact: bool | None = None


class OperatorReportIn(Strict):
    """Body (or `report` part) of `POST /api/v1/staff/reports`: a report an operator enters for a caller."""

    pack: str = Field(min_length=1, max_length=64)
    channel: Literal[ENTERED_CHANNELS]  # type: ignore[valid-type]
    caller: Caller = Field(default_factory=Caller)
    description: VisibleText = Field(min_length=1, max_length=5000)
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    location: Location | None = None
    urgent: bool = False
    keep_private: bool = False
    media_meta: list[MediaMeta] = Field(default_factory=list, max_length=20)
    received_at: Timestamp | None = None   # when the caller reported; not in the future (checked against the clock)
    follows: str | None = Field(None, pattern=r"^PA-\d{6}-[0-9A-F]{8}$")

    def report(self, entered_by: dict) -> EnteredReport:
        return EnteredReport(
            pack=self.pack, channel=self.channel, reporter=ChannelReporter(**self.caller.model_dump()),
            description=self.description, category=self.category, location=self.location, urgent=self.urgent,
            keep_private=self.keep_private, media_meta=self.media_meta, follows=self.follows,
            entered_by=entered_by, received_at=self.received_at)


# ---- the Zalo Official Account webhook (what Zalo sends; it adds fields over time, so unknown ones are ignored) ----
class ZaloModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ZaloUser(ZaloModel):
    id: str = Field(pattern=ZALO_ID)


class ZaloCoordinates(ZaloModel):
    latitude: float = Field(ge=-90, le=90)      # Zalo sends them as text ("10.7642473"): read as numbers
    longitude: float = Field(ge=-180, le=180)


class ZaloPayload(ZaloModel):
    url: str | None = Field(None, max_length=2000)
    coordinates: ZaloCoordinates | None = None


class ZaloAttachment(ZaloModel):
    type: str = Field(max_length=40)
    payload: ZaloPayload = Field(default_factory=ZaloPayload)


class ZaloMessage(ZaloModel):
    msg_id: str = Field(min_length=1, max_length=100)
    text: str | None = Field(None, max_length=5000)
    attachments: list[ZaloAttachment] = Field(default_factory=list, max_length=20)


ZALO_MESSAGE_EVENTS = ("user_send_text", "user_send_image", "user_send_location")


class ZaloEvent(ZaloModel):
    """One webhook call: a citizen's message to the Official Account (other events are acknowledged, not used)."""

    app_id: str = Field(max_length=100)
    event_name: Literal[ZALO_MESSAGE_EVENTS]  # type: ignore[valid-type]
    sender: ZaloUser
    message: ZaloMessage
    timestamp: str = Field(max_length=20)

    @field_validator("timestamp", mode="before")
    @classmethod
    def as_text(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def not_in_future(received_at: datetime | None, now: datetime) -> dict:
    """The validation fields for a `received_at` after `now` (none when it is fine)."""
    return {"received_at": "after the current time"} if received_at is not None and received_at > now else {}
