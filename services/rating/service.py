"""rating: the reporter's rating and follow-up messages, and agency scorecards for the province's reports."""
from __future__ import annotations

import base64
import logging
import time
import uuid
from datetime import timedelta

from eventlet.semaphore import Semaphore
from nameko.events import BROADCAST, EventDispatcher, event_handler
from nameko.rpc import rpc

from paht import callers, clock, periods, settings
from paht.bus import derived_id, on_report_purged, on_transition, send
from paht.errors import Refused
from paht.events import CLOCK_ADVANCED, jsonable
from paht.rpc import RpcTimeout, TimedRpcProxy, waiting_up_to
from paht.rules import get_pack, list_packs, rules_root
from paht.schemas import tenant_key
from paht.timers import setting_timer
from paht.web import Observable
from paht.wordlists import content_facts, load_wordlists

from . import periodic
from .dependencies import Ratings, SettledScorecards
from .ratings import (
    interaction_decision,
    legacy_lock,
    lock_detail,
    penalty_subject,
    rating_decision,
    unsatisfied_follow_up,
    violation_detail,
)
from .scorecards import province_scorecards

CHECKING = Semaphore()
log = logging.getLogger(__name__)
# scorecards of periods over for a day or more, which no longer change (every count is of events in the period, and
# the sla sweeper dates a missed deadline at its due time within seconds): the leaders' trend and the console read
# them on every page. Kept with the pack they were counted by, for five minutes (a sweeper that fell behind after a
# jump of the controlled clock may still date a miss into it); forgotten when that clock moves.
SETTLED, SETTLED_KEPT, SETTLED_SECONDS = timedelta(days=1), 500, 300.0


