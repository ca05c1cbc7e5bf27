"""Routing's data: the route decisions taken and the notifications sent (with their dead letters)."""
from __future__ import annotations

import os

from nameko.extensions import DependencyProvider

from paht import storage


class RoutingStore:
    def __init__(self, db):
        self.routes = db["routes"]
        self.notifications = db["notifications"]
        self.notifications.create_index([("delivered", 1)])

    def record_route(self, event_id: str, report_id: str, decision: dict) -> None:
        self.routes.update_one({"_id": event_id}, {"$set": {"report_id": report_id, **decision}}, upsert=True)

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


class Routes(DependencyProvider):
    def setup(self):
        self.store = RoutingStore(storage.open_database("routing"))

    def get_dependency(self, worker_ctx):
        return self.store


def webhook_url() -> str | None:
    return os.environ.get("PAHT_IMMEDIATE_WEBHOOK") or None
