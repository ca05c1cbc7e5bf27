"""Hiding, not rejecting (issue 24 item 3): an acceptance rule `hide` accepts the report and has it received
non-publicly (no description or result in public, the result delivered privately), its rule, article and message in
the verification's detail. Written on a copy of Huế's pack: its Điều 9 khoản 2 receives sensitive reports
non-publicly ("phản ánh có liên quan đến thông tin cá nhân, phản ánh tổ chức, cá nhân cụ thể đang chờ kết quả xử
lý"), which the pack leaves to the centre's judgement (`mark_non_public`); a regulation with a condition a fact can
test would write it as such a rule."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from paht.rules import load_pack
from paht.rules.cases import run_cases
from paht.rules.vocabulary import FACTS
from services.verification.verify import acceptance_decision
from tests.unit.pack_files import edit, refused

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=7)))
HIDE_RULE = """rules:
  - id: tth-acc-hide-security
    article: Điều 9 khoản 2
    title: Phản ánh an ninh trật tự được tiếp nhận không công khai
    when: {category: security_order}
    then: {action: hide}
    message: Phản ánh được tiếp nhận không công khai.
"""
CASES = """- name: Phản ánh an ninh trật tự được tiếp nhận, không công khai
  article: Điều 9 khoản 2
  stage: acceptance
  facts: {category: security_order}
  expect: {decision: accepted, reasons: [], rules: [tth-acc-hide-security]}
- name: Phản ánh giao thông được tiếp nhận và công khai
  article: Điều 9 khoản 2
  stage: acceptance
  facts: {category: roads_traffic}
  expect: {decision: accepted, not_rules: [tth-acc-hide-security]}
"""


def hiding_pack(pack_dir):
    edit(pack_dir / "acceptance.yaml", "rules:\n", HIDE_RULE)
    (pack_dir / "cases" / "hide.yaml").write_text(CASES, encoding="utf-8")
    return load_pack(pack_dir)


def test_a_hidden_report_is_accepted_and_received_non_publicly_with_its_reason(pack_copy):
    pack = hiding_pack(pack_copy)
    facts = dict(FACTS["acceptance"], category="security_order")
    result = pack.evaluate("acceptance", facts)
    assert result["decision"] == "accepted" and result["reasons"] == []
    assert result["hidden"] == [{"rule": "tth-acc-hide-security", "article": "Điều 9 khoản 2",
                                 "message": "Phản ánh được tiếp nhận không công khai.", "message_en": None}]
    decision = acceptance_decision({"id": "PA-1", "pack": pack.id}, facts, result, "e1", NOW)
    assert decision.to_state == "accepted" and decision.patch["non_public"] is True
    assert decision.detail["hidden"][0]["rule"] == "tth-acc-hide-security"


def test_a_report_no_hide_rule_fires_on_stays_public(pack_copy):
    pack = hiding_pack(pack_copy)
    facts = dict(FACTS["acceptance"], category="roads_traffic")
    result = pack.evaluate("acceptance", facts)
    assert result["hidden"] == []
    assert "non_public" not in acceptance_decision({"id": "PA-1", "pack": pack.id}, facts, result, "e1", NOW).patch


def test_the_worked_cases_of_a_hide_rule_pass(pack_copy):
    mine = [r for r in run_cases(hiding_pack(pack_copy)) if r.file == "hide.yaml"]
    assert len(mine) == 2 and all(r.ok for r in mine), [r.detail for r in mine]


def test_check_refuses_a_reason_on_hide(pack_copy):
    edit(pack_copy / "acceptance.yaml", "rules:\n",
         HIDE_RULE.replace("{action: hide}", "{action: hide, reason: OUT_OF_SCOPE}"))
    assert "reason" in str(refused(pack_copy))
