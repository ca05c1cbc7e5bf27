"""What every service does on the bus: react to intake's announcements, send decisions back, idempotently."""
from __future__ import annotations

import logging

from nameko.events import SERVICE_POOL, event_handler

from .events import DECISION, TRANSITIONED
from .schemas import Decision, Transitioned
from .web import MESSAGES_HANDLED

log = logging.getLogger(__name__)


def on_transition(method):
    """A durable, redelivered-on-error handler of intake's `transitioned` event, given a Transitioned model."""
    def handler(self, payload):
        announced = Transitioned.model_validate(payload)
        method(self, announced)
        MESSAGES_HANDLED.labels(self.name, announced.cause, "handled").inc()
    handler.__name__ = method.__name__
    handler.__doc__ = method.__doc__
    return event_handler("intake", TRANSITIONED, handler_type=SERVICE_POOL, reliable_delivery=True,
                         requeue_on_error=True)(handler)


def derived_id(source: str, cause_event_id: str, suffix: str = "") -> str:
    """The id of the decision a service takes because of an event: the same every time the event is redelivered."""
    return f"{source}:{cause_event_id}{':' + suffix if suffix else ''}"


def send(dispatch, decision: Decision) -> None:
    dispatch(DECISION, decision.model_dump(mode="json"))
