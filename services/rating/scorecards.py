"""The province's view of its agencies for one period: counters from the reports' timelines (intake) and missed
deadlines (sla), the rates the regulations compare, and what the pack's penalty rules say of each agency."""
from __future__ import annotations

from datetime import datetime

from paht.periods import Period
from paht.scorecards import AGENCY_FINDINGS, EMPTY, SUMMED, agency_findings, with_rates


def province_scorecards(pack, period: Period, intake_cards: dict, sla_part: dict, generated_at: datetime) -> dict:
    """Every agency with activity in the period, its counters, and the pack's penalty findings (rule, article)."""
    levels = pack.rating_levels()
    agencies = []
    for agency in sorted(set(intake_cards) | set(sla_part["agencies"])):
        card = dict(EMPTY, **intake_cards.get(agency, {}), **sla_part["agencies"].get(agency, {}))
        with_rates(card, levels)
        agencies.append({"agency": agency, "name": pack.agencies.get(agency, {}).get("name", agency),
                         "counters": card, **agency_findings(pack, card, period.kind)})
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
