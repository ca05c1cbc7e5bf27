"""YAML reading that remembers where each mapping and each key starts, so errors can name the file and line, and
that refuses a value cut in two by a comma inside a flow map."""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import PackError

NULL_TAG = "tag:yaml.org,2002:null"


class LineDict(dict):
    line: int | None = None
    key_lines: dict | None = None   # key → the line the key is written on


class _Loader(yaml.SafeLoader):
    pass


def _has_no_value(loader, key, value) -> bool:
    """`{a: b, c}` reads `c` as a key with no `:` and no value: in a pack that is always a value cut at a comma."""
    if value.tag != NULL_TAG or value.value != "" or not isinstance(key, yaml.ScalarNode):
        return False
    rest = loader.buffer[key.end_mark.index:].lstrip(" \t\r\n")
    return not rest.startswith(":")


def _cut_at_comma(loader, node) -> None:
    """A flow map entry without `:` follows the entry whose value the comma ended: name both, and the quoted value
    the author meant."""
    pairs = node.value
    cut = [index for index, pair in enumerate(pairs) if _has_no_value(loader, *pair)]
    if not cut:
        return
    first = last = cut[0]
    while last + 1 in cut:
        last += 1
    pieces = [f'"{key.value}"' for key, _ in pairs[first:last + 1]]
    became = " and ".join(pieces) + (" became a key" if len(pieces) == 1 else " became keys")
    line = pairs[first][0].start_mark.line + 1
    before = pairs[first - 1][1] if first else None
    if not isinstance(before, yaml.ScalarNode) or before.style is not None:   # not a plain value a comma could cut
        raise PackError(f"in a flow map {{…}} {became} without a value: a comma ends a value there, so quote a "
                        "value that holds a comma", None, line)
    cut_key, cut_value = pairs[first - 1]
    whole = loader.buffer[cut_value.start_mark.index:pairs[last][0].end_mark.index]
    raise PackError(f"the comma after \"{cut_value.value}\" ends the value of `{cut_key.value}` in a flow map {{…}}, "
                    f"so {became} without a value: quote the value, {cut_key.value}: {quoted(whole)}", None, line)


def quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar, which keeps its commas."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mapping(loader, node):
    loader.flatten_mapping(node)
    if node.flow_style:
        _cut_at_comma(loader, node)
    value = LineDict(loader.construct_pairs(node, deep=True))
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise PackError(f"duplicate key(s) {sorted(map(str, duplicates))}", None, node.start_mark.line + 1)
    value.line = node.start_mark.line + 1
    value.key_lines = {key: k.start_mark.line + 1 for key, (k, _) in zip(keys, node.value)}
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
    except UnicodeDecodeError as exc:   # a file saved in another encoding: where, not a traceback
        raise PackError(f"not UTF-8 text (byte {exc.start}: {exc.reason}); save the file as UTF-8", str(path),
                        None) from None
    except OSError as exc:
        raise PackError(f"cannot be read: {exc.strerror or exc}", str(path), None) from None


def line_of(node, default=None):
    return getattr(node, "line", None) or default


def key_line(node, key, default=None):
    """The line `key` is written on in the mapping `node` (else the mapping's own line, else `default`)."""
    return (getattr(node, "key_lines", None) or {}).get(key) or line_of(node, default)


def plain(value):
    """LineDicts back to dicts (for JSON output and durable-rules)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
