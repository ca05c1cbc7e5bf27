"""Rule packs: loading, checking, compiling to durable-rules, and a registry that reloads changed packs."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from .. import settings
from .errors import PackError
from .loader import load_pack
from .pack import Pack

__all__ = ["PackError", "Pack", "load_pack", "get_pack", "list_packs", "rules_root"]

log = logging.getLogger(__name__)
RELOAD_CHECK_SECONDS = 1.0


_BUNDLED = Path(__file__).resolve().parents[2] / "rules"


def rules_root() -> Path:
    return settings.rules_dir() or _BUNDLED


def list_packs() -> list[str]:
    root = rules_root()
    return sorted(p.name for p in root.iterdir() if (p / "pack.yaml").exists())


def _signature(pack_dir: Path) -> tuple:
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in pack_dir.rglob("*") if p.is_file()))


class _Entry:
    def __init__(self, pack: Pack, signature: tuple):
        self.pack, self.signature, self.checked = pack, signature, time.monotonic()


_registry: dict[tuple[str, str], _Entry] = {}
_lock = threading.Lock()


def get_pack(pack_id: str) -> Pack:
    """The pack, reloaded when one of its files changed (checked at most once a second). A change that does not
    check is logged and the last good pack stays in use."""
    root = rules_root()
    key = (str(root), pack_id)
    entry = _registry.get(key)
    if entry is not None and time.monotonic() - entry.checked < RELOAD_CHECK_SECONDS:
        return entry.pack
    pack_dir = root / pack_id
    if "/" in pack_id or not (pack_dir / "pack.yaml").exists():
        if entry is not None:
            return entry.pack
        raise KeyError(pack_id)
    with _lock:
        entry = _registry.get(key)
        signature = _signature(pack_dir)
        if entry is not None:
            entry.checked = time.monotonic()
            if signature == entry.signature:
                return entry.pack
        try:
            pack = load_pack(pack_dir)
        except PackError as exc:
            if entry is None:
                raise
            log.error("pack %s changed but does not check, keeping the last good one: %s", pack_id, exc)
            entry.signature = signature
            return entry.pack
        if entry is not None:
            log.info("pack %s reloaded", pack_id)
        _registry[key] = _Entry(pack, signature)
        return pack
