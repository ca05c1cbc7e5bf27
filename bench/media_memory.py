"""Peak memory and time of one image through intake's validate() and verification's inspect_media(), from an
800×600 phone photo to the pixel limit. Run it before and after a change to the decoding (the machine's own
numbers, not a budget).

Each measurement runs in a fresh interpreter (freed memory kept by the allocator would hide the next peak), after
a warm-up on a small file of the same kind. Peak RSS is VmHWM after resetting it through /proc/self/clear_refs,
minus the RSS just before (after malloc_trim). tracemalloc sees only Python's own allocations, not Pillow's,
libjpeg's or libheif's pixel buffers, so the RSS delta is the number that bounds a worker.
Run: .venv/bin/python bench/media_memory.py"""
from __future__ import annotations

import ctypes
import gc
import io
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _status(field: str) -> int:
    """kB from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure_one(path: str, step: str) -> None:
    from paht.mediatypes import validate
    from services.verification.media import inspect_media
    from tests import media_factory as make

    def run(data: bytes):
        if step == "validate":
            try:
                validate(data)
            except Exception as exc:   # a refusal is a result too
                return getattr(exc, "code", type(exc).__name__)
            return "accepted"
        evidence = inspect_media(data, "f", None, None, "Asia/Ho_Chi_Minh")
        return "hashed" if evidence.phash else "unknown"

    data = Path(path).read_bytes()
    warm = {b"\xff\xd8": make.jpeg(None), b"\x89P": make.png()}.get(data[:2], make.heic())
    run(warm)
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)   # free heap left resident would absorb (hide) the next allocations
    Path("/proc/self/clear_refs").write_text("5")
    rss_before = _status("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    outcome = run(data)
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{outcome}\t{(_status('VmHWM') - rss_before) / 1024:.1f}\t{traced_peak / 2**20:.1f}\t{elapsed * 1000:.0f}")


def phone_jpeg(size=(4000, 3000), progressive: bool = False, captured_at=None, gps=None, seed: int = 1) -> bytes:
    """A camera JPEG with sensor-like noise, so it compresses like a real photo (a 12-MP one ~5 MB), and the EXIF a
    phone writes (make and model, and the capture time and GPS when given)."""
    import numpy as np
    from PIL import Image

    from paht.demo_media import camera_jpeg
    base = Image.open(io.BytesIO(camera_jpeg(None, seed=seed, size=size))).convert("RGB")
    noise = np.random.default_rng(seed).normal(0, 12, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(base, dtype=np.float32) + noise, 0, 255).astype("uint8")
    exif = Image.open(io.BytesIO(camera_jpeg(captured_at, gps, seed=seed))).getexif()
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92, exif=exif, progressive=progressive)
    return out.getvalue()


def smooth_png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    """An RGB or RGBA PNG (Pillow holds both at 4 bytes a pixel, the most any accepted PNG takes)."""
    import numpy as np
    from PIL import Image
    x = np.linspace(0, 255, size[0], dtype=np.float32)
    y = np.linspace(0, 255, size[1], dtype=np.float32)[:, None]
    planes = [np.broadcast_to(x, (size[1], size[0])), np.broadcast_to(y, (size[1], size[0])), (x + y) / 2]
    if mode == "RGBA":
        planes.append(np.full((size[1], size[0]), 200, dtype=np.float32))
    out = io.BytesIO()
    Image.fromarray(np.stack(planes, axis=2).astype("uint8"), mode).save(out, "PNG", compress_level=1)
    return out.getvalue()


def phone_heic(size=(4032, 3024), noise: bool = True) -> bytes:
    import pillow_heif
    from PIL import Image

    from paht.demo_media import camera_jpeg
    image = Image.open(io.BytesIO(phone_jpeg(size) if noise else camera_jpeg(None, seed=1, size=size)))
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=80)
    return out.getvalue()


def main() -> None:
    from paht.mediatypes import MAX_PIXELS
    from tests import media_factory as make
    cases = {
        "(a) 800x600 phone JPEG, sensor noise": lambda: phone_jpeg((800, 600)),
        "(a) 12-MP phone JPEG, sensor noise": lambda: phone_jpeg(),
        "(b) pixel-bomb PNG 1-bit 30000x30000": lambda: make.png_bomb(),
        "(b) pixel-bomb PNG 1-bit 15000x15000": lambda: make.png_bomb(15000, 15000),
        "(c) 49-MP RGB PNG (7000x7000)": lambda: smooth_png((7000, 7000)),
        "(c) 49-MP RGBA PNG (7000x7000)": lambda: smooth_png((7000, 7000), "RGBA"),
        "(d) 12-MP HEIC (4032x3024)": lambda: phone_heic(),
        "(d) 48-MP HEIC (8064x6048), no noise": lambda: phone_heic((8064, 6048), noise=False),
        "(e) 50-MP JPEG (8160x6120), at the limit": lambda: phone_jpeg((8160, 6120)),
        "(f) 12-MP progressive JPEG": lambda: phone_jpeg(progressive=True),
        "(f) 50-MP progressive JPEG": lambda: phone_jpeg((8160, 6120), progressive=True),
    }
    print(f"pixel limit {MAX_PIXELS:,}; peak = RSS high-water mark over the RSS before, in a fresh process")
    print(f"{'image':<42}{'size':>9}  {'step':<14}{'outcome':<16}{'peak RSS':>10}{'tracemalloc':>13}{'time':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in cases.items():
            path = Path(tmp) / "file"
            path.write_bytes(build())
            size = f"{path.stat().st_size / 1e6:.2f} MB"
            for step in ("validate", "inspect_media"):
                out = subprocess.run([sys.executable, __file__, "--measure", str(path), step], capture_output=True,
                                     text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
                outcome, rss, traced, ms = out.split("\t")
                print(f"{name:<42}{size:>9}  {step:<14}{outcome:<16}{rss:>7} MB{traced:>10} MB{ms:>6} ms")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure_one(sys.argv[2], sys.argv[3])
    else:
        main()
