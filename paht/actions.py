"""The staff actions on a report and the service that decides each: the one list the door checks an action
against (services/gateway) and each decider's own table is held to (tests/unit/test_staff_actions.py).
Verification judges what its rules left to the operator; publishing publishes; handling decides the rest."""
from __future__ import annotations

HANDLING = ("acknowledge", "return", "request_info", "extend", "forward", "submit_result", "approve", "send_back",
            "designate", "rework", "directive", "missed_call", "reply", "mark_secret", "mark_non_public", "clarify",
            "agree", "called_back", "reopen")

# the administrative-sanction procedure and its status updates (ST-22 Điều 13 Bước 4, TTH Điều 11 khoản 2, Điều 15
# khoản 4, VL Điều 12 khoản 2 điểm b, Điều 16 khoản 4)
HANDLING += ("sanction_procedure", "status_update")

# the centre sets an extension's time from the agency's notice (ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3);
# an agency asks for the reporter's contact data (TN Điều 13 khoản 8); the centre standardises the text (ST-22 Điều 8
# khoản 1, ST-23 Điều 2 khoản 4, TTH Điều 9 khoản 1, VL Điều 10 khoản 1)
HANDLING += ("set_extension", "request_contact", "edit_text")

# the centre finds no agency can be identified for a report its rules sent to one (ST-22 Điều 16, ST-23 Điều 5, TTH
# Điều 16, VL Điều 17, TN Điều 7 khoản 3 điểm c): the report waits for the designation
HANDLING += ("unresolve",)

# the centre's report to the province's People's Committee (UBND) on a report, with its letter (the packs' Điều 3/4
# principles; VL Điều 20 khoản 1 điểm d; ST-22 Điều 28 khoản 2): publishing renders the pack's letter
PUBLISHING = ("publish", "refer_to_province")

DECIDERS = {"judge": "verification"} | {action: "publishing" for action in PUBLISHING} \
    | {action: "handling" for action in HANDLING}
