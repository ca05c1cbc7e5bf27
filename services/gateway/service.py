"""gateway: the one front door — the JSON API, Open311, the Zalo webhook, the API documents, staff accounts and
sessions, idempotency keys and rate limits. It holds no report state: it validates, authenticates, calls the record
(intake, record.py) and the deciding services over RPC, and shapes the answer. Entrypoints only; logic elsewhere."""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.timer import timer
from pydantic import ValidationError
from werkzeug.wrappers import Response

from paht import actors, callers, clock, proxies, settings
from paht.actions import DECIDERS
from paht.errors import ApiError
from paht.events import CLOCK_ADVANCED, jsonable
from paht.background import Background
from paht.mediastore import MediaFiles
from paht.mediatypes import detect
from paht.roles import CENTRE_ROLES
from paht.rpc import TimedRpcProxy
from paht.rules import get_pack
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
from paht.tokens import new_report_id, new_tracking_token
from paht.web import Observable, guarded, http, json_response, read_json, validation_fields

from . import staff as staff_auth
from .admin_rpc import AdminRpcApi
from .apidoc import ApiDocApi
from .channels import ChannelsApi
from .dependencies import STORAGE_ERRORS, Door, RateLimits
from .listings import ListingsApi
from .open311 import Open311Api
from .pages.assets import StaticFiles
from .pages.centre import CentrePages
from .pages.public import PublicPages
from .pages.staff import StaffPages
from .record import Record, user_of
from .rpc_api import RpcApi
from .schemas import DeadLetterQuery, ScorecardQuery
from .staff import authenticate
from .submissions import account_verified, fingerprint, reporter_key, without_credentials
from .uploads import parse_part, read_media

log = logging.getLogger(__name__)


