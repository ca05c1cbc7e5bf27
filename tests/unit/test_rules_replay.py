"""`paht rules replay` (issue 24 item 4): the differ on its own, then a handful of reports kept by intake's and the
sla service's stores, replayed under a copy of the pack whose processing deadline and street-lighting route
changed — the differences exactly, and the stores as they were."""
from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from paht.rules import get_pack, load_pack
from paht.rules.cli import main as rules_main
from paht.rules.replay import KIND_NAMES, Replayer, replay
from paht.worktime import calendar_for

ROOT = Path(__file__).resolve().parents[2]
PACK = "thua-thien-hue-2022"
UTC = timezone.utc
# Monday 2 March 2026, 09:00 in Huế: no holiday near it
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def changed_copy(into: Path) -> Path:
    """The pack with processing in 5 working days instead of 6 and street lighting led by the power company."""
    shutil.copytree(ROOT / "rules" / PACK, into / PACK)
    shutil.copy(ROOT / "rules" / "categories.yaml", into / "categories.yaml")
    for name, text, replacement in (
            ("pack.yaml", "process_time: {amount: 6, unit: wd,", "process_time: {amount: 5, unit: wd,"),
            ("routing.yaml", "lead: chieu-sang, co: [dien-luc]", "lead: dien-luc, co: [chieu-sang]")):
        path = into / PACK / name
        assert path.read_text(encoding="utf-8").count(text) == 1, f"{name} changed: update the test's edit"
        path.write_text(path.read_text(encoding="utf-8").replace(text, replacement), encoding="utf-8")
    return into / PACK


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    return get_pack(PACK), load_pack(changed_copy(tmp_path_factory.mktemp("new")))


def routed(pack, report_id: str, category: str, ward_code: str = "19753") -> dict:
    """A report as intake keeps it once verification accepted it and routing routed it (routing's own decision)."""
    from services.routing.route import routing_decision, routing_facts
    report = {"id": report_id, "_id": report_id, "pack": PACK, "state": "accepted", "category": category,
              "urgent": False, "ward": {"code": ward_code}, "route": {}, "submitted_at": MONDAY,
              "facts": {"inside_province": True, "category": category}}
    decision = routing_decision(report, pack, pack.evaluate("routing", routing_facts(report)), f"ev-{report_id}",
                                MONDAY)
    report.update(decision.patch, state="in_progress")
    return report


def process_deadline(pack, report: dict, closed_after: timedelta | None) -> dict:
    """The sla service's processing deadline (its own new_deadline), closed `closed_after` its start."""
    from services.sla.deadlines import new_deadline
    deadline = new_deadline(pack, report, "process", MONDAY, f"ack-{report['id']}")
    if closed_after is not None:
        deadline.update(status="closed", active=False, closed_at=MONDAY + closed_after)
    return deadline


# ---- the differ -------------------------------------------------------------------------------------------------
def test_an_unchanged_pack_differs_in_nothing(packs):
    old, _ = packs
    report = routed(old, "PA-1", "lighting_power")
    result = replay(old, old, [report], lambda _: [process_deadline(old, report, timedelta(hours=3))], SINCE, UNTIL)
    assert (result.reports, result.deadlines, result.differences, result.scorecards) == (1, 1, [], [])


def test_a_changed_route_moves_the_report_and_its_lateness(packs):
    old, new = packs
    report = routed(old, "PA-2", "lighting_power")
    assert [a["id"] for a in report["assigned_agencies"]] == ["chieu-sang", "dien-luc"]
    result = replay(old, new, [report], lambda _: [process_deadline(old, report, timedelta(hours=3))], SINCE, UNTIL)
    assert [(d.kind, d.item, d.old, d.new, d.old_rule, d.new_rule) for d in result.differences
            if d.kind == "route"] == [("route", "cơ quan chủ trì + phối hợp", "chieu-sang + dien-luc",
                                       "dien-luc + chieu-sang", "tth-route-lighting", "tth-route-lighting")]
    assert sorted(result.scorecards) == [
        ["chieu-sang", old.agencies["chieu-sang"]["name"], "Tiếp nhận (chủ trì)", 1, 0],
        ["chieu-sang", old.agencies["chieu-sang"]["name"], "Xử lý đúng hạn", 1, 0],
        ["dien-luc", old.agencies["dien-luc"]["name"], "Tiếp nhận (chủ trì)", 0, 1],
        ["dien-luc", old.agencies["dien-luc"]["name"], "Xử lý đúng hạn", 0, 1]]


