"""sla benchmark: the sweeper's pass over 1,000,000 open deadlines when 1,000 fall due (embedded store), and
working-time arithmetic per second. Run: .venv/bin/python bench/sla.py [--open 1000000]"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import measure, summary  # noqa: E402
from paht.storage import open_database  # noqa: E402
from paht.worktime import WorkCalendar  # noqa: E402
from services.sla.dependencies import DeadlineStore  # noqa: E402

VN = timezone(timedelta(hours=7))
T0 = datetime(2027, 1, 4, 8, 0, tzinfo=VN)


def calendar_ops() -> None:
    calendar = WorkCalendar()
    rng = random.Random(3)
    starts = [T0 + timedelta(minutes=rng.randrange(0, 400 * 24 * 60)) for _ in range(5000)]
    for unit, amount in (("wh", 4), ("wd", 6), ("h", 48)):
        samples = measure(lambda i: calendar.add(starts[i % 5000], amount, unit), 50000)
        print(summary(f"calendar add {amount} {unit}", samples))
    samples = measure(lambda i: calendar.elapsed(starts[i % 5000], starts[(i + 1) % 5000]), 20000)
    print(summary("calendar elapsed (random pairs, up to ~1 year)", samples))


def sweeper(open_count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = DeadlineStore(open_database("sla", f"embedded://{tmp}"))
        start = time.perf_counter()
        due_every = open_count // 1000
        batch = []
        for i in range(open_count):
            due = T0 - timedelta(minutes=i % 600) if i % due_every == 0 else T0 + timedelta(days=30, seconds=i)
            batch.append({"_id": f"d{i}", "report_id": f"r{i}", "pack": "thua-thien-hue-2022", "step": "process",
                          "status": "open", "active": True, "due": due, "warn_due": due + timedelta(days=365),
                          "warned": False})
            if len(batch) == 50000:
                store.deadlines.insert_many(batch)
                batch = []
        if batch:
            store.deadlines.insert_many(batch)
        print(f"loaded {open_count:,} open deadlines in {time.perf_counter() - start:.1f} s")
        samples = measure(lambda i: store.fallen_due(T0), 5)
        print(summary(f"sweep pass: fallen_due over {open_count:,} ({len(store.fallen_due(T0))} due)", samples))
        samples = measure(lambda i: store.to_warn(T0), 5)
        print(summary("warning pass (nothing to warn)", samples))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=1_000_000)
    args = parser.parse_args()
    calendar_ops()
    sweeper(args.open)


if __name__ == "__main__":
    main()
