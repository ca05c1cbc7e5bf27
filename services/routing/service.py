"""routing: sends each accepted report to the agency that must act, by the pack's routing rules."""
from __future__ import annotations

from nameko.events import BROADCAST, EventDispatcher, event_handler
from nameko.rpc import rpc
from nameko.timer import timer

from paht import clock
from paht.bus import derived_id, on_report_purged, on_transition, send
from paht.events import CLOCK_ADVANCED, jsonable
from paht.rules import get_pack
from paht.web import Observable

from .dependencies import Routes
from .route import deferral_decision, held_until, routing_decision, routing_facts


class RoutingService(Observable):
    name = "routing"

    routes = Routes()
    dispatch = EventDispatcher()

    @on_transition
    def on_report(self, announced):
        report = announced.report
        if announced.to_state == "accepted" and announced.from_state != "accepted":
            self.accept(report, derived_id(self.name, announced.event_id))
            return
        held = self.routes.held(announced.report_id)
        if held is not None:
            # no agency found (its release), or cancelled while it waited; `routed` only reaches a queue still bound
            # to `dispatched` from before (release() ends the hold itself)
            if announced.to_state != "accepted":
                self.routes.end_hold(held["_id"], "released" if announced.cause in ("routed", "routing_unresolved")
                                     else "dropped", clock.now())
            elif report.get("urgent"):
                self.release(dict(held, report=report))                    # judged urgent meanwhile: at once
            else:
                self.routes.refresh_hold(held["_id"], report)

    @on_report_purged
    def on_purged(self, purged):
        """Retention: a held report's copy loses the reporter's text and place."""
        self.routes.purge_report(purged.report_id)

    def accept(self, report: dict, event_id: str):
        """Route an accepted report now, or hold a normal one received outside the intake hours until the next
        opening (urgent and immediate ones go at once). Its deadlines count from that opening (sla)."""
        pack = get_pack(report["pack"])
        now = clock.now()
        until = held_until(pack, report, pack.evaluate("routing", routing_facts(report)), now)
        if until is None:
            self.route(report, event_id)
            return
        self.routes.hold(event_id, report["id"], until, report, now)
        send(self.dispatch, deferral_decision(report, pack, until, derived_id(self.name, event_id, "deferred"), now))

    def route(self, report: dict, event_id: str, at=None):
        pack = get_pack(report["pack"])
        facts = routing_facts(report)
        result = pack.evaluate("routing", facts)
        decision = routing_decision(report, pack, result, event_id, at or clock.now())
        self.routes.record_route(event_id, report["id"], {"facts": facts, "result": jsonable(result)})
        send(self.dispatch, decision)

    def release(self, held: dict, at=None):
        """Route a held report (its decision id is the one it would have had at once: a repeat is harmless). Released
        at the opening, it is dispatched as of the opening, so every deadline counts from there."""
        self.route(held["report"], held["_id"], at)
        self.routes.end_hold(held["_id"], "released", clock.now())

    @timer(interval=1)
    def tick(self):
        self.release_due()

    @event_handler("gateway", CLOCK_ADVANCED, handler_type=BROADCAST, reliable_delivery=False)
    def on_clock_advanced(self, payload):
        self.release_due()

    @rpc
    def release_due(self):
        """Dispatch every held report whose intake window has opened."""
        released = 0
        for held in self.routes.due_holds(clock.now()):
            self.release(held, held["release_at"])
            released += 1
        return released
