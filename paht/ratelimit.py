"""A sliding-window rate limit per key (client address, reporter), in memory, bounded in size."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque


class RateLimiter:
    def __init__(self, per_minute: int, max_keys: int = 100_000, monotonic=time.monotonic):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self.monotonic = monotonic
        self.hits: OrderedDict[str, deque] = OrderedDict()
        self.lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Count one hit for `key`; the seconds to wait when it is over the limit (the hit is not counted)."""
        if self.per_minute <= 0 or not key:
            return None
        now = self.monotonic()
        with self.lock:
            window = self.hits.pop(key, None) or deque()
            while window and window[0] <= now - 60:
                window.popleft()
            self.hits[key] = window          # most recently used last
            if len(self.hits) > self.max_keys:
                self.hits.popitem(last=False)
            if len(window) >= self.per_minute:
                return max(1, math.ceil(window[0] + 60 - now))
            window.append(now)
            return None
