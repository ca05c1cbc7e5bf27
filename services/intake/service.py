"""intake: the system of record for reports, and the HTTP API. Entrypoints only; logic is elsewhere."""
from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timedelta

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer
from pydantic import ValidationError
from werkzeug.wrappers import Response

from paht import actors, clock, deadletters, flow, proxies, settings
from paht.bus import dead_letter_consumer, reliable_event_handler
from paht.categories import classify
from paht.errors import ApiError
from paht.events import CLOCK_ADVANCED, DECISION, REPORT_PURGED, jsonable
from paht.mediastore import MediaFiles
from paht.mediatypes import detect
from paht.roles import CENTRE_ROLES
from paht.rpc import TimedRpcProxy
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
    lead_agency,
)
from paht.states import IllegalTransition
from paht.web import (
    MESSAGES_HANDLED,
    Observable,
    guarded,
    http,
    json_response,
    read_json,
    validation_fields,
)
from paht.worktime import calendar_for

from . import accountability
from . import reports as domain
from . import staff as staff_auth
from .admin_rpc import AdminRpcApi
from .apidoc import ApiDocApi
from .channels import ChannelsApi
from .dependencies import STORAGE_ERRORS, Applied, Background, RateLimits, Reports, outbox_grace
from .listings import ListingsApi
from .open311 import Open311Api
from .public_events import PublicEvents
from .rpc_api import RpcApi
from .schemas import (
    STAFF_ACTIONS,
    DeadLetterQuery,
    ScorecardQuery,
)
from .staff import authenticate, in_province, may_see
from .uploads import parse_part, read_media

log = logging.getLogger(__name__)


def on_decision(source):
    return reliable_event_handler(source, DECISION)


