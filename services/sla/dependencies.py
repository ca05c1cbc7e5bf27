"""sla's data: one document per deadline, found by an index on the due time."""
from __future__ import annotations

import time
from datetime import datetime

from nameko.extensions import DependencyProvider

from paht import metrics, storage
from paht.storage import DuplicateKeyError


class DeadlineStore:
    def __init__(self, db):
        self.deadlines = db["deadlines"]
        self.deadlines.create_index([("status", 1), ("due", 1)])
        self.deadlines.create_index([("status", 1), ("warn_due", 1)])
        self.deadlines.create_index([("report_id", 1)])
        self.deadlines.create_index([("pack", 1), ("missed_at", 1)])
        self.deadlines.create_index([("pack", 1), ("closed_at", 1)])
        self.versions = db["report_versions"]
        # what the sla service remembers of a report between announcements: when it reached its current lead,
        # when processing began, which agency the province designated, when each co-agency was forwarded it
        self.marks = db["report_marks"]
        # decisions for intake, kept until they are sent (in the order they were taken)
        self.to_intake = db["to_intake"]
        self.to_intake.create_index([("seq", 1)])
        self._last_seq = 0

    def queue_for_intake(self, decisions: list[dict], now: datetime) -> None:
        """Keep decisions (dumped) for intake; one already queued (a redelivered change) keeps its place."""
        for decision in decisions:
            self._last_seq = max(time.time_ns(), self._last_seq + 1)
            try:
                self.to_intake.insert_one({"_id": decision["event_id"], "seq": self._last_seq, "queued_at": now,
                                           "decision": decision})
            except DuplicateKeyError:
                pass

    def queued_for_intake(self, limit: int) -> list[dict]:
        return list(self.to_intake.find({}, sort=[("seq", 1)], limit=limit))

    def sent_to_intake(self, ids: list[str]) -> None:
        self.to_intake.delete_many({"_id": {"$in": ids}})

    def observe_gauges(self, now: datetime) -> None:
        """The queue for intake as the ops centre sees intake's outbox: its length and its oldest entry's age."""
        oldest = self.queued_for_intake(1)
        metrics.OUTBOX_BACKLOG.labels("sla").set(self.to_intake.count_documents({}))
        metrics.OUTBOX_OLDEST.labels("sla").set(max((now - oldest[0]["queued_at"]).total_seconds(), 0.0)
                                                if oldest else 0.0)

    def advance_version(self, report_id: str, version: int) -> bool:
        """Record that the report's change `version` is being handled; False when a later one already was
        (announcements can be handled out of order by concurrent workers)."""
        try:
            self.versions.update_one({"_id": report_id, "version": {"$lt": version}}, {"$set": {"version": version}},
                                     upsert=True)
            return True
        except DuplicateKeyError:
            return False

    def current_version(self, report_id: str) -> int:
        doc = self.versions.find_one({"_id": report_id})
        return doc["version"] if doc else -1

    def open(self, deadline: dict) -> None:
        fields = {k: v for k, v in deadline.items() if k != "_id"}
        self.deadlines.update_one({"_id": deadline["_id"]}, {"$setOnInsert": fields}, upsert=True)

    def get(self, deadline_id: str) -> dict | None:
        return self.deadlines.find_one({"_id": deadline_id})

    def open_for(self, report_id: str) -> list[dict]:
        """The report's running deadlines, late ones included."""
        return list(self.deadlines.find({"report_id": report_id, "active": True}))

    def close(self, deadline_id: str, at: datetime) -> None:
        self._end(deadline_id, at, "closed")

    def replace(self, deadline_id: str, at: datetime) -> None:
        """A running deadline the pack's rule no longer sets (the report became multi-agency): neither met nor
        missed."""
        self._end(deadline_id, at, "replaced")

    def _end(self, deadline_id: str, at: datetime, status: str) -> None:
        """An open deadline takes `status`; a missed one keeps it (it ended late): either way it stops running."""
        ended = {"active": False, "closed_at": at}
        if not self.deadlines.update_one({"_id": deadline_id, "status": "open"},
                                         {"$set": {"status": status, **ended}}).matched_count:
            self.deadlines.update_one({"_id": deadline_id}, {"$set": ended})

    def for_report(self, report_id: str, step: str) -> list[dict]:
        """Every deadline of a step of the report, running or ended."""
        return list(self.deadlines.find({"report_id": report_id, "step": step}))

    def mark(self, report_id: str, unset=(), **fields) -> None:
        """Set `fields` and remove the marks named in `unset`, in one write."""
        update = {"$set": fields, **({"$unset": {field: "" for field in unset}} if unset else {})}
        self.marks.update_one({"_id": report_id}, update, upsert=True)

    def unmark(self, report_id: str, *fields: str) -> None:
        self.marks.update_one({"_id": report_id}, {"$unset": {field: "" for field in fields}})

    def marks_of(self, report_id: str) -> dict:
        return self.marks.find_one({"_id": report_id}) or {}

    def fallen_due(self, now: datetime, limit: int = 1000) -> list[dict]:
        return list(self.deadlines.find({"status": "open", "due": {"$lte": now}}, sort=[("due", 1)], limit=limit))

    def to_warn(self, now: datetime, limit: int = 1000) -> list[dict]:
        return list(self.deadlines.find({"status": "open", "warn_due": {"$lte": now}, "warned": False},
                                        sort=[("warn_due", 1)], limit=limit))

    def mark_missed(self, deadline_id: str, at: datetime) -> None:
        self.deadlines.update_one({"_id": deadline_id, "status": "open"},
                                  {"$set": {"status": "missed", "missed_at": at}})

    def mark_warned(self, deadline_id: str) -> None:
        self.deadlines.update_one({"_id": deadline_id}, {"$set": {"warned": True}})

    def move(self, deadline_id: str, new_due: datetime, warn_due: datetime, reopen: bool = False) -> None:
        """An extension moves a running deadline; with `reopen`, also one missed while the agency's timely notice
        waited for the centre to set its time (it runs again, not late: services/sla/service.py extend)."""
        fields = {"due": new_due, "warn_due": warn_due, "warned": False, "extended": True}
        if reopen and self.deadlines.update_one({"_id": deadline_id, "status": "missed"},
                                                {"$set": dict(fields, status="open", missed_at=None)}).matched_count:
            return
        self.deadlines.update_one({"_id": deadline_id, "status": "open"}, {"$set": fields})

    def ended_between(self, pack: str, start: datetime, end: datetime) -> list[dict]:
        """One province's deadlines missed or closed in [start, end)."""
        missed = self.deadlines.find({"pack": pack, "missed_at": {"$gte": start, "$lt": end}})
        closed = self.deadlines.find({"pack": pack, "closed_at": {"$gte": start, "$lt": end}})
        return list({d["_id"]: d for d in list(missed) + list(closed)}.values())


class Deadlines(DependencyProvider):
    def setup(self):
        self.store = DeadlineStore(storage.open_database("sla"))

    def get_dependency(self, worker_ctx):
        return self.store
