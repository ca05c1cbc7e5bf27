"""Rating's domain: the reporter's rating on the pack's scale, their follow-up messages, and agency scorecards."""
from __future__ import annotations

from datetime import datetime, timedelta

from paht.errors import Refused
from paht.schemas import Decision, lead_agency
from paht.states import RESULT_DELIVERED, TERMINAL
from paht.worktime import calendar_for

from .schemas import RatingRecord

RATEABLE = RESULT_DELIVERED
# "tương tác vi phạm trên 03 lần trong vòng 1 tháng" (ST-22 Điều 15 khoản 1, ST-23 Điều 17 khoản 1, TTH Điều 14
# khoản 1, VL Điều 15 khoản 1 điểm b): the reporter's violating interactions of the last month
VIOLATION_WINDOW = timedelta(days=30)
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


def interaction_lock(interactions, reporter_key: str | None, now: datetime) -> dict | None:
    """The reporter's running interaction lock (the pack's penalties rule `lock_interaction`), if any.

    Interactions, violating ones and the locks they earned are kept in rating's `interactions` collection."""
    if not reporter_key:
        return None
    lock = interactions.find_one({"_id": f"lock:{reporter_key}"})
    if lock is None or (lock.get("until") is not None and lock["until"] <= now):
        return None
    return lock


def count_violation(interactions, pack, reporter_key: str | None, report_id: str, event_id: str, message: str,
                    phrases: list[str], now: datetime) -> dict | None:
    """A refused interaction with prohibited wording counts against its reporter; the pack's penalties rules
    (subject citizen, `violations_month`: the reporter's violating interactions of the last month) decide on a
    lock. Returns the lock it earned, if any."""
    if not reporter_key:
        return None
    interactions.update_one({"_id": event_id}, {"$set": {
        "report_id": report_id, "reporter_key": reporter_key, "violation": True, "phrases": phrases, "at": now,
        "message": message}}, upsert=True)
    recent = [doc for doc in interactions.find({"reporter_key": reporter_key, "violation": True})
              if doc.get("at") is not None and doc["at"] > now - VIOLATION_WINDOW]
    actions = pack.evaluate("penalties", {"subject": "citizen", "violations_month": len(recent),
                                          "abusive_submissions_total": 0})["actions"]
    lock = next((a for a in actions if a["action"] == "lock_interaction"), None)
    if lock is None:
        return None
    duration = lock.get("duration")
    until = calendar_for(pack.meta).add(now, duration["amount"], duration["unit"]) if duration else None
    record = {"reporter_key": reporter_key, "lock": True, "until": until, "rule": lock["rule"],
              "article": lock["article"], "message": lock.get("message"), "at": now, "violations": len(recent)}
    interactions.update_one({"_id": f"lock:{reporter_key}"}, {"$set": record}, upsert=True)
    return record
