"""JSON Schemas of pydantic types for a document's `components.schemas`: every type described in one pass, so a
model used in several places is one component and names never clash."""
from __future__ import annotations

from pydantic import TypeAdapter

REF_TEMPLATE = "#/components/schemas/{model}"


class Schemas:
    """Collects the types a document needs (`want`), then describes them all at once (`resolve`)."""

    def __init__(self):
        self._wanted: dict[str, TypeAdapter] = {}
        self._found: dict[str, dict] | None = None
        self.components: dict[str, dict] = {}

    def want(self, kind) -> str:
        key = repr(kind)
        self._wanted.setdefault(key, TypeAdapter(kind))
        return key

    def resolve(self) -> None:
        found, defs = TypeAdapter.json_schemas([(key, "validation", adapter) for key, adapter in self._wanted.items()],
                                               ref_template=REF_TEMPLATE)
        self._found = {key: schema for (key, _mode), schema in found.items()}
        self.components = dict(sorted(defs.get("$defs", {}).items()))

    def of(self, kind) -> dict:
        """The schema of a type (a `$ref` for a model) once resolved."""
        if self._found is None:
            raise RuntimeError("Schemas.resolve() first")
        return self._found[repr(kind)]

    def component(self, kind) -> dict:
        """The full object schema of a model (its component), e.g. to spread its fields into query parameters."""
        ref = self.of(kind).get("$ref", "")
        return self.components[ref.rsplit("/", 1)[-1]] if ref else self.of(kind)
