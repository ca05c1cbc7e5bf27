"""`paht rules replay PACK --with NEW_DIR --since DATE [--until DATE] [--out FILE.xlsx|.csv]`: what a changed pack
would have decided of the reports already stored, without changing anything.

Each report of the period (submitted in [since, until), in the pack's time zone) is decided again under both packs
on the facts the services stored: acceptance on the facts verification measured (the report's `facts`), routing
on paht.route_facts, each deadline the sla service opened on paht.sla_facts from the instant its clock started,
its lateness from when its step ended (or `until`), and the agencies' scorecard counters that follow (received,
late, processed in time, late returns, extensions without a result). Then the penalties: each periodic report the
rating service made of the pack for a period inside [since, until) is decided again — its agencies' cards as
issued, with those counters moved by what the new pack decided differently in that period, and the rates with
them, under each pack's penalty rules — and a finding one pack makes and the other does not is a difference
(periods with no stored periodic report are not judged: their cards would need the whole accountability walk).
Deciding both packs on the same facts means a difference is the change's, not the replay's reading of history. A
deadline whose stored rule the facts read now no longer select (the report changed since: urgent, forwarded, a
rework's kind) is decided by the new pack's rule of the same id.

It lives in the kernel: every decision it makes is the pack's (paht.rules) on facts read by the kernel's own
functions, which the services read too; paht/ imports no service.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from paht.route_facts import routing_facts
from paht.schemas import lead_agency
from paht.scorecards import AGENCY_FINDINGS, EMPTY, agency_findings, with_rates
from paht.sla_facts import sla_facts
from paht.worktime import calendar_for

from .steps import centre_agency, party_of

KIND_NAMES = {"acceptance": "Tiếp nhận", "route": "Chuyển xử lý", "due": "Thời hạn", "late": "Trễ hạn",
              "scorecard": "Bảng đánh giá", "penalty": "Kết luận đánh giá"}
FINDING_NAMES = {"report_to_province": "báo cáo UBND tỉnh", "not_eligible_excellent": "không xét Hoàn thành xuất sắc"}
COLUMNS = ["Mã phản ánh", "Loại", "Mục", "Gói hiện hành", "Gói mới", "Quy tắc hiện hành", "Quy tắc mới",
           "Điều khoản (mới)"]
SCORECARD_COLUMNS = ["Mã đơn vị", "Tên đơn vị", "Chỉ số", "Gói hiện hành", "Gói mới"]
COUNTERS = {"received": "Tiếp nhận (chủ trì)", "late_count": "Trễ hạn", "on_time": "Xử lý đúng hạn",
            "late_returns_count": "Trả lại quá hạn", "extended_without_result": "Gia hạn không có kết quả"}
BATCH = 500
DEADLINE_FIELDS = ("report_id", "step", "subject", "role", "agency", "status", "rule", "amount", "unit", "on_miss",
                   "starts_at", "due", "closed_at", "missed_at", "extended")
# what a report keeps that the replay reads (the embedded store reads just these fields): sla's facts always,
# verification's (acceptance; routing reads inside_province) and the ward when acceptance or routing changed
REPORT_FIELDS = ("route", "category", "urgent", "assigned_agencies", "sanction_procedure", "submitted_at")
DECIDED_FIELDS = ("facts", "ward")


@dataclass
class Difference:
    report_id: str
    kind: str        # acceptance | route | due | late | scorecard | penalty
    item: str
    old: str
    new: str
    old_rule: str | None = None
    new_rule: str | None = None
    article: str | None = None

    def row(self) -> list:
        return [self.report_id, KIND_NAMES[self.kind], self.item, self.old, self.new, self.old_rule or "",
                self.new_rule or "", self.article or ""]


@dataclass
class Replay:
    reports: int = 0
    deadlines: int = 0
    differences: list[Difference] = field(default_factory=list)
    scorecards: list[list] = field(default_factory=list)
    periods: int = 0          # stored periodic reports whose penalty findings were decided again

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(KIND_NAMES, 0)
        for difference in self.differences:
            counts[difference.kind] += 1
        return counts


class Decider:
    """A pack's decisions, memoised on the facts (a pack decides the same facts the same way)."""

    def __init__(self, pack):
        self.pack, self.calendar, self._cache = pack, calendar_for(pack.meta), {}

    def hours(self, agency: str | None):
        """An agency's own office hours (agencies.yaml), None when it keeps the pack's."""
        return (self.pack.agencies.get(agency) or {}).get("office_hours") if agency else None

    def signature(self, stage: str) -> str:
        """What a stage's decisions depend on besides the facts: its rules (conditions with their parameters'
        values, actions, articles) and, for routing, the agencies a route may name."""
        rules = [(r["id"], r["condition"], r["then"], r["article"], r.get("message")) for r in
                 self.pack.stages.get(stage, [])]
        return json.dumps([rules, sorted(self.pack.agencies) if stage == "routing" else None], sort_keys=True,
                          default=str)

    def __call__(self, stage: str, facts: dict) -> dict:
        try:   # routing's and sla's facts are scalars; acceptance's hold lists
            key = (stage, *sorted(facts.items()))
            hash(key)
        except TypeError:
            key = (stage, json.dumps(facts, sort_keys=True, default=str))
        answer = self._cache.get(key)
        if answer is None:
            answer = self._cache[key] = self.pack.evaluate(stage, facts)
        return answer


