"""Publishing's models: a publication as it is stored on the report and in the public feed; the body of the
immediate case's webhook (docs/webhooks.md)."""
from __future__ import annotations

from pydantic import BaseModel


class Publication(BaseModel):
    letter: str
    published_at: str
    private: bool
    article: str | None = None   # the pack's article for private delivery, when private
    reason: str | None = None    # why private: secret | non_public | private_on_request
    edited_by_centre: bool = False   # the centre edited the result text before publishing (biên tập)
    number: str | None = None    # the letter's "Số"


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
