"""Rating's domain: the reporter's rating on the pack's scale, their follow-up messages, and agency scorecards."""
from __future__ import annotations

from datetime import datetime

from paht.schemas import Decision

from .schemas import RatingRecord

RATEABLE = ("published", "delivered_privately")


class Refused(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail)
        self.code, self.detail = code, detail

    def answer(self) -> dict:
        return {"error": {"code": self.code, "detail": self.detail}}


def rating_decision(report: dict, levels: list[dict], level: str, comment: str | None, now: datetime,
                    event_id: str, article: str | None) -> Decision:
    if report["state"] not in RATEABLE:
        raise Refused("ACTION_NOT_ALLOWED", f"report is {report['state']}")
    chosen = next((item for item in levels if item["id"] == level), None)
    if chosen is None:
        raise Refused("INVALID_RATING", "levels: " + ", ".join(item["id"] for item in levels))
    lead = next((a["id"] for a in report.get("assigned_agencies") or [] if a.get("role") == "lead"), None)
    rating = RatingRecord(level=chosen["id"], label=chosen["label"], counts_as=chosen["counts_as"], comment=comment,
                          at=now.isoformat(), agency=lead, article=article).model_dump()
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"], kind="rated",
                    source="rating", actor={"role": "reporter"}, detail={"level": chosen["id"]},
                    patch={"rating": rating})


def interaction_decision(report: dict, message: str, now: datetime, event_id: str) -> Decision:
    if report["state"] in ("rejected", "cancelled", "forwarded_for_monitoring"):
        raise Refused("ACTION_NOT_ALLOWED", f"report is {report['state']}")
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="interaction", source="rating", actor={"role": "reporter"}, detail={"message": message},
                    patch={"interactions_open": True})


def scorecard(ratings: list[dict]) -> dict:
    """Satisfaction per agency: (satisfied + accepted) / rated, the rate the penalties rules compare with 70 %."""
    cards: dict[str, dict] = {}
    for rating in ratings:
        card = cards.setdefault(rating.get("agency") or "?", {"rated": 0, "satisfied": 0, "accepted": 0,
                                                               "unsatisfied": 0})
        card["rated"] += 1
        card[rating["counts_as"]] = card.get(rating["counts_as"], 0) + 1
    for card in cards.values():
        card["satisfaction_rate"] = (card["satisfied"] + card["accepted"]) / card["rated"] if card["rated"] else None
    return cards