class RatingService(Observable):
    name = "rating"

    store = Ratings()
    settled = SettledScorecards()
    sla = TimedRpcProxy("sla")
    intake = TimedRpcProxy("intake")
    verification = TimedRpcProxy("verification")
    dispatch = EventDispatcher()

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

    @on_transition
    def on_report(self, announced):
        """A "Không hài lòng" rating sets off what the pack says (rating_scale.unsatisfied)."""
        if announced.cause != "rated":
            return
        follow_up = unsatisfied_follow_up(announced.report, get_pack(announced.pack).meta,
                                          derived_id(self.name, announced.event_id), clock.now())
        if follow_up is not None:
            send(self.dispatch, follow_up)

    @rpc
    def interact(self, report, message):
        """A reporter's message on a report: refused while verification says their interactions are locked (or
        their account: the citizen's penalties are verification's); refused when it has prohibited wording (the
        word lists verification uses), which verification counts as a violation and which may lock them — that
        refusal says so. Verification not answering in time: SERVICE_UNAVAILABLE."""
        now = clock.now()
        subject = penalty_subject(report)
        try:
            lock = self.ask_verification("interaction_gate", report=subject) \
                or legacy_lock(self.store.interactions, tenant_key(report), now)
            if lock is not None:
                return Refused("INTERACTION_LOCKED", lock_detail(lock)).answer()
            try:
                decision = interaction_decision(report, message, now, uuid.uuid4().hex)
            except Refused as refused:
                return refused.answer()
            phrases = content_facts(message, load_wordlists(rules_root() / report["pack"]))
            if phrases["prohibited_content"]:
                locked = self.ask_verification("interaction_violation", report=subject, event_id=decision.event_id)
                return Refused("PROHIBITED_INTERACTION", violation_detail(locked)).answer()
        except RpcTimeout as exc:
            return Refused("SERVICE_UNAVAILABLE", str(exc)).answer()
        self.store.record_interaction(decision.event_id, report["id"], message, decision.occurred_at)
        return {"decision": decision.model_dump(mode="json")}

    def ask_verification(self, method: str, **arguments):
        """One of verification's internal RPCs, with PAHT's assertion for the call (paht.callers)."""
        return callers.call_internal("verification", self.verification, method, **arguments)

    @setting_timer(interval=settings.report_check_seconds)   # not eager: a call at start-up can lose its reply
    def hand_over_penalties(self):
        """Upgrade: the violating interactions and interaction locks an earlier version kept in `interactions` go
        to verification (event id, report id, reporter key, time; never the message), then are deleted here,
        500 of each a tick until none is left. Until then `interact` still reads a handed-over-to-be lock."""
        violations, locks = self.store.legacy_penalty_records()
        if not violations and not locks:
            return
        try:
            self.ask_verification(
                "adopt_interaction_records",
                violations=[jsonable({"event_id": v["_id"], "report_id": v["report_id"],
                                      "reporter_key": v["reporter_key"], "at": v["at"]})
                            for v in violations if v.get("reporter_key") and v.get("at") and v.get("report_id")],
                locks=[jsonable({"reporter_key": lock["reporter_key"], "until": lock.get("until"),
                                 "rule": lock["rule"], "article": lock["article"], "message": lock.get("message"),
                                 "at": lock["at"]}) for lock in locks])
        except RpcTimeout as exc:     # handed over at the next tick
            log.warning("hand-over of interaction penalties: %s", exc)
            return
        self.store.forget_legacy([doc["_id"] for doc in violations + locks])

    @on_report_purged
    def on_purged(self, purged):
        """Retention: the reporter's messages and rating comment on the report are forgotten."""
        self.store.purge_report(purged.report_id)

    # ---- the province's view of its agencies ------------------------------------------------------------------
    @rpc
    def scorecards(self, pack_id, period_label):
        """One pack's agency scorecards for a period (YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn, YYYY)."""
        pack = get_pack(pack_id)
        try:
            period = periods.parse(period_label, pack.meta.get("timezone", "Asia/Ho_Chi_Minh"),
                                   periodic.cutoff(pack))
        except periods.BadPeriod as exc:
            return {"error": {"code": "VALIDATION_FAILED", "detail": str(exc)}}
        now = clock.now()
        if period.end + SETTLED > now:
            return jsonable(self.compute(pack, period, min(period.end, now)))
        key, fresh = (pack_id, period.kind, period.start), time.monotonic()
        kept_pack, counted, content = self.settled.get(key, (None, 0.0, None))
        if kept_pack is not pack or fresh - counted > SETTLED_SECONDS:   # or the pack's rules were loaded again
            if len(self.settled) >= SETTLED_KEPT:
                self.settled.clear()
            content = jsonable(self.compute(pack, period, period.end))
            self.settled[key] = (pack, fresh, content)
        return content

    def compute(self, pack, period, until):
        """Counters up to `until` (the period's end, or earlier for a report due before its period ends)."""
        start, end = period.start.isoformat(), min(period.end, until).isoformat()
        content = province_scorecards(pack, period, self.intake.agency_counters(pack.id, start, end),
                                      self.sla.agency_lateness(pack.id, start, end), clock.now())
        content["referrals"] = self.intake.province_referrals(pack.id, start, end)
        return content

    @event_handler("gateway", CLOCK_ADVANCED, handler_type=BROADCAST, reliable_delivery=False)
    def on_clock_advanced(self, payload):
        self.settled.clear()
        self.make_due_reports()

    @setting_timer(interval=settings.report_check_seconds)   # not eager: a call at start-up can lose its reply
    def make_due_reports(self):
        """Every periodic report the packs' schedules made due since the last check, once each (a stopped service
        catches up when it runs). One check at a time: a check begun after a clock jump must not mark a schedule
        checked while an earlier one, still at the earlier time, has not made what was due then."""
        # the counts of a report (a year of a province's) wait up to PAHT_REPORT_RPC_TIMEOUT_SECONDS: asked again
        # after the usual 10 s, intake would count each of them again and again, starving its other calls
        with CHECKING, waiting_up_to(settings.report_rpc_timeout_seconds()):
            now = clock.now()
            for pack_id in list_packs():
                pack = get_pack(pack_id)
                for item in periodic.schedule(pack):
                    try:
                        self.check_schedule(pack, item, now)
                    except RpcTimeout as exc:     # what this schedule owes is made at the next check
                        log.warning("periodic %s %s: %s", pack_id, item["kind"], exc)

    def check_schedule(self, pack, item, now):
        watched = f"{pack.id}:{item['kind']}"
        since = self.store.checked_until(watched)
        due = periodic.due_since(pack, item, since, now)
        if since is None and due:    # watched from its latest period on, even if making that one fails now
            self.store.mark_checked(watched, due[0].generate_at - timedelta(microseconds=1))
        for each in due:
            self.make_report(pack, item, each, now)
        self.store.mark_checked(watched, now)

    def make_report(self, pack, item, due, now):
        report_id = periodic.report_id(pack.id, due.kind, due.period.label)
        if self.store.has_periodic(report_id):
            return
        content = self.compute(pack, due.period, due.generate_at)
        self.store.keep_periodic({
            "_id": report_id, "pack": pack.id, "kind": due.kind, "period": due.period.label,
            "start": due.period.start, "end": due.period.end, "due": due.due, "generated_at": now,
            "to": item.get("to"), "article": item.get("article"), "partial": due.generate_at < due.period.end,
            "content": content})

    @rpc
    def periodic_reports(self, pack_id):
        return jsonable(self.store.periodic_list(pack_id))

    @rpc
    def periodic_file(self, report_id, fmt):
        """A stored periodic report as xlsx, csv or json: {"content_type", "data_b64", "pack"}; None if unknown."""
        doc = self.store.periodic_report(report_id)
        return None if doc is None else file_answer(doc["content"], fmt, doc["pack"])

    @rpc
    def report_file(self, pack_id, period_label, fmt):
        """The scorecards of any period, made now, as a file (the command line's `paht report`)."""
        content = self.scorecards(pack_id, period_label)
        return content if "error" in content else file_answer(content, fmt, pack_id)

    @rpc
    def province_report(self, pack_id):
        """This month's scorecards (the pack's own month): late or failing agencies and the penalty findings."""
        pack = get_pack(pack_id)
        tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
        return self.scorecards(pack_id, periods.containing("month", clock.now(), tz, periodic.cutoff(pack)).label)


def file_answer(content: dict, fmt: str, pack_id: str) -> dict:
    render, content_type = periodic.RENDERERS[fmt]
    return {"content_type": content_type, "data_b64": base64.b64encode(render(content)).decode(), "pack": pack_id}
