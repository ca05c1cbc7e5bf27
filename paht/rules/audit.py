"""What `paht rules check` adds to loading: a pack that loads may still hold rules or keys that can never take
effect.

- an sla rule timing a step that no code opens (vocabulary.OPENED_STEPS) never runs;
- a parameter of pack.yaml that no rule references and no code reads (vocabulary.CODE_PARAMETERS) changes nothing;
- a key of any file that no code reads (readers.READ_BY) and its schema does not mark documentation only changes
  nothing;
- the shared word lists (rules/wordlists/*.yaml) follow their schema like the pack's own files;
- a citation (`article`, `*_article`) names an article, clause, point or appendix the pack's regulation does not
  have (its articles.yaml, paht/rules/citations.py).

These are not load errors (a running service keeps working while code and packs are changed together), but the
check fails on them, each with its file, line and rule.
"""
from __future__ import annotations

from pathlib import Path

from .citations import unknown_citations
from .errors import PackError
from .readers import READ_BY
from .schema import schema_keys, validate
from .vocabulary import CODE_PARAMETERS, FACT_VALUES, OPENED_STEPS
from .yamlfile import key_line, read_yaml

STAGES = ("acceptance", "routing", "sla", "penalties")


def unopened_steps(pack) -> list[PackError]:
    problems = []
    for rule in pack.stages.get("sla", []):
        for step in rule.get("literals", {}).get("step", []):
            if step not in OPENED_STEPS:
                problems.append(PackError(
                    f"times step {step!r}, which no code opens, so the rule never runs (steps opened: "
                    f"{', '.join(OPENED_STEPS)})", str(pack.path / rule["file"]), rule["line"], rule["id"]))
    return problems


def unused_parameters(pack) -> list[PackError]:
    used = set(getattr(pack, "parameters_used", ())) | set(CODE_PARAMETERS)
    lines = getattr(pack, "parameter_lines", {})
    return [PackError(f"parameter {name!r} is read by no rule ($name) and no code "
                      f"(code reads: {', '.join(CODE_PARAMETERS)}): it changes nothing",
                      str(pack.path / "pack.yaml"), lines.get(name))
            for name in pack.parameters if name not in used]


def pack_files(pack_dir: Path) -> list[tuple[str, Path]]:
    """(kind of file = its schema's name, path) of every YAML file of a pack."""
    files = [("pack", pack_dir / "pack.yaml"), ("agencies", pack_dir / "agencies.yaml"),
             ("articles", pack_dir / "articles.yaml")]
    files += [("stage", pack_dir / f"{stage}.yaml") for stage in STAGES]
    files += [("cases", path) for path in sorted((pack_dir / "cases").glob("*.yaml"))]
    return [(kind, path) for kind, path in files if path.exists()]


def shared_files(pack_dir: Path) -> list[tuple[str, Path]]:
    """The files the pack reads besides its own rule files: the category list (of the folder the pack is in, else
    of the rules folder, as the loader finds it) and the word lists (the pack's own wordlists/, else the shared
    ones, as paht/wordlists.py finds them)."""
    from . import rules_root
    categories = next((p for p in (pack_dir.parent / "categories.yaml", rules_root() / "categories.yaml")
                       if p.exists()), None)
    wordlists = next((p for p in (pack_dir / "wordlists", pack_dir.parent / "wordlists", rules_root() / "wordlists")
                      if p.is_dir()), None)
    files = [("categories", categories)] if categories else []
    if wordlists:
        files += [("wordlist", path) for path in sorted(wordlists.glob("*.yaml"))]
    return files


