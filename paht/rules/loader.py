"""Loading a pack: every file validated (JSON Schema + closed vocabulary + references), then compiled. All or
nothing: a pack with one bad rule never loads."""
from __future__ import annotations

import json
from pathlib import Path

from paht.schemas import REASON_CODES

from .compiler import Compiler
from .errors import PackError
from .schema import validate
from .vocabulary import (
    ACTION_FIELDS,
    ACTIONS,
    CHECKS,
    ROUTE_TARGETS,
    UNITS,
)
from .yamlfile import key_line, line_of, plain, read_yaml

STAGES = ("acceptance", "routing", "sla", "penalties")
FIXED_AGENCIES = ("trung-tam", "so-xay-dung", "so-nong-nghiep-moi-truong", "cong-an", "so-y-te", "so-giao-duc",
                  "so-cong-thuong", "so-van-hoa", "dien-luc", "cap-nuoc", "chieu-sang", "moi-truong-do-thi")


def load_agencies(pack_dir: Path) -> dict[str, dict]:
    path = pack_dir / "agencies.yaml"
    if not path.exists():
        return {}
    document = read_yaml(path)
    validate(document, "agencies", path)
    agencies = {}
    for agency in document["agencies"]:
        if agency["id"] in agencies:
            raise PackError(f"duplicate agency id {agency['id']}", str(path), line_of(agency))
        # routing's ward_committee is the agency ubnd-<the report's ward code>: the directory must say the same
        if agency["kind"] == "ward_committee" and agency["id"] != f"ubnd-{agency['ward_code']}":
            raise PackError(f"ward committee {agency['id']} serves ward_code {agency['ward_code']}: its id is "
                            f"ubnd-{agency['ward_code']} (routing's ward_committee finds it by that id)", str(path),
                            line_of(agency))
        agencies[agency["id"]] = plain(agency)
    return agencies


