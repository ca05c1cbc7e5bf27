"""Rating's domain: the reporter's rating on the pack's scale, their follow-up messages, and agency scorecards."""
from __future__ import annotations

from datetime import datetime

from paht.errors import Refused
from paht.events import jsonable
from paht.schemas import Decision, lead_agency, summary_key
from paht.states import RESULT_DELIVERED, TERMINAL

from .schemas import RatingRecord

RATEABLE = RESULT_DELIVERED
# what a "Không hài lòng" rating does (pack.yaml rating_scale.unsatisfied.action)
UNSATISFIED_ACTIONS = ("reprocess", "clarify", "new_report")
# a reporter may still write about a delivered result (to clarify or contest it), not about a report that ended
# without one
CLOSED_TO_INTERACTION = TERMINAL - frozenset(RESULT_DELIVERED)


def rating_decision(report: dict, levels: list[dict], level: str, comment: str | None, now: datetime,
                    event_id: str, article: str | None) -> Decision:
    if report["state"] not in RATEABLE:
        raise Refused("ACTION_NOT_ALLOWED", f"report is {report['state']}")
    if rated_already(report):
        raise Refused("ACTION_NOT_ALLOWED", "this result was rated already (one rating per published result)")
    chosen = next((item for item in levels if item["id"] == level), None)
    if chosen is None:
        raise Refused("INVALID_RATING", "levels: " + ", ".join(item["id"] for item in levels))
    lead = lead_agency(report)
    rating = RatingRecord(level=chosen["id"], label=chosen["label"], counts_as=chosen["counts_as"], comment=comment,
                          at=now.isoformat(), agency=lead, article=article).model_dump()
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"], kind="rated",
                    source="rating", actor={"role": "reporter"}, from_states=list(RATEABLE),
                    detail={"level": chosen["id"], "counts_as": chosen["counts_as"]}, patch={"rating": rating})


def rated_already(report: dict) -> bool:
    """The reporter rates each published result once: a rating given after the result now published counts."""
    rating, published = report.get("rating"), (report.get("publication") or {}).get("published_at")
    if not rating:
        return False
    return published is None or datetime.fromisoformat(rating["at"]) >= datetime.fromisoformat(published)


def unsatisfied_follow_up(report: dict, pack_meta: dict, event_id: str, now: datetime) -> Decision | None:
    """What a "Không hài lòng" rating sets off, as the pack says (rating_scale.unsatisfied): `reprocess` — the
    result goes back to its agency for processing again (Tây Ninh Điều 10 khoản 4); `clarify` — the rated agency
    must clarify it (TTH Điều 13 khoản 2, VL Điều 14 khoản 2); `new_report` — nothing here: the reporter may file a
    new report that `follows` this one (Sóc Trăng 2022 Điều 6 khoản 4, 2023 Điều 10 khoản 4)."""
    rating = report.get("rating") or {}
    unsatisfied = (pack_meta.get("rating_scale") or {}).get("unsatisfied") or {}
    if rating.get("counts_as") != "unsatisfied" or report.get("state") not in RATEABLE:
        return None
    detail = {"level": rating.get("level"), "agency": rating.get("agency"), "article": unsatisfied.get("article")}
    if unsatisfied.get("action") == "reprocess":
        return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                        kind="reprocess_requested", source="rating", to_state="in_progress",
                        from_states=list(RATEABLE), actor={"service": "rating"}, detail=detail)
    if unsatisfied.get("action") == "clarify":
        return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                        kind="clarification_requested", source="rating", from_states=list(RATEABLE),
                        actor={"service": "rating"}, detail=detail)
    return None


def interaction_decision(report: dict, message: str, now: datetime, event_id: str) -> Decision:
    if report["state"] in CLOSED_TO_INTERACTION:
        raise Refused("ACTION_NOT_ALLOWED", f"report is {report['state']}")
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="interaction", source="rating", actor={"role": "reporter"}, detail={"message": message},
                    patch={"interactions_open": True})


def penalty_subject(report: dict) -> dict:
    """What verification needs of the report to judge its reporter's interactions: its id, pack and reporter key
    (paht.schemas.reporter_summary's key; never the message)."""
    return {"id": report["id"], "pack": report["pack"], "reporter": {"key": summary_key(report)}}


def lock_detail(lock: dict) -> str:
    """What an INTERACTION_LOCKED refusal says of the lock (verification's interaction_gate answer)."""
    until = lock.get("until") or "until the centre lifts it"
    return f"{lock.get('message') or ''} ({lock.get('rule')}, {lock.get('article')}; until {until})".lstrip()


def violation_detail(lock: dict | None) -> str:
    """What a PROHIBITED_INTERACTION refusal says: counted, and whether it locked the reporter's interactions."""
    if lock is None:
        return "counted as a violation"
    return f"counted as a violation; interactions now locked: {lock_detail(lock)}"


# ---- upgrade: what an earlier version kept in rating's `interactions` collection --------------------------------
def legacy_lock(interactions, reporter_key: str | None, now: datetime) -> dict | None:
    """An interaction lock an earlier version of this service recorded (`lock:<reporter key>`) and has not handed
    over to verification yet, while it runs (read as a fallback until the hand-over)."""
    if not reporter_key:
        return None
    lock = interactions.find_one({"_id": f"lock:{reporter_key}"})
    if lock is None or (lock.get("until") is not None and lock["until"] <= now):
        return None
    return jsonable({"lock": "interaction", "rule": lock.get("rule"), "article": lock.get("article"),
                     "message": lock.get("message"), "until": lock.get("until")})