def _text(value, tz=None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).isoformat(timespec="minutes")
    return str(value)


def _route_text(decided: dict) -> str:
    if decided.get("decision") != "route":
        return "chưa xác định (unresolved)"
    co = f" + {', '.join(decided['co'])}" if decided.get("co") else ""
    return f"{decided['lead']}{co}{' (ngay)' if decided.get('immediate') else ''}"


class Replayer:
    def __init__(self, old_pack, new_pack, since: datetime, until: datetime):
        self.old, self.new = Decider(old_pack), Decider(new_pack)
        self.since, self.until = since, until
        self.same_calendar = old_pack.meta.get("calendar") == new_pack.meta.get("calendar") and \
            old_pack.meta.get("office_hours") == new_pack.meta.get("office_hours")
        self.cards = {"old": {}, "new": {}}
        # each counted thing with its moment (agency, counter, at), for the periodic reports' periods
        self.counted: dict[str, list[tuple]] = {"old": [], "new": []}
        # a stage whose rules did not change decides every report as before: not decided again
        self.changed = {stage for stage in ("acceptance", "routing")
                        if self.old.signature(stage) != self.new.signature(stage)}
        self.tz = self.old.calendar.tz
        self.result = Replay()

    # ---- one report ------------------------------------------------------------------------------------------
    def report(self, report: dict, deadlines: list[dict]) -> None:
        self.result.reports += 1
        rid = report["_id"]
        out = self.result.differences
        facts = report.get("facts")
        if facts and "acceptance" in self.changed:
            old, new = self.old("acceptance", facts), self.new("acceptance", facts)
            if old["decision"] != new["decision"]:
                out.append(Difference(rid, "acceptance", "quyết định", old["decision"], new["decision"],
                                      ", ".join(old["fired"]) or None, ", ".join(new["fired"]) or None,
                                      "; ".join(r["article"] for r in new["reasons"]) or None))
                if new["decision"] != "accepted":
                    self.count_received(rid, report, None, None)
                    return   # not accepted under the new pack: neither routed nor timed
        old_lead = new_lead = lead_agency(report)
        if report.get("route") and "routing" in self.changed:
            rfacts = routing_facts(report)
            old, new = self.old("routing", rfacts), self.new("routing", rfacts)
            if _route_text(old) != _route_text(new):
                out.append(Difference(rid, "route", "cơ quan chủ trì + phối hợp", _route_text(old), _route_text(new),
                                      old.get("rule"), new.get("rule"), new.get("article")))
                new_lead = new.get("lead") if new.get("decision") == "route" else None
        self.count_received(rid, report, old_lead, new_lead)
        for deadline in deadlines:
            self.deadline(report, deadline, old_lead, new_lead)

    def count_received(self, rid, report, old_lead, new_lead) -> None:
        for side, lead in (("old", old_lead), ("new", new_lead)):
            if lead:
                self.count(side, lead, "received", report.get("submitted_at"))

    def count(self, side: str, agency: str, counter: str, at: datetime | None) -> None:
        self.cards[side].setdefault(agency, dict.fromkeys(COUNTERS, 0))[counter] += 1
        if at is not None:
            self.counted[side].append((agency, counter, at))

    # ---- one deadline ----------------------------------------------------------------------------------------
    def new_rule(self, report: dict, deadline: dict) -> tuple[dict | None, dict | None]:
        """(the old pack's decision, the new pack's) of the deadline's step."""
        facts = sla_facts(report, deadline["step"])
        old, new = self.old("sla", facts), self.new("sla", facts)
        if old.get("rule") == deadline.get("rule"):
            return old, new
        try:   # the report changed since the deadline opened: the new pack's rule of the stored one's id
            rule = self.new.pack.rule(deadline["rule"])
        except KeyError:
            return old, {"decision": None}
        then = rule["then"]
        stored = {"decision": "set_deadline", "amount": deadline["amount"], "unit": deadline["unit"],
                  "rule": deadline["rule"], "article": deadline.get("article")}
        if then["action"] != "set_deadline":
            return stored, {"decision": then["action"], "rule": rule["id"], "article": rule["article"]}
        return stored, {"decision": "set_deadline", "amount": then["amount"], "unit": then["unit"],
                        "rule": rule["id"], "article": rule["article"], "on_miss": then.get("on_miss")}

    def deadline(self, report: dict, deadline: dict, old_lead, new_lead) -> None:
        self.result.deadlines += 1
        rid, out = report["_id"], self.result.differences
        step = deadline["step"] + (f" ({deadline['subject']})" if deadline.get("subject") else "")
        old, new = self.new_rule(report, deadline)
        start = deadline["starts_at"]
        old_due = deadline["due"]
        old_agency, new_agency = deadline.get("agency"), self.charged(self.new.pack, deadline, old_lead, new_lead)
        if new.get("decision") != "set_deadline":
            new_due = None
        elif (new["amount"], new["unit"]) == (old.get("amount"), old.get("unit")) and self.same_calendar \
                and self.old.hours(old_agency) == self.new.hours(new_agency):
            new_due = old_due
        else:   # in the working time of whoever must act (an agency with office hours of its own keeps them)
            new_due = calendar_for(self.new.pack.meta, self.new.pack.agencies.get(new_agency) if new_agency else None
                                   ).add(start, new["amount"], new["unit"])
        if new_due != old_due:
            out.append(Difference(rid, "due", step, _text(old_due, self.tz), _text(new_due, self.tz), old.get("rule"),
                                  new.get("rule"), new.get("article")))
        ended = deadline.get("closed_at") or (deadline.get("missed_at") if deadline.get("role") == "judged" else None)
        done = ended or self.until
        old_late = deadline.get("status") == "missed" or (ended is None and old_due < self.until)
        new_late = new_due is not None and done > new_due
        if old_late != new_late:
            out.append(Difference(rid, "late", step, "trễ hạn" if old_late else "đúng hạn",
                                  "trễ hạn" if new_late else "đúng hạn", old.get("rule"), new.get("rule"),
                                  new.get("article")))
        if (deadline.get("on_miss") or {}).get("action", "flag_late") != "flag_late":
            return   # a timeout that rejects the report is no agency's lateness
        for side, late, due, lead, pack in (("old", old_late, old_due, old_lead, self.old.pack),
                                            ("new", new_late, new_due, new_lead, self.new.pack)):
            agency = self.charged(pack, deadline, old_lead, lead)
            if agency is None:
                continue
            missed_at = (deadline.get("missed_at") if side == "old" else None) or due
            if late and missed_at is not None and self.since <= missed_at < self.until:
                self.count(side, agency, "late_count", missed_at)     # as the sla service counts (agency_lateness)
                if deadline["step"] == "return":
                    self.count(side, agency, "late_returns_count", missed_at)
                elif deadline["step"] == "process" and deadline.get("extended"):
                    self.count(side, agency, "extended_without_result", missed_at)
            elif not late and deadline["step"] == "process" and ended is not None and self.since <= ended < self.until:
                self.count(side, agency, "on_time", ended)

    @staticmethod
    def charged(pack, deadline: dict, old_lead, lead) -> str | None:
        """Who a deadline's lateness counts against under `pack` (services/sla charged_to): the centre's steps the
        centre, the lead's steps the lead the pack routes to."""
        party = party_of(deadline["step"])
        if party == "centre":
            return centre_agency(pack.agencies)
        if party != "agency":
            return None
        agency = deadline.get("agency")
        return lead if agency == old_lead else agency

    # ---- the scorecards --------------------------------------------------------------------------------------
    def finish(self) -> Replay:
        names = {**self.old.pack.agencies, **self.new.pack.agencies}
        for agency in sorted(set(self.cards["old"]) | set(self.cards["new"])):
            old = self.cards["old"].get(agency) or dict.fromkeys(COUNTERS, 0)
            new = self.cards["new"].get(agency) or dict.fromkeys(COUNTERS, 0)
            for counter, label in COUNTERS.items():
                if old[counter] != new[counter]:
                    name = (names.get(agency) or {}).get("name", agency)
                    self.result.scorecards.append([agency, name, label, old[counter], new[counter]])
                    self.result.differences.append(Difference("", "scorecard", f"{agency}: {label}",
                                                              str(old[counter]), str(new[counter])))
        return self.result

    # ---- the penalties of the periodic reports -----------------------------------------------------------------
    def periodic(self, issued: dict) -> None:
        """One stored periodic report (rating's `periodic_reports`: kind, period, start, end and the content it
        was issued with) decided again, when its period lies inside the replay's."""
        start, end = issued["start"], issued["end"]
        if not (self.since <= start and end <= self.until):
            return
        self.result.periods += 1
        moved: dict[str, dict[str, int]] = {}
        for side, sign in (("old", -1), ("new", 1)):
            for agency, counter, at in self.counted[side]:
                if start <= at < end:
                    into = moved.setdefault(agency, {})
                    into[counter] = into.get(counter, 0) + sign
        cards = {entry["agency"]: entry["counters"] for entry in issued["content"].get("agencies") or []}
        names = {**self.old.pack.agencies, **self.new.pack.agencies}
        for agency in sorted(set(cards) | set(moved)):
            issued_card = dict(EMPTY, **cards.get(agency, {}))
            new_card = dict(issued_card, **{counter: issued_card[counter] + delta
                                            for counter, delta in (moved.get(agency) or {}).items()})
            old = agency_findings(self.old.pack, with_rates(issued_card, self.old.pack.rating_levels()),
                                  issued["kind"])
            new = agency_findings(self.new.pack, with_rates(new_card, self.new.pack.rating_levels()), issued["kind"])
            for action in AGENCY_FINDINGS:
                before = {found["rule"]: found for found in old[action]}
                after = {found["rule"]: found for found in new[action]}
                for rule in sorted(set(before) ^ set(after)):
                    found = after.get(rule) or before[rule]
                    name = (names.get(agency) or {}).get("name", agency)
                    self.result.differences.append(Difference(
                        "", "penalty", f"{issued['period']} · {name}: {FINDING_NAMES[action]}",
                        "có" if rule in before else "không", "có" if rule in after else "không",
                        rule if rule in before else None, rule if rule in after else None, found.get("article")))


