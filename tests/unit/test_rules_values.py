"""`paht rules check` checks values, not only names; it refuses rules that can never take effect (a step no code
opens, a parameter nothing reads); `paht rules test` measures rule coverage; a holding `warn` waits for the
operator's check (issue 11)."""
from __future__ import annotations

import ast
import io
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pillow_heif
import pytest
import yaml
from PIL import Image

from paht.demo_media import camera_jpeg
from paht.rules import audit, cli, load_pack, rules_root
from paht.rules.cases import COVERAGE_MIN, coverage, run_cases
from paht.rules.vocabulary import (
    CHECK_OUTCOMES,
    CHECKS,
    CODE_PARAMETERS,
    FACT_VALUES,
    FACTS,
    OPENED_STEPS,
    STEPS,
)
from tests.unit.pack_files import HUE, edit, line_of, refused

ROOT = Path(__file__).resolve().parents[2]
VN = timezone(timedelta(hours=7))


# ---- values in `when` -------------------------------------------------------------------------------------------
WHEN_TYPOS = [
    # file, rule id, the text as the pack has it, the typo, what the message says
    ("sla.yaml", "tth-sla-rework", "when: {step: rework}", "when: {step: {in: [rework, re_work]}}", "unknown step 're_work'"),
    ("routing.yaml", "tth-route-local", "{category: {in: [urban_order, admin_procedures, other]}}",
     "{category: {in: [urban_order, admin_procedure, other]}}", "unknown category 'admin_procedure'"),
    ("routing.yaml", "tth-route-designated", 'when: {designated_agency: {ne: ""}}',
     "when: {designated_agency: {ne: so-y-tee}}", "unknown designated_agency 'so-y-tee'"),
    ("acceptance.yaml", "tth-acc-identity-false", 'when: {identity_status: "false"}', "when: {identity_status: false}",
     'identity_status is text, not False (quote it: "false")'),
    ("acceptance.yaml", "tth-acc-out-of-scope", "when: {out_of_scope: true}", "when: {out_of_scope_kind: complain}",
     "unknown out_of_scope_kind 'complain'"),
    ("acceptance.yaml", "tth-acc-no-gps", "when: {has_gps: false}", "when: {channel: zallo}", "unknown channel 'zallo'"),
    ("acceptance.yaml", "tth-acc-no-gps", "when: {has_gps: false}", "when: {has_gps: 0}", "has_gps is true or false"),
    ("acceptance.yaml", "tth-acc-no-gps", "when: {has_gps: false}", "when: {has_gps: {gt: 0}}", "gt compares numbers"),
    ("acceptance.yaml", "tth-acc-no-gps", "when: {has_gps: false}", "when: {gps_distance_m: {gt: far}}",
     "gps_distance_m is a number"),
    ("acceptance.yaml", "tth-acc-no-gps", "when: {has_gps: false}", "when: {has_gps: {exists: 1}}",
     "exists is true or false"),
    ("penalties.yaml", "tth-pen-report-late", "{late_over_limit_count: {gt: 0}}", "{late_over_limit_count: {gt: many}}",
     "late_over_limit_count is a number"),
]


@pytest.mark.parametrize("file,rule_id,old,new,message", WHEN_TYPOS)
def test_a_value_no_report_can_have_is_refused_with_file_line_and_rule(pack_copy, file, rule_id, old, new, message):
    path = pack_copy / file
    edit(path, old, new)
    error = refused(pack_copy)
    assert message in error.message, error
    assert error.rule_id == rule_id and error.file == str(path) and error.line == line_of(path, new)


def test_a_share_is_a_fraction(pack_copy):
    path = pack_copy / "penalties.yaml"
    text = path.read_text(encoding="utf-8")
    old = re.search(r"\{satisfied_rate: \{lt: \$report_satisfied_min\}\}", text).group(0)
    edit(path, old, "{satisfied_rate: {lt: 70}}")
    error = refused(pack_copy)
    assert "satisfied_rate is a share from 0 to 1 (70% is 0.7)" in error.message


