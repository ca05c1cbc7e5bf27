"""verification: measures each submitted report's evidence and lets the pack's acceptance rules decide."""
from __future__ import annotations

from datetime import datetime, timedelta

from nameko.events import EventDispatcher
from nameko.rpc import rpc
from pydantic import ValidationError

from paht import actors, callers, clock
from paht.bus import derived_id, on_report_purged, on_transition, send
from paht.errors import ApiError, RpcApiError
from paht.geo import WardIndex
from paht.mediastore import MediaFiles
from paht.rpc import TimedRpcProxy, answered_remotely, given
from paht.rules import get_pack
from paht.schemas import Decision, tenant_key
from paht.web import Observable, validation_fields

from . import evidence, penalties
from .dependencies import Evidence
from .judgements import judgement_decision
from .rpc_schemas import AdoptInteractionRecordsArgs, InteractionGateArgs, InteractionViolationArgs
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
    sla = TimedRpcProxy("sla")

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
        facts = collect_facts(report, media, pack, WardIndex.of(pack), self.evidence.index,
                              self.evidence.history(key), evidence.load_wordlists(pack.path),
                              self.evidence.judgements_for(report["id"]), now, self.within_processing_deadline)
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
        """Prohibited content in a report counts against the reporter (once per report); the pack's penalties rules
        decide on locks over the reporter's whole record."""
        if self.evidence.count_violation(key, f"{now:%Y-%m}", report_id) is not None:
            self.apply_penalties(pack, key, now, {"report_id": report_id})

    def apply_penalties(self, pack, key, now, cause: dict) -> dict[str, dict]:
        """The citizen's `penalties` stage, evaluated here only (services/verification/penalties.py): the locks it
        sets now."""
        locks = penalties.new_locks(pack, self.evidence.history(key), now, cause)
        self.evidence.set_locks(key, locks)
        return locks

    # ---- the reporter's interactions (the rating service asks before it records one) ---------------------------
    @rpc(expected_exceptions=RpcApiError)
    def interaction_gate(self, report=None, credential=None):
        """Is this report's reporter refused interactions now? → None, or the running lock that refuses them
        `{"lock": "account" | "interaction", "rule", "article", "message", "until"}` (an account lock refuses
        interactions too). Internal: PAHT's assertion for the one call (paht.callers)."""
        callers.internal_only(credential, "verification.interaction_gate", given(report=report))
        with answered_remotely("interaction_gate"):
            call = parsed(InteractionGateArgs, given(report=report))
            return penalties.interaction_refusal(self.evidence.history(tenant_key(call.report.as_report())),
                                                 clock.now())

    @rpc(expected_exceptions=RpcApiError)
    def interaction_violation(self, report=None, event_id=None, credential=None):
        """The reporter's message on this report was refused for prohibited wording: counted against them once
        per `event_id`, then the pack's penalties rules decide → the lock this violation set
        (`{"lock", "rule", "article", "message", "until"}`), or None. A retry answers the same. Internal."""
        callers.internal_only(credential, "verification.interaction_violation",
                              given(report=report, event_id=event_id))
        with answered_remotely("interaction_violation"):
            call = parsed(InteractionViolationArgs, given(report=report, event_id=event_id))
            subject = call.report.as_report()
            key, now = tenant_key(subject), clock.now()
            if key is None:
                return None
            self.evidence.count_interaction_violation(key, call.event_id, subject["id"], now)
            self.apply_penalties(get_pack(subject["pack"]), key, now, {"event_id": call.event_id})
            return penalties.set_by(self.evidence.history(key), "interaction_locked", {"event_id": call.event_id},
                                    now)

    @rpc(expected_exceptions=RpcApiError)
    def adopt_interaction_records(self, violations=None, locks=None, credential=None):
        """Upgrade: the violating interactions (event id, report id, reporter key, time) and the interaction locks
        an earlier version's rating service kept, handed over once by rating. Idempotent → how many of each were
        new. Internal."""
        callers.internal_only(credential, "verification.adopt_interaction_records",
                              given(violations=violations, locks=locks))
        with answered_remotely("adopt_interaction_records"):
            call = parsed(AdoptInteractionRecordsArgs, given(violations=violations, locks=locks))
            now = clock.now()
            counted = sum(self.evidence.count_interaction_violation(v.reporter_key, v.event_id, v.report_id, v.at)
                          for v in call.violations)
            adopted = sum(self.evidence.adopt_interaction_lock(
                lock.reporter_key, {"rule": lock.rule, "article": lock.article, "message": lock.message,
                                    "until": lock.until, "at": lock.at, "adopted_from": "rating"}, now)
                for lock in call.locks if lock.until is None or lock.until > now)
            return {"violations": counted, "locks": adopted}

    @staticmethod
    def open_until(report: dict) -> datetime:
        """Until when the report counts as open for a resubmission by the same reporter and for the clusters the
        operator sees (a terminal state clears it), bounded so a forgotten report does not block; whether it is
        still within its processing deadline the sla service answers (`within_processing_deadline`)."""
        return clock.now() + OPEN_MATTER_HORIZON

    def within_processing_deadline(self, report_ids: list[str]) -> set[str]:
        """Which of these (open) reports are still within their processing deadline ("còn trong thời hạn xử lý",
        TTH Điều 7 khoản 5 điểm b, VL Điều 8 khoản 2): the deadline lives in the sla service, asked with a timeout;
        no answer in time fails this verification, which the bus tries again (paht.bus)."""
        answer = self.sla.processing_deadlines(report_ids=list(report_ids))
        return {report_id for report_id, state in (answer or {}).items() if state.get("within")}

    @rpc
    def act(self, report, action, actor, body):
        """Operator judgements (unclear media, test submission, identity, classification, urgency)."""
        if not actors.authentic(actor, report.get("id", ""), action):
            return actors.FORGED
        return judgement_decision(self.evidence, report, actor, body, clock.now(),
                                  tenant_key(report))


def parsed(model, data):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None


def parse_time(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
