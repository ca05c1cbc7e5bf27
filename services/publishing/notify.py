"""Notifications to citizens and agencies (entrypoints of the publishing service).

An announcement that tells someone something (notifications.notifications_for) is rendered from the pack's
templates and queued in the outbox (notify_store), one document per recipient and channel, as is the immediate
case's webhook (immediate.py); the handler never sends. Every 2 s a timer hands the due ones to green threads that
send them (timeouts on every send); a failed attempt is tried again after a growing pause, and after
`settings.notification_attempts()` attempts, or at once when the other side refuses it for good (a 4xx), it is
dead: parked on the dead-letter exchange with its error (intake keeps it; a replay of the letter sends the
notification again). Each outcome, sent or dead, goes to the report's timeline as a `notified` decision.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from kombu import Queue
from nameko.messaging import consume
from nameko.timer import timer

from paht import callers, clock, deadletters, settings
from paht.bus import derived_id, on_report_purged, on_transition, send
from paht.metrics import NOTIFICATION_ATTEMPT_FAILURES, NOTIFICATIONS
from paht.rpc import TimedRpcProxy
from paht.rules import get_pack
from paht.schemas import Decision

from . import senders
from .immediate import immediate_entries
from .notifications import (
    backoff_seconds,
    configured_channels,
    notifications_for,
    outbox_entries,
)
from .notify_store import BATCH, NotificationOutbox, NotificationStore

log = logging.getLogger(__name__)

# where a replayed dead letter of a notification arrives (intake's replay sends it straight to this queue)
REPLAY_QUEUE = Queue("publishing.notification-replays", durable=True)


class NotificationDead(Exception):
    """A notification that could not be delivered (the dead letter's error)."""


class Notifier:
    outbox = NotificationOutbox()
    intake = TimedRpcProxy("intake")

    @on_transition
    def notify(self, announced):
        """Queue what this change tells the reporter and the agencies (idempotent under redelivery: one outbox
        document per event, recipient and channel)."""
        channels = configured_channels()
        for entry in immediate_entries(announced, channels, clock.now()):
            self.outbox.store.enqueue(entry)
        pack = get_pack(announced.pack)
        notices = notifications_for(announced, pack)
        if not notices or not channels:
            return
        contact = callers.call_internal("intake", self.intake, "reporter_contact", report_id=announced.report_id) \
            if any(notice.agency is None for notice in notices) else None
        for entry in outbox_entries(announced, pack, notices, contact, channels, clock.now()):
            self.outbox.store.enqueue(entry)

    @timer(interval=2)
    def send_notifications(self):
        """Report finished notifications to intake, then hand the due ones to the senders (without waiting)."""
        self.report_outcomes()
        store = self.outbox.store
        for entry in store.claim(clock.now(), min(BATCH, self.outbox.pool.free())):
            if not self.outbox.spawn(deliver, store, entry, settings.notification_attempts()):
                break   # every sender busy: the rest stay claimed and come back when their lease ends

    def report_outcomes(self):
        store = self.outbox.store
        for entry in store.unreported():
            if entry["status"] == "dead" and not entry.get("parked"):
                self.park(entry)
                store.mark_parked(entry["_id"], True)
            send(self.dispatch, notified_decision(entry, clock.now(), self.name))
            store.mark_reported(entry["_id"])

    def park(self, entry: dict) -> None:
        """A dead notification as a dead letter: intake keeps it, the report shows the error to the operator,
        and a replay comes back to `replay_notification`."""
        body = {"notification_id": entry["_id"], "report_id": entry["report_id"], "pack": entry["pack"],
                "template": entry["template"], "recipient": entry["recipient"], "channel": entry["channel"],
                "to": entry["to_masked"], "attempts": entry["attempts"], "last_error": entry["last_error"]}
        message = SimpleNamespace(delivery_info={"exchange": "", "routing_key": REPLAY_QUEUE.name}, headers={},
                                  payload=body)
        error = NotificationDead(f"{entry['channel']} notification {entry['template']} to {entry['to_masked']} "
                                 f"not delivered: {entry['last_error']}")
        deadletters.park(self.outbox.amqp_uri, message, REPLAY_QUEUE.name, self.name, "send_notifications",
                         (NotificationDead, error, None), entry["attempts"], clock.now())

    @consume(REPLAY_QUEUE)
    def replay_notification(self, body):
        """A replayed dead letter: the notification gets a new round of attempts."""
        notification_id = (body or {}).get("notification_id") if isinstance(body, dict) else None
        if notification_id:
            self.outbox.store.revive(str(notification_id), clock.now())

    @on_report_purged
    def forget_notified(self, purged):
        """Retention: the reporter's addresses and the texts sent to them are forgotten."""
        self.outbox.store.forget_reporter(purged.report_id)


def deliver(store: NotificationStore, entry: dict, attempts_limit: int) -> None:
    """Send one notification and record the outcome (runs in the outbox's own green thread)."""
    channel, attempt = entry["channel"], entry["attempts"] + 1
    try:
        if entry.get("message") is None:
            raise senders.SendFailed("the reporter's data was forgotten (retention)", permanent=True)
        senders.send(channel, entry["message"])
    except Exception as exc:  # noqa: BLE001 — whatever failed, the notification is tried again or dead
        failure = exc if isinstance(exc, senders.SendFailed) else senders.SendFailed(f"{type(exc).__name__}: {exc}",
                                                                                     permanent=False)
        NOTIFICATION_ATTEMPT_FAILURES.labels(channel).inc()
        dead = failure.permanent or attempt >= attempts_limit
        now = clock.now()
        store.failed(entry["_id"], failure.reason[:1000], now,
                     None if dead else now + timedelta(seconds=backoff_seconds(attempt)))
        log.warning("notification %s attempt %d failed%s: %s", entry["_id"], attempt, " (dead)" if dead else "",
                    failure.reason)
        if dead:
            NOTIFICATIONS.labels(channel, "failed").inc()
        return
    store.sent(entry["_id"], clock.now())
    NOTIFICATIONS.labels(channel, "delivered").inc()


def notified_decision(entry: dict, now, source: str) -> Decision:
    """The notification in the report's timeline: no state change, nothing patched, applied once per round."""
    return Decision(event_id=derived_id(source, entry["_id"], str(entry.get("round") or 1)),
                    report_id=entry["report_id"], occurred_at=now, pack=entry["pack"], kind="notified",
                    source=source, actor={"service": source},
                    detail={"channel": entry["channel"], "template": entry["template"], "to": entry["to_masked"],
                            "recipient": entry["recipient"], "status": entry["status"],
                            **({"error": entry["last_error"]} if entry["status"] == "dead" else {})})
