"""What a media file says about itself: capture time, GPS, editing traces, perceptual hash."""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import imagehash
from PIL import Image, ImageChops, ImageStat

from paht.mediatypes import detect

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME, SOFTWARE, PROCESSING_SOFTWARE = 0x0132, 0x0131, 0x000B
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
EDITORS = ("photoshop", "gimp", "snapseed", "picsart", "lightroom", "meitu", "canva", "pixlr", "photoscape", "vsco",
           "facetune", "fotor", "photodirector", "airbrush", "beautycam", "ulike", "remini", "photo editor",
           "affinity photo", "paint.net", "pixelmator", "luminar", "capture one", "befunky", "inshot")
ANALYSIS_SIZE = (480, 480)   # JPEG draft decoding picks the 1/8 scale for 12-MP photos
MP4_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)

# libjpeg's standard tables (ITU T.81 Annex K); software re-saves use them scaled by the quality setting
_STD_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
             22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78,
             87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]


@dataclass
class MediaEvidence:
    sha256: str
    kind: str
    mime: str | None
    captured_at: datetime | None = None
    captured_source: str | None = None
    exif_gps: tuple[float, float] | None = None
    software: str | None = None
    signals: dict[str, bool] = field(default_factory=lambda: {
        "edited_software": False, "edited_datetime": False, "edited_thumbnail": False, "edited_requantized": False})
    ela_score: float | None = None
    phash: str | None = None
    width: int | None = None
    height: int | None = None


def _exif_time(text, offset, tz: str) -> datetime | None:
    try:
        value = datetime.strptime(str(text).strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if offset:
        try:
            sign = -1 if str(offset).startswith("-") else 1
            hours, minutes = str(offset).strip("+-\x00").split(":")
            return value.replace(tzinfo=timezone(sign * timedelta(hours=int(hours), minutes=int(minutes))))
        except ValueError:
            pass
    return value.replace(tzinfo=ZoneInfo(tz))


def _dms(value, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    return -result if str(ref).upper().startswith(("S", "W")) else result


def exif_gps(exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lon = _dms(gps[2], gps.get(1, "N")), _dms(gps[4], gps.get(3, "E"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def embedded_thumbnail(raw_exif: bytes) -> bytes | None:
    """The JPEG thumbnail of EXIF IFD1, read from the TIFF structure."""
    data = raw_exif[6:] if raw_exif.startswith(b"Exif\x00\x00") else raw_exif
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return None
    order = "<" if data[:2] == b"II" else ">"
    try:
        ifd0 = struct.unpack(order + "I", data[4:8])[0]
        count = struct.unpack(order + "H", data[ifd0:ifd0 + 2])[0]
        ifd1 = struct.unpack(order + "I", data[ifd0 + 2 + 12 * count: ifd0 + 6 + 12 * count])[0]
        if not ifd1:
            return None
        entries = {}
        for i in range(struct.unpack(order + "H", data[ifd1:ifd1 + 2])[0]):
            tag, _, _, value = struct.unpack(order + "HHII", data[ifd1 + 2 + 12 * i: ifd1 + 14 + 12 * i])
            entries[tag] = value
        start, length = entries.get(0x0201), entries.get(0x0202)
        if start is None or not length:
            return None
        return data[start:start + length] or None
    except struct.error:
        return None


def standard_quantization(tables: dict) -> bool:
    """Whether the luminance table is libjpeg's standard table scaled for some quality (a software save)."""
    luma = list(tables.get(0, []))
    if len(luma) != 64:
        return False
    for quality in range(1, 101):
        scale = 5000 / quality if quality < 50 else 200 - quality * 2
        expected = [min(max((v * scale + 50) // 100, 1), 255) for v in _STD_LUMA]
        if sorted(expected) == sorted(luma) and expected[0] == luma[0]:
            return True
    return False


def ela_score(image: Image.Image) -> float:
    """Error-level analysis: mean difference after one more JPEG save at quality 90, 0..1 (edits stand out)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    resaved = Image.open(io.BytesIO(buffer.getvalue()))
    diff = ImageChops.difference(image, resaved)
    return round(sum(ImageStat.Stat(diff).mean) / (3 * 255), 5)


def mp4_creation_time(data: bytes) -> datetime | None:
    at = data.find(b"mvhd")
    if at < 0 or at + 16 > len(data):
        return None
    version = data[at + 4]
    try:
        seconds = struct.unpack(">Q", data[at + 8:at + 16])[0] if version == 1 else \
            struct.unpack(">I", data[at + 8:at + 12])[0]
    except struct.error:
        return None
    return MP4_EPOCH + timedelta(seconds=seconds) if seconds else None


def inspect_media(data: bytes, filename: str, content_type: str | None, app_captured_at: datetime | None,
                  tz: str, sha256: str = "") -> MediaEvidence:
    """Never raises on odd files: what cannot be read is simply unknown."""
    kind = detect(data)
    evidence = MediaEvidence(sha256=sha256, kind=kind[0] if kind else "other", mime=kind[1] if kind else content_type)
    if evidence.kind == "video":
        created = mp4_creation_time(data[:4_000_000])
        if created:
            evidence.captured_at, evidence.captured_source = created, "container"
    elif evidence.kind == "photo" and evidence.mime in ("image/jpeg", "image/png"):
        try:
            _inspect_image(data, evidence, tz)
        except (OSError, ValueError, SyntaxError):
            pass
    if evidence.captured_at is None and app_captured_at is not None:
        evidence.captured_at, evidence.captured_source = app_captured_at, "app"
    return evidence


def _inspect_image(data: bytes, evidence: MediaEvidence, tz: str) -> None:
    image = Image.open(io.BytesIO(data))
    evidence.width, evidence.height = image.size
    exif = image.getexif()
    exif_ifd = exif.get_ifd(EXIF_IFD)
    original = _exif_time(exif_ifd.get(DATETIME_ORIGINAL), exif_ifd.get(OFFSET_TIME_ORIGINAL), tz) \
        if exif_ifd.get(DATETIME_ORIGINAL) else None
    if original:
        evidence.captured_at, evidence.captured_source = original, "exif"
        saved = _exif_time(exif.get(DATETIME), exif_ifd.get(0x9010), tz) if exif.get(DATETIME) else None
        evidence.signals["edited_datetime"] = bool(saved and saved - original > timedelta(seconds=60))
    evidence.exif_gps = exif_gps(exif)
    software = " ".join(str(exif.get(tag, "")) for tag in (SOFTWARE, PROCESSING_SOFTWARE)).strip()
    evidence.software = software or None
    evidence.signals["edited_software"] = any(editor in software.lower() for editor in EDITORS)
    quantization = getattr(image, "quantization", None)
    if quantization and original:   # a camera file (it has a capture time) saved with a software's tables
        evidence.signals["edited_requantized"] = standard_quantization(quantization)
    if image.format == "JPEG":
        image.draft("RGB", ANALYSIS_SIZE)
    small = image.convert("RGB")
    small.thumbnail(ANALYSIS_SIZE)
    evidence.phash = str(imagehash.phash(small))
    evidence.ela_score = ela_score(small) if image.format == "JPEG" else None
    thumbnail = embedded_thumbnail(image.info.get("exif", b""))
    if thumbnail:
        try:
            thumb_hash = imagehash.phash(Image.open(io.BytesIO(thumbnail)).convert("RGB"))
            evidence.signals["edited_thumbnail"] = (thumb_hash - imagehash.hex_to_hash(evidence.phash)) > 12
        except (OSError, ValueError, SyntaxError):
            pass
