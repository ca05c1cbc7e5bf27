"""Verification's domain: evidence → facts → the pack's acceptance decision → a Decision for intake."""
from __future__ import annotations

from datetime import datetime

from paht.language import language_facts
from paht.route_facts import routing_facts
from paht.schemas import Decision, tenant_key

from . import evidence
from .facts import intake_facts, operator_facts, reporter_facts

DECISION_STATES = {
    "accepted": "accepted",
    "needs_supplement": "needs_supplement",
    "rejected": "rejected",
    "forwarded_for_monitoring": "forwarded_for_monitoring",
}


def collect_facts(report: dict, media: list, pack, ward_index, index, history: dict | None, wordlists: dict,
                  judgements: dict | None, now: datetime, within_deadline=None) -> dict:
    """Every fact of the acceptance stage for this report, measured from its files and its reporter's history.
    `within_deadline`: report ids → those still within their processing deadline (asked only of the reporter's
    open reports on the same matter)."""
    submitted_at = datetime.fromisoformat(report["submitted_at"]) if isinstance(report["submitted_at"], str) \
        else report["submitted_at"]
    facts = intake_facts(report, pack.meta, submitted_at)
    facts.update(reporter_facts(report.get("reporter") or {}, history, f"{now:%Y-%m}", now, report["id"]))
    photos = evidence.photo_facts(media, submitted_at)
    facts.update({k: v for k, v in photos.items() if k != "exif_gps"})
    facts.update(evidence.location_facts(report.get("location"), photos.get("exif_gps"), ward_index))
    facts.update(evidence.content_facts(report.get("description", ""), wordlists))
    facts.update(language_facts(report.get("description")))
    facts.update(operator_facts(judgements))
    facts.update({"sos": bool(report.get("sos")), "immediate": routed_immediately(pack, report, facts)})
    key = tenant_key(report)
    hashes = [m.phash for m in media if m.phash]
    duplicate_of = index.same_reporter_duplicate(key, hashes, report.get("description", ""), exclude=report["id"]) \
        if key else None
    same_matter = index.open_same_matter(key, facts["category"], facts.get("lat"), facts.get("lon"),
                                         report.get("description", ""), now, exclude=report["id"],
                                         within=within_deadline) if key else None
    cluster = index.cluster(report["id"], facts["category"], facts.get("lat"), facts.get("lon"), reporter_key=key,
                            pack=report["pack"])
    facts.update({
        "duplicate_same_reporter": duplicate_of is not None,
        "open_same_matter": same_matter is not None,
        "cluster_count": len(cluster),
        "_duplicate_of": duplicate_of,
        "_same_matter_as": same_matter,
        "_cluster": cluster[:20],
    })
    return facts


def routed_immediately(pack, report: dict, facts: dict) -> bool:
    """Would the pack's routing rules dispatch this report immediately (their `immediate` route: a fire, a disaster,
    a breach of public order, an urgent accident...)? Read before acceptance from the place verification found, so
    the pack's emergency procedure can dispatch it whatever evidence it lacks (ST-22 Điều 13, ST-23 Điều 19, TTH
    Điều 15, VL Điều 16)."""
    ward = {"code": facts["ward_code"]} if facts.get("ward_found") else None
    decided = pack.evaluate("routing", routing_facts(dict(
        report, ward=ward, category=facts["category"], urgent=facts["urgent"],
        facts={"inside_province": facts.get("inside_province", False)})))
    return decided.get("decision") == "route" and bool(decided.get("immediate"))


def acceptance_decision(report: dict, facts: dict, result: dict, event_id: str, now: datetime) -> Decision:
    state = DECISION_STATES[result["decision"]]
    ward = {"code": facts["ward_code"], "name": facts.get("ward_name")} if facts.get("ward_found") else None
    detail = {"decision": result["decision"], "fired": result.get("fired", []),
              "duplicate_of": facts.get("_duplicate_of"), "same_matter_as": facts.get("_same_matter_as"),
              "cluster": facts.get("_cluster", []), **({"at_once": result["at_once"]} if result.get("at_once") else {}),
              **({"hidden": result["hidden"]} if result.get("hidden") else {})}
    # a pack's `hide` rule: accepted and handled like any other, received non-publicly (no description or result in
    # public, the result delivered privately), its reasons in the timeline (detail.hidden)
    hide = {"non_public": True} if result.get("hidden") else {}
    return Decision(
        event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"], kind="verified",
        source="verification", to_state=state, from_states=["submitted"], actor={"service": "verification"},
        detail=detail,
        patch={"reasons": result.get("reasons", []), "warnings": result.get("warnings", []), "ward": ward,
               "facts": {k: v for k, v in facts.items() if not k.startswith("_")}, **hide})


def held_for_operator(result: dict) -> bool:
    """An otherwise acceptable report with a `warn` rule's check the operator has not judged waits in `submitted`
    (E8: photo age unknown, capture time in the future, conflicting or only the app's word, weak edit signs)."""
    return result["decision"] == "accepted" and bool(result.get("pending_checks"))


def pending_check_names(report: dict) -> set[str]:
    """The checks the report already waits for (from its warnings, as the last verification left them)."""
    return {w["check"] for w in report.get("warnings") or [] if w.get("check") and w.get("status") == "pending"}


def operator_check_decision(report: dict, facts: dict, result: dict, event_id: str, now: datetime) -> Decision:
    """Hold the report for the operator's checks. `operator_check_started` (a timeline cause, like
    `identity_check_started`) only when a check is new, so re-verifying a held report (after an unrelated
    judgement) does not restart the operator's deadline; otherwise `operator_check_updated`."""
    checks = sorted({c["name"] for c in result["pending_checks"]})
    new = set(checks) - pending_check_names(report) if report.get("state") == "submitted" else set(checks)
    return Decision(
        event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
        kind="operator_check_started" if new else "operator_check_updated", source="verification", to_state=None,
        from_states=["submitted"], actor={"service": "verification"},
        detail={"checks": checks, "rules": [c["rule"] for c in result["pending_checks"]], "fired": result["fired"]},
        patch={"warnings": result["warnings"], "facts": {k: v for k, v in facts.items() if not k.startswith("_")}})


def needs_identity_check(pack, facts: dict, result: dict) -> bool:
    """An otherwise acceptable report from a first-time reporter whose identity nobody has confirmed waits for
    the operator's check, where the pack times that check (its declared `identity_check` step, paht/rules/steps.py;
    the sla service opens and judges the deadline itself)."""
    if result["decision"] != "accepted" or facts["identity_status"] == "confirmed" or result.get("at_once"):
        return False   # (an emergency is dispatched at once: the centre's call-back is its check, TTH Điều 18)
    if not facts["first_time_reporter"] and facts["identity_status"] != "pending":
        return False
    return pack.step("identity_check").timed


def identity_check_decision(report: dict, facts: dict, event_id: str, now: datetime,
                            warnings: list | None = None) -> Decision:
    return Decision(
        event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
        kind="identity_check_started", source="verification", to_state=None, from_states=["submitted"],
        actor={"service": "verification"}, detail={"reason": "first report of this reporter"},
        patch={"identity_status": "pending", "warnings": warnings or [],
               "facts": {k: v for k, v in facts.items() if not k.startswith("_")}})
