"""The pydantic models of the pack files whose JSON Schemas are generated (rules/schema/<kind>.schema.json, written
by `scripts/pack-schemas`; tests/unit/test_pack_schemas.py fails when a committed schema differs from its model's).

The loader validates a file against its schema (jsonschema, every error with its file and line; an unknown key with
the known key nearest to it), so the model is the one source of what a file may hold. `x-documentation-only` marks
a key no code reads (with the reason), as the hand-written schemas did.

Every kind is generated now (pack.yaml last); HAND_WRITTEN would name one that is not.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema, model_validator
from pydantic.json_schema import GenerateJsonSchema

SCHEMA_ID = "https://paht.example/schema/{kind}.schema.json"
HAND_WRITTEN: tuple[str, ...] = ()
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


# ---- pack.yaml ---------------------------------------------------------------------------------------------------
HHMM = r"^\d{2}:\d{2}$"
UNITS = Literal["min", "h", "d", "wh", "wd"]
Window = Annotated[list[Annotated[str, Field(pattern=HHMM)]], Field(min_length=2, max_length=2)]
Article = Annotated[str, Field(min_length=4)]
READER_NOTE = "a note for people reading the pack"


def documentation_article(reason: str = "the citation of its clause, for people reading the pack; no decision "
                                         "records it", required: bool = True) -> Any:
    return Field(... if required else None, min_length=4, json_schema_extra=documentation_only(reason))


def note_field(reason: str = READER_NOTE) -> Any:
    return Field(None, json_schema_extra=documentation_only(reason))


class PackPart(Closed):
    """Strict as the schema is: a YAML `yes` or 1 is not taken for a boolean, nor true for a number."""
    model_config = ConfigDict(extra="forbid", strict=True)


def one_of(schema: dict) -> None:
    """A union whose branches exclude each other: `oneOf`, as the format says it, where pydantic writes `anyOf`."""
    schema["oneOf"] = schema.pop("anyOf")


class Boundary(PackPart):
    """The pack's ward polygons and where they come from, files of its own folder (a new province brings its wards
    with it)"""
    file: str = Field(pattern=r"^[^/.][^:]*\.geojson$", description="a GeoJSON FeatureCollection, one Feature per "
                                                                    "ward with ward_code, ward_name, province_name")
    licence: str = Field(pattern=r"^[^/.][^:]*$", description="the licence of the polygons (a file of the pack)")
    source: str = Field(pattern=r"^[^/.][^:]*$", description="who made them and how (a file of the pack)")


class Regulation(PackPart):
    title: str = Field(json_schema_extra=documentation_only("names the regulation for people reading the pack"))
    number: Union[str, None] = None
    date: Union[str, None] = Field(None, json_schema_extra=documentation_only(
        "the regulation's date, for people reading the pack"))
    seed: str = Field(json_schema_extra=documentation_only(
        "the source: the file of the regulation's text the pack was written from"))


class Intake(PackPart):
    normal_windows: Union[list[Window], None] = None
    working_days_only: bool = None
    receive_counts_from: Literal["submission", "verification"] = None
    article: str = None
    note: str = note_field()


class Parameter(PackPart):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["amount", "unit"]}, {"required": ["value"]}]})
    amount: float = None
    unit: UNITS = None
    value: Any = None
    article: str = documentation_article("the citation of the parameter; a decision cites its rule's article")
    note: str = note_field("the regulation's words or a reading, for people reading the pack")

    @model_validator(mode="after")
    def _check(self):
        given = self.model_fields_set
        if ({"amount", "unit"} <= given) == ("value" in given):
            raise ValueError("a parameter has amount and unit, or value")
        return self


class Unsatisfied(PackPart):
    action: Literal["new_report", "clarify", "reprocess"]
    article: str = None


class Level(PackPart):
    id: str
    label: str
    counts_as: Literal["satisfied", "accepted", "unsatisfied"]


class RatingScale(PackPart):
    article: str = None
    unsatisfied: Unsatisfied = None
    levels: list[Level] = Field(min_length=2)


class Cited(PackPart):
    """a clause the pack has, with its article (present = the regulation has it)"""
    article: Article


class CitedOnly(PackPart):
    """a clause the pack has (present = the regulation has it); its article is not recorded"""
    article: str = documentation_article()


class Rework(PackPart):
    format: Cited = None
    content: Cited = None


class ReporterContact(PackPart):
    agencies: Literal["consent", "unless_private", "on_request", "always"]
    article: str = documentation_article(required=False)


class Templates(PackPart):
    result_letter: str = None


class Letter(PackPart):
    model_config = ConfigDict(extra="forbid", json_schema_extra=documentation_only(
        "names the regulation's form (Mẫu) that templates.result_letter writes; the template is what code reads"))
    form: str = Field(None, json_schema_extra=documentation_only("the form's name in the regulation"))
    article: str = documentation_article(required=False)


class AfterPhotos(PackPart):
    article: str = None
    categories: list[str]


class Publication(PackPart):
    operator_review: bool = Field(None, description="true: an approved result waits for the centre's publish or "
                                                    "rework")
    operator_review_article: str = Field(None, min_length=4, json_schema_extra=documentation_only(
        "the citation of operator_review; the review records no article"))
    rework: Rework = None
    private_on_request: Cited = None
    state_secrets: Cited = None
    update: Cited = Field(None, description="the centre may reopen a result already returned for an update "
                                            "(`reopen`)")
    non_public: Cited = None
    hide_personal_data_on_request: CitedOnly = None
    reporter_contact: ReporterContact = None
    retention_days: Union[Annotated[int, Field(ge=1)], None] = None
    retention_article: str = Field(None, min_length=4, json_schema_extra=documentation_only(
        "the citation of retention_days; the purge records no article"))
    templates: Templates = None
    letter: Letter = None
    after_photos_required: AfterPhotos = None


class Cancellation(PackPart):
    allowed: bool = None
    article: str = None
    note: str = note_field()


class Designation(PackPart):
    role: Literal["lead", "coordinator"]
    article: str = documentation_article(required=False)


class Extension(PackPart):
    """the extension of the processing deadline as the seed describes it (the staff actions extend, set_extension);
    without it the agency sets the new time itself and the reporter reads it in the public view"""
    article: Article
    notice_to_reporter: bool = Field(description="the agency's written notice and commitment are sent to the "
                                                 "reporter (văn bản thông báo và cam kết ... gửi đến tổ chức, cá nhân)")
    due_set_by: Literal["agency", "centre"] = Field(description="centre: the centre sets the new time in the system "
                                                                "from the agency's notice (set_extension)")
    once: bool = Field(description="the agency commits to a final time (thời hạn xử lý dứt điểm): one extension per "
                                   "processing deadline")
    note: str = note_field()


class TextEdit(PackPart):
    """the centre standardises the report's text on receipt (edit_text): spelling and format of the description and
    title, never the content; the original stays beside the edit"""
    article: Article
    note: str = note_field()


class SanctionClause(PackPart):
    article: Article
    status_updates: bool = Field(description="the seed asks for status updates meanwhile (đồng thời thông tin phản "
                                             "hồi tình trạng xử lý): the status_update action; no seed gives an "
                                             "interval")


class AtLeastOne(PackPart):
    """A mapping whose keys are each optional, but not all: `empty` says what an empty one lacks."""
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    empty: ClassVar[str]

    @model_validator(mode="after")
    def _check(self):
        if not self.model_fields_set:
            raise ValueError(self.empty)
        return self


class SanctionProcedure(AtLeastOne):
    """reports handled under an administrative-sanction procedure (the staff action sanction_procedure): the pack's
    sla rule then times no processing; a clause per procedure the seed has one for (normal, immediate = urgent)"""
    empty: ClassVar[str] = "sanction_procedure names at least one procedure"
    normal: SanctionClause = None
    immediate: SanctionClause = None
    note: str = note_field()


class ReferralReason(PackPart):
    article: Article
    to: str = Field(None, min_length=2, description="another recipient for this reason (ST-22 Điều 28 khoản 2: "
                                                    "Lãnh đạo tỉnh)")


class ReferralReasons(AtLeastOne):
    empty: ClassVar[str] = "reasons names at least one reason"
    co_agencies_disagree: ReferralReason = None
    not_thorough: ReferralReason = None
    no_agency: ReferralReason = None
    not_handled: ReferralReason = None


class ProvinceReferral(PackPart):
    """the centre's report of one report to the province (refer_to_province): who reports, to whom, the letter's
    template and the reasons the seed names"""
    by: str = Field(min_length=2)
    to: str = Field(min_length=2)
    template: str = Field(pattern=r"^templates/.+\.j2$")
    reasons: ReferralReasons
    note: str = note_field()


Date = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class DaySwaps(PackPart):
    extra_days_off: list[Date] = None
    extra_working_days: list[Date] = None


class DaysAfterEnd(PackPart):
    days_after_end: int = Field(ge=0)


class DayOfMonth(PackPart):
    day_of_month: int = Field(ge=1, le=28)


class MonthDay(PackPart):
    month_day: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


class EndOfWorkingDay(PackPart):
    """a report for each working day of the pack's calendar, at the close of its office hours"""
    end_of_working_day: Literal[True]


