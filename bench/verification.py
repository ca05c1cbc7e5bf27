"""Verification benchmark: intake's decoding check and evidence extraction for one 4000×3000 JPEG, evidence for
five photos, and the duplicate lookup against 100,000 stored fingerprints. Memory per image: bench/media_memory.py.
Run: .venv/bin/python bench/verification.py"""
from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import measure, summary  # noqa: E402
from paht import storage  # noqa: E402
from paht.demo_media import camera_jpeg  # noqa: E402
from paht.mediatypes import validate  # noqa: E402
from services.verification.dependencies import StoredFingerprintIndex  # noqa: E402
from services.verification.evidence import inspect_media, photo_facts  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=7)))


def realistic_photo(seed: int) -> bytes:
    """A 4000×3000 camera JPEG with sensor-like noise, so it compresses like a real photo (MBs, not KBs)."""
    import io

    import numpy as np
    from PIL import Image
    base = Image.open(io.BytesIO(camera_jpeg(None, seed=seed, size=(4000, 3000)))).convert("RGB")
    noise = np.random.default_rng(seed).normal(0, 12, (3000, 4000, 3))
    pixels = np.clip(np.asarray(base, dtype=np.float32) + noise, 0, 255).astype("uint8")
    source = Image.open(io.BytesIO(camera_jpeg(NOW - timedelta(hours=1), (16.46, 107.59), seed=seed)))
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92, exif=source.getexif())
    return out.getvalue()


def main() -> None:
    big = [realistic_photo(s) for s in range(5)]
    for _ in range(3):   # warm-up: imports and caches
        inspect_media(big[0], "a.jpg", None, None, "Asia/Ho_Chi_Minh")
    print(f"12-MP JPEG size: {len(big[0]) / 1e6:.1f} MB")
    print(summary("intake validate, one 4000x3000 photo", measure(lambda i: validate(big[0]), 30)))
    one = measure(lambda i: photo_facts([inspect_media(big[0], "a.jpg", None, None, "Asia/Ho_Chi_Minh")], NOW), 30)
    print(summary("evidence, one 4000x3000 photo", one))
    five = measure(lambda i: photo_facts([inspect_media(b, "a.jpg", None, None, "Asia/Ho_Chi_Minh") for b in big],
                                         NOW), 10)
    print(summary("evidence, five 4000x3000 photos", five))
    rng = random.Random(9)
    index = StoredFingerprintIndex(storage.open_database("verification", "memory://")["fingerprints"])
    words = "duong ngap rac den cay ga o sut lun cong nuoc thai chay xe".split()
    for n in range(100_000):
        index.add(f"R{n}", f"phone:{rng.randrange(30_000)}", [f"{rng.getrandbits(64):016x}"],
                  " ".join(rng.choices(words, k=12)), rng.choice(["roads_traffic", "waste_sanitation"]),
                  16.3 + rng.random() * 0.3, 107.4 + rng.random() * 0.3, NOW + timedelta(days=5), "dispatched")
    probes = [(f"phone:{rng.randrange(30_000)}", f"{rng.getrandbits(64):016x}", " ".join(rng.choices(words, k=12)))
              for _ in range(2000)]

    def lookup(i):
        key, phash, text = probes[i % 2000]
        index.same_reporter_duplicate(key, [phash], text)
        index.open_same_matter(key, "roads_traffic", 16.45, 107.55, text, NOW)
        index.cluster("x", "roads_traffic", 16.45, 107.55, reporter_key=key)

    print(summary("duplicate + same-matter + cluster lookup, 100,000 stored", measure(lookup, 2000)))


if __name__ == "__main__":
    main()
