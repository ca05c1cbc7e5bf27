"""The gateway's query models (the shared ones live in paht.schemas)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator




class FeedQuery(BaseModel):
    """`GET /api/v1/feed`: published results, newest first, a page at a time (`next` is the following page's
    cursor), filtered by pack, ward code, category, publication date (from/to, the province's days) and a
    bounding box on the public location."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    pack: str | None = Field(None, max_length=64)
    ward: str | None = Field(None, max_length=64)
    category: str | None = Field(None, max_length=64)
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    bbox: str | None = Field(None, max_length=200)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)

    @field_validator("bbox")
    @classmethod
    def four_numbers(cls, value):
        if value is None:
            return None
        parts = value.split(",")
        try:
            min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts) if len(parts) == 4 else (None,) * 5
        except (TypeError, ValueError):
            raise ValueError("min_lon,min_lat,max_lon,max_lat") from None
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ValueError("min_lon,min_lat,max_lon,max_lat within -180..180 and -90..90, min before max")
        return value

    @model_validator(mode="after")
    def ordered(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("from is after to")
        return self

    def box(self) -> list[float] | None:
        return [float(p) for p in self.bbox.split(",")] if self.bbox else None


class DeadLetterQuery(BaseModel):
    status: Literal["open", "replayed", "dropped"] = "open"
    limit: int = Field(100, ge=1, le=1000)


class ScorecardQuery(BaseModel):
    pack: str | None = Field(None, max_length=64)
    period: str | None = Field(None, pattern=r"^\d{4}(-(\d{2}(-\d{2})?|W\d{2}|Q[1-4]))?$")
