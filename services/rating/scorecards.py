"""The province's view of its agencies for one period: counters from the reports' timelines (intake) and missed
deadlines (sla), the rates the regulations compare, and what the pack's penalty rules say of each agency."""
from __future__ import annotations

from datetime import datetime

from paht.periods import Period

# counters summed over the agencies for the report's totals sheet
SUMMED = ("received", "resolved", "on_time", "late_count", "late_over_limit_count", "extended_count",
          "extended_without_result", "returns_count", "late_returns_count", "results_count", "rework_count",
          "corrective_directives", "missed_hotline_calls", "interactions_count", "unanswered_interactions",
          "repeat_violations", "rereported_over_3", "rated_count", "unanswered_call_violations")
EMPTY = dict.fromkeys(SUMMED, 0)
AGENCY_FINDINGS = ("report_to_province", "not_eligible_excellent")


def _rate(part: int, whole: int, none: float = 0.0) -> float:
    return round(part / whole, 4) if whole else none


def with_rates(card: dict, levels: list[dict]) -> dict:
    """Add the rates: each a share of its own base, 0 when the base is empty (nothing rated: satisfied)."""
    by_level = card.get("rated_by") or {}
    counts_as = {level["counts_as"] for level in levels}
    satisfied = sum(n for kind, n in by_level.items() if kind == "satisfied")
    accepted = sum(n for kind, n in by_level.items() if kind == "accepted")
    card.update({
        "late_returns_rate": _rate(card["late_returns_count"], card["returns_count"]),
        "substandard_results_rate": _rate(card["rework_count"], card["results_count"]),
        "unanswered_interactions_rate": _rate(card["unanswered_interactions"], card["interactions_count"]),
        "repeat_violations_rate": _rate(card["repeat_violations"], card["resolved"]),
        "satisfied_rate": _rate(satisfied, card["rated_count"], 1.0),
        "satisfied_or_accepted_rate": _rate(satisfied + accepted, card["rated_count"], 1.0),
        "rated_by": {kind: by_level.get(kind, 0) for kind in sorted(counts_as)},
    })
    return card


def province_scorecards(pack, period: Period, intake_cards: dict, sla_part: dict, generated_at: datetime) -> dict:
    """Every agency with activity in the period, its counters, and the pack's penalty findings (rule, article)."""
    levels = pack.rating_levels()
    agencies = []
    for agency in sorted(set(intake_cards) | set(sla_part["agencies"])):
        card = dict(EMPTY, **intake_cards.get(agency, {}), **sla_part["agencies"].get(agency, {}))
        with_rates(card, levels)
        facts = {k: v for k, v in card.items() if k != "rated_by"}
        actions = pack.evaluate("penalties", dict(facts, subject="agency", period=period.kind))["actions"]
        agencies.append({
            "agency": agency, "name": pack.agencies.get(agency, {}).get("name", agency), "counters": card,
            "report_to_province": [a for a in actions if a["action"] == "report_to_province"],
            "not_eligible_excellent": [a for a in actions if a["action"] == "not_eligible_excellent"],
        })
    totals = {name: sum(a["counters"][name] for a in agencies) for name in SUMMED}
    criteria = [{"rule": rule["id"], "article": rule["article"], "title": rule.get("title") or rule.get("message"),
                 "action": rule["then"]["action"],
                 "agencies": [a["agency"] for a in agencies
                              if any(f["rule"] == rule["id"] for f in a[rule["then"]["action"]])]}
                for rule in pack.stages.get("penalties", []) if rule["then"]["action"] in AGENCY_FINDINGS]
    return {
        "pack": pack.id, "pack_name": pack.meta.get("province"), "period": period.label, "kind": period.kind,
        "start": period.start, "end": period.end, "generated_at": generated_at, "totals": totals,
        "agencies": agencies, "late": sla_part["late"], "criteria": criteria,
    }