class GatewayService(RpcApi, AdminRpcApi, ListingsApi, Open311Api, ChannelsApi, ApiDocApi, PublicPages, StaffPages,
                     CentrePages, StaticFiles, Observable):
    name = "gateway"

    config = Config()
    store = Door()
    limiter = RateLimits()
    background = Background()
    media = MediaFiles()
    dispatch = EventDispatcher()
    record = Record()
    intake = TimedRpcProxy("intake")
    handling = TimedRpcProxy("handling")
    rating = TimedRpcProxy("rating")
    verification = TimedRpcProxy("verification")
    publishing = TimedRpcProxy("publishing")

    @timer(interval=3600)
    def forget_expired_keys(self):
        """Idempotency keys (and account RPCs' assertion nonces) past their hours (PAHT_IDEMPOTENCY_HOURS)."""
        try:
            self.store.forget_keys(clock.now())
        except STORAGE_ERRORS as exc:
            log.warning("expired idempotency keys not forgotten now: %s", exc)

    # ---- citizens -----------------------------------------------------------------------------------------
    @http("POST", "/api/v1/reports")
    @guarded
    def submit(self, request):
        self.within_rate(proxies.of_request(request))
        report_in = parse_part(request, ReportIn)
        self.within_rate(reporter_key(report_in))
        files = read_media(request, settings.max_upload_bytes())
        answer = self.create_report(report_in, files, request.headers.get("Idempotency-Key", ""))
        return json_response(answer, 201)

    def create_report(self, report_in: ReportIn, files: list, idempotency_key: str = "") -> dict:
        """Every channel's submission ends here (HTTP, RPC, Open311, operators, Zalo): its media stored, then the
        report recorded (intake), or an ApiError. `files` as `uploads.read_media` returns them (already validated).
        Returns {"id", "state", "tracking_token"}. The id and token are given here, so a retry under the same
        idempotency key records the first attempt's report (once: intake takes the same id once) and answers it."""
        try:
            get_pack(report_in.pack)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": report_in.pack}) from None
        now = clock.now()
        answer = {"id": new_report_id(now), "state": "submitted", "tracking_token": new_tracking_token()}
        key = (idempotency_key or "").strip()[:200]
        if key:
            answer = self.first_answer(key, fingerprint(report_in, files), answer, now)
        try:
            media = self.put_media(files, report_in.media_meta)
        except STORAGE_ERRORS:
            log.warning("submission not stored: media storage unavailable", exc_info=True)
            raise ApiError("SERVICE_UNAVAILABLE", retry_after=5) from None
        try:
            return self.record.create_report(report=without_credentials(report_in),
                                             media=[m.model_dump(mode="json") for m in media],
                                             report_id=answer["id"], tracking_token=answer["tracking_token"],
                                             account_verified=account_verified(report_in.reporter))
        except ApiError as refused:
            if key and refused.code != "SERVICE_UNAVAILABLE":   # refused for good: the key may be used again
                self.store.release_key(key)
            raise

    def first_answer(self, key: str, given: str, answer: dict, now) -> dict:
        """The answer this idempotency key stands for: a new one, or the first submission's (the same key for
        another submission is refused)."""
        try:
            earlier = self.store.reserve_key(key, given, answer, now,
                                             now + timedelta(hours=settings.idempotency_hours()))
        except STORAGE_ERRORS:
            raise ApiError("SERVICE_UNAVAILABLE", retry_after=5) from None
        if earlier is None:
            return answer
        if earlier["fingerprint"] != given:
            raise ApiError("IDEMPOTENCY_CONFLICT")
        return earlier["answer"]

    def within_rate(self, key):
        wait = self.limiter.retry_after(key)
        if wait is not None:
            raise ApiError("RATE_LIMITED", retry_after=wait)

    def put_media(self, files, metas) -> list[MediaRecord]:
        by_name = {m.filename: m for m in metas if m.filename}
        records = []
        for index, (name, kind, mime, data) in enumerate(files):
            meta = by_name.get(name) or (metas[index] if index < len(metas) and not metas[index].filename else None)
            records.append(MediaRecord(sha256=self.media.put(data), filename=name, content_type=mime, kind=kind,
                                       size=len(data), captured_at=meta.captured_at if meta else None))
        return records

    @http("GET", "/api/v1/reports/<string:report_id>/result-photos/<string:sha256>")
    @guarded
    def result_photo(self, request, report_id, sha256):
        """A photo of the fixed scene, public once the result is published (never the reporter's own media)."""
        if sha256 not in self.record.public_report(report_id=report_id)["result_photos"]:
            raise ApiError("NOT_FOUND")
        data = self.media.read(sha256)
        kind = detect(data)
        return Response(data, content_type=kind[1] if kind else "application/octet-stream")

    @http("GET", "/api/v1/reports/<string:report_id>")
    @guarded
    def public_report(self, request, report_id):
        """The public view; with the report's `X-Tracking-Token` the reporter's own view, which includes a result
        delivered privately (a wrong token is 403)."""
        token = request.headers.get("X-Tracking-Token") or None
        return json_response(self.record.public_report(report_id=report_id, tracking_token=token)["view"])

    @staticmethod
    def tracking_token(request) -> str:
        token = request.headers.get("X-Tracking-Token", "")
        if not token:
            raise ApiError("INVALID_TOKEN")
        return token

    @http("POST", "/api/v1/reports/<string:report_id>/supplement")
    @guarded
    def supplement(self, request, report_id):
        token = self.tracking_token(request)
        supplement = parse_part(request, SupplementIn, part="supplement") if request.mimetype == "application/json" \
            else (parse_part(request, SupplementIn, required=False, part="supplement") or SupplementIn())
        state = self.record.public_report(report_id=report_id, tracking_token=token)["view"]["state"]
        if state != "needs_supplement":   # before any file is kept
            raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {state}")
        media = self.put_media(read_media(request, settings.max_upload_bytes()), supplement.media_meta)
        return json_response(self.record.reporter_act(
            report_id=report_id, tracking_token=token, action="supplement",
            supplement=without_credentials(supplement, exclude_unset=True),
            media=[m.model_dump(mode="json") for m in media],
            account_verified=supplement.reporter is not None and account_verified(supplement.reporter)))

    @http("POST", "/api/v1/reports/<string:report_id>/cancel")
    @guarded
    def cancel(self, request, report_id):
        return json_response(self.record.reporter_act(report_id=report_id, tracking_token=self.tracking_token(request),
                                                      action="cancel"))

    @http("POST", "/api/v1/reports/<string:report_id>/rating")
    @guarded
    def rate(self, request, report_id):
        snapshot = self.record.reporter_snapshot(report_id=report_id, tracking_token=self.tracking_token(request))
        rating = self.validated(RatingIn, read_json(request))
        return json_response(self.apply_answer(self.rating.rate(snapshot, rating.level, rating.comment)))

    @http("POST", "/api/v1/reports/<string:report_id>/interactions")
    @guarded
    def interact(self, request, report_id):
        snapshot = self.record.reporter_snapshot(report_id=report_id, tracking_token=self.tracking_token(request))
        interaction = self.validated(InteractionIn, read_json(request))
        return json_response(self.apply_answer(self.rating.interact(snapshot, interaction.message)))

    def validated(self, model, data):
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None

    def apply_answer(self, answer: dict) -> dict:
        """A decider's RPC answer {"decision": …} or {"error": {"code", "detail"}}, applied by the record →
        {"id", "state", "event_id"}."""
        if "error" in answer:
            raise ApiError(answer["error"]["code"], detail=answer["error"].get("detail"),
                           fields=answer["error"].get("fields"), retry_after=answer["error"].get("retry_after"))
        decision = Decision.model_validate(answer["decision"])
        return self.record.apply_decision(decision=decision.model_dump(mode="json"))

    # ---- staff --------------------------------------------------------------------------------------------
    @http("GET", "/api/v1/staff/reports/<string:report_id>")
    @guarded
    def staff_report(self, request, report_id):
        user = authenticate(self.store, request)
        return json_response(self.record.staff_report(user=user_of(user), report_id=report_id))

    @http("POST", "/api/v1/staff/reports/<string:report_id>/<string:action>")
    @guarded
    def staff_action_http(self, request, report_id, action):
        user = authenticate(self.store, request)
        if (request.mimetype or "").startswith("multipart/form-data"):   # a result with its "after" photos
            body = parse_part(request, StaffActionIn, required=False, part="action") or StaffActionIn()
        else:
            body = self.validated(StaffActionIn, read_json(request))
        files = read_media(request, settings.max_upload_bytes())
        return json_response(self.act(user, report_id, action, body, files))

    def act(self, user, report_id, action, body: StaffActionIn, files) -> dict:
        """A staff action decided by the service that owns it (paht.actions), its photos stored, the decision
        applied by the record → {"id", "state", "event_id"}."""
        if action not in DECIDERS:
            raise ApiError("UNKNOWN_ACTION", fields={"action": action})
        prepared = self.record.prepare_action(user=user_of(user), report_id=report_id, action=action,
                                              body=body.model_dump(mode="json"),
                                              uploaded=[hashlib.sha256(data).hexdigest() for *_, data in files])
        decider = getattr(self, DECIDERS[action])
        actor = actors.signed(user_actor(user), report_id, action)
        answer = decider.act(prepared["snapshot"], action, actor, prepared["body"])
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
        return json_response(self.scorecards_seen(user, query.pack, query.period))

    def scorecards_seen(self, user: dict, pack: str | None, period: str | None) -> dict:
        """The scorecards a staff user may see (the API's and the leaders' dashboard's): the centre every agency of
        the pack asked, an agency account its own row and late items of its own pack; without a period, this
        month's."""
        pack_id = self.known_pack(pack if user.get("pack") is None else pack or user["pack"])
        if user.get("pack") not in (None, pack_id):
            raise ApiError("NOT_FOUND")
        cards = self.rating.scorecards(pack_id, period) if period else self.rating.province_report(pack_id)
        if "error" in cards:
            raise ApiError(cards["error"]["code"], fields={"period": cards["error"].get("detail")})
        if user["role"] not in CENTRE_ROLES:
            cards = dict(cards, agencies=[a for a in cards["agencies"] if a["agency"] == user.get("agency")],
                         late=[item for item in cards["late"] if item.get("agency") == user.get("agency")],
                         totals=None)
        return cards

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
        user = self.centre_user(request)
        report_id, _, fmt = name.rpartition(".")
        if fmt not in ("xlsx", "csv", "json"):
            raise ApiError("NOT_FOUND")
        answer = self.rating.periodic_file(report_id, fmt)
        if answer is None or user.get("pack") not in (None, answer.get("pack")):   # another province's: none
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

    # ---- the centre's dead letters (the record keeps them: intake's admin RPCs, called as PAHT itself) ----------
    @http("GET", "/api/v1/staff/dead-letters")
    @guarded
    def list_dead_letters(self, request):
        self.centre_user(request)
        query = self.validated(DeadLetterQuery, request.args.to_dict())
        letters = self.intake_admin("dead_letters", status=query.status, limit=query.limit)
        return json_response({"dead_letters": letters, "count": len(letters)})

    @http("GET", "/api/v1/staff/dead-letters/<string:letter_id>")
    @guarded
    def show_dead_letter(self, request, letter_id):
        self.centre_user(request)
        return json_response(self.found_letter(self.intake_admin("dead_letter", letter_id=letter_id[:100])))

    @http("POST", "/api/v1/staff/dead-letters/<string:letter_id>/<string:verb>")
    @guarded
    def settle_dead_letter(self, request, letter_id, verb):
        self.centre_user(request)
        if verb not in ("replay", "drop"):
            raise ApiError("UNKNOWN_ACTION", fields={"action": verb})
        self.found_letter(self.intake_admin("dead_letter", letter_id=letter_id[:100]))
        letter = self.intake_admin(f"{verb}_dead_letter", letter_id=letter_id[:100])
        if letter is None:
            raise ApiError("ACTION_NOT_ALLOWED", detail="already settled")
        return json_response(letter)

    def intake_admin(self, method: str, **arguments):
        return callers.call_internal("intake", self.intake, method, **arguments)

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

