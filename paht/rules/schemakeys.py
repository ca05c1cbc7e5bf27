"""The keys the pack format's JSON Schemas allow at each place of a file: which keys a mapping may hold, whether
others are refused, and which keys are documentation only (`x-documentation-only`, with the reason).

A place is named by its schema path: keys joined by `/`, `[]` for the items of a list and `*` for the values of an
open map (`parameters/*/amount`, `reports/schedule/[]/due/day_of_month`, `rules/[]/then/on_miss/action`).
jsonschema validates values; this module answers what it cannot say well: the unknown key, its line and the known
key nearest to it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterator

import jsonschema

DOCUMENTATION_ONLY = "x-documentation-only"
COMBINED = ("allOf", "oneOf", "anyOf")


@dataclass
class Place:
    """What the schema says of one mapping: its known keys (each with the schemas its value must meet), whether
    other keys are refused, and the schemas of the values of an open map's keys."""
    known: dict[str, list[dict]] = field(default_factory=dict)
    closed: bool = False
    others: list[dict] = field(default_factory=list)


@dataclass
class UnknownKey:
    where: str          # the mapping, as a path of the document (`publication`, `rules/3/then`, "" for the top)
    key: str
    line: int | None
    suggestion: str | None

    def message(self) -> str:
        place = f" in {self.where}" if self.where else ""
        hint = f": did you mean `{self.suggestion}`?" if self.suggestion else ""
        return f"unknown key `{self.key}`{place}{hint}"


def nearest(key: str, known) -> str | None:
    found = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


