"""The one clock every service reads.

`PAHT_CLOCK=real` (default) is the wall clock. `PAHT_CLOCK=controlled` is the wall clock plus an offset kept in
a file shared by every local process (`$PAHT_VAR_DIR/clock.json`), so `POST /api/v1/_clock/advance` on intake
moves time for all services at once; it starts at `PAHT_CLOCK_START` when set (a system run from a chosen
instant: a Saturday night, New Year's Eve, the eve of Tết). Tests may also install a `FixedClock`.
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import settings

UTC = timezone.utc


class ClockRefused(RuntimeError):
    pass


class RealClock:
    controlled = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> datetime:
        raise ClockRefused("the real clock cannot be moved")


class ControlledClock:
    """Real time plus an offset read from a shared file (re-read when the file changes)."""

    controlled = True

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime = None
        self._offset = 0.0

    def _read_offset(self) -> float:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._first_offset()
        if stat.st_mtime_ns != self._mtime:
            try:
                self._offset = float(json.loads(self.path.read_text())["offset_seconds"])
                self._mtime = stat.st_mtime_ns
            except (ValueError, KeyError, OSError):
                pass  # a half-written file: keep the last offset, read again next time
        return self._offset

    def _first_offset(self) -> float:
        """A system without a time of its own yet starts at PAHT_CLOCK_START (written, so every process shares
        it), or now."""
        start = settings.clock_start()
        if start is None:
            return 0.0
        with self._lock:
            if not self.path.exists():
                self._write((start - datetime.now(UTC)).total_seconds())
        return self._read_offset()

    def offset(self) -> float:
        return self._read_offset()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._read_offset())

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ClockRefused("time only moves forward")
        with self._lock:
            return self._write(self._read_offset() + seconds)

    def start_at(self, instant: datetime) -> datetime:
        """A fresh test system's time: deterministic whatever the hour the suite runs at."""
        with self._lock:
            return self._write((instant - datetime.now(UTC)).total_seconds())

    def _write(self, offset: float) -> datetime:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_seconds": offset}))
        os.replace(tmp, self.path)
        self._offset, self._mtime = offset, self.path.stat().st_mtime_ns
        return self.now()


class FixedClock:
    """For unit tests: time stands still until moved."""

    controlled = True

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


def _from_environment():
    kind = settings.clock_kind()
    if kind == "real":
        return RealClock()
    if kind == "controlled":
        if not settings.test_endpoints_enabled():
            raise ClockRefused("PAHT_CLOCK=controlled needs PAHT_ENV=dev or test (a test system); "
                               "production runs on the real clock")
        return ControlledClock(settings.var_dir() / "clock.json")
    raise ClockRefused(f"unknown PAHT_CLOCK={kind!r} (real | controlled)")


_clock = None


def get_clock():
    global _clock
    if _clock is None:
        _clock = _from_environment()
    return _clock


def set_clock(clock) -> None:
    """Install a clock (tests); `None` goes back to the environment's choice."""
    global _clock
    _clock = clock


def now() -> datetime:
    return get_clock().now()
