"""sla: opens a deadline for each step when a report enters it, closes it when it leaves, and a sweeper marks
what fell due (late, or a timeout that rejects). Timers are documents in the store, so a restart loses none."""
from __future__ import annotations

from datetime import datetime
from functools import partial

from eventlet.semaphore import Semaphore
from nameko.events import BROADCAST, EventDispatcher, event_handler
from nameko.rpc import rpc
from nameko.timer import timer

from paht import callers, clock
from paht.bus import on_transition, send_all
from paht.events import CLOCK_ADVANCED, jsonable
from paht.metrics import deadline_event
from paht.rpc import TimedRpcProxy
from paht.rules import get_pack
from paht.schemas import lead_agency
from paht.web import Observable
from paht.worktime import calendar_for

from .deadlines import (
    CLOSED_BY,
    SIDE_STEPS,
    STEP_OF_CAUSE,
    agency_lateness,
    checks_beside_receive,
    deadline_decision,
    designation_role,
    new_deadline,
    sla_facts,
    step_for,
    within_processing_deadline,
)
from .dependencies import Deadlines

# how often, and how many at most in one message, the decisions queued for intake are sent. A report's steps are
# usually a fraction of a second apart: once a second, intake applies what its submission, acceptance and dispatch
# opened and closed in one write, not one per step (no one waits on this bookkeeping; misses go at once)
TELL_INTAKE_EVERY, TELL_INTAKE_AT_ONCE = 1.0, 500

# causes that open, end or judge a step beside the report's own (all but the submission change no state)
SIDE_CAUSES = ("interaction", "interaction_replied", "clarification_requested", "clarified", "info_requested",
               "forwarded", "co_result_approved", "co_returned", "called_back", "submitted",
               "sanction_procedure_started")

SWEEPING = Semaphore()


