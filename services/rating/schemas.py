"""Rating's models: a reporter's rating on the pack's scale."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class RatingRecord(BaseModel):
    level: str
    label: str
    counts_as: Literal["satisfied", "accepted", "unsatisfied"]
    comment: str | None = None
    at: str
    agency: str | None = None
    article: str | None = None
