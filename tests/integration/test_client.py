"""paht.client, the pika-only client, against the real broker and the real services (issue 14, item 2)."""
from __future__ import annotations

import json
import queue
import time

import pika
import pytest

from paht.client import Client, RemoteError
from tests.integration.conftest import eventually
from tests.integration.test_walking_route import fresh_photo, good_report, lead

pytestmark = pytest.mark.integration


@pytest.fixture
def client(system):
    with Client(system.rabbit_config["AMQP_URI"], timeout=20) as client:
        yield client


def pika_parameters(system) -> pika.URLParameters:
    """The test vhost for plain pika (nameko's test config names the protocol pyamqp://, kombu's word)."""
    return pika.URLParameters(system.rabbit_config["AMQP_URI"].replace("pyamqp://", "amqp://", 1))


def next_event(events: queue.Queue, report_id: str, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        if view["id"] == report_id:
            return view


def test_a_pika_client_submits_reads_walks_and_hears_report_published(system, client):
    system.start()
    published: queue.Queue = queue.Queue()
    client.subscribe("report.published", published.put)
    client.start()

    answer = client.submit_report(good_report(), [fresh_photo(seed=31)])
    report_id = answer["id"]
    assert answer["state"] == "submitted" and answer["tracking_token"]
    view = client.get_report(report_id)
    assert view["id"] == report_id and "reporter" not in view
    view = eventually(lambda: (v := client.get_report(report_id))["state"] == "dispatched" and v,
                      what="dispatched")

    staff, leader = system.agency_tokens(view["pack"], lead(view))
    assert client.staff_action(staff, report_id, "acknowledge")["state"] == "in_progress"
    refused = pytest.raises(RemoteError, client.staff_action, staff, report_id, "submit_result",
                            {"result_text": "Đã vá ổ gà."})
    assert refused.value.code == "VALIDATION_FAILED" and refused.value.fields == {"media": "after photos required"}
    assert client.staff_action(staff, report_id, "submit_result", {"result_text": "Đã vá ổ gà."},
                               media=[fresh_photo(0, seed=32)])["state"] == "result_submitted"
    assert client.staff_action(leader, report_id, "approve")["id"] == report_id
    eventually(lambda: client.get_report(report_id)["state"] == "approved", what="approved")
    client.staff_action(system.tokens["operator"], report_id, "publish")

    event = next_event(published, report_id)
    assert event["state"] == "published" and "Đã vá ổ gà." in event["result"]["letter"]
    text = json.dumps(event, ensure_ascii=False)
    assert "reporter" not in event and "0905123456" not in text and answer["tracking_token"] not in text


def test_remote_errors_carry_code_message_and_fields(system, client):
    system.start("intake")
    with pytest.raises(RemoteError) as missing:
        client.get_report("PA-000000-00000000")
    assert missing.value.code == "NOT_FOUND" and missing.value.message == "Không tìm thấy phản ánh."
    assert missing.value.message_en == "Report not found."
    with pytest.raises(RemoteError) as invalid:
        client.submit_report(good_report(description=""))
    assert invalid.value.code == "VALIDATION_FAILED" and "report.description" in invalid.value.fields
    with pytest.raises(RemoteError) as unknown:
        client.call("no_such_method")
    assert unknown.value.code == "MethodNotFound"


def close_connections_named(rabbit_manager, name: str) -> int:
    def named():
        return [c["name"] for c in rabbit_manager.get_connections()
                if (c.get("client_properties") or {}).get("connection_name") == name]

    found = eventually(named, what=f"the broker listing connection {name}")
    for connection in found:
        rabbit_manager.delete_connection(connection)
    return len(found)


def test_the_client_reconnects_after_the_broker_closes_its_connections(system, client, rabbit_manager):
    system.start("intake")
    heard: queue.Queue = queue.Queue()
    client.subscribe("report.published", heard.put)
    client.start()
    report_id = client.submit_report(good_report(), [fresh_photo(seed=41)])["id"]
    assert client.get_report(report_id)["id"] == report_id

    assert close_connections_named(rabbit_manager, client.connection_name) == 2   # calls and events

    assert client.get_report(report_id)["id"] == report_id                      # a new connection for calls
    publisher = pika.BlockingConnection(pika_parameters(system))
    try:
        # the subscription is back once an event published now reaches it (its queue went with the connection)
        def delivered():
            publisher.channel().basic_publish("paht.public", "report.published",
                                              json.dumps({"id": "PA-000000-0000FFFF", "state": "published"}))
            try:
                return heard.get(timeout=0.5)
            except queue.Empty:
                return None
        assert eventually(delivered, what="an event after reconnecting")["id"] == "PA-000000-0000FFFF"
    finally:
        publisher.close()


def test_a_call_nobody_answers_times_out_and_one_nobody_takes_is_refused(system):
    with Client(system.rabbit_config["AMQP_URI"], timeout=1) as client:
        with pytest.raises(RemoteError) as unavailable:   # no gateway has ever declared its queue here
            client.get_report("PA-000000-00000000")
        assert unavailable.value.code == "SERVICE_UNAVAILABLE"

        connection = pika.BlockingConnection(pika_parameters(system))   # a gateway that is down: its queue stays
        channel = connection.channel()
        channel.exchange_declare("nameko-rpc", exchange_type="topic", durable=True)
        channel.queue_declare("rpc-gateway", durable=True)
        channel.queue_bind("rpc-gateway", "nameko-rpc", routing_key="gateway.*")
        connection.close()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            client.get_report("PA-000000-00000000")
        assert 0.9 <= time.monotonic() - started < 5
