"""An agency's scorecard for one period as the penalty rules read it: its counters (intake's and the sla service's
shares), the rates the regulations compare, and what a pack's penalty rules find of it. Shared by the rating
service (the scorecards and periodic reports it makes) and `paht rules replay` (the same cards under a changed
pack)."""
from __future__ import annotations

# counters summed over the agencies for the report's totals sheet
SUMMED = ("received", "resolved", "on_time", "late_count", "late_over_limit_count", "extended_count",
          "extended_without_result", "returns_count", "late_returns_count", "results_count", "rework_count",
          "corrective_directives", "missed_hotline_calls", "interactions_count", "unanswered_interactions",
          "repeat_violations", "rereported_over_3", "rated_count", "unanswered_call_violations")
EMPTY = dict.fromkeys(SUMMED, 0)
# the penalty rules' actions on an agency (pack penalties.yaml, subject: agency)
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


def agency_findings(pack, card: dict, period_kind: str) -> dict[str, list[dict]]:
    """What the pack's penalty rules find of an agency's card (with its rates) for a period of `period_kind`
    (day, week, month, quarter, year): {action: [the fired rules' actions, with rule and article]}."""
    facts = {k: v for k, v in card.items() if k != "rated_by"}
    actions = pack.evaluate("penalties", dict(facts, subject="agency", period=period_kind))["actions"]
    return {name: [a for a in actions if a["action"] == name] for name in AGENCY_FINDINGS}