def test_a_parameter_is_checked_like_a_literal(pack_copy):
    edit(pack_copy / "pack.yaml", "report_satisfied_min: {value: 0.7,", "report_satisfied_min: {value: 70,")
    error = refused(pack_copy)
    assert "parameter $report_satisfied_min: satisfied_rate is a share" in error.message


# ---- values in `then` -------------------------------------------------------------------------------------------
THEN_TYPOS = [
    ("routing.yaml", "tth-route-health", "then: {action: route, lead: so-y-te}",
     "then: {action: route, lead: so-y-te, reason: DUPLICATE}", "route does not take reason"),
    ("routing.yaml", "tth-route-health", "then: {action: route, lead: so-y-te}",
     "then: {action: route, lead: so-y-te, co: [ward_comittee]}", "unknown agency 'ward_comittee'"),
    ("sla.yaml", "tth-sla-process", "then: {action: set_deadline, deadline: $process_time}",
     'then: {action: set_deadline, amount: "6", unit: wd}', "deadline amount is a positive number"),
    ("sla.yaml", "tth-sla-process", "then: {action: set_deadline, deadline: $process_time}",
     "then: {action: set_deadline, deadline: $excellent_repeat_rate}", "unknown duration parameter"),
    ("sla.yaml", "tth-sla-process", "then: {action: set_deadline, deadline: $process_time}",
     "then: {action: set_deadline, deadline: $process_time, amount: 5}", "not both"),
    ("sla.yaml", "tth-sla-process", "then: {action: set_deadline, deadline: $process_time}",
     "then: {action: set_deadline, deadline: $process_time, on_miss: {action: flag_late, reason: DUPLICATE}}",
     "on_miss flag_late takes no reason"),
    ("sla.yaml", "tth-sla-process", "then: {action: set_deadline, deadline: $process_time}",
     "then: {action: set_deadline, deadline: $process_time, on_miss: {action: reject, reason: LATE}}",
     "on_miss reject needs a reason code"),
    ("penalties.yaml", "tth-pen-lock-interaction", "duration: $interaction_lock",
     "duration: $abusive_submissions_lock", "unknown duration parameter"),
    ("penalties.yaml", "tth-pen-lock-interaction", "duration: $interaction_lock",
     "duration: {amount: 1, unit: month}", "duration without a valid unit"),
    ("acceptance.yaml", "tth-acc-photo-age-unknown", "check: photo_age_unknown", "check: photo_age",
     "unknown check 'photo_age'"),
]


@pytest.mark.parametrize("file,rule_id,old,new,message", THEN_TYPOS)
def test_a_then_field_that_does_not_fit_is_refused(pack_copy, file, rule_id, old, new, message):
    path = pack_copy / file
    edit(path, old, new)
    error = refused(pack_copy)
    assert message in error.message, error
    assert error.rule_id == rule_id and error.file == str(path) and error.line == line_of(path, f"id: {rule_id}")


def test_a_holding_warn_needs_the_message_of_its_rejection(pack_copy):
    path = pack_copy / "acceptance.yaml"
    text = path.read_text(encoding="utf-8")
    line = re.search(r"\n    rejection_message: [^\n]*\n", text).group(0)
    path.write_text(text.replace(line, "\n", 1), encoding="utf-8")
    assert "needs the rejection_message" in refused(pack_copy).message


def test_the_closed_lists_match_the_code_and_the_word_lists():
    from paht.schemas import CHANNELS
    from services.verification.schemas import Judgement
    assert tuple(FACT_VALUES["channel"]) == CHANNELS
    assert FACT_VALUES["step"] == STEPS
    assert set(OPENED_STEPS) <= set(STEPS)
    kinds = {item["kind"] for item in yaml.safe_load((rules_root() / "wordlists" / "out_of_scope.yaml")
                                                     .read_text(encoding="utf-8"))["phrases"]}
    assert kinds | {""} == set(FACT_VALUES["out_of_scope_kind"])
    names = set(Judgement.model_fields["name"].annotation.__args__)
    assert set(CHECKS) <= names
    for fact in FACT_VALUES:
        assert any(fact in facts for facts in FACTS.values()), fact