def replay(old_pack, new_pack, reports, deadlines_of, since: datetime, until: datetime,
           periodic_reports=()) -> Replay:
    """The differences of deciding `reports` (stored documents) under `new_pack` instead of `old_pack`;
    `deadlines_of(report_id)` the sla service's deadlines of a report; `periodic_reports` the rating service's
    stored periodic reports of the pack, whose penalty findings are decided again."""
    replayer = Replayer(old_pack, new_pack, since, until)
    for report in reports:
        replayer.report(report, deadlines_of(report["_id"]))
    for issued in periodic_reports:
        replayer.periodic(issued)
    return replayer.finish()


# ---- the store ---------------------------------------------------------------------------------------------------
def report_fields(old_pack, new_pack) -> tuple[str, ...]:
    """The fields of a report the replay of these two packs reads."""
    changed = Replayer(old_pack, new_pack, None, None).changed
    return REPORT_FIELDS + (DECIDED_FIELDS if changed else ())


def stored(intake_db, sla_db, pack_id: str, since: datetime, until: datetime,
           fields: tuple[str, ...] = REPORT_FIELDS + DECIDED_FIELDS):
    """(the pack's reports submitted in [since, until), their deadlines by report id), read only."""
    reports = intake_db["reports"].find({"pack": pack_id, "submitted_at": {"$gte": since, "$lt": until}},
                                        dict.fromkeys(fields, 1))
    reports = list(reports)
    deadlines: dict[str, list[dict]] = {}
    if reports and "deadlines" in sla_db.list_collection_names():
        ids = [report["_id"] for report in reports]
        for first in range(0, len(ids), BATCH):   # by the report_id index, a batch of reports at a time
            for deadline in sla_db["deadlines"].find({"report_id": {"$in": ids[first:first + BATCH]}},
                                                     dict.fromkeys(DEADLINE_FIELDS, 1)):
                if deadline.get("status") != "replaced":   # an extension replaced it: its successor counts
                    deadlines.setdefault(deadline["report_id"], []).append(deadline)
    for items in deadlines.values():
        items.sort(key=lambda d: d["starts_at"])
    return reports, deadlines


