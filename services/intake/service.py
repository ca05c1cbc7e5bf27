"""intake: the system of record for reports, and the HTTP API (DESIGN.md §3). Entrypoints only; logic is elsewhere."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from nameko.events import SERVICE_POOL, EventDispatcher, event_handler
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer
from nameko.web.handlers import http
from pydantic import ValidationError
from werkzeug.wrappers import Response

from paht import clock
from paht.categories import classify
from paht.errors import ApiError
from paht.events import CLOCK_ADVANCED, DECISION, TRANSITIONED, jsonable
from paht.mediastore import MediaFiles
from paht.mediatypes import detect
from paht.rules import get_pack, list_packs
from paht.schemas import (
    ClockAdvanceIn,
    Decision,
    InteractionIn,
    MediaRecord,
    RatingIn,
    ReportIn,
    StaffActionIn,
    SupplementIn,
)
from paht.states import IllegalTransition
from paht.web import (
    MESSAGES_HANDLED,
    Observable,
    guarded,
    json_response,
    read_json,
    validation_fields,
)

from . import reports as domain
from .dependencies import Reports, outbox_grace
from .schemas import STAFF_ACTIONS, StaffQuery, max_upload_bytes
from .staff import authenticate, may_see, staff_filter
from .uploads import parse_part, read_media

log = logging.getLogger(__name__)


def on_decision(source):
    return event_handler(source, DECISION, handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True)


class IntakeService(Observable):
    name = "intake"

    store = Reports()
    media = MediaFiles()
    dispatch = EventDispatcher()
    handling = RpcProxy("handling")
    rating = RpcProxy("rating")
    verification = RpcProxy("verification")
    publishing = RpcProxy("publishing")

    # ---- applying decisions -------------------------------------------------------------------------------
    def apply(self, decision: Decision):
        try:
            announced = self.store.apply(decision)
        except IllegalTransition as exc:
            log.warning("refused %s for %s: %s", decision.kind, decision.report_id, exc)
            self.store.record_refused(decision, str(exc), clock.now())
            MESSAGES_HANDLED.labels(self.name, decision.kind, "refused").inc()
            return None
        if announced is not None:
            self.announce(announced)
        MESSAGES_HANDLED.labels(self.name, decision.kind, "applied" if announced else "duplicate").inc()
        return announced

    def announce(self, announced):
        self.dispatch(TRANSITIONED, announced.model_dump(mode="json"))
        self.store.mark_sent(announced.event_id)

    def receive(self, payload):
        self.apply(Decision.model_validate(payload))

    @on_decision("verification")
    def from_verification(self, payload):
        self.receive(payload)

    @on_decision("routing")
    def from_routing(self, payload):
        self.receive(payload)

    @on_decision("handling")
    def from_handling(self, payload):
        self.receive(payload)

    @on_decision("sla")
    def from_sla(self, payload):
        self.receive(payload)

    @on_decision("publishing")
    def from_publishing(self, payload):
        self.receive(payload)

    @on_decision("rating")
    def from_rating(self, payload):
        self.receive(payload)

    @timer(interval=2)
    def resend_outbox(self):
        for entry in self.store.unsent(clock.now() - outbox_grace()):
            announced = self.store.rebuild_announcement(entry)
            if announced is None:
                self.store.drop_outbox(entry["_id"])  # the change it announced never happened
            else:
                self.announce(announced)

    @timer(interval=3600)
    def purge_expired(self):
        """The packs' retention periods (pack.yaml publication.retention_days)."""
        now = clock.now()
        for pack_id in list_packs():
            days = (get_pack(pack_id).meta.get("publication") or {}).get("retention_days")
            if days:
                purged = self.store.purge_personal_data(pack_id, now - timedelta(days=days), now)
                if purged:
                    log.info("purged personal data of %d %s reports older than %d days", purged, pack_id, days)

    @rpc
    def get_report(self, report_id):
        report = self.store.get(report_id)
        return jsonable(domain.snapshot(report)) if report else None

    # ---- citizens -----------------------------------------------------------------------------------------
    @http("POST", "/api/v1/reports")
    @guarded
    def submit(self, request):
        report_in = parse_part(request, ReportIn)
        try:
            get_pack(report_in.pack)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": report_in.pack}) from None
        media = self.store_media(request, report_in.media_meta)
        now = clock.now()
        token = secrets.token_urlsafe(18)
        report = domain.new_report(report_in, media, now, domain.new_report_id(now), token)
        if report["category"] is None:
            report["category"], report["category_source"] = classify(report_in.description), "classifier"
        self.announce(self.store.create(report, domain.new_event_id(), now))
        return json_response({"id": report["_id"], "state": report["state"], "tracking_token": token}, 201)

    def store_media(self, request, metas) -> list[MediaRecord]:
        by_name = {m.filename: m for m in metas if m.filename}
        records = []
        for index, (name, kind, mime, data) in enumerate(read_media(request, max_upload_bytes())):
            meta = by_name.get(name) or (metas[index] if index < len(metas) and not metas[index].filename else None)
            records.append(MediaRecord(sha256=self.media.put(data), filename=name, content_type=mime, kind=kind,
                                       size=len(data), captured_at=meta.captured_at if meta else None))
        return records

    @http("GET", "/api/v1/feed")
    @guarded
    def feed(self, request):
        """The public feed of published results (never private ones, never reporter data)."""
        limit = request.args.get("limit", "50")
        limit = min(max(int(limit), 1), 200) if limit.isdigit() else 50
        return json_response({"results": self.publishing.feed(request.args.get("pack") or None, limit)})

    @http("GET", "/api/v1/reports/<string:report_id>/result-photos/<string:sha256>")
    @guarded
    def result_photo(self, request, report_id, sha256):
        """A photo of the fixed scene, public once the result is published (never the reporter's own media)."""
        report = self.reported(report_id)
        if report["state"] != "published" or sha256 not in (report.get("result") or {}).get("after_photos", []):
            raise ApiError("NOT_FOUND")
        data = self.media.read(sha256)
        kind = detect(data)
        return Response(data, content_type=kind[1] if kind else "application/octet-stream")

    @http("GET", "/api/v1/reports/<string:report_id>")
    @guarded
    def public_report(self, request, report_id):
        return json_response(domain.public_view(self.reported(report_id)))

    def reported(self, report_id, token_required=False, request=None):
        report = self.store.get(report_id)
        if report is None:
            raise ApiError("NOT_FOUND")
        if token_required:
            token = request.headers.get("X-Tracking-Token", "")
            if not token or not secrets.compare_digest(domain.hash_token(token), report["tracking_token_hash"]):
                raise ApiError("INVALID_TOKEN")
        return report

    @http("POST", "/api/v1/reports/<string:report_id>/supplement")
    @guarded
    def supplement(self, request, report_id):
        report = self.reported(report_id, True, request)
        supplement = parse_part(request, SupplementIn, part="supplement") if request.mimetype == "application/json" \
            else (parse_part(request, SupplementIn, required=False, part="supplement") or SupplementIn())
        if report["state"] != "needs_supplement":
            raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {report['state']}")
        media = self.store_media(request, supplement.media_meta)
        return self.apply_or_refuse(domain.supplement_decision(report, supplement, media, clock.now()))

    @http("POST", "/api/v1/reports/<string:report_id>/cancel")
    @guarded
    def cancel(self, request, report_id):
        report = self.reported(report_id, True, request)
        cancellation = get_pack(report["pack"]).meta.get("cancellation", {})
        if not cancellation.get("allowed", True) or report["state"] not in domain.CANCELLABLE:
            raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {report['state']}")
        return self.apply_or_refuse(domain.cancel_decision(report, clock.now(), cancellation.get("article")))

    @http("POST", "/api/v1/reports/<string:report_id>/rating")
    @guarded
    def rate(self, request, report_id):
        report = self.reported(report_id, True, request)
        rating = self.validated(RatingIn, read_json(request))
        answer = self.rating.rate(domain.snapshot(jsonable(report)), rating.level, rating.comment)
        return self.apply_answer(answer)

    @http("POST", "/api/v1/reports/<string:report_id>/interactions")
    @guarded
    def interact(self, request, report_id):
        report = self.reported(report_id, True, request)
        interaction = self.validated(InteractionIn, read_json(request))
        answer = self.rating.interact(domain.snapshot(jsonable(report)), interaction.message)
        return self.apply_answer(answer)

    def validated(self, model, data):
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None

    def apply_answer(self, answer: dict):
        """An RPC answer {"decision": …} or {"error": {"code", "detail"}} from another service."""
        if "error" in answer:
            raise ApiError(answer["error"]["code"], detail=answer["error"].get("detail"),
                           fields=answer["error"].get("fields"))
        return self.apply_or_refuse(Decision.model_validate(answer["decision"]))

    def apply_or_refuse(self, decision: Decision):
        try:
            announced = self.store.apply(decision)
        except IllegalTransition as exc:
            raise ApiError("ACTION_NOT_ALLOWED", detail=str(exc)) from None
        if announced is not None:
            self.announce(announced)
        report = self.store.get(decision.report_id)
        return json_response({"id": report["_id"], "state": report["state"], "event_id": decision.event_id})

    # ---- staff --------------------------------------------------------------------------------------------
    @http("GET", "/api/v1/staff/reports")
    @guarded
    def staff_reports(self, request):
        user = authenticate(self.store, request)
        query = self.validated(StaffQuery, request.args.to_dict())
        found = self.store.find(staff_filter(user, query), limit=query.limit)
        if query.late is not None:
            found = [r for r in found if domain.public_view(r)["late"] == query.late]
        return json_response({"reports": [domain.public_view(r) for r in found], "count": len(found)})

    @http("GET", "/api/v1/staff/reports/<string:report_id>")
    @guarded
    def staff_report(self, request, report_id):
        user = authenticate(self.store, request)
        report = self.reported(report_id)
        if not may_see(user, report):
            raise ApiError("FORBIDDEN")
        return json_response(domain.staff_view(report))

    @http("POST", "/api/v1/staff/reports/<string:report_id>/<string:action>")
    @guarded
    def staff_action(self, request, report_id, action):
        user = authenticate(self.store, request)
        if action not in STAFF_ACTIONS:
            raise ApiError("UNKNOWN_ACTION", fields={"action": action})
        if (request.mimetype or "").startswith("multipart/form-data"):   # a result with its "after" photos
            body = parse_part(request, StaffActionIn, required=False, part="action") or StaffActionIn()
        else:
            body = self.validated(StaffActionIn, read_json(request))
        report = self.reported(report_id)
        if not may_see(user, report):
            raise ApiError("FORBIDDEN")
        photos = [record.sha256 for record in self.store_media(request, [])]
        if photos:
            body = body.model_copy(update={"after_photos": body.after_photos + photos})
        target = {"judge": self.verification, "publish": self.publishing}.get(action, self.handling)
        answer = target.act(domain.snapshot(jsonable(report)), action, user_actor(user), body.model_dump(mode="json"))
        return self.apply_answer(answer)

    @http("GET", "/api/v1/staff/province-report")
    @guarded
    def province_report(self, request):
        """Agencies' lateness, satisfaction and the pack's penalties (operator, admin)."""
        user = authenticate(self.store, request)
        if user["role"] not in ("operator", "admin"):
            raise ApiError("FORBIDDEN")
        pack_id = request.args.get("pack", "")
        try:
            get_pack(pack_id)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": pack_id}) from None
        return json_response({"pack": pack_id, "agencies": self.rating.province_report(pack_id)})

    # ---- test clock ---------------------------------------------------------------------------------------
    @http("POST", "/api/v1/_clock/advance")
    @guarded
    def advance_clock(self, request):
        if not clock.get_clock().controlled:
            raise ApiError("CLOCK_NOT_CONTROLLED")
        advance = self.validated(ClockAdvanceIn, read_json(request))
        now = clock.get_clock().advance(advance.seconds)
        self.dispatch(CLOCK_ADVANCED, {"now": now.isoformat()})
        return json_response({"now": now})

    @http("GET", "/api/v1/_clock")
    @guarded
    def read_clock(self, request):
        return json_response({"now": clock.now(), "controlled": clock.get_clock().controlled})


def user_actor(user: dict) -> dict:
    return {"role": user["role"], "agency": user.get("agency"), "name": user.get("name"), "user": user["_id"]}