def test_a_shorter_deadline_is_due_earlier_and_late_when_the_step_ended_between(packs):
    old, new = packs
    calendar = calendar_for(old.meta)
    report = routed(old, "PA-3", "roads_traffic")
    six, five = calendar.add(MONDAY, 6, "wd"), calendar.add(MONDAY, 5, "wd")
    deadline = process_deadline(old, report, (five - MONDAY) + timedelta(hours=1))
    assert deadline["due"] == six
    result = replay(old, new, [report], lambda _: [deadline], SINCE, UNTIL)
    tz = calendar.tz
    assert [(d.report_id, d.kind, d.item, d.old, d.new, d.new_rule, d.article) for d in result.differences] == [
        ("PA-3", "due", "process", six.astimezone(tz).isoformat(timespec="minutes"),
         five.astimezone(tz).isoformat(timespec="minutes"), "tth-sla-process", "Điều 11 khoản 2"),
        ("PA-3", "late", "process", "đúng hạn", "trễ hạn", "tth-sla-process", "Điều 11 khoản 2"),
        ("", "scorecard", "so-xay-dung: Trễ hạn", "0", "1", None, None),
        ("", "scorecard", "so-xay-dung: Xử lý đúng hạn", "1", "0", None, None)]


def test_an_open_deadline_is_late_under_the_new_pack_once_its_new_due_passed(packs):
    old, new = packs
    calendar = calendar_for(old.meta)
    report = routed(old, "PA-4", "roads_traffic")
    deadline = process_deadline(old, report, None)
    until = calendar.add(MONDAY, 5, "wd") + timedelta(minutes=30)   # after the new due, before the old one
    result = replay(old, new, [report], lambda _: [deadline], SINCE, until)
    assert [(d.kind, d.old, d.new) for d in result.differences if d.kind == "late"] == [("late", "đúng hạn", "trễ hạn")]


def test_a_stage_whose_rules_did_not_change_is_not_decided_again(packs):
    old, new = packs
    assert Replayer(old, new, SINCE, UNTIL).changed == {"routing"}


# ---- the penalties of the periodic reports ------------------------------------------------------------------------
def issued_month(agency: str, **counters) -> dict:
    """March 2026's monthly report as the rating service stores it: the agency's card as issued."""
    from paht.scorecards import EMPTY
    return {"kind": "month", "period": "2026-03", "start": SINCE, "end": UNTIL,
            "content": {"agencies": [{"agency": agency, "counters": dict(EMPTY, **counters)}]}}


def test_a_penalty_threshold_changed_reports_the_agency_it_now_catches(packs, tmp_path):
    old, _ = packs
    folder = changed_copy(tmp_path)
    text = "report_satisfied_min: {value: 0.7,"
    pack_yaml = (folder / "pack.yaml").read_text(encoding="utf-8")
    assert pack_yaml.count(text) == 1
    (folder / "pack.yaml").write_text(pack_yaml.replace(text, "report_satisfied_min: {value: 0.8,"), encoding="utf-8")
    stricter = load_pack(folder)
    satisfied_75 = issued_month("so-xay-dung", rated_count=4, rated_by={"satisfied": 3, "unsatisfied": 1})
    satisfied_90 = issued_month("chieu-sang", rated_count=10, rated_by={"satisfied": 9, "unsatisfied": 1})
    result = replay(old, stricter, [], lambda _: [], SINCE, UNTIL, [satisfied_75, satisfied_90])
    assert result.periods == 2
    assert [(d.kind, d.item, d.old, d.new, d.old_rule, d.new_rule, d.article) for d in result.differences] == [
        ("penalty", f"2026-03 · {old.agencies['so-xay-dung']['name']}: báo cáo UBND tỉnh", "không", "có", None,
         "tth-pen-report-satisfaction", "Điều 14 khoản 2")]


def test_a_counter_the_new_deadline_moves_changes_the_findings_of_its_period(packs):
    old, new = packs
    calendar = calendar_for(old.meta)
    report = routed(old, "PA-X", "roads_traffic")
    five = calendar.add(MONDAY, 5, "wd")
    deadline = dict(process_deadline(old, report, (five - MONDAY) + timedelta(hours=1)), extended=True)
    march = issued_month("so-xay-dung", received=1, on_time=1)
    april = dict(issued_month("so-xay-dung", received=1, on_time=1), period="2026-04", start=UNTIL,
                 end=datetime(2026, 5, 1, tzinfo=UTC))   # outside the replayed period: not judged
    result = replay(old, new, [report], lambda _: [deadline], SINCE, UNTIL, [march, april])
    assert result.periods == 1
    assert [(d.kind, d.item, d.old, d.new, d.new_rule) for d in result.differences if d.kind == "penalty"] == [
        ("penalty", f"2026-03 · {old.agencies['so-xay-dung']['name']}: báo cáo UBND tỉnh", "không", "có",
         "tth-pen-report-extended")]
    assert ["so-xay-dung", old.agencies["so-xay-dung"]["name"], "Gia hạn không có kết quả", 0, 1] in result.scorecards


