"""Rule conditions (`when`) → durable-rules JSON conditions, with `$parameter` references resolved and every value
checked against the fact it is compared with (type, enum, range), so a typo never loads as a rule that silently
never fires.

Shapes that durable-rules 2.0.28 does not take are rewritten: `in` becomes an `$or` of equalities, `ne` is `$neq`,
and `exists` tests a synthetic boolean `_has_<fact>` the engine adds (durable's `$nex` hangs the engine).
"""
from __future__ import annotations

from .errors import PackError
from .vocabulary import (
    FACT_UNITS,
    FACT_VALUES,
    FACTS,
    FRACTION_FACTS,
    HOURS_PER,
    OPERATORS,
)
from .yamlfile import line_of, plain

ALWAYS = {"$ex": {"_stage": 1}}   # every fact the engine asserts carries its `_stage`: a rule with no `when`
_DURABLE_OPS = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte", "ne": "$neq"}
ORDERING = ("gt", "gte", "lt", "lte")


def fact_kind(stage: str, fact: str) -> str:
    """bool, number or str: the type of the fact's harmless default (any when it has none)."""
    default = FACTS[stage][fact]
    if default is None:
        return "any"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, (int, float)):
        return "number"
    return "str"


def is_fraction(fact: str) -> bool:
    return fact.endswith("_rate") or fact in FRACTION_FACTS


class ValueChecker:
    """Whether a value fits a fact of a stage: its type, its closed list of values, its range."""

    def __init__(self, stage: str, domains: dict | None = None):
        self.stage, self.domains = stage, domains or {}

    def allowed(self, fact: str):
        values = FACT_VALUES.get(fact)
        if isinstance(values, str):
            known = self.domains.get(values)
            return None if known is None else ("",) + tuple(sorted(known))
        return values

    def problem(self, fact: str, value) -> str | None:
        """Why `value` cannot be a value of `fact` (None when it can)."""
        kind = fact_kind(self.stage, fact)
        if kind == "any":
            return None
        if kind == "bool":
            return None if isinstance(value, bool) else f"{fact} is true or false, not {value!r}"
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"{fact} is a number, not {value!r}"
            if is_fraction(fact) and not 0 <= value <= 1:
                return f"{fact} is a share from 0 to 1 (70% is 0.7), not {value!r}"
            return None
        if not isinstance(value, str):
            return f"{fact} is text, not {value!r}" + (" (quote it: \"false\")" if isinstance(value, bool) else "")
        allowed = self.allowed(fact)
        if allowed is not None and value not in allowed:
            shown = [v for v in allowed if v] or allowed
            listing = ", ".join(shown[:24]) + (", …" if len(shown) > 24 else "")
            return f"unknown {fact} {value!r} (one of {listing})"
        return None


class Compiler:
    def __init__(self, stage: str, parameters: dict, where, domains: dict | None = None):
        self.stage, self.parameters, self.where = stage, parameters, where
        self.facts = FACTS[stage]
        self.values = ValueChecker(stage, domains)
        self.used: set[str] = set()
        self.parameters_used: set[str] = set()
        self.literals: dict[str, set] = {}     # fact → the values it is tested equal to (eq, in)
        self._line = None

    def fail(self, message: str, node=None):
        file, line, rule_id = self.where
        raise PackError(message, file, line_of(node, self._line or line), rule_id)

    def value(self, fact: str, value):
        """A literal, or a `$parameter` converted to the fact's unit; either must fit the fact."""
        if isinstance(value, str) and value.startswith("$"):
            name = value[1:]
            if name not in self.parameters:
                self.fail(f"unknown parameter ${name}")
            self.parameters_used.add(name)
            param = self.parameters[name]
            if "value" in param:
                resolved = param["value"]
            else:
                amount, unit = param["amount"], param["unit"]
                want = FACT_UNITS.get(fact)
                if want == "h":
                    if unit not in HOURS_PER:
                        self.fail(f"parameter ${name} in {unit} cannot be compared with {fact} (hours)")
                    resolved = amount * HOURS_PER[unit]
                else:
                    resolved = amount
            problem = self.values.problem(fact, resolved)
            if problem:
                self.fail(f"parameter ${name}: {problem}")
            return resolved
        value = plain(value)
        problem = self.values.problem(fact, value)
        if problem:
            self.fail(problem)
        return value

    def condition(self, when) -> dict:
        if when is None or when == {}:
            return ALWAYS
        if not isinstance(when, dict):
            self.fail("a condition is a mapping of fact → test")
        outer, self._line = self._line, line_of(when, self._line)
        terms = []
        for key, test in when.items():
            if key in ("all", "any"):
                if not isinstance(test, list) or not test:
                    self.fail(f"{key} takes a non-empty list of conditions")
                parts = [self.condition(sub) for sub in test]
                terms.append({"$and" if key == "all" else "$or": parts})
            else:
                terms.append(self.test(key, test))
        self._line = outer
        return terms[0] if len(terms) == 1 else {"$and": terms}

    def test(self, fact: str, test) -> dict:
        if fact not in self.facts:
            self.fail(f"unknown fact {fact!r} for stage {self.stage}")
        self.used.add(fact)
        if not isinstance(test, dict):
            return self.equal(fact, test)
        if len(test) != 1:
            self.fail(f"{fact}: one operator per test (use all: [...] to combine)")
        (op, operand), = test.items()
        if op not in OPERATORS:
            self.fail(f"{fact}: unknown operator {op!r} (one of {', '.join(OPERATORS)})")
        if op == "eq":
            return self.equal(fact, operand)
        if op == "in":
            if not isinstance(operand, list) or not operand:
                self.fail(f"{fact}: in takes a non-empty list")
            options = [self.equal(fact, item) for item in operand]
            return options[0] if len(options) == 1 else {"$or": options}
        if op == "exists":
            if not isinstance(operand, bool):
                self.fail(f"{fact}: exists is true or false, not {operand!r}")
            self.used.add(f"_has_{fact}")
            return {f"_has_{fact}": operand}
        if op in ORDERING and fact_kind(self.stage, fact) != "number":
            self.fail(f"{fact}: {op} compares numbers, and {fact} is not one")
        return {_DURABLE_OPS[op]: {fact: self.value(fact, operand)}}

    def equal(self, fact: str, value) -> dict:
        resolved = self.value(fact, value)
        self.literals.setdefault(fact, set()).add(resolved)
        return {fact: resolved}
