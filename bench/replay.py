"""`paht rules replay` on a year of one pack's reports (issue 24 item 4): what a changed deadline and a changed route
would have done, and how fast the stored reports are decided again (target: ≥ 2,000 reports/s).

1. Seeds a fresh var directory as bench/portal.py does (its World and Life: each report taken through its life by
   the services' own deciders, stored by intake's ReportStore and the sla service's DeadlineStore on the embedded
   store) with `--reports` reports of `--pack`.
   The rating service's monthly reports of every month of that year are made from them as the service makes them
   (its `compute` over intake's `agency_counters` and the sla service's `agency_lateness`) and stored in its store.
2. Copies the pack and changes one deadline (the processing time, `--process` working days), one route (street
   lighting: led by the power company with the lighting company beside it, instead of the other way round) and one
   penalty threshold (an agency under 80% "Hài lòng" is reported to the UBND, instead of under 70%).
3. Runs the replay as the command does (the stores opened read-only, reports submitted in the last 400 days) and
   prints the differences by kind, the time and reports/s; checks the stores did not change.
Run: .venv/bin/python bench/replay.py [--reports 10000] [--pack thua-thien-hue-2022] [--process 5]"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", module=r"dns\.")

TARGET = 2000.0
UTC = timezone.utc
# the changes of the bench's new pack (thua-thien-hue-2022): (file, text, replacement)
CHANGES = {
    "thua-thien-hue-2022": [
        ("pack.yaml", "process_time: {amount: 6, unit: wd,", "process_time: {amount: {process}, unit: wd,"),
        ("routing.yaml", "lead: chieu-sang, co: [dien-luc]", "lead: dien-luc, co: [chieu-sang]"),
        ("pack.yaml", "report_satisfied_min: {value: 0.7,", "report_satisfied_min: {value: 0.8,"),
    ],
}


def changed_copy(pack_id: str, into: Path, process_days: int) -> Path:
    shutil.copytree(ROOT / "rules" / pack_id, into / pack_id)
    shutil.copy(ROOT / "rules" / "categories.yaml", into / "categories.yaml")
    for name, text, replacement in CHANGES[pack_id]:
        path = into / pack_id / name
        source = path.read_text(encoding="utf-8")
        if source.count(text) != 1:
            raise SystemExit(f"bench/replay.py: {pack_id}/{name} no longer holds {text!r} once: update CHANGES")
        path.write_text(source.replace(text, replacement.replace("{process}", str(process_days))), encoding="utf-8")
    return into / pack_id


def digest(directory: Path) -> str:
    """Every document of every store, read by SQLite (the files' own bytes change when a reader maps the WAL)."""
    import sqlite3
    hashed = hashlib.sha256()
    for path in sorted(directory.glob("*.sqlite3")):
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
                for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                    hashed.update(repr(row).encode())
    return hashed.hexdigest()


def seed(pack_id: str, reports: int, now: datetime) -> tuple[int, float]:
    from bench import portal
    from paht.storage import open_database
    from services.intake.dependencies import ReportStore
    from services.intake.lists import next_due
    from services.sla.dependencies import DeadlineStore
    portal._WORLD = world = portal.World(now, pack_id)
    intake, sla = ReportStore(open_database("intake")), DeadlineStore(open_database("sla"))
    rng = random.Random(f"replay:{pack_id}")
    started, deadlines = time.perf_counter(), 0
    for first in range(0, reports, portal.CHUNK):
        docs, opened = [], []
        for serial in range(first, min(first + portal.CHUNK, reports)):
            life = portal.Life(world, rng, pack_id, now - timedelta(days=365) * rng.random(), serial)
            life.live()
            doc = life.finished()
            doc["next_due"] = next_due(doc)
            docs.append(doc)
            opened += life.deadlines
        intake.reports.insert_many(docs)
        if opened:
            sla.deadlines.insert_many(opened)
        deadlines += len(opened)
    # the seeding is done: its connections closed (their WAL checkpointed into the files), as after `paht up` —
    # SQLite's reader of a file whose writer is this same process reads slowly (the replay below is another
    # process's reader in real use)
    months = issue_monthly_reports(pack_id, intake, sla, now)
    from paht import storage
    for database in (intake.reports.database, sla.deadlines.database):
        database.close()
    storage._embedded_files.clear()
    return deadlines, months, time.perf_counter() - started


def issue_monthly_reports(pack_id: str, intake, sla, now: datetime) -> int:
    """The rating service's monthly report of each month of the seeded year that ended, made by its own `compute`
    over intake's and the sla service's own counting entrypoints (called in-process on the seeded stores, their
    answers made JSON as an RPC's are) and stored as its `make_report` stores them."""
    from types import SimpleNamespace

    from paht import periods
    from paht.events import jsonable
    from paht.rules import get_pack
    from paht.storage import open_database
    from services.intake.service import IntakeService
    from services.rating import periodic
    from services.rating.dependencies import RatingStore
    from services.rating.service import RatingService
    from services.sla.service import SlaService
    pack = get_pack(pack_id)
    tz, cutoff = pack.meta.get("timezone", "Asia/Ho_Chi_Minh"), periodic.cutoff(pack)
    record, steps = SimpleNamespace(store=intake), SimpleNamespace(deadlines=sla)
    rating = SimpleNamespace(
        intake=SimpleNamespace(
            agency_counters=lambda *a: jsonable(IntakeService.agency_counters(record, *a)),
            province_referrals=lambda *a: jsonable(IntakeService.province_referrals(record, *a))),
        sla=SimpleNamespace(agency_lateness=lambda *a: jsonable(SlaService.agency_lateness(steps, *a))))
    store = RatingStore(open_database("rating"))
    month, made = periods.previous(periods.containing("month", now, tz, cutoff), tz, cutoff), 0
    while month.start > now - timedelta(days=365):
        content = RatingService.compute(rating, pack, month, month.end)
        store.keep_periodic({"_id": periodic.report_id(pack_id, "month", month.label), "pack": pack_id,
                             "kind": "month", "period": month.label, "start": month.start, "end": month.end,
                             "generated_at": now, "content": content})
        month, made = periods.previous(month, tz, cutoff), made + 1
    store.periodic.database.close()
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--pack", default="thua-thien-hue-2022", choices=sorted(CHANGES))
    parser.add_argument("--process", type=int, default=5, help="the new pack's processing time, working days")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="paht-bench-replay-") as work:
        work = Path(work)
        for setting in [name for name in os.environ if name == "MONGO_URI" or name.startswith("PAHT_")]:
            del os.environ[setting]
        os.environ.update({"PAHT_VAR_DIR": str(work / "var"), "PAHT_ENV": "dev", "PAHT_CLOCK": "controlled"})
        from paht import clock
        from paht.clock import ControlledClock
        from paht.rules import get_pack, load_pack
        from paht.rules.replay import issued_periodic, print_summary, replay, report_fields, stored, written
        from paht.storage import open_read_only
        from paht.worktime import calendar_for
        controlled = ControlledClock(work / "var" / "clock.json")
        now = controlled.start_at(datetime.now(UTC).replace(microsecond=0))
        clock.set_clock(controlled)
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} cores before the bench (other work shares the cores)")
        print(f"seeding {args.reports:,} reports of {args.pack} (bench/portal.py's lives, the services' deciders) …",
              flush=True)
        deadlines, months, took = seed(args.pack, args.reports, now)
        print(f"  {args.reports:,} reports, {deadlines:,} deadlines, {months} monthly reports in {took:.0f} s")
        new_dir = changed_copy(args.pack, work / "new", args.process)
        old_pack, new_pack = get_pack(args.pack), load_pack(new_dir)
        took = time.perf_counter()
        before = digest(work / "var" / "db")
        print(f"  the stores' contents hashed in {time.perf_counter() - took:.1f} s (to tell they did not change)",
              flush=True)
        tz = calendar_for(old_pack.meta).tz
        since = datetime.combine((now - timedelta(days=400)).astimezone(tz).date(), datetime.min.time(), tz)
        started, cpu = time.perf_counter(), time.process_time()
        intake_db, sla_db, rating_db = open_read_only("intake"), open_read_only("sla"), open_read_only("rating")
        reports, by_report = stored(intake_db, sla_db, args.pack, since, now, report_fields(old_pack, new_pack))
        issued = issued_periodic(rating_db, args.pack)
        read = time.perf_counter() - started
        result = replay(old_pack, new_pack, reports, lambda rid: by_report.get(rid, []), since, now, issued)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        out = work / "replay.xlsx"
        out.write_bytes(written(result, out))
        print(f"changes: process_time 6 wd → {args.process} wd; lighting_power led by dien-luc (co chieu-sang); "
              "report_satisfied_min 0.7 → 0.8")
        print_summary(result, args.pack, str(new_dir), since, now, seconds, limit=12)
        rate, cpu_rate = result.reports / seconds, result.reports / cpu
        print(f"read {read:.2f} s of {seconds:.2f} s; {rate:,.0f} reports/s (target ≥ {TARGET:,.0f}: "
              f"{'met' if rate >= TARGET else 'NOT MET'}); {cpu_rate:,.0f} reports per CPU second of this process "
              f"({cpu:.2f} s: what a core to itself would give); load average now {os.getloadavg()[0]:.1f}; "
              f"XLSX {out.stat().st_size:,} bytes")
        intake_db.close(), sla_db.close(), rating_db.close()
        unchanged = digest(work / "var" / "db") == before
        print(f"stores unchanged: {unchanged}")
        return 0 if unchanged and result.differences else 1


if __name__ == "__main__":
    sys.exit(main())
