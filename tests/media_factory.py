"""Real media files for the tests: JPEGs with the EXIF a phone writes (or an editor leaves), PNGs, MP4 headers."""
from __future__ import annotations

import io
import struct
from datetime import datetime, timedelta, timezone

from PIL import Image

from paht.demo_media import EXIF_IFD, camera_jpeg

VN = timezone(timedelta(hours=7))
SOFTWARE, DATETIME = 0x0131, 0x0132


def jpeg(captured_at: datetime | None = None, gps=None, seed: int = 1, quality: int = 88, software: str | None = None,
         saved_at: datetime | None = None, size=(640, 480)) -> bytes:
    """A camera-like JPEG; `software` and `saved_at` leave the traces an editor does."""
    data = camera_jpeg(captured_at, gps, seed=seed, size=size, quality=quality)
    if software is None and saved_at is None:
        return data
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    if software:
        exif[SOFTWARE] = software
    if saved_at:
        exif[DATETIME] = saved_at.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(EXIF_IFD)[0x9010] = saved_at.strftime("%z")[:3] + ":" + saved_at.strftime("%z")[3:]
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def resaved(data: bytes, quality: int) -> bytes:
    """The same picture saved again by software, keeping its EXIF."""
    image = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=image.info.get("exif", b""))
    return out.getvalue()


def _thumbnail_exif(thumbnail: bytes) -> bytes:
    """Raw EXIF (little-endian TIFF) with an empty IFD0 and an IFD1 holding a JPEG thumbnail."""
    ifd0 = 8
    ifd1 = ifd0 + 2 + 4
    entries = [(0x0103, 3, 1, 6), (0x0201, 4, 1, 0), (0x0202, 4, 1, len(thumbnail))]
    data_at = ifd1 + 2 + 12 * len(entries) + 4
    entries[1] = (0x0201, 4, 1, data_at)
    tiff = b"II*\x00" + struct.pack("<I", ifd0)
    tiff += struct.pack("<H", 0) + struct.pack("<I", ifd1)
    tiff += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
    tiff += struct.pack("<I", 0) + thumbnail
    return b"Exif\x00\x00" + tiff


def with_thumbnail(data: bytes, thumbnail_of: bytes) -> bytes:
    """`data` whose embedded EXIF thumbnail shows the picture `thumbnail_of` (a mismatch when they differ)."""
    small = Image.open(io.BytesIO(thumbnail_of)).convert("RGB")
    small.thumbnail((160, 120))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80)
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "JPEG", quality=90, exif=_thumbnail_exif(buffer.getvalue()))
    return out.getvalue()


def png(seed: int = 1) -> bytes:
    image = Image.open(io.BytesIO(camera_jpeg(None, seed=seed)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def mp4(created: datetime | None) -> bytes:
    """An ISO BMFF header: ftyp, then moov/mvhd with the creation time (seconds since 1904)."""
    seconds = int((created - datetime(1904, 1, 1, tzinfo=timezone.utc)).total_seconds()) if created else 0
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isommp41"
    mvhd_body = bytes([0, 0, 0, 0]) + struct.pack(">IIII", seconds, seconds, 1000, 5000) + b"\x00" * 80
    mvhd = struct.pack(">I", 8 + len(mvhd_body)) + b"mvhd" + mvhd_body
    moov = struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd
    return ftyp + moov