def _due(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def _period(kind, period: str, due: dict) -> dict:
    kind = {"enum": kind} if isinstance(kind, list) else {"const": kind}
    return {"if": {"properties": {"kind": kind}},
            "then": {"properties": {"period": {"const": period}, "due": due}}}


# a report's kind has its period, and a due its period can have (added to Schedule's schema by json_schema: pydantic
# resolves only the references it made itself)
SCHEDULE_PERIODS = [
    _period("daily", "day", {"oneOf": [_due("DaysAfterEnd"), _due("EndOfWorkingDay")]}),
    _period("weekly", "week", _due("DaysAfterEnd")),
    _period("monthly", "month", {"not": _due("MonthDay")}),
    _period("quarterly", "quarter", {"not": _due("MonthDay")}),
    _period(["yearly", "home_affairs"], "year", {"not": _due("DayOfMonth")})]


class Schedule(PackPart):
    kind: Literal["daily", "weekly", "monthly", "quarterly", "yearly", "home_affairs"]
    period: Literal["day", "week", "month", "quarter", "year"]
    due: Union[DaysAfterEnd, DayOfMonth, MonthDay, EndOfWorkingDay] = Field(json_schema_extra=one_of)
    to: str = Field(min_length=2)
    article: Article
    note: str = note_field("what the regulation says of this report, for people reading the pack")

    @model_validator(mode="after")
    def _check(self):
        period, dues = SCHEDULE_DUES[self.kind]
        if self.period != period or not isinstance(self.due, dues):
            raise ValueError(f"a {self.kind} report has period {period} and a due of {[d.__name__ for d in dues]}")
        return self


# SCHEDULE_PERIODS as the model checks it: kind → (period, the dues it can have)
SCHEDULE_DUES = {"daily": ("day", (DaysAfterEnd, EndOfWorkingDay)), "weekly": ("week", (DaysAfterEnd,)),
                 "monthly": ("month", (DaysAfterEnd, DayOfMonth, EndOfWorkingDay)),
                 "quarterly": ("quarter", (DaysAfterEnd, DayOfMonth, EndOfWorkingDay)),
                 "yearly": ("year", (DaysAfterEnd, MonthDay, EndOfWorkingDay)),
                 "home_affairs": ("year", (DaysAfterEnd, MonthDay, EndOfWorkingDay))}


class Reports(PackPart):
    """the periodic reports the regulation requires; rules/README.md explains periods, cut-off and due"""
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "dependentRequired": {"cutoff_day": ["cutoff_article"], "cutoff_article": ["cutoff_day"]}})
    article: str = documentation_article("where the reporting duty is; each report cites its own schedule article")
    cutoff_day: int = Field(None, ge=1, le=28)
    cutoff_article: str = Field(None, min_length=4, json_schema_extra=documentation_only(
        "the citation of cutoff_day; periods record no article"))
    schedule: list[Schedule] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        if ("cutoff_day" in self.model_fields_set) != ("cutoff_article" in self.model_fields_set):
            raise ValueError("cutoff_day and cutoff_article go together")
        return self


