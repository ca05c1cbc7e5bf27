"""Running a pack's worked examples (cases/*.yaml), and the rule coverage they give."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .compiler import ValueChecker
from .errors import PackError
from .schema import validate
from .steps import centre_agency, party_of
from .vocabulary import CHECK_OUTCOMES, CHECKS, FACTS
from .yamlfile import line_of, plain, read_yaml

# a pack passes `paht rules test` only when its worked cases make at least this share of its rules take effect
COVERAGE_MIN = 0.9
# what a case may give besides the stage's facts: the operator's judgements of the pack's checks
CASE_EXTRAS = {"acceptance": ("operator_checks",)}


@dataclass
class CaseResult:
    file: str
    line: int | None
    name: str
    article: str
    ok: bool
    detail: str
    rules: list[str] = field(default_factory=list)   # the rules that took effect in this case


def took_effect(stage: str, result: dict) -> list[str]:
    """Acceptance and penalties: every rule that fired. Routing and sla: the rule that decided (the first match)."""
    if stage == "acceptance":
        return list(result.get("fired", []))
    if stage == "penalties":
        return [a["rule"] for a in result.get("actions", [])]
    return [result["rule"]] if result.get("rule") else []


def fact_problems(pack, stage: str, facts: dict) -> list[str]:
    """Facts a case gives that the stage does not know, or values that no report could have."""
    checker = ValueChecker(stage, {"@categories": set(pack.categories), "@agencies": set(pack.agencies) or None})
    problems = []
    for name, value in facts.items():
        if name in CASE_EXTRAS.get(stage, ()):
            if name == "operator_checks" and (not isinstance(value, dict) or any(
                    k not in CHECKS or v not in CHECK_OUTCOMES for k, v in value.items())):
                problems.append(f"operator_checks maps a check ({', '.join(CHECKS)}) to confirmed or rejected")
            continue
        if name not in FACTS[stage]:
            problems.append(f"unknown fact {name!r} for stage {stage}")
        elif value is not None:
            problem = checker.problem(name, value)
            if problem:
                problems.append(problem)
    return problems


def _charged_problems(pack, step: str | None, charged: str) -> list[str]:
    """Whose lateness a missed deadline of the step is (services/sla charges it): `centre` also needs the pack's
    centre in its agencies.yaml, the unit it is charged to."""
    party = party_of(step or "")
    if party != charged:
        return [f"charged to {party} ≠ {charged}"]
    if party == "centre" and centre_agency(pack.agencies) is None:
        return ["charged to the centre, but agencies.yaml names no agency of kind centre"]
    return []


def _check(pack, case: dict) -> tuple[bool, str, dict]:
    stage, facts, expect = case["stage"], case["facts"], case["expect"]
    problems = fact_problems(pack, stage, facts)
    result = pack.evaluate(stage, facts)
    if stage == "acceptance":
        if expect.get("decision") and result["decision"] != expect["decision"]:
            problems.append(f"decision {result['decision']} ≠ {expect['decision']}")
        if "reasons" in expect and sorted(r["code"] for r in result["reasons"]) != sorted(expect["reasons"]):
            problems.append(f"reasons {sorted(r['code'] for r in result['reasons'])} ≠ {sorted(expect['reasons'])}")
        if "warnings" in expect and sorted(r["code"] for r in result["warnings"]) != sorted(expect["warnings"]):
            problems.append(f"warnings {sorted(r['code'] for r in result['warnings'])} ≠ {sorted(expect['warnings'])}")
        pending = sorted({c["name"] for c in result.get("pending_checks", [])})
        if "checks" in expect and pending != sorted(set(expect["checks"])):
            problems.append(f"pending checks {pending} ≠ {sorted(set(expect['checks']))}")
        if "rules" in expect and sorted(result["fired"]) != sorted(expect["rules"]):
            problems.append(f"rules {sorted(result['fired'])} ≠ {sorted(expect['rules'])}")
    elif stage == "routing":
        for key in ("decision", "lead", "co", "immediate", "rule"):
            if key in expect and result.get(key) != expect[key]:
                problems.append(f"{key} {result.get(key)!r} ≠ {expect[key]!r}")
    elif stage == "sla":
        for key in ("decision", "amount", "unit", "rule"):
            if key in expect and result.get(key) != expect[key]:
                problems.append(f"{key} {result.get(key)!r} ≠ {expect[key]!r}")
        if "on_miss" in expect and result.get("on_miss") != expect["on_miss"]:
            problems.append(f"on_miss {result.get('on_miss')} ≠ {expect['on_miss']}")
        if "due" in expect:
            from paht.worktime import calendar_for
            start = datetime.fromisoformat(case["start"])
            due = calendar_for(pack.meta).add(start, result["amount"], result["unit"])
            if due != datetime.fromisoformat(expect["due"]):
                problems.append(f"due {due.isoformat()} ≠ {expect['due']}")
        if "charged" in expect:
            problems.extend(_charged_problems(pack, facts.get("step"), expect["charged"]))
    elif stage == "penalties":
        actions = sorted(a["action"] for a in result["actions"])
        if "actions" in expect and actions != sorted(expect["actions"]):
            problems.append(f"actions {actions} ≠ {sorted(expect['actions'])}")
        rules = sorted(a["rule"] for a in result["actions"])
        if "rules" in expect and rules != sorted(expect["rules"]):
            problems.append(f"rules {rules} ≠ {sorted(expect['rules'])}")
    # a near miss: rules that must not take effect (e.g. a 70 % rate against "dưới 70%")
    wrongly = sorted(set(expect.get("not_rules") or []) & set(took_effect(stage, result)))
    if wrongly:
        problems.append(f"rules {wrongly} took effect but must not")
    return not problems, "; ".join(problems), result


def run_cases(pack) -> list[CaseResult]:
    results = []
    for path in sorted(Path(pack.path, "cases").glob("*.yaml")):
        document = read_yaml(path)
        validate(document, "cases", path)
        for case in document:
            rules: list[str] = []
            try:
                ok, detail, result = _check(pack, plain(case))
                rules = took_effect(case["stage"], result) if ok else []
            except (KeyError, ValueError, TypeError, PackError) as exc:
                ok, detail = False, f"error: {exc!r}"
            results.append(CaseResult(path.name, line_of(case), case["name"], case["article"], ok, detail, rules))
    return results


@dataclass
class Coverage:
    covered: list[str]
    missing: list[str]

    @property
    def total(self) -> int:
        return len(self.covered) + len(self.missing)

    @property
    def share(self) -> float:
        return len(self.covered) / self.total if self.total else 1.0

    @property
    def ok(self) -> bool:
        return self.share >= COVERAGE_MIN


def coverage(pack, results: list[CaseResult]) -> Coverage:
    """The pack's rules that took effect in at least one passing worked case, and those that took effect in none
    (in file order)."""
    hit = {rule for result in results if result.ok for rule in result.rules}
    every = [rule["id"] for rules in pack.stages.values() for rule in rules]
    return Coverage([r for r in every if r in hit], [r for r in every if r not in hit])
