"""intake's AMQP RPC API for other systems (entrypoints of the intake service)."""
from __future__ import annotations

from nameko.rpc import rpc

from paht.events import jsonable

from . import reports as domain


class RpcApi:
    @rpc
    def get_report(self, report_id):
        report = self.store.get(report_id)
        return jsonable(domain.snapshot(report)) if report else None
