"""Intake's storage: reports, their outbox, refused decisions, dead letters and the nonces of the internal calls it
took; all data access here."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from nameko.extensions import DependencyProvider
from pymongo.errors import PyMongoError

from paht import flow, metrics, settings, storage
from paht.embedded import apply_update
from paht.schemas import Decision, ReportPurged, Transitioned, reporter_key
from paht.states import STATES, TERMINAL, IllegalTransition, plan
from paht.storage import DuplicateKeyError

from .lists import next_due
from .reports import forget_reporter, snapshot

OPEN_STATES = [state for state in STATES if state not in TERMINAL]   # the reports gauge counts these
EVER = datetime(1970, 1, 1, tzinfo=timezone.utc)   # before every deadline: `next_due >= EVER` is "has one"

# what a store or the media disk raise when they cannot take a write now (the client may retry)
STORAGE_ERRORS = (PyMongoError, sqlite3.Error, OSError)


class Conflict(Exception):
    """The report changed under us too often; the caller retries the whole message."""


class Applied(NamedTuple):
    """A change intake applied: what it announces (unless `silent`) and the report after it."""
    announcement: Transitioned
    report: dict

    @property
    def silent(self) -> bool:
        a = self.announcement
        return not flow.announced(a.from_state, a.to_state, a.cause)


class ReportStore:
    def __init__(self, db):
        self.reports = db["reports"]
        self.outbox = db["outbox"]
        self.rejected_events = db["rejected_events"]
        self.nonces = db["nonces"]
        self.dead = db["dead_letters"]
        self.reports.create_index([("state", 1)])
        self.reports.create_index([("pack", 1)])
        self.reports.create_index([("pack", 1), ("updated_at", 1)])
        self.reports.create_index([("pack", 1), ("state", 1)])      # the gauges: counted on the index alone
        self.reports.create_index([("pack", 1), ("next_due", 1)])   # the staff queue, nearest due first
        self.reports.create_index([("next_due", 1)])
        self.reports.create_index([("submitted_at", 1)])
        self.reports.create_index([("follows", 1)])
        self.reports.create_index([("pack", 1), ("follows", 1)])    # a pack's follow-ups (the scorecards)
        self.reports.create_index([("purge_announced", 1)])
        self.reports.create_index([("tracking_token_hash", 1)])   # Open311 tokens/{token}
        self.outbox.create_index([("sent", 1)])
        self.nonces.create_index([("expires_at", 1)])
        self.dead.create_index([("status", 1)])
        self.meta = db["meta"]
        self.keep_next_due()

    def keep_next_due(self) -> None:
        """Reports stored before `next_due` was kept get it once (the marker says it was done)."""
        if self.meta.find_one({"_id": "next_due"}) is not None:
            return
        for report in self.reports.find({"next_due": {"$exists": False}}):
            self.reports.update_one({"_id": report["_id"]}, {"$set": {"next_due": next_due(report)}})
        self.meta.update_one({"_id": "next_due"}, {"$set": {"done": True}}, upsert=True)

    # reports
    def create(self, report: dict, event_id: str, now: datetime) -> Applied:
        """Store a new report; its announcement goes through the outbox like any other change."""
        report["timeline"][0]["event_id"] = event_id
        report["next_due"] = next_due(report)
        self.outbox.insert_one({"_id": event_id, "created_at": now, "sent": False, "report_id": report["_id"]})
        self.reports.insert_one(report)
        metrics.TRANSITIONS.labels(report["pack"], "none", "submitted", "submitted").inc()
        return Applied(Transitioned(event_id=event_id, report_id=report["_id"], occurred_at=now, pack=report["pack"],
                                    cause="submitted", from_state=None, to_state="submitted",
                                    report=snapshot(report)), report)

    def get(self, report_id: str) -> dict | None:
        return self.reports.find_one({"_id": report_id})

    def accountable(self, queries: list[dict], projection: dict | None = None) -> list[dict]:
        """Every report matching any of `queries`, once each (for the scorecards)."""
        found: dict[str, dict] = {}
        for query in queries:
            for report in self.reports.find(query, projection):
                found.setdefault(report["_id"], report)
        return list(found.values())

    def followers(self, pack: str, end: datetime) -> list[dict]:
        """Reports filed as follow-ups of an earlier one (`follows`), up to `end`: with their reporter, state and
        timeline, so the counters take only the same reporter's accepted ones (accountability.counted_follow_ups)."""
        # `follows` is only ever a report id (reports.new_report sets it when given, never empty): "$gt": "" is
        # "has one" in both stores, and the embedded one finds those by its index instead of reading the pack
        return list(self.reports.find({"pack": pack, "follows": {"$gt": ""}, "submitted_at": {"$lt": end}},
                                      {"follows": 1, "submitted_at": 1, "reporter": 1, "state": 1, "timeline": 1}))

    def find(self, query: dict, limit: int = 200) -> list[dict]:
        return list(self.reports.find(query, sort=[("submitted_at", -1)], limit=limit))

    def by_next_due(self, query: dict, descending: bool, limit: int) -> list[dict]:
        """The first `limit` reports matching `query` by their current deadline (`next_due`, ties by id; latest
        first when `descending`), then those without an open deadline, newest first: the store sorts and stops."""
        way = -1 if descending else 1
        found = list(self.reports.find(dict(query, next_due={"$gte": EVER}), sort=[("next_due", way), ("_id", way)],
                                       limit=limit))
        if len(found) < limit:
            found += self.reports.find(dict(query, next_due=None), sort=[("submitted_at", -1)],
                                       limit=limit - len(found))
        return found

    def apply(self, decision: Decision) -> Applied | None:
        """Apply one decision (see apply_all); None if it was already applied. Raises IllegalTransition when it
        does not fit the report: the caller records it and drops it, since redelivering it can never make it fit."""
        applied, refused = self.apply_all([decision])
        if refused:
            raise IllegalTransition(refused[0][1])
        return applied[0] if applied else None

    def apply_all(self, decisions: list[Decision], attempts: int = 5) -> tuple[list[Applied], list[tuple]]:
        """Decisions about one report applied in order, with one read and one conditional write: what was
        applied (each with what to announce and the report after all of them) and what was refused, with why.
        Already applied ones are skipped (a redelivery changes nothing). The announcements are written to the
        outbox in the same step (unless they are bookkeeping nobody hears of, paht.flow.BOOKKEEPING), so a crash
        before they are sent only delays them: the outbox timer sends them."""
        for _ in range(attempts):
            report = self.get(decisions[0].report_id)
            if report is None:
                raise IllegalTransition(f"{decisions[0].kind}: no report {decisions[0].report_id}")
            version, after = report["version"], report   # `after` becomes the report after the decisions
            changes, refused, touched = [], [], set()
            for decision in decisions:
                try:
                    update = plan(after, decision)
                except IllegalTransition as exc:
                    refused.append((decision, str(exc)))
                    continue
                if update is None:
                    continue
                changes.append(Transitioned(
                    event_id=decision.event_id, report_id=report["_id"], occurred_at=decision.occurred_at,
                    pack=report["pack"], cause=decision.kind, from_state=after["state"],
                    to_state=update["$set"]["state"], report={}))
                touched |= {path.split(".")[0] for fields in update.values() for path in fields}
                apply_update(after, update)
            if not changes:
                return [], refused
            after["next_due"] = next_due(after)   # the queue's order, kept with what it is read from
            touched.add("next_due")
            for change in changes:
                if flow.announced(change.from_state, change.to_state, change.cause):
                    self.outbox.update_one(
                        {"_id": change.event_id},
                        {"$set": {"created_at": change.occurred_at, "sent": False, "report_id": report["_id"]}},
                        upsert=True)
            result = self.reports.update_one({"_id": report["_id"], "version": version},
                                             {"$set": {field: after[field] for field in touched}})
            if result.modified_count == 1:
                view = snapshot(after)
                for change in changes:
                    metrics.TRANSITIONS.labels(report["pack"], change.from_state, change.to_state, change.cause).inc()
                return [Applied(change.model_copy(update={"report": view}), after) for change in changes], refused
        raise Conflict(f"report {decisions[0].report_id} kept changing while applying {len(decisions)} decisions")

    def record_refused(self, decision: Decision, why: str, now: datetime) -> None:
        self.rejected_events.update_one({"_id": decision.event_id},
                                        {"$set": {"decision": decision.model_dump(mode="json"), "why": why,
                                                  "at": now}}, upsert=True)

    def purge_personal_data(self, pack: str, closed_before: datetime, now: datetime, retention_days: int = 0,
                            limit: int = 1000) -> int:
        """Where a pack keeps data only for a while (Tây Ninh: 30 days), closed reports lose the reporter's data
        (see reports.forget_reporter); the public record (state, timeline, ward, result) stays.

        Each purged report keeps its `report_purged` announcement (`purge_event`, `purge_announced: false`),
        written in the same update as the purge itself: until `mark_purge_announced`, `unannounced_purges`
        returns it, so a crash between the purge and the announcement only delays the announcement."""
        closed = {"pack": pack, "state": {"$in": sorted(TERMINAL)},
                  "updated_at": {"$lte": closed_before}, "purged_at": {"$exists": False}}
        purged = 0
        for report in list(self.reports.find(closed, limit=limit)):
            announcement = ReportPurged(
                event_id=f"purge:{report['_id']}", report_id=report["_id"], occurred_at=now, pack=pack,
                retention_days=retention_days, reporter_key=reporter_key(report.get("reporter") or {}),
                media=sorted({m["sha256"] for m in report.get("media") or []}))
            result = self.reports.update_one(   # unchanged since read, and purged once (several intakes)
                {"_id": report["_id"], "version": report["version"], "purged_at": {"$exists": False}},
                {"$set": {**forget_reporter(report), "purged_at": now, "purge_announced": False,
                          "purge_event": announcement.model_dump(mode="json")}})
            purged += result.modified_count
        return purged

    def unannounced_purges(self, limit: int = 500) -> list[ReportPurged]:
        return [ReportPurged.model_validate(report["purge_event"])
                for report in self.reports.find({"purge_announced": False}, limit=limit)]

    def mark_purge_announced(self, report_id: str) -> None:
        """Sent: the announcement (which held the reporter's key) is dropped."""
        self.reports.update_one({"_id": report_id}, {"$set": {"purge_announced": True},
                                                     "$unset": {"purge_event": ""}})

    def media_in_use(self, sha256: str) -> bool:
        """A file some report still needs: the reporter's media of a report not purged yet, or a photo of an
        agency's result (never personal data, kept with the public record)."""
        return self.reports.find_one({"$or": [{"media.sha256": sha256}, {"result.after_photos": sha256}]}) \
            is not None

    # the internal assertions a changing call took (paht.callers: each is good for one call)
    def take_nonce(self, nonce: str, now: datetime, kept_until: datetime) -> bool:
        """False when this nonce was taken before (and is still kept)."""
        self.nonces.delete_one({"_id": nonce, "expires_at": {"$lte": now}})
        try:
            self.nonces.insert_one({"_id": nonce, "expires_at": kept_until})
            return True
        except DuplicateKeyError:
            return False

    def forget_nonces(self, now: datetime) -> int:
        return self.nonces.delete_many({"expires_at": {"$lte": now}}).deleted_count

    # dead letters (messages a service could not handle)
    def keep_dead_letter(self, letter: dict) -> None:
        """Store a parked message once; its report shows the error to the operator until it is settled."""
        fields = {k: v for k, v in letter.items() if k != "_id"}
        self.dead.update_one({"_id": letter["_id"]}, {"$setOnInsert": dict(fields, status="open")}, upsert=True)
        if letter.get("report_id"):
            self.reports.update_one({"_id": letter["report_id"]}, {"$set": {"processing_error": {
                "dead_letter": letter["_id"], "queue": letter.get("queue"), "error": letter["error"]["message"],
                "type": letter["error"]["type"], "at": letter.get("at")}}})

    def dead_letters(self, status: str, limit: int) -> list[dict]:
        return [{k: v for k, v in letter.items() if k not in ("body", "headers")}
                for letter in self.dead.find({"status": status}, sort=[("at", -1)], limit=limit)]

    def dead_letter(self, letter_id: str) -> dict | None:
        return self.dead.find_one({"_id": letter_id})

    def close_dead_letter(self, letter_id: str, status: str, now: datetime) -> dict:
        self.dead.update_one({"_id": letter_id}, {"$set": {"status": status, "settled_at": now}})
        letter = self.dead_letter(letter_id)
        if letter.get("report_id"):
            self.reports.update_one({"_id": letter["report_id"], "processing_error.dead_letter": letter_id},
                                    {"$unset": {"processing_error": ""}})
        return letter

    # outbox
    def mark_sent(self, event_id: str) -> None:
        """A sent announcement leaves the outbox (which then holds only what a crash left unsent)."""
        self.outbox.delete_one({"_id": event_id})

    def unsent(self, older_than: datetime) -> list[dict]:
        return list(self.outbox.find({"sent": False, "created_at": {"$lte": older_than}}, limit=100))

    def rebuild_announcement(self, entry: dict) -> Applied | None:
        """An unsent outbox entry → its announcement, if the decision was really applied."""
        report = self.get(entry["report_id"])
        if report is None:
            return None
        for step in reversed(report["timeline"]):
            if step.get("event_id") == entry["_id"]:
                return Applied(Transitioned(event_id=entry["_id"], report_id=report["_id"], occurred_at=step["at"],
                                            pack=report["pack"], cause=step["kind"], from_state=step["from"],
                                            to_state=step["to"], report=snapshot(report)), report)
        return None

    def drop_outbox(self, event_id: str) -> None:
        self.outbox.delete_one({"_id": event_id})

    # the ops centre's gauges (paht.metrics), refreshed by a timer: a count query per pack and state
    def observe_gauges(self, packs: list[str], now: datetime) -> None:
        for pack in packs:
            for state in OPEN_STATES:
                metrics.REPORTS.labels(pack, state).set(self.reports.count_documents({"pack": pack, "state": state}))
        unsent = list(self.outbox.find({"sent": False}, {"created_at": 1}, sort=[("created_at", 1)], limit=1))
        oldest = (now - unsent[0]["created_at"]).total_seconds() if unsent else 0.0
        metrics.OUTBOX_BACKLOG.labels("intake").set(self.outbox.count_documents({"sent": False}))
        metrics.OUTBOX_OLDEST.labels("intake").set(max(oldest, 0.0))
        metrics.DEAD_LETTERS_OPEN.labels("intake").set(self.dead.count_documents({"status": "open"}))

class Reports(DependencyProvider):
    def setup(self):
        self.store = ReportStore(storage.open_database("intake"))

    def get_dependency(self, worker_ctx):
        return self.store


def outbox_grace() -> timedelta:
    return timedelta(seconds=settings.outbox_grace_seconds())
