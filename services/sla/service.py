"""sla: opens a deadline for each step when a report enters it, closes it when it leaves, and a sweeper marks
what fell due (late, or a timeout that rejects). Timers are documents in the store, so a restart loses none."""
from __future__ import annotations

from datetime import datetime

from nameko.events import BROADCAST, EventDispatcher, event_handler
from nameko.rpc import rpc
from nameko.timer import timer

from paht import clock
from paht.bus import on_transition, send
from paht.events import CLOCK_ADVANCED, jsonable
from paht.rules import get_pack
from paht.web import Observable
from paht.worktime import calendar_for

from .deadlines import STEP_OF_CAUSE, agency_lateness, deadline_decision, new_deadline, step_for
from .dependencies import Deadlines


class SlaService(Observable):
    name = "sla"

    deadlines = Deadlines()
    dispatch = EventDispatcher()

    @on_transition
    def on_report(self, announced):
        if announced.cause == "extended":
            self.extend(announced)
            return
        if announced.cause in ("forwarded", "co_result_approved", "co_returned"):
            self.co_agencies(announced)
            return
        step = step_for(announced)
        if announced.from_state == announced.to_state and announced.cause not in STEP_OF_CAUSE:
            return
        version = announced.report.get("version", 0)
        if self.deadlines.current_version(announced.report_id) >= version:
            return  # this change, or a later one, was handled already
        now = clock.now()
        if announced.cause == "returned":
            self.judge_return(announced, now)
        for deadline in self.deadlines.open_for(announced.report_id):
            if deadline.get("cause_event_id") == announced.event_id:
                continue  # opened by this very change before a crash: it stays
            send(self.dispatch, self.decision("deadline_closed", deadline, now, f"sla:close:{deadline['_id']}",
                                              closed=True))
            self.deadlines.close(deadline["_id"], now)
        deadline = None if step is None else new_deadline(get_pack(announced.pack), announced.report, step,
                                                          announced.occurred_at, announced.event_id)
        if deadline is not None:
            self.deadlines.open(deadline)
            if self.deadlines.current_version(announced.report_id) > version:
                self.deadlines.close(deadline["_id"], now)  # overtaken while opening it
            else:
                deadline = self.deadlines.get(deadline["_id"])
                send(self.dispatch, self.decision("deadline_opened", deadline, now, f"sla:open:{deadline['_id']}"))
        # only now that its effect is stored: a crash before this line redelivers and redoes the change
        self.deadlines.advance_version(announced.report_id, version)

    def judge_return(self, announced, now):
        """A wrong-jurisdiction return later than the pack allows counts against the agency that returned it."""
        report = announced.report
        received = (report.get("deadlines") or {}).get("acknowledge") or (report.get("deadlines") or {}).get("process")
        if not received:
            return
        deadline = new_deadline(get_pack(announced.pack), dict(report, state=announced.from_state), "return",
                                datetime.fromisoformat(received["opened_at"]), announced.event_id)
        if deadline is None or announced.occurred_at <= deadline["due"]:
            return
        deadline.update(agency=(report.get("route") or {}).get("returned_by", [None])[-1], status="missed",
                        active=False, missed_at=announced.occurred_at)
        self.deadlines.open(deadline)
        send(self.dispatch, self.decision("deadline_missed", deadline, now, f"sla:missed:{deadline['_id']}",
                                          late=True))

    def co_agencies(self, announced):
        """Forwarding opens the co-agencies' step beside the lead's; it closes when every part is approved."""
        now = clock.now()
        running = [d for d in self.deadlines.open_for(announced.report_id) if d["step"] == "co_process"]
        if announced.cause == "forwarded" and not running:
            deadline = new_deadline(get_pack(announced.pack), announced.report, "co_process", announced.occurred_at,
                                    announced.event_id)
            if deadline is not None:
                self.deadlines.open(deadline)
                deadline = self.deadlines.get(deadline["_id"])
                send(self.dispatch, self.decision("deadline_opened", deadline, now, f"sla:open:{deadline['_id']}"))
        elif announced.cause != "forwarded" and (announced.report.get("result") or {}).get("contributions") is not None:
            parts = announced.report["result"]["contributions"]
            co = [a["id"] for a in announced.report.get("assigned_agencies") or [] if a.get("role") == "co"]
            if all(parts.get(agency, {}).get("approved") for agency in co):
                for deadline in running:
                    send(self.dispatch, self.decision("deadline_closed", deadline, now,
                                                      f"sla:close:{deadline['_id']}", closed=True))
                    self.deadlines.close(deadline["_id"], now)

    def extend(self, announced):
        extension = announced.report.get("extension") or {}
        for deadline in self.deadlines.open_for(announced.report_id):
            if deadline["step"] == extension.get("step"):
                new_due = datetime.fromisoformat(extension["new_due"])
                self.deadlines.move(deadline["_id"], new_due, deadline["warn_due"] + (new_due - deadline["due"]))
                moved = self.deadlines.get(deadline["_id"])
                send(self.dispatch, self.decision("deadline_extended", moved, clock.now(),
                                                      f"sla:extend:{announced.event_id}"))

    @staticmethod
    def decision(kind, deadline, now, event_id, **flags):
        """A deadline event for intake, with times in the pack's time zone."""
        tz = calendar_for(get_pack(deadline["pack"]).meta).tz
        return deadline_decision(kind, deadline, now, event_id, tz=tz, **flags)

    @timer(interval=1)
    def tick(self):
        self.sweep()

    @event_handler("intake", CLOCK_ADVANCED, handler_type=BROADCAST, reliable_delivery=False)
    def on_clock_advanced(self, payload):
        self.sweep()

    @rpc
    def sweep(self):
        """Fire everything that fell due: announce first, then mark, so a crash in between only repeats an
        announcement intake already recognises by its id."""
        now = clock.now()
        fired = 0
        for deadline in self.deadlines.to_warn(now):
            send(self.dispatch, self.decision("deadline_warning", deadline, now, f"sla:warn:{deadline['_id']}"))
            self.deadlines.mark_warned(deadline["_id"])
        for deadline in self.deadlines.fallen_due(now):
            send(self.dispatch, self.decision("deadline_missed", deadline, now, f"sla:missed:{deadline['_id']}",
                                                  late=True))
            self.deadlines.mark_missed(deadline["_id"], now)
            fired += 1
        return fired

    @rpc
    def agency_lateness(self, pack, start, end):
        """The sla service's share of one pack's agency scorecards for [start, end) (ISO datetimes)."""
        deadlines = self.deadlines.ended_between(pack, datetime.fromisoformat(start), datetime.fromisoformat(end))
        cards, late = agency_lateness(deadlines, datetime.fromisoformat(start), datetime.fromisoformat(end))
        return jsonable({"agencies": cards, "late": late})

