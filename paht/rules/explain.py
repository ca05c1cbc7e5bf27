"""`paht rules explain RULE_ID`: one rule as an author reads it — its pack and stage, its article, where it is
written (file:line), its condition and decision, and the facts it reads (with what each means to the engine: the
value a report has when the services do not say, and the values it can take)."""
from __future__ import annotations

import json
from pathlib import Path

from .errors import PackError
from .vocabulary import FACT_UNITS, FACT_VALUES, FACTS


def find_rule(rule_id: str, packs: list) -> list[tuple[object, str, dict]]:
    """(pack, stage, rule) of every loaded pack holding a rule with this id."""
    return [(pack, stage, rule) for pack in packs for stage, rules in pack.stages.items()
            for rule in rules if rule["id"] == rule_id]


def _flow(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def fact_lines(stage: str, facts: list[str]) -> list[str]:
    lines = []
    for fact in facts:
        if fact.startswith("_has_"):   # the compiler's own test of whether a fact was given at all
            continue
        default = FACTS.get(stage, {}).get(fact)
        values = FACT_VALUES.get(fact)
        what = f"default {_flow(default)}"
        if isinstance(values, tuple):
            what += f"; one of {', '.join(map(_flow, values))}"
        elif isinstance(values, str):
            what += f"; one of the pack's {values[1:]}"
        if fact in FACT_UNITS:
            what += f"; in {FACT_UNITS[fact]}"
        lines.append(f"  {fact}: {what}")
    return lines


def explain(pack, stage: str, rule: dict) -> str:
    regulation = (pack.meta.get("regulation") or {}).get("title") or ""
    lines = [f"{rule['id']}  ({pack.id}, stage {stage})",
             f"article:  {rule['article']}" + (f" — {regulation}" if regulation else ""),
             f"file:     {Path(pack.path) / rule['file']}:{rule['line']}"]
    if rule.get("title"):
        lines.append(f"title:    {rule['title']}")
    lines.append(f"when:     {_flow(rule.get('when')) if rule.get('when') is not None else '(always)'}")
    lines.append(f"then:     {_flow(rule['then'])}")
    for key in ("message", "message_en", "rejection_message", "rejection_message_en"):
        if rule.get(key):
            lines.append(f"{key}: {rule[key]}")
    facts = fact_lines(stage, rule.get("facts_used") or [])
    lines.append("facts read:" if facts else "facts read: none (the rule always applies)")
    return "\n".join(lines + facts)


def main(rule_id: str, pack_dirs: list[Path], load_pack) -> int:
    packs = []
    for pack_dir in pack_dirs:
        try:
            packs.append(load_pack(pack_dir))
        except PackError as exc:
            print(f"FAIL {pack_dir}: {exc}")
    found = find_rule(rule_id, packs)
    if not found:
        print(f"no rule {rule_id!r} in {', '.join(p.id for p in packs) or 'any pack'}")
        return 1
    print("\n\n".join(explain(*hit) for hit in found))
    return 0
