"""The error answer every HTTP entrypoint gives (paht.errors.ApiError.body(), paht.web.guarded), as a model."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from paht.errors import MESSAGES

INTERNAL_ERROR = "INTERNAL_ERROR"   # paht.web.guarded: anything unexpected (never documented as an answer)
ErrorCode = Literal[tuple(sorted(set(MESSAGES) | {INTERNAL_ERROR}))]  # type: ignore[valid-type]


class ApiErrorDetail(BaseModel):
    code: ErrorCode = Field(description="Mã lỗi ổn định (stable error code, paht.errors).")
    message: str = Field(description="Thông báo tiếng Việt (the Vietnamese message, shown first).")
    message_en: str = Field(description="The English message.")
    fields: dict[str, Any] = Field(description="Trường chưa hợp lệ → lý do (field path → what is wrong); may be "
                                               "empty.")
    detail: str | None = Field(None, description="More about this occurrence, when known.")


class ErrorBody(BaseModel):
    """Mọi lỗi (every error answer): `{"error": {"code", "message", "message_en", "fields", "detail"?}}`."""

    error: ApiErrorDetail


def status_of(code: str) -> int:
    return MESSAGES[code][0]


def describe(codes) -> str:
    return "; ".join(f"`{code}`: {MESSAGES[code][1]} ({MESSAGES[code][2]})" for code in codes)
