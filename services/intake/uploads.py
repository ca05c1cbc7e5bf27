"""Reading a multipart submission: the `report` JSON part and the media parts, checked before anything is stored."""
from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from paht.errors import ApiError
from paht.mediatypes import detect
from paht.web import validation_fields


def parse_part(request, model: type[BaseModel], required: bool = True, part: str = "report") -> BaseModel | None:
    """The JSON part `part` of a multipart form (or the whole body when it is JSON), validated by `model`."""
    content_type = request.mimetype or ""
    if content_type == "application/json":
        raw = request.get_data(as_text=True)
    elif content_type.startswith("multipart/form-data"):
        raw = request.form.get(part)
        if raw is None and part in request.files:
            raw = request.files[part].read().decode("utf-8", "replace")
    else:
        raise ApiError("UNSUPPORTED_CONTENT_TYPE", detail=content_type or "none")
    if raw is None:
        if required:
            raise ApiError("MISSING_REPORT_PART")
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError("INVALID_JSON", detail=str(exc)) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None


def read_media(request, max_bytes: int) -> list[tuple[str, str, str, bytes]]:
    """Every `media` part as (filename, kind, mime, bytes); refuses empty, oversized and non-media files."""
    if not (request.mimetype or "").startswith("multipart/form-data"):
        return []
    files = []
    for index, storage in enumerate(request.files.getlist("media")):
        data = storage.stream.read(max_bytes + 1)
        name = storage.filename or f"media-{index}"
        field = {f"media[{index}]": name}
        if not data:
            raise ApiError("EMPTY_UPLOAD", fields=field)
        if len(data) > max_bytes:
            raise ApiError("MEDIA_TOO_LARGE", fields=field, detail=f"limit {max_bytes // (1024 * 1024)} MB")
        kind = detect(data)
        if kind is None:
            raise ApiError("UNSUPPORTED_MEDIA", fields=field)
        files.append((name, kind[0], kind[1], data))
    return files
