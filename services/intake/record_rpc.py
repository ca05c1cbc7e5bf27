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
from pydantic import ValidationError

from paht import callers, clock
from paht.categories import classify
from paht.errors import ApiError
from paht.events import jsonable
from paht.rules import get_pack
from paht.schemas import Decision, StaffQuery, SupplementIn
from paht.states import IllegalTransition
from paht.tokens import hash_token
from paht.web import validation_fields

from . import lists, statistics
from . import reports as domain
from .access import in_province, may_see, staff_filter
from .dependencies import STORAGE_ERRORS
from .rpc_schemas import (
    MAX_LISTED,
    ApplyDecisionArgs,
    CreateReportArgs,
    PrepareActionArgs,
    PublicReportArgs,
    PublicReportsArgs,
    ReporterActArgs,
    ReporterSnapshotArgs,
    ReportPageArgs,
    ReportStatisticsArgs,
    StaffListArgs,
    StaffReportArgs,
)
from .views import check_reply, public_view, staff_view

log = logging.getLogger(__name__)

PAGE_ORDER = [("submitted_at", -1), ("_id", -1)]   # newest first; the id breaks ties (one clock tick, many reports)


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
    def served(self, method: str, model, arguments: dict, work) -> dict:
        """One record call: PAHT's assertion for exactly these arguments, then `work(the validated call)`."""
        arguments = {name: value for name, value in arguments.items() if name != "self"}

        def checked():
            callers.caller(arguments.get("credential"), f"intake.{method}",
                           {name: value for name, value in arguments.items() if name != "credential"})
            return work(parsed(model, {name: value for name, value in arguments.items() if value is not None}))
        return answered(method, checked)

    def found(self, report_id: str) -> dict:
        report = self.store.get(report_id)
        if report is None:
            raise ApiError("NOT_FOUND")
        return report

    def reporters(self, report_id: str, tracking_token: str) -> dict:
        """The report whose tracking token was shown (INVALID_TOKEN for a wrong one)."""
        report = self.found(report_id)
        if not secrets.compare_digest(hash_token(tracking_token), report["tracking_token_hash"]):
            raise ApiError("INVALID_TOKEN")
        return report

    def staff_reported(self, user: dict, report_id: str) -> dict:
        """A report as a staff account may see it: another province's does not exist for it."""
        report = self.found(report_id)
        if not in_province(user, report):
            raise ApiError("NOT_FOUND")
        if not may_see(user, report):
            raise ApiError("FORBIDDEN")
        return report

    # ---- creating ----------------------------------------------------------------------------------------------
    @rpc
    def create_report(self, report=None, media=None, report_id=None, tracking_token=None, account_verified=None,
                      credential=None):
        """A validated submission with its stored media under the id and tracking token the gateway gave it →
        {"id", "state", "tracking_token"}. The same id again answers the first (a retried submission)."""
        return self.served("create_report", CreateReportArgs, locals(), self.create)

    def create(self, call: CreateReportArgs) -> dict:
        report_in = call.report
        try:
            get_pack(report_in.pack)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": report_in.pack}) from None
        answer = {"id": call.report_id, "state": "submitted", "tracking_token": call.tracking_token}
        earlier = self.store.get(call.report_id)
        if earlier is not None:
            if earlier["tracking_token_hash"] != hash_token(call.tracking_token):
                raise ApiError("IDEMPOTENCY_CONFLICT")
            return answer
        followed = self.store.get(report_in.follows) if report_in.follows else None
        if report_in.follows and (followed is None or followed["pack"] != report_in.pack):
            raise ApiError("VALIDATION_FAILED", fields={"follows": "no such report in this pack"})
        now = clock.now()
        report = domain.new_report(report_in, call.media, now, call.report_id, call.tracking_token,
                                   call.account_verified)
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
        arguments = dict(locals())
        def work(call: PublicReportArgs):
            if call.tracking_token:
                return public_record(self.reporters(call.report_id, call.tracking_token), owner=True)
            return public_record(self.found(call.report_id))
        return self.served("public_report", PublicReportArgs, arguments, work)

    @rpc
    def reporter_snapshot(self, report_id=None, tracking_token=None, credential=None):
        """The report as the deciding services see it (reports.snapshot), for its reporter's rating or message."""
        return self.served("reporter_snapshot", ReporterSnapshotArgs, locals(),
                           lambda call: domain.snapshot(self.reporters(call.report_id, call.tracking_token)))

    @rpc
    def staff_report(self, user=None, report_id=None, credential=None):
        """The staff view of a report the user may see (another province's: NOT_FOUND)."""
        arguments = dict(locals())
        def work(call: StaffReportArgs):
            viewer = call.user.as_user()
            return staff_view(self.staff_reported(viewer, call.report_id), viewer)
        return self.served("staff_report", StaffReportArgs, arguments, work)

    @rpc
    def staff_list(self, user=None, query=None, credential=None):
        """The reports a staff user may see, filtered and ordered (StaffQuery): {"reports": [views with `due`]}, or
        for an export {"columns", "rows"}."""
        return self.served("staff_list", StaffListArgs, locals(), lambda call: self.listed(call.user.as_user(),
                                                                                            call.query))

    def listed(self, user: dict, query: StaffQuery) -> dict:
        export = query.format != "json"
        if not export and query.late is None and query.sort in ("due", "-due"):   # the store sorts and pages
            found = self.store.by_next_due(staff_filter(user, query), query.sort == "-due", query.limit)
            return {"reports": [dict(public_view(r), due=lists.next_due(r)) for r in found]}
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
        arguments = dict(locals())
        def work(call: ReportPageArgs):
            query = staff_filter(call.user.as_user(), call.filter)
            if call.filter.cursor:
                query = {"$and": [query, after_cursor(call.filter.cursor)]}
            found = list(self.store.reports.find(query, sort=PAGE_ORDER, limit=call.filter.limit + 1))
            page, more = found[:call.filter.limit], len(found) > call.filter.limit
            return {"reports": [public_view(r) for r in page], "count": len(page),
                    "next": encode_cursor(page[-1]) if more else None}
        return self.served("report_page", ReportPageArgs, arguments, work)

    @rpc
    def report_statistics(self, user=None, pack=None, since=None, until=None, trend_months=None, credential=None):
        """Counts of the reports of a pack the staff user may see (an agency account: its own agency's) submitted in
        [since, until): by state, category and ward, resolved and on time, ratings; and the same for each of the
        `trend_months` reporting months up to `until` (statistics.py). Counts only."""
        arguments = dict(locals())
        def work(call: ReportStatisticsArgs):
            try:
                pack_rules = get_pack(call.pack)
            except KeyError:
                raise ApiError("UNKNOWN_PACK", fields={"pack": call.pack}) from None
            trend = statistics.months(pack_rules, call.until, call.trend_months)
            query = staff_filter(call.user.as_user(), StaffQuery(pack=call.pack))
            query["submitted_at"] = {"$gte": min([call.since] + [m.start for m in trend]), "$lt": call.until}
            return statistics.report_statistics(self.store.reports.find(query, statistics.PROJECTION), call.since,
                                                call.until, trend)
        return self.served("report_statistics", ReportStatisticsArgs, arguments, work)

    @rpc
    def public_reports(self, pack=None, ids=None, since=None, until=None, categories=None, states=None,
                       tracking_token=None, limit=None, credential=None):
        """A pack's reports as public records (public_report's answer), newest first: by ids, by tracking token, or
        submitted in [since, until] (ISO instants) of these categories and states (Open311's GET requests)."""
        return self.served("public_reports", PublicReportsArgs, locals(), lambda call: [
            public_record(report) for report in self.store.find(call.store_query(hash_token), limit=call.limit)])

    # ---- the reporter's own decisions, and decisions taken elsewhere --------------------------------------------
    @rpc
    def reporter_act(self, report_id=None, tracking_token=None, action=None, supplement=None, media=None,
                     account_verified=None, credential=None):
        """The reporter's `supplement` (with its stored media) or `cancel` → {"id", "state", "event_id"}."""
        arguments = dict(locals())
        def work(call: ReporterActArgs):
            report = self.reporters(call.report_id, call.tracking_token)
            now = clock.now()
            if call.action == "supplement":
                if report["state"] != "needs_supplement":
                    raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {report['state']}")
                return self.apply_or_refuse(domain.supplement_decision(
                    report, call.supplement or SupplementIn(), call.media, now, call.account_verified))
            cancellation = get_pack(report["pack"]).meta.get("cancellation", {})
            if not cancellation.get("allowed", True) or report["state"] not in domain.CANCELLABLE:
                raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {report['state']}")
            return self.apply_or_refuse(domain.cancel_decision(report, now, cancellation.get("article")))
        return self.served("reporter_act", ReporterActArgs, arguments, work)

    @rpc
    def prepare_action(self, user=None, report_id=None, action=None, body=None, uploaded=None, credential=None):
        """Before a staff action is decided: the report as its decider sees it (reports.snapshot) and the body with
        the photos of a result checked (exactly those uploaded with it, by SHA-256) → {"snapshot", "body"}."""
        arguments = dict(locals())
        def work(call: PrepareActionArgs):
            report = self.staff_reported(call.user.as_user(), call.report_id)
            if call.action == "reply":
                check_reply(report, call.body.interaction_id)
            photos = domain.result_photos(report, call.body.after_photos, call.uploaded)
            return {"snapshot": domain.snapshot(report),
                    "body": call.body.model_copy(update={"after_photos": photos}).model_dump(mode="json")}
        return self.served("prepare_action", PrepareActionArgs, arguments, work)

    @rpc
    def apply_decision(self, decision=None, credential=None):
        """A decision another service took on a person's request, applied now → {"id", "state", "event_id"}
        (ACTION_NOT_ALLOWED when it no longer fits the report)."""
        return self.served("apply_decision", ApplyDecisionArgs, locals(),
                           lambda call: self.apply_or_refuse(call.decision))

    def apply_or_refuse(self, decision: Decision) -> dict:
        try:
            applied = self.store.apply(decision)
        except IllegalTransition as exc:
            raise ApiError("ACTION_NOT_ALLOWED", detail=str(exc)) from None
        if applied is not None:
            self.announce_later_if_down(applied)
        report = applied.report if applied is not None else self.store.get(decision.report_id)
        return {"id": report["_id"], "state": report["state"], "event_id": decision.event_id}
