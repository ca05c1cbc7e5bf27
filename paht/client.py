"""A client of PAHT's AMQP interfaces for systems that do not run nameko (pika only).

    client = Client("amqp://user:password@broker:5672/", timeout=10)
    answer = client.submit_report({"pack": …, "description": …}, media=[("a.jpg", data, "image/jpeg")])
    view = client.get_report(answer["id"])
    client.subscribe("report.published", lambda view: …)
    client.start()          # consume in a background thread (or client.run() in this one, until client.stop())

Calls are nameko RPC over plain AMQP: a request on the topic exchange `nameko-rpc` with routing key
`gateway.<method>`, the answer on the client's own exclusive reply queue, matched by correlation id. A refused call
raises `RemoteError` (the HTTP API's error code, message, fields); no answer within `timeout` raises
`TimeoutError`. The broker unreachable after `reconnect_attempts` tries raises `BrokerUnavailable`.

Reconnection: a dropped connection is opened again (with a growing pause) and the reply queue and every
subscription declared again. A call that was already sent when its connection dropped is sent again if that is
safe — reads, and submissions (each carries an idempotency key, made up when none is given, so the report is
stored once) —; a staff action is not (it may have been applied) and raises `ConnectionLost`.

Subscriptions consume on their own connection, in the thread running `run()` (or `start()`'s thread); callbacks
run there, one at a time, with the event's public view. A subscription's queue is exclusive to the client unless
`queue` names a durable one: events published while the client is disconnected are then kept for it.
RPC calls may be made from any thread (one at a time) and from within callbacks.
"""
from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pika
from pika.exceptions import (
    AMQPChannelError,
    AMQPConnectionError,
    NackError,
    UnroutableError,
)

from .errors import MESSAGES

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"
PUBLIC_EXCHANGE = "paht.public"
SERVICE = "gateway"
CONNECTION_ERRORS = (AMQPConnectionError, AMQPChannelError, ConnectionError, OSError)
MAX_PAUSE = 5.0


class RemoteError(Exception):
    """The service refused the call: `code` as the HTTP API's (NOT_FOUND, VALIDATION_FAILED, …; for a call nameko
    itself refused, its exception's name, e.g. MethodNotFound), `message` in Vietnamese, `fields` by argument."""

    def __init__(self, code: str, message: str = "", fields: dict | None = None, message_en: str = "",
                 detail: str = ""):
        super().__init__(f"{code}: {message_en or message}" + (f" ({detail})" if detail else ""))
        self.code, self.message, self.fields, self.message_en, self.detail = code, message, fields or {}, \
            message_en, detail


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached (after every reconnection attempt)."""


class ConnectionLost(ConnectionError):
    """The connection dropped after a call that must not be repeated was sent: it may or may not have happened."""


def remote_error(error: dict) -> RemoteError:
    """A nameko reply's `error` as a RemoteError: the gateway's refusals carry [code, message, message_en, fields,
    detail] as exc_args (services/gateway/rpc_schemas.RpcErrorArgs); nameko's own only a type and a text."""
    args = error.get("exc_args") or []
    if len(args) >= 4 and args[0] == error.get("exc_type") and isinstance(args[3], dict):
        return RemoteError(args[0], args[1], args[3], args[2], args[4] if len(args) > 4 else "")
    return RemoteError(str(error.get("exc_type") or "REMOTE_ERROR"), str(error.get("value") or ""))


def media_items(media: Iterable) -> list[dict]:
    """(filename, bytes, content_type) tuples or {"filename", "content_type", "data"} dicts → the RPC's items."""
    items = []
    for item in media:
        if isinstance(item, dict):
            filename, data, content_type = item.get("filename", ""), item["data"], item.get("content_type", "")
        else:
            filename, data, content_type = item
        items.append({"filename": filename, "content_type": content_type,
                      "data_b64": base64.b64encode(data).decode("ascii")})
    return items


