"""A file is media only if it decodes (images) or parses completely (containers, audio): intake refuses the rest
with a stable code, and verification never raises on any file, bombs included."""
from __future__ import annotations

import io
import struct
from datetime import datetime, timedelta, timezone

import pytest
from PIL import ImageFile
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from paht.errors import ApiError
from paht.mediatypes import MAX_PIXELS, MediaRejected, validate
from services.gateway.uploads import read_media
from services.verification.media import inspect_all, inspect_media, mp4_creation_time
from tests import media_factory as make

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=make.VN)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


ACCEPTED = {
    "jpeg": (make.jpeg(NOW), "photo", "image/jpeg"),
    "png": (make.png(), "photo", "image/png"),
    "heic": (make.heic(NOW), "photo", "image/heic"),
    # decided: data after a JPEG's end is allowed (Samsung and Google motion photos append an MP4 there); the
    # file is stored and served as the picture it decodes to
    "jpeg with a zip appended": (make.jpeg(NOW) + make.zip_of_html(), "photo", "image/jpeg"),
    "png with html appended": (make.png() + b"<html><script>alert(1)</script></html>", "photo", "image/png"),
    "png of exactly the pixel limit": (make.png_bomb(10_000, MAX_PIXELS // 10_000), "photo", "image/png"),
    "mp4": (make.mp4(NOW), "video", "video/mp4"),
    "mp4, moov after a 6 MB mdat": (make.mp4_media_data_with_fake_mvhd(NOW, datetime(1999, 1, 1, tzinfo=timezone.utc)),
                                    "video", "video/mp4"),
    "mov": (make.mp4(NOW, mdat=bytes(100), brand=b"qt  "), "video", "video/quicktime"),
    "3gp": (make.mp4(NOW, mdat=bytes(100), brand=b"3gp4"), "video", "video/mp4"),
    "m4a": (make.m4a(), "audio", "audio/mp4"),
    "mp3": (make.mp3(), "audio", "audio/mpeg"),
    "mp3 with id3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + make.mp3(), "audio", "audio/mpeg"),
    "wav": (make.wav(), "audio", "audio/wav"),
    "ogg opus": (make.ogg_opus(), "audio", "audio/ogg"),
    "amr": (make.amr(), "audio", "audio/amr"),
}

UNSUPPORTED = {
    "gif": make.image_as("GIF"),
    "tiff": make.image_as("TIFF"),
    "bmp": make.image_as("BMP"),
    "webp": make.image_as("WEBP"),
    "zip": make.zip_of_html(),
    "html": b"<!doctype html><html><body>hi</body></html>",
    "windows executable": b"MZ\x90\x00not an image",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "random bytes": make.random_bytes(5000),
    "avif": b"\x00\x00\x00\x1cftypavif" + bytes(100),
}

INVALID = {
    "jpeg cut at 30%": make.truncated(make.jpeg(NOW), 0.3),
    "jpeg cut at 90%": make.truncated(make.jpeg(NOW), 0.9),
    "jpeg without its end marker": make.jpeg(NOW)[:-2],
    "FF D8 FF + random bytes": b"\xff\xd8\xff" + make.random_bytes(5000),
    "FF D8 FF E0 + random bytes": b"\xff\xd8\xff\xe0" + make.random_bytes(5000),
    "jpeg header + html": make.jpeg(NOW)[:600] + b"<html><script>alert(1)</script></html>",
    "png cut at 60%": make.truncated(make.png()),
    "png signature + garbage": b"\x89PNG\r\n\x1a\n" + make.random_bytes(3000),
    "png with a corrupt data chunk": _flip(make.png(), 5000),
    "heic cut at 90%": make.truncated(make.heic(), 0.9),
    "heic brand + zeros": b"\x00\x00\x00\x18ftypheic" + bytes(40),
    "mp4 cut at 80%": make.truncated(make.mp4(NOW), 0.8),
    "mp4 whose moov overruns the file": make.mp4_overrun(NOW),
    "mp4 without moov": make.mp4(NOW)[:24] + struct.pack(">I", 108) + b"mdat" + bytes(100),
    "mp4 + trailing bytes": make.mp4(NOW) + b"junk",
    "mp4 brand + random bytes": b"\x00\x00\x00\x18ftypisom" + make.random_bytes(5000),
    "m4a cut": make.truncated(make.m4a(), 0.5),
    "wav cut at 60%": make.truncated(make.wav()),
    "wav header only": make.wav()[:44],
    "RIFF WAVE + random bytes": b"RIFF" + struct.pack("<I", 5004) + b"WAVE" + make.random_bytes(5000),
    "ogg cut": make.truncated(make.ogg_opus()),
    "OggS + random bytes": b"OggS" + make.random_bytes(5000),
    "amr cut mid-frame": make.amr()[:-5],
    "AMR magic + random bytes": b"#!AMR\n" + make.random_bytes(500),
    "ID3 + random bytes": b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10) + make.random_bytes(5000),
    "MP3 sync + random bytes": b"\xff\xfb" + make.random_bytes(20000),
}

BOMBS = {
    "png 1-bit 30000x30000 (109 KB)": make.png_bomb(),
    "png 1-bit 15000x15000 (27 KB)": make.png_bomb(15000, 15000),
    "png one row over the limit": make.png_bomb(10_000, MAX_PIXELS // 10_000 + 1),
    "jpeg claiming 65000x65000": make.jpeg_claiming(65000, 65000),
    "jpeg claiming 8000x7000": make.jpeg_claiming(8000, 7000),
    "heic claiming 12000x12000": make.heic_claiming(12000, 12000),
    "heic claiming 8000x7000": make.heic_claiming(8000, 7000),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_media_that_decodes_is_accepted(name):
    data, kind, mime = ACCEPTED[name]
    info = validate(data)
    assert (info.kind, info.mime) == (kind, mime)
    if kind == "photo":
        assert info.width * info.height <= MAX_PIXELS


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_formats_we_do_not_accept(name):
    with pytest.raises(MediaRejected) as caught:
        validate(UNSUPPORTED[name])
    assert caught.value.code == "UNSUPPORTED_MEDIA"


@pytest.mark.parametrize("name", INVALID)
def test_files_that_claim_a_format_but_do_not_decode(name):
    with pytest.raises(MediaRejected) as caught:
        validate(INVALID[name])
    assert caught.value.code == "INVALID_MEDIA"


@pytest.mark.parametrize("name", BOMBS)
def test_pixel_bombs_are_refused_from_the_header(name):
    with pytest.raises(MediaRejected) as caught:
        validate(BOMBS[name])
    assert caught.value.code == "MEDIA_TOO_LARGE"


def test_truncated_images_are_never_loaded(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        validate(make.jpeg(NOW))


def _request(*files) -> Request:
    data = {"media": [(io.BytesIO(content), name) for name, content in files]}
    return Request(EnvironBuilder(method="POST", data=data).get_environ())


@pytest.mark.parametrize("data,code,status", [
    (make.image_as("GIF"), "UNSUPPORTED_MEDIA", 415),
    (b"\xff\xd8\xff" + make.random_bytes(5000), "INVALID_MEDIA", 422),
    (make.png_bomb(), "MEDIA_TOO_LARGE", 422),
    (b"", "EMPTY_UPLOAD", 400),
])
def test_intake_refuses_with_the_code_and_the_field(data, code, status):
    with pytest.raises(ApiError) as caught:
        read_media(_request(("a.jpg", make.jpeg(NOW)), ("b.jpg", data)), 10 * 1024 * 1024)
    assert (caught.value.code, caught.value.status, caught.value.fields) == (code, status, {"media[1]": "b.jpg"})


def test_intake_keeps_the_kind_it_decoded_not_the_name():
    files = read_media(_request(("photo.mp3", make.heic()), ("clip.jpg", make.mp4(NOW))), 10 * 1024 * 1024)
    assert [(name, kind, mime) for name, kind, mime, _ in files] == [
        ("photo.mp3", "photo", "image/heic"), ("clip.jpg", "video", "video/mp4")]


EVERYTHING = {**{k: v[0] for k, v in ACCEPTED.items()}, **UNSUPPORTED, **INVALID, **BOMBS}


@pytest.mark.parametrize("name", EVERYTHING)
def test_verification_never_raises_on_a_file(name):
    app_time = NOW - timedelta(hours=1)
    evidence = inspect_media(EVERYTHING[name], "f", None, app_time, "Asia/Ho_Chi_Minh")
    assert evidence.captured_at is not None   # at least the app's time
    if name in BOMBS or name in INVALID:
        assert evidence.phash is None and evidence.captured_source == "app"


def test_verification_in_its_thread_pool_answers_the_same_on_every_file():
    """Bombs, broken files and formats we refuse together in one call: each one's evidence is what inspect_media
    finds alone, none takes the others down."""
    app_time = NOW - timedelta(hours=1)
    items = [(data, name, None, app_time, "Asia/Ho_Chi_Minh", name) for name, data in EVERYTHING.items()]
    assert inspect_all(items) == [inspect_media(*item) for item in items]


def test_video_capture_time_is_read_from_moov_after_a_large_mdat():
    created, fake = NOW - timedelta(hours=3), datetime(1999, 1, 1, tzinfo=timezone.utc)
    assert mp4_creation_time(make.mp4_media_data_with_fake_mvhd(created, fake)) == created
    assert mp4_creation_time(make.mp4_overrun(created)) is None
    assert mp4_creation_time(make.mp4(None)) is None


def test_video_with_a_64_bit_mdat_size():
    created = NOW - timedelta(hours=2)
    plain = make.mp4(created)
    mdat = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 1000) + bytes(1000)
    data = plain[:24] + mdat + plain[24:]
    assert validate(data).kind == "video"
    assert mp4_creation_time(data) == created
