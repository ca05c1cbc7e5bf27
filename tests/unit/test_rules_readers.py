"""Every key of the pack format is read by code or marked documentation only (issue 21 item 6, issue 24 item 1):
paht/rules/readers.py names the modules that read each key, the schemas mark the rest `x-documentation-only`
with a reason, and `paht rules check` names a key that is neither."""
from __future__ import annotations

import ast
import json
import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from paht.rules import audit, cli, load_pack, rules_root
from paht.rules.readers import READ_BY
from paht.rules.schema import NAMES, schema_keys
from tests.unit.pack_files import edit, line_of, refused

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def names_in(module: str) -> frozenset[str]:
    """The strings, attribute names, names and field names a module mentions."""
    found = set()
    for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            found.add(node.arg)
    return frozenset(found)


def unread(kind: str, schema_path: str, modules: tuple[str, ...]) -> str | None:
    """Why the modules listed for a key do not read it (None when they mention every key of its path)."""
    keys = [part for part in schema_path.split("/") if part not in ("[]", "*")]
    gone = [m for m in modules if not (ROOT / m).exists()]
    if gone:
        return f"{kind} {schema_path}: {', '.join(gone)} is gone: name the module that reads it now"
    mentioned = set().union(*(names_in(m) for m in modules))
    missing = [key for key in keys if key not in mentioned]
    if missing:
        return f"{kind} {schema_path}: {', '.join(modules)} never mention {', '.join(missing)}"
    idle = [m for m in modules if not set(keys) & names_in(m)]
    if idle:
        return f"{kind} {schema_path}: {', '.join(idle)} mentions none of {', '.join(keys)}"
    return None


def test_every_key_of_the_format_is_read_by_code_or_documentation_only():
    neither, documentation = [], {}
    for name in NAMES:
        for schema_path, reason in schema_keys(name).paths().items():
            if reason:
                documentation[f"{name} {schema_path}"] = reason
            elif schema_path not in READ_BY.get(name, {}):
                neither.append(f"{name} {schema_path}")
    assert not neither, (f"no code reads {neither}: make code read them (and list the module in "
                         "paht/rules/readers.py), remove them, or mark them x-documentation-only with the reason")
    # the keys a pack may hold that no code reads, each with its reason
    assert all(len(reason) > 20 for reason in documentation.values())
    assert {"pack notes", "pack publication/operator_review_article", "pack reports/cutoff_article",
            "pack publication/retention_article", "stage notes"} <= set(documentation)


def test_the_registry_lists_only_keys_the_schemas_have_and_none_documentation_only():
    for name, read in READ_BY.items():
        paths = schema_keys(name).paths()
        assert set(read) <= set(paths), f"{name}: not in rules/schema/{name}.schema.json: {set(read) - set(paths)}"
        assert not [p for p in read if paths[p]], f"{name}: listed as read yet marked documentation only"


@pytest.mark.parametrize("kind", sorted(READ_BY))
def test_each_module_listed_reads_its_keys(kind):
    problems = [problem for schema_path, modules in READ_BY[kind].items()
                if (problem := unread(kind, schema_path, modules))]
    assert not problems, problems


def test_the_reading_check_can_fail():
    assert unread("pack", "publication/operator_review", ("paht/rules/pack.py",)) is not None
    assert unread("pack", "publication/operator_review", ("services/publishing/service.py",)) is None
    assert unread("pack", "publication/operator_review", ("services/publishing/gone.py",)) is not None
    assert unread("pack", "publication/operator_review", ("services/publishing/service.py", "paht/worktime.py"))


def test_the_keys_removed_from_the_packs_are_gone_from_the_format():
    """publication.unsatisfied_reprocess repeated rating_scale.unsatisfied (TN Điều 10 khoản 4);
    publication.never_publish_rejected_with_personal_data switched nothing (no code publishes a rejected report):
    its article is a note of TTH and VL now."""
    paths = schema_keys("pack").paths()
    assert "publication/unsatisfied_reprocess" not in paths
    assert "publication/never_publish_rejected_with_personal_data" not in paths
    assert "retention" not in paths


def test_check_names_a_key_no_code_reads(pack_copy, monkeypatch, capsys):
    """A schema (the rules folder's own, e.g. a mounted volume's) may allow a key no code of this release reads:
    check names it, with its line, instead of letting it pass as a setting."""
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    schema_path = pack_copy.parent / "schema" / "pack.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    publication = schema["properties"]["publication"]
    if "$ref" in publication:   # the generated schema defines the mapping once, in $defs
        publication = schema["$defs"][publication["$ref"].rsplit("/", 1)[1]]
    publication["properties"]["auto_translate"] = {"type": "boolean"}
    schema_path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    path = pack_copy / "pack.yaml"
    edit(path, "  operator_review: true\n", "  operator_review: true\n  auto_translate: true\n")
    problems = [p for p in audit.audit(load_pack(pack_copy)) if "auto_translate" in p.message]
    assert len(problems) == 1 and problems[0].line == line_of(path, "auto_translate:")
    assert "(publication/auto_translate) is read by no code" in problems[0].message
    assert cli.check([pack_copy]) == 1
    assert "auto_translate" in capsys.readouterr().out


def test_check_validates_the_word_lists(pack_copy, monkeypatch):
    shutil.copytree(rules_root() / "wordlists", pack_copy.parent / "wordlists")
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    path = pack_copy.parent / "wordlists" / "prohibited.yaml"
    edit(path, "  - {phrase: đồ chó, kind: vulgar}", "  - {phrase: đồ chó, knd: vulgar}")
    problems = audit.audit(load_pack(pack_copy))
    assert [str(p) for p in problems] == [
        f"{path}:{line_of(path, 'knd: vulgar')}: unknown key `knd` in phrases/0: did you mean `kind`?"]


def test_a_ward_committee_is_the_one_of_its_ward_code(pack_copy):
    """agencies.yaml `ward_code` is read: routing's ward_committee is the agency ubnd-<the report's ward code>, so a
    committee whose id names another ward than its ward_code would get that ward's reports."""
    path = pack_copy / "agencies.yaml"
    edit(path, "  ward_code: '19753'", "  ward_code: '19754'")
    error = refused(pack_copy)
    assert "ward committee ubnd-19753 serves ward_code 19754" in error.message
    assert error.file == str(path) and error.line == line_of(path, "- id: ubnd-19753")


def test_a_ward_committee_needs_its_ward_code(pack_copy):
    edit(pack_copy / "agencies.yaml", "  ward_code: '19753'\n", "")
    assert "'ward_code' is a required property" in refused(pack_copy).message
