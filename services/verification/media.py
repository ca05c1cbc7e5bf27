"""What a media file says about itself: capture time, GPS, editing traces, perceptual hash.

The pixel work (a JPEG decoded at the smallest DCT scale, the error-level analysis, the perceptual hashes) runs,
in `inspect_all`, in an OS thread of eventlet's pool, so it never holds up nameko's hub (Pillow, libjpeg and libheif
release the GIL while they decode); the header (EXIF, quantization tables, a video's creation time) is read in the
calling green thread."""
from __future__ import annotations

import io
import logging
import os
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from math import ceil
from zoneinfo import ZoneInfo

import eventlet
import imagehash
import scipy.fftpack  # noqa: F401 — phash() imports it on first use; imported here, never first in a pool thread
from eventlet import tpool
from eventlet.semaphore import Semaphore
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
# the picture every check measures: the image divided by a whole factor (1, 2, 4 — a JPEG's DCT scales — then
# multiples of 8) until its longer side is at most this; an 800×600 photo is measured at 400×300, a 12-MP one at
# 500×375, both decoded at that size without any resampling. pHash works on 32×32 grey, error-level analysis on a
# few hundred pixels a side; one decode serves both, as a 12-MP JPEG's time goes to entropy decoding whatever the
# DCT scale
ANALYSIS_SIDE = 512
# the modes Pillow box-reduces as they are; a picture of another mode is converted to RGB and reduced a strip of
# rows at a time, so no full-size copy of it is ever made
BOX_REDUCIBLE = ("RGB", "L", "CMYK", "YCbCr")
STRIP_ROWS = 256
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


