"""Messages no handler could take: parked in one queue with the error, kept by intake, replayed or dropped by an
operator (`paht dlq`, `/api/v1/staff/dead-letters`).

Two ways in: a handler that failed `settings.delivery_limit()` times publishes the message here with its error;
a message whose worker died every time (no error to tell) is dead-lettered by the broker itself, because every
durable handler's queue is a quorum queue with `x-delivery-limit`.
"""
from __future__ import annotations

import hashlib
import json
import traceback
from datetime import datetime
from typing import Any, Literal

from kombu import Connection, Exchange, Queue
from prometheus_client import Counter
from pydantic import BaseModel, Field

EXCHANGE = Exchange("paht.dead-letters", type="fanout", durable=True)
QUEUE = Queue("paht.dead-letters", exchange=EXCHANGE, durable=True)
PARKED = Counter("paht_dead_letters_total", "Messages parked as dead letters", ["service", "queue"])
OWN_HEADER = "x-paht-dead-letter"


def quorum_arguments(limit: int) -> dict:
    """A durable handler's queue: the broker counts deliveries, crashes included, and parks past the limit."""
    return {"x-queue-type": "quorum", "x-delivery-limit": limit, "x-dead-letter-exchange": EXCHANGE.name}


def park(amqp_uri: str, message, queue: str, service: str, handler: str, exc_info, attempts: int,
         now: datetime) -> None:
    """Publish a failed message with its error to the dead-letter queue (confirmed before the caller acks it)."""
    error_type, error, trace = exc_info
    letter = {
        "queue": queue,
        "exchange": message.delivery_info.get("exchange"), "routing_key": message.delivery_info.get("routing_key"),
        "service": service, "handler": handler, "attempts": attempts, "at": now.isoformat(),
        "error": {"type": error_type.__name__, "message": str(error)[:2000],
                  "traceback": "".join(traceback.format_exception(error_type, error, trace))[-8000:]},
        "headers": _nameko_headers(message.headers), "body": message.payload,
    }
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(letter, exchange=EXCHANGE, routing_key="", declare=[QUEUE], serializer="json",
                                      headers={OWN_HEADER: True}, delivery_mode=2, retry=True,
                                      retry_policy={"max_retries": 3})
    PARKED.labels(service, queue).inc()


def _nameko_headers(headers: dict | None) -> dict:
    return {k: v for k, v in (headers or {}).items() if not k.startswith("x-")}


def letter_from_message(body, headers: dict | None, now: datetime) -> dict:
    """A dead letter as intake stores it, from ours (with the error) or from the broker's (x-death only)."""
    headers = headers or {}
    if headers.get(OWN_HEADER):
        letter = dict(body)
    else:
        death = (headers.get("x-death") or [{}])[0]
        letter = {"queue": death.get("queue"), "exchange": death.get("exchange"),
                  "routing_key": (death.get("routing-keys") or [None])[0], "service": None, "handler": None,
                  "attempts": death.get("count"), "at": now.isoformat(),
                  "error": {"type": "DeliveryLimit", "message": f"the handler never finished ({death.get('reason')}): "
                            "its worker died or was stopped on every delivery", "traceback": ""},
                  "headers": _nameko_headers(headers), "body": body}
    body_of = letter.get("body")
    letter["report_id"] = body_of.get("report_id") if isinstance(body_of, dict) else None
    identity = json.dumps([letter.get("queue"), body_of, letter.get("attempts"), letter.get("at")], sort_keys=True,
                          default=str)
    letter["_id"] = "dl-" + hashlib.sha256(identity.encode()).hexdigest()[:24]
    return letter


def replay(amqp_uri: str, letter: dict) -> None:
    """Send the original message straight to the queue it failed in, as new (its delivery count starts over)."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(letter["body"], exchange="", routing_key=letter["queue"], serializer="json",
                                      headers=letter.get("headers") or {}, delivery_mode=2, retry=True,
                                      retry_policy={"max_retries": 3})


class DeadLetterError(BaseModel):
    type: str
    message: str
    traceback: str | None = None


class DeadLetter(BaseModel):
    """A message that kept failing, kept by intake until it is replayed or dropped."""

    id: str = Field(alias="_id")
    status: Literal["open", "replayed", "dropped"]
    queue: str | None
    report_id: str | None
    attempts: int | None
    error: DeadLetterError
    body: Any
    headers: dict[str, Any] | None = None
