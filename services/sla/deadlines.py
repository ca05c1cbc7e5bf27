"""The sla domain: which step a report is in, when that step falls due, and what a missed deadline does."""
from __future__ import annotations

from datetime import datetime

from paht.agreement import designation_role  # noqa: F401  (what the designated agency does; service.py reads it)
from paht.rules import get_pack
from paht.rules.steps import centre_agency, party_of
from paht.schemas import Decision, lead_agency
from paht.sla_facts import sla_facts  # noqa: F401  (the service's name for it; `paht rules replay` reads it too)
from paht.worktime import calendar_for, intake_opening

from .schemas import PublicDeadline

# the step a report in each state is waiting on; terminal states wait on nothing. A report waiting for the
# province to designate an agency (routing_unresolved) waits on no timed step: the designated agency's answer is
# the `designate` step, from the designation (Điều 16/17 of the seeds)
STEP_OF_STATE = {
    "submitted": "receive",
    "needs_supplement": "supplement",
    "accepted": "dispatch",
    "dispatched": "acknowledge",
    "in_progress": "process",
    "result_submitted": "approve",
    "approved": "publish",
}
# a cause that puts the report on another step than its state's: a rework request opens the short rework step
# instead of a new processing step; the designated agency's agreement lets the centre publish; a report held for
# the operator's check (a `warn` rule with a `check`) waits on the verification of its content (TTH Điều 7 khoản 5
# điểm b, VL Điều 8 khoản 2: "xác minh yêu cầu cung cấp thông tin, nội dung phản ánh")
STEP_OF_CAUSE = {"rework_requested": "rework", "identity_check_started": "identity_check", "agreed": "publish",
                 "operator_check_started": "operator_check"}
# steps judged after the fact: the action came later than the pack allows (the cause → the step it is judged as)
JUDGED_STEPS = {"returned": "return", "info_requested": "request_info", "co_returned": "co_return"}
# steps that run beside the report's own step, charged to whoever must act: each ends by its own event, or when
# the report leaves the states in which it can still happen (None: in any state)
SIDE_STEPS = {
    "forward": ("in_progress",),                        # the lead hands the report to its co-agencies
    "co_process": ("in_progress", "result_submitted"),  # one per co-agency, charged to that co-agency
    "compile": ("in_progress",),                        # the lead compiles the co-agencies' parts
    "designate": ("dispatched", "in_progress", "result_submitted"),   # a designated lead's result
    "interaction_reply": None,                          # one per reporter interaction, ended by the reply
    "clarify": None,                                    # after a dissatisfied rating, ended by `clarified`
    "sos_callback": None,                               # an SOS report, from its submission, ended by `called_back`
    # the centre's check of a held report, where the receive deadline runs from the report's arrival and the hold
    # does not stop it (pack.yaml `intake.receive_counts_from: submission`, ST-22 Điều 8 khoản 2)
    "operator_check": ("submitted",),
    # one deadline for the whole handling, where a regulation sets one instead of (or beside) each step's ("thời hạn
    # xử lý và phản hồi kết quả không quá 03 ngày làm việc"): from the first dispatch to the result's delivery,
    # through returns and re-dispatches, charged to the lead (issue 24 item 3)
    "handling": ("accepted", "routing_unresolved", "dispatched", "in_progress", "result_submitted", "approved"),
}
# the event that ends a side step (besides co_process and interaction_reply, which service.py ends by detail)
CLOSED_BY = {"forward": "forwarded", "clarify": "clarified", "sos_callback": "called_back"}
# steps of receiving a report: a normal report received outside the pack's intake hours starts them at the next
# opening (its dispatch waits for that opening too, services/routing)
INTAKE_STEPS = ("receive", "supplement", "identity_check", "operator_check", "dispatch", "designate", "acknowledge")
# every step the code opens a deadline for (the vocabulary's list of opened steps mirrors this)
OPENED_STEPS = tuple(dict.fromkeys([*STEP_OF_STATE.values(), *STEP_OF_CAUSE.values(), *JUDGED_STEPS.values(),
                                    *SIDE_STEPS, "agree"]))


