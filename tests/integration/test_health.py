"""Kubernetes' probes (issue 13): /healthz/live answers while the process runs; /healthz/ready answers 200 only
while the broker is reachable, every store takes a write (issue 20) and rule packs are present, else 503 naming the
failing check."""
from __future__ import annotations

import os
import sqlite3
import time

import eventlet
import pytest
import requests

from paht import readiness, web
from tests.integration.conftest import SERVICES

pytestmark = pytest.mark.integration


def base_url(system, name) -> str:
    return f"http://{system.containers[name].config['WEB_SERVER_ADDRESS']}"


def ready(system, name="intake"):
    return requests.get(f"{base_url(system, name)}/healthz/ready", timeout=10)


def test_every_service_is_live_and_ready(system):
    system.start()
    for name in SERVICES:
        live = requests.get(f"{base_url(system, name)}/healthz/live", timeout=10)
        assert live.status_code == 200 and live.json() == {"status": "alive", "service": name}
        answer = ready(system, name)
        assert answer.status_code == 200, (name, answer.text)
        body = answer.json()
        assert body["status"] == "ready" and body["service"] == name
        assert body["checks"]["broker"] == {"ok": True}
        written = body["checks"]["store"]["written"]
        assert name in written                                             # each service writes its own database
        assert ("media files" in written) == (name in ("gateway", "intake"))   # the door keeps uploads, the record
        # deletes what retention ends
        assert body["checks"]["store"].get("read", []) == (["media files"] if name == "verification" else [])
        assert body["checks"]["packs"]["ok"] and body["checks"]["packs"]["packs"] >= 5
        old = requests.get(f"{base_url(system, name)}/healthz", timeout=10)  # unchanged
        assert old.status_code == 200 and old.json()["status"] == "ok"


def test_not_ready_without_rule_packs(system, monkeypatch, tmp_path):
    system.start("routing")
    original = os.environ.get("PAHT_RULES_DIR")
    empty = tmp_path / "no-rules"
    empty.mkdir()
    monkeypatch.setenv("PAHT_RULES_DIR", str(empty))
    answer = ready(system, "routing")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready" and body["failing"] == ["packs"]
    assert body["checks"]["packs"] == {"ok": False, "error": "RuntimeError: no rule packs found"}
    assert body["checks"]["broker"]["ok"] and body["checks"]["store"]["ok"]
    assert requests.get(f"{base_url(system, 'routing')}/healthz/live", timeout=10).status_code == 200
    if original is None:
        monkeypatch.delenv("PAHT_RULES_DIR")
    else:
        monkeypatch.setenv("PAHT_RULES_DIR", original)
    assert ready(system, "routing").status_code == 200


def test_not_ready_while_the_broker_is_unreachable(system, monkeypatch):
    system.start("intake")
    config = system.containers["intake"].config
    good = config["AMQP_URI"]
    config["AMQP_URI"] = "amqp://guest:guest@127.0.0.1:1/"     # what the check dials; the running consumers stay up
    try:
        answer = ready(system)
        monkeypatch.setenv("PAHT_READY_CHECKS", "store,packs")   # intake's Deployment: its outbox rides it out
        narrowed = ready(system)
        monkeypatch.delenv("PAHT_READY_CHECKS")
    finally:
        config["AMQP_URI"] = good
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["status"] == "ready" and not narrowed.json()["checks"]["broker"]["ok"]
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["broker"]
    assert answer.json()["checks"]["broker"]["error"].startswith("OperationalError")   # refused
    assert ready(system).status_code == 200


def test_not_ready_while_the_store_fails_and_a_hanging_check_is_cut_short(system, monkeypatch):
    system.start("sla")
    original = readiness._write_database

    def broken(database, document_id, seconds):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(readiness, "_write_database", broken)
    answer = ready(system, "sla")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["store"]
    assert answer.json()["checks"]["store"] == {"ok": False,
                                                "error": "StoreNotReady: sla: OperationalError: disk I/O error"}

    monkeypatch.setattr(readiness, "_write_database", lambda *args: eventlet.sleep(60))   # a store that never answers
    started = time.monotonic()
    answer = ready(system, "sla")
    assert time.monotonic() - started < web.HEALTH_CHECK_SECONDS + 3
    assert answer.status_code == 503 and answer.json()["checks"]["store"] == {"ok": False, "error": "timed out"}

    monkeypatch.setattr(readiness, "_write_database", original)
    assert ready(system, "sla").status_code == 200


def test_the_store_probe_reaches_mongodb_databases():
    """The same probe against MongoDB: an upsert in `_readiness` (here a server that is not there)."""
    from pymongo import MongoClient

    client = MongoClient("mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=200, connect=False)
    try:
        class Store:
            def __init__(self, db):
                self.reports = db["reports"]

        target = readiness.target_of(Store(client["paht_intake"]), writes=True)
        assert (target.name, target.writes) == ("paht_intake", True)
        with pytest.raises(readiness.StoreNotReady, match="^paht_intake: .*127.0.0.1:1"):
            readiness.probe(target, "intake", seconds=1)
    finally:
        client.close()
