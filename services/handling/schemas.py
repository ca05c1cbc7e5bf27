"""Handling's models: what an agency's action writes on the report."""
from __future__ import annotations

from pydantic import BaseModel


class Extension(BaseModel):
    step: str
    previous_due: str
    new_due: str
    reason: str
    by: str | None
    at: str
    article: str | None = None


class Result(BaseModel):
    text: str
    submitted_by: str | None
    agency: str | None
    submitted_at: str
    after_photos: list[str] = []
    contributions: dict = {}
