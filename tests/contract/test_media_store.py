"""The media store's one API on the local disk and, when PAHT_TEST_MONGO_URI is set, in MongoDB's GridFS (chosen
by MONGO_URI in paht.mediastore.open_media_store)."""
from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from paht import mediastore, storage


@pytest.fixture(params=["files", "gridfs"])
def media(request, tmp_path, monkeypatch):
    if request.param == "files":
        monkeypatch.setenv("PAHT_MEDIA_DIR", str(tmp_path / "media"))
        monkeypatch.delenv("MONGO_URI", raising=False)
        yield mediastore.open_media_store()
        return
    uri = os.environ.get("PAHT_TEST_MONGO_URI")
    if not uri:
        pytest.skip("PAHT_TEST_MONGO_URI not set: no MongoDB server for GridFS")
    monkeypatch.setenv("PAHT_DB_PREFIX", f"contract_{uuid.uuid4().hex[:8]}_")
    store = mediastore.open_media_store(uri)
    yield store
    storage.mongo_client(uri).drop_database(store.files.database.name)


def test_the_choice_follows_mongo_uri(monkeypatch, tmp_path):
    monkeypatch.setenv("PAHT_MEDIA_DIR", str(tmp_path))
    monkeypatch.setenv("MONGO_URI", "embedded://")
    assert isinstance(mediastore.open_media_store(), mediastore.MediaStore)
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setattr(mediastore, "GridFSMediaStore", lambda db: ("gridfs", db.name))
    assert mediastore.open_media_store() == ("gridfs", "paht_media")   # one database for every service's files


def test_put_read_exists_delete(media):
    data = os.urandom(700_000)            # several GridFS chunks
    sha = media.put(data)
    assert sha == hashlib.sha256(data).hexdigest() and media.exists(sha) and media.read(sha) == data
    assert media.put(data) == sha and media.read(sha) == data       # storing it twice costs nothing
    assert media.delete(sha) and not media.exists(sha)
    assert media.delete(sha) is False                                # deleting is idempotent
    with pytest.raises(FileNotFoundError):
        media.read(sha)
    assert not media.exists(hashlib.sha256(b"never stored").hexdigest())
