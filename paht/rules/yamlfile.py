"""YAML reading that remembers where each mapping starts, so errors can name the file and line."""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import PackError


class LineDict(dict):
    line: int | None = None


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader, node):
    loader.flatten_mapping(node)
    value = LineDict(loader.construct_pairs(node, deep=True))
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise PackError(f"duplicate key(s) {sorted(map(str, duplicates))}", None, node.start_mark.line + 1)
    value.line = node.start_mark.line + 1
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
# dates stay strings: the schema and the calendar parse them
_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def read_yaml(path: Path):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except PackError as exc:
        exc.file = str(path)
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PackError(f"YAML error: {getattr(exc, 'problem', None) or exc}", str(path),
                        mark.line + 1 if mark else None) from None


def line_of(node, default=None):
    return getattr(node, "line", None) or default


def plain(value):
    """LineDicts back to dicts (for JSON output and durable-rules)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
