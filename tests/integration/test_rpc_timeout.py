"""Nothing waits forever: a call to a service that does not answer ends at PAHT_RPC_TIMEOUT_SECONDS, and an HTTP
handler answers 503 SERVICE_UNAVAILABLE with Retry-After instead of holding its worker."""
from __future__ import annotations

import time

import eventlet
import pytest
import requests
from nameko.rpc import rpc
from nameko.web.handlers import http

from paht.rpc import RpcTimeout, TimedRpcProxy
from paht.web import guarded, json_response
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


class Stalled:
    name = "stalled"

    @rpc
    def answer(self, seconds):
        eventlet.sleep(seconds)
        return "late"


class Caller:
    name = "caller"
    stalled = TimedRpcProxy("stalled")

    @rpc
    def ask(self, seconds):
        try:
            return self.stalled.answer(seconds)
        except RpcTimeout as exc:
            return f"timeout: {exc}"

    @http("GET", "/ask/<int:seconds>")
    @guarded
    def ask_over_http(self, request, seconds):
        return json_response({"answer": self.stalled.answer(seconds)})


def test_a_stalled_callee_ends_in_a_timeout_and_a_503(container_factory, rabbit_config, monkeypatch):
    from nameko.standalone.rpc import ServiceRpcProxy

    monkeypatch.setenv("PAHT_RPC_TIMEOUT_SECONDS", "0.5")
    port = free_port()
    container_factory(Stalled, rabbit_config).start()
    container_factory(Caller, dict(rabbit_config, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")).start()
    with ServiceRpcProxy("caller", rabbit_config, timeout=10) as caller:
        assert caller.ask(0) == "late"
        started = time.monotonic()
        assert caller.ask(5).startswith("timeout: stalled.answer: no answer in 0.5 s")
        assert time.monotonic() - started < 3
    answer = requests.get(f"http://127.0.0.1:{port}/ask/5", timeout=10)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
