"""Readiness asks every store to take a write (issue 20): a store that answers but refuses writes makes the service
unready, naming the check and the store; the embedded store and MongoDB alike, media included; still bounded in time."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import eventlet
import pytest
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from paht import embedded, readiness, web
from paht.mediastore import MediaFiles, MediaStore


class Store:
    """A service's store as the dependencies hold one: collections as attributes."""

    def __init__(self, database, collection="reports"):
        self.kept = database[collection]


def dependency(store, read_only=False):
    return SimpleNamespace(store=store, read_only=read_only)


def ready(dependencies, service="intake"):
    """GET /healthz/ready of a service whose container holds these dependencies (only the store check counts)."""
    checks = web.HealthChecks()
    checks.container = SimpleNamespace(dependencies=dependencies, service_name=service,
                                       config={"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    answer = web.Observable.healthz_ready(SimpleNamespace(name=service, health_checks=checks), request=None)
    return answer.status_code, json.loads(answer.get_data())


@pytest.fixture(autouse=True)
def only_the_store_counts(monkeypatch):
    monkeypatch.setenv("PAHT_READY_CHECKS", "store")


@pytest.fixture
def mongodb():
    client = MongoClient("mongodb://127.0.0.1:1/", connect=False, serverSelectionTimeoutMS=200)
    yield client
    client.close()


def test_a_store_that_takes_writes_is_ready_and_keeps_one_probe_document_per_pod(tmp_path):
    database = embedded.Database(tmp_path / "intake.sqlite3")
    media = MediaStore(tmp_path / "media")
    status, body = ready([dependency(Store(database)), dependency(media)])
    assert status == 200, body
    assert body["checks"]["store"] == {"ok": True, "written": ["intake", "media files"]}
    (probe,) = database[readiness.PROBE_COLLECTION].find({})
    assert probe["_id"] == readiness.probe_id("intake") and probe["checked_at"]
    assert (tmp_path / "media" / readiness.PROBE_FOLDER / readiness.probe_id("intake")).is_file()
    assert ready([dependency(Store(database))])[0] == 200
    assert database[readiness.PROBE_COLLECTION].count_documents({}) == 1


def test_an_embedded_store_that_answers_but_refuses_writes_is_not_ready(tmp_path):
    database = embedded.Database(tmp_path / "sla.sqlite3")
    store = Store(database)
    database.conn.execute("PRAGMA query_only = 1")           # reads still answer, as a ping would
    database.conn.execute("SELECT 1").fetchone()
    status, body = ready([dependency(store)], service="sla")
    assert status == 503
    assert body["failing"] == ["store"]
    assert body["checks"]["store"]["ok"] is False
    assert body["checks"]["store"]["error"].startswith("StoreNotReady: sla: OperationalError: attempt to write a "
                                                       "readonly database")


def test_a_mongodb_database_without_the_write_role_is_not_ready(mongodb, monkeypatch):
    """Production's bug: the user had no role on paht_media; `ping` answered, every upload failed."""
    monkeypatch.setattr(Database, "command", lambda self, *a, **k: {"ok": 1.0})          # ping answers
    written = []

    def update_one(self, filter, update, upsert=False):
        if self.database.name == "paht_media":
            raise OperationFailure("not authorized on paht_media to execute command { update: \"_readiness\" }",
                                   code=13)
        written.append((self.database.name, self.name, filter["_id"], upsert))

    monkeypatch.setattr(Collection, "update_one", update_one)
    reports, media = Store(mongodb["paht_intake"]), Store(mongodb["paht_media"], "media.files")
    status, body = ready([dependency(reports), dependency(media)])
    assert status == 503 and body["failing"] == ["store"]
    assert "StoreNotReady: paht_media: OperationFailure: not authorized on paht_media" in body["checks"]["store"]["error"]
    assert written == [("paht_intake", "_readiness", readiness.probe_id("intake"), True)]

    monkeypatch.setattr(Collection, "update_one", lambda self, *a, **k: None)          # the role granted
    status, body = ready([dependency(reports), dependency(media)])
    assert status == 200 and body["checks"]["store"] == {"ok": True, "written": ["paht_intake", "paht_media"]}


def test_a_store_only_read_is_asked_to_answer_not_to_take_a_write(mongodb, monkeypatch):
    """verification reads the media files (MediaFiles(read_only=True)) and writes only its own database."""
    asked = []
    monkeypatch.setattr(Database, "command", lambda self, name, *a, **k: asked.append((self.name, name)))
    monkeypatch.setattr(Collection, "update_one", lambda self, *a, **k: asked.append((self.database.name, "write")))
    own, media = Store(mongodb["paht_verification"]), Store(mongodb["paht_media"], "media.files")
    status, body = ready([dependency(own), dependency(media, read_only=True)], service="verification")
    assert status == 200, body
    assert body["checks"]["store"] == {"ok": True, "written": ["paht_verification"], "read": ["paht_media"]}
    assert sorted(asked) == [("paht_media", "ping"), ("paht_verification", "write")]
    assert MediaFiles(read_only=True).read_only and not MediaFiles().read_only


def test_a_media_folder_that_cannot_be_written_is_not_ready(tmp_path):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media volume should be")
    status, body = ready([dependency(MediaStore(not_a_folder))])
    assert status == 503 and body["failing"] == ["store"]
    assert body["checks"]["store"]["error"].startswith("StoreNotReady: media files: ")


def test_a_write_that_hangs_is_cut_short(mongodb, monkeypatch):
    monkeypatch.setattr(web, "HEALTH_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(Collection, "update_one", lambda self, *a, **k: eventlet.sleep(60))
    started = time.monotonic()
    status, body = ready([dependency(Store(mongodb["paht_rating"]))], service="rating")
    assert time.monotonic() - started < 2
    assert status == 503 and body["checks"]["store"] == {"ok": False, "error": "timed out"}


def test_two_dependencies_on_one_database_probe_it_once(tmp_path):
    database = embedded.Database(tmp_path / "publishing.sqlite3")
    targets = readiness.targets([dependency(Store(database)), dependency(Store(database, "notifications")),
                                 SimpleNamespace(), dependency(object())])
    assert [(target.name, target.writes) for target in targets] == [("publishing", True)]