class IntakeService(RpcApi, AdminRpcApi, ListingsApi, Open311Api, ChannelsApi, ApiDocApi, Observable):
    name = "intake"

    config = Config()
    store = Reports()
    limiter = RateLimits()
    background = Background()
    media = MediaFiles()
    dispatch = EventDispatcher()
    public_events = PublicEvents()
    handling = TimedRpcProxy("handling")
    rating = TimedRpcProxy("rating")
    verification = TimedRpcProxy("verification")
    publishing = TimedRpcProxy("publishing")

    # ---- applying decisions -------------------------------------------------------------------------------
    def announce(self, applied: Applied):
        """Tell the services that listen for this change (paht.flow); bookkeeping is told to nobody."""
        if applied.silent:
            return
        announced = applied.announcement
        self.dispatch(flow.routing_key(announced.from_state, announced.to_state, announced.cause),
                      announced.model_dump(mode="json"))
        if announced.from_state != announced.to_state:
            self.public_events.publish(applied.report, announced.event_id)
        self.store.mark_sent(announced.event_id)

    def receive(self, payload):
        """A decision, or several (`{"batch": [...]}`: one report's, or the sla service's queue), from another
        service; each report's are applied together."""
        by_report: dict[str, list[Decision]] = {}
        for item in payload["batch"] if "batch" in payload else [payload]:
            decision = Decision.model_validate(item)
            by_report.setdefault(decision.report_id, []).append(decision)
        for decisions in by_report.values():
            self.apply_together(decisions)

    def apply_together(self, decisions: list[Decision]):
        """Decisions about one report, applied in order with one read and one write, each once."""
        try:
            applied, refused = self.store.apply_all(decisions)
        except IllegalTransition as exc:    # no such report
            applied, refused = [], [(decision, str(exc)) for decision in decisions]
        for decision, why in refused:
            log.warning("refused %s for %s: %s", decision.kind, decision.report_id, why)
            self.store.record_refused(decision, why, clock.now())
        for change in applied:
            self.announce(change)
        outcome = {change.announcement.event_id: "applied" for change in applied} | \
            {decision.event_id: "refused" for decision, _ in refused}
        for decision in decisions:
            MESSAGES_HANDLED.labels(self.name, decision.kind, outcome.get(decision.event_id, "duplicate")).inc()

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
            applied = self.store.rebuild_announcement(entry)
            if applied is None:
                self.store.drop_outbox(entry["_id"])  # the change it announced never happened
                continue
            if not self.announce_later_if_down(applied):
                return   # the broker is away: the rest waits for the next round

    @timer(interval=15, eager=True)
    def refresh_gauges(self):
        """paht_reports{pack,state} (open reports), the outbox backlog and open dead letters, from the store."""
        try:
            self.store.observe_gauges(list_packs(), clock.now())
        except STORAGE_ERRORS as exc:
            log.warning("gauges not refreshed: %s", exc)

    @timer(interval=3600, eager=True)
    def purge_on_schedule(self):
        self.purge_now()
        self.store.forget_keys(clock.now())    # idempotency keys (and one-use RPC nonces) past their hours

    def purge_now(self) -> dict:
        """The packs' retention periods (pack.yaml publication.retention_days): closed reports older than that
        lose their reporter's data here, then their `report_purged` announcements go out (again after a crash,
        until sent) so every service forgets too. Hourly, and now by the RPC `purge_expired` (admin_rpc.py)."""
        now = clock.now()
        for pack_id in list_packs():
            days = (get_pack(pack_id).meta.get("publication") or {}).get("retention_days")
            if days:
                purged = self.store.purge_personal_data(pack_id, now - timedelta(days=days), now, days)
                if purged:
                    log.info("purged personal data of %d %s reports older than %d days", purged, pack_id, days)
        purges = self.store.unannounced_purges()
        for purge in purges:
            self.announce_purge(purge)
        return {"announced": [purge.report_id for purge in purges]}

    def announce_purge(self, purge):
        """Delete the reporter's files no other report needs, tell every service, then record it as sent."""
        for sha256 in purge.media:
            if not self.store.media_in_use(sha256):
                self.media.delete(sha256)
        self.dispatch(REPORT_PURGED, purge.model_dump(mode="json"))
        self.store.mark_purge_announced(purge.report_id)

    # ---- dead letters ---------------------------------------------------------------------------------------
    @dead_letter_consumer
    def keep_dead_letter(self, body, headers):
        """Every parked message is kept for the operator, and its report shows the processing error."""
        letter = deadletters.letter_from_message(body, headers, clock.now())
        self.store.keep_dead_letter(letter)

    # (the RPCs `dead_letters`, `dead_letter`, `replay_dead_letter`, `drop_dead_letter`: admin_rpc.py)
    @http("GET", "/api/v1/staff/dead-letters")
    @guarded
    def list_dead_letters(self, request):
        self.centre_user(request)
        query = self.validated(DeadLetterQuery, request.args.to_dict())
        letters = self.letters(query.status, query.limit)
        return json_response({"dead_letters": letters, "count": len(letters)})

    @http("GET", "/api/v1/staff/dead-letters/<string:letter_id>")
    @guarded
    def show_dead_letter(self, request, letter_id):
        self.centre_user(request)
        return json_response(self.found_letter(jsonable(self.store.dead_letter(letter_id))))

    @http("POST", "/api/v1/staff/dead-letters/<string:letter_id>/<string:verb>")
    @guarded
    def settle_dead_letter(self, request, letter_id, verb):
        self.centre_user(request)
        if verb not in ("replay", "drop"):
            raise ApiError("UNKNOWN_ACTION", fields={"action": verb})
        if self.store.dead_letter(letter_id) is None:
            raise ApiError("DEAD_LETTER_NOT_FOUND")
        letter = self.settle_letter(letter_id, verb)
        if letter is None:
            raise ApiError("ACTION_NOT_ALLOWED", detail="already settled")
        return json_response(letter)

    @staticmethod
    def found_letter(letter):
        if letter is None:
            raise ApiError("DEAD_LETTER_NOT_FOUND")
        return letter

    def centre_user(self, request) -> dict:
        user = authenticate(self.store, request)
        if user["role"] not in CENTRE_ROLES:
            raise ApiError("FORBIDDEN")
        return user

    @rpc
    def agency_counters(self, pack_id, start, end):
        """Intake's share of one pack's agency scorecards for [start, end) (ISO datetimes)."""
        start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
        pack = get_pack(pack_id)
        reports = self.store.accountable(accountability.relevant_query(pack_id, start, end))
        followers: dict[str, list] = {}
        for follow_up in self.store.followers(pack_id, end):
            followers.setdefault(follow_up["follows"], []).append(follow_up["submitted_at"])
        known = {report["_id"] for report in reports}
        reports += [r for r in (self.store.get(rid) for rid in followers if rid not in known) if r]
        leads = {r["_id"]: lead_agency(r) for r in reports if r["_id"] in followers}
        limit = pack.parameters.get("late_report_limit")
        calendar = calendar_for(pack.meta)
        reached = (lambda at: calendar.add(at, limit["amount"], limit["unit"])) if limit else None
        return jsonable(accountability.agency_counters(reports, followers, leads, start, end, clock.now(), reached))

    # ---- citizens -----------------------------------------------------------------------------------------
    @http("POST", "/api/v1/reports")
    @guarded
    def submit(self, request):
        self.within_rate(proxies.of_request(request))
        report_in = parse_part(request, ReportIn)
        self.within_rate(domain.reporter_key(report_in))
        files = read_media(request, settings.max_upload_bytes())
        answer = self.create_report(report_in, files, request.headers.get("Idempotency-Key", ""))
        return json_response(answer, 201)

    def create_report(self, report_in: ReportIn, files: list, idempotency_key: str = "") -> dict:
        """Every channel's submission ends here (HTTP, RPC, Open311, operators, Zalo): the report and its
        announcement stored, or an ApiError. `files` as `uploads.read_media` returns them (already validated).
        Returns {"id", "state", "tracking_token"}; a retry under the same idempotency key returns the first."""
        try:
            get_pack(report_in.pack)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": report_in.pack}) from None
        followed = self.store.get(report_in.follows) if report_in.follows else None
        if report_in.follows and (followed is None or followed["pack"] != report_in.pack):
            raise ApiError("VALIDATION_FAILED", fields={"follows": "no such report in this pack"})
        now = clock.now()
        token = secrets.token_urlsafe(18)
        report_id = domain.new_report_id(now)
        answer = {"id": report_id, "state": "submitted", "tracking_token": token}
        key = (idempotency_key or "").strip()[:200]
        if key:
            earlier = self.store.reserve_key(key, domain.fingerprint(report_in, files), answer, now,
                                             now + timedelta(hours=settings.idempotency_hours()))
            if earlier is not None:
                return self.replayed(earlier, domain.fingerprint(report_in, files))
        try:
            report = domain.new_report(report_in, self.put_media(files, report_in.media_meta), now, report_id, token)
            if report["category"] is None:
                report["category"], report["category_source"] = classify(report_in.description), "classifier"
            applied = self.store.create(report, domain.new_event_id(), now)
        except STORAGE_ERRORS:
            log.warning("submission not stored: storage unavailable", exc_info=True)
            if key:
                self.store.release_key(key)
            raise ApiError("SERVICE_UNAVAILABLE", retry_after=5) from None
        # the request ends once the report and its outbox entry are stored: the announcement goes out beside it
        self.background.spawn(self.announce_later_if_down, applied)
        return answer

    def replayed(self, earlier: dict, fingerprint: str):
        """A retried submission gets the first answer; the same key for another submission is refused."""
        if earlier["fingerprint"] != fingerprint:
            raise ApiError("IDEMPOTENCY_CONFLICT")
        if self.store.get(earlier["answer"]["id"]) is None:   # the first attempt is still being stored
            raise ApiError("SERVICE_UNAVAILABLE", retry_after=1)
        return earlier["answer"]

    def within_rate(self, key):
        wait = self.limiter.retry_after(key)
        if wait is not None:
            raise ApiError("RATE_LIMITED", retry_after=wait)

    def announce_later_if_down(self, applied: Applied) -> bool:
        """The change is stored with its outbox entry: if the broker is down now, the outbox timer sends it."""
        try:
            self.announce(applied)
            return True
        except Exception as exc:  # noqa: BLE001 — any publishing failure leaves the entry for the outbox timer
            log.warning("announcement %s left in the outbox: %s", applied.announcement.event_id, exc)
            return False

    def put_media(self, files, metas) -> list[MediaRecord]:
        by_name = {m.filename: m for m in metas if m.filename}
        records = []
        for index, (name, kind, mime, data) in enumerate(files):
            meta = by_name.get(name) or (metas[index] if index < len(metas) and not metas[index].filename else None)
            records.append(MediaRecord(sha256=self.media.put(data), filename=name, content_type=mime, kind=kind,
                                       size=len(data), captured_at=meta.captured_at if meta else None))
        return records

    def store_media(self, request, metas) -> list[MediaRecord]:
        return self.put_media(read_media(request, settings.max_upload_bytes()), metas)

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
        """The public view; with the report's `X-Tracking-Token` the reporter's own view, which includes a result
        delivered privately (a wrong token is 403)."""
        owner = bool(request.headers.get("X-Tracking-Token"))
        return json_response(domain.public_view(self.reported(report_id, owner, request), owner=owner))

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
            applied = self.store.apply(decision)
        except IllegalTransition as exc:
            raise ApiError("ACTION_NOT_ALLOWED", detail=str(exc)) from None
        if applied is not None:
            self.announce_later_if_down(applied)
        report = applied.report if applied is not None else self.store.get(decision.report_id)
        return json_response({"id": report["_id"], "state": report["state"], "event_id": decision.event_id})

    # ---- staff --------------------------------------------------------------------------------------------
    @http("GET", "/api/v1/staff/reports/<string:report_id>")
    @guarded
    def staff_report(self, request, report_id):
        user = authenticate(self.store, request)
        return json_response(domain.staff_view(self.staff_reported(user, report_id), user))

    @http("POST", "/api/v1/staff/reports/<string:report_id>/<string:action>")
    @guarded
    def staff_action_http(self, request, report_id, action):
        user = authenticate(self.store, request)
        if (request.mimetype or "").startswith("multipart/form-data"):   # a result with its "after" photos
            body = parse_part(request, StaffActionIn, required=False, part="action") or StaffActionIn()
        else:
            body = self.validated(StaffActionIn, read_json(request))
        files = read_media(request, settings.max_upload_bytes())
        return self.act(user, report_id, action, body, files)

    def staff_reported(self, user: dict, report_id: str) -> dict:
        """A report as a staff account may see it: another province's does not exist for it."""
        report = self.reported(report_id)
        if not in_province(user, report):
            raise ApiError("NOT_FOUND")
        if not may_see(user, report):
            raise ApiError("FORBIDDEN")
        return report

    def act(self, user, report_id, action, body, files):
        """Decide a staff action by the service that owns it, store the photos it brought, apply the decision."""
        if action not in STAFF_ACTIONS:
            raise ApiError("UNKNOWN_ACTION", fields={"action": action})
        report = self.staff_reported(user, report_id)
        if action == "reply":
            domain.check_reply(report, body.interaction_id)
        body = body.model_copy(update={"after_photos": domain.result_photos(report, body.after_photos, files)})
        target = {"judge": self.verification, "publish": self.publishing}.get(action, self.handling)
        actor = actors.signed(user_actor(user), report_id, action)
        answer = target.act(domain.snapshot(jsonable(report)), action, actor, body.model_dump(mode="json"))
        if "error" not in answer:
            self.put_media(files, [])
        return self.apply_answer(answer)

    @http("GET", "/api/v1/staff/scorecards")
    @guarded
    def scorecards(self, request):
        """A pack's agencies over a period: counters, rates and the pack's penalty findings with their articles.
        The centre sees every agency; an agency account its own row of its own pack."""
        user = authenticate(self.store, request)
        query = self.validated(ScorecardQuery, request.args.to_dict())
        pack_id = self.known_pack(query.pack if user.get("pack") is None else query.pack or user["pack"])
        if user.get("pack") not in (None, pack_id):
            raise ApiError("NOT_FOUND")
        cards = self.rating.scorecards(pack_id, query.period) if query.period else \
            self.rating.province_report(pack_id)
        if "error" in cards:
            raise ApiError(cards["error"]["code"], fields={"period": cards["error"].get("detail")})
        if user["role"] not in CENTRE_ROLES:
            cards = dict(cards, agencies=[a for a in cards["agencies"] if a["agency"] == user.get("agency")],
                         late=[item for item in cards["late"] if item.get("agency") == user.get("agency")],
                         totals=None)
        return json_response(cards)

    @http("GET", "/api/v1/staff/province-report")
    @guarded
    def province_report(self, request):
        """This month's scorecards (the same as /scorecards without a period)."""
        return self.scorecards(request)

    @http("GET", "/api/v1/staff/periodic-reports")
    @guarded
    def periodic_reports(self, request):
        """The pack's periodic reports made so far (operator, admin), newest first, with due and made times."""
        self.centre_user(request)
        pack_id = self.known_pack(request.args.get("pack", ""))
        reports = self.rating.periodic_reports(pack_id)
        return json_response({"pack": pack_id, "reports": reports, "count": len(reports)})

    @http("GET", "/api/v1/staff/periodic-reports/<string:name>")
    @guarded
    def periodic_report_file(self, request, name):
        self.centre_user(request)
        report_id, _, fmt = name.rpartition(".")
        if fmt not in ("xlsx", "csv", "json"):
            raise ApiError("NOT_FOUND")
        answer = self.rating.periodic_file(report_id, fmt)
        if answer is None:
            raise ApiError("NOT_FOUND")
        filename = report_id.replace(":", "_") + "." + fmt
        return Response(base64.b64decode(answer["data_b64"]), content_type=answer["content_type"],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    def known_pack(self, pack_id) -> str:
        try:
            get_pack(pack_id or "")
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": pack_id}) from None
        return pack_id

    # ---- test clock ---------------------------------------------------------------------------------------
    @http("POST", "/api/v1/_clock/advance")
    @guarded
    def advance_clock(self, request):
        """Moves the controlled clock (dev and test systems only, the admin only)."""
        if not settings.test_endpoints_enabled():
            raise ApiError("ROUTE_NOT_FOUND")
        if authenticate(self.store, request)["role"] != "admin":
            raise ApiError("FORBIDDEN")
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

    # ---- staff sign-in and accounts (staff.py; the store: dependencies.StaffAccounts) -------------------------
    @http("POST", "/api/v1/auth/login")
    @guarded
    def login(self, request):
        """{"username", "password"} → a bearer token for settings.session_minutes() (401 for a wrong password or
        a disabled account alike)."""
        self.within_rate(f"login:{proxies.of_request(request)}")
        given = self.validated(staff_auth.LoginIn, read_json(request))
        self.within_rate(f"login-user:{given.username.lower()}")
        session = self.store.accounts.login(given.username, given.password, settings.session_minutes())
        if session is None:
            raise ApiError("UNAUTHORIZED", detail="wrong username or password, or the account is disabled")
        token, expires_at, account = session
        return json_response({"token": token, "token_type": "Bearer", "expires_at": expires_at,
                              "expires_in": settings.session_minutes() * 60,
                              "user": staff_auth.account_view(account)})

    @http("POST", "/api/v1/auth/logout")
    @guarded
    def logout(self, request):
        """Ends the login session whose token is presented."""
        token = staff_auth.bearer(request)
        if not token or not self.store.accounts.logout(token):
            raise ApiError("UNAUTHORIZED")
        return json_response({"logged_out": True})

    @http("GET", "/api/v1/auth/me")
    @guarded
    def who_am_i(self, request):
        user = authenticate(self.store, request)
        return json_response({k: user.get(k) for k in ("_id", "username", "role", "pack", "agency", "name", "via",
                                                        "session_expires_at")} | {"id": user["_id"]})

    def admin_user(self, request) -> dict:
        user = authenticate(self.store, request)
        if user["role"] != "admin":
            raise ApiError("FORBIDDEN")
        return user

    @http("GET", "/api/v1/admin/users")
    @guarded
    def admin_list_users(self, request):
        """Staff accounts (admin; an admin of one pack sees that pack's), filtered by ?pack=&agency=&role=."""
        admin = self.admin_user(request)
        pack = admin.get("pack") or request.args.get("pack") or None
        users = self.accounts_listed(pack, request.args.get("agency") or None, request.args.get("role") or None)
        return json_response({"users": users, "count": len(users)})

    @http("POST", "/api/v1/admin/users")
    @guarded
    def admin_add_user(self, request):
        """{"username", "role", "pack", "agency", "name", "password"?} → 201 {"user", "password"} (the password
        is returned only when generated here)."""
        admin = self.admin_user(request)
        account = self.validated(staff_auth.AccountIn, read_json(request))
        if not staff_auth.may_manage(admin, {"pack": account.pack}):
            raise ApiError("FORBIDDEN")
        return json_response(self.new_account(account), 201)

    @http("POST", "/api/v1/admin/users/<string:user_id>/<string:verb>")
    @guarded
    def admin_user_action(self, request, user_id, verb):
        """disable | enable | reset ({"password"?}: a new password, generated when not given)."""
        admin = self.admin_user(request)
        account = self.store.accounts.get(user_id)
        if account is None or not staff_auth.may_manage(admin, account):
            raise ApiError("NOT_FOUND", detail="no such user")
        if verb in ("disable", "enable"):
            return json_response(self.account_switch(account["_id"], verb == "disable"))
        if verb == "reset":
            given = self.validated(staff_auth.ResetIn, read_json(request))
            return json_response(self.account_reset(account["_id"], given.password))
        raise ApiError("UNKNOWN_ACTION", fields={"action": verb})

    def new_account(self, account) -> dict:
        from paht.storage import DuplicateKeyError
        staff_auth.check_account(account, get_pack)
        password = account.password or secrets.token_urlsafe(12)
        try:
            created = self.store.accounts.add(account.username, password, account.role, account.pack or None,
                                              account.agency or None, account.name)
        except DuplicateKeyError:
            raise ApiError("VALIDATION_FAILED", fields={"username": "already taken"}) from None
        return jsonable({"user": staff_auth.account_view(created),
                         "password": None if account.password else password})

    def account_switch(self, reference: str, disabled: bool) -> dict:
        account = self.store.accounts.set_disabled(reference, disabled)
        if account is None:
            raise ApiError("NOT_FOUND", detail="no such user")
        return jsonable({"user": staff_auth.account_view(account)})

    def account_reset(self, reference: str, password: str | None) -> dict:
        if password is not None:
            staff_auth.check_password(password)
        new_password = password or secrets.token_urlsafe(12)
        account = self.store.accounts.reset_password(reference, new_password)
        if account is None:
            raise ApiError("NOT_FOUND", detail="no such user")
        return jsonable({"user": staff_auth.account_view(account), "password": None if password else new_password})

    # (the RPCs of `paht users` — add_user, list_users, disable_user, reset_user — are in admin_rpc.py: an admin's
    # token or PAHT's internal assertion)


def user_actor(user: dict) -> dict:
    return {"role": user["role"], "pack": user.get("pack"), "agency": user.get("agency"), "name": user.get("name"),
            "user": user["_id"]}
