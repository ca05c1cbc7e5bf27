"""Intake's storage (reports, outbox, staff users) and its content-addressed media files: all data access here."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from nameko.extensions import DependencyProvider

from paht import storage
from paht.demo_users import users_from_tokens
from paht.schemas import Decision, Transitioned
from paht.states import IllegalTransition, plan

from .reports import hash_token, snapshot


class Conflict(Exception):
    """The report changed under us too often; the caller retries the whole message."""


class ReportStore:
    def __init__(self, db):
        self.reports = db["reports"]
        self.outbox = db["outbox"]
        self.users = db["users"]
        self.rejected_events = db["rejected_events"]
        self.reports.create_index([("state", 1)])
        self.reports.create_index([("pack", 1)])
        self.outbox.create_index([("sent", 1)])
        self.users.create_index([("token_hash", 1)], unique=True)

    # reports
    def create(self, report: dict, event_id: str, now: datetime) -> Transitioned:
        """Store a new report; its announcement goes through the outbox like any other change."""
        report["timeline"][0]["event_id"] = event_id
        self.outbox.insert_one({"_id": event_id, "created_at": now, "sent": False, "report_id": report["_id"]})
        self.reports.insert_one(report)
        return self.rebuild_announcement({"_id": event_id, "report_id": report["_id"]})

    def get(self, report_id: str) -> dict | None:
        return self.reports.find_one({"_id": report_id})

    def find(self, query: dict, limit: int = 200) -> list[dict]:
        return list(self.reports.find(query, sort=[("submitted_at", -1)], limit=limit))

    def apply(self, decision: Decision, attempts: int = 5) -> Transitioned | None:
        """Apply a decision once. Returns what to announce, or None if it was already applied.

        The announcement is written to the outbox in the same step, so a crash before it is sent only delays
        it (the outbox timer sends it), and a redelivered decision is recognised by its event id.
        """
        for _ in range(attempts):
            report = self.get(decision.report_id)
            if report is None:
                raise IllegalTransition(f"{decision.kind}: no report {decision.report_id}")
            update = plan(report, decision)
            if update is None:
                return None
            announced = Transitioned(
                event_id=decision.event_id, report_id=report["_id"], occurred_at=decision.occurred_at,
                pack=report["pack"], cause=decision.kind, from_state=report["state"],
                to_state=update["$set"]["state"], report={})
            self.outbox.update_one(
                {"_id": decision.event_id},
                {"$set": {"created_at": decision.occurred_at, "sent": False, "report_id": report["_id"]}},
                upsert=True)
            result = self.reports.update_one(
                {"_id": report["_id"], "version": report["version"], "applied_events": {"$ne": decision.event_id}},
                update)
            if result.modified_count == 1:
                return self.announcement(announced)
        raise Conflict(f"report {decision.report_id} kept changing while applying {decision.kind}")

    def announcement(self, announced: Transitioned) -> Transitioned:
        """The announcement with the report as it is now (after the change)."""
        report = self.get(announced.report_id)
        return announced.model_copy(update={"report": snapshot(report)})

    def record_refused(self, decision: Decision, why: str, now: datetime) -> None:
        self.rejected_events.update_one({"_id": decision.event_id},
                                        {"$set": {"decision": decision.model_dump(mode="json"), "why": why,
                                                  "at": now}}, upsert=True)

    def purge_personal_data(self, pack: str, closed_before: datetime, now: datetime) -> int:
        """Where a pack keeps data only for a while (Tây Ninh: 30 days), closed reports lose the reporter's data
        and media references; the public record (state, timeline, result) stays."""
        closed = {"pack": pack, "state": {"$in": ["rejected", "cancelled", "published", "delivered_privately",
                                                  "forwarded_for_monitoring"]},
                  "updated_at": {"$lte": closed_before}, "purged_at": {"$exists": False}}
        result = self.reports.update_many(closed, {"$set": {"reporter": {}, "media": [], "location": None,
                                                            "purged_at": now}})
        return result.modified_count

    # outbox
    def mark_sent(self, event_id: str) -> None:
        """A sent announcement leaves the outbox (which then holds only what a crash left unsent)."""
        self.outbox.delete_one({"_id": event_id})

    def unsent(self, older_than: datetime) -> list[dict]:
        return list(self.outbox.find({"sent": False, "created_at": {"$lte": older_than}}, limit=100))

    def rebuild_announcement(self, entry: dict) -> Transitioned | None:
        """An unsent outbox entry → its announcement, if the decision was really applied."""
        report = self.get(entry["report_id"])
        if report is None:
            return None
        for step in reversed(report["timeline"]):
            if step.get("event_id") == entry["_id"]:
                return Transitioned(event_id=entry["_id"], report_id=report["_id"], occurred_at=step["at"],
                                    pack=report["pack"], cause=step["kind"], from_state=step["from"],
                                    to_state=step["to"], report=snapshot(report))
        return None

    def drop_outbox(self, event_id: str) -> None:
        self.outbox.delete_one({"_id": event_id})

    # staff users (bearer tokens are stored hashed)
    def upsert_user(self, token: str, role: str, agency: str | None, name: str) -> None:
        self.users.update_one({"_id": f"{role}:{agency or '*'}"},
                              {"$set": {"token_hash": hash_token(token), "role": role, "agency": agency,
                                        "name": name}}, upsert=True)

    def user_by_token(self, token: str) -> dict | None:
        return self.users.find_one({"token_hash": hash_token(token)})


class Reports(DependencyProvider):
    def setup(self):
        self.store = ReportStore(storage.open_database("intake"))
        tokens = os.environ.get("PAHT_DEMO_TOKENS")
        if tokens and Path(tokens).exists():
            for token, role, agency, name in users_from_tokens(json.loads(Path(tokens).read_text())):
                self.store.upsert_user(token, role, agency, name)

    def get_dependency(self, worker_ctx):
        return self.store


def outbox_grace() -> timedelta:
    return timedelta(seconds=float(os.environ.get("PAHT_OUTBOX_GRACE_SECONDS", "5")))
