"""Rule conditions (`when`) → durable-rules JSON conditions, with `$parameter` references resolved.

Shapes that durable-rules 2.0.28 does not take are rewritten: `in` becomes an `$or` of equalities, `ne` is `$neq`,
and `exists` tests a synthetic boolean `_has_<fact>` the engine adds (durable's `$nex` hangs the engine).
"""
from __future__ import annotations

from .errors import PackError
from .vocabulary import FACT_UNITS, FACTS, HOURS_PER, OPERATORS

ALWAYS = {"$ex": {"_stage": 1}}
_DURABLE_OPS = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte", "ne": "$neq"}


class Compiler:
    def __init__(self, stage: str, parameters: dict, where):
        self.stage, self.parameters, self.where = stage, parameters, where
        self.facts = FACTS[stage]
        self.used: set[str] = set()

    def fail(self, message: str):
        raise PackError(message, *self.where)

    def value(self, fact: str, value):
        """A literal, or a `$parameter` converted to the fact's unit."""
        if isinstance(value, str) and value.startswith("$"):
            name = value[1:]
            if name not in self.parameters:
                self.fail(f"unknown parameter ${name}")
            param = self.parameters[name]
            if "value" in param:
                return param["value"]
            amount, unit = param["amount"], param["unit"]
            want = FACT_UNITS.get(fact)
            if want == "h":
                if unit not in HOURS_PER:
                    self.fail(f"parameter ${name} in {unit} cannot be compared with {fact} (hours)")
                return amount * HOURS_PER[unit]
            return amount
        return value

    def condition(self, when) -> dict:
        if when is None or when == {}:
            return ALWAYS
        if not isinstance(when, dict):
            self.fail("a condition is a mapping of fact → test")
        terms = []
        for key, test in when.items():
            if key in ("all", "any"):
                if not isinstance(test, list) or not test:
                    self.fail(f"{key} takes a non-empty list of conditions")
                parts = [self.condition(sub) for sub in test]
                terms.append({"$and" if key == "all" else "$or": parts})
            else:
                terms.append(self.test(key, test))
        return terms[0] if len(terms) == 1 else {"$and": terms}

    def test(self, fact: str, test) -> dict:
        if fact not in self.facts:
            self.fail(f"unknown fact {fact!r} for stage {self.stage}")
        self.used.add(fact)
        if not isinstance(test, dict):
            return {fact: self.value(fact, test)}
        if len(test) != 1:
            self.fail(f"{fact}: one operator per test (use all: [...] to combine)")
        (op, operand), = test.items()
        if op not in OPERATORS:
            self.fail(f"{fact}: unknown operator {op!r} (one of {', '.join(OPERATORS)})")
        if op == "eq":
            return {fact: self.value(fact, operand)}
        if op == "in":
            if not isinstance(operand, list) or not operand:
                self.fail(f"{fact}: in takes a non-empty list")
            options = [{fact: self.value(fact, item)} for item in operand]
            return options[0] if len(options) == 1 else {"$or": options}
        if op == "exists":
            self.used.add(f"_has_{fact}")
            return {f"_has_{fact}": bool(operand)}
        return {_DURABLE_OPS[op]: {fact: self.value(fact, operand)}}
