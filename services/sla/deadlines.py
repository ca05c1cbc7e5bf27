"""The sla domain: which step a report is in, when that step falls due, and what a missed deadline does."""
from __future__ import annotations

from datetime import datetime, timedelta

from paht.schemas import Decision, lead_agency
from paht.worktime import calendar_for

from .schemas import PublicDeadline

# the step a report in each state is waiting on; terminal states wait on nothing
STEP_OF_STATE = {
    "submitted": "receive",
    "needs_supplement": "supplement",
    "accepted": "dispatch",
    "routing_unresolved": "designate",
    "dispatched": "acknowledge",
    "in_progress": "process",
    "result_submitted": "approve",
    "approved": "publish",
}
# a rework request opens the short rework step instead of a new processing step
STEP_OF_CAUSE = {"rework_requested": "rework", "identity_check_started": "identity_check"}


def step_for(announced) -> str | None:
    return STEP_OF_CAUSE.get(announced.cause) or STEP_OF_STATE.get(announced.to_state)


def sla_facts(report: dict, step: str) -> dict:
    agencies = report.get("assigned_agencies") or []
    return {
        "step": step,
        "urgent": bool(report.get("urgent")),
        "multi_agency": len(agencies) > 1,
        "designated": bool((report.get("route") or {}).get("designated_agency")),
    }


def start_of_clock(pack_meta: dict, report: dict, step: str, at: datetime) -> datetime:
    """A normal report received outside the pack's intake hours starts its clock at the next opening."""
    windows = (pack_meta.get("intake") or {}).get("normal_windows")
    if step != "receive" or report.get("urgent") or not windows:
        return at
    calendar = calendar_for(pack_meta)
    probe = at
    for _ in range(7 * 24 * 4):
        if calendar.within_windows(probe, windows):
            return probe
        probe = (probe + timedelta(minutes=15)).replace(second=0, microsecond=0)
        probe = probe - timedelta(minutes=probe.minute % 15)
    return at


def new_deadline(pack, report: dict, step: str, opened_at: datetime, cause_event_id: str) -> dict | None:
    """The deadline document for a step, or None when the pack sets no deadline for it."""
    rule = pack.evaluate("sla", sla_facts(report, step))
    if rule.get("decision") != "set_deadline":
        return None
    start = start_of_clock(pack.meta, report, step, opened_at)
    calendar = calendar_for(pack.meta)
    due = calendar.add(start, rule["amount"], rule["unit"])
    warn_at = float(rule.get("warn_at") or 0.75)
    warn_due = start + (due - start) * warn_at
    lead = lead_agency(report)
    return {
        "_id": f"{report['id']}:{step}:{cause_event_id}",
        "report_id": report["id"], "pack": report["pack"], "step": step, "agency": lead,
        "cause_event_id": cause_event_id, "opened_at": opened_at, "starts_at": start, "due": due,
        "warn_due": warn_due, "warned": False,
        "amount": rule["amount"], "unit": rule["unit"], "rule": rule["rule"], "article": rule["article"],
        "on_miss": rule.get("on_miss") or {"action": "flag_late"}, "status": "open", "active": True,
        "message": rule.get("message"),
        "state_at_open": report["state"],
    }


def public_deadline(deadline: dict, late: bool = False, tz=None) -> dict:
    """The deadline as the report shows it, in the province's time. A missed timeout that rejects the report
    (supplement, identity) is not an agency's lateness."""
    flags_late = (deadline.get("on_miss") or {}).get("action", "flag_late") == "flag_late"
    local = (lambda t: t.astimezone(tz)) if tz else (lambda t: t)
    return PublicDeadline(
        step=deadline["step"], due=local(deadline["due"]).isoformat(), opened_at=local(deadline["opened_at"]).isoformat(),
        late=flags_late and (late or deadline.get("status") == "missed"), agency=deadline.get("agency"),
        rule=deadline["rule"], article=deadline["article"], amount=deadline["amount"], unit=deadline["unit"],
    ).model_dump(exclude_none=True)


def deadline_decision(kind: str, deadline: dict, now: datetime, event_id: str, late: bool = False,
                      closed: bool = False, tz=None) -> Decision:
    entry = public_deadline(deadline, late, tz)
    if closed:
        entry["closed_at"] = now.isoformat()
    patch = {f"deadlines.{deadline['step']}": entry}
    to_state, from_states = None, None
    on_miss = deadline.get("on_miss") or {}
    if kind == "deadline_missed" and on_miss.get("action") == "reject":
        to_state, from_states = "rejected", [deadline["state_at_open"]]
        patch["reasons"] = [{"code": on_miss["reason"], "rule": deadline["rule"], "article": deadline["article"],
                             "message": deadline.get("message") or MISSED_MESSAGES.get(on_miss["reason"], ""),
                             "message_en": None}]
    return Decision(event_id=event_id, report_id=deadline["report_id"], occurred_at=now, pack=deadline["pack"],
                    kind=kind, source="sla", to_state=to_state, from_states=from_states, actor={"service": "sla"},
                    detail={"step": deadline["step"], "due": entry["due"], "rule": deadline["rule"],
                            "article": deadline["article"], "agency": deadline.get("agency")},
                    patch=patch)


MISSED_MESSAGES = {
    "SUPPLEMENT_TIMEOUT": "Phản ánh bị từ chối vì quá thời hạn bổ sung thông tin theo yêu cầu.",
    "IDENTITY_TIMEOUT": "Phản ánh bị từ chối vì không xác minh được danh tính người phản ánh trong thời hạn.",
}


def agency_lateness(deadlines: list[dict], start: datetime, end: datetime) -> tuple[dict[str, dict], list[dict]]:
    """The sla service's share of the agencies' scorecards for [start, end): deadlines each agency missed, the
    processing steps it closed in time, late wrong-jurisdiction returns, extensions that ran out without a
    result; and the list of every missed deadline (the "late list" of the periodic report)."""
    cards: dict[str, dict] = {}
    late = []
    for deadline in deadlines:
        agency = deadline.get("agency")
        if not agency:
            continue
        card = cards.setdefault(agency, {"late_count": 0, "on_time": 0, "late_returns_count": 0,
                                         "extended_without_result": 0})
        missed_at = deadline.get("missed_at")
        if deadline.get("status") == "missed" and missed_at is not None and start <= missed_at < end:
            card["late_count"] += 1
            card["late_returns_count"] += deadline["step"] == "return"
            card["extended_without_result"] += deadline["step"] == "process" and bool(deadline.get("extended"))
            late.append({key: deadline.get(key) for key in ("report_id", "agency", "step", "due", "missed_at",
                                                             "rule", "article", "extended")})
        elif deadline.get("status") == "closed" and deadline["step"] == "process":
            closed_at = deadline.get("closed_at")
            card["on_time"] += closed_at is not None and start <= closed_at < end
    late.sort(key=lambda item: (item["missed_at"], item["report_id"]))
    return cards, late
