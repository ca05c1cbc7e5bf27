"""Wards of the 2025 administration (paht/data/boundaries, MIT): which ward contains a GPS point."""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep

DATA = Path(__file__).resolve().parent / "data" / "boundaries"
BORDER_TOLERANCE_DEG = 0.0002   # ~20 m: the simplified polygons may leave slivers between neighbours


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    province: str


class WardIndex:
    def __init__(self, features: list[dict]):
        self._wards = [Ward(f["properties"]["ward_code"], f["properties"]["ward_name"],
                            f["properties"]["province_name"]) for f in features]
        self._shapes = [shape(f["geometry"]) for f in features]
        self._prepared = [prep(s) for s in self._shapes]
        self._tree = STRtree(self._shapes)
        self._by_code = {w.code: i for i, w in enumerate(self._wards)}

    @classmethod
    @lru_cache(maxsize=8)
    def load(cls, boundary: str) -> "WardIndex":
        path = DATA / f"{boundary}.geojson"
        if not path.exists():
            raise KeyError(f"no boundary file {boundary!r}")
        return cls(json.loads(path.read_text(encoding="utf-8"))["features"])

    def locate(self, lat: float, lon: float) -> Ward | None:
        point = Point(lon, lat)
        for index in self._tree.query(point):
            if self._prepared[index].covers(point):
                return self._wards[index]
        nearest = self._tree.query(point, predicate="dwithin", distance=BORDER_TOLERANCE_DEG)
        if len(nearest):
            best = min(nearest, key=lambda i: self._shapes[i].distance(point))
            return self._wards[best]
        return None

    def contains(self, lat: float, lon: float) -> bool:
        return self.locate(lat, lon) is not None

    def wards(self) -> list[Ward]:
        return list(self._wards)

    def representative_point(self, code: str) -> tuple[float, float]:
        point = self._shapes[self._by_code[code]].representative_point()
        return point.y, point.x

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        """A random point inside a random ward (for demo data and benchmarks)."""
        polygon = self._shapes[rng.randrange(len(self._shapes))]
        minx, miny, maxx, maxy = polygon.bounds
        for _ in range(1000):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if polygon.contains(Point(x, y)):
                return round(y, 6), round(x, 6)
        point = polygon.representative_point()
        return point.y, point.x

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [s.bounds for s in self._shapes]
        return min(b[0] for b in xs), min(b[1] for b in xs), max(b[2] for b in xs), max(b[3] for b in xs)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
