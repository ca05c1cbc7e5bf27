"""Reading a multipart submission: the `report` JSON part and the media parts, checked before anything is stored."""
from __future__ import annotations

from pydantic import BaseModel, ValidationError

from paht.errors import ApiError
from paht.mediatypes import MediaRejected, validate
from paht.settings import MAX_FORM_FIELD_BYTES, MAX_MEDIA_PARTS
from paht.web import parse_json, validation_fields


def parse_part(request, model: type[BaseModel], required: bool = True, part: str = "report") -> BaseModel | None:
    """The JSON part `part` of a multipart form (or the whole body when it is JSON), validated by `model`."""
    content_type = request.mimetype or ""
    if content_type == "application/json":
        if (request.content_length or 0) > MAX_FORM_FIELD_BYTES:
            raise ApiError("PAYLOAD_TOO_LARGE", fields={part: f"over {MAX_FORM_FIELD_BYTES} bytes"})
        raw = request.get_data()
    elif content_type.startswith("multipart/form-data"):
        if not request.mimetype_params.get("boundary"):
            raise ApiError("INVALID_MULTIPART", detail="no boundary")
        raw = request.form.get(part)
        if raw is None and part in request.files:
            raw = request.files[part].read(MAX_FORM_FIELD_BYTES + 1)
            if len(raw) > MAX_FORM_FIELD_BYTES:
                raise ApiError("PAYLOAD_TOO_LARGE", fields={part: f"over {MAX_FORM_FIELD_BYTES} bytes"})
        if raw is None and not request.form and not request.files and request.content_length:
            raise ApiError("INVALID_MULTIPART", detail="no parts could be read")
    else:
        raise ApiError("UNSUPPORTED_CONTENT_TYPE", detail=content_type or "none")
    if raw is None:
        if required:
            raise ApiError("MISSING_REPORT_PART")
        return None
    data = parse_json(raw)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None


def read_media(request, max_bytes: int) -> list[tuple[str, str, str, bytes]]:
    """Every `media` part as (filename, kind, mime, bytes); refuses empty and oversized files and any file that
    does not decode as a supported photo, video or audio (paht.mediatypes.validate)."""
    if not (request.mimetype or "").startswith("multipart/form-data"):
        return []
    parts = request.files.getlist("media")
    if len(parts) > MAX_MEDIA_PARTS:
        raise ApiError("PAYLOAD_TOO_LARGE", fields={"media": f"at most {MAX_MEDIA_PARTS} files"})
    files = []
    for index, storage in enumerate(parts):
        data = storage.stream.read(max_bytes + 1)
        name = storage.filename or f"media-{index}"
        field = {f"media[{index}]": name}
        if not data:
            raise ApiError("EMPTY_UPLOAD", fields=field)
        if len(data) > max_bytes:
            raise ApiError("MEDIA_TOO_LARGE", fields=field, detail=f"limit {max_bytes // (1024 * 1024)} MB")
        try:
            info = validate(data)
        except MediaRejected as rejected:
            raise ApiError(rejected.code, fields=field, detail=rejected.detail) from None
        files.append((name, info.kind, info.mime, data))
    return files
