"""Photos for demo reports: a generated picture with the EXIF a phone camera writes (capture time, GPS)."""
from __future__ import annotations

import io
import random
from datetime import datetime
from fractions import Fraction

from PIL import Image, ImageDraw

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, MAKE, MODEL = 0x9003, 0x9011, 0x010F, 0x0110


def _dms(value: float):
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = Fraction((minutes_full - minutes) * 60).limit_denominator(10000)
    return (Fraction(degrees), Fraction(minutes), seconds)


def camera_jpeg(captured_at: datetime | None, gps: tuple[float, float] | None = None, seed: int = 0,
                size=(640, 480), quality: int = 88) -> bytes:
    """A JPEG whose EXIF says when (local time + offset) and where it was taken; a distinct image per seed."""
    return _jpeg(_shapes(seed, size), captured_at, gps, quality)


def _shapes(seed: int, size) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse([x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)],
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def camera_exif(captured_at: datetime | None, gps: tuple[float, float] | None) -> Image.Exif:
    """The EXIF a phone camera writes: capture time (local time + offset) and GPS position."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "PAHT", "Demo Camera"
    if captured_at is not None:
        offset = captured_at.strftime("%z")
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = captured_at.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(EXIF_IFD)[OFFSET_TIME_ORIGINAL] = f"{offset[:3]}:{offset[3:]}"
    if gps is not None:
        lat, lon = gps
        exif.get_ifd(GPS_IFD).update({1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W",
                                      4: _dms(lon)})
    return exif


def _jpeg(image: Image.Image, captured_at, gps, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=camera_exif(captured_at, gps))
    return out.getvalue()


PHONE_SIZE = (4000, 3000)   # 12 MP


def phone_scene(seed: int = 0, size=PHONE_SIZE, grain: float = 40.0) -> Image.Image:
    """A phone-sized picture with sensor-like grain: flat shapes compress to a few hundred kB, a real 12 MP photo
    to about 5 MB at quality 88, which the grain (new at every call) gives. Slow (a second or more): make a few,
    vary them with `variant_jpeg`."""
    noise = Image.merge("RGB", [Image.effect_noise(size, grain) for _ in range(3)])
    return Image.blend(_shapes(seed, size), noise, 0.45)


def variant_jpeg(scene: Image.Image, captured_at: datetime | None, gps: tuple[float, float] | None = None,
                 seed: int = 0, patch: int = 48, quality: int = 88) -> bytes:
    """`scene` with a small patch of pixels of its own (a distinct photo per seed, cheaply) and camera EXIF."""
    rng = random.Random(seed)
    image = scene.copy()
    spot = Image.frombytes("RGB", (patch, patch), rng.randbytes(patch * patch * 3))
    image.paste(spot, (rng.randrange(scene.width - patch), rng.randrange(scene.height - patch)))
    return _jpeg(image, captured_at, gps, quality)
