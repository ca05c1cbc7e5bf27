"""Publishing's data: the public feed of published results (no personal data)."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from paht import storage


class PublicationStore:
    def __init__(self, db):
        self.publications = db["publications"]
        self.publications.create_index([("published_at", -1)])

    def record(self, report: dict, publication: dict) -> None:
        private = bool(publication.get("private"))   # a private result is the reporter's alone: no copy here
        public = {"report_id": report["id"], "pack": report["pack"], "category": report.get("category"),
                  "ward": None if private else report.get("ward"), "letter": None if private else publication["letter"],
                  "published_at": publication["published_at"], "private": publication["private"]}
        self.publications.update_one({"_id": report["id"]}, {"$set": public}, upsert=True)

    def feed(self, pack: str | None, limit: int) -> list[dict]:
        query = {"private": False} if pack is None else {"private": False, "pack": pack}
        return list(self.publications.find(query, sort=[("published_at", -1)], limit=limit))


class Publications(DependencyProvider):
    def setup(self):
        self.store = PublicationStore(storage.open_database("publishing"))

    def get_dependency(self, worker_ctx):
        return self.store
