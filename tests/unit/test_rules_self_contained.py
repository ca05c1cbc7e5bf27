"""A pack carries what its province needs (issue 24 item 2): its ward polygons with their licence and source are
files of its own folder, checked by the loader; a pack folder dropped into the rules folder is live at once."""
from __future__ import annotations

import json
import shutil

from paht import rules as registry
from paht.geo import WardIndex, boundary_path
from paht.rules import list_packs, load_pack, rules_root
from tests.unit.pack_files import HUE, edit, refused


def test_every_pack_carries_its_wards_licence_and_source():
    for pack_id in list_packs():
        pack = load_pack(rules_root() / pack_id)
        boundary = pack.meta["boundary"]
        for key in ("file", "licence", "source"):
            path = (pack.path / boundary[key]).resolve()
            assert path.is_file() and path.is_relative_to(pack.path.resolve()), (pack_id, key)
        committees = {a["ward_code"] for a in pack.agencies.values() if a["kind"] == "ward_committee"}
        assert committees <= {w.code for w in WardIndex.of(pack).wards()}, pack_id
        assert boundary_path(pack.path, pack.meta) == pack.path / boundary["file"]


def test_a_boundary_outside_the_pack_is_refused(pack_copy):
    shutil.copy(pack_copy / "boundary" / "wards.geojson", pack_copy.parent / "shared.geojson")
    edit(pack_copy / "pack.yaml", "file: boundary/wards.geojson", "file: boundary/../../shared.geojson")
    error = refused(pack_copy)
    assert "outside the pack's folder" in error.message and error.file.endswith("pack.yaml") and error.line


def test_a_missing_licence_is_refused(pack_copy):
    (pack_copy / "boundary" / "LICENSE.txt").unlink()
    assert "boundary licence 'boundary/LICENSE.txt' is not a file" in refused(pack_copy).message


def test_a_ward_without_its_code_is_refused(pack_copy):
    path = pack_copy / "boundary" / "wards.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["features"][3]["properties"]["ward_code"]
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    error = refused(pack_copy)
    assert "feature 3 lacks ward_code" in error.message and error.file.endswith("wards.geojson")


def test_a_ward_committee_outside_the_polygons_is_refused(pack_copy):
    path = pack_copy / "boundary" / "wards.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    gone = document["features"].pop(0)["properties"]["ward_code"]
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    error = refused(pack_copy)
    assert f"ubnd-{gone}" in error.message and error.file.endswith("agencies.yaml")


def test_a_new_pack_folder_is_live_after_the_hot_reload(pack_copy, monkeypatch):
    """The mounted rules volume gains a folder while services run: listed and loaded without a restart."""
    root = pack_copy.parent
    monkeypatch.setenv("PAHT_RULES_DIR", str(root))
    monkeypatch.setattr(registry, "RELOAD_CHECK_SECONDS", 0.0)
    assert registry.list_packs() == [HUE.name]
    registry.get_pack(HUE.name)
    new = root / "hue-copy-2026"
    shutil.copytree(pack_copy, new)
    edit(new / "pack.yaml", f"id: {HUE.name}", "id: hue-copy-2026")
    assert set(registry.list_packs()) == {HUE.name, "hue-copy-2026"}
    pack = registry.get_pack("hue-copy-2026")
    assert pack.id == "hue-copy-2026" and pack.stages["acceptance"]
    assert WardIndex.of(pack).wards()


def test_a_pack_may_carry_its_own_word_lists(pack_copy):
    """Its own wordlists/ wins over the shared one; check validates the one it reads."""
    from paht.rules.audit import audit
    from paht.wordlists import content_facts, load_wordlists
    shared = load_wordlists(rules_root() / HUE.name)
    assert not content_facts("đường này có chuyện xyzzy", shared)["out_of_scope"]
    shutil.copytree(rules_root() / "wordlists", pack_copy / "wordlists")
    edit(pack_copy / "wordlists" / "out_of_scope.yaml", "phrases:\n", "phrases:\n  - {phrase: xyzzy, kind: dispute}\n")
    own = load_wordlists(pack_copy)
    assert content_facts("đường này có chuyện xyzzy", own)["out_of_scope_kind"] == "dispute"
    edit(pack_copy / "wordlists" / "out_of_scope.yaml", "{phrase: xyzzy, kind: dispute}", "{phrase: xyzzy, knd: dispute}")
    problems = audit(load_pack(pack_copy))
    assert any("unknown key `knd`" in problem.message and problem.file.endswith("out_of_scope.yaml")
               for problem in problems), problems
