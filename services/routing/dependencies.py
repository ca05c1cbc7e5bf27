"""Routing's data: the route decisions taken and the notifications sent (with their dead letters)."""
from __future__ import annotations


from nameko.extensions import DependencyProvider

from paht import settings, storage


class RoutingStore:
    def __init__(self, db):
        self.routes = db["routes"]
        self.notifications = db["notifications"]
        self.notifications.create_index([("delivered", 1)])
        # normal reports accepted outside the pack's intake hours, waiting for the next opening (durable: a
        # restarted service releases what fell due while it was down)
        self.holds = db["holds"]
        self.holds.create_index([("status", 1), ("release_at", 1)])
        self.holds.create_index([("report_id", 1)])

    def record_route(self, event_id: str, report_id: str, decision: dict) -> None:
        self.routes.update_one({"_id": event_id}, {"$set": {"report_id": report_id, **decision}}, upsert=True)

    def hold(self, hold_id: str, report_id: str, release_at, report: dict, at) -> None:
        """Hold an accepted report until `release_at` (once per acceptance: `hold_id` derives from it)."""
        self.holds.update_one({"_id": hold_id}, {"$setOnInsert": {
            "report_id": report_id, "release_at": release_at, "report": report, "held_at": at, "status": "held"}},
            upsert=True)

    def held(self, report_id: str) -> dict | None:
        return self.holds.find_one({"report_id": report_id, "status": "held"})

    def refresh_hold(self, hold_id: str, report: dict) -> None:
        """A held report changed while it waited (a later snapshot of it, never an older one)."""
        self.holds.update_one({"_id": hold_id, "status": "held", "report.version": {"$lt": report.get("version", 0)}},
                              {"$set": {"report": report}})

    def due_holds(self, now, limit: int = 500) -> list[dict]:
        return list(self.holds.find({"status": "held", "release_at": {"$lte": now}}, sort=[("release_at", 1)],
                                    limit=limit))

    def end_hold(self, hold_id: str, status: str, at) -> None:
        """`released` (routed at the opening, or at once when it turned urgent) or `dropped` (it left `accepted`)."""
        self.holds.update_one({"_id": hold_id, "status": "held"}, {"$set": {"status": status, "ended_at": at}})

    def notified(self, key: str) -> bool:
        doc = self.notifications.find_one({"_id": key})
        return bool(doc and doc.get("delivered"))

    def record_notification(self, key: str, report_id: str, url: str, payload: dict, outcome: dict, at) -> None:
        """Every attempt's outcome; an undelivered one stays as a dead letter for the operator."""
        self.notifications.update_one(
            {"_id": key},
            {"$set": {"report_id": report_id, "url": url, "payload": payload, "at": at,
                      "dead_letter": not outcome["delivered"], **outcome}},
            upsert=True)

    def dead_letters(self) -> list[dict]:
        return list(self.notifications.find({"dead_letter": True}, limit=500))

    def purge_report(self, report_id: str) -> None:
        """Retention (intake's `report_purged`): the report's stored webhook payloads lose the reporter's text
        and place; who was notified, when, and the outcome stay. Idempotent."""
        self.notifications.update_many({"report_id": report_id},
                                       {"$set": {"payload.description": None, "payload.location": None}})
        self.holds.update_many({"report_id": report_id}, {"$set": {"report.description": None,
                                                                  "report.location": None, "report.reporter": {}}})


class Routes(DependencyProvider):
    def setup(self):
        self.store = RoutingStore(storage.open_database("routing"))

    def get_dependency(self, worker_ctx):
        return self.store


def webhook_url() -> str | None:
    return settings.immediate_webhook_url()
