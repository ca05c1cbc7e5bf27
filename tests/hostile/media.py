"""Hostile media files, built deterministically (Pillow / struct / zlib): wrong types, damaged files, pixel bombs.

Every builder returns bytes and is cached, so the corpus builds each file once. Nothing here reads the clock:
the files that must pass as fresh evidence are made by the corpus at run time (tests.integration fresh_photo).
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from functools import lru_cache

from PIL import Image

from paht.demo_media import camera_jpeg

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def random_bytes(n: int, seed: int) -> bytes:
    return _rng(seed).randbytes(n)


def _pillow(fmt: str, size=(48, 32), mode="RGB", **options) -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 128)
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


# ---- real, valid files ------------------------------------------------------------------------------------------
@lru_cache(None)
def small_jpeg(seed: int = 3) -> bytes:
    """A real camera-like JPEG without a capture time (deterministic)."""
    return camera_jpeg(None, seed=seed, size=(160, 120), quality=80)


@lru_cache(None)
def small_png(seed: int = 3) -> bytes:
    image = Image.open(io.BytesIO(small_jpeg(seed))).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _mp4(seconds: int = 3_700_000_000) -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isommp41"
    mvhd_body = bytes(4) + struct.pack(">IIII", seconds, seconds, 1000, 5000) + bytes(80)
    mvhd = struct.pack(">I", 8 + len(mvhd_body)) + b"mvhd" + mvhd_body
    moov = struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd
    return ftyp + moov


# ---- not media at all (415 UNSUPPORTED_MEDIA) ----------------------------------------------------------------
@lru_cache(None)
def gif() -> bytes:
    return _pillow("GIF", mode="P")


@lru_cache(None)
def bmp() -> bytes:
    return _pillow("BMP")


@lru_cache(None)
def tiff() -> bytes:
    return _pillow("TIFF")


@lru_cache(None)
def webp() -> bytes:
    return _pillow("WEBP", quality=80)


@lru_cache(None)
def ico() -> bytes:
    return _pillow("ICO", size=(32, 32))


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


@lru_cache(None)
def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("photo.jpg", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(info, small_jpeg())
    return out.getvalue()


def html() -> bytes:
    return b"<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n"


def svg() -> bytes:
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script><rect width='10' height='10'/></svg>")


def exe() -> bytes:
    """An MS-DOS/PE header: MZ, e_lfanew at 0x3c pointing at "PE\\0\\0"."""
    header = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48))
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    body = bytes(header) + b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - 64, b"\x00")
    return body + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + bytes(256)


def plain_text() -> bytes:
    return "Ổ gà lớn giữa đường Lê Lợi — đây là văn bản, không phải ảnh.\n".encode()


@lru_cache(None)
def random_blob() -> bytes:
    return random_bytes(4096, seed=1234)


# ---- damaged media (422 INVALID_MEDIA) -------------------------------------------------------------------------
def truncated_jpeg() -> bytes:
    data = small_jpeg(5)
    return data[: len(data) // 2]


def jpeg_magic_then_random() -> bytes:
    return b"\xff\xd8\xff" + random_bytes(4096, seed=2)


def jpeg_soi_only() -> bytes:
    return b"\xff\xd8\xff\xe0"


def png_magic_then_garbage() -> bytes:
    return PNG_SIGNATURE + random_bytes(4096, seed=3)


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], len(PNG_SIGNATURE)
    while at < len(data):
        length, = struct.unpack(">I", data[at:at + 4])
        chunks.append((data[at + 4:at + 8], data[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


def _png_from(chunks, corrupt_crc_of: bytes | None = None) -> bytes:
    out = PNG_SIGNATURE
    for kind, body in chunks:
        out += _chunk(kind, body, (zlib.crc32(kind + body) ^ 0xDEADBEEF) if kind == corrupt_crc_of else None)
    return out


@lru_cache(None)
def png_bad_idat_crc() -> bytes:
    return _png_from(_png_chunks(small_png(6)), corrupt_crc_of=b"IDAT")


@lru_cache(None)
def png_bad_zlib() -> bytes:
    """IDAT data replaced by garbage (with a correct CRC): the zlib stream cannot be inflated."""
    chunks = [(kind, random_bytes(len(body), seed=4) if kind == b"IDAT" else body)
              for kind, body in _png_chunks(small_png(7))]
    return _png_from(chunks)


@lru_cache(None)
def png_no_idat() -> bytes:
    return _png_from([(k, b) for k, b in _png_chunks(small_png(8)) if k != b"IDAT"])


def png_truncated() -> bytes:
    data = small_png(9)
    return data[: len(data) // 2]


def truncated_mp4() -> bytes:
    data = _mp4()
    return data[: len(data) // 2]


def mp4_box_overrun() -> bytes:
    """A complete ftyp, then a moov box whose size says 2 GB."""
    data = _mp4()
    return data[:24] + struct.pack(">I", 0x7FFFFFF0) + data[28:]


def ftyp_then_garbage() -> bytes:
    return _mp4()[:24] + random_bytes(2048, seed=5)


def id3_then_garbage() -> bytes:
    size = bytes([0, 0, 2, 0])  # syncsafe 256
    return b"ID3\x04\x00\x00" + size + random_bytes(2048, seed=6)


def wav_then_garbage() -> bytes:
    return b"RIFF" + struct.pack("<I", 4096) + b"WAVE" + random_bytes(2048, seed=7)


def ogg_then_garbage() -> bytes:
    return b"OggS" + random_bytes(2048, seed=8)


# ---- pixel bombs (422 MEDIA_TOO_LARGE) -------------------------------------------------------------------------
def _png_bomb(width: int, height: int, bit_depth: int) -> bytes:
    """A grey PNG of zeros: tiny compressed, huge decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


