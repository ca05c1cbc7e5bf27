"""Rule-pack benchmark: acceptance evaluation per pack (p50/p99, evaluations/s), pack reload time, and memory
over 100,000 evaluations (durable-rules sessions must not accumulate). Run: .venv/bin/python bench/rules.py"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import measure, summary  # noqa: E402
from paht.rules import list_packs, load_pack, rules_root  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--memory-n", type=int, default=100000)
    args = parser.parse_args()
    for pack_id in list_packs():
        start = time.perf_counter()
        pack = load_pack(rules_root() / pack_id)
        reload_ms = (time.perf_counter() - start) * 1000
        facts = [{"photo_age_h": i % 60, "has_gps": i % 7 != 0, "duplicate_same_reporter": i % 13 == 0}
                 for i in range(64)]
        samples = measure(lambda i: pack.evaluate("acceptance", facts[i % 64]), args.n)
        print(summary(f"{pack_id} acceptance", samples) + f"  reload {reload_ms:6.1f} ms")
    pack = load_pack(rules_root() / "thua-thien-hue-2022")
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # noqa: E731
    for i in range(2000):
        pack.evaluate("acceptance", {"photo_age_h": i % 60})
    before = rss()
    start = time.perf_counter()
    for i in range(args.memory_n):
        pack.evaluate("acceptance", {"photo_age_h": i % 60})
    elapsed = time.perf_counter() - start
    print(f"memory over {args.memory_n:,} evaluations: max RSS {before:.1f} MB → {rss():.1f} MB "
          f"({args.memory_n / elapsed:,.0f} evaluations/s)")


if __name__ == "__main__":
    main()
