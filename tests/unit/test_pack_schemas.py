"""The generated JSON Schemas of the pack format (issue 24 item 1): each committed rules/schema/<kind>.schema.json is
what its pydantic model in paht/rules/models.py gives (scripts/pack-schemas writes them), every pack file of that kind
meets both the schema and the model, and an unknown key is refused with its line and the nearest known key."""
from __future__ import annotations

import pytest

from paht.rules import list_packs, rules_root
from paht.rules.models import GENERATED, HAND_WRITTEN, schema_text
from paht.rules.schema import NAMES, validate
from paht.rules.yamlfile import plain, read_yaml


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_the_committed_schema_is_the_models(kind):
    committed = (rules_root() / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(kind), f"rules/schema/{kind}.schema.json is stale: run scripts/pack-schemas"


def test_every_kind_is_generated_or_named_hand_written():
    assert set(GENERATED) | set(HAND_WRITTEN) == set(NAMES)


def files_of(kind: str):
    root = rules_root()
    if kind == "wordlist":
        return sorted((root / "wordlists").glob("*.yaml"))
    if kind == "categories":
        return [root / "categories.yaml"]
    if kind == "stage":
        return [root / pack / f"{stage}.yaml" for pack in list_packs()
                for stage in ("acceptance", "routing", "sla", "penalties") if (root / pack / f"{stage}.yaml").exists()]
    if kind == "cases":
        return [path for pack in list_packs() for path in sorted((root / pack / "cases").glob("*.yaml"))]
    return [root / pack / f"{kind}.yaml" for pack in list_packs() if (root / pack / f"{kind}.yaml").exists()]


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_every_file_meets_schema_and_model(kind):
    paths = files_of(kind)
    assert paths
    for path in paths:
        document = read_yaml(path)
        validate(document, kind, path)
        GENERATED[kind].model_validate(plain(document))


def test_an_unknown_key_names_its_line_and_the_nearest_key(tmp_path):
    path = tmp_path / "agencies.yaml"
    path.write_text("agencies:\n  - id: trung-tam\n    name: Trung tâm\n    kind: centre\n    categories: []\n"
                    "    emial: tt@example.vn\n", encoding="utf-8")
    from paht.rules import PackError
    with pytest.raises(PackError) as error:
        validate(read_yaml(path), "agencies", path)
    assert error.value.line == 6 and "unknown key `emial`" in error.value.message and "`email`" in error.value.message


def test_every_key_of_every_pack_file_is_read_by_code():
    """Over all packs and the files they share: each key is read by the code paht/rules/readers.py names, or its
    schema marks it documentation only (audit.unread_keys_of, what `paht rules check` runs)."""
    from paht.rules.audit import pack_files, shared_files, unread_keys_of
    problems = []
    for pack in list_packs():
        for kind, path in pack_files(rules_root() / pack) + shared_files(rules_root() / pack):
            problems += unread_keys_of(kind, path, read_yaml(path))
    assert not problems, [str(problem) for problem in problems]