class _StageChecker:
    def __init__(self, stage: str, path: Path, parameters: dict, agencies: dict, domains: dict | None = None):
        self.stage, self.path, self.parameters, self.agencies = stage, path, parameters, agencies
        self.domains = domains or {}
        self.parameters_used: set[str] = set()

    def duration_parameter(self, reference, where) -> dict:
        name = str(reference)[1:]
        param = self.parameters.get(name)
        if not str(reference).startswith("$") or param is None or "amount" not in param:
            raise PackError(f"unknown duration parameter {reference} (a parameter of pack.yaml with amount and unit)",
                            *where)
        self.parameters_used.add(name)
        return param

    @staticmethod
    def check_duration(amount, unit, what: str, where) -> None:
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise PackError(f"{what} amount is a positive number, not {amount!r}", *where)
        if unit not in UNITS:
            raise PackError(f"{what} without a valid unit (one of {', '.join(UNITS)}), got {unit!r}", *where)

    def check_then(self, rule: dict, where) -> dict:
        then = plain(rule["then"])
        action = then["action"]
        if action not in ACTIONS[self.stage]:
            raise PackError(f"unknown action {action!r} for stage {self.stage} (one of {', '.join(ACTIONS[self.stage])})",
                            *where)
        extra = sorted(set(then) - {"action"} - set(ACTION_FIELDS[action]))
        if extra:
            takes = ", ".join(ACTION_FIELDS[action]) or "nothing else"
            raise PackError(f"{action} does not take {', '.join(extra)} (it takes {takes})", *where)
        if action in ("reject", "request_supplement", "warn") and then.get("reason") not in REASON_CODES:
            raise PackError(f"{action} needs one of the reason codes (paht.rules.vocabulary), got {then.get('reason')!r}", *where)
        if "check" in then:
            if then["check"] not in CHECKS:
                raise PackError(f"unknown check {then['check']!r} (one of {', '.join(CHECKS)})", *where)
            if "rejection_message" not in rule:
                raise PackError(f"a warn with check {then['check']} needs the rejection_message the reporter reads "
                                "when the operator rejects it (null: the seed gives no ground to reject, the "
                                "operator can only confirm)", *where)
        if action == "route":
            if not isinstance(then.get("co", []), list):
                raise PackError("route co is a list of agencies", *where)
            for target in [then.get("lead")] + list(then.get("co") or []):
                if target is None:
                    raise PackError("route needs a lead", *where)
                if target not in ROUTE_TARGETS and not self.known_agency(target):
                    raise PackError(f"unknown agency {target!r} in route (an id of agencies.yaml or "
                                    f"{', '.join(ROUTE_TARGETS)})", *where)
        if action == "set_deadline":
            if "deadline" in then:
                if "amount" in then or "unit" in then:
                    raise PackError("set_deadline takes deadline: $parameter or amount and unit, not both", *where)
                param = self.duration_parameter(then.pop("deadline"), where)
                then["amount"], then["unit"] = param["amount"], param["unit"]
            if "amount" not in then:
                raise PackError("set_deadline needs amount and unit (or deadline: $parameter)", *where)
            self.check_duration(then["amount"], then.get("unit"), "deadline", where)
            on_miss = then.get("on_miss") or {"action": "flag_late"}
            if on_miss.get("action") not in ("flag_late", "reject"):
                raise PackError("on_miss action is flag_late or reject", *where)
            if set(on_miss) - {"action", "reason"}:
                raise PackError(f"on_miss takes action and reason, not {', '.join(sorted(set(on_miss) - {'action', 'reason'}))}",
                                *where)
            if on_miss["action"] == "reject" and on_miss.get("reason") not in REASON_CODES:
                raise PackError(f"on_miss reject needs a reason code, got {on_miss.get('reason')!r}", *where)
            if on_miss["action"] == "flag_late" and "reason" in on_miss:
                raise PackError("on_miss flag_late takes no reason", *where)
            then["on_miss"] = on_miss
        if action in ("lock_account", "lock_interaction") and "duration" in then:
            duration = then["duration"]
            if isinstance(duration, str):
                param = self.duration_parameter(duration, where)
                duration = {"amount": param["amount"], "unit": param["unit"]}
            elif set(duration) - {"amount", "unit"}:
                raise PackError(f"duration takes amount and unit, not {', '.join(sorted(set(duration) - {'amount', 'unit'}))}",
                                *where)
            self.check_duration(duration.get("amount"), duration.get("unit"), "duration", where)
            then["duration"] = {"amount": duration["amount"], "unit": duration["unit"]}
        return then

    def known_agency(self, agency_id: str) -> bool:
        if self.agencies:
            return agency_id in self.agencies
        return agency_id in FIXED_AGENCIES or agency_id.startswith("ubnd-")

    def load(self) -> list[dict]:
        document = read_yaml(self.path)
        validate(document, "stage", self.path)
        if document["stage"] != self.stage:
            raise PackError(f"stage is {document['stage']!r}, expected {self.stage!r}", str(self.path),
                            line_of(document))
        rules, seen = [], {}
        for rule in document["rules"]:
            where = (str(self.path), line_of(rule), rule["id"])
            if rule["id"] in seen:
                raise PackError(f"duplicate rule id (first at line {seen[rule['id']]})", *where)
            seen[rule["id"]] = line_of(rule)
            compiler = Compiler(self.stage, self.parameters, where, self.domains)
            compiled = compiler.condition(rule.get("when"))
            then = self.check_then(rule, where)
            self.parameters_used |= compiler.parameters_used
            rules.append({"id": rule["id"], "article": rule["article"], "title": rule.get("title"),
                          "when": plain(rule.get("when")), "then": then,
                          "message": rule.get("message"), "message_en": rule.get("message_en"),
                          "rejection_message": rule.get("rejection_message"),
                          "rejection_message_en": rule.get("rejection_message_en"),
                          "line": line_of(rule), "file": self.path.name, "condition": compiled,
                          "facts_used": sorted(compiler.used),
                          "literals": {fact: sorted(values, key=str) for fact, values in compiler.literals.items()}})
        return rules


