"""Intake's request models (the shared ones live in paht.schemas) and upload limits."""
from __future__ import annotations

import os

from pydantic import BaseModel, Field

STAFF_ROLES = ("operator", "agency_staff", "agency_leader", "admin")
STAFF_ACTIONS = ("acknowledge", "return", "request_info", "extend", "forward", "submit_result", "approve",
                 "send_back", "designate", "publish", "rework", "judge")


def max_upload_bytes() -> int:
    return int(os.environ.get("PAHT_MAX_UPLOAD_MB", "20")) * 1024 * 1024


class StaffQuery(BaseModel):
    state: str | None = None
    agency: str | None = None
    category: str | None = None
    ward: str | None = None
    pack: str | None = None
    late: bool | None = None
    limit: int = Field(100, ge=1, le=1000)
