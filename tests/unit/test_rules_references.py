"""`paht rules check` checks the names a pack gives of what is defined elsewhere (issue 24 item 1): categories named by
pack.yaml and agencies.yaml, and the kinds of the out-of-scope word list."""
from __future__ import annotations

import shutil

from paht.rules import load_pack, rules_root
from paht.rules.audit import unknown_references
from tests.unit.pack_files import edit


def test_the_packs_reference_only_what_exists():
    from paht.rules import list_packs
    for pack_id in list_packs():
        assert unknown_references(load_pack(rules_root() / pack_id)) == [], pack_id


def test_an_unknown_category_in_after_photos_required(pack_copy):
    path = pack_copy / "pack.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("after_photos_required")
    at = text.index("categories: [", start) + len("categories: [")
    path.write_text(text[:at] + "road_trafic, " + text[at:], encoding="utf-8")
    problems = unknown_references(load_pack(pack_copy))
    assert any("'road_trafic'" in p.message and p.file.endswith("pack.yaml") and p.line for p in problems), problems


def test_an_unknown_category_of_an_agency(pack_copy):
    edit(pack_copy / "agencies.yaml", "  - urban_order\n", "  - urban_ordr\n")
    problems = unknown_references(load_pack(pack_copy))
    assert any("urban_ordr" in p.message and p.file.endswith("agencies.yaml") for p in problems), problems


def test_an_out_of_scope_kind_no_rule_can_test(pack_copy):
    shutil.copytree(rules_root() / "wordlists", pack_copy / "wordlists")
    edit(pack_copy / "wordlists" / "out_of_scope.yaml", "{phrase: khiếu nại, kind: complaint}",
         "{phrase: khiếu nại, kind: complain}")
    problems = unknown_references(load_pack(pack_copy))
    assert any("'complain'" in p.message and p.file.endswith("out_of_scope.yaml") and p.line for p in problems)
