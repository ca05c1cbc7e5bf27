"""Public events for other systems: each state a report reaches, as its public view, on the topic exchange
`paht.public` (durable) with routing key `report.<state>`. Never the reporter's data or the tracking token: the
body is exactly what `GET /api/v1/reports/{id}` shows anyone (services/intake/reports.py `public_view`)."""
from __future__ import annotations

from kombu import Exchange
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    PERSISTENT,
)
from nameko.extensions import DependencyProvider

from paht.events import jsonable

from .views import public_view

EXCHANGE = Exchange("paht.public", type="topic", durable=True)


def routing_key(state: str) -> str:
    return f"report.{state}"


class PublicEventPublisher:
    """What a worker holds: publishes through the provider's publisher (kombu's pooled, confirmed connections)."""

    def __init__(self, publisher: Publisher):
        self.publisher = publisher

    def publish(self, report: dict, event_id: str | None = None) -> None:
        """The stored report after a state change, as its public view; `event_id` (the announcement's) becomes the
        message id, so a resent announcement is recognisable. Raises when the broker did not confirm it."""
        view = jsonable(public_view(report))
        key = routing_key(view["state"])
        self.publisher.publish(view, routing_key=key, type=key, message_id=event_id)


class PublicEvents(DependencyProvider):
    """nameko dependency: `self.public_events.publish(report, event_id)`; persistent JSON messages, published with
    confirms (an unconfirmed one raises, and the outbox tries the announcement again)."""

    def setup(self):
        config = self.container.config
        self.publisher = Publisher(config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY),
                                   login_method=config.get(LOGIN_METHOD_CONFIG_KEY), use_confirms=True,
                                   delivery_mode=PERSISTENT, serializer="json", declare=[EXCHANGE],
                                   exchange=EXCHANGE, app_id="paht.intake")

    def get_dependency(self, worker_ctx):
        return PublicEventPublisher(self.publisher)
