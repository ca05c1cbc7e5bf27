"""One piece of work at a time per key, in one process: callers asking for what is being worked out meanwhile
wait for that answer (or its failure) instead of doing it again beside it; nothing is kept afterwards (a cache, if
any, is the caller's). Intake's agency counts and the gateway's page counts use it."""
from __future__ import annotations

from eventlet.event import Event


class SingleFlight:
    def __init__(self):
        self.running: dict = {}    # key → Event of the work under way

    def claim(self, key) -> bool:
        """Reserve `key` for work the caller will `finish` (in another green thread, say); False when it is taken."""
        if key in self.running:
            return False
        self.running[key] = Event()
        return True

    def finish(self, key, work):
        """`work()` for a claimed key: its answer, also to whoever waits; its exception raised to them all."""
        try:
            answer = work()
        except BaseException as exc:
            self.running.pop(key).send_exception(exc)
            raise
        self.running.pop(key).send(answer)
        return answer

    def run(self, key, work):
        """`work()`'s answer for `key`: the one under way, if any, else worked out now."""
        if not self.claim(key):
            return self.running[key].wait()
        return self.finish(key, work)
