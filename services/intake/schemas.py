"""Intake's request models (the shared ones live in paht.schemas) and upload limits."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

STAFF_ACTIONS = ("acknowledge", "return", "request_info", "extend", "forward", "submit_result", "approve",
                 "send_back", "designate", "publish", "rework", "judge", "directive", "missed_call", "reply",
                 "mark_secret", "mark_non_public", "clarify", "agree", "called_back")


class StaffQuery(BaseModel):
    state: str | None = None
    agency: str | None = None
    category: str | None = None
    ward: str | None = None
    pack: str | None = None
    late: bool | None = None
    limit: int = Field(100, ge=1, le=1000)


class FeedQuery(BaseModel):
    pack: str | None = Field(None, max_length=64)
    limit: int = Field(50, ge=1, le=200)


class DeadLetterQuery(BaseModel):
    status: Literal["open", "replayed", "dropped"] = "open"
    limit: int = Field(100, ge=1, le=1000)


class ScorecardQuery(BaseModel):
    pack: str | None = Field(None, max_length=64)
    period: str | None = Field(None, pattern=r"^\d{4}(-(\d{2}(-\d{2})?|W\d{2}|Q[1-4]))?$")
