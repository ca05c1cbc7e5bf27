"""The closed vocabulary of rule files: the facts each stage may test, its actions, and harmless defaults.

Facts are computed by the services; a rule may only test these names (`paht rules check` refuses others).
Defaults describe a complete, valid, fresh report, so a worked example names only what it exercises.
"""
from __future__ import annotations

REASON_CODES = (
    "MISSING_REPORTER_INFO", "MISSING_MEDIA", "PHOTO_TOO_OLD", "MISSING_LOCATION", "EDITED_MEDIA", "UNCLEAR_MEDIA",
    "DUPLICATE", "ALREADY_IN_PROGRESS", "OUT_OF_SCOPE", "PROHIBITED_CONTENT", "UNCLEAR_OR_TEST",
    "SUPPLEMENT_TIMEOUT", "IDENTITY_TIMEOUT", "IDENTITY_FALSE", "CANCELLED_BY_REPORTER", "ACCOUNT_LOCKED",
)

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
    },
    "routing": {
        "category": "roads_traffic", "urgent": False, "ward_code": "", "ward_found": False, "inside_province": True,
        "suggested_agency": "", "designated_agency": "", "returned_count": 0,
    },
    "sla": {"step": "process", "urgent": False, "multi_agency": False, "designated": False},
    # subject citizen: one reporter's record; subject agency: one agency's counters over one period (day, week,
    # month, quarter, year), computed from the reports' timelines and deadlines (services/rating/scorecards.py)
    "penalties": {
        "subject": "agency", "abusive_submissions_total": 0, "violations_month": 0,
        "period": "month", "received": 0, "resolved": 0, "on_time": 0, "late_count": 0, "late_over_limit_count": 0,
        "extended_count": 0, "extended_without_result": 0, "returns_count": 0, "late_returns_count": 0,
        "late_returns_rate": 0.0, "results_count": 0, "rework_count": 0, "substandard_results_rate": 0.0,
        "corrective_directives": 0, "interactions_count": 0, "unanswered_interactions": 0,
        "unanswered_interactions_rate": 0.0, "missed_hotline_calls": 0, "repeat_violations": 0,
        "repeat_violations_rate": 0.0, "rereported_over_3": 0, "rated_count": 0, "satisfied_rate": 1.0,
        "satisfied_or_accepted_rate": 1.0,
    },
}

ACTIONS = {
    "acceptance": ("accept", "reject", "request_supplement", "warn", "forward_for_monitoring"),
    "routing": ("route", "unresolved"),
    "sla": ("set_deadline", "no_deadline"),
    "penalties": ("lock_account", "lock_interaction", "report_to_province", "not_eligible_excellent"),
}

STEPS = (
    "receive", "dispatch", "acknowledge", "return", "request_info", "process", "forward", "co_process", "compile",
    "approve", "publish", "rework", "supplement", "identity_check", "designate", "interaction_reply",
)
UNITS = ("min", "h", "d", "wh", "wd")
ROUTE_TARGETS = ("ward_committee", "suggested", "designated")
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")

# the unit a numeric fact is measured in, so `$photo_max_age` given in days compares with hours
FACT_UNITS = {"photo_age_h": "h"}
HOURS_PER = {"min": 1 / 60, "h": 1, "d": 24}
