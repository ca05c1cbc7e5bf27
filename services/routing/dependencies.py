"""Routing's data: the route decisions taken and the accepted reports held until the intake window opens."""
from __future__ import annotations


from nameko.extensions import DependencyProvider

from paht import storage


class RoutingStore:
    def __init__(self, db):
        self.routes = db["routes"]
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

    def purge_report(self, report_id: str) -> None:
        """Retention (intake's `report_purged`): a held report's copy loses the reporter's text and place.
        Idempotent."""
        self.holds.update_many({"report_id": report_id}, {"$set": {"report.description": None,
                                                                  "report.location": None, "report.reporter": {}}})


class Routes(DependencyProvider):
    def setup(self):
        self.store = RoutingStore(storage.open_database("routing"))

    def get_dependency(self, worker_ctx):
        return self.store
