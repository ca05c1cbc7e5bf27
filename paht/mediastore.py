"""The content-addressed media file store shared by intake (writes) and verification/publishing (read).

Chosen by `MONGO_URI` in one place (`open_media_store`): with a MongoDB URI the files live in GridFS (database
`<PAHT_DB_PREFIX>media`, bucket `media`), so every replica of every service reads the same files; otherwise on the
local disk under PAHT_MEDIA_DIR (or var/media). Both have the same API: put / read / exists / delete."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from nameko.extensions import DependencyProvider

from . import settings


class MediaStore:
    """Files named by the SHA-256 of their content, so storing one twice costs nothing."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            try:
                tmp.write_bytes(data)
            except FileNotFoundError:   # the first file of its directory (making it every time cost a third of put)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
            os.replace(tmp, target)
        return digest

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        """Remove a file (retention); False when it was not there (already deleted: deleting is idempotent)."""
        try:
            self.path(sha256).unlink()
            return True
        except FileNotFoundError:
            return False


class GridFSMediaStore:
    """The same store in MongoDB's GridFS: a file's name is the SHA-256 of its content. Two writers of the same
    new file may both store it (two revisions of one name, same bytes): reading takes either, deleting removes
    all, so nothing is lost or left behind."""

    def __init__(self, db, bucket: str = "media"):
        import gridfs
        self.bucket = gridfs.GridFSBucket(db, bucket_name=bucket)
        self.files = db[f"{bucket}.files"]
        self.files.create_index([("filename", 1), ("uploadDate", 1)])

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if not self.exists(digest):
            self.bucket.upload_from_stream(digest, data, metadata={"sha256": digest, "size": len(data)})
        return digest

    def read(self, sha256: str) -> bytes:
        import gridfs
        try:
            return self.bucket.open_download_stream_by_name(sha256).read()
        except gridfs.errors.NoFile:
            raise FileNotFoundError(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self.files.find_one({"filename": sha256}, {"_id": 1}) is not None

    def delete(self, sha256: str) -> bool:
        """Remove every stored copy (retention); False when there was none (deleting is idempotent)."""
        import gridfs
        deleted = False
        for stored in list(self.files.find({"filename": sha256}, {"_id": 1})):
            try:
                self.bucket.delete(stored["_id"])
                deleted = True
            except gridfs.errors.NoFile:   # another replica deleted it meanwhile
                pass
        return deleted


def media_root() -> Path:
    return settings.media_dir()


def open_media_store(uri: str | None = None):
    """GridFS when MONGO_URI is a MongoDB URI, the local file store otherwise."""
    from . import storage
    uri = uri or settings.mongo_uri()
    if storage.is_mongodb(uri):
        return GridFSMediaStore(storage.open_database(storage.MEDIA_DATABASE, uri))
    return MediaStore(media_root())


class MediaFiles(DependencyProvider):
    """nameko dependency: the media store of `open_media_store` (GridFS, or PAHT_MEDIA_DIR / var/media).
    `read_only=True` for a service that only reads the files: its readiness asks the store to answer, not to take
    a write (paht.readiness)."""

    def __init__(self, read_only: bool = False):
        self.read_only = read_only

    def setup(self):
        self.store = open_media_store()

    def get_dependency(self, worker_ctx):
        return self.store
