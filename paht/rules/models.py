"""The pydantic models of the pack files whose JSON Schemas are generated (rules/schema/<kind>.schema.json, written
by `scripts/pack-schemas`; tests/unit/test_pack_schemas.py fails when a committed schema differs from its model's).

The loader validates a file against its schema (jsonschema, every error with its file and line; an unknown key with
the known key nearest to it), so the model is the one source of what a file may hold. `x-documentation-only` marks
a key no code reads (with the reason), as the hand-written schemas do.

The kinds still hand-written (pack, stage, cases) are listed in HAND_WRITTEN.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema
from pydantic.json_schema import GenerateJsonSchema

SCHEMA_ID = "https://paht.example/schema/{kind}.schema.json"
HAND_WRITTEN = ("pack",)
TIME_OF_DAY = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


def documentation_only(reason: str) -> dict:
    return {"x-documentation-only": reason}


class Closed(BaseModel):
    """A mapping that refuses any key it does not list."""
    model_config = ConfigDict(extra="forbid")


# ---- wordlists/*.yaml --------------------------------------------------------------------------------------------
class Phrase(Closed):
    phrase: str = Field(min_length=1)
    kind: str


class Wordlist(Closed):
    model_config = ConfigDict(extra="forbid", title="wordlists/*.yaml: phrases verification and rating look for in "
                                                    "citizens' text")
    phrases: list[Phrase]


# ---- categories.yaml ---------------------------------------------------------------------------------------------
class Category(Closed):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    name_en: str = None
    immediate: bool = None
    keywords: list[str] = None


class Categories(Closed):
    model_config = ConfigDict(extra="forbid", title="categories.yaml: the category list every pack shares (its ids "
                                                    "are part of the API)")
    categories: list[Category] = Field(min_length=1)


# ---- agencies.yaml -----------------------------------------------------------------------------------------------
class Agency(Closed):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"kind": {"const": "ward_committee"}}}, "then": {"required": ["ward_code"]}})
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    kind: Literal["centre", "department", "utility", "ward_committee", "police"]
    categories: list[str] = Field(json_schema_extra=documentation_only(
        "what the agency handles, for people reading the directory; routing.yaml decides where reports go"))
    ward_code: str = Field(None, description="the ward a ward_committee serves: its id is ubnd-<ward_code>, the id "
                                             "routing's ward_committee resolves")
    email: str = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    office_hours: list[list[str]] = Field(None, min_length=1, description=(
        "the agency's own office hours (local times) where they differ from pack.yaml office_hours: a utility or a "
        "central agency outside the province's administration; deadlines it must meet in working time count in "
        "them, on the pack's working days"), json_schema_extra={"items": {
            "type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string", "pattern": TIME_OF_DAY}}})


class Agencies(Closed):
    model_config = ConfigDict(extra="forbid", title="agencies.yaml: the agency directory of a pack")
    agencies: list[Agency]


# ---- articles.yaml -----------------------------------------------------------------------------------------------
class Articles(Closed):
    """Written by scripts/seed-articles from the seed; `paht rules check` fails on a citation of the pack naming an
    article (Điều), clause (khoản), point (điểm) or appendix (Phụ lục) not listed here."""
    model_config = ConfigDict(extra="forbid", title=(
        "<pack>/articles.yaml: the articles, clauses, points and appendices of the pack's regulation"))
    seed: str = Field(description="the seed the list was generated from: check fails when it is not pack.yaml's "
                                  "regulation.seed")
    articles: dict[int, dict[int, list[str]]] = Field(
        description="Điều N → khoản K → the điểm letters of that khoản (khoản 0: the điểm of an article without "
                    "numbered khoản)",
        json_schema_extra={"additionalProperties": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string", "pattern": "^[a-zđ]$"}}}})
    appendices: list[str] = Field(description="the appendices' numbers as the seed writes them, arabic ('II' is "
                                              "'2'); '' for a single unnumbered Phụ lục")


# ---- acceptance.yaml, routing.yaml, sla.yaml, penalties.yaml -------------------------------------------------------
# the values of `then` (actions, reasons, checks, agencies, parameters) and every fact of `when` are checked by the
# loader against the closed vocabulary (paht/rules/vocabulary.py), the pack's agencies and parameters
class OnMiss(Closed):
    """action flag_late, or reject with a reason code (the loader checks the values)"""
    action: Any = None
    reason: Any = None


class Duration(Closed):
    amount: Any = None
    unit: Any = None


class Then(Closed):
    action: str
    reason: str = None
    check: str = None
    lead: str = None
    co: list[str] = None
    immediate: bool = None
    amount: Union[float, str] = None
    unit: Literal["min", "h", "d", "wh", "wd"] = None
    deadline: str = Field(None, pattern=r"^\$")
    warn_at: float = Field(None, gt=0, lt=1)
    on_miss: OnMiss = None
    duration: Union[str, Duration] = Field(None, description="$parameter, or amount and unit (the loader checks the "
                                                             "values)")


class Rule(Closed):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    article: str = Field(min_length=4)
    title: str = None
    # fact name → test: open (the compiler checks each fact against the stage's closed list)
    when: Annotated[Union[dict[str, Any], None], WithJsonSchema({"type": ["object", "null"]})] = None
    then: Then
    message: str = None
    message_en: str = None
    rejection_message: Union[str, None] = None
    rejection_message_en: str = None
    note: str = Field(None, json_schema_extra=documentation_only(
        "a reading behind the rule, for people reading the pack"))


class Stage(Closed):
    """Closed: every mapping refuses a key it does not list, except `when` (fact name → test; the compiler checks
    each fact against the stage's closed list)."""
    model_config = ConfigDict(extra="forbid", title="A stage file of a rule pack (acceptance.yaml, routing.yaml, "
                                                    "sla.yaml, penalties.yaml)")
    stage: Literal["acceptance", "routing", "sla", "penalties"]
    notes: str = Field(None, json_schema_extra=documentation_only(
        "the readings behind the stage's rules, for people reading the pack"))
    rules: list[Rule]


# ---- cases/*.yaml -------------------------------------------------------------------------------------------------
# a case's `expect` takes only what its stage checks (an expectation a stage does not check would pass silently):
# chosen by `if stage … then expect: <its model>`, so an unknown key is named against the right stage's keys
class AcceptanceExpect(Closed):
    decision: Literal["accepted", "needs_supplement", "rejected", "forwarded_for_monitoring"] = None
    reasons: list[str] = None
    warnings: list[str] = None
    checks: list[str] = None
    rules: list[str] = None
    not_rules: list[str] = None


class RoutingExpect(Closed):
    decision: Literal["route", "unresolved"] = None
    lead: Union[str, None] = None
    co: list[str] = None
    immediate: bool = None
    rule: Union[str, None] = None
    not_rules: list[str] = None


class OnMissExpect(Closed):
    action: Literal["flag_late", "reject"]
    reason: str = None


class SlaExpect(Closed):
    decision: Annotated[Union[Literal["set_deadline", "no_deadline"], None],
                        WithJsonSchema({"enum": ["set_deadline", "no_deadline", None]})] = None
    amount: float = None
    unit: Literal["min", "h", "d", "wh", "wd"] = None
    on_miss: OnMissExpect = None
    due: str = None
    charged: Literal["centre", "agency", "reporter"] = None
    rule: Union[str, None] = None
    not_rules: list[str] = None


class PenaltiesExpect(Closed):
    actions: list[str] = None
    rules: list[str] = None
    not_rules: list[str] = None


EXPECTS = {"acceptance": AcceptanceExpect, "routing": RoutingExpect, "sla": SlaExpect, "penalties": PenaltiesExpect}


class Case(Closed):
    name: str
    article: str
    stage: Literal["acceptance", "routing", "sla", "penalties"]
    # fact name → value: paht/rules/cases.py checks each fact against the stage's closed list
    facts: dict[str, Any]
    expect: dict[str, Any]
    start: str = None

    def model_post_init(self, _context) -> None:
        EXPECTS[self.stage].model_validate(self.expect)


class Cases(RootModel[list[Case]]):
    """Closed: a case, and its expect for its stage, refuse a key they do not list. `facts` is fact name → value;
    paht/rules/cases.py checks each fact against the stage's closed list."""
    model_config = ConfigDict(title="cases/*.yaml: worked examples of a pack, each naming the article it exercises")


GENERATED: dict[str, type[BaseModel]] = {"wordlist": Wordlist, "categories": Categories, "agencies": Agencies,
                                          "articles": Articles, "stage": Stage, "cases": Cases}


def _with_expects(body: dict) -> dict:
    """The cases schema with a case's `if stage … then expect` clauses and the expectation models they name."""
    defs = body.setdefault("$defs", {})
    defs["Case"]["allOf"] = [{"if": {"properties": {"stage": {"const": stage}}},
                              "then": {"properties": {"expect": {"$ref": f"#/$defs/{model.__name__}"}}}}
                             for stage, model in EXPECTS.items()]
    for model in EXPECTS.values():
        schema = model.model_json_schema(schema_generator=_Generator, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    body["$defs"] = dict(sorted(defs.items()))
    return body


class _Generator(GenerateJsonSchema):
    """pydantic's schema without the titles it makes up for every field and without `default: null` (a key that
    may be left out is not one that may be null)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def default_schema(self, schema):
        inner = self.generate_inner(schema["schema"])
        if schema.get("default", 0) is not None:
            return super().default_schema(schema)
        return inner


def json_schema(kind: str) -> dict:
    """The JSON Schema of a generated kind, as rules/schema/<kind>.schema.json holds it."""
    model = GENERATED[kind]
    body = model.model_json_schema(schema_generator=_Generator)
    if model is Cases:
        body = _with_expects(body)
    body.pop("title", None)
    about = " ".join((body.pop("description", None) or "").split())   # the model's docstring, on one line
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID.format(kind=kind),
            "title": model.model_config.get("title"),
            "description": (f"{about} " if about else "") + f"GENERATED from paht/rules/models.py {model.__name__} by "
                           "scripts/pack-schemas: do not edit. Closed: every mapping refuses a key it does not list."}
    return {**head, **body}


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), ensure_ascii=False, indent=2) + "\n"
