"""verification: measures each submitted report's evidence and lets the pack's acceptance rules decide."""
from __future__ import annotations

from datetime import datetime, timedelta

from nameko.events import EventDispatcher
from nameko.rpc import rpc

from paht import actors, clock
from paht.bus import derived_id, on_report_purged, on_transition, send
from paht.geo import WardIndex
from paht.mediastore import MediaFiles
from paht.rules import get_pack, rules_root
from paht.schemas import Decision, tenant_key
from paht.web import Observable

from . import evidence
from .dependencies import Evidence
from .judgements import judgement_decision
from .verify import (
    acceptance_decision,
    collect_facts,
    held_for_operator,
    identity_check_decision,
    needs_identity_check,
    operator_check_decision,
)

OPEN_MATTER_HORIZON = timedelta(days=60)
OPEN_STATES = ("accepted", "routing_unresolved", "dispatched", "in_progress", "result_submitted", "approved")


class VerificationService(Observable):
    name = "verification"

    evidence = Evidence()
    media = MediaFiles(read_only=True)
    dispatch = EventDispatcher()

    @on_transition
    def on_report(self, announced):
        report = announced.report
        if announced.to_state == "submitted" and (announced.from_state != "submitted"
                                                  or announced.cause == "judged"):
            self.verify(report, derived_id(self.name, announced.event_id))
        elif announced.to_state != announced.from_state:
            open_until = self.open_until(report) if announced.to_state in OPEN_STATES else None
            self.evidence.remember_state(report["id"], announced.to_state, open_until)

    @on_report_purged
    def on_purged(self, purged):
        """Retention: forget the report's reporter, text and place (intake deleted its files)."""
        self.evidence.purge_report(purged.report_id, purged.reporter_key)

    def verify(self, report: dict, event_id: str) -> Decision:
        pack = get_pack(report["pack"])
        now = clock.now()
        tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
        media = evidence.inspect_all((self.media.read(m["sha256"]), m["filename"], m["content_type"],
                                      parse_time(m.get("captured_at")), tz, m["sha256"])
                                     for m in report.get("media", []))
        key = tenant_key(report)
        facts = collect_facts(report, media, pack, WardIndex.load(pack.meta["boundary"]), self.evidence.index,
                              self.evidence.history(key), evidence.load_wordlists(rules_root()),
                              self.evidence.judgements_for(report["id"]), now)
        result = pack.evaluate("acceptance", facts)
        if held_for_operator(result):
            # the operator's checks first: a rejected one ends the report before anyone checks the reporter
            decision = operator_check_decision(report, facts, result, event_id, now)
        elif needs_identity_check(pack, facts, result):
            decision = identity_check_decision(report, facts, event_id, now, result.get("warnings"))
            self.evidence.mark_identity(key, "pending")
        else:
            decision = acceptance_decision(report, facts, result, event_id, now)
        self.evidence.remember(report["id"], key, [m.phash for m in media if m.phash], report.get("description", ""),
                               facts["category"], facts.get("lat"), facts.get("lon"),
                               self.open_until(report) if decision.to_state in OPEN_STATES else None,
                               decision.to_state, report["pack"])
        self.evidence.count_report(key, report["id"])
        if facts.get("prohibited_content"):
            self.count_violation(pack, key, now, report["id"])
        send(self.dispatch, decision)
        return decision

    def count_violation(self, pack, key, now, report_id) -> None:
        """Prohibited content counts against the reporter; the pack's penalty rules decide on locks."""
        counts = self.evidence.count_violation(key, f"{now:%Y-%m}", report_id)
        if counts is None:
            return
        counters = {"subject": "citizen", "abusive_submissions_total": counts["violations_total"],
                    "violations_month": counts["violations_month"]}
        self.evidence.apply_citizen_penalties(key, pack.evaluate("penalties", counters)["actions"], now)

    @staticmethod
    def open_until(report: dict) -> datetime:
        """Until when the matter counts as "still within its deadline" for a resubmission by the same reporter:
        while the report is open (a terminal state clears it), bounded so a forgotten report does not block."""
        return clock.now() + OPEN_MATTER_HORIZON

    @rpc
    def act(self, report, action, actor, body):
        """Operator judgements (unclear media, test submission, identity, classification, urgency)."""
        if not actors.authentic(actor, report.get("id", ""), action):
            return actors.FORGED
        return judgement_decision(self.evidence, report, actor, body, clock.now(),
                                  tenant_key(report))


def parse_time(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
