"""What `/healthz/ready` asks of a service's stores (paht.web.HealthChecks): each store the service writes must take
a write, each store it only reads must answer. A ping is not enough: a MongoDB user without a role on a database
still answers `ping` (production's paht_media, issue 20), and a read-only or full disk still answers a query.

The write probe upserts one small document per pod, `{_id: "<service>@<host>", checked_at}`, in the collection
`_readiness` of the database (MongoDB or the embedded store), or replaces one small file per pod under `_readiness/`
of the media folder. Every probe is cut off after `seconds`."""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

PROBE_COLLECTION = "_readiness"
PROBE_FOLDER = "_readiness"


class StoreNotReady(RuntimeError):
    """A store refused the probe: the message names the store first."""


@dataclass(frozen=True)
class Target:
    name: str         # what the answer names: paht_intake, paht_media (MongoDB), intake (embedded), media files
    store: object     # a pymongo or embedded database, or the media folder (Path)
    writes: bool      # False: the service only reads it (verification's media): asked to answer, not to take a write


def probe_id(service: str) -> str:
    """One probe document per pod, so replicas never write the same one."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", f"{service}@{socket.gethostname()}")


def database_of(store):
    """The database behind a service's store: the first attribute that is a collection (pymongo or embedded)."""
    from pymongo.collection import Collection as MongoCollection

    from . import embedded

    for value in vars(store).values():
        if isinstance(value, (MongoCollection, embedded.Collection)):
            return value.database
    return None


def target_of(store, writes: bool) -> Target | None:
    """What to probe for one dependency's store: its database, or the folder of the local media store."""
    from . import embedded
    from .mediastore import MediaStore

    if isinstance(store, MediaStore):
        return Target("media files", Path(store.root), writes)
    database = database_of(store) if hasattr(store, "__dict__") else None
    if database is None:
        return None
    if isinstance(database, embedded.Database):
        name = "memory" if database.path == ":memory:" else Path(database.path).stem
        return Target(name, database, writes)
    return Target(database.name, database, writes)


def targets(dependencies) -> list[Target]:
    """Every store behind the container's dependencies that hold a `store`, once each (two dependencies may share a
    database: publishing's); written if any of its dependencies writes it."""
    found: dict[str, Target] = {}
    for dependency in dependencies:
        store = getattr(dependency, "store", None)
        target = target_of(store, writes=not getattr(dependency, "read_only", False)) if store is not None else None
        if target is None:
            continue
        known = found.get(target.name)
        if known is None or (target.writes and not known.writes):
            found[target.name] = target
    return list(found.values())


def probe(target: Target, service: str, seconds: float) -> str:
    """Writes (or reads) the target; returns what was done ("written"/"read"), raises StoreNotReady naming it."""
    try:
        if isinstance(target.store, Path):
            (_write_folder if target.writes else _read_folder)(target.store, probe_id(service))
        else:
            (_write_database if target.writes else _read_database)(target.store, probe_id(service), seconds)
    except Exception as exc:  # noqa: BLE001 — whatever the store raises, the answer names it
        raise StoreNotReady(f"{target.name}: {type(exc).__name__}: {exc}") from exc
    return "written" if target.writes else "read"


def _write_database(database, document_id: str, seconds: float) -> None:
    from . import embedded

    update = {"$set": {"checked_at": datetime.now(timezone.utc)}}
    if isinstance(database, embedded.Database):
        database[PROBE_COLLECTION].update_one({"_id": document_id}, update, upsert=True)
        return
    import pymongo

    with pymongo.timeout(seconds):
        database[PROBE_COLLECTION].update_one({"_id": document_id}, update, upsert=True)


def _read_database(database, document_id: str, seconds: float) -> None:
    from . import embedded

    if isinstance(database, embedded.Database):
        with database.lock:
            database.conn.execute("SELECT 1").fetchone()
        return
    import pymongo

    with pymongo.timeout(seconds):
        database.command("ping")


def _write_folder(root: Path, file_name: str) -> None:
    folder = root / PROBE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{file_name}.{os.getpid()}.tmp"
    tmp.write_text(datetime.now(timezone.utc).isoformat(), encoding="utf-8")
    os.replace(tmp, folder / file_name)


def _read_folder(root: Path, file_name: str) -> None:
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    os.listdir(root)
