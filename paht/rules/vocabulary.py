"""The closed vocabulary of rule files: the facts each stage may test, its actions, and harmless defaults.

Facts are computed by the services; a rule may only test these names (`paht rules check` refuses others).
Defaults describe a complete, valid, fresh report, so a worked example names only what it exercises.
"""
from __future__ import annotations

# the reason codes a rule may give are the decisions' own (paht.schemas.REASON_CODES)

FACTS: dict[str, dict[str, object]] = {
    "acceptance": {
        "channel": "app", "urgent": False, "category": "roads_traffic",
        "reporter_has_name": True, "reporter_has_phone": True, "reporter_has_email": True,
        "reporter_has_address": True, "reporter_has_citizen_id": True,
        "has_media": True, "has_photo_or_video": True, "photo_age_known": True, "photo_age_h": 1.0,
        "capture_time_future": False, "capture_time_conflict": False, "capture_time_client_asserted": False,
        "has_gps": True, "has_address": True, "inside_province": True, "gps_distance_m": 0.0,
        "edited_software": False, "edited_datetime": False, "edited_thumbnail": False, "edited_requantized": False,
        "vendor_resave": False,
        "ela_score": 0.0, "duplicate_same_reporter": False, "open_same_matter": False, "cluster_count": 0,
        "first_time_reporter": False, "identity_status": "confirmed", "reporter_violations_month": 0,
        "reporter_violations_total": 0, "account_locked": False, "interaction_locked": False,
        "out_of_scope": False, "out_of_scope_kind": "", "prohibited_content": False,
        "operator_unclear_media": False, "operator_unclear_or_test": False, "within_intake_hours": True,
        "monitoring_only": False,
        # an SOS button report; one the pack's routing rules dispatch immediately (their `immediate` route), read
        # before acceptance (services/verification/verify.py)
        "sos": False, "immediate": False,
        # the description's language (paht/language.py): shares of its words that are Vietnamese syllables and that
        # carry a Vietnamese mark, and Unicode without legacy 8-bit encoding characters (TCVN 6909:2011)
        "vietnamese_words_rate": 1.0, "marked_words_rate": 1.0, "unicode_text": True,
    },
    "routing": {
        "category": "roads_traffic", "urgent": False, "ward_code": "", "ward_found": False, "inside_province": True,
        "suggested_agency": "", "designated_agency": "", "returned_count": 0,
    },
    # rework_kind: the centre's rework request (`format` | `content`), "" for every other step
    # sanction_procedure: the report is handled under an administrative-sanction procedure (the staff action
    # `sanction_procedure`; ST-22 Điều 13 Bước 4, TTH Điều 11 khoản 2 and Điều 15 khoản 4, VL Điều 12 khoản 2 điểm b
    # and Điều 16 khoản 4)
    # category: the report's category, for regulations that set a deadline per field (paht/sla_facts.py)
    "sla": {"step": "process", "urgent": False, "multi_agency": False, "designated": False, "rework_kind": "",
            "sanction_procedure": False, "category": "roads_traffic"},
    # subject citizen: one reporter's record (services/verification/penalties.py: abusive submissions ever, violating
    # interactions within the pack's interaction_violation_window); subject agency: one agency's counters over one
    # period (day, week, month, quarter, year), computed from the reports' timelines and deadlines
    # (services/rating/scorecards.py)
    "penalties": {
        "subject": "agency", "abusive_submissions_total": 0, "violations_month": 0,
        "period": "month", "received": 0, "resolved": 0, "on_time": 0, "late_count": 0, "late_over_limit_count": 0,
        "extended_count": 0, "extended_without_result": 0, "returns_count": 0, "late_returns_count": 0,
        "late_returns_rate": 0.0, "results_count": 0, "rework_count": 0, "substandard_results_rate": 0.0,
        "corrective_directives": 0, "interactions_count": 0, "unanswered_interactions": 0,
        "unanswered_interactions_rate": 0.0, "missed_hotline_calls": 0, "unanswered_call_violations": 0,
        "repeat_violations": 0,
        "repeat_violations_rate": 0.0, "rereported_over_3": 0, "rated_count": 0, "satisfied_rate": 1.0,
        "satisfied_or_accepted_rate": 1.0,
    },
}

ACTIONS = {
    "acceptance": ("accept", "reject", "request_supplement", "warn", "forward_for_monitoring", "dispatch_at_once",
                   "hide"),
    "routing": ("route", "unresolved"),
    "sla": ("set_deadline", "no_deadline"),
    "penalties": ("lock_account", "lock_interaction", "report_to_province", "not_eligible_excellent"),
}

