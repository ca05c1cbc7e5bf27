"""handling: the agency's work on a report (acknowledge, return, extend, forward, result, approval) and the
centre's coordination (designate, rework). Called by intake's staff API over RPC."""
from __future__ import annotations

import uuid

from nameko.rpc import rpc

from paht import actors, callers, clock
from paht.errors import Refused, RpcApiError
from paht.events import jsonable
from paht.rules import get_pack
from paht.web import Observable

from .actions import decide
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

    @rpc(expected_exceptions=RpcApiError)
    def history(self, report_id=None, credential=None):
        """The staff actions handling decided on a report, oldest first (with their signed actors and details):
        internal (the sla service reads a rework's kind), an internal assertion only (paht.callers)."""
        callers.internal_only(credential, "handling.history", {"report_id": report_id})
        return jsonable(self.store.history(str(report_id)))
