"""What a pack declares of each step (paht/rules/steps.py) agrees with what the sla stage decides for every report."""
from __future__ import annotations

import itertools

import pytest

from paht.rules import get_pack, list_packs
from paht.rules.steps import declared_step, steps_named
from paht.rules.vocabulary import STEPS

REPORTS = [{"urgent": urgent, "multi_agency": multi, "designated": designated, "rework_kind": kind}
           for urgent, multi, designated, kind in itertools.product((False, True), (False, True), (False, True),
                                                                   ("", "format", "content"))]


@pytest.mark.parametrize("pack_id", list_packs())
def test_each_declared_step_is_what_the_sla_stage_decides_for_every_report(pack_id):
    pack = get_pack(pack_id)
    for step in STEPS:
        declared = pack.step(step)
        decided = [pack.evaluate("sla", dict(report, step=step)) for report in REPORTS]
        assert declared.timed == any(d["decision"] == "set_deadline" for d in decided), step
        if declared.deadline is not None:
            for decision in decided:
                assert {key: decision.get(key) for key in ("amount", "unit", "on_miss", "rule", "article")} == \
                    declared.deadline, (step, decision)


def test_the_reporters_steps_of_the_bundled_packs():
    hue, tay_ninh = get_pack("thua-thien-hue-2022"), get_pack("tay-ninh-2024")
    assert hue.step("identity_check").timed and hue.step("supplement").deadline["amount"] == 2
    assert hue.step("supplement").deadline["on_miss"] == {"action": "reject", "reason": "SUPPLEMENT_TIMEOUT"}
    assert not tay_ninh.step("identity_check").timed and tay_ninh.step("supplement").deadline is None
    assert hue.step("receive").timed and hue.step("receive").deadline is None      # shorter when urgent
    assert not hue.step("no-such-step").timed


def rule(rule_id, when, action="set_deadline", amount=1, facts=None):
    then = {"action": action, **({"amount": amount, "unit": "d", "on_miss": {"action": "flag_late"}}
                                 if action == "set_deadline" else {})}
    used = facts if facts is not None else sorted({"step"} if "step" in str(when) else set())
    return {"id": rule_id, "article": "Điều 1", "when": when, "then": then, "facts_used": used}


def test_the_first_rule_testing_only_the_step_decides_unless_a_conditional_one_comes_first():
    plain = rule("a", {"step": "supplement"}, amount=2)
    assert declared_step([plain], "supplement").deadline["amount"] == 2
    urgent_first = rule("u", {"all": [{"step": "supplement"}, {"urgent": True}]}, amount=1, facts=["step", "urgent"])
    depends = declared_step([urgent_first, plain], "supplement")
    assert depends.timed and depends.deadline is None
    untimed = declared_step([rule("n", {"step": "supplement"}, action="no_deadline"), plain], "supplement")
    assert not untimed.timed and untimed.deadline is None
    every_step = declared_step([rule("all", {}, amount=5), plain], "identity_check")
    assert every_step.deadline["rule"] == "all"
    assert not declared_step([plain], "identity_check").timed


def test_the_steps_a_condition_names():
    assert steps_named({"step": "receive"}) == {"receive"}
    assert steps_named({"step": {"in": ["receive", "dispatch"]}}) == {"receive", "dispatch"}
    assert steps_named({"all": [{"step": {"eq": "receive"}}, {"urgent": True}]}) == {"receive"}
    assert steps_named({"any": [{"step": "receive"}, {"urgent": True}]}) is None    # any step, when urgent
    assert steps_named({"any": [{"step": "receive"}, {"step": "process"}]}) == {"receive", "process"}
    assert steps_named({"step": {"ne": "receive"}}) is None and steps_named({}) is None


def test_verification_holds_a_first_time_reporter_where_the_pack_times_the_identity_check():
    from services.verification.verify import needs_identity_check
    accepted, first = {"decision": "accepted"}, {"identity_status": "unverified", "first_time_reporter": True}
    only_declarations = {pack_id: type("Pack", (), {"step": get_pack(pack_id).step})() for pack_id in list_packs()}
    assert needs_identity_check(only_declarations["thua-thien-hue-2022"], first, accepted)   # no sla evaluation
    assert not needs_identity_check(only_declarations["tay-ninh-2024"], first, accepted)     # the pack times none
    hue = only_declarations["thua-thien-hue-2022"]
    assert not needs_identity_check(hue, dict(first, identity_status="confirmed"), accepted)
    assert not needs_identity_check(hue, dict(first, first_time_reporter=False), accepted)
    assert needs_identity_check(hue, {"identity_status": "pending", "first_time_reporter": False}, accepted)
    assert not needs_identity_check(hue, first, {"decision": "needs_supplement"})
