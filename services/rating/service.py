"""rating: the reporter's rating and follow-up messages, and agency scorecards for the province's reports."""
from __future__ import annotations

import uuid

from nameko.rpc import RpcProxy, rpc

from paht import clock
from paht.bus import on_report_purged
from paht.rules import get_pack
from paht.web import Observable

from .dependencies import Ratings
from .penalties import province_report
from .ratings import Refused, interaction_decision, rating_decision, scorecard


class RatingService(Observable):
    name = "rating"

    store = Ratings()
    sla = RpcProxy("sla")

    @rpc
    def rate(self, report, level, comment):
        pack = get_pack(report["pack"])
        try:
            decision = rating_decision(report, pack.rating_levels(), level, comment, clock.now(), uuid.uuid4().hex,
                                       (pack.meta.get("rating_scale") or {}).get("article"))
        except Refused as refused:
            return refused.answer()
        self.store.record_rating(report["id"], report["pack"], decision.patch["rating"])
        return {"decision": decision.model_dump(mode="json")}

    @rpc
    def interact(self, report, message):
        try:
            decision = interaction_decision(report, message, clock.now(), uuid.uuid4().hex)
        except Refused as refused:
            return refused.answer()
        self.store.record_interaction(decision.event_id, report["id"], message, decision.occurred_at)
        return {"decision": decision.model_dump(mode="json")}

    @on_report_purged
    def on_purged(self, purged):
        """Retention: the reporter's messages and rating comment on the report are forgotten."""
        self.store.purge_report(purged.report_id)

    @rpc
    def scorecards(self, pack=None):
        return scorecard(self.store.all_ratings(pack))

    @rpc
    def province_report(self, pack_id):
        """Late or failing agencies for the province: counters and the pack's penalty decisions."""
        return province_report(get_pack(pack_id), self.store.all_ratings(pack_id), self.sla.missed(pack_id))
