"""Storage chosen by `MONGO_URI` (docs/storage.md).

- `mongodb://…` / `mongodb+srv://…`: MongoDB through pymongo (production), database `paht_<service>`.
- `embedded://` (the default) or `embedded:///path`: the file-backed store of `paht.embedded`, one SQLite file
  per service under `$PAHT_VAR_DIR/db/` (or the given path).
- `memory://`: the same store in memory, for unit tests.
Services use only the subset that both sides implement (see tests/contract/test_storage.py).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from pymongo import ASCENDING, DESCENDING, ReturnDocument  # noqa: F401 — re-exported for services
from pymongo.errors import DuplicateKeyError  # noqa: F401 — re-exported: both stores raise it

from . import embedded, settings

# Every database the code opens, by logical name (`<PAHT_DB_PREFIX><name>` in MongoDB): each service's own, and
# the media files' (GridFS, paht.mediastore). The production overlay's MongoDB user needs readWrite on each of them;
# tests/unit/test_k8s.py holds the two together, and fails on an open_database() call with a name not listed here.
SERVICE_DATABASES = ("gateway", "intake", "verification", "routing", "handling", "sla", "publishing", "rating")
MEDIA_DATABASE = "media"
DATABASES = (*SERVICE_DATABASES, MEDIA_DATABASE)
DEFAULT_DB_PREFIX = "paht_"

_clients: dict[str, object] = {}


def is_mongodb(uri: str | None) -> bool:
    return bool(uri) and uri.startswith(("mongodb://", "mongodb+srv://"))


def mongo_client(uri: str):
    """One pymongo client per URI and process (aware UTC datetimes)."""
    from datetime import timezone

    from pymongo import MongoClient
    client = _clients.get(uri)
    if client is None:
        client = _clients[uri] = MongoClient(uri, tz_aware=True, tzinfo=timezone.utc)
    return client


def mongodb_name(database: str) -> str:
    """The MongoDB database behind a logical one: `paht_intake`, `paht_media` (PAHT_DB_PREFIX changes the prefix)."""
    return settings.db_prefix(DEFAULT_DB_PREFIX) + database


_embedded_files: dict = {}
_opening = threading.Lock()


def open_database(service: str, uri: str | None = None, var: str | os.PathLike | None = None):
    # every service opens its store in a DependencyProvider's setup: the one place a production process that is
    # whose settings do not parse, or that is not safe to run in production, refuses to start
    settings.check_startup()
    uri = uri or settings.mongo_uri()
    if is_mongodb(uri):
        return _mongodb_database(service, uri)
    if uri.startswith("memory://"):
        return embedded.Database(":memory:")
    if uri.startswith("embedded://"):
        path = uri[len("embedded://"):]
        root = Path(path) if path else Path(var or settings.var_dir()) / "db"
        file = (root / f"{service}.sqlite3").resolve()
        with _opening:   # one connection per file in a process, however many dependencies use it
            if file not in _embedded_files:
                _embedded_files[file] = embedded.Database(file)
            return _embedded_files[file]
    raise ValueError(f"MONGO_URI {uri!r}: expected mongodb://…, embedded://[path] or memory://")


def _mongodb_database(service: str, uri: str):
    from datetime import timezone

    from bson.codec_options import CodecOptions
    return mongo_client(uri).get_database(mongodb_name(service),
                                          codec_options=CodecOptions(tz_aware=True, tzinfo=timezone.utc))


def open_read_only(service: str, uri: str | None = None, var: str | os.PathLike | None = None):
    """A service's database for reading only (`paht rules replay`): the embedded store's file opened by SQLite in
    `mode=ro` (every write fails); MongoDB through pymongo as the services open it — give the command a user with
    the `read` role only (docs/storage.md)."""
    uri = uri or settings.mongo_uri()
    if is_mongodb(uri):
        return _mongodb_database(service, uri)
    if uri.startswith("embedded://"):
        path = uri[len("embedded://"):]
        file = (Path(path) if path else Path(var or settings.var_dir()) / "db") / f"{service}.sqlite3"
        if not file.exists():
            raise FileNotFoundError(f"{file}: no {service} store here (MONGO_URI, PAHT_VAR_DIR)")
        return embedded.Database(file, read_only=True)
    raise ValueError(f"MONGO_URI {uri!r}: a store to read is mongodb://… or embedded://[path]")