@lru_cache(None)
def png_bomb_1bit_30000() -> bytes:
    return _png_bomb(30000, 30000, 1)


@lru_cache(None)
def png_bomb_15000() -> bytes:
    return _png_bomb(15000, 15000, 8)


@lru_cache(None)
def png_header_claims_huge() -> bytes:
    """IHDR says 2^31-1 × 2^31-1, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", 0x7FFFFFFF, 0x7FFFFFFF, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b"")


@lru_cache(None)
def jpeg_sof_claims(width: int = 65000, height: int = 65000) -> bytes:
    """A real JPEG whose SOF header is patched to claim width × height."""
    data = bytearray(small_jpeg(10))
    at = 2
    while at < len(data):
        marker = data[at + 1]
        length, = struct.unpack(">H", data[at + 2:at + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            data[at + 5:at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        at += 2 + length
    raise AssertionError("no SOF marker")


def padded_jpeg(total_bytes: int, seed: int = 11) -> bytes:
    """A real JPEG followed by zero bytes up to `total_bytes` (an oversized file)."""
    data = small_jpeg(seed)
    return data + b"\x00" * max(0, total_bytes - len(data))


def prebuild() -> None:
    """Build the expensive files before the services start (the test process shares their event loop)."""
    for builder in (png_bomb_1bit_30000, png_bomb_15000, png_header_claims_huge, jpeg_sof_claims, gif, bmp, tiff,
                    webp, ico, zip_archive, random_blob, png_bad_idat_crc, png_bad_zlib, png_no_idat):
        builder()


def noisy_jpeg(captured_at, seed: int, size=(760, 570), quality: int = 90) -> bytes:
    """A camera JPEG (EXIF capture time like paht.demo_media.camera_jpeg) of noise: about half a megabyte, the size
    of an ordinary phone photo rather than a thumbnail."""
    from paht.demo_media import (
        DATETIME_ORIGINAL,
        EXIF_IFD,
        MAKE,
        MODEL,
        OFFSET_TIME_ORIGINAL,
    )

    image = Image.frombytes("RGB", size, random_bytes(size[0] * size[1] * 3, seed))
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "PAHT", "Demo Camera"
    offset = captured_at.strftime("%z")
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = captured_at.strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(EXIF_IFD)[OFFSET_TIME_ORIGINAL] = f"{offset[:3]}:{offset[3:]}"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()
