"""handling: the agency's work on a report (acknowledge, return, extend, forward, result, approval) and the
centre's coordination (designate, rework). Called by intake's staff API over RPC."""
from __future__ import annotations

import uuid

from nameko.rpc import rpc

from paht import actors, clock
from paht.events import jsonable
from paht.rules import get_pack
from paht.web import Observable

from .actions import Refused, decide
from .dependencies import Handling


class HandlingService(Observable):
    name = "handling"

    store = Handling()

    @rpc
    def act(self, report, action, actor, body):
        now = clock.now()
        if not actors.authentic(actor, report.get("id", ""), action):
            return actors.FORGED
        try:
            decision = decide(report, action, actor, body, get_pack(report["pack"]), now, uuid.uuid4().hex)
        except Refused as refused:
            return refused.answer()
        self.store.record_action(decision.event_id, report["id"], action, actor, decision.detail, now)
        return {"decision": decision.model_dump(mode="json")}

    @rpc
    def history(self, report_id):
        return jsonable(self.store.history(report_id))
