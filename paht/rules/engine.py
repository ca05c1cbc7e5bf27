"""durable-rules evaluation: one Host per loaded pack, every evaluation in its own session, deleted afterwards."""
from __future__ import annotations

import copy
import itertools
import threading

import durable_rules_engine
from durable.engine import Host

from .compiler import ALWAYS
from .vocabulary import FACTS

_generation = itertools.count(1)
# every ruleset gets a rule that always matches: each evaluation then creates a session that `delete_state` removes
# (deleting the state of a fact nothing matched crashes the C engine with a double free)
CATCH_ALL = "__any__"

# durable-rules' C engine keeps pointers into the JSON text a ruleset is created from, but durable.engine passes
# a temporary string: keep every such text alive, or the engine reads freed memory (seen as segfaults).
_ruleset_texts: list[tuple[str, str]] = []
_create_ruleset = durable_rules_engine.create_ruleset


def _create_ruleset_kept(name, definition):
    _ruleset_texts.append((name, definition))
    return _create_ruleset(name, definition)


durable_rules_engine.create_ruleset = _create_ruleset_kept


class _QuietHost(Host):
    """A Host without durable's timer threads (PAHT keeps deadlines in the sla store) and with named actions
    that only record which rule fired."""

    def __init__(self):
        self.fired: list[str] = []
        super().__init__()

    def _run(self):
        pass

    def get_action(self, name):
        # one parameter only: durable-rules treats a two-parameter action as asynchronous (with a callback)
        def record(_context):
            if name != CATCH_ALL:
                self.fired.append(name)
        return record


class StageEngine:
    """The compiled rules of one pack, one ruleset per stage."""

    def __init__(self, pack_id: str, compiled: dict[str, list[tuple[str, dict]]]):
        """`compiled`: stage → [(rule id, durable condition)] in file order."""
        self._lock = threading.Lock()
        self._host = _QuietHost()
        self._names: dict[str, str] = {}
        self._order: dict[str, dict[str, int]] = {}
        self._session = itertools.count()
        generation = next(_generation)
        rulesets = {}
        for stage, rules in compiled.items():
            # short names: the C engine corrupts memory with ruleset names much over 20 characters
            name = f"g{generation}_{stage[:3]}"
            self._names[stage] = name
            self._order[stage] = {rule_id: index for index, (rule_id, _) in enumerate(rules)}
            ruleset = {f"r{index:04d}": {"all": [{"m": condition}], "run": rule_id}
                       for index, (rule_id, condition) in enumerate(rules)}
            ruleset["r_any"] = {"all": [{"m": ALWAYS}], "run": CATCH_ALL}
            rulesets[name] = ruleset
        if rulesets:
            self._host.set_rulesets(copy.deepcopy(rulesets))

    def fired(self, stage: str, facts: dict) -> list[str]:
        """The ids of every rule of `stage` whose condition holds, in file order."""
        if stage not in self._names:
            return []
        ruleset = self._names[stage]
        with self._lock:
            sid = f"s{next(self._session)}"
            self._host.fired = []
            try:
                self._host.assert_fact(ruleset, {"sid": sid, **facts, "_stage": stage})
            finally:
                self._host.delete_state(ruleset, sid)
            fired = list(self._host.fired)
        order = self._order[stage]
        return sorted(set(fired), key=order.__getitem__)


def complete_facts(stage: str, given: dict, used: set[str]) -> dict:
    """The facts the stage's rules test (durable-rules holds at most 64 properties per fact), with defaults for
    what a caller left out; `None` means "not known" and leaves the fact absent; `_has_<fact>` says whether the
    caller gave it (for `exists` tests)."""
    defaults = FACTS[stage]
    facts = {"_stage": stage}
    for name in used:
        if name.startswith("_has_"):
            fact = name[len("_has_"):]
            facts[name] = given.get(fact) is not None if fact in given else True
        else:
            value = given[name] if name in given else defaults[name]
            if value is not None:
                facts[name] = value
    return facts
