"""Publishing's models: a publication as it is stored on the report and in the public feed."""
from __future__ import annotations

from pydantic import BaseModel


class Publication(BaseModel):
    letter: str
    published_at: str
    private: bool
    article: str | None = None   # the pack's article for private delivery, when private
