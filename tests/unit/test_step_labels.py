"""Every step a pack's deadlines time has a label people read (paht.states.STEP_LABELS), in both languages."""
from paht.rules import get_pack, list_packs
from paht.states import STEP_LABELS


def test_every_step_of_every_pack_has_a_label():
    steps = {rule["then"].get("step") or rule.get("when", {}).get("step")
             for pack_id in list_packs() for rule in get_pack(pack_id).stages.get("sla", [])}
    steps.discard(None)
    assert steps and steps <= set(STEP_LABELS), sorted(steps - set(STEP_LABELS))
    assert all(vi and en for vi, en in STEP_LABELS.values())
