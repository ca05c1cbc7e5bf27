"""The staff pages' counts over a province's reports — the scorecards the leaders' dashboard and the centre's
console show, the console's statistics — kept a short while in this gateway process (issue 22: counting a
province's year of reports takes seconds, a page is asked for every few seconds). Bounded in age, never
invalidated otherwise: an answer is at most `RECENT_SECONDS` old by this process's clock and by the system's (a
controlled clock that jumped counts again), and the page shows when it was counted ("Lập lúc"). Callers asking
for what is being counted wait for that count rather than counting it again; a failure is not kept."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from eventlet.event import Event
from nameko.extensions import DependencyProvider

from paht import clock

RECENT_SECONDS = 60.0
RECENT_KEPT = 500       # answers kept at most (then all are forgotten: the next asks count again)


class Recent:
    def __init__(self, seconds: float = RECENT_SECONDS, kept: int = RECENT_KEPT):
        self.seconds, self.kept = seconds, kept
        self.values: dict = {}     # key → (time.monotonic() when counted, the system's time then, the answer)
        self.running: dict = {}    # key → Event of the count under way

    def get(self, key, count, keep=lambda answer: True) -> tuple[object, datetime]:
        """(`count()`'s answer for `key`, the system's time it was counted at): the kept one when counted at most
        `seconds` ago, else counted now (and kept if `keep(answer)`)."""
        fresh, now = time.monotonic(), clock.now()
        held = self.values.get(key)
        if held is not None and fresh - held[0] <= self.seconds and \
                timedelta(0) <= now - held[1] <= timedelta(seconds=self.seconds):
            return held[2], held[1]
        running = self.running.get(key)
        if running is not None:
            return running.wait()
        running = self.running[key] = Event()
        try:
            answer = count()
        except BaseException as exc:
            del self.running[key]
            running.send_exception(exc)
            raise
        del self.running[key]
        if keep(answer):
            if len(self.values) >= self.kept:
                self.values.clear()
            self.values[key] = (fresh, now, answer)
        running.send((answer, now))
        return answer, now


class RecentCounts(DependencyProvider):
    def setup(self):
        self.recent = Recent()

    def get_dependency(self, worker_ctx):
        return self.recent
