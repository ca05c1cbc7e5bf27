"""The arguments of intake's guarded RPCs (admin_rpc.py): each validates one call's arguments together, so an error
names the argument."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from paht.schemas import Strict

ReportId = Annotated[str, Field(min_length=1, max_length=64)]
InternalCredential = Annotated[str | None, Field(
    None, max_length=8192,
    description="Xác nhận nội bộ (an internal assertion made with PAHT_INTERNAL_SECRET for this one call: "
                "paht.callers). Absent, forged or expired: FORBIDDEN.")]


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
    """`intake.purge_expired(credential)`: PAHT itself (`paht purge`, the gateway)."""

    credential: InternalCredential = None


class ReporterContactArgs(Strict):
    """`intake.reporter_contact(report_id, credential)`: PAHT's notifier."""

    report_id: ReportId
    credential: InternalCredential = None
