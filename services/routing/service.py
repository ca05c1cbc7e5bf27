"""routing: sends each accepted report to the agency that must act, by the pack's routing rules."""
from __future__ import annotations

from nameko.events import EventDispatcher
from nameko.rpc import rpc

from paht import clock
from paht.bus import derived_id, on_report_purged, on_transition, send
from paht.events import jsonable
from paht.rules import get_pack
from paht.web import Observable

from .dependencies import Routes, webhook_url
from .notify import notify
from .route import routing_decision, routing_facts
from .schemas import ImmediateNotification


class RoutingService(Observable):
    name = "routing"

    routes = Routes()
    dispatch = EventDispatcher()

    @on_transition
    def on_report(self, announced):
        if announced.to_state == "accepted" and announced.from_state != "accepted":
            self.route(announced.report, derived_id(self.name, announced.event_id))
        elif announced.cause == "routed" and announced.report.get("route", {}).get("immediate"):
            self.notify_immediate(announced.report, announced.event_id)

    @on_report_purged
    def on_purged(self, purged):
        """Retention: the report's stored webhook payloads lose the reporter's text and place."""
        self.routes.purge_report(purged.report_id)

    def route(self, report: dict, event_id: str):
        pack = get_pack(report["pack"])
        facts = routing_facts(report)
        result = pack.evaluate("routing", facts)
        decision = routing_decision(report, pack, result, event_id, clock.now())
        self.routes.record_route(event_id, report["id"], {"facts": facts, "result": jsonable(result)})
        send(self.dispatch, decision)

    def notify_immediate(self, report: dict, event_id: str):
        url = webhook_url()
        key = f"immediate:{event_id}"
        if url is None or self.routes.notified(key):
            return
        route = report.get("route") or {}
        payload = ImmediateNotification(
            report_id=report["id"], category=report.get("category"), lead=route.get("lead"), co=route.get("co", []),
            ward=report.get("ward"), location=report.get("location"), description=report.get("description"),
            rule=route.get("rule"), article=route.get("article")).model_dump()
        outcome = notify(url, payload)
        self.routes.record_notification(key, report["id"], url, payload, outcome, clock.now())

    @rpc
    def dead_letters(self):
        return jsonable(self.routes.dead_letters())
