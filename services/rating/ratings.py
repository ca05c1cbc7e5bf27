"""Rating's domain: the reporter's rating on the pack's scale, their follow-up messages, and agency scorecards."""
from __future__ import annotations

from datetime import datetime

from paht.schemas import Decision, lead_agency

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
    lead = lead_agency(report)
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
