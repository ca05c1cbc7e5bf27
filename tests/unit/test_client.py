"""paht.client's own logic with a stand-in broker: error mapping, media encoding, reconnection and when a call is
sent again. (The real broker: tests/integration/test_client.py.)"""
from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest
from pika.exceptions import AMQPConnectionError, StreamLostError

from paht.client import (
    BrokerUnavailable,
    Client,
    ConnectionLost,
    RemoteError,
    media_items,
    pauses,
    remote_error,
)


class FakeBroker:
    """Answers every request (`answers` by routing key, else {"ok": true}); `fail_publish`: exceptions the next
    publishes raise; `drop_after_sending`: how many of the next requests lose their connection before the answer."""

    def __init__(self, refuse_connections=0):
        self.refuse_connections = refuse_connections
        self.connections: list[FakeConnection] = []
        self.published: list[tuple[str, dict]] = []
        self.fail_publish: list[Exception] = []
        self.drop_after_sending = 0
        self.answers: dict[str, dict] = {}
        self.consumed: list[str] = []

    def connect(self, _parameters):
        if self.refuse_connections:
            self.refuse_connections -= 1
            raise AMQPConnectionError("refused")
        self.connections.append(FakeConnection(self))
        return self.connections[-1]


class FakeConnection:
    def __init__(self, broker):
        self.broker, self.is_open, self.dropped = broker, True, False
        self.pending, self.on_reply = [], None

    def channel(self):
        return FakeChannel(self)

    def process_data_events(self, time_limit=0):
        if self.dropped:
            raise StreamLostError("connection reset by peer")
        while self.pending:
            correlation_id, routing_key = self.pending.pop(0)
            answer = self.broker.answers.get(routing_key, {"result": {"ok": True}, "error": None})
            self.on_reply(None, None, SimpleNamespace(correlation_id=correlation_id), json.dumps(answer).encode())

    def close(self):
        self.is_open = False


class FakeChannel:
    def __init__(self, connection):
        self.connection = connection

    def confirm_delivery(self):
        pass

    def exchange_declare(self, *args, **kwargs):
        pass

    def queue_declare(self, name, **kwargs):
        self.connection.broker.declared = getattr(self.connection.broker, "declared", 0) + 1
        return SimpleNamespace(method=SimpleNamespace(queue=name or f"amq.gen-{self.connection.broker.declared}"))

    def queue_bind(self, *args, **kwargs):
        pass

    def basic_qos(self, prefetch_count=0):
        pass

    def basic_consume(self, queue, callback, auto_ack=False):
        self.connection.on_reply = callback
        self.connection.broker.consumed.append(queue)

    def basic_publish(self, exchange, routing_key, body, mandatory=False, properties=None):
        broker = self.connection.broker
        if broker.fail_publish:
            raise broker.fail_publish.pop(0)
        broker.published.append((routing_key, json.loads(body)))
        if broker.drop_after_sending:
            broker.drop_after_sending -= 1
            self.connection.dropped = True
        else:
            self.connection.pending.append((properties.correlation_id, routing_key))


def client_of(broker, **options) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client("amqp://guest:guest@broker:5672/", connect=broker.connect, sleep=slept.append,
                    monotonic=lambda: 0.0, **options)
    return client, slept


def test_the_gateways_refusals_keep_their_code_message_and_fields():
    error = remote_error({"exc_type": "VALIDATION_FAILED", "value": "…",
                          "exc_args": ["VALIDATION_FAILED", "Thông tin chưa hợp lệ", "Some fields are invalid",
                                       {"report.description": "Field required"}, ""]})
    assert (error.code, error.message, error.message_en, error.fields) == \
        ("VALIDATION_FAILED", "Thông tin chưa hợp lệ", "Some fields are invalid", {"report.description": "Field required"})


def test_namekos_own_refusals_are_named_by_their_type():
    error = remote_error({"exc_type": "MethodNotFound", "value": "no_such_method", "exc_args": ["no_such_method"]})
    assert (error.code, error.message, error.fields) == ("MethodNotFound", "no_such_method", {})


def test_media_is_sent_as_base64_items():
    items = media_items([("a.jpg", b"\xff\xd8\xff", "image/jpeg"), {"filename": "b.mp3", "data": b"ID3"}])
    assert items == [{"filename": "a.jpg", "content_type": "image/jpeg", "data_b64": base64.b64encode(b"\xff\xd8\xff").decode()},
                     {"filename": "b.mp3", "content_type": "", "data_b64": "SUQz"}]


