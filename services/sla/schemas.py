"""sla's models: a deadline as the report shows it (public and staff views)."""
from __future__ import annotations

from pydantic import BaseModel


class PublicDeadline(BaseModel):
    step: str
    subject: str | None = None      # which co-agency (co_process) or which interaction (interaction_reply)
    due: str
    opened_at: str
    late: bool
    agency: str | None = None
    rule: str | None = None
    article: str | None = None
    amount: float
    unit: str
    closed_at: str | None = None
