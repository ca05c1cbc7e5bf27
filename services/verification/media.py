"""What a media file says about itself: capture time, GPS, editing traces, perceptual hash."""
from __future__ import annotations

import io
import logging
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import imagehash
from PIL import Image, ImageChops, ImageStat

from paht.mediatypes import detect, movie_header, open_image

log = logging.getLogger(__name__)

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME, SOFTWARE, PROCESSING_SOFTWARE = 0x0132, 0x0131, 0x000B
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
EDITORS = ("photoshop", "gimp", "snapseed", "picsart", "lightroom", "meitu", "canva", "pixlr", "photoscape", "vsco",
           "facetune", "fotor", "photodirector", "airbrush", "beautycam", "ulike", "remini", "photo editor",
           "affinity photo", "paint.net", "pixelmator", "luminar", "capture one", "befunky", "inshot")
# camera makers' transfer tools re-save a camera's file on import: a weak sign, not an edit
VENDOR_TOOLS = re.compile(r"nikon transfer|viewnx|digital photo professional|eos utility|canon\b.*\butility"
                          r"|image transfer|(samsung|apple)\b.*\bphotos? import")
ANALYSIS_SIZE = (480, 480)
# a JPEG is decoded at the largest DCT scale (1/1, 1/2, 1/4, 1/8) holding at most this many pixels (or at 1/8):
# 12 MP decodes at 1/4, 50 MP at 1/8, so the decoded picture stays under 2 MP (8 MB) whatever its shape
JPEG_DECODE_PIXELS = 2_000_000
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
    captured_source: str | None = None          # exif | container | app (the client's word only)
    client_captured_at: datetime | None = None  # what the app said, kept to compare with the file's own time
    exif_gps: tuple[float, float] | None = None
    software: str | None = None
    signals: dict[str, bool] = field(default_factory=lambda: {
        "edited_software": False, "edited_datetime": False, "edited_thumbnail": False, "edited_requantized": False,
        "vendor_resave": False})
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
    """moov/mvhd's creation time, found by walking the box tree (moov may follow a large mdat)."""
    try:
        body = movie_header(data)
        seconds = struct.unpack_from(">Q" if body[0] == 1 else ">I", body, 4)[0]
    except (ValueError, IndexError, struct.error):
        return None
    return MP4_EPOCH + timedelta(seconds=seconds) if seconds else None


def inspect_media(data: bytes, filename: str, content_type: str | None, app_captured_at: datetime | None,
                  tz: str, sha256: str = "") -> MediaEvidence:
    """Never raises on a file: what cannot be read is simply unknown (and an unreadable photo's EXIF is ignored)."""
    claim = detect(data)
    kind, mime = claim if claim else ("other", content_type)
    evidence = MediaEvidence(sha256=sha256, kind=kind, mime=mime, client_captured_at=app_captured_at)
    try:
        if kind == "video":
            created = mp4_creation_time(data)
            if created:
                evidence.captured_at, evidence.captured_source = created, "container"
        elif kind == "photo":
            _inspect_image(data, evidence, tz)
    except Exception as exc:   # a bomb, a broken file or a decoder's bug: this file's evidence is unknown
        log.warning("media %s (%s) unreadable: %s: %s", sha256 or filename, mime, type(exc).__name__, exc)
        evidence = MediaEvidence(sha256=sha256, kind=kind, mime=mime, client_captured_at=app_captured_at)
    if evidence.captured_at is None and app_captured_at is not None:
        evidence.captured_at, evidence.captured_source = app_captured_at, "app"
    return evidence


def analysis_image(image: Image.Image) -> Image.Image:
    """The picture reduced to ANALYSIS_SIZE, in RGB. A JPEG never exists at full size (DCT scaling); PNG and HEIC
    are decoded at full size once (bounded by MAX_PIXELS) and reduced in place, never converted at full size."""
    if image.format in ("JPEG", "MPO"):
        pixels = image.width * image.height
        scale = next((s for s in (1, 2, 4) if pixels <= JPEG_DECODE_PIXELS * s * s), 8)
        image.draft("RGB", (max(1, image.width // scale), max(1, image.height // scale)))
    image.thumbnail(ANALYSIS_SIZE)
    return image.convert("RGB")


def _inspect_image(data: bytes, evidence: MediaEvidence, tz: str) -> None:
    image = open_image(data, evidence.mime)   # header only; refused over MAX_PIXELS before any decoding
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
    evidence.signals["vendor_resave"] = not evidence.signals["edited_software"] and bool(
        VENDOR_TOOLS.search(software.lower()))
    quantization = getattr(image, "quantization", None)
    if quantization and original:   # a camera file (it has a capture time) saved with a software's tables
        evidence.signals["edited_requantized"] = standard_quantization(quantization)
    raw_exif = image.info.get("exif", b"")
    is_jpeg = image.format in ("JPEG", "MPO")
    small = analysis_image(image)
    evidence.phash = str(imagehash.phash(small))
    evidence.ela_score = ela_score(small) if is_jpeg else None
    thumbnail = embedded_thumbnail(raw_exif)
    if thumbnail:
        try:
            thumb = analysis_image(Image.open(io.BytesIO(thumbnail), formats=["JPEG"]))
            evidence.signals["edited_thumbnail"] = (imagehash.phash(thumb) - imagehash.hex_to_hash(evidence.phash)) > 12
        except Exception:   # a broken thumbnail says nothing either way
            pass
