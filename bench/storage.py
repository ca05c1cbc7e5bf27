"""Embedded store candidates, measured on the operations PAHT's services use (docs/storage.md).

Run: .venv/bin/python bench/storage.py [--n 10000] [--sweep 200000]
Prints, per candidate: inserts/s, find by id, indexed equality, guarded update ($set/$push/$inc), and the sla
sweeper's range query (due <= t, 1,000 due) over `--sweep` documents.
"""
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

T0 = datetime(2027, 1, 1, tzinfo=timezone.utc)


def candidates(tmp: Path):
    from paht.storage import open_database
    yield "paht.embedded (SQLite, chosen)", open_database("bench", f"embedded://{tmp / 'paht'}")
    try:
        from montydb import MontyClient, set_storage
        set_storage(str(tmp / "monty"), storage="sqlite")
        yield "montydb 2.5 (SQLite)", MontyClient(str(tmp / "monty"))["bench"]
    except Exception as exc:  # noqa: BLE001
        print(f"montydb unavailable: {exc}")
    try:
        from mongita import MongitaClientDisk
        yield "mongita 1.2 (disk)", MongitaClientDisk(str(tmp / "mongita"))["bench"]
    except Exception as exc:  # noqa: BLE001
        print(f"mongita unavailable: {exc}")
    try:
        from tinymongo import TinyMongoClient
        yield "tinymongo (TinyDB JSON)", TinyMongoClient(str(tmp / "tiny"))["bench"]
    except Exception as exc:  # noqa: BLE001
        print(f"tinymongo unavailable: {type(exc).__name__}: {exc}")


def run(name, db, n: int, sweep: int) -> None:
    reports = db["reports"]
    try:
        reports.create_index([("state", 1)])
    except Exception:  # noqa: BLE001 — a candidate without indexes
        pass
    docs = [{"_id": f"r{i}", "state": random.choice(["submitted", "accepted", "dispatched"]), "version": 0,
             "applied_events": [], "timeline": [], "submitted_at": T0 + timedelta(seconds=i)} for i in range(n)]
    start = time.perf_counter()
    for doc in docs:
        reports.insert_one(dict(doc))
    print(f"{name:<32} insert one by one        {n / (time.perf_counter() - start):10,.0f} /s")
    print("  " + summary("find_one by _id", measure(lambda i: reports.find_one({"_id": f"r{(i * 7919) % n}"}), 2000)))
    print("  " + summary("find indexed equality (limit 10)",
                         measure(lambda i: list(reports.find({"state": "accepted"}, limit=10)), 200)))
    print("  " + summary("guarded update $set/$push/$inc", measure(lambda i: reports.update_one(
        {"_id": f"r{i % n}", "applied_events": {"$ne": f"e{i}"}},
        {"$set": {"state": "dispatched"}, "$push": {"applied_events": f"e{i}"}, "$inc": {"version": 1}}), 2000)))
    if not sweep:
        return
    deadlines = db["deadlines"]
    try:
        deadlines.create_index([("status", 1), ("due", 1)])
    except Exception:  # noqa: BLE001
        pass
    batch = [{"_id": f"d{i}", "status": "open", "report_id": f"r{i}",
              "due": T0 + timedelta(days=30, seconds=i)} for i in range(sweep)]
    for i in range(1000):   # 1,000 fall due at T0 + 1 day
        batch[i * (sweep // 1000)]["due"] = T0 + timedelta(hours=i % 24)
    start = time.perf_counter()
    deadlines.insert_many(batch)
    print(f"  insert {sweep:,} deadlines               {sweep / (time.perf_counter() - start):10,.0f} /s")
    samples = measure(lambda i: list(deadlines.find({"status": "open", "due": {"$lte": T0 + timedelta(days=1)}},
                                                    sort=[("due", 1)], limit=1000)), 5)
    found = len(list(deadlines.find({"status": "open", "due": {"$lte": T0 + timedelta(days=1)}}, limit=1000)))
    print("  " + summary(f"sweep: due <= t over {sweep:,} ({found} due)", samples))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--sweep", type=int, default=100000)
    args = parser.parse_args()
    random.seed(1)
    with tempfile.TemporaryDirectory() as tmp:
        for name, db in candidates(Path(tmp)):
            try:
                run(name, db, args.n, args.sweep)
            except Exception as exc:  # noqa: BLE001 — a candidate that cannot do the contract
                print(f"{name}: failed: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
