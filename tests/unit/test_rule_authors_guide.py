"""docs/rule-authors.md keeps up with the vocabulary (issue 24 item 1): it names, as `code`, every fact of every
stage, every action, every step, every unit of time, every route target and every operator check."""
from pathlib import Path

import pytest

from paht.rules.vocabulary import ACTIONS, CHECKS, FACTS, ROUTE_TARGETS, STEPS, UNITS

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "rule-authors.md").read_text(encoding="utf-8")
NAMES = {
    "fact": sorted({fact for facts in FACTS.values() for fact in facts}),
    "action": sorted({action for actions in ACTIONS.values() for action in actions}),
    "step": list(STEPS),
    "unit": list(UNITS),
    "route target": list(ROUTE_TARGETS),
}


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_the_guide_names_every(kind):
    missing = [name for name in NAMES[kind] if f"`{name}`" not in GUIDE]
    assert not missing, f"docs/rule-authors.md does not name these {kind}s: {', '.join(missing)}"


def test_every_stage_has_its_facts_section():
    for stage in FACTS:
        assert f"### {stage}\n" in GUIDE


def test_the_guide_points_to_the_operator_checks():
    assert "CHECKS" in GUIDE and any(f"check: {check}" in GUIDE for check in CHECKS)
