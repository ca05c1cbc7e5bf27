"""Routing benchmark: ward lookup for 100,000 random points over the four provinces, and a routing decision
(facts → the pack's routing rules) per report. Run: .venv/bin/python bench/routing.py"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import measure, summary  # noqa: E402
from paht.geo import WardIndex  # noqa: E402
from paht.rules import get_pack  # noqa: E402
from paht.schemas import CATEGORIES  # noqa: E402
from services.routing.route import routing_facts  # noqa: E402

PACKS = ("thua-thien-hue-2022", "soc-trang-2023", "vinh-long-2025", "tay-ninh-2024")   # the four provinces' wards


def main() -> None:
    rng = random.Random(11)
    indexes = [WardIndex.of_pack(p) for p in PACKS]
    points = []
    for _ in range(100_000):
        index = rng.choice(indexes)
        minx, miny, maxx, maxy = index.bounds()
        points.append((index, rng.uniform(miny, maxy), rng.uniform(minx, maxx)))   # inside and just outside
    samples = measure(lambda i: points[i][0].locate(points[i][1], points[i][2]), len(points))
    print(summary("ward lookup, 100,000 points in 4 provinces", samples))
    pack = get_pack("thua-thien-hue-2022")
    wards = [w.code for w in WardIndex.of_pack("thua-thien-hue-2022").wards()]
    reports = [{"category": rng.choice(CATEGORIES), "urgent": rng.random() < 0.1,
                "ward": {"code": rng.choice(wards)} if rng.random() < 0.9 else None} for _ in range(1000)]
    samples = measure(lambda i: pack.evaluate("routing", routing_facts(reports[i % 1000])), 20000)
    print(summary("routing decision (thua-thien-hue-2022)", samples))


if __name__ == "__main__":
    main()
