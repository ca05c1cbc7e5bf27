"""Shared helpers for the benchmarks: timing samples and printing percentiles."""
from __future__ import annotations

import statistics
import time


def measure(fn, n: int) -> list[float]:
    """Milliseconds per call, one sample per call."""
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    rate = 1000 / statistics.mean(samples) if samples else 0
    return f"{name:<48} p50 {p(0.5):8.3f} ms  p99 {p(0.99):8.3f} ms  {rate:12,.0f} /s  (n={len(samples)})"
