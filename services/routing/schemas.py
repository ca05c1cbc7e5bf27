"""Routing's models: the notification an agency's endpoint receives for an immediate case."""
from __future__ import annotations

from pydantic import BaseModel


class ImmediateNotification(BaseModel):
    report_id: str
    category: str | None
    lead: str | None
    co: list[str] = []
    ward: dict | None = None
    location: dict | None = None
    description: str | None = None
    rule: str | None = None
    article: str | None = None
