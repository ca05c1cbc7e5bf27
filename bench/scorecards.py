"""One pack with N reports (default 100,000) and their deadlines over a year in the embedded stores: the time and
memory to make one month's scorecards (intake's timeline counters, the sla service's missed deadlines, the pack's
penalty rules) and its XLSX, as the rating service does when a monthly report falls due.

    python bench/scorecards.py [--n 100000] [--period 2026-06]
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paht import periods, storage  # noqa: E402
from paht.rules import get_pack  # noqa: E402
from paht.worktime import calendar_for  # noqa: E402
from services.intake.accountability import agency_counters, relevant_query  # noqa: E402
from services.intake.dependencies import ReportStore  # noqa: E402
from services.rating.periodic import cutoff, to_xlsx  # noqa: E402
from services.rating.scorecards import province_scorecards  # noqa: E402
from services.sla.deadlines import agency_lateness  # noqa: E402
from services.sla.dependencies import DeadlineStore  # noqa: E402

PACK = "thua-thien-hue-2022"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def entry(at, kind, to, frm, actor=None, detail=None, event_id=None):
    return {"at": at, "kind": kind, "source": "bench", "from": frm, "to": to, "actor": actor or {},
            "detail": detail or {}, "event_id": event_id}


def generate(n: int, agencies: list[str], year: int, rng: random.Random):
    """Reports spread over the year, most published within days; some returned, extended, reworked, late."""
    year_start = datetime(year, 1, 1, tzinfo=VN)
    for i in range(n):
        submitted = year_start + timedelta(seconds=rng.randrange(365 * 86400))
        lead = rng.choice(agencies)
        rid = f"PA-{i:06d}"
        at = submitted + timedelta(minutes=5)
        timeline = [entry(submitted, "submitted", "submitted", None), entry(at, "verified", "accepted", "submitted"),
                    entry(at, "routed", "dispatched", "accepted", detail={"lead": lead})]
        deadlines = []
        roll = rng.random()
        if roll < 0.03:
            other = rng.choice(agencies)
            timeline.append(entry(at + timedelta(hours=2), "returned", "accepted", "dispatched",
                                  {"agency": lead}, {"suggested_agency": other}))
            deadlines.append({"_id": f"{rid}:return", "report_id": rid, "pack": PACK, "step": "return",
                              "agency": lead, "status": "missed", "missed_at": at + timedelta(hours=2),
                              "due": at + timedelta(hours=1), "active": False})
            lead = other
            at += timedelta(hours=3)
            timeline.append(entry(at, "routed", "dispatched", "accepted", detail={"lead": lead}))
        ack = at + timedelta(minutes=rng.randrange(10, 120))
        timeline.append(entry(ack, "acknowledged", "in_progress", "dispatched", {"agency": lead}))
        took = timedelta(hours=rng.choice([4, 20, 50, 100, 200]))
        late = took > timedelta(hours=150)
        if rng.random() < 0.05:
            timeline.append(entry(ack + timedelta(hours=30), "extended", None, "in_progress", {"agency": lead}))
        done = ack + took
        if rng.random() < 0.1:
            timeline.append(entry(ack + timedelta(hours=1), "interaction", "in_progress", "in_progress",
                                  {"role": "reporter"}, {"message": "?"}, f"i-{rid}"))
        timeline.append(entry(done, "result_submitted", "result_submitted", "in_progress", {"agency": lead}))
        timeline.append(entry(done + timedelta(hours=2), "approved", "approved", "result_submitted",
                              {"agency": lead}))
        if rng.random() < 0.04:
            timeline.append(entry(done + timedelta(hours=3), "rework_requested", "in_progress", "approved",
                                  {"role": "operator"}, {"kind": "content"}))
        published = done + timedelta(hours=4)
        timeline.append(entry(published, "published", "published", "approved", {"role": "operator"}))
        report = {"_id": rid, "pack": PACK, "state": "published", "submitted_at": submitted,
                  "updated_at": published, "timeline": timeline, "assigned_agencies": [{"id": lead, "role": "lead"}]}
        if rng.random() < 0.3:
            report["rating"] = {"level": "x", "counts_as": rng.choice(["satisfied", "accepted", "unsatisfied"]),
                                "agency": lead, "at": (published + timedelta(days=1)).isoformat()}
        deadlines.append({"_id": f"{rid}:process", "report_id": rid, "pack": PACK, "step": "process", "agency": lead,
                          "status": "missed" if late else "closed", "due": ack + timedelta(hours=150),
                          "missed_at": ack + timedelta(hours=150) if late else None, "closed_at": done,
                          "active": False, "extended": False})
        yield report, deadlines


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--period", default="2026-06")
    args = parser.parse_args()
    pack = get_pack(PACK)
    agencies = sorted(pack.agencies)
    with tempfile.TemporaryDirectory() as tmp:
        intake = ReportStore(storage.open_database("intake", f"embedded://{tmp}"))
        sla = DeadlineStore(storage.open_database("sla", f"embedded://{tmp}"))
        started = time.perf_counter()
        rng = random.Random(7)
        batch_reports, batch_deadlines = [], []
        for report, deadlines in generate(args.n, agencies, 2026, rng):
            batch_reports.append(report)
            batch_deadlines.extend(deadlines)
            if len(batch_reports) == 5000:
                intake.reports.insert_many(batch_reports)
                sla.deadlines.insert_many(batch_deadlines)
                batch_reports, batch_deadlines = [], []
        if batch_reports:
            intake.reports.insert_many(batch_reports)
            sla.deadlines.insert_many(batch_deadlines)
        print(f"stored {args.n} reports and their deadlines in {time.perf_counter() - started:.1f} s "
              f"(peak RSS {peak_mb():.0f} MB)")

        before = peak_mb()
        started = time.perf_counter()
        period = periods.parse(args.period, "Asia/Ho_Chi_Minh", cutoff(pack))
        calendar = calendar_for(pack.meta)
        limit = pack.parameters.get("late_report_limit")
        reached = (lambda at: calendar.add(at, limit["amount"], limit["unit"])) if limit else None
        reports = intake.accountable(relevant_query(PACK, period.start, period.end))
        cards = agency_counters(reports, {}, {}, period.start, period.end, period.end, reached)
        counted = time.perf_counter()
        lateness, late = agency_lateness(sla.ended_between(PACK, period.start, period.end), period.start, period.end)
        content = province_scorecards(pack, period, cards, {"agencies": lateness, "late": late}, period.end)
        scored = time.perf_counter()
        xlsx = to_xlsx(content)
        done = time.perf_counter()
        print(f"monthly scorecard {args.period} ({period.start:%d/%m}–{period.end:%d/%m}): {len(reports)} reports read, "
              f"{len(content['agencies'])} agencies, {len(late)} late steps")
        print(f"  timeline counters {counted - started:.2f} s, deadlines + penalty rules {scored - counted:.2f} s, "
              f"XLSX {done - scored:.2f} s ({len(xlsx) // 1024} KB): total {done - started:.2f} s")
        print(f"  peak RSS {peak_mb():.0f} MB (before the scorecard {before:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
