"""What a pack declares about each step it times, read from its sla rules once, at load time, without evaluating
them for any report.

Only the sla service evaluates the sla stage for a report (services/sla/deadlines.py `new_deadline`); its
deadlines reach the report (`deadlines`). Other services sometimes need what the pack says of a step as a whole:
verification whether the pack times the reporter's identity check at all (a first-time reporter waits for it only
then), publishing the time a reporter is given to supplement a report, in the notice that asks for it (sent on the
very change that makes sla open that deadline, so before the deadline is on the report). `Pack.step(name)` answers
those from this module.

A rule may apply to a step when its condition names the step (`step: x`, `{eq: x}`, `{in: [...]}`, also inside
`all`/`any`) or tests no step at all. The first rule that may apply and tests nothing but the step decides for
every report at that step (the sla stage's first match); a rule before it that tests other facts too (`urgent`,
`multi_agency`, `designated`, `rework_kind`) makes the step's deadline depend on the report.
"""
from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import STEPS

# whose each timed step is, so a missed deadline is charged to the party that had to act. The centre (the
# operators' unit: the pack's agency of kind `centre`, the seeds' "Trung tâm GSĐH" / "Đơn vị điều phối") receives,
# checks, dispatches, calls an SOS back and checks and publishes the approved result ("Cơ quan thực hiện: Trung tâm
# GSĐH tỉnh" / "Đơn vị điều phối": ST-22 Điều 8 khoản 1, Điều 12 khoản 1, khoản 2; ST-23 Điều 15 khoản 1, khoản 2;
# TTH Điều 12 khoản 1, Phụ lục 2 Bước 5, Điều 18; TN Điều 10 khoản 1, khoản 2); the reporter supplements and confirms who they are (a timeout rejects, no one is
# late); every other step is an agency's (the lead, a co-agency, the designated agency: services/sla says which)
CENTRE_STEPS = frozenset({"receive", "dispatch", "operator_check", "publish", "sos_callback"})
REPORTER_STEPS = frozenset({"supplement", "identity_check"})
PARTIES = ("centre", "agency", "reporter")


def party_of(step: str) -> str:
    """Whose step it is: `centre`, `reporter` or `agency`."""
    if step in CENTRE_STEPS:
        return "centre"
    return "reporter" if step in REPORTER_STEPS else "agency"


def centre_agency(agencies: dict) -> str | None:
    """The id of the pack's centre (its agency of kind `centre` in agencies.yaml), None if it names none."""
    return next((agency_id for agency_id, agency in agencies.items() if agency.get("kind") == "centre"), None)


# the fields of a declared deadline (those of the sla stage's `set_deadline` decision a notice or a check reads)
DEADLINE_FIELDS = ("amount", "unit", "on_miss")


@dataclass(frozen=True)
class DeclaredStep:
    """`timed`: some report at this step gets a deadline; `deadline`: the one every report at it gets
    ({amount, unit, on_miss, rule, article}), None when the step is untimed or its deadline depends on the report."""
    name: str
    timed: bool = False
    deadline: dict | None = None


def _both(first: frozenset | None, second: frozenset | None) -> frozenset | None:
    if first is None:
        return second
    return first if second is None else first & second


def _step_test(test) -> frozenset | None:
    if isinstance(test, dict):
        if "eq" in test:
            return _step_test(test["eq"])
        if "in" in test and isinstance(test["in"], list):
            values = [_step_test(value) for value in test["in"]]
            return None if any(value is None for value in values) else frozenset().union(*values)
        return None                       # ne, exists: not one named step
    if isinstance(test, str) and not test.startswith("$"):
        return frozenset({test})
    return None


def steps_named(when) -> frozenset | None:
    """The steps a rule's condition can hold for; None: any step (it names none, or not in a way that limits it)."""
    if not isinstance(when, dict):
        return None
    found = None
    for key, test in when.items():
        if key == "all" and isinstance(test, list):
            for part in test:
                found = _both(found, steps_named(part))
        elif key == "any" and isinstance(test, list):
            parts = [steps_named(part) for part in test]
            found = _both(found, None if not parts or any(p is None for p in parts) else frozenset().union(*parts))
        elif key == "step":
            found = _both(found, _step_test(test))
    return found


def only_the_step(rule: dict) -> bool:
    """The rule's condition tests no fact but the step (so it holds for every report at the steps it names)."""
    return set(rule.get("facts_used") or ()) <= {"step"}


def declared_step(rules: list[dict], step: str) -> DeclaredStep:
    """What the sla rules (in file order) declare of `step`."""
    depends = timed = False
    for rule in rules:
        named = steps_named(rule.get("when"))
        if named is not None and step not in named:
            continue
        then = rule["then"]
        sets = then["action"] == "set_deadline"
        if only_the_step(rule):
            deadline = None
            if sets and not depends:
                deadline = {**{key: then.get(key) for key in DEADLINE_FIELDS}, "rule": rule["id"],
                            "article": rule["article"]}
            return DeclaredStep(step, timed or sets, deadline)
        depends, timed = True, timed or sets
    return DeclaredStep(step, timed, None)


def declared_steps(rules: list[dict]) -> dict[str, DeclaredStep]:
    """Every step of the vocabulary, as the pack's sla rules declare it."""
    return {step: declared_step(rules, step) for step in STEPS}
