"""intake: the system of record for reports — creating a report, its state machine, applying decisions, the
outbox and announcements, dead letters and retention. Entrypoints only; logic is elsewhere. People and other
systems reach it through the gateway (record_rpc.py)."""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer

from paht import clock, deadletters, flow
from paht.bus import dead_letter_consumer, reliable_event_handler
from paht.events import DECISION, REPORT_PURGED, jsonable
from paht.background import Background
from paht.mediastore import MediaFiles
from paht.rules import get_pack, list_packs
from paht.schemas import Decision, lead_agency
from paht.single_flight import SingleFlight
from paht.states import IllegalTransition
from paht.web import MESSAGES_HANDLED, Observable
from paht.worktime import calendar_for

from . import accountability
from .admin_rpc import AdminRpcApi
from .dependencies import STORAGE_ERRORS, Applied, Reports, outbox_grace
from .public_events import PublicEvents
from .record_rpc import RecordRpc
from .rpc_schemas import AgencyCountersArgs

log = logging.getLogger(__name__)
# agency_counters under way in this process, by what was asked: the same ask meanwhile (a caller that gave up and
# asks again, a second page) waits for that count instead of counting a year of reports once more beside it
COUNTING = SingleFlight()


def giving_way(items, every: int = 200):
    """`items`, giving way to the other green threads every `every` of them (time.sleep(0) is eventlet.sleep(0)
    under monkey patching): counting a year of reports takes seconds of CPU."""
    for number, item in enumerate(items, 1):
        if number % every == 0:
            time.sleep(0)
        yield item


def on_decision(source):
    return reliable_event_handler(source, DECISION)


class IntakeService(RecordRpc, AdminRpcApi, Observable):
    name = "intake"

    config = Config()
    store = Reports()
    background = Background()
    media = MediaFiles()
    dispatch = EventDispatcher()
    public_events = PublicEvents()

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
        self.store.forget_nonces(clock.now())    # the internal assertions' nonces past their lifetime

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

    @rpc
    def agency_counters(self, pack_id, start, end):
        """Intake's share of one pack's agency scorecards for [start, end) (ISO datetimes). The same ask while one
        is being counted gets that count (COUNTING)."""
        call = AgencyCountersArgs.model_validate({"pack_id": pack_id, "start": start, "end": end})
        return COUNTING.run((call.pack_id, call.start, call.end), lambda: self.count_agencies(call))

    def count_agencies(self, call: AgencyCountersArgs) -> dict:
        pack_id, start, end = call.pack_id, call.start, call.end
        pack = get_pack(pack_id)
        reports = self.store.accountable(accountability.relevant_query(pack_id, start, end),
                                           accountability.FIELDS)
        follow_ups: dict[str, list] = {}
        for follow_up in self.store.followers(pack_id, end):
            follow_ups.setdefault(follow_up["follows"], []).append(follow_up)
        known = {report["_id"] for report in reports}
        reports += [r for r in (self.store.get(rid) for rid in follow_ups if rid not in known) if r]
        followers = {r["_id"]: accountability.counted_follow_ups(r, follow_ups[r["_id"]])
                     for r in reports if r["_id"] in follow_ups}
        leads = {r["_id"]: lead_agency(r) for r in reports if r["_id"] in followers}
        limit = pack.parameters.get("late_report_limit")
        calendar = calendar_for(pack.meta)
        reached = (lambda at: calendar.add(at, limit["amount"], limit["unit"])) if limit else None
        calls, window = pack.parameters.get("unanswered_calls"), pack.parameters.get("unanswered_calls_window")
        unanswered = None
        if calls and window:   # TTH Điều 12 khoản 2, VL Điều 13 khoản 2 điểm c: a window that may start long ago
            called = self.store.accountable([accountability.missed_calls_query(pack_id, end)], {"timeline": 1})
            unanswered = (called, int(calls["value"]),
                          lambda first: calendar.add(first, window["amount"], window["unit"]))   # any unit (d, wd…)
        skips_urgent = (pack.parameters.get("late_report_limit_skips_urgent") or {}).get("value") is True
        return jsonable(accountability.agency_counters(giving_way(reports), followers, leads, start, end, clock.now(),
                                                       reached, unanswered_calls=unanswered,
                                                       limit_skips_urgent=skips_urgent))

    @rpc
    def province_referrals(self, pack_id, start, end):
        """The centre's reports of single reports to the UBND in [start, end) (ISO datetimes): the periodic
        report's list."""
        call = AgencyCountersArgs.model_validate({"pack_id": pack_id, "start": start, "end": end})
        reports = self.store.accountable([accountability.referrals_query(call.pack_id, call.end)],
                                         {"province_referrals": 1})
        return jsonable(accountability.province_referrals(reports, call.start, call.end))

    def announce_later_if_down(self, applied: Applied) -> bool:
        """The change is stored with its outbox entry: if the broker is down now, the outbox timer sends it."""
        try:
            self.announce(applied)
            return True
        except Exception as exc:  # noqa: BLE001 — any publishing failure leaves the entry for the outbox timer
            log.warning("announcement %s left in the outbox: %s", applied.announcement.event_id, exc)
            return False
