"""The staff actions on a report and the service that decides each: the one list the door checks an action
against (services/gateway) and each decider's own table is held to (tests/unit/test_staff_actions.py).
Verification judges what its rules left to the operator; publishing publishes; handling decides the rest."""
from __future__ import annotations

HANDLING = ("acknowledge", "return", "request_info", "extend", "forward", "submit_result", "approve", "send_back",
            "designate", "rework", "directive", "missed_call", "reply", "mark_secret", "mark_non_public", "clarify",
            "agree", "called_back", "reopen")

DECIDERS = {"judge": "verification", "publish": "publishing"} | {action: "handling" for action in HANDLING}
