"""The facts document the pack's acceptance rules decide on, assembled from the evidence of one report."""
from __future__ import annotations

from datetime import datetime

from paht.rules.vocabulary import CHECK_OUTCOMES, CHECKS
from paht.schemas import REPORTER_FIELDS
from paht.worktime import calendar_for


def locked(lock: dict | None, now: datetime | None) -> bool:
    """A lock holds until its `until` (none: until an operator lifts it)."""
    if not lock:
        return False
    until = lock.get("until")
    return until is None or now is None or now < until


def reporter_facts(reporter: dict, history: dict | None, month: str = "", now: datetime | None = None,
                   report_id: str | None = None) -> dict:
    """A signed-in account (app or portal) was verified when it was created; otherwise the operator confirms
    a first-time reporter's identity (identity_check). The report being verified is not part of the reporter's
    history: verified again (after a supplement or an operator's check) it is still a first report."""
    given = set(reporter.get("has") or ())
    facts = {f"reporter_has_{field}": field in given for field in REPORTER_FIELDS}
    history = history or {}
    default_status = "confirmed" if reporter.get("account_verified") else "unverified"
    facts.update({
        "first_time_reporter": not [earlier for earlier in history.get("reports") or [] if earlier != report_id],
        "identity_status": history.get("identity_status", default_status),
        "reporter_violations_month": len((history.get("violating_reports_by_month") or {}).get(month, [])),
        "reporter_violations_total": len(history.get("violating_reports", [])),
        "account_locked": locked(history.get("account_locked"), now),
        "interaction_locked": locked(history.get("interaction_locked"), now),
    })
    return facts


def intake_facts(report: dict, pack_meta: dict, submitted_at: datetime) -> dict:
    windows = (pack_meta.get("intake") or {}).get("normal_windows")
    return {
        "channel": report.get("channel", "app"),
        "urgent": bool(report.get("urgent")),
        "category": report.get("category") or "other",
        "within_intake_hours": calendar_for(pack_meta).within_windows(submitted_at, windows),
    }


def operator_facts(judgements: dict | None) -> dict:
    """The operator's findings; `operator_checks` holds the judged checks of the pack's holding `warn` rules
    (confirmed or rejected), which the pack's acceptance decision reads."""
    judgements = judgements or {}
    return {
        "operator_unclear_media": bool(judgements.get("unclear_media")),
        "operator_unclear_or_test": bool(judgements.get("unclear_or_test")),
        "monitoring_only": bool(judgements.get("monitoring_only")),
        "operator_checks": {name: judgements[name] for name in CHECKS if judgements.get(name) in CHECK_OUTCOMES},
    }