class SlaService(Observable):
    name = "sla"

    deadlines = Deadlines()
    dispatch = EventDispatcher()
    handling = TimedRpcProxy("handling")

    @on_transition
    def on_report(self, announced):
        """The deadlines a change opens, ends or judges. What intake must hear of them is queued here, then they
        are marked done (a crash before that redoes the change: every decision id is derived, so each is queued
        and applied once); `tell_intake` sends the queue."""
        self.batch = []
        version = self.deadline_changes(announced)
        self.queue_batch()
        if version is not None:
            self.deadlines.advance_version(announced.report_id, version)

    def tell(self, decision, then=None):
        """A deadline decision for intake, with the others of the change (or the sweep) being handled; `then` runs
        once they are queued."""
        self.batch.append((decision, then))

    def queue_batch(self):
        self.deadlines.queue_for_intake([decision.model_dump(mode="json") for decision, _ in self.batch], clock.now())
        for _, then in self.batch:
            if then is not None:
                then()
        self.batch = None

    @timer(interval=TELL_INTAKE_EVERY)
    def tell_intake(self):
        """Send the queued decisions, oldest first, up to TELL_INTAKE_AT_ONCE a message (ten messages a tick at most):
        the deadlines of every report that changed meanwhile reach intake together instead of a message per change
        (deadline bookkeeping and late marks: no service waits on them)."""
        for _ in range(10):
            queued = self.deadlines.queued_for_intake(TELL_INTAKE_AT_ONCE)
            if not queued:
                return
            send_all(self.dispatch, [entry["decision"] for entry in queued])
            self.deadlines.sent_to_intake([entry["_id"] for entry in queued])

    @timer(interval=15, eager=True)
    def refresh_gauges(self):
        self.deadlines.observe_gauges(clock.now())

    def deadline_changes(self, announced) -> int | None:
        """Works out a change; returns the report version to record as handled (None: nothing to record)."""
        if announced.cause == "extended":
            self.extend(announced)
            return None
        pack = get_pack(announced.pack)
        if announced.cause == "operator_check_started" and checks_beside_receive(pack.meta):
            self.operator_check_beside(announced, pack)
            return None
        if announced.cause in SIDE_CAUSES:
            self.side_events(announced, pack)   # idempotent by the deadlines' ids, whatever the order
        if announced.from_state == announced.to_state and announced.cause not in STEP_OF_CAUSE:
            return None
        version = announced.report.get("version", 0)
        if self.deadlines.current_version(announced.report_id) >= version:
            return None  # this change, or a later one, was handled already
        now = clock.now()
        self.remember(announced)
        if announced.cause == "returned":
            returned_by = ((announced.report.get("route") or {}).get("returned_by") or [None])[-1]
            marks = self.deadlines.marks_of(announced.report_id)
            if not (designation_role(pack.meta) == "coordinator" and returned_by == marks.get("designated_agency")):
                # (a coordinating designated agency naming the competent one answers within its designate step)
                self.judge(announced, pack, now, "return", self.received_at(announced), returned_by)
        for deadline in self.deadlines.open_for(announced.report_id):
            if deadline.get("cause_event_id") == announced.event_id:
                continue  # opened by this very change before a crash: it stays
            if ended_by_change(deadline, announced.to_state):
                self.close(deadline, now)
        for deadline in self.steps_opened(announced, pack):
            self.deadlines.open(deadline)
            if self.deadlines.current_version(announced.report_id) > version:
                self.deadlines.close(deadline["_id"], now)  # overtaken while opening it
            else:
                self.announce_opened(deadline, now)
        return version

    # ---- what a change of the report's state opens -------------------------------------------------------------
    def remember(self, announced):
        """When the report reached its lead, when processing began, whom the province designated."""
        report, at = announced.report, announced.occurred_at
        marks = {"state": announced.to_state, "state_version": report.get("version", 0)}
        if announced.to_state == "dispatched" and announced.from_state != "dispatched":
            marks["dispatched_at"] = at
        if announced.to_state == "in_progress" and announced.from_state != "in_progress":
            marks["in_progress_at"] = at
        if announced.cause == "designated":
            marks.update(designated_agency=lead_agency(report), designated_at=at)
        # back to routing: no co-agency left
        self.deadlines.mark(announced.report_id, unset=("forwarded",) if announced.to_state == "accepted" else (),
                            **marks)

    def steps_opened(self, announced, pack) -> list[dict]:
        """The report's own next step, and the side steps this change starts."""
        report, cause, at, event = announced.report, announced.cause, announced.occurred_at, announced.event_id
        marks = self.deadlines.marks_of(announced.report_id)
        opened = []
        step = state_step(announced, pack, marks)
        if step is not None:
            opened.append(new_deadline(
                pack, report, step, at, event, agency=marks.get("designated_agency") if step == "agree" else None,
                rework_kind=self.action_detail(announced).get("kind", "") if step == "rework" else "",
                multi_agency=bool(marks.get("forwarded"))))
        if announced.to_state == "dispatched" and not any(
                d["step"] == "handling" for d in self.deadlines.open_for(announced.report_id)):
            opened.append(new_deadline(pack, report, "handling", at, event, role="side",
                                       live_states=SIDE_STEPS["handling"]))
        if cause == "acknowledged" and co_agencies(report):
            # co-agencies named (ST-22 Điều 10 khoản 2 điểm b, ST-23 Điều 14 khoản 2): the lead forwards it to them
            opened.append(new_deadline(pack, report, "forward", at, event, role="side",
                                       live_states=SIDE_STEPS["forward"]))
        if cause == "designated" and designation_role(pack.meta) == "lead":
            # the designated lead's result, from the designation (ST-22 Điều 16 khoản 3), beside its usual steps
            opened.append(new_deadline(pack, report, "designate", at, event, role="side",
                                       live_states=SIDE_STEPS["designate"]))
        return [deadline for deadline in opened if deadline is not None]

    def received_at(self, announced):
        """When the report reached the agency now handling it (the moment the return and information request
        windows count from)."""
        at = self.deadlines.marks_of(announced.report_id).get("dispatched_at")
        if at is not None:
            return at
        known = announced.report.get("deadlines") or {}
        entry = known.get("acknowledge") or known.get("designate") or known.get("process")
        return datetime.fromisoformat(entry["opened_at"]) if entry else None

    def judge(self, announced, pack, now, step, received, agency, subject=None):
        """An action the pack times from an earlier moment (a wrong-jurisdiction return, a request for more
        information, a co-agency's return) that came later than allowed counts against the agency that took it."""
        if received is None or agency is None:
            return
        deadline = new_deadline(pack, dict(announced.report, state=announced.from_state), step, received,
                                announced.event_id, agency=agency, subject=subject, role="judged")
        if deadline is None or announced.occurred_at <= deadline["due"]:
            return
        deadline.update(status="missed", active=False, missed_at=announced.occurred_at)
        self.deadlines.open(deadline)
        self.tell(self.decision("deadline_missed", deadline, now, f"sla:missed:{deadline['_id']}", late=True))
        deadline_event("deadline_missed", deadline, now)

    def operator_check_beside(self, announced, pack):
        """A report held for the centre's check in a pack whose receive deadline runs from the report's arrival
        (ST-22 Điều 8 khoản 2): the receive deadline keeps running and the check's own limit runs beside it, from
        the first hold (ST-22 Điều 6 khoản 5 điểm b "sau 48 giờ vẫn xác minh không thành công"), until the report
        leaves `submitted`."""
        if not any(d["step"] == "operator_check" for d in self.deadlines.open_for(announced.report_id)):
            self.open_side(pack, announced, "operator_check", clock.now())

    # ---- steps beside the report's own ---------------------------------------------------------------------
    def side_events(self, announced, pack):
        cause, report = announced.cause, announced.report
        now = clock.now()
        running = self.deadlines.open_for(announced.report_id)
        if cause == "interaction" and lead_agency(report):
            # TTH Điều 13 khoản 3, VL Điều 14 khoản 3: the agency answers each interaction in time
            self.open_side(pack, announced, "interaction_reply", now, subject=announced.event_id)
        elif cause == "interaction_replied":
            answered = self.action_detail(announced).get("interaction_id")
            for deadline in running:
                if deadline["step"] == "interaction_reply" and deadline.get("subject") == answered:
                    self.close(deadline, now)
        elif cause == "clarification_requested":
            # TTH Điều 13 khoản 2, VL Điều 14 khoản 2: a dissatisfied rating is clarified by the rated agency
            self.open_side(pack, announced, "clarify", now,
                           agency=(report.get("rating") or {}).get("agency") or lead_agency(report))
        elif cause == "submitted" and report.get("sos"):
            # TTH Điều 18 khoản 1: the centre calls the reporter of an SOS back (charged to the centre).
            # Opened here, before the version check, so a faster verification cannot overtake it
            self.open_side(pack, announced, "sos_callback", now)
        elif cause == "info_requested":
            self.judge(announced, pack, now, "request_info", self.received_at(announced), lead_agency(report))
        for deadline in running:
            if CLOSED_BY.get(deadline["step"]) == cause:
                self.close(deadline, now)
        if cause == "forwarded":
            self.forwarded(announced, pack, now, running)
        elif cause in ("co_result_approved", "co_returned"):
            self.co_parts(announced, pack, now, running)
        elif cause == "sanction_procedure_started":
            # handled under an administrative-sanction procedure: the pack's rule for it replaces the processing
            # deadline (ST-22 Điều 13 Bước 4, TTH Điều 11 khoản 2 and Điều 15 khoản 4, VL Điều 12 khoản 2 điểm b
            # and Điều 16 khoản 4)
            self.reconsider_process(announced, pack, now, running)

    def forwarded(self, announced, pack, now, running):
        """Each co-agency the report was forwarded to gets its own deadline, charged to it (E9)."""
        marks = self.deadlines.marks_of(announced.report_id)
        known = marks.get("forwarded") or {}
        fresh = [agency for agency in co_agencies(announced.report) if agency not in known]
        for agency in fresh:
            self.open_side(pack, announced, "co_process", now, subject=agency, agency=agency)
        if fresh:
            self.deadlines.mark(announced.report_id, **{f"forwarded.{agency}": announced.occurred_at
                                                        for agency in fresh})
        self.reconsider_process(announced, pack, now, running)

    def co_parts(self, announced, pack, now, running):
        """A co-agency's part approved by its leader, or its return (not its matter), ends its own deadline; a
        late return counts against it. Once every part is in, the lead's compilation starts."""
        report = announced.report
        co = co_agencies(report)
        parts = (report.get("result") or {}).get("contributions") or {}
        for deadline in running:
            if deadline["step"] == "co_process" and (deadline.get("subject") not in co
                                                     or (parts.get(deadline.get("subject")) or {}).get("approved")):
                self.close(deadline, now)
        marks = self.deadlines.marks_of(announced.report_id)
        if announced.cause == "co_returned":
            for agency, at in (marks.get("forwarded") or {}).items():
                if agency not in co:
                    self.judge(announced, pack, now, "co_return", at, agency, subject=agency)
                    self.deadlines.unmark(announced.report_id, f"forwarded.{agency}")
            self.reconsider_process(announced, pack, now, running)
        if report.get("state") == "in_progress" and co and all((parts.get(a) or {}).get("approved") for a in co) \
                and not any(d["step"] == "compile" for d in running):
            self.open_side(pack, announced, "compile", now)

    def reconsider_process(self, announced, pack, now, running):
        """The lead's processing deadline follows the pack's multi-agency rule: forwarding to co-agencies (or
        every co-agency returning the report) may change the rule that applies; the new one counts from when
        processing began."""
        report = announced.report
        if report.get("state") != "in_progress" or self.moved_on(announced, ("in_progress",)):
            return
        own = [d for d in running if d.get("role", "state") == "state"]
        if any(d["step"] != "process" for d in own):
            return   # a rework or another own step runs: not the processing step
        marks = self.deadlines.marks_of(announced.report_id)
        multi = bool(marks.get("forwarded"))
        rule = pack.evaluate("sla", sla_facts(report, "process", multi_agency=multi))
        wanted = rule.get("rule") if rule.get("decision") == "set_deadline" else None
        if [d["rule"] for d in own] == ([wanted] if wanted else []):
            return
        start = own[0]["starts_at"] if own else marks.get("in_progress_at")
        for deadline in own:
            self.tell(self.decision("deadline_closed", deadline, now, f"sla:close:{deadline['_id']}", closed=True))
            self.deadlines.replace(deadline["_id"], now)
        if wanted and start is not None:
            deadline = new_deadline(pack, report, "process", announced.occurred_at, announced.event_id, start=start,
                                    multi_agency=multi)
            self.deadlines.open(deadline)
            self.announce_opened(self.deadlines.get(deadline["_id"]), now)

    def open_side(self, pack, announced, step, now, **kwargs):
        if self.moved_on(announced, SIDE_STEPS[step]):
            return
        deadline = new_deadline(pack, announced.report, step, announced.occurred_at, announced.event_id,
                                role="side", live_states=SIDE_STEPS[step], **kwargs)
        if deadline is None:
            return
        self.deadlines.open(deadline)
        self.announce_opened(self.deadlines.get(deadline["_id"]), now)

    def moved_on(self, announced, live_states) -> bool:
        """A later change of state, handled before this (older) announcement, took the report out of the states
        in which a step can still happen: opening it now would leave it running for ever."""
        marks = self.deadlines.marks_of(announced.report_id)
        return live_states is not None and marks.get("state_version", -1) > announced.report.get("version", 0) \
            and marks.get("state") not in live_states

    def action_detail(self, announced) -> dict:
        """The detail of the staff action that caused this change (handling keeps every action it decided, by
        the decision's event id): the rework's kind, the interaction a reply answers."""
        history = callers.call_internal("handling", self.handling, "history", report_id=announced.report_id)
        for action in history or []:
            if action.get("_id") == announced.event_id:
                return action.get("detail") or {}
        return {}

    def announce_opened(self, deadline, now):
        self.tell(self.decision("deadline_opened", deadline, now, f"sla:open:{deadline['_id']}"))
        deadline_event("deadline_opened", deadline, now)

    def close(self, deadline, now):
        self.tell(self.decision("deadline_closed", deadline, now, f"sla:close:{deadline['_id']}", closed=True),
                  then=lambda: self.deadlines.close(deadline["_id"], now))
        deadline_event("deadline_closed", deadline, now)

    def extend(self, announced):
        """Moves the extended step's deadline. Where the centre sets the time from the agency's notice (ST-22 Điều 10
        khoản 2 điểm c, ST-23 Điều 14 khoản 3), a deadline missed after the agency gave its notice in time runs
        again to the new time: the wait was the centre's, not the agency's lateness."""
        extension = announced.report.get("extension") or {}
        noticed_at = extension.get("noticed_at")
        for deadline in self.deadlines.open_for(announced.report_id):
            if deadline["step"] == extension.get("step"):
                new_due = datetime.fromisoformat(extension["new_due"])
                timely = noticed_at is not None and deadline.get("missed_at") is not None \
                    and datetime.fromisoformat(noticed_at) < deadline["due"]
                self.deadlines.move(deadline["_id"], new_due, deadline["warn_due"] + (new_due - deadline["due"]),
                                    reopen=timely)
                moved = self.deadlines.get(deadline["_id"])
                self.tell(self.decision("deadline_extended", moved, clock.now(), f"sla:extend:{announced.event_id}",
                                        late=moved.get("status") == "missed"))

    @staticmethod
    def decision(kind, deadline, now, event_id, **flags):
        """A deadline event for intake, with times in the pack's time zone."""
        tz = calendar_for(get_pack(deadline["pack"]).meta).tz
        return deadline_decision(kind, deadline, now, event_id, tz=tz, **flags)

    @timer(interval=1)
    def tick(self):
        self.sweep()

    @event_handler("gateway", CLOCK_ADVANCED, handler_type=BROADCAST, reliable_delivery=False)
    def on_clock_advanced(self, payload):
        self.sweep()

    @rpc
    def sweep(self):
        """Fire everything that fell due: queue first, then mark, so a crash in between only queues again what the
        queue already holds; then send the queue (behind what changes queued before, so a deadline reaches intake
        opened before it is warned of or missed). One sweep at a time (the timer, a clock event and this RPC may
        overlap): two would each fire what fell due, and count it twice."""
        with SWEEPING:
            return self.sweep_now(clock.now())

    def sweep_now(self, now) -> int:
        self.batch = []
        for deadline in self.deadlines.to_warn(now):
            self.tell(self.decision("deadline_warning", deadline, now, f"sla:warn:{deadline['_id']}"),
                      then=partial(self.deadlines.mark_warned, deadline["_id"]))
            deadline_event("deadline_warning", deadline, now)
        fallen = self.deadlines.fallen_due(now)
        for deadline in fallen:
            self.tell(self.decision("deadline_missed", deadline, now, f"sla:missed:{deadline['_id']}", late=True),
                      then=partial(self.deadlines.mark_missed, deadline["_id"], now))
            deadline_event("deadline_missed", deadline, now)
        self.queue_batch()
        self.tell_intake()
        return len(fallen)

    @rpc
    def processing_deadlines(self, report_ids):
        """For each report id: is it still within its processing deadline ("còn trong thời hạn xử lý", TTH Điều 7
        khoản 5 điểm b, VL Điều 8 khoản 2)? → {id: {"within", "due", "rule", "article"}} (verification asks it of
        a reporter's open reports on the same matter)."""
        now = clock.now()
        return jsonable({report_id: within_processing_deadline(self.deadlines.for_report(report_id, "process"), now)
                         for report_id in report_ids or []})

    @rpc
    def agency_lateness(self, pack, start, end):
        """The sla service's share of one pack's agency scorecards for [start, end) (ISO datetimes)."""
        deadlines = self.deadlines.ended_between(pack, datetime.fromisoformat(start), datetime.fromisoformat(end))
        cards, late = agency_lateness(deadlines, datetime.fromisoformat(start), datetime.fromisoformat(end))
        return jsonable({"agencies": cards, "late": late})


def co_agencies(report: dict) -> list[str]:
    return [a["id"] for a in report.get("assigned_agencies") or [] if a.get("role") == "co"]


def ended_by_change(deadline: dict, to_state: str) -> bool:
    """The report's own step ends with its next step; a side step when the report leaves the states in which it
    can still happen."""
    if deadline.get("role", "state") == "state":
        return True
    live = deadline.get("live_states")
    return live is not None and to_state not in live


def needs_agreement(pack, report: dict, marks: dict) -> bool:
    """TTH Điều 16 khoản 4, VL Điều 17 khoản 4: a result of a report the province designated a coordinating
    agency for goes to that agency for agreement before publication (unless it processed the report itself)."""
    designated = marks.get("designated_agency")
    return designation_role(pack.meta) == "coordinator" and bool(designated) and designated != lead_agency(report)


def state_step(announced, pack, marks: dict) -> str | None:
    if announced.cause == "designated" and designation_role(pack.meta) == "coordinator":
        return "designate"   # the coordinating agency's answer replaces the usual acknowledgement
    if announced.to_state == "approved" and announced.from_state != "approved" \
            and needs_agreement(pack, announced.report, marks):
        return "agree"
    return step_for(announced)
