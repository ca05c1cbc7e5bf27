"""The province's periodic view of agencies: counters per agency, and what the pack's penalty rules say of them."""
from __future__ import annotations

from collections import defaultdict


def agency_counters(ratings: list[dict], missed: list[dict], reporting_limit_steps=("process",)) -> dict[str, dict]:
    """Counters the penalties stage decides on, per agency, from ratings and missed deadlines (sla)."""
    counters: dict[str, dict] = defaultdict(lambda: {"subject": "agency", "late_count": 0, "late_over_limit_count": 0,
                                                     "rated_count": 0, "satisfied": 0})
    for rating in ratings:
        card = counters[rating.get("agency") or "?"]
        card["rated_count"] += 1
        card["satisfied"] += rating.get("counts_as") in ("satisfied", "accepted")
    for deadline in missed:
        if not deadline.get("agency"):
            continue
        card = counters[deadline["agency"]]
        card["late_count"] += 1
        card["late_over_limit_count"] += deadline.get("step") in reporting_limit_steps
    for card in counters.values():
        satisfied = card.pop("satisfied")
        card["satisfaction_rate"] = satisfied / card["rated_count"] if card["rated_count"] else 1.0
    return dict(counters)


def province_report(pack, ratings: list[dict], missed: list[dict]) -> list[dict]:
    """Every agency with its counters and the penalty actions that fire, each with its rule and article."""
    report = []
    for agency, facts in sorted(agency_counters(ratings, missed).items()):
        actions = pack.evaluate("penalties", facts)["actions"]
        report.append({"agency": agency, "name": pack.agencies.get(agency, {}).get("name", agency),
                       "counters": facts, "actions": actions})
    return report
