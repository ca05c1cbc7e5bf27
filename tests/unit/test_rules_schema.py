"""The pack format is closed (issue 21 item 6, issue 24 item 1): an unknown key anywhere fails `paht rules check`
with its file, line and the key meant; a value cut by a comma in a flow map is caught with the quoted value to
write instead; `paht rules diff` says what is wrong with a broken pack instead of a traceback."""
from __future__ import annotations

import pytest

from paht.rules import cli, list_packs, load_pack, rules_root
from paht.rules.schema import NAMES, schema_keys
from tests.unit.pack_files import edit, line_of, refused


def test_a_misspelt_key_is_refused_with_its_line_and_the_key_meant(pack_copy, capsys):
    """The review's probe: `operator_reveiw: true` used to pass check and test, and silently turned off the
    centre's review (TTH Điều 12 khoản 1)."""
    path = pack_copy / "pack.yaml"
    edit(path, "  operator_review: true\n", "  operator_reveiw: true\n")
    error = refused(pack_copy)
    assert error.message == "unknown key `operator_reveiw` in publication: did you mean `operator_review`?"
    assert error.file == str(path) and error.line == line_of(path, "operator_reveiw")
    assert cli.check([pack_copy]) == 1
    assert f"{path}:{error.line}: unknown key `operator_reveiw`" in capsys.readouterr().out


NESTED = [
    # file, the text as the pack has it, the typo, the unknown key, where (None: not checked), the key meant
    ("pack.yaml", "day_swaps:\n", "day_swap:\n", "day_swap", "", "day_swaps"),
    ("pack.yaml", "photo_max_age: {amount: 24, unit: h,", "photo_max_age: {amount: 24, uint: h,", "uint",
     "parameters/photo_max_age", "unit"),
    ("pack.yaml", "{id: hai_long, label: Hài lòng, counts_as: satisfied}",
     "{id: hai_long, label: Hài lòng, count_as: satisfied}", "count_as", "rating_scale/levels/0", "counts_as"),
    ("pack.yaml", "  rework:", "  re_work:", "re_work", "publication", "rework"),
    ("pack.yaml", "format: {article: Điều 12 khoản 2 đoạn 1}", "format: {artcle: Điều 12 khoản 2 đoạn 1}", "artcle",
     "publication/rework/format", "article"),
    ("pack.yaml", "due: {day_of_month: 20}, to: \"UBND tỉnh, Sở Thông tin và Truyền thông\",\n       article: \"Điều 23",
     "due: {day_of_month: 20, hour: 9}, to: \"UBND tỉnh, Sở Thông tin và Truyền thông\",\n       article: \"Điều 23",
     "hour", "reports/schedule/1/due", None),
    ("pack.yaml", "  role: coordinator", "  roles: coordinator", "roles", "designation", "role"),
    ("agencies.yaml", "- id: trung-tam\n", "- id: trung-tam\n  emial: a@b.vn\n", "emial", "agencies/0", "email"),
    ("sla.yaml", "on_miss: {action: reject, reason: SUPPLEMENT_TIMEOUT}",
     "on_miss: {action: reject, reasons: SUPPLEMENT_TIMEOUT}", "reasons", None, "reason"),
    ("routing.yaml", "  - id: tth-route-health\n", "  - id: tth-route-health\n    artcle: Điều 10\n", "artcle",
     None, "article"),
]


@pytest.mark.parametrize("file,old,new,typo,where,meant", NESTED)
def test_an_unknown_key_at_any_depth_of_any_file_is_refused(pack_copy, file, old, new, typo, where, meant):
    path = pack_copy / file
    edit(path, old, new)
    error = refused(pack_copy)
    assert error.message.startswith(f"unknown key `{typo}`"), error
    assert error.file == str(path) and error.line == line_of(path, f"{typo}:")
    if where is not None:
        assert f"`{typo}`{' in ' + where if where else ''}" in error.message
    assert (f"did you mean `{meant}`?" in error.message) if meant else "did you mean" not in error.message


def test_an_unknown_key_in_a_rule_names_the_rule(pack_copy):
    edit(pack_copy / "routing.yaml", "  - id: tth-route-health\n", "  - id: tth-route-health\n    notes: x\n")
    error = refused(pack_copy)
    assert error.rule_id == "tth-route-health" and "did you mean `note`?" in error.message


