"""Reading a submission's parts: the `report` JSON part and the media (multipart parts, or base64 from the RPC API),
checked before anything is stored."""
from __future__ import annotations

import base64
import binascii

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
    check_count(len(parts))
    return [checked(index, storage.filename or f"media-{index}", storage.stream.read(max_bytes + 1), max_bytes)
            for index, storage in enumerate(parts)]


def decode_media(items, max_bytes: int) -> list[tuple[str, str, str, bytes]]:
    """The RPC's media ({filename, content_type, data_b64}, services/intake/rpc_schemas.MediaIn) as `read_media`
    returns them, under the same checks. The type stored is the one the bytes are, whatever content_type says."""
    check_count(len(items))
    files = []
    for index, item in enumerate(items):
        name = item.filename or f"media-{index}"
        encoded = "".join(item.data_b64.split())   # line-wrapped base64 (MIME style) is still base64
        if len(encoded) > 4 * (max_bytes // 3 + 1) + 4:   # over the limit without decoding it
            raise ApiError("MEDIA_TOO_LARGE", fields={f"media[{index}]": name},
                           detail=f"limit {max_bytes // (1024 * 1024)} MB")
        try:
            data = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ApiError("VALIDATION_FAILED", fields={f"media[{index}].data_b64": "not base64"}) from None
        files.append(checked(index, name, data, max_bytes))
    return files


def check_count(count: int) -> None:
    if count > MAX_MEDIA_PARTS:
        raise ApiError("PAYLOAD_TOO_LARGE", fields={"media": f"at most {MAX_MEDIA_PARTS} files"})


def checked(index: int, name: str, data: bytes, max_bytes: int) -> tuple[str, str, str, bytes]:
    """One uploaded file, whichever way it came: not empty, within `max_bytes`, really the media it claims."""
    field = {f"media[{index}]": name}
    if not data:
        raise ApiError("EMPTY_UPLOAD", fields=field)
    if len(data) > max_bytes:
        raise ApiError("MEDIA_TOO_LARGE", fields=field, detail=f"limit {max_bytes // (1024 * 1024)} MB")
    try:
        info = validate(data)
    except MediaRejected as rejected:
        raise ApiError(rejected.code, fields=field, detail=rejected.detail) from None
    return name, info.kind, info.mime, data
