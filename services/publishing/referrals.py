"""The centre's report of one report to the province's People's Committee (UBND), as the pack's letter.

ST-22 Điều 3 khoản 7, ST-23 Điều 3 khoản 7, TTH Điều 3 khoản 8, TN Điều 4 khoản 8, VL Điều 4 khoản 8: "phản ánh ...
liên quan đến nhiều cơ quan xử lý khác nhau mà không thống nhất được phương án xử lý hoặc xử lý không triệt để thì
[Sở / Trung tâm] có trách nhiệm tổng hợp báo cáo UBND tỉnh xem xét, chỉ đạo"; VL Điều 20 khoản 1 điểm d adds a report
that no agency could be identified for, and one assigned but not handled; ST-22 Điều 28 khoản 2 one that agencies are
late with or do not handle ("có văn bản báo cáo Lãnh đạo tỉnh"). Which reasons a pack has, with their articles, who
reports and to whom: pack.yaml `province_referral`. The letter is recorded on the report (`province_referrals`) and
the periodic report lists it (services/rating/periodic.py).
"""
from __future__ import annotations

from datetime import datetime

from paht.errors import Refused
from paht.roles import CENTRE_ROLES
from paht.schemas import Decision

from .letters import md, vietnamese_date
from paht.worktime import calendar_for

# the reasons, in the seeds' words (the letter's "Trường hợp")
REASONS = {
    "co_agencies_disagree": "Phản ánh liên quan đến nhiều cơ quan xử lý khác nhau mà không thống nhất được phương án "
                            "xử lý",
    "not_thorough": "Phản ánh liên quan đến nhiều cơ quan xử lý khác nhau nhưng xử lý không triệt để",
    "no_agency": "Phản ánh được tiếp nhận nhưng không xác định được cơ quan xử lý",
    "not_handled": "Phản ánh đã giao cho cơ quan xử lý nhưng không thực hiện xử lý (chậm trễ, chậm xử lý hoặc không "
                   "xử lý) theo quy định",
}
# states whose report is no matter for the province: never received, or withdrawn
NOT_RECEIVED = ("submitted", "needs_supplement", "rejected", "cancelled", "forwarded_for_monitoring")
NO_AGENCY_STATES = ("accepted", "routing_unresolved")
HANDLED = ("published", "delivered_privately")


def involved_agencies(report: dict) -> list[str]:
    """Every agency the report went to: assigned (lead, co-agencies), designated, or one that returned it as not
    its matter (an agency that disagrees on who handles it is one of "nhiều cơ quan xử lý khác nhau")."""
    route = report.get("route") or {}
    found = [a.get("id") for a in report.get("assigned_agencies") or []]
    found += list(route.get("returned_by") or []) + [route.get("designated_agency")]
    return [agency for agency in dict.fromkeys(found) if agency]


def check_reason(report: dict, reason: str) -> None:
    """The facts each reason needs: several agencies for a disagreement or an incomplete handling; none assigned for
    `no_agency`; an agency assigned and no result delivered for `not_handled`."""
    state = report["state"]
    if state in NOT_RECEIVED:
        raise Refused("ACTION_NOT_ALLOWED", f"report is {state}: it was never received for handling")
    if reason in ("co_agencies_disagree", "not_thorough") and len(involved_agencies(report)) < 2:
        raise Refused("ACTION_NOT_ALLOWED", "only a report that concerns several agencies (nhiều cơ quan xử lý "
                      "khác nhau)", {"reason": "one agency only"})
    if reason == "no_agency" and (state not in NO_AGENCY_STATES or report.get("assigned_agencies")):
        raise Refused("ACTION_NOT_ALLOWED", "only a report no agency is assigned to (không xác định được cơ quan xử "
                      "lý)", {"reason": "an agency is assigned"})
    if reason == "not_handled" and (state in NO_AGENCY_STATES + HANDLED or not report.get("assigned_agencies")):
        raise Refused("ACTION_NOT_ALLOWED", "only a report assigned to an agency whose result was not delivered",
                      {"reason": "not assigned, or handled"})


def referral_decision(report: dict, pack, actor: dict, body: dict, now: datetime, event_id: str) -> Decision:
    """The centre's `refer_to_province {"reason", "note", "letter_number"?}` → the letter on the report and in its
    timeline (rule: the pack's article of that reason). Raises Refused."""
    if actor.get("role") not in CENTRE_ROLES:
        raise Refused("FORBIDDEN", "only the provincial centre reports to the province")
    referral = pack.meta.get("province_referral") or {}
    reasons = referral.get("reasons") or {}
    reason = body.get("reason")
    if reason not in reasons:
        raise Refused("VALIDATION_FAILED", f"reason is one of {', '.join(reasons) or 'none: the pack has no clause'}",
                      {"reason": " | ".join(reasons) or "the pack's regulation has no such clause"})
    note = body.get("note")
    if not note:
        raise Refused("VALIDATION_FAILED", "note (what the centre reports and proposes) is required",
                      {"note": "required"})
    check_reason(report, reason)
    clause = reasons[reason]
    recipient = clause.get("to") or referral["to"]
    number = body.get("letter_number") or report["id"]
    agencies = getattr(pack, "agencies", {}) or {}
    involved = involved_agencies(report)
    letter = pack.render_template(referral["template"], {
        "report": {"id": md(report["id"]), "description": md(report.get("description")),
                   "category_name": md(((getattr(pack, "categories", {}) or {}).get(report.get("category")) or {})
                                       .get("name", report.get("category"))),
                   "ward_name": md((report.get("ward") or {}).get("name")), "state": report["state"]},
        "by": md(referral["by"]), "to": md(recipient), "reason": reason, "reason_text": REASONS[reason],
        "article": clause["article"], "note": md(note), "letter_number": md(number),
        "letter_date": vietnamese_date(now, calendar_for(pack.meta).tz),
        "agencies": [md((agencies.get(a) or {}).get("name", a)) for a in involved],
        "province": pack.meta.get("province"), "regulation": pack.meta.get("regulation", {}),
    })
    entry = {"reason": reason, "article": clause["article"], "to": recipient, "by": referral["by"],
             "number": number, "note": note, "letter": letter, "at": now.isoformat(), "agencies": involved,
             "actor": actor.get("name") or actor.get("role")}
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="referred_to_province", source="publishing", to_state=None, from_states=[report["state"]],
                    actor=actor, detail={k: entry[k] for k in ("reason", "article", "to", "number", "note", "agencies")},
                    patch={"province_referrals": list(report.get("province_referrals") or []) + [entry]})
