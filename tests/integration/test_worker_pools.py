"""Issue 21 item 4: HTTP requests stalled on a slow peer do not keep a service from its bus messages.

More requests than `max_workers` wait on an RPC that never answers in time; the same service's RPC method still
answers at once in PAHT's container (paht.containers), and only after the stalled requests time out in nameko's."""
from __future__ import annotations

import time

import eventlet
import pytest
import requests
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from paht.containers import CONTAINER_CLS
from paht.rpc import TimedRpcProxy
from paht.web import guarded, http, json_response
from tests.integration.conftest import eventually, free_port

pytestmark = pytest.mark.integration

TIMEOUT = 3.0          # PAHT_RPC_TIMEOUT_SECONDS: how long each stalled request waits
MAX_WORKERS, REQUESTS = 4, 12


class Downstream:
    name = "downstream"

    @rpc
    def stall(self):
        eventlet.sleep(60)   # far past TIMEOUT: every call to it times out


class Front:
    name = "front"
    downstream = TimedRpcProxy("downstream")

    @http("GET", "/stalled")
    @guarded
    def stalled(self, request):
        return json_response({"answer": self.downstream.stall()})

    @rpc
    def ping(self):
        return "pong"


def held(container) -> int:
    """The workers of `container` running or waiting for room, in every pool it has."""
    pools = {container._worker_pool, getattr(container, "_http_pool", container._worker_pool)}
    return sum(pool.running() + pool.waiting() for pool in pools)


def ping_under_http_load(container_factory, rabbit_config, monkeypatch, container_cls):
    """(stalled requests answered before the ping was, the ping's seconds, every HTTP answer, the front container)"""
    monkeypatch.setenv("PAHT_RPC_TIMEOUT_SECONDS", str(TIMEOUT))
    port = free_port()
    chosen = {"SERVICE_CONTAINER_CLS": container_cls} if container_cls else {}
    container_factory(Downstream, dict(rabbit_config, max_workers=REQUESTS + MAX_WORKERS)).start()
    front = container_factory(Front, dict(rabbit_config, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                                          max_workers=MAX_WORKERS, **chosen))
    front.start()
    answers = []

    def request():
        answers.append(requests.get(f"http://127.0.0.1:{port}/stalled", timeout=60))

    with ServiceRpcProxy("front", rabbit_config, timeout=60) as front_rpc:
        assert front_rpc.ping() == "pong"    # the client's reply queue exists before the clock runs
        clients = [eventlet.spawn(request) for _ in range(REQUESTS)]
        eventually(lambda: held(front) == REQUESTS, "every request at the front's workers", timeout=10)
        started = time.monotonic()
        assert front_rpc.ping() == "pong"
        elapsed, answered_before = time.monotonic() - started, len(answers)
        for client in clients:
            client.wait()
    return answered_before, elapsed, answers, front


def assert_all_unavailable(answers):
    assert len(answers) == REQUESTS
    for answer in answers:
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", answer.text
        assert answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_stalled_http_requests_leave_the_rpc_workers_free(container_factory, rabbit_config, monkeypatch):
    answered_before, elapsed, answers, front = ping_under_http_load(container_factory, rabbit_config, monkeypatch,
                                                                    CONTAINER_CLS)
    assert front._http_pool is not front._worker_pool
    assert answered_before == 0, "the ping waited for stalled HTTP requests"
    assert elapsed < TIMEOUT
    assert_all_unavailable(answers)


def test_in_the_stock_container_stalled_http_requests_hold_the_rpc(container_factory, rabbit_config, monkeypatch):
    """The converse, with nameko's one pool: this is the failure the test above would show."""
    answered_before, _elapsed, answers, _front = ping_under_http_load(container_factory, rabbit_config, monkeypatch,
                                                                      None)
    assert answered_before >= 1, "the ping answered while every worker was held by a stalled request"
    assert_all_unavailable(answers)