def inside_pack(pack_dir: Path, name: str, what: str, where) -> Path:
    """A file a pack names, which must be in its own folder (a pack carries what it needs)."""
    path = (pack_dir / name).resolve()
    if not path.is_relative_to(pack_dir.resolve()):
        raise PackError(f"{what} {name!r} is outside the pack's folder: copy it into the pack", *where)
    if not path.is_file():
        raise PackError(f"{what} {name!r} is not a file of the pack's folder", *where)
    return path


def check_boundary(pack_dir: Path, meta, agencies: dict) -> None:
    """The ward polygons (`boundary.file`), their licence and source are files of the pack; the polygons are a
    GeoJSON FeatureCollection whose every feature says its ward; every ward committee of agencies.yaml serves one
    of its wards."""
    from paht.geo import WARD_PROPERTIES
    boundary = meta["boundary"]
    where = (str(pack_dir / "pack.yaml"), key_line(meta, "boundary"))
    for key in ("licence", "source"):
        inside_pack(pack_dir, boundary[key], f"boundary {key}", where)
    path = inside_pack(pack_dir, boundary["file"], "boundary file", where)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackError(f"not GeoJSON: {exc}", str(path), None) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or not features:
        raise PackError("a GeoJSON FeatureCollection with one Feature per ward is expected", str(path), None)
    wards = set()
    for index, feature in enumerate(features):
        feature = feature if isinstance(feature, dict) else {}
        properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        missing = [key for key in WARD_PROPERTIES if not properties.get(key)]
        if missing or not isinstance(feature.get("geometry"), dict):
            raise PackError(f"feature {index} lacks {', '.join(missing) or 'a geometry'} (each ward: "
                            f"{', '.join(WARD_PROPERTIES)} and a polygon)", str(path), None)
        wards.add(str(properties["ward_code"]))
    for agency in agencies.values():
        if agency.get("kind") == "ward_committee" and str(agency.get("ward_code")) not in wards:
            raise PackError(f"ward committee {agency['id']} serves ward_code {agency.get('ward_code')}, which is not a "
                            f"ward of {boundary['file']}", str(pack_dir / "agencies.yaml"), None)


def load_categories(pack_dir: Path) -> set[str] | None:
    """The category ids of the categories.yaml beside the pack (else of the rules folder)."""
    from . import rules_root
    for path in (pack_dir.parent / "categories.yaml", rules_root() / "categories.yaml"):
        if path.exists():
            document = read_yaml(path)
            validate(document, "categories", path)
            return {item["id"] for item in document["categories"]}
    return None


def load_pack(path):
    """The pack in folder `path`, checked and compiled (a `Pack`), or PackError."""
    from .pack import Pack
    pack_dir = Path(path)
    if not (pack_dir / "pack.yaml").exists():
        raise PackError("no pack.yaml here", str(pack_dir / "pack.yaml"), None)
    meta_path = pack_dir / "pack.yaml"
    meta = read_yaml(meta_path)
    validate(meta, "pack", meta_path)
    if meta["id"] != pack_dir.name:
        raise PackError(f"id {meta['id']!r} differs from the folder name {pack_dir.name!r}", str(meta_path), 1)
    parameters = plain(meta.get("parameters") or {})
    parameter_lines = {name: line_of(value, line_of(meta)) for name, value in (meta.get("parameters") or {}).items()}
    agencies = load_agencies(pack_dir)
    check_boundary(pack_dir, meta, agencies)
    domains = {"@categories": load_categories(pack_dir), "@agencies": set(agencies) if agencies else None}
    stages, parameters_used = {}, set()
    for stage in STAGES:
        stage_path = pack_dir / f"{stage}.yaml"
        if stage_path.exists():
            checker = _StageChecker(stage, stage_path, parameters, agencies, domains)
            stages[stage] = checker.load()
            parameters_used |= checker.parameters_used
    pack = Pack(pack_dir, plain(meta), parameters, agencies, stages)
    pack.parameters_used, pack.parameter_lines = parameters_used, parameter_lines
    return pack
