"""Validating a pack file against its JSON Schema (rules/schema/<name>.schema.json), every error with the line it
is on: an unknown key first (with the known key nearest to it), then whatever jsonschema finds."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema
from jsonschema.exceptions import best_match

from .errors import PackError
from .schemakeys import SchemaKeys
from .yamlfile import key_line, line_of

# the schemas of the pack format, by the kind of file they describe
NAMES = ("pack", "agencies", "stage", "cases", "categories", "wordlist", "articles")


def schema_dir() -> Path:
    from . import rules_root
    return rules_root() / "schema"


@lru_cache(maxsize=16)
def _schema(directory: str, name: str) -> dict:
    return json.loads((Path(directory) / f"{name}.schema.json").read_text(encoding="utf-8"))


def schema(name: str) -> dict:
    return _schema(str(schema_dir()), name)


@lru_cache(maxsize=16)
def _keys(directory: str, name: str) -> SchemaKeys:
    return SchemaKeys(_schema(directory, name))


def schema_keys(name: str) -> SchemaKeys:
    return _keys(str(schema_dir()), name)


def line_at(document, path) -> int | None:
    """The line of the value at `path` (keys and list indexes): the line its key is written on."""
    node, line = document, line_of(document, 1)
    for part in path:
        try:
            child = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = key_line(node, part, line) if isinstance(node, dict) else line_of(child, line)
        node = child
    return line


def _rule_id(document, path) -> str | None:
    """The id of the stage rule `path` lies in, if any."""
    path = list(path)
    if len(path) >= 2 and path[0] == "rules" and isinstance(document, dict):
        try:
            rule = document["rules"][path[1]]
        except (KeyError, IndexError, TypeError):
            return None
        return rule.get("id") if isinstance(rule, dict) else None
    return None


def validate(document, name: str, path: Path) -> None:
    """PackError at the first defect of `document` (a file of kind `name`), else nothing."""
    unknown = schema_keys(name).unknown_keys(document, key_line)
    if unknown:
        first = min(unknown, key=lambda u: u.line or 0)
        where = [int(p) if p.isdigit() else p for p in first.where.split("/")] if first.where else []
        raise PackError(first.message(), str(path), first.line, _rule_id(document, where))
    validator = jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: line_at(document, e.absolute_path) or 0)
    if errors:
        error = best_match([errors[0]])   # into oneOf/anyOf: the alternative that came nearest
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise PackError(f"{where}: {error.message}", str(path), line_at(document, error.absolute_path),
                        _rule_id(document, error.absolute_path))