def checks_beside_receive(pack_meta: dict) -> bool:
    """The pack's receive deadline runs from the report's arrival (pack.yaml `intake.receive_counts_from:
    submission`; ST-22 Điều 8 khoản 2 "trong vòng 04 giờ làm việc ngay sau khi có phản ánh"), so holding a report
    for the centre's check of its content does not end it: the check runs beside it. Otherwise (the default) the
    receive deadline counts from a successful verification (VL Điều 10 khoản 1 "kể từ thời điểm xác minh thành
    công") and the check replaces it."""
    return (pack_meta.get("intake") or {}).get("receive_counts_from", "verification") == "submission"


def step_for(announced) -> str | None:
    return STEP_OF_CAUSE.get(announced.cause) or STEP_OF_STATE.get(announced.to_state)


def start_of_clock(pack_meta: dict, report: dict, step: str, at: datetime) -> datetime:
    """A normal report received outside the pack's intake hours starts the clock of its receiving steps at the
    next opening; urgent ones at once."""
    if step not in INTAKE_STEPS or report.get("urgent"):
        return at
    return intake_opening(pack_meta, at)


def new_deadline(pack, report: dict, step: str, opened_at: datetime, cause_event_id: str, *, agency: str | None = None,
                 subject: str | None = None, role: str = "state", live_states=None, start: datetime | None = None,
                 rework_kind: str = "", multi_agency: bool | None = None) -> dict | None:
    """The deadline document for a step, or None when the pack sets no deadline for it.

    `agency` is who must act (default: whose step it is, `charged_agency`); `subject` tells apart deadlines of one step that run together
    (a co-agency's id, an interaction's id); `role` "state" is the report's own step (ended by its next step),
    "side" one that runs beside it until its own event or until the report leaves `live_states`."""
    rule = pack.evaluate("sla", sla_facts(report, step, rework_kind, multi_agency))
    if rule.get("decision") != "set_deadline":
        return None
    start = start or start_of_clock(pack.meta, report, step, opened_at)
    agency = agency or charged_agency(pack, report, step)
    # the working time of whoever must act: an agency with its own office hours in agencies.yaml keeps them
    calendar = calendar_for(pack.meta, pack.agencies.get(agency) if agency else None)
    due = calendar.add(start, rule["amount"], rule["unit"])
    warn_at = float(rule.get("warn_at") or 0.75)
    warn_due = start + (due - start) * warn_at
    key = f"{step}:{subject}" if subject else step
    return {
        "_id": f"{report['id']}:{key}:{cause_event_id}",
        "report_id": report["id"], "pack": report["pack"], "step": step, "key": key, "subject": subject,
        "agency": agency, "party": party_of(step), "role": role,
        "live_states": list(live_states) if live_states is not None else None,
        "cause_event_id": cause_event_id, "opened_at": opened_at, "starts_at": start, "due": due,
        "warn_due": warn_due, "warned": False,
        "amount": rule["amount"], "unit": rule["unit"], "rule": rule["rule"], "article": rule["article"],
        "on_miss": rule.get("on_miss") or {"action": "flag_late"}, "status": "open", "active": True,
        "message": rule.get("message"),
        "state_at_open": report["state"],
    }


def charged_agency(pack, report: dict, step: str) -> str | None:
    """Who a missed deadline of `step` is charged to: the centre's own steps to the pack's centre (F1: never the
    lead agency), the reporter's to no agency, every other step to the lead."""
    party = party_of(step)
    if party == "centre":
        return centre_agency(pack.agencies)
    return lead_agency(report) if party == "agency" else None


def charged_to(deadline: dict) -> str | None:
    """The agency a stored deadline is charged to, read again from its step: a centre's step kept from before the
    centre was charged (its lead agency in `agency`) counts for the centre, so a rerun for a past period agrees."""
    if party_of(deadline["step"]) == "centre":
        return centre_agency(get_pack(deadline["pack"]).agencies)
    return deadline.get("agency")


