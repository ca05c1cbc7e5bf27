"""Per-category deadlines (issue 24 item 3): the sla stage may test the report's `category`.

None of the five seeds sets a deadline per field, so this edits a copy of Huế's pack the way a regulation that does
would be written (Đà Nẵng 960/QĐ-UBND 2021, as summarised by its centre: "không quá 03 ngày làm việc đối với các lĩnh
vực hạ tầng đô thị, vệ sinh môi trường, an ninh trật tự, trật tự đô thị"). The rule cites an article Huế's regulation
has, because `check` verifies every citation against the pack's own articles.yaml.
"""
from __future__ import annotations

from paht.rules import load_pack
from paht.rules.cases import run_cases
from paht.sla_facts import sla_facts
from tests.unit.pack_files import edit, refused

CATEGORY_RULE = """rules:
  - id: tth-sla-process-urban
    article: Điều 11 khoản 2
    title: Hạ tầng đô thị, vệ sinh môi trường, trật tự đô thị — thời hạn xử lý riêng của lĩnh vực
    when: {all: [{step: process}, {category: {in: [roads_traffic, waste_sanitation, urban_order]}}]}
    then: {action: set_deadline, amount: 3, unit: wd}
"""

CASES = """- name: Phản ánh trật tự đô thị có thời hạn xử lý riêng của lĩnh vực
  article: Điều 11 khoản 2
  stage: sla
  facts: {step: process, category: urban_order}
  expect: {amount: 3, unit: wd, rule: tth-sla-process-urban}
- name: Phản ánh lĩnh vực khác theo thời hạn xử lý chung
  article: Điều 11 khoản 2
  stage: sla
  facts: {step: process, category: health}
  expect: {rule: tth-sla-process, not_rules: [tth-sla-process-urban]}
"""


def with_category_rule(pack_dir):
    edit(pack_dir / "sla.yaml", "rules:\n", CATEGORY_RULE)
    (pack_dir / "cases" / "category.yaml").write_text(CASES, encoding="utf-8")
    return load_pack(pack_dir)


def test_a_deadline_per_category_decides_by_the_reports_category(pack_copy):
    pack = with_category_rule(pack_copy)
    urban = pack.evaluate("sla", sla_facts({"category": "urban_order", "assigned_agencies": ["a"]}, "process"))
    other = pack.evaluate("sla", sla_facts({"category": "health", "assigned_agencies": ["a"]}, "process"))
    assert (urban["rule"], urban["amount"], urban["unit"]) == ("tth-sla-process-urban", 3, "wd")
    assert other["rule"] == "tth-sla-process"


def test_the_worked_cases_of_a_category_deadline_pass(pack_copy):
    pack = with_category_rule(pack_copy)
    mine = [result for result in run_cases(pack) if result.file == "category.yaml"]
    assert len(mine) == 2 and all(result.ok for result in mine), [result.detail for result in mine]


def test_sla_facts_carry_the_category():
    assert sla_facts({"category": "fire_rescue"}, "process")["category"] == "fire_rescue"
    assert sla_facts({}, "process")["category"] == ""


def test_check_refuses_a_category_no_report_can_have(pack_copy):
    edit(pack_copy / "sla.yaml", "rules:\n", CATEGORY_RULE.replace("urban_order]", "urban_ordr]"))
    assert "urban_ordr" in str(refused(pack_copy))
