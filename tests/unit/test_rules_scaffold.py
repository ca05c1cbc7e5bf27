"""`paht rules new PACK --from PACK` (issue 24 item 2): a new province's pack copied from an existing one, its id
and rule ids renamed, TODO notes for the author, and it passes `paht rules check` and its worked cases as it is."""
from __future__ import annotations

import shutil

import pytest

from paht import rules as registry
from paht.rules import PackError, list_packs, load_pack, rules_root
from paht.rules.audit import audit
from paht.rules.cases import run_cases
from paht.rules.cli import main
from paht.rules.scaffold import rule_prefix, scaffold

BUNDLED = rules_root()   # the fixture points the rules folder elsewhere


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty rules folder (schema, categories, word lists) as the mounted rules volume."""
    folder = tmp_path / "rules"
    shutil.copytree(BUNDLED / "schema", folder / "schema")
    shutil.copytree(BUNDLED / "wordlists", folder / "wordlists")
    shutil.copy(BUNDLED / "categories.yaml", folder / "categories.yaml")
    monkeypatch.setenv("PAHT_RULES_DIR", str(folder))
    monkeypatch.setattr(registry, "RELOAD_CHECK_SECONDS", 0.0)
    return folder


def test_prefix_from_the_pack_id():
    assert rule_prefix("quang-ngai-2025") == "qn25"
    assert rule_prefix("ha-noi") == "hn"


def test_new_pack_from_hue_checks_and_its_cases_pass(root, capsys):
    source = load_pack(BUNDLED / "thua-thien-hue-2022")
    assert main(["new", "quang-ngai-2025", "--from", str(source.path)]) == 0
    assert "ok   quang-ngai-2025" in capsys.readouterr().out
    pack = load_pack(root / "quang-ngai-2025")
    assert pack.id == "quang-ngai-2025" and audit(pack) == []
    ids = [rule["id"] for rules in pack.stages.values() for rule in rules]
    assert len(ids) == sum(len(rules) for rules in source.stages.values())
    assert all(rule_id.startswith("qn25-") for rule_id in ids)
    results = run_cases(pack)
    assert results and all(result.ok for result in results), [r.detail for r in results if not r.ok][:3]
    assert (root / "quang-ngai-2025" / "boundary" / "wards.geojson").is_file()
    todo = (root / "quang-ngai-2025" / "TODO.md").read_text(encoding="utf-8")
    assert "scripts/seed-articles" in todo and "boundary/" in todo and "agencies.yaml" in todo
    assert (root / "quang-ngai-2025" / "pack.yaml").read_text(encoding="utf-8").startswith("# TODO")
    assert list_packs() == ["quang-ngai-2025"] and registry.get_pack("quang-ngai-2025").id == "quang-ngai-2025"


@pytest.mark.parametrize("pack_id", sorted(list_packs()))
def test_every_pack_scaffolds_to_one_that_checks(root, pack_id):
    done = scaffold(BUNDLED / pack_id, root / "new-province-2026", prefix="np26")
    pack = load_pack(root / "new-province-2026")
    assert done["rules"] == sum(len(rules) for rules in pack.stages.values())
    assert audit(pack) == []


def test_refuses_an_existing_folder_and_a_bad_id(root):
    scaffold(BUNDLED / "tay-ninh-2024", root / "an-giang-2025")
    with pytest.raises(PackError, match="already exists"):
        scaffold(BUNDLED / "tay-ninh-2024", root / "an-giang-2025")
    with pytest.raises(PackError, match="not a pack id"):
        scaffold(BUNDLED / "tay-ninh-2024", root / "An Giang")