def public_deadline(deadline: dict, late: bool = False, tz=None) -> dict:
    """The deadline as the report shows it, in the province's time. A missed timeout that rejects the report
    (supplement, identity) is not an agency's lateness."""
    flags_late = (deadline.get("on_miss") or {}).get("action", "flag_late") == "flag_late"
    local = (lambda t: t.astimezone(tz)) if tz else (lambda t: t)
    return PublicDeadline(
        step=deadline["step"], subject=deadline.get("subject"),
        due=local(deadline["due"]).isoformat(), opened_at=local(deadline["opened_at"]).isoformat(),
        late=flags_late and (late or deadline.get("status") == "missed"), agency=deadline.get("agency"),
        party=deadline.get("party"),
        rule=deadline["rule"], article=deadline["article"], amount=deadline["amount"], unit=deadline["unit"],
    ).model_dump(exclude_none=True)


def deadline_decision(kind: str, deadline: dict, now: datetime, event_id: str, late: bool = False,
                      closed: bool = False, tz=None) -> Decision:
    entry = public_deadline(deadline, late, tz)
    if closed:
        entry["closed_at"] = now.isoformat()
    patch = {f"deadlines.{deadline.get('key') or deadline['step']}": entry}
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
                            "article": deadline["article"], "agency": deadline.get("agency"),
                            "party": deadline.get("party"),
                            **({"subject": deadline["subject"]} if deadline.get("subject") else {})},
                    patch=patch)


MISSED_MESSAGES = {
    "SUPPLEMENT_TIMEOUT": "Phản ánh bị từ chối vì quá thời hạn bổ sung thông tin theo yêu cầu.",
    "IDENTITY_TIMEOUT": "Phản ánh bị từ chối vì không xác minh được danh tính người phản ánh trong thời hạn.",
    "OPERATOR_CHECK_TIMEOUT": "Phản ánh bị từ chối vì không xác minh được thông tin, nội dung phản ánh trong thời hạn.",
}


def within_processing_deadline(process_deadlines: list[dict], now: datetime) -> dict:
    """"Còn trong thời hạn xử lý" (TTH Điều 7 khoản 5 điểm b, VL Điều 8 khoản 2: a new report on the same matter is
    refused only then) for one report, from its `process` deadlines: the latest one, as extended, runs and is not
    yet due, or ended in time. A report with no processing deadline (not acknowledged yet, or one the pack sets no
    deadline for) is within it; one whose deadline passed is not, whatever its state."""
    own = [d for d in process_deadlines if d.get("status") != "replaced"]
    if not own:
        return {"within": True, "due": None, "rule": None, "article": None}
    latest = max(own, key=lambda d: d["opened_at"])
    ended = latest.get("closed_at") if latest.get("status") == "closed" else None
    within = latest.get("status") != "missed" and (ended or now) <= latest["due"]
    return {"within": within, "due": latest["due"], "rule": latest.get("rule"), "article": latest.get("article")}


def agency_lateness(deadlines: list[dict], start: datetime, end: datetime) -> tuple[dict[str, dict], list[dict]]:
    """The sla service's share of the agencies' scorecards for [start, end): deadlines each agency missed, the
    processing steps it closed in time, late wrong-jurisdiction returns, extensions that ran out without a
    result; and the list of every missed deadline (the "late list" of the periodic report), each charged to
    whoever had to act: the centre's own steps to the centre. A timeout that rejects the report is no one's
    lateness."""
    cards: dict[str, dict] = {}
    late = []
    for deadline in deadlines:
        agency = charged_to(deadline)
        if not agency or (deadline.get("on_miss") or {}).get("action", "flag_late") != "flag_late":
            continue
        card = cards.setdefault(agency, {"late_count": 0, "on_time": 0, "late_returns_count": 0,
                                         "extended_without_result": 0})
        missed_at = deadline.get("missed_at")
        if deadline.get("status") == "missed" and missed_at is not None and start <= missed_at < end:
            card["late_count"] += 1
            card["late_returns_count"] += deadline["step"] == "return"
            card["extended_without_result"] += deadline["step"] == "process" and bool(deadline.get("extended"))
            late.append({**{key: deadline.get(key) for key in ("report_id", "step", "due", "missed_at", "rule",
                                                                "article", "extended")},
                         "agency": agency, "party": party_of(deadline["step"])})
        elif deadline.get("status") == "closed" and deadline["step"] == "process":
            closed_at = deadline.get("closed_at")
            card["on_time"] += closed_at is not None and start <= closed_at < end
    late.sort(key=lambda item: (item["missed_at"], item["report_id"]))
    return cards, late
