"""What every service does on the bus: react to intake's announcements, send decisions back, idempotently, and
park what keeps failing instead of retrying it forever."""
from __future__ import annotations

import logging
from functools import partial

import eventlet
from amqp.exceptions import AMQPError
from kombu import Queue, binding
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import SERVICE_POOL, EventHandler
from nameko.messaging import Consumer

from . import clock, deadletters, flow, settings
from .events import DECISION, REPORT_PURGED, TRANSITIONED
from .metrics import DECISIONS_SENT
from .schemas import Decision, ReportPurged, Transitioned
from .web import MESSAGES_HANDLED

log = logging.getLogger(__name__)


class ReliableEventHandler(EventHandler):
    """A durable, pooled event handler whose queue is a quorum queue. A message that fails is tried again after a
    growing pause, at most `settings.delivery_limit()` times in all; then it is parked with its error as a dead
    letter and acknowledged. The broker's own delivery limit catches messages whose worker dies every time."""

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL, reliable_delivery=True,
                         requeue_on_error=True, **kwargs)

    def routing_keys(self) -> tuple[str, ...]:
        return (self.event_type,)

    def setup(self):
        super().setup()
        queue, keys = self.queue, self.routing_keys()
        self.queue = Queue(queue.name, exchange=queue.exchange, routing_key=keys[0], durable=True,
                           bindings=[binding(queue.exchange, routing_key=key) for key in keys],
                           queue_arguments=deadletters.quorum_arguments(settings.delivery_limit()))

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            settle(self.queue_consumer.ack_message, message)
            return
        attempt = int((message.headers or {}).get("x-delivery-count") or 0) + 1
        if attempt < settings.delivery_limit():
            eventlet.sleep(min(settings.retry_backoff_seconds() * 2 ** (attempt - 1), 10))
            settle(self.queue_consumer.requeue_message, message)
            return
        try:
            deadletters.park(self.container.config[AMQP_URI_CONFIG_KEY], message, self.queue.name,
                             self.container.service_name, self.method_name, exc_info, attempt, clock.now())
        except Exception:  # noqa: BLE001 — not parked: leave it to the broker's delivery limit
            log.exception("could not park a dead letter from %s", self.queue.name)
            settle(self.queue_consumer.requeue_message, message)
            return
        log.error("parked a message of %s after %d attempts: %s", self.queue.name, attempt, exc_info[1])
        settle(self.queue_consumer.ack_message, message)


reliable_event_handler = ReliableEventHandler.decorator


class TransitionHandler(ReliableEventHandler):
    """A handler of intake's announcements, bound only to the routing keys paht.flow.SUBSCRIPTIONS gives it (its
    queue keeps nameko's name for `transitioned` handlers)."""

    def __init__(self, **kwargs):
        super().__init__("intake", TRANSITIONED, **kwargs)

    def routing_keys(self) -> tuple[str, ...]:
        return flow.subscription(self.container.service_name, self.method_name)


def settle(settle_message, message) -> None:
    """Ack or requeue, unless the connection died under us: the broker then redelivers the unacknowledged
    message after the consumer reconnects (handlers are idempotent), and the container must not die of it."""
    try:
        settle_message(message)
    except (OSError, AMQPError) as exc:
        log.warning("message not settled, the broker will redeliver it: %s", exc)


class DeadLetterConsumer(Consumer):
    """Intake's consumer of the dead-letter queue: the handler gets the body and the headers (who parked it, the
    broker's x-death). Failing to keep a letter means the store is down: wait, then try again."""

    def __init__(self, **kwargs):
        super().__init__(queue=deadletters.QUEUE, requeue_on_error=True, **kwargs)

    def handle_message(self, body, message):
        self.container.spawn_worker(self, (body, dict(message.headers or {})), {},
                                    handle_result=partial(self.handle_result, message))

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            eventlet.sleep(1)
        settle(partial(super().handle_message_processed, result=result, exc_info=exc_info), message)


dead_letter_consumer = DeadLetterConsumer.decorator


def _handler_of(entrypoint, model, kind):
    """A durable handler of one of intake's events, given its pydantic model; redelivery must be harmless."""
    def decorate(method):
        def handler(self, payload):
            event = model.model_validate(payload)
            method(self, event)
            MESSAGES_HANDLED.labels(self.name, kind(event), "handled").inc()
        handler.__name__ = method.__name__
        handler.__doc__ = method.__doc__
        return entrypoint(handler)
    return decorate


on_transition = _handler_of(TransitionHandler.decorator, Transitioned, lambda announced: announced.cause)
on_report_purged = _handler_of(reliable_event_handler("intake", REPORT_PURGED), ReportPurged,
                               lambda _: REPORT_PURGED)


def derived_id(source: str, cause_event_id: str, suffix: str = "") -> str:
    """The id of the decision a service takes because of an event: the same every time the event is redelivered."""
    return f"{source}:{cause_event_id}{':' + suffix if suffix else ''}"


def send(dispatch, decision: Decision) -> None:
    dispatch(DECISION, decision.model_dump(mode="json"))
    DECISIONS_SENT.labels(decision.source, decision.kind).inc()


def send_all(dispatch, decisions: list[dict]) -> None:
    """Decisions (as `Decision.model_dump(mode="json")` gives them) in one message (`{"batch": [...]}`): intake
    applies them in order, each report's with one write."""
    if len(decisions) == 1:
        dispatch(DECISION, decisions[0])
    elif decisions:
        dispatch(DECISION, {"batch": decisions})
    for decision in decisions:   # counted once the broker confirmed the message (nameko publishes with confirms)
        DECISIONS_SENT.labels(decision["source"], decision["kind"]).inc()
