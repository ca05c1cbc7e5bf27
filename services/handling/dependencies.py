"""Handling's data: every action an agency or the centre took (the report's assignment is intake's)."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from paht import storage


class HandlingStore:
    def __init__(self, db):
        self.actions = db["actions"]
        self.actions.create_index([("report_id", 1)])

    def record_action(self, event_id: str, report_id: str, action: str, actor: dict, detail: dict, at) -> None:
        self.actions.update_one({"_id": event_id}, {"$set": {"report_id": report_id, "action": action,
                                                             "actor": actor, "detail": detail, "at": at}},
                                upsert=True)

    def history(self, report_id: str) -> list[dict]:
        return list(self.actions.find({"report_id": report_id}, sort=[("at", 1)]))


class Handling(DependencyProvider):
    def setup(self):
        self.store = HandlingStore(storage.open_database("handling"))

    def get_dependency(self, worker_ctx):
        return self.store