def issued_periodic(rating_db, pack_id: str) -> list[dict]:
    """The rating service's stored periodic reports of a pack (none when it has not made any), oldest first."""
    if rating_db is None or "periodic_reports" not in rating_db.list_collection_names():
        return []
    return sorted(rating_db["periodic_reports"].find({"pack": pack_id},
                                                     {"kind": 1, "period": 1, "start": 1, "end": 1, "content": 1}),
                  key=lambda doc: (doc["start"], doc["end"]))


# ---- the command -------------------------------------------------------------------------------------------------
def _day(text: str, tz) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tz)
    except ValueError:
        raise SystemExit(f"{text!r}: a date is YYYY-MM-DD") from None


def written(result: Replay, path: Path) -> bytes:
    from paht.tables import as_csv, as_xlsx
    rows = [d.row() for d in result.differences if d.kind != "scorecard"]
    if path.suffix.lower() == ".csv":
        return as_csv(COLUMNS, rows + [["", KIND_NAMES["scorecard"], f"{r[0]}: {r[2]}", r[3], r[4], "", "", ""]
                                       for r in result.scorecards])
    return as_xlsx(COLUMNS, rows, "Khác biệt", [("Bảng đánh giá", SCORECARD_COLUMNS, result.scorecards)])


def main(args: argparse.Namespace, load_pack_dir, pack_dir_of) -> int:
    import time as timer

    from paht import clock
    from paht.storage import open_read_only

    from .errors import PackError
    try:
        old_pack, new_pack = load_pack_dir(pack_dir_of(args.pack)), load_pack_dir(Path(args.with_dir))
    except PackError as exc:
        print(f"FAIL {exc}  (paht rules check / paht rules diff say more)")
        return 1
    if new_pack.id != old_pack.id:
        print(f"FAIL {args.with_dir} is pack {new_pack.id}, not {old_pack.id}: a changed copy keeps the pack's id "
              "(and folder name)")
        return 1
    tz = calendar_for(old_pack.meta).tz
    since = _day(args.since, tz)
    until = _day(args.until, tz) if args.until else clock.now()
    if args.out and Path(args.out).suffix.lower() not in (".xlsx", ".csv"):
        print(f"FAIL --out {args.out}: .xlsx or .csv")
        return 2
    try:
        intake_db, sla_db = open_read_only("intake"), open_read_only("sla")
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"FAIL the store: {exc}")
        return 1
    try:
        rating_db = open_read_only("rating")
    except (OSError, sqlite3.Error):   # no rating store yet: no periodic report to judge again
        rating_db = None
    started = timer.perf_counter()
    reports, deadlines = stored(intake_db, sla_db, old_pack.id, since, until, report_fields(old_pack, new_pack))
    result = replay(old_pack, new_pack, reports, lambda rid: deadlines.get(rid, []), since, until,
                    issued_periodic(rating_db, old_pack.id))
    seconds = timer.perf_counter() - started
    print_summary(result, old_pack.id, args.with_dir, since, until, seconds, limit=args.limit)
    if args.out:
        Path(args.out).write_bytes(written(result, Path(args.out)))
        print(f"{args.out}: {len(result.differences)} differences")
    return 0


def print_summary(result: Replay, old: str, new: str, since, until, seconds: float, limit: int = 40,
                  stream=None) -> None:
    stream = stream or sys.stdout
    counts = result.counts()
    rate = result.reports / seconds if seconds else float("inf")
    print(f"{old} → {new}: {result.reports} reports submitted {since:%Y-%m-%d} – {until:%Y-%m-%d %H:%M}, "
          f"{result.deadlines} deadlines, decided again in {seconds:.2f} s ({rate:,.0f} reports/s)", file=stream)
    print("differences: " + ", ".join(f"{KIND_NAMES[k]} ({k}) {n}" for k, n in counts.items()), file=stream)
    print(f"penalty findings decided again on {result.periods} stored periodic report(s) of the period", file=stream)
    shown = result.differences[:limit]
    if shown:
        rows = [(d.report_id or "—", d.kind, d.item, f"{d.old} → {d.new}") for d in shown]
        widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
        for r in rows:
            print("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)), file=stream)
    if len(result.differences) > limit:
        print(f"… {len(result.differences) - limit} more (--out FILE.xlsx|.csv writes them all)", file=stream)