def test_reconnection_pauses_grow_and_are_capped():
    assert pauses(1) == [0.0]
    assert pauses(8) == [0.0, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_an_unreachable_broker_is_tried_again_then_given_up():
    client, slept = client_of(FakeBroker(refuse_connections=2), reconnect_attempts=4)
    assert client.get_report("PA-1") == {"ok": True}
    assert slept == [0.2, 0.4]
    client, slept = client_of(FakeBroker(refuse_connections=10), reconnect_attempts=3)
    with pytest.raises(BrokerUnavailable):
        client.get_report("PA-1")
    assert slept == [0.2, 0.4]


def test_a_request_is_sent_as_a_nameko_call_with_an_idempotency_key():
    broker = FakeBroker()
    client, _ = client_of(broker)
    client.submit_report({"pack": "p"}, [("a.jpg", b"x", "image/jpeg")])
    routing_key, body = broker.published[0]
    assert routing_key == "gateway.submit_report" and body["args"] == []
    assert body["kwargs"]["report"] == {"pack": "p"} and body["kwargs"]["media"][0]["data_b64"] == "eA=="
    assert body["kwargs"]["idempotency_key"].startswith("paht.client:")


def test_a_read_lost_with_its_connection_is_sent_again_on_a_new_one():
    broker = FakeBroker()
    client, _ = client_of(broker)
    broker.drop_after_sending = 1
    assert client.get_report("PA-1") == {"ok": True}
    assert len(broker.connections) == 2 and [key for key, _ in broker.published] == ["gateway.get_report"] * 2


def test_a_submission_sent_again_keeps_its_idempotency_key():
    broker = FakeBroker()
    client, _ = client_of(broker)
    broker.drop_after_sending = 1
    client.submit_report({"pack": "p"})
    first, second = (body["kwargs"]["idempotency_key"] for _, body in broker.published)
    assert first == second


def test_a_staff_action_lost_after_sending_is_not_sent_again():
    broker = FakeBroker()
    client, _ = client_of(broker)
    broker.drop_after_sending = 1
    with pytest.raises(ConnectionLost):
        client.staff_action("token", "PA-1", "acknowledge")
    assert [key for key, _ in broker.published] == ["gateway.staff_action"] and len(broker.connections) == 1
    broker.fail_publish.append(StreamLostError("reset"))      # lost while publishing: it may have arrived
    with pytest.raises(ConnectionLost):
        client.staff_action("token", "PA-1", "acknowledge")


def test_a_connection_dropped_while_idle_is_replaced_before_a_staff_action_is_sent():
    broker = FakeBroker()
    client, _ = client_of(broker)
    client.get_report("PA-1")
    broker.connections[0].dropped = True                       # the broker closed it meanwhile
    assert client.staff_action("token", "PA-1", "acknowledge") == {"ok": True}
    assert [key for key, _ in broker.published] == ["gateway.get_report", "gateway.staff_action"]
    assert len(broker.connections) == 2


def test_an_answer_to_a_call_not_waited_for_is_dropped():
    broker = FakeBroker()
    client, _ = client_of(broker)
    client.get_report("PA-1")
    connection = broker.connections[0]
    connection.pending.append(("someone-elses-call", "gateway.get_report"))
    connection.process_data_events()
    assert client._rpc.replies == {}


def test_a_refusal_raises_remote_error():
    broker = FakeBroker()
    client, _ = client_of(broker)
    broker.answers["gateway.get_report"] = {"result": None, "error": {
        "exc_type": "NOT_FOUND", "value": "", "exc_args": ["NOT_FOUND", "Không tìm thấy phản ánh.", "Report not found.",
                                                         {}, ""]}}
    with pytest.raises(RemoteError) as refused:
        client.get_report("PA-2")
    assert refused.value.code == "NOT_FOUND" and refused.value.message == "Không tìm thấy phản ánh."


def test_each_subscription_is_consumed_once_and_again_after_a_reconnection():
    broker = FakeBroker()
    client, _ = client_of(broker)
    first = client.subscribe("report.published", print)
    client.subscribe("report.*", print, queue="our-system.reports")
    assert broker.consumed == [first.bound_to, "our-system.reports"]
    broker.connections[0].is_open = False                     # the connection went away
    client._consumer_channel()
    assert broker.consumed[2:] == [first.bound_to, "our-system.reports"] != broker.consumed[:2]
    assert len(broker.connections) == 2
