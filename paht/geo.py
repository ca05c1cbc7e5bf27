"""Wards of the 2025 administration: which ward contains a GPS point. The polygons are the pack's own
(`boundary.file` of its pack.yaml, a GeoJSON FeatureCollection with its licence and source beside it), so a new
province brings its wards in its folder."""
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

BORDER_TOLERANCE_DEG = 0.0002   # ~20 m: the simplified polygons may leave slivers between neighbours
WARD_PROPERTIES = ("ward_code", "ward_name", "province_name")


def boundary_path(pack_dir, meta: dict) -> Path | None:
    """The pack's ward polygons (`boundary.file`, relative to its folder), None when it names none."""
    boundary = meta.get("boundary")
    if not isinstance(boundary, dict) or not boundary.get("file"):
        return None
    return Path(pack_dir) / boundary["file"]


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
    def load(cls, path) -> "WardIndex":
        """The wards of a GeoJSON file, read again when the file changes (a pack's hot reload)."""
        path = Path(path)
        if not path.is_file():
            raise KeyError(f"no boundary file {str(path)!r}")
        return _index(cls, str(path.resolve()), path.stat().st_mtime_ns)

    @classmethod
    def of(cls, pack) -> "WardIndex":
        """The wards of a loaded pack (its `boundary.file`); KeyError when it has none."""
        path = boundary_path(pack.path, pack.meta)
        if path is None:
            raise KeyError(f"pack {pack.id} names no boundary file")
        return cls.load(path)

    @classmethod
    def of_pack(cls, pack_id: str) -> "WardIndex":
        """The wards of the pack `pack_id` of the rules folder."""
        from .rules import get_pack
        return cls.of(get_pack(pack_id))

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


@lru_cache(maxsize=16)
def _index(cls, path: str, stamp: int) -> WardIndex:
    return cls(json.loads(Path(path).read_text(encoding="utf-8"))["features"])