def test_a_typo_in_a_worked_case_is_refused(pack_copy):
    path = pack_copy / "cases" / "acceptance.yaml"
    edit(path, "expect: {decision: needs_supplement, reasons: [PHOTO_TOO_OLD]}",
         "expect: {decison: needs_supplement, reasons: [PHOTO_TOO_OLD]}")
    error = refused_cases(pack_copy)
    assert error.message == "unknown key `decison` in 1/expect: did you mean `decision`?"
    assert error.file == str(path) and error.line == line_of(path, "decison:")


def test_an_expectation_of_another_stage_is_refused(pack_copy):
    """An sla case expecting `lead` used to pass whatever happened: cases.py checks `lead` for routing only."""
    path = pack_copy / "cases" / "coverage.yaml"
    edit(path, "expect: {amount: 30, unit: min, rule: tth-sla-immediate-receive}",
         "expect: {amount: 30, unit: min, rule: tth-sla-immediate-receive, lead: so-y-te}")
    error = refused_cases(pack_copy)
    assert error.message.startswith("unknown key `lead` in ") and "/expect" in error.message
    assert error.line == line_of(path, "tth-sla-immediate-receive, lead: so-y-te")


def refused_cases(pack_dir):
    from paht.rules import PackError
    from paht.rules.cases import run_cases
    with pytest.raises(PackError) as error:
        run_cases(load_pack(pack_dir))
    return error.value


CUTS = [
    # the text as the pack has it, the same with the value cut at a comma, the value cut, the quoted fix
    ("photo_max_age: {amount: 24, unit: h, article: Điều 7 khoản 5 điểm a}",
     "photo_max_age: {amount: 24, unit: h, article: Điều 7 khoản 5 điểm a, điểm b}",
     '"điểm b" became a key', 'article: "Điều 7 khoản 5 điểm a, điểm b"'),
    # the review's example: a schedule entry's article
    ('article: "Điều 23 khoản 7; Điều 27 khoản 3", note: Trước ngày 20 hàng tháng}',
     "article: Điều 23 khoản 7, Điều 27 khoản 3, note: Trước ngày 20 hàng tháng}",
     '"Điều 27 khoản 3" became a key', 'article: "Điều 23 khoản 7, Điều 27 khoản 3"'),
    # two commas: both pieces named, the whole value given back
    ("letter: {form: Mẫu thông tin kết quả xử lý, article: Điều 11 khoản 4; Điều 12 khoản 1; Phụ lục 1}",
     "letter: {form: Mẫu thông tin kết quả xử lý, article: Điều 11 khoản 4, khoản 5, Phụ lục 1}",
     '"khoản 5" and "Phụ lục 1" became keys', 'article: "Điều 11 khoản 4, khoản 5, Phụ lục 1"'),
]


@pytest.mark.parametrize("old,new,pieces,fix", CUTS)
def test_a_citation_cut_by_a_comma_is_refused_with_the_quoted_fix(pack_copy, old, new, pieces, fix):
    path = pack_copy / "pack.yaml"
    edit(path, old, new)
    error = refused(pack_copy)
    assert pieces in error.message and error.message.endswith(f"quote the value, {fix}"), error
    assert error.file == str(path) and error.line == line_of(path, new.split(",")[-1].strip(" }")[:12])


def test_the_quoted_fix_loads_with_the_whole_citation(pack_copy):
    path = pack_copy / "pack.yaml"
    edit(path, "photo_max_age: {amount: 24, unit: h, article: Điều 7 khoản 5 điểm a}",
         'photo_max_age: {amount: 24, unit: h, article: "Điều 7 khoản 5 điểm a, điểm b"}')
    assert load_pack(pack_copy).parameters["photo_max_age"]["article"] == "Điều 7 khoản 5 điểm a, điểm b"


def test_an_empty_value_written_with_its_colon_is_no_cut(pack_copy):
    path = pack_copy / "pack.yaml"
    edit(path, "retention_days: null", "retention_days: {x: }")
    assert "retention_days" in refused(pack_copy).message and "comma" not in refused(pack_copy).message


def test_every_pack_of_the_repository_passes_the_closed_schema(capsys):
    dirs = [rules_root() / pack_id for pack_id in list_packs()]
    assert len(dirs) == 5
    assert cli.check(dirs) == 0, capsys.readouterr().out


