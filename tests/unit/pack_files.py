"""Helpers to edit a copy of Huế's pack (the `pack_copy` fixture of conftest.py) and read the loader's refusal."""
from __future__ import annotations

from pathlib import Path

import pytest

from paht.rules import PackError, load_pack, rules_root

HUE = rules_root() / "thua-thien-hue-2022"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def refused(pack_dir) -> PackError:
    with pytest.raises(PackError) as error:
        load_pack(pack_dir)
    return error.value
