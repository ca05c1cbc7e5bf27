"""The arguments of verification's RPCs for the rating service (the citizen's interaction penalties). Each model
validates one call's arguments together, so an error names the argument."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paht.rules import list_packs
from paht.schemas import Strict, Timestamp

PackId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
EventId = Annotated[str, Field(min_length=1, max_length=128)]
ReportId = Annotated[str, Field(min_length=1, max_length=64)]
# paht.schemas.tenant_key: `<pack>/<kind>:<value>`
TenantKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}/[a-z]+:.{1,254}$")]
Text = Annotated[str | None, Field(None, max_length=1000)]


def known_pack(pack: str) -> str:
    if pack not in list_packs():
        raise ValueError(f"unknown pack {pack!r}")
    return pack


class ReporterRef(BaseModel):
    """The reporter as services see them (paht.schemas.reporter_summary): only the key is read."""

    model_config = ConfigDict(extra="ignore", strict=True)

    key: str | None = Field(None, max_length=300)


class ReportRef(BaseModel):
    """The report the reporter writes on (its snapshot, or just these fields): its id, pack and reporter."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: ReportId
    pack: PackId
    reporter: ReporterRef = Field(default_factory=ReporterRef)

    _pack = field_validator("pack")(known_pack)

    def as_report(self) -> dict:
        return {"id": self.id, "pack": self.pack, "reporter": {"key": self.reporter.key}}


class InteractionGateArgs(Strict):
    """`verification.interaction_gate`: is this report's reporter refused interactions now?"""

    report: ReportRef


class InteractionViolationArgs(Strict):
    """`verification.interaction_violation`: the reporter's message on this report was refused for prohibited
    wording (`event_id`: the refused interaction's, the same on a retry)."""

    report: ReportRef
    event_id: EventId


class AdoptedViolation(Strict):
    event_id: EventId
    report_id: ReportId
    reporter_key: TenantKey
    at: Timestamp


class AdoptedLock(Strict):
    reporter_key: TenantKey
    until: Timestamp | None = None
    rule: str = Field(min_length=1, max_length=100)
    article: str = Field(min_length=1, max_length=200)
    message: Text = None
    at: Timestamp


class AdoptInteractionRecordsArgs(Strict):
    """`verification.adopt_interaction_records`: the violating interactions and interaction locks an earlier
    version's rating service kept (the upgrade's hand-over), at most 500 of each a call."""

    violations: list[AdoptedViolation] = Field(default_factory=list, max_length=500)
    locks: list[AdoptedLock] = Field(default_factory=list, max_length=500)
