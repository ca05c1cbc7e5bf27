"""Open311 GeoReport v2 input: the form fields of `POST requests` and the query of `GET requests`.

Form fields arrive as text, so numbers are parsed here (no NaN or infinity); everything else is held to the same
limits as the JSON API once it becomes a `paht.schemas.ReportIn`."""
from __future__ import annotations

from datetime import UTC, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paht.schemas import Timestamp

FORMATS = ("json", "xml")


class Open311Form(BaseModel):
    """The fields of `POST requests` (GeoReport v2), `attribute[code]` collected into `attribute`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    api_key: str | None = Field(None, max_length=200)
    jurisdiction_id: str = Field(min_length=1, max_length=64)
    service_code: str = Field(min_length=1, max_length=64)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    address_string: str | None = Field(None, max_length=500)
    address_id: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    device_id: str | None = Field(None, max_length=200)
    account_id: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30)
    description: str | None = Field(None, max_length=5000)
    media_url: str | None = Field(None, max_length=2000)
    attribute: dict[str, str] = Field(default_factory=dict, max_length=20)

    @field_validator("lat", "long", mode="before")
    @classmethod
    def number_text(cls, value):
        """Form text: a plain decimal number ("16.4637"); an empty field is no value."""
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if len(value) > 40:
                raise ValueError("not a coordinate")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def empty_is_none(cls, value):
        return None if value == "" else value


class RequestsQuery(BaseModel):
    """`GET requests`: every filter of GeoReport v2 (lists are comma-separated)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    jurisdiction_id: str = Field(min_length=1, max_length=64)
    api_key: str | None = Field(None, max_length=200)   # some clients send it on every call; reading needs none
    service_request_id: str | None = Field(None, max_length=2000)
    service_code: str | None = Field(None, max_length=2000)
    start_date: Timestamp | None = None
    end_date: Timestamp | None = None
    status: str | None = Field(None, max_length=20)

    @field_validator("start_date", "end_date")
    @classmethod
    def within_the_calendar(cls, value):
        """A date a search can use: in UTC and 90 days either side still a date (year 1 and 9999 are not)."""
        if value is None:
            return value
        try:
            (value.astimezone(UTC) - timedelta(days=366)) + timedelta(days=732)
        except OverflowError:
            raise ValueError("out of range") from None
        return value

    @field_validator("status")
    @classmethod
    def known_statuses(cls, value):
        if value is None:
            return value
        statuses = {part.strip() for part in value.split(",") if part.strip()}
        if not statuses or not statuses <= {"open", "closed"}:
            raise ValueError("status is open, closed or open,closed")
        return ",".join(sorted(statuses))

    def listed(self, name: str) -> list[str]:
        value = getattr(self, name)
        return [part.strip() for part in (value or "").split(",") if part.strip()][:100]


class JurisdictionQuery(BaseModel):
    """`GET services`, `services/{code}`, `requests/{id}`, `tokens/{token}`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    jurisdiction_id: str = Field(min_length=1, max_length=64)
    api_key: str | None = Field(None, max_length=200)