class SchemaKeys:
    def __init__(self, root: dict):
        self.root = root
        self._conditions: dict[int, jsonschema.Validator] = {}

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            target = self.root
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def _holds(self, schema: dict, instance) -> bool:
        """Whether `instance` meets `schema` (an `if`), with the root's definitions at hand."""
        if id(schema) not in self._conditions:
            self._conditions[id(schema)] = jsonschema.Draft202012Validator(
                dict(schema, **{"$defs": self.root.get("$defs", {})}))
        return self._conditions[id(schema)].is_valid(instance)

    def _conjunction(self, schema, instance, unknown_instance: bool) -> tuple[list[dict], list[list[tuple]]]:
        """The schemas that all apply (the schema, its allOf, the `then` or `else` that applies), and the groups of
        alternatives (oneOf, anyOf), each alternative expanded the same way."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return [], []
        every, groups = [schema], []
        for part in schema.get("allOf", []):
            more, more_groups = self._conjunction(part, instance, unknown_instance)
            every += more
            groups += more_groups
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                groups.append([self._conjunction(branch, instance, unknown_instance) for branch in schema[keyword]])
        if "if" in schema:
            chosen = ("then", "else") if unknown_instance else \
                (("then",) if self._holds(schema["if"], instance) else ("else",))
            for keyword in chosen:
                if keyword in schema:
                    more, more_groups = self._conjunction(schema[keyword], instance, unknown_instance)
                    every += more
                    groups += more_groups
        return every, groups

    def place(self, schemas: list[dict], instance=None, unknown_instance: bool = False) -> Place:
        """The place the schemas make for one mapping (`instance`, to choose `if` branches; unknown: both)."""
        result = Place()
        for schema in schemas:
            self._add(result, self._place_of(*self._conjunction(schema, instance, unknown_instance)))
        return result

    def _place_of(self, every: list[dict], groups: list) -> Place:
        place = Place()
        self._merge(place, every)
        for group in groups:
            alternatives = [(self._place_of(*alternative), alternative[0]) for alternative in group]
            for alternative, _ in alternatives:
                self._add(place, alternative, closing=False)
            # one of several shapes: closed when every shape an object can take is closed
            shapes = [alternative for alternative, schemas in alternatives if self._takes_objects(schemas)]
            if shapes and all(shape.closed for shape in shapes):
                place.closed = True
        return place

    @staticmethod
    def _add(place: Place, other: Place, closing: bool = True) -> None:
        for key, values in other.known.items():
            place.known.setdefault(key, []).extend(values)
        place.others += other.others
        place.closed = place.closed or (closing and other.closed)

    def _merge(self, place: Place, schemas: list[dict]) -> None:
        for schema in schemas:
            for key, value in (schema.get("properties") or {}).items():
                place.known.setdefault(key, []).append(value)
            extra = schema.get("additionalProperties", True)
            if extra is False:
                place.closed = True
            elif isinstance(extra, dict):
                place.others.append(extra)

    @staticmethod
    def _takes_objects(schemas: list[dict]) -> bool:
        for schema in schemas:
            kind = schema.get("type")
            if kind is not None and "object" not in (kind if isinstance(kind, list) else [kind]):
                return False
        return True

    def items(self, schemas: list[dict], instance=None, unknown_instance: bool = False) -> list[dict]:
        found = []
        for schema in schemas:
            every, groups = self._conjunction(schema, instance, unknown_instance)
            found += [s["items"] for s in every if isinstance(s.get("items"), dict)]
            found += [s["items"] for group in groups for alternative, _ in group for s in alternative
                      if isinstance(s.get("items"), dict)]
        return found

    def documentation_only(self, schemas: list[dict]) -> str | None:
        for schema in schemas:
            reason = (self.resolve(schema) or {}).get(DOCUMENTATION_ONLY)
            if reason:
                return reason
        return None

    # ---- a document -----------------------------------------------------------------------------------------
    def walk(self, document) -> Iterator[tuple[str, str, object, Place]]:
        """(schema path, document path, the mapping, its place) for every mapping of `document` the schema
        describes, parents first."""
        yield from self._walk(document, [self.root], (), ())

    def _walk(self, node, schemas, schema_path, document_path):
        if not schemas:
            return
        if isinstance(node, dict):
            place = self.place(schemas, node)
            yield "/".join(schema_path), "/".join(map(str, document_path)), node, place
            for key, value in node.items():
                if key in place.known:
                    yield from self._walk(value, place.known[key], schema_path + (str(key),), document_path + (key,))
                elif place.others:
                    yield from self._walk(value, place.others, schema_path + ("*",), document_path + (key,))
        elif isinstance(node, list):
            item_schemas = self.items(schemas, node)
            for index, item in enumerate(node):
                yield from self._walk(item, item_schemas, schema_path + ("[]",), document_path + (index,))

    def unknown_keys(self, document, key_line) -> list[UnknownKey]:
        """Every key of a closed mapping that its schema does not list, with its line (`key_line(mapping, key)`)
        and the known key nearest to it."""
        found = []
        for _, where, node, place in self.walk(document):
            if place.closed:
                found += [UnknownKey(where, key, key_line(node, key), nearest(key, place.known))
                          for key in node if key not in place.known]
        return found

    def key_paths(self, document) -> Iterator[tuple[str, object, str]]:
        """(schema path of the key, the mapping holding it, the key) for every key of `document`."""
        for schema_path, _, node, place in self.walk(document):
            for key in node:
                if key in place.known:
                    yield (f"{schema_path}/{key}" if schema_path else str(key)), node, key
                elif place.others:
                    yield (f"{schema_path}/*" if schema_path else "*"), node, key

    # ---- the schema alone -----------------------------------------------------------------------------------
    def paths(self) -> dict[str, str | None]:
        """Every key the schema allows, by schema path → its documentation-only reason (None: code reads it)."""
        found: dict[str, str | None] = {}
        self._below([self.root], (), found)
        return found

    def _paths(self, schemas, path, found) -> None:
        place = self.place(schemas, unknown_instance=True)
        for key, values in place.known.items():
            here = path + (key,)
            found["/".join(here)] = self.documentation_only(values)
            self._below(values, here, found)
        if place.others:   # an open map: its keys are names the code looks up (parameters)
            found["/".join(path + ("*",))] = self.documentation_only(place.others)
            self._below(place.others, path + ("*",), found)

    def _below(self, schemas, path, found) -> None:
        item_schemas = self.items(schemas, unknown_instance=True)
        if item_schemas:
            self._below(item_schemas, path + ("[]",), found)
        place = self.place(schemas, unknown_instance=True)
        if place.known or place.others:
            self._paths(schemas, path, found)
