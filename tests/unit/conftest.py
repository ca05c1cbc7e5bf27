"""Fixtures of the broker-free tests."""
from __future__ import annotations

import shutil

import pytest

from paht.rules import rules_root
from tests.unit.pack_files import HUE


@pytest.fixture
def pack_copy(tmp_path):
    """A copy of Huế's pack, with the schema and categories it needs, to break on purpose."""
    root = tmp_path / "rules"
    shutil.copytree(rules_root() / "schema", root / "schema")
    shutil.copy(rules_root() / "categories.yaml", root / "categories.yaml")
    shutil.copytree(HUE, root / HUE.name)
    return root / HUE.name
