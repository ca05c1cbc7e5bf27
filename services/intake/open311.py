"""Open311 GeoReport v2 under /open311/v2/ (entrypoints of the intake service)."""
from __future__ import annotations


class Open311Api:
    pass