def pauses(attempts: int, first: float = 0.2) -> list[float]:
    """The pause before each reconnection attempt: none before the first, then doubling up to MAX_PAUSE."""
    return [0.0] + [min(first * 2 ** n, MAX_PAUSE) for n in range(attempts - 1)]


@dataclass
class Subscription:
    pattern: str
    callback: Callable[[dict], None]
    queue: str | None = None   # a durable queue's name; None: an exclusive queue of this connection
    bound_to: str | None = None
    channel: object = field(default=None, repr=False, compare=False)   # the channel it is bound on


class _RpcLink:
    """One connection for calls: a channel with publisher confirms and an exclusive reply queue bound to
    `nameko-rpc` under a routing key of its own (nameko replies through that exchange)."""

    def __init__(self, connection):
        self.connection = connection
        self.channel = connection.channel()
        self.channel.confirm_delivery()
        self.channel.exchange_declare(RPC_EXCHANGE, exchange_type="topic", durable=True)
        self.reply_key = uuid.uuid4().hex
        queue = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.queue_bind(queue, RPC_EXCHANGE, routing_key=self.reply_key)
        self.replies: dict[str, dict] = {}
        self.waiting: set[str] = set()
        self.channel.basic_consume(queue, self.on_reply, auto_ack=True)

    def on_reply(self, _channel, _method, properties, body):
        if properties.correlation_id in self.waiting:   # a late answer to a call that timed out is dropped
            self.replies[properties.correlation_id] = json.loads(body)

    def check(self):
        """Raises now if the broker closed the connection while it was idle (its Close is read here), so a call
        knows its request has not been sent."""
        self.connection.process_data_events(time_limit=0)

    def send(self, routing_key: str, body: bytes, correlation_id: str):
        self.waiting.add(correlation_id)
        self.channel.basic_publish(RPC_EXCHANGE, routing_key, body, mandatory=True, properties=pika.BasicProperties(
            reply_to=self.reply_key, correlation_id=correlation_id, content_type="application/json",
            content_encoding="utf-8"))

    def wait(self, correlation_id: str, deadline: float, monotonic) -> dict | None:
        try:
            while correlation_id not in self.replies:
                remaining = deadline - monotonic()
                if remaining <= 0:
                    return None
                self.connection.process_data_events(time_limit=min(remaining, 1.0))
            return self.replies.pop(correlation_id)
        finally:
            self.waiting.discard(correlation_id)

    def close(self):
        if self.connection.is_open:
            self.connection.close()


