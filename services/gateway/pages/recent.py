"""The staff pages' counts over a province's reports — the scorecards the leaders' dashboard and the centre's
console show, the console's statistics — kept a short while in this gateway process (issue 22: counting a
province's year of reports takes seconds, a page is asked for every few seconds). Bounded in age, never
invalidated otherwise: an answer is shown as it is for `RECENT_SECONDS` by this process's clock and by the
system's (a controlled clock that jumped counts again); after that, up to `STALE_SECONDS`, it is still shown while
it is counted again in the background (so a page opened now and then does not wait for the count either); older,
it is counted before the page answers. The page shows when it was counted ("Lập lúc"). Callers asking for what is
being counted wait for that count rather than counting it again; a failure is not kept."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import eventlet
from nameko.extensions import DependencyProvider

from paht import clock
from paht.single_flight import SingleFlight

RECENT_SECONDS = 60.0
STALE_SECONDS = 600.0   # the oldest answer shown while its next count runs
RECENT_KEPT = 500       # answers kept at most (then all are forgotten: the next asks count again)
log = logging.getLogger(__name__)


class Recent:
    def __init__(self, seconds: float = RECENT_SECONDS, kept: int = RECENT_KEPT, stale: float = STALE_SECONDS,
                 spawn=eventlet.spawn_n):
        self.seconds, self.kept, self.stale, self.spawn = seconds, kept, max(stale, seconds), spawn
        self.values: dict = {}     # key → (time.monotonic() when counted, the system's time then, the answer)
        self.counting = SingleFlight()

    def get(self, key, count, keep=lambda answer: True) -> tuple[object, datetime]:
        """(`count()`'s answer for `key`, the system's time it was counted at): the kept one when counted at most
        `seconds` ago; when at most `stale` ago too, while `count()` runs again in the background; else counted now
        (and kept if `keep(answer)`)."""
        fresh, now = time.monotonic(), clock.now()
        held = self.values.get(key)
        if held is not None and self.within(held, fresh, now, self.seconds):
            return held[2], held[1]
        if held is not None and self.within(held, fresh, now, self.stale):
            if self.counting.claim(key):   # taken now: a second page does not start another count
                self.spawn(self.count_quietly, key, count, keep)
            return held[2], held[1]
        return self.counting.run(key, lambda: self.count_now(key, count, keep))

    @staticmethod
    def within(held: tuple, fresh: float, now: datetime, seconds: float) -> bool:
        return fresh - held[0] <= seconds and timedelta(0) <= now - held[1] <= timedelta(seconds=seconds)

    def count_quietly(self, key, count, keep) -> None:
        """A count in the background: its failure only leaves the older answer shown until it is too old."""
        try:
            self.counting.finish(key, lambda: self.count_now(key, count, keep))
        except Exception as exc:  # noqa: BLE001 — logged; the next page asks again
            log.warning("counting %s again: %s", key, exc)

    def count_now(self, key, count, keep) -> tuple[object, datetime]:
        """Count for `key` and keep it (if `keep(answer)`): (the answer, the system's time it was counted at)."""
        fresh, now = time.monotonic(), clock.now()
        answer = count()
        if keep(answer):
            if len(self.values) >= self.kept:
                self.values.clear()
            self.values[key] = (fresh, now, answer)
        return answer, now


class RecentCounts(DependencyProvider):
    def setup(self):
        # a background count is the container's managed thread: stopped with the service
        self.recent = Recent(spawn=lambda function, *args: self.container.spawn_managed_thread(
            lambda: function(*args)))

    def get_dependency(self, worker_ctx):
        return self.recent