STEPS = (
    "receive", "dispatch", "acknowledge", "return", "request_info", "process", "forward", "co_process", "compile",
    "approve", "publish", "rework", "supplement", "identity_check", "designate", "interaction_reply",
    "co_return", "clarify", "agree", "operator_check", "sos_callback", "handling",
)
UNITS = ("min", "h", "d", "wh", "wd")
ROUTE_TARGETS = ("ward_committee", "suggested", "designated")
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")

# the unit a numeric fact is measured in, so `$photo_max_age` given in days compares with hours
FACT_UNITS = {"photo_age_h": "h"}
HOURS_PER = {"min": 1 / 60, "h": 1, "d": 24}

# ---- values (`paht rules check` compares every value a rule tests or sets with these) -------------------------
# the values an enum-like fact takes; "@categories" = the ids of rules/categories.yaml, "@agencies" = the pack's
# agencies.yaml ids ("" = none given)
FACT_VALUES: dict[str, tuple | str] = {
    "channel": ("app", "portal", "hotline", "email", "zalo", "facebook", "open311"),
    "category": "@categories",
    "identity_status": ("unverified", "pending", "confirmed", "false"),
    "out_of_scope_kind": ("", "complaint", "denunciation", "dispute", "lawsuit"),
    "subject": ("citizen", "agency"),
    "period": ("day", "week", "month", "quarter", "year"),
    "step": STEPS,
    "rework_kind": ("", "format", "content"),
    "suggested_agency": "@agencies",
    "designated_agency": "@agencies",
}
# facts that are shares (0..1): "dưới 70%" is lt: 0.7, never lt: 70
FRACTION_FACTS = ("ela_score",)   # and every fact whose name ends in _rate

# the steps code opens a deadline for: services/sla/deadlines.py STEP_OF_STATE and STEP_OF_CAUSE, and the steps
# services/sla/service.py opens from causes (return, co_process). An sla rule timing any other step never runs, so
# `paht rules check` refuses it; tests/unit/test_rules_values.py keeps this list equal to the code.
OPENED_STEPS = (
    "receive", "supplement", "dispatch", "designate", "acknowledge", "process", "approve", "publish", "rework",
    "identity_check", "operator_check", "sos_callback", "return", "co_process",
    # services/sla/deadlines.py OPENED_STEPS: judged after the fact, side steps, the designated agency's agreement
    "request_info", "co_return", "forward", "compile", "interaction_reply", "clarify", "agree",
    # one deadline for the whole handling, from the first dispatch to the result's delivery (SIDE_STEPS)
    "handling",
)

# pack.yaml parameters the code reads itself (not through a rule's $name); any other parameter that no rule
# references is refused by `paht rules check`; tests/unit/test_rules_values.py keeps this list equal to the code
CODE_PARAMETERS = ("agree_time", "extension_max_fraction", "interaction_violation_window", "late_report_limit",
                   "late_report_limit_skips_urgent", "unanswered_calls", "unanswered_calls_window")

# operator checks: a `warn` rule with `check: <name>` holds the report in `submitted` until the operator judges
# the check (judge {"name": <name>, "value": "confirmed" | "rejected"}); rejected → the rule's reason rejects it
CHECKS = {
    "photo_age_unknown": "no usable capture time: the operator checks the photo was taken within the limit",
    "capture_time_future": "the file says it was captured after it was sent",
    "capture_time_conflict": "the app's capture time and the file's own differ",
    "capture_time_client_asserted": "the photo age rests on the app's word only",
    "edited_thumbnail": "the picture differs from the thumbnail the file carries (a weak sign of editing)",
    "not_vietnamese": "the description may not be written in Vietnamese (Unicode): the operator reads it",
}
CHECK_OUTCOMES = ("confirmed", "rejected")

# the `then` fields each action takes (besides `action`)
ACTION_FIELDS = {
    "accept": (), "reject": ("reason",), "request_supplement": ("reason",), "warn": ("reason", "check"),
    "forward_for_monitoring": (), "dispatch_at_once": (), "hide": (),
    "route": ("lead", "co", "immediate"), "unresolved": (),
    "set_deadline": ("amount", "unit", "deadline", "warn_at", "on_miss"), "no_deadline": (),
    "lock_account": ("duration",), "lock_interaction": ("duration",), "report_to_province": (),
    "not_eligible_excellent": (),
}