class Client:
    """PAHT's AMQP API (the gateway's RPC methods and the public events) for a system without nameko."""

    def __init__(self, amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/", timeout: float = 10.0,
                 reconnect_attempts: int = 6, name: str = "paht.client", connect=None, sleep=time.sleep,
                 monotonic=time.monotonic):
        if amqp_uri.startswith("pyamqp://"):   # kombu's (and nameko's) name for the same protocol
            amqp_uri = "amqp://" + amqp_uri[len("pyamqp://"):]
        self.parameters = pika.URLParameters(amqp_uri)
        self.parameters.client_properties = {"connection_name": f"{name} {uuid.uuid4().hex[:12]}"}
        self.parameters.blocked_connection_timeout = timeout
        self.parameters.socket_timeout = min(timeout, 10.0)
        self.timeout = timeout
        self.reconnect_attempts = max(1, reconnect_attempts)
        self.connection_name = self.parameters.client_properties["connection_name"]
        self._connect = connect or pika.BlockingConnection
        self._sleep, self._monotonic = sleep, monotonic
        self._rpc: _RpcLink | None = None
        self._rpc_lock = threading.RLock()
        self._consumer = None                 # (connection, channel) of the subscriptions
        self._consumer_lock = threading.RLock()
        self._subscriptions: list[Subscription] = []
        self._running_in: int | None = None   # the thread inside run()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the RPC methods ------------------------------------------------------------------------------------
    def submit_report(self, report: dict, media: Iterable = (), idempotency_key: str | None = None) -> dict:
        """→ {"id", "state", "tracking_token"}. `media`: (filename, bytes, content_type) tuples."""
        key = idempotency_key or f"paht.client:{uuid.uuid4().hex}"   # a resent request then stores one report
        return self.call("submit_report", report=report, media=media_items(media), idempotency_key=key)

    def get_report(self, report_id: str) -> dict:
        """The public view; RemoteError NOT_FOUND when there is no such report."""
        return self.call("get_report", report_id=report_id)

    def list_reports(self, credential: str, cursor: str | None = None, **filter) -> dict:
        """The reports a staff credential may see, newest first: {"reports", "count", "next"}; filter by state,
        agency, category, ward, pack, limit (≤ 200); pass `next` as `cursor` for the following page."""
        return self.call("list_reports", credential=credential, filter=dict(filter, cursor=cursor))

    def staff_action(self, credential: str, report_id: str, action: str, body: dict | None = None,
                     media: Iterable = ()) -> dict:
        """A staff action as the credential's account → {"id", "state", "event_id"}; never sent twice."""
        return self.call("staff_action", credential=credential, report_id=report_id, action=action,
                         body=body or {}, media=media_items(media), resend=False)

    def call(self, method: str, *args, resend: bool = True, **kwargs):
        """gateway.<method>(*args, **kwargs). `resend`: whether the request may be sent again when its connection
        dropped after it was sent (the method is safe to repeat)."""
        body = json.dumps({"args": list(args), "kwargs": kwargs}, ensure_ascii=False).encode()
        correlation_id = uuid.uuid4().hex
        deadline = self._monotonic() + self.timeout
        with self._rpc_lock:
            while True:
                if self._monotonic() >= deadline:
                    raise TimeoutError(f"{SERVICE}.{method}: no working connection within {self.timeout} s")
                sent = False
                try:
                    link = self._rpc_link()
                    link.check()
                    sent = True
                    link.send(f"{SERVICE}.{method}", body, correlation_id)
                    reply = link.wait(correlation_id, deadline, self._monotonic)
                    break
                except (UnroutableError, NackError):   # no queue takes the gateway's calls: it never ran on this broker
                    link.waiting.discard(correlation_id)
                    _status, message, message_en = MESSAGES["SERVICE_UNAVAILABLE"]
                    raise RemoteError("SERVICE_UNAVAILABLE", message, message_en=message_en,
                                      detail=f"no {SERVICE} service takes calls on this broker") from None
                except BrokerUnavailable:
                    raise
                except CONNECTION_ERRORS as exc:
                    self._drop_rpc_link()
                    if sent and not resend:
                        raise ConnectionLost(f"{SERVICE}.{method} was sent but the connection dropped before its "
                                             f"answer: it may have been applied") from exc
                    log.warning("connection lost during %s.%s (%s); reconnecting", SERVICE, method, exc)
        if reply is None:
            raise TimeoutError(f"{SERVICE}.{method} did not answer within {self.timeout} s")
        if reply.get("error"):
            raise remote_error(reply["error"])
        return reply.get("result")

    def _rpc_link(self) -> _RpcLink:
        if self._rpc is None or not self._rpc.connection.is_open:
            self._rpc = _RpcLink(self._open())
        return self._rpc

    def _drop_rpc_link(self):
        link, self._rpc = self._rpc, None
        if link is not None:
            with contextlib.suppress(Exception):   # it is gone either way
                link.close()

    def _open(self):
        """A new connection, tried `reconnect_attempts` times with a growing pause."""
        last = None
        for pause in pauses(self.reconnect_attempts):
            if pause:
                self._sleep(pause)
            try:
                return self._connect(self.parameters)
            except CONNECTION_ERRORS as exc:
                last = exc
                log.warning("broker not reachable (%s)", exc)
        raise BrokerUnavailable(f"no connection to the broker after {self.reconnect_attempts} attempts: {last}")

    # ---- public events --------------------------------------------------------------------------------------
    def subscribe(self, pattern: str, callback: Callable[[dict], None], queue: str | None = None) -> Subscription:
        """Call `callback(view)` for each public event whose routing key matches `pattern` (e.g.
        "report.published", "report.*"). The queue is bound when this returns (unless the connection is down: then
        when it is back); events are delivered while `run()` runs."""
        subscription = Subscription(pattern, callback, queue)
        with self._consumer_lock:
            self._subscriptions.append(subscription)
            running_in = self._running_in
            if running_in is None or running_in == threading.get_ident():
                self._bind(self._consumer_channel(), subscription)
                return subscription
            done = threading.Event()
            try:
                self._consumer[0].add_callback_threadsafe(lambda: self._bind_then(subscription, done))
            except (TypeError, *CONNECTION_ERRORS):   # no connection now: run() binds every subscription on its next
                return subscription
        if not done.wait(self.timeout):
            raise TimeoutError(f"subscription to {pattern} not bound within {self.timeout} s")
        return subscription

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Deliver events to the subscriptions' callbacks until `stop()` (or `until()` is true), reconnecting
        when the connection drops."""
        self._stopping.clear()
        with self._consumer_lock:
            self._running_in = threading.get_ident()
        try:
            attempt = 0
            while not self._stopping.is_set() and not (until and until()):
                try:
                    with self._consumer_lock:
                        connection = self._consumer_channel().connection
                    connection.process_data_events(time_limit=0.2)
                    attempt = 0
                except CONNECTION_ERRORS as exc:
                    self._drop_consumer()
                    attempt += 1
                    log.warning("event connection lost (%s); reconnecting", exc)
                    self._stopping.wait(min(0.2 * 2 ** (attempt - 1), MAX_PAUSE))
        finally:
            with self._consumer_lock:
                self._running_in = None

    def start(self) -> None:
        """run() in a background (daemon) thread."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self.run, name=f"{self.connection_name} events", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End run() (waits for start()'s thread, unless called from it)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout)
            self._thread = None

    def close(self) -> None:
        self.stop()
        with self._rpc_lock:
            self._drop_rpc_link()
        with self._consumer_lock:
            self._drop_consumer()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _consumer_channel(self):
        """The subscriptions' channel, connecting (and binding every subscription) when there is none."""
        if self._consumer is None or not self._consumer[0].is_open:
            connection = self._open()
            channel = connection.channel()
            channel.basic_qos(prefetch_count=100)
            channel.exchange_declare(PUBLIC_EXCHANGE, exchange_type="topic", durable=True)
            self._consumer = (connection, channel)
            for subscription in self._subscriptions:
                self._bind(channel, subscription)
        return self._consumer[1]

    def _bind(self, channel, subscription: Subscription):
        if subscription.channel is channel:   # already (a reconnection binds every subscription)
            return
        if subscription.queue:
            queue = channel.queue_declare(subscription.queue, durable=True).method.queue
        else:
            queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, PUBLIC_EXCHANGE, routing_key=subscription.pattern)
        channel.basic_consume(queue, lambda ch, method, _props, body: self._deliver(subscription, ch, method, body))
        subscription.bound_to, subscription.channel = queue, channel

    def _bind_then(self, subscription: Subscription, done: threading.Event):
        try:
            self._bind(self._consumer[1], subscription)
        finally:
            done.set()

    @staticmethod
    def _deliver(subscription: Subscription, channel, method, body: bytes):
        try:
            subscription.callback(json.loads(body))
        except Exception:
            log.exception("callback for %s failed on %s", subscription.pattern, method.routing_key)
            channel.basic_nack(method.delivery_tag, requeue=False)
            return
        channel.basic_ack(method.delivery_tag)

    def _drop_consumer(self):
        consumer, self._consumer = self._consumer, None
        if consumer is not None and consumer[0].is_open:
            with contextlib.suppress(Exception):   # it is gone either way
                consumer[0].close()