def _readings(schema: dict) -> None:
    one_of(schema)
    schema.update(documentation_only("every reading of an ambiguous article, for people reading the pack"))


class Pack(PackPart):
    """Closed: every object with fixed keys refuses any other key (`paht rules check` names it, its line and the
    nearest known key). Only `parameters` is an open map (its keys are the parameter names rules reference as $name).
    A key marked x-documentation-only is read by no code; every other key is read by the code named in
    paht/rules/readers.py."""
    model_config = ConfigDict(extra="forbid", title="pack.yaml: a regulation's metadata, parameters, hours, rating "
                                                    "scale and publication rules")
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    province: str
    boundary: Boundary
    regulation: Regulation
    timezone: str
    office_hours: list[Window] = None
    intake: Intake = None
    parameters: dict[str, Parameter] = Field(description="an open map: parameter name → its value (amount and unit, "
                                                         "or value) and article")
    rating_scale: RatingScale
    publication: Publication = None
    cancellation: Cancellation = None
    designation: Designation = None
    extension: Extension = None
    text_edit: TextEdit = None
    sanction_procedure: SanctionProcedure = None
    province_referral: ProvinceReferral = None
    day_swaps: DaySwaps = None
    reports: Reports = None
    notes: Union[str, list[str]] = Field(None, json_schema_extra=_readings)


GENERATED: dict[str, type[BaseModel]] = {"wordlist": Wordlist, "categories": Categories, "agencies": Agencies,
                                          "articles": Articles, "stage": Stage, "cases": Cases,
                                          "pack": Pack}


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
    if model is Pack:
        body["$defs"]["Schedule"]["allOf"] = SCHEDULE_PERIODS
    body.pop("title", None)
    about = " ".join((body.pop("description", None) or "").split())   # the model's docstring, on one line
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID.format(kind=kind),
            "title": model.model_config.get("title"),
            "description": (f"{about} " if about else "") + f"GENERATED from paht/rules/models.py {model.__name__} by "
                           "scripts/pack-schemas: do not edit. Closed: every mapping refuses a key it does not list."}
    return {**head, **body}


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), ensure_ascii=False, indent=2) + "\n"
