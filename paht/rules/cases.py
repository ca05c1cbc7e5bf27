"""Running a pack's worked examples (cases/*.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import PackError
from .loader import validate
from .yamlfile import line_of, plain, read_yaml


@dataclass
class CaseResult:
    file: str
    line: int | None
    name: str
    article: str
    ok: bool
    detail: str


def _check(pack, case: dict) -> tuple[bool, str]:
    stage, facts, expect = case["stage"], case["facts"], case["expect"]
    result = pack.evaluate(stage, facts)
    problems = []
    if stage == "acceptance":
        if expect.get("decision") and result["decision"] != expect["decision"]:
            problems.append(f"decision {result['decision']} ≠ {expect['decision']}")
        if "reasons" in expect and sorted(r["code"] for r in result["reasons"]) != sorted(expect["reasons"]):
            problems.append(f"reasons {sorted(r['code'] for r in result['reasons'])} ≠ {sorted(expect['reasons'])}")
        if "warnings" in expect and sorted(r["code"] for r in result["warnings"]) != sorted(expect["warnings"]):
            problems.append(f"warnings {sorted(r['code'] for r in result['warnings'])} ≠ {sorted(expect['warnings'])}")
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
    elif stage == "penalties":
        actions = sorted(a["action"] for a in result["actions"])
        if "actions" in expect and actions != sorted(expect["actions"]):
            problems.append(f"actions {actions} ≠ {sorted(expect['actions'])}")
        rules = sorted(a["rule"] for a in result["actions"])
        if "rules" in expect and rules != sorted(expect["rules"]):
            problems.append(f"rules {rules} ≠ {sorted(expect['rules'])}")
    return not problems, "; ".join(problems)


def run_cases(pack) -> list[CaseResult]:
    results = []
    for path in sorted(Path(pack.path, "cases").glob("*.yaml")):
        document = read_yaml(path)
        validate(document, "cases", path)
        for case in document:
            try:
                ok, detail = _check(pack, plain(case))
            except (KeyError, ValueError, TypeError, PackError) as exc:
                ok, detail = False, f"error: {exc!r}"
            results.append(CaseResult(path.name, line_of(case), case["name"], case["article"], ok, detail))
    return results
