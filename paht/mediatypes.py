"""What kind of media a file is, from its first bytes (the extension and the client's content type are not trusted)."""
from __future__ import annotations

_FTYP_VIDEO = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"3gp4", b"3gp5", b"3g2a", b"M4V ", b"dash"}
_FTYP_HEIC = {b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc", b"hevx"}
_FTYP_AUDIO = {b"M4A ", b"M4B "}


def detect(data: bytes) -> tuple[str, str] | None:
    """(kind, mime) with kind photo|video|audio, or None when the bytes are not a media file we accept."""
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
    if head.startswith(b"#!AMR"):
        return "audio", "audio/amr"
    if head.startswith(b"OggS"):
        return "audio", "audio/ogg"
    return None
