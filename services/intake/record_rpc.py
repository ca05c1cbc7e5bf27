"""The record's RPCs for the front door (services/gateway): create a report, read it as each reader may, list it,
and apply a decision taken elsewhere. Each is internal: it takes PAHT's assertion for that one call
(paht.callers), and the staff user it names is the one the gateway authenticated. Each answers `{"ok": …}` or
`{"error": {"code", "detail", "fields", "retry_after"}}` (the gateway raises it as the API's ApiError); none calls
another service, so the record never waits on one."""
from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from datetime import datetime

from nameko.rpc import rpc
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paht import callers, clock
from paht.categories import classify
from paht.errors import ApiError
from paht.events import jsonable
from paht.rules import get_pack
from paht.schemas import Decision, EnteredReport, MediaRecord, ReportFilter, StaffQuery, SupplementIn
from paht.states import IllegalTransition
from paht.tokens import hash_token
from paht.web import validation_fields

from . import lists
from . import reports as domain
from .access import in_province, may_see, staff_filter
from .dependencies import STORAGE_ERRORS
from .views import check_reply, public_view, staff_view

log = logging.getLogger(__name__)

MAX_LISTED = 10000   # the reports one staff list (or export) reads, before sorting by deadline and cutting
PAGE_ORDER = [("submitted_at", -1), ("_id", -1)]   # newest first; the id breaks ties (one clock tick, many reports)


