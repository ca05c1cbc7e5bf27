"""Verification benchmark: intake's decoding check of a 12-MP phone photo; evidence for one 800×600 and one 12-MP
photo (4000×3000, ~5 MB, with EXIF); five of each in one report, in turn, in eventlet's thread pool
(`inspect_all`, what the service uses) and in a process pool (the alternative it was measured against); how long
the hub is held meanwhile; and the duplicate lookup against 100,000 stored fingerprints. Memory per image:
bench/media_memory.py. The machine is shared with whatever else runs: run it a few times.
Run: .venv/bin/python bench/verification.py"""
from __future__ import annotations

import multiprocessing
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import eventlet  # noqa: E402

from bench._stats import measure, summary  # noqa: E402
from bench.media_memory import phone_jpeg  # noqa: E402
from paht import storage  # noqa: E402
from paht.mediatypes import validate  # noqa: E402
from services.verification.dependencies import StoredFingerprintIndex  # noqa: E402
from services.verification.evidence import inspect_all, inspect_media, photo_facts  # noqa: E402
from services.verification.media import pool_size  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=7)))
TZ = "Asia/Ho_Chi_Minh"


def photos(size: tuple[int, int]) -> list[tuple]:
    """Five distinct phone photos taken an hour ago in Huế, as `inspect_media`'s arguments."""
    return [(phone_jpeg(size, captured_at=NOW - timedelta(hours=1), gps=(16.46, 107.59), seed=seed), f"{seed}.jpg",
             "image/jpeg", None, TZ, f"sha-{seed}") for seed in range(5)]


def hub_held_ms(run) -> float:
    """The longest a green thread asking to run every millisecond had to wait while `run()` ran."""
    gaps, running = [], [True]

    def tick():
        last = time.perf_counter()
        while running[0]:
            eventlet.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = eventlet.spawn(tick)
    eventlet.sleep(0.005)
    run()
    running[0] = False
    ticker.wait()
    return max(gaps) * 1000


def evidence(pool, size: tuple[int, int], label: str, n: int) -> None:
    items = photos(size)
    one = measure(lambda i: photo_facts([inspect_media(*items[0])], NOW), n * 3)
    print(summary(f"evidence, one {label} photo", one))
    print(summary(f"evidence, five {label}, in turn", measure(lambda i: [inspect_media(*a) for a in items], n)))
    print(summary(f"evidence, five {label}, inspect_all (threads)", measure(lambda i: inspect_all(items), n)))
    print(summary(f"evidence, five {label}, process pool", measure(lambda i: pool.starmap(inspect_media, items), n)))
    assert [e.phash for e in inspect_all(items)] == [e.phash for e in pool.starmap(inspect_media, items)]
    print(f"{'':<4}hub held: in turn {hub_held_ms(lambda: [inspect_media(*a) for a in items]):.0f} ms, "
          f"inspect_all {hub_held_ms(lambda: inspect_all(items)):.0f} ms")


def main() -> None:
    big = photos((4000, 3000))[0][0]
    print(f"{pool_size()} cores; 12-MP JPEG size: {len(big) / 1e6:.1f} MB")
    with multiprocessing.get_context("spawn").Pool(pool_size()) as pool:
        pool.starmap(inspect_media, photos((800, 600)))   # warm-up: the workers' imports
        for _ in range(3):
            inspect_all(photos((800, 600)))
        print(summary("intake validate, one 4000x3000 photo", measure(lambda i: validate(big), 30)))
        evidence(pool, (800, 600), "800x600", 50)
        evidence(pool, (4000, 3000), "4000x3000", 10)

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
