"""Real media files for the tests: JPEGs with the EXIF a phone writes (or an editor leaves), PNGs, HEICs, MP4s,
audio; and the hostile ones: pixel bombs, truncated and corrupt files, polyglots, formats we do not accept."""
from __future__ import annotations

import io
import random
import struct
import wave
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pillow_heif
from mutagen.ogg import OggPage
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


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _mvhd(created: datetime | None) -> bytes:
    seconds = int((created - datetime(1904, 1, 1, tzinfo=timezone.utc)).total_seconds()) if created else 0
    return _box(b"mvhd", bytes(4) + struct.pack(">IIII", seconds, seconds, 1000, 5000) + bytes(80))


def mp4(created: datetime | None, mdat: bytes | None = None, brand: bytes = b"isom") -> bytes:
    """An ISO BMFF file: ftyp, then (after `mdat` when given, as phones write it) moov/mvhd with the creation
    time (seconds since 1904)."""
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + struct.pack(">I", 512) + b"isommp41"
    moov = _box(b"moov", _mvhd(created))
    return ftyp + (_box(b"mdat", mdat) + moov if mdat is not None else moov)


def mp4_media_data_with_fake_mvhd(created: datetime, fake: datetime, size: int = 6_000_000) -> bytes:
    """A phone-like video: a 6 MB mdat before moov, whose media data happens to hold the bytes of another mvhd."""
    return mp4(created, mdat=_mvhd(fake)[4:] + bytes(size))


def mp4_overrun(created: datetime | None) -> bytes:
    """moov claims more bytes than the file has."""
    data = bytearray(mp4(created))
    struct.pack_into(">I", data, 24, len(data))
    return bytes(data)


def m4a(created: datetime | None = None) -> bytes:
    return mp4(created, mdat=bytes(1000), brand=b"M4A ")


def heic(captured_at: datetime | None = None, seed: int = 1, size=(640, 480)) -> bytes:
    """An iPhone-like HEIC carrying the camera EXIF of `jpeg()`."""
    image = Image.open(io.BytesIO(camera_jpeg(captured_at, seed=seed, size=size)))
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=70, exif=image.info.get("exif"))
    return out.getvalue()


def heic_claiming(width: int, height: int) -> bytes:
    """A small HEIC whose `ispe` box claims `width`×`height` (a pixel bomb by its header)."""
    data = heic()
    at = data.index(b"ispe")
    return data[:at + 8] + struct.pack(">II", width, height) + data[at + 16:]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose SOF header claims `width`×`height`."""
    data = bytearray(camera_jpeg(None, size=(64, 48)))
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


@lru_cache(maxsize=4)
def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A 1-bit all-black PNG: 109 KB on disk at 30000×30000, 900 MP decoded."""
    row = bytes(1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def image_as(fmt: str, seed: int = 1) -> bytes:
    """The demo picture saved as `fmt` (GIF, TIFF, BMP, WEBP: real images of formats intake does not accept)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(camera_jpeg(None, seed=seed))).save(out, fmt)
    return out.getvalue()


def truncated(data: bytes, fraction: float = 0.6) -> bytes:
    return data[:int(len(data) * fraction)]


def random_bytes(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def zip_of_html() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("index.html", "<html><script>alert(1)</script></html>")
    return out.getvalue()


def mp3(frames: int = 50) -> bytes:
    """MPEG-1 layer III frames at 128 kbit/s, 44.1 kHz (417 bytes each), silent."""
    return (b"\xff\xfb\x90\x00" + bytes(413)) * frames


def wav(seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x00\x01" * int(8000 * seconds))
    return out.getvalue()


def ogg_opus(packets: int = 50) -> bytes:
    """An Ogg Opus stream: OpusHead, OpusTags, then 20-ms silent packets, one a page."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"paht" + struct.pack("<I", 0)
    content = [(head, 0), (tags, 0)] + [(b"\xf8\xff\xfe", 312 + 960 * (n + 1)) for n in range(packets)]
    out = b""
    for sequence, (packet, granule) in enumerate(content):
        page = OggPage()
        page.serial, page.sequence, page.position, page.packets = 7, sequence, granule, [packet]
        page.first, page.last = sequence == 0, sequence == len(content) - 1
        out += page.write()
    return out


def amr(frames: int = 50) -> bytes:
    """AMR-NB at 12.2 kbit/s: the magic, then frames of a header byte and 31 bytes."""
    return b"#!AMR\n" + (b"\x3c" + bytes(31)) * frames