def unread_keys_of(kind: str, path: Path, document) -> list[PackError]:
    """The keys of one file that no code reads and its schema does not mark documentation only: one problem per
    key of the schema, at its first line."""
    keys = schema_keys(kind)
    documented = keys.paths()
    read = READ_BY.get(kind, {})
    found: dict[str, tuple[str, int | None, int]] = {}
    for schema_path, node, key in keys.key_paths(document):
        if schema_path in read or documented.get(schema_path):
            continue
        first_key, line, count = found.get(schema_path, (key, key_line(node, key), 0))
        found[schema_path] = (first_key, line, count + 1)
    return [PackError(f"key `{key}` ({schema_path}) is read by no code (paht/rules/readers.py) and "
                      f"rules/schema/{kind}.schema.json does not mark it x-documentation-only: it changes nothing"
                      + (f" ({count} times in this file)" if count > 1 else ""), str(path), line)
            for schema_path, (key, line, count) in found.items()]


def unread_keys(pack) -> list[PackError]:
    problems = []
    for kind, path in pack_files(pack.path) + shared_files(pack.path):
        try:
            document = read_yaml(path)
            if kind in ("wordlist", "articles"):   # the loader validates every other file
                validate(document, kind, path)
        except PackError as problem:
            problems.append(problem)
            continue
        problems += unread_keys_of(kind, path, document)
    return problems


def _named_templates(node, where: str = "", line=None):
    """(key path, file, line) of every template pack.yaml names (a `.j2` file of the pack's folder)."""
    if isinstance(node, dict):
        for key, item in node.items():
            yield from _named_templates(item, f"{where}.{key}" if where else key, key_line(node, key, line))
    elif isinstance(node, list):
        for item in node:
            yield from _named_templates(item, where, line)
    elif isinstance(node, str) and node.endswith(".j2"):
        yield where, node, line


def missing_templates(pack) -> list[PackError]:
    """A template pack.yaml names that the folder lacks loads, and fails only when the letter is written."""
    path = pack.path / "pack.yaml"
    return [PackError(f"{key} names {name}, which is not in the pack's folder", str(path), line)
            for key, name, line in _named_templates(read_yaml(path)) if not (pack.path / name).is_file()]


def unknown_references(pack) -> list[PackError]:
    """Names a pack file gives of something defined elsewhere: categories (pack.yaml
    publication.after_photos_required, each agency's categories) must be ids of the category list, and the kinds of
    the out-of-scope word list values the fact out_of_scope_kind can take (a rule can test no other)."""
    from .loader import load_categories
    categories = load_categories(pack.path) or set()
    problems = []
    required = ((pack.meta.get("publication") or {}).get("after_photos_required") or {}).get("categories") or []
    meta = read_yaml(pack.path / "pack.yaml")
    line = key_line(meta.get("publication") or {}, "after_photos_required")
    problems += [PackError(f"publication.after_photos_required names category {name!r}, which categories.yaml does "
                           "not have", str(pack.path / "pack.yaml"), line)
                 for name in required if name not in categories]
    for agency_id, agency in pack.agencies.items():
        unknown = [name for name in agency.get("categories") or [] if name not in categories]
        if unknown:
            problems.append(PackError(f"agency {agency_id} names categories {', '.join(unknown)}, which "
                                      "categories.yaml does not have", str(pack.path / "agencies.yaml"), None))
    kinds = set(FACT_VALUES["out_of_scope_kind"]) - {""}
    for kind, path in shared_files(pack.path):
        if kind == "wordlist" and path.stem == "out_of_scope":
            for item in read_yaml(path).get("phrases") or []:
                if isinstance(item, dict) and item.get("kind") not in kinds:
                    problems.append(PackError(f"kind {item.get('kind')!r} of {item.get('phrase')!r} is not a value of "
                                              f"out_of_scope_kind ({', '.join(sorted(kinds))}): no rule could test it",
                                              str(path), key_line(item, "kind")))
    return problems


def audit(pack) -> list[PackError]:
    """Every rule, parameter or key of a loaded pack that can never take effect."""
    return (unopened_steps(pack) + unused_parameters(pack) + unread_keys(pack) + missing_templates(pack)
            + unknown_references(pack)
            + unknown_citations(pack, [(kind, path) for kind, path in pack_files(pack.path) if kind != "articles"]))