class StaffUser(BaseModel):
    """The staff user as the gateway authenticated them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(alias="_id")
    role: str
    pack: str | None = None
    agency: str | None = None
    name: str | None = None

    def as_user(self) -> dict:
        return {"_id": self.id, "role": self.role, "pack": self.pack, "agency": self.agency, "name": self.name}


def answered(method: str, work) -> dict:
    """`{"ok": work()}`, or the refusal as `{"error"}`; an unexpected failure is logged and answered INTERNAL_ERROR
    (storage away: SERVICE_UNAVAILABLE, the client may retry)."""
    try:
        return {"ok": jsonable(work())}
    except ApiError as exc:
        return {"error": {"code": exc.code, "detail": exc.detail, "fields": exc.fields,
                          "retry_after": exc.retry_after}}
    except STORAGE_ERRORS:
        log.warning("intake.%s: storage unavailable", method, exc_info=True)
        return {"error": {"code": "SERVICE_UNAVAILABLE", "retry_after": 5}}
    except Exception:  # noqa: BLE001 — the caller gets a stable answer, the log the trace
        log.exception("unhandled error in intake.%s", method)
        return {"error": {"code": "INTERNAL_ERROR"}}


def parsed(model, data):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None


def encode_cursor(report: dict) -> str:
    position = json.dumps([report["submitted_at"].isoformat(), report["_id"]])
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def after_cursor(cursor: str) -> dict:
    """The store condition for the reports after `cursor` in PAGE_ORDER."""
    try:
        submitted, report_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        submitted = datetime.fromisoformat(submitted)
        if not isinstance(report_id, str) or submitted.tzinfo is None:
            raise ValueError("not a position")
    except (ValueError, TypeError, binascii.Error):
        raise ApiError("VALIDATION_FAILED", fields={"filter.cursor": "not a cursor of this listing"}) from None
    return {"$or": [{"submitted_at": {"$lt": submitted}}, {"submitted_at": submitted, "_id": {"$lt": report_id}}]}


def public_record(report: dict, owner: bool = False) -> dict:
    """The public view, with what a public answer may also show: when it last changed and the photos of a
    published result."""
    photos = (report.get("result") or {}).get("after_photos") or [] if report["state"] == "published" else []
    return {"view": public_view(report, owner=owner), "updated_at": report.get("updated_at"),
            "result_photos": photos}


class RecordRpc:
    def internal(self, method: str, arguments: dict) -> None:
        callers.caller(arguments.pop("credential", None), f"intake.{method}", arguments)

    def found(self, report_id) -> dict:
        report = self.store.get(report_id) if isinstance(report_id, str) else None
        if report is None:
            raise ApiError("NOT_FOUND")
        return report

    def reporters(self, report_id, tracking_token) -> dict:
        """The report whose tracking token was shown (INVALID_TOKEN for a wrong one)."""
        report = self.found(report_id)
        if not isinstance(tracking_token, str) or not tracking_token or not secrets.compare_digest(
                hash_token(tracking_token), report["tracking_token_hash"]):
            raise ApiError("INVALID_TOKEN")
        return report

    def staff_reported(self, user: dict, report_id) -> dict:
        """A report as a staff account may see it: another province's does not exist for it."""
        report = self.found(report_id)
        if not in_province(user, report):
            raise ApiError("NOT_FOUND")
        if not may_see(user, report):
            raise ApiError("FORBIDDEN")
        return report

    # ---- creating ----------------------------------------------------------------------------------------------
    @rpc
    def create_report(self, report=None, media=None, report_id=None, tracking_token=None, credential=None):
        """A validated submission with its stored media (MediaRecord) under the id and tracking token the gateway
        gave it → {"id", "state", "tracking_token"}. The same id again answers the first (a retried submission)."""
        def work():
            self.internal("create_report", {"report": report, "media": media, "report_id": report_id,
                                            "tracking_token": tracking_token, "credential": credential})
            return self.create(parsed(EnteredReport, report or {}), [parsed(MediaRecord, m) for m in media or []],
                               str(report_id or ""), str(tracking_token or ""))
        return answered("create_report", work)

    def create(self, report_in: EnteredReport, media: list[MediaRecord], report_id: str, token: str) -> dict:
        try:
            get_pack(report_in.pack)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": report_in.pack}) from None
        answer = {"id": report_id, "state": "submitted", "tracking_token": token}
        earlier = self.store.get(report_id)
        if earlier is not None:
            if earlier["tracking_token_hash"] != hash_token(token):
                raise ApiError("IDEMPOTENCY_CONFLICT")
            return answer
        followed = self.store.get(report_in.follows) if report_in.follows else None
        if report_in.follows and (followed is None or followed["pack"] != report_in.pack):
            raise ApiError("VALIDATION_FAILED", fields={"follows": "no such report in this pack"})
        now = clock.now()
        report = domain.new_report(report_in, media, now, report_id, token)
        if report["category"] is None:
            report["category"], report["category_source"] = classify(report_in.description), "classifier"
        applied = self.store.create(report, domain.new_event_id(), now)
        # the answer goes once the report and its outbox entry are stored: the announcement goes out beside it
        self.background.spawn(self.announce_later_if_down, applied)
        return answer

    # ---- reading -----------------------------------------------------------------------------------------------
    @rpc
    def public_report(self, report_id=None, tracking_token=None, credential=None):
        """What anyone may read of a report; with its tracking token the reporter's own view (a wrong token:
        INVALID_TOKEN) → {"view", "updated_at", "result_photos"}."""
        def work():
            self.internal("public_report", {"report_id": report_id, "tracking_token": tracking_token,
                                            "credential": credential})
            if tracking_token:
                return public_record(self.reporters(report_id, tracking_token), owner=True)
            return public_record(self.found(report_id))
        return answered("public_report", work)

    @rpc
    def reporter_snapshot(self, report_id=None, tracking_token=None, credential=None):
        """The report as the deciding services see it (reports.snapshot), for its reporter's rating or message."""
        def work():
            self.internal("reporter_snapshot", {"report_id": report_id, "tracking_token": tracking_token,
                                                "credential": credential})
            return domain.snapshot(self.reporters(report_id, tracking_token))
        return answered("reporter_snapshot", work)

    @rpc
    def staff_report(self, user=None, report_id=None, credential=None):
        """The staff view of a report the user may see (another province's: NOT_FOUND)."""
        def work():
            self.internal("staff_report", {"user": user, "report_id": report_id, "credential": credential})
            viewer = parsed(StaffUser, user or {}).as_user()
            return staff_view(self.staff_reported(viewer, report_id), viewer)
        return answered("staff_report", work)

    @rpc
    def staff_list(self, user=None, query=None, credential=None):
        """The reports a staff user may see, filtered and ordered (StaffQuery): {"reports": [views with `due`]}, or
        for an export {"columns", "rows"}."""
        def work():
            self.internal("staff_list", {"user": user, "query": query, "credential": credential})
            viewer = parsed(StaffUser, user or {}).as_user()
            asked = parsed(StaffQuery, query or {})
            return self.listed(viewer, asked)
        return answered("staff_list", work)

    def listed(self, user: dict, query: StaffQuery) -> dict:
        export = query.format != "json"
        whole = export or query.late is not None or query.sort != "-submitted"
        found = self.store.find(staff_filter(user, query), limit=MAX_LISTED if whole else query.limit)
        if query.late is not None:
            found = [r for r in found if public_view(r)["late"] == query.late]
        found = lists.ordered(found, query.sort)
        if not export or "limit" in query.model_fields_set:
            found = found[:query.limit]
        if export:
            return {"columns": list(lists.COLUMNS), "rows": [lists.row(r, user) for r in found]}
        return {"reports": [dict(public_view(r), due=lists.next_due(r)) for r in found]}

    @rpc
    def report_page(self, user=None, filter=None, credential=None):
        """One page of the reports a staff user may see, newest first, as public views: {"reports", "count",
        "next"}; `next` is the `filter.cursor` of the following page (None at the end)."""
        def work():
            self.internal("report_page", {"user": user, "filter": filter, "credential": credential})
            viewer = parsed(StaffUser, user or {}).as_user()
            asked = parsed(ReportFilter, filter or {})
            query = staff_filter(viewer, asked)
            if asked.cursor:
                query = {"$and": [query, after_cursor(asked.cursor)]}
            found = list(self.store.reports.find(query, sort=PAGE_ORDER, limit=asked.limit + 1))
            page, more = found[:asked.limit], len(found) > asked.limit
            return {"reports": [public_view(r) for r in page], "count": len(page),
                    "next": encode_cursor(page[-1]) if more else None}
        return answered("report_page", work)

    @rpc
    def public_reports(self, pack=None, ids=None, since=None, until=None, categories=None, states=None,
                       tracking_token=None, limit=None, credential=None):
        """A pack's reports as public records (public_report's answer), newest first: by ids, by tracking token, or
        submitted in [since, until] (ISO instants) of these categories and states (Open311's GET requests)."""
        arguments = {"pack": pack, "ids": ids, "since": since, "until": until, "categories": categories,
                     "states": states, "tracking_token": tracking_token, "limit": limit}

        def work():
            self.internal("public_reports", dict(arguments, credential=credential))
            asked = parsed(PublicReportsQuery, {k: v for k, v in arguments.items() if v is not None})
            return [public_record(report) for report in self.store.find(asked.store_query(), limit=asked.limit)]
        return answered("public_reports", work)

    # ---- the reporter's own decisions, and decisions taken elsewhere --------------------------------------------
    @rpc
    def reporter_act(self, report_id=None, tracking_token=None, action=None, supplement=None, media=None,
                     credential=None):
        """The reporter's `supplement` (with its stored media) or `cancel` → {"id", "state", "event_id"}."""
        def work():
            self.internal("reporter_act", {"report_id": report_id, "tracking_token": tracking_token,
                                           "action": action, "supplement": supplement, "media": media,
                                           "credential": credential})
            report = self.reporters(report_id, tracking_token)
            now = clock.now()
            if action == "supplement":
                given = parsed(SupplementIn, supplement or {})
                if report["state"] != "needs_supplement":
                    raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {report['state']}")
                files = [parsed(MediaRecord, m) for m in media or []]
                return self.apply_or_refuse(domain.supplement_decision(report, given, files, now))
            if action == "cancel":
                cancellation = get_pack(report["pack"]).meta.get("cancellation", {})
                if not cancellation.get("allowed", True) or report["state"] not in domain.CANCELLABLE:
                    raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {report['state']}")
                return self.apply_or_refuse(domain.cancel_decision(report, now, cancellation.get("article")))
            raise ApiError("UNKNOWN_ACTION", fields={"action": str(action)[:40]})
        return answered("reporter_act", work)

    @rpc
    def prepare_action(self, user=None, report_id=None, action=None, body=None, uploaded=None, credential=None):
        """Before a staff action is decided: the report as its decider sees it (reports.snapshot) and the body with
        the photos of a result checked (exactly those uploaded with it, by SHA-256) → {"snapshot", "body"}."""
        def work():
            self.internal("prepare_action", {"user": user, "report_id": report_id, "action": action,
                                             "body": body, "uploaded": uploaded, "credential": credential})
            viewer = parsed(StaffUser, user or {}).as_user()
            report = self.staff_reported(viewer, report_id)
            body_ = dict(body or {})
            if action == "reply":
                check_reply(report, body_.get("interaction_id"))
            body_["after_photos"] = domain.result_photos(report, body_.get("after_photos") or [],
                                                         [str(sha) for sha in uploaded or []])
            return {"snapshot": domain.snapshot(report), "body": body_}
        return answered("prepare_action", work)

    @rpc
    def apply_decision(self, decision=None, credential=None):
        """A decision another service took on a person's request, applied now → {"id", "state", "event_id"}
        (ACTION_NOT_ALLOWED when it no longer fits the report)."""
        def work():
            self.internal("apply_decision", {"decision": decision, "credential": credential})
            return self.apply_or_refuse(parsed(Decision, decision or {}))
        return answered("apply_decision", work)

    def apply_or_refuse(self, decision: Decision) -> dict:
        try:
            applied = self.store.apply(decision)
        except IllegalTransition as exc:
            raise ApiError("ACTION_NOT_ALLOWED", detail=str(exc)) from None
        if applied is not None:
            self.announce_later_if_down(applied)
        report = applied.report if applied is not None else self.store.get(decision.report_id)
        return {"id": report["_id"], "state": report["state"], "event_id": decision.event_id}


class PublicReportsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str = Field(min_length=1, max_length=64)
    ids: list[str] | None = Field(None, max_length=MAX_LISTED)
    since: datetime | None = None
    until: datetime | None = None
    categories: list[str] | None = None
    states: list[str] | None = None
    tracking_token: str | None = Field(None, max_length=100)
    limit: int = Field(1000, ge=1, le=MAX_LISTED)

    def store_query(self) -> dict:
        query: dict = {"pack": self.pack}
        if self.ids is not None:
            return query | {"_id": {"$in": self.ids}}
        if self.tracking_token is not None:
            return query | {"tracking_token_hash": hash_token(self.tracking_token)}
        if self.since or self.until:
            query["submitted_at"] = {k: v for k, v in (("$gte", self.since), ("$lte", self.until)) if v}
        if self.categories:
            query["category"] = {"$in": self.categories}
        if self.states is not None:
            query["state"] = {"$in": self.states}
        return query
