"""publishing: renders the approved result as the regulation's letter and publishes it (or delivers it privately)."""
from __future__ import annotations

import uuid

from nameko.events import EventDispatcher
from nameko.rpc import rpc

from paht import actors, clock
from paht.agreement import agreement_article, awaited_agreement
from paht.bus import derived_id, on_transition, send
from paht.errors import ApiError, Refused
from paht.events import jsonable
from paht.roles import CENTRE_ROLES
from paht.rules import get_pack
from paht.states import RESULT_DELIVERED
from paht.web import Observable

from .dependencies import Publications
from .letters import publication_decision
from .notify import Notifier
from .referrals import referral_decision


class PublishingService(Notifier, Observable):
    name = "publishing"

    publications = Publications()
    dispatch = EventDispatcher()

    @on_transition
    def on_report(self, announced):
        report = announced.report
        pack = get_pack(announced.pack)
        if announced.to_state == "approved" and announced.from_state != "approved":
            if (pack.meta.get("publication") or {}).get("operator_review"):
                return  # the centre checks, edits and publishes it (`publish`) or sends it back (`rework`)
            if awaited_agreement(pack.meta, report) is not None:
                return  # the designated agency agrees first; the centre then publishes it (`publish`)
            send(self.dispatch, publication_decision(report, pack, clock.now(), derived_id(self.name, announced.event_id),
                                                     {"service": "publishing"}))
        elif announced.to_state in RESULT_DELIVERED and announced.from_state == "approved":
            self.publications.record(report, report["publication"])

    @rpc
    def act(self, report, action, actor, body):
        """The centre's `publish` action after its check: optionally with the result text it edited
        (`result_text`, set in the pack's letter form) and the letter's number (`letter_number`). Public, or
        delivered privately where the report must be (secret, non-public, secrecy on request)."""
        if not actors.authentic(actor, report.get("id", ""), action):
            return actors.FORGED
        if action == "refer_to_province":
            try:
                decision = referral_decision(report, get_pack(report["pack"]), actor, body, clock.now(),
                                             uuid.uuid4().hex)
            except Refused as refused:
                return refused.answer()
            return {"decision": decision.model_dump(mode="json")}
        if action != "publish":
            return {"error": {"code": "UNKNOWN_ACTION", "detail": action}}
        if actor.get("role") not in CENTRE_ROLES:
            return {"error": {"code": "FORBIDDEN", "detail": "only the provincial centre publishes"}}
        if report["state"] != "approved":
            return {"error": {"code": "ACTION_NOT_ALLOWED", "detail": f"report is {report['state']}, needs approved"}}
        pack = get_pack(report["pack"])
        awaited = awaited_agreement(pack.meta, report)
        if awaited is not None:   # TTH Điều 16 khoản 4, VL Điều 17 khoản 4: "xin ý kiến thống nhất trước khi công khai"
            return {"error": {"code": "AGREEMENT_PENDING", "fields": {"agency": awaited},
                              "detail": f"{awaited} has not agreed to the result ({agreement_article(pack)})"}}
        decision = publication_decision(report, pack, clock.now(), uuid.uuid4().hex, actor,
                                        result_text=body.get("result_text"), letter_number=body.get("letter_number"))
        return {"decision": decision.model_dump(mode="json")}

    @rpc
    def map_points(self, pack=None, ward=None, category=None, since=None, until=None):
        """The public records' places for the portal's map: [[report id, lat, lon, category], …]."""
        try:
            return self.publications.points(pack, ward, category, since, until)
        except ApiError as exc:
            return exc.body()

    @rpc
    def feed(self, pack=None, limit=50, ward=None, category=None, since=None, until=None, bbox=None, cursor=None):
        """A page of the public feed: {"results", "next"} (`next`: the following page's cursor, or None); see
        dependencies.PublicationStore.page for the filters."""
        return jsonable(self.publications.page(pack, limit, ward, category, since, until, bbox, cursor))