def test_the_three_cut_citations_are_whole_again():
    """The review's finds: ST23 pack.yaml:21 and :68, VL :26 lost the text after a comma."""
    st23 = load_pack(rules_root() / "soc-trang-2023")
    assert st23.parameters["receive_time"]["article"] == "Phụ lục II, Bước 1 (xác minh, tiếp nhận và phân phối)"
    assert st23.meta["publication"]["letter"]["article"] == "Điều 14 khoản 1, khoản 2; Phụ lục I"
    vl = load_pack(rules_root() / "vinh-long-2025")
    assert vl.parameters["rework_time"]["article"] == "Điều 13 khoản 2 điểm a, điểm b"


# places whose keys are names, not a fixed set: what reads them checks each name
OPEN_PLACES = {"pack:parameters": "parameter names, referenced by rules as $name (audit: unused parameters)",
               "stage:rules/[]/when": "fact names (compiler: unknown fact)",
               "cases:[]/facts": "fact names (cases: unknown fact)",
               "articles:articles": "the regulation's article numbers (citations: unknown Điều)",
               "articles:articles/*": "an article's khoản numbers (citations: unknown khoản)"}


def _schemas_at(keys, schema_path: str) -> list[dict]:
    schemas = [keys.root]
    for part in [p for p in schema_path.split("/") if p]:
        if part == "[]":
            schemas = keys.items(schemas, unknown_instance=True)
        else:
            place = keys.place(schemas, unknown_instance=True)
            schemas = place.known.get(part) or place.others
    return schemas


def _takes_objects(keys, schemas) -> bool:
    for schema in map(keys.resolve, schemas):
        kind = schema.get("type")
        if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema \
                or _takes_objects(keys, schema.get("oneOf", [])):
            return True
    return False


def test_every_object_of_the_format_is_closed_but_the_maps_keyed_by_names():
    open_places = set()
    for name in NAMES:
        keys = schema_keys(name)
        for schema_path in [""] + list(keys.paths()):
            schemas = _schemas_at(keys, schema_path)
            if _takes_objects(keys, schemas) and not keys.place(schemas, unknown_instance=True).closed:
                open_places.add(f"{name}:{schema_path}")
    assert open_places == set(OPEN_PLACES)


# ---- paht rules diff ------------------------------------------------------------------------------------------
def test_diff_of_a_broken_pack_says_what_check_says_and_fails(pack_copy, capsys):
    edit(pack_copy / "pack.yaml", "  operator_review: true\n", "  operator_reveiw: true\n")
    assert cli.main(["check", str(pack_copy)]) == 1
    said_by_check = capsys.readouterr().out.strip()
    assert cli.main(["diff", "thua-thien-hue-2022", str(pack_copy)]) == 1
    out = capsys.readouterr().out
    assert said_by_check in out and "did you mean `operator_review`?" in out and "Traceback" not in out
    assert cli.main(["diff", str(pack_copy), "thua-thien-hue-2022"]) == 1


def test_diff_of_a_pack_that_is_not_there_fails(capsys):
    assert cli.main(["diff", "thua-thien-hue-2022", "no-such-pack"]) == 1
    assert "FAIL no-such-pack: " in capsys.readouterr().out


def test_diff_of_good_packs_shows_the_change(pack_copy, capsys):
    edit(pack_copy / "pack.yaml", "photo_max_age: {amount: 24, unit: h", "photo_max_age: {amount: 48, unit: h")
    assert cli.main(["diff", "thua-thien-hue-2022", str(pack_copy)]) == 0
    out = capsys.readouterr().out
    assert "photo_max_age" in out and "24 h" in out and "48 h" in out and "FAIL" not in out


def test_diff_names_what_check_would_refuse_in_a_pack_that_loads(pack_copy, capsys):
    edit(pack_copy / "pack.yaml", "parameters:\n", "parameters:\n  forgotten_time: {amount: 3, unit: wd, article: Điều 99}\n")
    assert cli.main(["diff", "thua-thien-hue-2022", str(pack_copy)]) == 1
    out = capsys.readouterr().out
    assert "forgotten_time" in out and "FAIL thua-thien-hue-2022: " in out
