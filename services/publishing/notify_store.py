"""Publishing's notification outbox (`notifications`): one document per (event id, recipient, channel), sent by
the notifier's timer in its own green threads, retried with a growing pause, dead after the limit."""
from __future__ import annotations

from datetime import datetime, timedelta

import eventlet
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider

from paht import storage
from paht.storage import DuplicateKeyError

from . import immediate

LEASE_SECONDS = 120    # a claimed notification is due again after this if its sender never reported back
BATCH = 20             # notifications claimed per round (every 2 s)
SENDERS = 10           # green threads sending at once


class NotificationStore:
    def __init__(self, db):
        self.notifications = db["notifications"]
        self.notifications.create_index([("status", 1), ("next_at", 1)])
        self.notifications.create_index([("reported", 1)])
        self.notifications.create_index([("report_id", 1)])

    def enqueue(self, entry: dict) -> bool:
        """Store a new notification; False when this (event, recipient, channel) is already there."""
        try:
            self.notifications.insert_one(entry)
            return True
        except DuplicateKeyError:
            return False

    def claim(self, now: datetime, limit: int = BATCH) -> list[dict]:
        """The due notifications, each claimed for this sender for a lease (another round skips them)."""
        claimed = []
        for entry in self.notifications.find({"status": "pending", "next_at": {"$lte": now}},
                                             sort=[("next_at", 1)], limit=limit):
            taken = self.notifications.update_one(
                {"_id": entry["_id"], "status": "pending", "next_at": entry["next_at"]},
                {"$set": {"next_at": now + timedelta(seconds=LEASE_SECONDS)}})
            if taken.modified_count == 1:
                claimed.append(entry)
        return claimed

    def sent(self, entry_id: str, now: datetime) -> None:
        self.notifications.update_one({"_id": entry_id}, {"$set": {"status": "sent", "sent_at": now,
                                                                   "last_error": None},
                                                          "$inc": {"attempts": 1}})

    def failed(self, entry_id: str, error: str, now: datetime, next_at: datetime | None) -> None:
        """An attempt failed: due again at `next_at`, or dead (None)."""
        change = {"last_error": error, "failed_at": now}
        change.update({"next_at": next_at} if next_at else {"status": "dead", "dead_at": now})
        self.notifications.update_one({"_id": entry_id}, {"$set": change, "$inc": {"attempts": 1}})

    def unreported(self, limit: int = 100) -> list[dict]:
        """Sent or dead notifications whose outcome the report's timeline does not have yet."""
        return list(self.notifications.find({"reported": False, "status": {"$in": ["sent", "dead"]}}, limit=limit))

    def mark_parked(self, entry_id: str, parked: bool) -> None:
        self.notifications.update_one({"_id": entry_id}, {"$set": {"parked": parked}})

    def mark_reported(self, entry_id: str) -> None:
        self.notifications.update_one({"_id": entry_id}, {"$set": {"reported": True}})

    def revive(self, entry_id: str, now: datetime) -> bool:
        """A dead notification sent again (the operator replayed its dead letter): a new round of attempts."""
        revived = self.notifications.update_one(
            {"_id": entry_id, "status": "dead"},
            {"$set": {"status": "pending", "attempts": 0, "next_at": now, "reported": False, "parked": False,
                      "last_error": None},
             "$inc": {"round": 1}})
        return revived.modified_count == 1

    def get(self, entry_id: str) -> dict | None:
        return self.notifications.find_one({"_id": entry_id})

    def forget_reporter(self, report_id: str) -> None:
        """Retention: the reporter's address and the texts sent to them go, and so do the reporter's text and place
        in the immediate case's webhook body; the masked address, who was told and the outcome stay."""
        self.notifications.update_many({"report_id": report_id, "recipient": "reporter"},
                                       {"$set": {"to": None, "message": None}})
        self.notifications.update_many({"report_id": report_id, "channel": immediate.CHANNEL},
                                       {"$set": {"message.description": None, "message.location": None}})


class NotificationOutbox(DependencyProvider):
    """The outbox store, and the bounded pool of green threads the notifications are sent in: the timer that
    hands them over never waits for a send."""

    def setup(self):
        self.store = NotificationStore(storage.open_database("publishing"))
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]   # dead letters go to this broker
        self.pool = eventlet.GreenPool(SENDERS)

    def stop(self):
        for thread in list(self.pool.coroutines_running):
            thread.kill()   # an unfinished send stays claimed and is tried again when its lease ends

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self

    def spawn(self, function, *args) -> bool:
        """Run `function(*args)` in a free green thread; False when every sender is busy (try next round)."""
        if self.pool.free() == 0:
            return False
        self.pool.spawn(function, *args)
        return True
