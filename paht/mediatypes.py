"""What media a file is, decided by decoding it (the extension and the client's content type are not trusted)."""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import mutagen
import pillow_heif
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image, ImageFile

# 50 MP holds every phone's default photo and the 48/50-MP sensor modes (8160×6120 = 49.9 MP); the opt-in
# 64/108/200-MP modes are refused. The limit is what bounds one decode's memory, linearly (bench/media_memory.py):
# a baseline JPEG decodes at 1/8 scale (under 5 MB), a progressive one needs libjpeg's coefficients (~3 bytes a
# pixel, 150 MB), a PNG Pillow's full image (≤ 4 bytes a pixel, 200 MB), a HEIC libheif's planes too (~7, 350 MB).
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS   # Pillow itself refuses twice this at open
# Pillow only warns between the limit and twice it; open_image() refuses those itself, before any decoding
warnings.simplefilter("ignore", Image.DecompressionBombWarning)
pillow_heif.register_heif_opener()

_FTYP_VIDEO = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"3gp4", b"3gp5", b"3g2a", b"M4V ", b"dash"}
_FTYP_HEIC = {b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc", b"hevx"}
_FTYP_AUDIO = {b"M4A ", b"M4B "}
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF"}
_ISO_BMFF = {"video/mp4", "video/quicktime", "audio/mp4"}
_MUTAGEN = {"audio/mpeg": [MP3], "audio/wav": [WAVE], "audio/ogg": [OggVorbis, OggOpus]}
# AMR-NB frame sizes after the one-byte frame header, by frame type (9–14 do not exist; 15 is "no data")
_AMR_FRAME = {0: 12, 1: 13, 2: 15, 3: 17, 4: 19, 5: 20, 6: 26, 7: 31, 8: 5, 15: 0}


class MediaRejected(Exception):
    """`code` is the API error: UNSUPPORTED_MEDIA, INVALID_MEDIA or MEDIA_TOO_LARGE."""

    def __init__(self, code: str, detail: str | None = None):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class MediaInfo:
    kind: str                 # photo | video | audio
    mime: str
    width: int | None = None
    height: int | None = None


def detect(data: bytes) -> tuple[str, str] | None:
    """(kind, mime) the first bytes claim, or None when they claim no format we accept. Only validate() says
    whether the file really is that media."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "photo", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "photo", "image/png"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP_HEIC:
            return "photo", "image/heic"
        if brand in _FTYP_AUDIO:
            return "audio", "audio/mp4"
        if brand in _FTYP_VIDEO or brand.startswith(b"3g"):
            return "video", "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio", "audio/mpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio", "audio/wav"
    if head.startswith(b"#!AMR\n"):
        return "audio", "audio/amr"
    if head.startswith(b"OggS"):
        return "audio", "audio/ogg"
    return None


def validate(data: bytes) -> MediaInfo:
    """The media `data` is, when it decodes (images) or parses completely (containers, audio); else MediaRejected."""
    claim = detect(data)
    if claim is None:
        raise MediaRejected("UNSUPPORTED_MEDIA")
    kind, mime = claim
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("Pillow is set to load truncated images: a cut-off file would pass as a photo")
    try:
        if kind == "photo":
            return MediaInfo(kind, mime, *_decode_image(data, mime))
        if mime in _ISO_BMFF:
            movie_header(data)
        elif mime == "audio/amr":
            _check_amr(data)
        else:
            _check_audio(data, mime)
    except MediaRejected:
        raise
    except Exception:
        raise MediaRejected("INVALID_MEDIA", f"not a readable {mime} file") from None
    return MediaInfo(kind, mime)


def open_image(data: bytes, mime: str) -> Image.Image:
    """The image with only its header read, refused when its pixel count is over MAX_PIXELS."""
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[mime]])
    except Image.DecompressionBombError:
        raise MediaRejected("MEDIA_TOO_LARGE", f"over {MAX_PIXELS // 1_000_000} megapixels") from None
    if image.width * image.height > MAX_PIXELS:
        raise MediaRejected("MEDIA_TOO_LARGE", f"over {MAX_PIXELS // 1_000_000} megapixels")
    return image


def _decode_image(data: bytes, mime: str) -> tuple[int, int]:
    image = open_image(data, mime)
    size = image.size
    if mime == "image/png":
        image.verify()   # the chunk CRCs up to IEND, which load() skips; verify() leaves the image unusable
        image = open_image(data, mime)
    elif mime == "image/jpeg":
        image.draft(None, (1, 1))   # 1/8 DCT scaling: all entropy-coded data is decoded, 1/64 of the pixels kept
    image.load()
    return size


def iso_boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, body start, end) of each ISO-BMFF box in data[start:end]; ValueError when the boxes do not fill it."""
    end = len(data) if end is None else end
    at = start
    while at < end:
        if end - at < 8:
            raise ValueError("bytes after the last box")
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if end - at < 16:
                raise ValueError("truncated box header")
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ValueError(f"box {kind!r} claims {size} bytes past the end")
        yield kind, at + header, at + size
        at += size


def movie_header(data: bytes) -> bytes:
    """The body of moov/mvhd of an MP4/MOV/3GP/M4A file whose boxes fill it exactly; ValueError otherwise."""
    boxes = list(iso_boxes(data))
    if not boxes or boxes[0][0] != b"ftyp":
        raise ValueError("no ftyp box first")
    for kind, start, end in boxes:
        if kind == b"moov":
            for child, body, child_end in iso_boxes(data, start, end):
                if child == b"mvhd":
                    return data[body:child_end]
    raise ValueError("no moov/mvhd box")


def _check_audio(data: bytes, mime: str) -> None:
    parsed = mutagen.File(io.BytesIO(data), options=_MUTAGEN[mime])
    if parsed is None or not parsed.info.length > 0:
        raise ValueError("no audio stream")
    if mime == "audio/wav":
        _check_riff(data)
    elif mime == "audio/ogg":
        _check_ogg_pages(data)


def _check_riff(data: bytes) -> None:
    """Mutagen trusts the sizes a WAV header declares; a cut-off recording must have its chunks fit the file."""
    if struct.unpack_from("<I", data, 4)[0] + 8 != len(data):
        raise ValueError("RIFF size does not match the file")
    chunks, at = set(), 12
    while at < len(data):
        kind, size = struct.unpack_from("<4sI", data, at)
        if at + 8 + size > len(data):
            raise ValueError(f"chunk {kind!r} past the end")
        chunks.add(kind)
        at += 8 + size + (size & 1)
    if not {b"fmt ", b"data"} <= chunks:
        raise ValueError("no fmt or data chunk")


def _check_ogg_pages(data: bytes) -> None:
    """Every Ogg page complete and the last one ending the file (mutagen reads only the first and last pages)."""
    at = 0
    while at < len(data):
        if data[at:at + 4] != b"OggS" or len(data) < at + 27:
            raise ValueError("not an Ogg page")
        segments = data[at + 26]
        lacing = data[at + 27:at + 27 + segments]
        at += 27 + segments + sum(lacing)
        if len(lacing) < segments or at > len(data):
            raise ValueError("Ogg page past the end")


def _check_amr(data: bytes) -> None:
    """AMR-NB: the magic, then whole frames up to the end of the file."""
    at, frames = 6, 0
    while at < len(data):
        frame_type = (data[at] >> 3) & 0x0F
        if frame_type not in _AMR_FRAME or data[at] & 0x83:
            raise ValueError("not an AMR frame header")
        at += 1 + _AMR_FRAME[frame_type]
        frames += 1
    if at != len(data) or not frames:
        raise ValueError("no whole AMR frames")
