"""Issue 21 item 4: HTTP workers and a service's other workers never share a pool one can exhaust for the other."""
from __future__ import annotations

import eventlet
import pytest
from eventlet.event import Event
from nameko.containers import ServiceContainer, get_container_cls
from nameko.extensions import Entrypoint

from paht import runner, serve, settings
from paht.containers import CONTAINER_CLS, PahtContainer
from paht.web import http


class Message(Entrypoint):
    """Stands for every entrypoint that is not HTTP (RPC, event handlers, timers) without needing a broker."""


class PoolsService:
    name = "pools"

    @http("GET", "/page")
    def page(self, gate):
        gate.wait()
        return "page"

    @Message.decorator
    def on_message(self, gate):
        gate.wait()
        return "message"


CONFIG = {"max_workers": 2, "WEB_SERVER_ADDRESS": "127.0.0.1:0"}


@pytest.fixture
def make(monkeypatch):
    monkeypatch.setenv("PAHT_HTTP_WORKERS", "3")
    made = []

    def make(cls=PahtContainer):
        container = cls(PoolsService, dict(CONFIG))
        made.append(container)
        return container

    yield make
    for container in made:
        container.kill()


def entrypoint(container, method_name):
    return next(e for e in container.entrypoints if e.method_name == method_name)


def spawn(container, method_name, gate, finished: list):
    """Spawn a worker as its entrypoint would, from a thread of its own (a full pool blocks the spawner)."""
    def record(worker_ctx, result, exc_info):
        finished.append(method_name)
        return result, exc_info
    return eventlet.spawn(container.spawn_worker, entrypoint(container, method_name), (gate,), {},
                          handle_result=record)


def settle():
    eventlet.sleep(0.05)   # lets every runnable green thread run up to where it waits


def test_http_entrypoints_spawn_into_their_own_pool(make):
    container = make()
    assert container._http_pool is not container._worker_pool
    assert (container._http_pool.size, container._worker_pool.size) == (3, 2)
    assert container.pool_for(entrypoint(container, "page")) is container._http_pool
    assert container.pool_for(entrypoint(container, "on_message")) is container._worker_pool


def test_a_full_http_pool_leaves_the_message_workers_free(make):
    container, http_gate, message_gate, finished = make(), Event(), Event(), []
    spawners = [spawn(container, "page", http_gate, finished) for _ in range(5)]   # more than both pools hold
    settle()
    assert container._http_pool.free() == 0 and sum(not s.dead for s in spawners) == 2   # two wait for room
    spawn(container, "on_message", message_gate, finished).wait()   # not blocked by the HTTP workers
    message_gate.send()
    settle()
    assert finished == ["on_message"]
    http_gate.send()
    settle()
    assert finished.count("page") == 5


def test_the_stock_container_lets_http_workers_block_the_others(make):
    """The converse: the failure the separate pool prevents (this is what the integration test would see)."""
    container, http_gate, message_gate, finished = make(ServiceContainer), Event(), Event(), []
    for _ in range(2):
        spawn(container, "page", http_gate, finished)
    message_spawner = spawn(container, "on_message", message_gate, finished)
    settle()
    assert not message_spawner.dead     # still waiting for a worker the HTTP requests hold
    http_gate.send()
    message_gate.send()
    settle()
    assert message_spawner.dead and sorted(finished) == ["on_message", "page", "page"]


def test_stop_waits_for_the_workers_of_both_pools(make):
    container, http_gate, message_gate, finished = make(), Event(), Event(), []
    container.start()
    spawn(container, "page", http_gate, finished)
    spawn(container, "on_message", message_gate, finished)
    settle()
    stopping = eventlet.spawn(container.stop)
    settle()
    message_gate.send()
    settle()
    assert not stopping.dead and finished == ["on_message"]    # the HTTP worker still runs
    http_gate.send()
    stopping.wait()
    assert sorted(finished) == ["on_message", "page"]


def test_kill_kills_the_workers_of_both_pools(make):
    container, gate, finished = make(), Event(), []
    container.start()
    spawn(container, "page", gate, finished)
    spawn(container, "on_message", gate, finished)
    settle()
    assert len(container._worker_threads) == 2
    container.kill()
    settle()
    assert container._worker_threads == {} and finished == []
    assert container._http_pool.running() == container._worker_pool.running() == 0


def test_the_http_pool_size_is_a_checked_setting(monkeypatch):
    monkeypatch.delenv("PAHT_HTTP_WORKERS", raising=False)
    assert settings.http_workers() == 64
    monkeypatch.setenv("PAHT_HTTP_WORKERS", "0")
    assert any("PAHT_HTTP_WORKERS='0' is out of range" in problem for problem in settings.setting_problems())
    with pytest.raises(settings.SettingInvalid, match="PAHT_HTTP_WORKERS"):
        PahtContainer(PoolsService, dict(CONFIG))


def test_every_way_services_run_picks_this_container():
    assert get_container_cls(serve.with_paht_container({"max_workers": 10})) is PahtContainer
    assert serve.with_paht_container({"SERVICE_CONTAINER_CLS": "x.Y"})["SERVICE_CONTAINER_CLS"] == "x.Y"
    assert get_container_cls({"SERVICE_CONTAINER_CLS": CONTAINER_CLS}) is PahtContainer
    assert runner.service_command("sla")[1:5] == ["-m", "paht.cli", "run", "--config"]