# ---- through the stores and the command ---------------------------------------------------------------------------
def contents(db_dir: Path) -> str:
    """Every stored document, read by SQLite itself."""
    hashed = hashlib.sha256()
    for path in sorted(db_dir.glob("*.sqlite3")):
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
                hashed.update(repr(conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()).encode())
    return hashed.hexdigest()


def test_replay_reads_the_stores_and_writes_the_differences(packs, tmp_path, monkeypatch, capsys):
    from openpyxl import load_workbook

    from paht.storage import open_database
    from services.intake.dependencies import ReportStore
    from services.sla.dependencies import DeadlineStore
    old, new = packs
    calendar = calendar_for(old.meta)
    five = calendar.add(MONDAY, 5, "wd")
    uri = f"embedded://{tmp_path / 'db'}"
    monkeypatch.setenv("MONGO_URI", uri)
    intake, sla = ReportStore(open_database("intake", uri)), DeadlineStore(open_database("sla", uri))
    lighting, roads, early = (routed(old, "PA-L", "lighting_power"), routed(old, "PA-R", "roads_traffic"),
                              routed(old, "PA-E", "roads_traffic"))
    early["submitted_at"] = SINCE - timedelta(days=3)   # before the period: not replayed
    for report, closed_after in ((lighting, timedelta(hours=3)), (roads, (five - MONDAY) + timedelta(hours=1)),
                                 (early, (five - MONDAY) + timedelta(hours=1))):
        intake.reports.insert_one({k: v for k, v in report.items() if k != "id"})
        sla.deadlines.insert_one(process_deadline(old, report, closed_after))
    open_database("rating", uri)["periodic_reports"].insert_one(
        dict(issued_month("so-xay-dung", received=2, on_time=2), _id="thua-thien-hue-2022:monthly:2026-03",
             pack=PACK, start=datetime(2026, 3, 1, tzinfo=calendar.tz), end=datetime(2026, 4, 1, tzinfo=calendar.tz)))
    before = contents(tmp_path / "db")
    out = tmp_path / "replay.xlsx"
    code = rules_main(["replay", PACK, "--with", str(new.path), "--since", "2026-03-01", "--until", "2026-04-01",
                       "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "2 reports" in printed and "route) 1, Thời hạn (due) 2, Trễ hạn (late) 1, Bảng đánh giá (scorecard) 6" in printed
    assert "penalty findings decided again on 1 stored periodic report(s)" in printed
    sheet = load_workbook(out)["Khác biệt"]
    rows = [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    tz = calendar.tz
    due = ("process", calendar.add(MONDAY, 6, "wd").astimezone(tz).isoformat(timespec="minutes"),
           five.astimezone(tz).isoformat(timespec="minutes"), "tth-sla-process", "tth-sla-process", "Điều 11 khoản 2")
    assert rows == [
        ("PA-L", KIND_NAMES["route"], "cơ quan chủ trì + phối hợp", "chieu-sang + dien-luc", "dien-luc + chieu-sang",
         "tth-route-lighting", "tth-route-lighting", "Điều 10 khoản 3"),
        ("PA-L", KIND_NAMES["due"], *due),
        ("PA-R", KIND_NAMES["due"], *due),
        ("PA-R", KIND_NAMES["late"], "process", "đúng hạn", "trễ hạn", "tth-sla-process", "tth-sla-process",
         "Điều 11 khoản 2")]
    cards = [tuple(row) for row in load_workbook(out)["Bảng đánh giá"].iter_rows(min_row=2, values_only=True)]
    assert [(agency, counter, a, b) for agency, _, counter, a, b in cards] == [
        ("chieu-sang", "Tiếp nhận (chủ trì)", 1, 0), ("chieu-sang", "Xử lý đúng hạn", 1, 0),
        ("dien-luc", "Tiếp nhận (chủ trì)", 0, 1), ("dien-luc", "Xử lý đúng hạn", 0, 1),
        ("so-xay-dung", "Trễ hạn", 0, 1), ("so-xay-dung", "Xử lý đúng hạn", 1, 0)]
    csv = tmp_path / "replay.csv"
    assert rules_main(["replay", PACK, "--with", str(new.path), "--since", "2026-03-01", "--until", "2026-04-01",
                       "--out", str(csv)]) == 0
    assert csv.read_text(encoding="utf-8-sig").count("\n") == 1 + 4 + 6
    assert contents(tmp_path / "db") == before


def test_replay_refuses_a_broken_new_pack_without_a_traceback(tmp_path, capsys):
    broken = changed_copy(tmp_path)
    (broken / "sla.yaml").write_text("stage: sla\nrules: [\n", encoding="utf-8")
    assert rules_main(["replay", PACK, "--with", str(broken), "--since", "2026-03-01"]) == 1
    assert f"{broken / 'sla.yaml'}:3: YAML error" in capsys.readouterr().out
