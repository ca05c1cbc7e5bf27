"""The door's list of staff actions (paht.actions) is exactly what the deciders decide."""
from paht.actions import DECIDERS, HANDLING
from services.handling.actions import ACTIONS


def test_handling_decides_exactly_its_actions():
    assert set(ACTIONS) == set(HANDLING)
    assert {action for action, service in DECIDERS.items() if service == "handling"} == set(ACTIONS)


def test_every_action_has_one_decider_that_exists():
    assert set(DECIDERS.values()) == {"handling", "verification", "publishing"}
    assert DECIDERS["judge"] == "verification" and DECIDERS["publish"] == "publishing"