def _standard_luma_tables() -> frozenset:
    """libjpeg's luminance table at each quality 1..100 (its integer arithmetic, jpeg_quality_scaling), as (DC
    value, all 64 values sorted): the order a file stores them in (zigzag or not) does not matter."""
    tables = set()
    for quality in range(1, 101):
        scale = 5000 // quality if quality < 50 else 200 - quality * 2
        expected = [min(max((v * scale + 50) // 100, 1), 255) for v in _STD_LUMA]
        tables.add((expected[0], tuple(sorted(expected))))
    return frozenset(tables)


_STANDARD_LUMA = _standard_luma_tables()


def standard_quantization(tables: dict) -> bool:
    """Whether the luminance table is libjpeg's standard table scaled for some quality (a software save)."""
    luma = list(tables.get(0, []))
    return len(luma) == 64 and (luma[0], tuple(sorted(luma))) in _STANDARD_LUMA


def ela_score(image: Image.Image) -> float:
    """Error-level analysis: mean difference after one more JPEG save at quality 90, 0..1 (edits stand out)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    resaved = Image.open(io.BytesIO(buffer.getvalue()), formats=["JPEG"])
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
    """Never raises on a file: what cannot be read is simply unknown (and an unreadable photo's EXIF is ignored).
    The pixel work runs here, in the caller's thread; a service inspects through `inspect_all`."""
    return _inspect(_call, data, filename, content_type, app_captured_at, tz, sha256)


def inspect_all(items) -> list[MediaEvidence]:
    """`inspect_media(*item)` for each item (its arguments), in order, with the pixel work in eventlet's OS threads:
    at most `pool_size()` files at a time in this process, whoever calls, and the next item taken from `items` (a
    generator reading the files, say) only when a file is done. The calling green thread waits without blocking
    the hub."""
    slots = _pool_slots()
    pile = eventlet.GreenPile()
    for item in items:
        slots.acquire()
        pile.spawn(_inspect_in_slot, slots, item)
    return list(pile)


def pool_size() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # no sched_getaffinity on this platform
        return os.cpu_count() or 1


@cache
def _pool_slots() -> Semaphore:
    return Semaphore(pool_size())


def _inspect_in_slot(slots: Semaphore, item: tuple) -> MediaEvidence:
    try:
        return _inspect(tpool.execute, *item)
    finally:
        slots.release()


def _call(function, *args):
    return function(*args)


def _inspect(run, data: bytes, filename: str, content_type: str | None, app_captured_at: datetime | None, tz: str,
             sha256: str = "") -> MediaEvidence:
    claim = detect(data)
    kind, mime = claim if claim else ("other", content_type)
    evidence = MediaEvidence(sha256=sha256, kind=kind, mime=mime, client_captured_at=app_captured_at)
    try:
        if kind == "video":
            created = mp4_creation_time(data)
            if created:
                evidence.captured_at, evidence.captured_source = created, "container"
        elif kind == "photo":
            image = open_image(data, mime)   # header only; refused over MAX_PIXELS before any decoding
            evidence.width, evidence.height = image.size
            evidence.phash, evidence.ela_score, evidence.signals["edited_thumbnail"] = run(measure_pixels, image)
            read_header(image, evidence, tz)   # after the pixels: a PNG may keep its eXIf chunk after them
    except Exception as exc:   # a bomb, a broken file or a decoder's bug: this file's evidence is unknown
        log.warning("media %s (%s) unreadable: %s: %s", sha256 or filename, mime, type(exc).__name__, exc)
        evidence = MediaEvidence(sha256=sha256, kind=kind, mime=mime, client_captured_at=app_captured_at)
    if evidence.captured_at is None and app_captured_at is not None:
        evidence.captured_at, evidence.captured_source = app_captured_at, "app"
    return evidence


def reduction(longest: int) -> int:
    """The whole factor that brings a side of `longest` pixels to at most ANALYSIS_SIDE: 1, 2, 4, then multiples
    of 8, so that a JPEG's DCT scaling (1/2, 1/4, 1/8) does all of it up to 4096 pixels and most of it beyond."""
    for factor in (1, 2, 4):
        if longest <= ANALYSIS_SIDE * factor:
            return factor
    return 8 * ceil(longest / (ANALYSIS_SIDE * 8))


def analysis_image(image: Image.Image) -> Image.Image:
    """The picture divided by `reduction()`, in RGB. A JPEG is decoded at the DCT scale that does most of it (12 MP
    never exists above 500×375); a PNG or HEIC is decoded at full size once (bounded by MAX_PIXELS) and
    box-reduced, never converted (nor premultiplied) at full size."""
    factor = reduction(max(image.size))
    if image.format in ("JPEG", "MPO") and factor > 1:
        width, height = image.size
        scale = min(factor, 8)
        drafted = image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
        if drafted:   # the scale libjpeg was given (less for a picture too narrow for it)
            factor = max(1, round(factor * drafted[1][2] / width))
    image.load()
    return _reduced_rgb(image, factor)


def _reduced_rgb(image: Image.Image, factor: int) -> Image.Image:
    if image.mode in BOX_REDUCIBLE:
        return (image.reduce(factor) if factor > 1 else image).convert("RGB")
    # Pillow premultiplies RGBA and LA at full size to reduce them, and cannot reduce P, 1 or I;16 at all
    width, height = image.size
    out = Image.new("RGB", (ceil(width / factor), ceil(height / factor)))
    rows = factor * max(1, STRIP_ROWS // factor)
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows))).convert("RGB")
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return out


def read_header(image: Image.Image, evidence: MediaEvidence, tz: str) -> None:
    """The facts of the photo's header: EXIF (capture time, GPS, software) and quantization tables. A JPEG's or
    HEIC's come with the header alone; a PNG's eXIf chunk may follow the pixel data, and reading it without the
    pixels decoded would decode them (Pillow), so this runs after `measure_pixels`."""
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


def measure_pixels(image: Image.Image) -> tuple[str, float | None, bool]:
    """(pHash, ELA score — JPEG only —, whether the EXIF thumbnail shows another picture). Runs in a pool thread:
    nothing here logs or takes eventlet's green locks (strptime does: the header is read in the green thread)."""
    is_jpeg = image.format in ("JPEG", "MPO")
    small = analysis_image(image)
    thumbnail = embedded_thumbnail(image.info.get("exif", b""))   # a PNG's, once its pixels are read
    phash = imagehash.phash(small)
    ela = ela_score(small) if is_jpeg else None
    edited_thumbnail = False
    if thumbnail:
        try:
            thumb = analysis_image(open_image(thumbnail, "image/jpeg"))
            edited_thumbnail = (imagehash.phash(thumb) - phash) > 12
        except Exception:   # a broken thumbnail says nothing either way
            pass
    return str(phash), ela, edited_thumbnail
