"""The content-addressed media file store shared by intake (writes) and verification/publishing (read)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from nameko.extensions import DependencyProvider

from .clock import var_dir


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
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
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


def media_root() -> Path:
    return Path(os.environ.get("PAHT_MEDIA_DIR", var_dir() / "media"))


class MediaFiles(DependencyProvider):
    """nameko dependency: the media store at PAHT_MEDIA_DIR (or var/media)."""

    def setup(self):
        self.store = MediaStore(media_root())

    def get_dependency(self, worker_ctx):
        return self.store