# ---- steps code opens ---------------------------------------------------------------------------------------------
def steps_the_code_opens() -> set[str]:
    """The steps services/sla opens a deadline for: STEP_OF_STATE, STEP_OF_CAUSE (and any other STEP_OF_* table) of
    services/sla/deadlines.py, its own OPENED_STEPS where it declares one, and every step services/sla gives
    literally to new_deadline(…) (the return and co-agency steps the service opens from causes)."""
    from services.sla import deadlines
    steps: set[str] = set(getattr(deadlines, "OPENED_STEPS", ()))
    for name in dir(deadlines):
        if name.startswith("STEP_OF_"):
            steps |= {step for step in getattr(deadlines, name).values() if isinstance(step, str)}
    for path in sorted((ROOT / "services" / "sla").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "new_deadline":
                given = node.args[2:3] + [k.value for k in node.keywords if k.arg == "step"]
                steps |= {a.value for a in given if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return steps


def test_opened_steps_is_what_the_sla_code_opens():
    opened = steps_the_code_opens()
    missing, extra = sorted(opened - set(OPENED_STEPS)), sorted(set(OPENED_STEPS) - opened)
    assert not missing and not extra, (
        f"paht/rules/vocabulary.py OPENED_STEPS is out of step with services/sla: add {missing} (the code opens "
        f"them), remove {extra} (no code opens them)")


def test_check_refuses_a_rule_timing_a_step_no_code_opens(pack_copy, monkeypatch, capsys):
    monkeypatch.setattr(audit, "OPENED_STEPS", tuple(s for s in OPENED_STEPS if s != "process"))
    problems = audit.unopened_steps(load_pack(pack_copy))
    assert {p.rule_id for p in problems} >= {"tth-sla-process", "tth-sla-immediate-process"}
    problem = next(p for p in problems if p.rule_id == "tth-sla-process")
    assert "'process', which no code opens" in problem.message
    assert problem.file == str(pack_copy / "sla.yaml") and problem.line == line_of(pack_copy / "sla.yaml",
                                                                                   "id: tth-sla-process")
    assert cli.check([pack_copy]) == 1
    assert "FAIL thua-thien-hue-2022: " in capsys.readouterr().out


# ---- parameters nothing reads -------------------------------------------------------------------------------------
def parameters_the_code_reads() -> set[str]:
    found = set()
    for folder in ("services", "paht"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"parameters(?:\.get\(|\[)\s*[\"'](\w+)[\"']", path.read_text(encoding="utf-8")))
    return found


def test_code_parameters_is_what_the_code_reads():
    assert set(CODE_PARAMETERS) == parameters_the_code_reads()


def test_check_refuses_a_parameter_nothing_reads(pack_copy, capsys):
    path = pack_copy / "pack.yaml"
    edit(path, "parameters:\n", "parameters:\n  forgotten_time: {amount: 3, unit: wd, article: Điều 99}\n")
    pack = load_pack(pack_copy)
    problems = audit.unused_parameters(pack)
    forgotten = [p for p in problems if "'forgotten_time'" in p.message]
    assert len(forgotten) == 1 and forgotten[0].line == line_of(path, "forgotten_time:")
    assert forgotten[0].file == str(path)
    assert not any("'late_report_limit'" in p.message for p in problems)    # read by the code
    assert not any("'photo_max_age'" in p.message for p in problems)        # read by a rule
    assert cli.check([pack_copy]) == 1


# ---- worked cases: values and coverage ----------------------------------------------------------------------------
def write_cases(pack_dir: Path, cases: list[dict]) -> None:
    shutil.rmtree(pack_dir / "cases")
    (pack_dir / "cases").mkdir()
    (pack_dir / "cases" / "cases.yaml").write_text(yaml.safe_dump(cases, allow_unicode=True), encoding="utf-8")


def case(stage, facts, expect, name="x"):
    return {"name": name, "article": "Điều 1", "stage": stage, "facts": facts, "expect": expect}


def test_coverage_counts_rules_that_took_effect_in_passing_cases(pack_copy, capsys):
    write_cases(pack_copy, [
        case("acceptance", {"photo_age_h": 30, "has_gps": False},
             {"decision": "needs_supplement", "reasons": ["PHOTO_TOO_OLD", "MISSING_LOCATION"]}),
        # routing and sla: only the rule that decides (every routing case also matches the catch-all)
        case("routing", {"category": "health"}, {"lead": "so-y-te", "rule": "tth-route-health"}),
        case("sla", {"step": "process", "urgent": True}, {"rule": "tth-sla-immediate-process"}),
        # a failing case covers nothing
        case("routing", {"category": "education"}, {"lead": "so-y-te"}),
        case("penalties", {"subject": "citizen", "abusive_submissions_total": 4}, {"actions": ["lock_account"]}),
    ])
    pack = load_pack(pack_copy)
    results = run_cases(pack)
    assert [r.ok for r in results] == [True, True, True, False, True]
    covered = coverage(pack, results)
    assert set(covered.covered) == {"tth-acc-photo-too-old", "tth-acc-no-gps", "tth-route-health",
                                    "tth-sla-immediate-process", "tth-pen-lock-account"}
    every = sum(len(rules) for rules in pack.stages.values())
    assert covered.total == every and covered.share == pytest.approx(5 / every) and not covered.ok
    assert "tth-route-unresolved" in covered.missing and "tth-route-education" in covered.missing
    assert cli.test([pack_copy]) == 1
    out = capsys.readouterr().out
    assert f"rule coverage 5/{every} (" in out and f"under {COVERAGE_MIN:.0%}" in out


def test_cases_with_unknown_facts_or_impossible_values_fail(pack_copy):
    write_cases(pack_copy, [
        case("sla", {"step": "proces"}, {}),
        case("routing", {"catgory": "health"}, {}),
        case("acceptance", {"operator_checks": {"photo_age_unknown": "ok"}}, {}),
        case("acceptance", {"photo_age_h": None, "photo_age_known": False}, {"checks": ["photo_age_unknown"]}),
    ])
    results = run_cases(load_pack(pack_copy))
    assert [r.ok for r in results] == [False, False, False, True]
    assert "unknown step 'proces'" in results[0].detail and "unknown fact 'catgory'" in results[1].detail


def test_a_near_miss_names_the_rule_that_must_not_fire(pack_copy):
    write_cases(pack_copy, [
        case("penalties", {"subject": "agency", "satisfied_rate": 0.7}, {"actions": [],
                                                                        "not_rules": ["tth-pen-report-satisfaction"]}),
        case("penalties", {"subject": "agency", "satisfied_rate": 0.69}, {"not_rules": ["tth-pen-report-satisfaction"]}),
    ])
    assert [r.ok for r in run_cases(load_pack(pack_copy))] == [True, False]


def test_every_pack_reaches_the_coverage_and_its_cases_pass():
    from paht.rules import list_packs
    for pack_id in list_packs():
        pack = load_pack(rules_root() / pack_id)
        results = run_cases(pack)
        assert all(r.ok for r in results), [(r.file, r.line, r.name, r.detail) for r in results if not r.ok]
        covered = coverage(pack, results)
        assert covered.ok, f"{pack_id}: {covered.share:.0%}, no case for {covered.missing}"


# ---- operator checks ----------------------------------------------------------------------------------------------
def test_a_holding_warn_is_a_pending_check_until_judged():
    pack = load_pack(HUE)
    unknown = {"photo_age_known": False, "photo_age_h": None}
    held = pack.evaluate("acceptance", unknown)
    assert held["decision"] == "accepted" and held["reasons"] == []
    assert held["pending_checks"] == [{"name": "photo_age_unknown", "rule": "tth-acc-photo-age-unknown",
                                       "article": "Điều 7 khoản 5 điểm a",
                                       "message": pack.rule("tth-acc-photo-age-unknown")["message"]}]
    confirmed = pack.evaluate("acceptance", {**unknown, "operator_checks": {"photo_age_unknown": "confirmed"}})
    assert confirmed["decision"] == "accepted" and confirmed["pending_checks"] == []
    assert [w["status"] for w in confirmed["warnings"]] == ["confirmed"]
    rejected = pack.evaluate("acceptance", {**unknown, "operator_checks": {"photo_age_unknown": "rejected"}})
    assert rejected["decision"] == "rejected"
    [reason] = rejected["reasons"]
    assert reason["code"] == "PHOTO_TOO_OLD" and reason["rule"] == "tth-acc-photo-age-unknown"
    assert reason["article"] == "Điều 7 khoản 5 điểm a" and reason["action"] == "reject"
    assert reason["message"] == pack.rule("tth-acc-photo-age-unknown")["rejection_message"]


def test_information_warnings_hold_nothing():
    pack = load_pack(HUE)
    for facts in ({"prohibited_content": True}, {"edited_requantized": True}):
        result = pack.evaluate("acceptance", facts)
        assert result["decision"] == "accepted" and result["warnings"] and result["pending_checks"] == []


def test_every_check_outcome_is_a_judgement():
    from services.verification.schemas import Judgement
    for name in CHECKS:
        for value in CHECK_OUTCOMES:
            Judgement(name=name, value=value)
        with pytest.raises(ValueError):
            Judgement(name=name, value=True)


# ---- the facts the holding rules read -----------------------------------------------------------------------------
def inspect(data, name="photo.jpg", app_time=None):
    from services.verification.media import inspect_media
    return inspect_media(data, name, None, app_time, "Asia/Ho_Chi_Minh", "x")


def test_a_capture_time_in_the_future_is_held_not_fresh():
    from services.verification.evidence import photo_facts
    sent = datetime(2026, 11, 20, 9, 0, tzinfo=VN)
    future = inspect(camera_jpeg(sent + timedelta(hours=3)))
    facts = photo_facts([future], sent)
    assert facts["capture_time_future"] and not facts["photo_age_known"] and facts["photo_age_h"] is None
    result = load_pack(HUE).evaluate("acceptance", facts)
    assert result["decision"] == "accepted"
    assert {c["name"] for c in result["pending_checks"]} == {"photo_age_unknown", "capture_time_future"}
    # within the 5 minutes phones and servers may disagree, it is a fresh photo
    close = photo_facts([inspect(camera_jpeg(sent + timedelta(minutes=4)))], sent)
    assert close["photo_age_known"] and close["photo_age_h"] == 0 and not close["capture_time_future"]


def test_heic_is_inspected_like_jpeg():
    from services.verification.evidence import photo_facts
    taken = datetime(2026, 11, 20, 9, 0, tzinfo=VN)
    image = Image.open(io.BytesIO(camera_jpeg(taken, gps=(16.46, 107.59))))
    exif = image.getexif()
    exif[0x0131], exif[0x0132] = "Snapseed 2.0", "2026:11:20 10:00:00"
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=70, exif=exif.tobytes())
    photo = inspect(out.getvalue(), "IMG_0001.HEIC")
    assert photo.kind == "photo" and photo.mime == "image/heic"
    assert photo.captured_at == taken and photo.captured_source == "exif"
    assert photo.exif_gps == pytest.approx((16.46, 107.59))
    assert photo.signals["edited_software"] and photo.signals["edited_datetime"] and photo.phash
    plain = io.BytesIO()
    pillow_heif.from_pillow(Image.open(io.BytesIO(camera_jpeg(None)))).save(plain, quality=70)
    stripped = inspect(plain.getvalue(), "IMG_0002.HEIC")
    assert stripped.captured_at is None
    assert not photo_facts([stripped], taken)["photo_age_known"]


def test_every_pack_holds_no_rule_that_can_never_take_effect():
    """What `paht rules check` adds to loading, for the packs in the repository."""
    from paht.rules import list_packs
    problems = [str(p) for pack_id in list_packs() for p in audit.audit(load_pack(rules_root() / pack_id))]
    assert problems == []
