"""`paht rules explain RULE_ID` (issue 24): the rule, its article, its file:line and the facts it reads."""
from paht.rules import list_packs, load_pack, rules_root
from paht.rules.cli import main
from paht.rules.explain import find_rule


def test_explain_prints_the_rule_its_article_place_and_facts(capsys):
    pack = load_pack(rules_root() / "tay-ninh-2024")
    rule = pack.rule("tn24-sla-rework-format")
    assert main(["explain", "tn24-sla-rework-format"]) == 0
    out = capsys.readouterr().out
    assert "tn24-sla-rework-format  (tay-ninh-2024, stage sla)" in out
    assert f"article:  {rule['article']}" in out
    assert f"rules/tay-ninh-2024/sla.yaml:{rule['line']}" in out
    assert '"amount": 30, "unit": "min"' in out
    facts = out.split("facts read:")[1]
    assert "rework_kind:" in facts and "step:" in facts and '"format"' in facts


def test_every_rule_of_every_pack_can_be_explained():
    packs = [load_pack(rules_root() / name) for name in list_packs()]
    for pack in packs:
        for rules in pack.stages.values():
            for rule in rules:
                assert [(p.id, r["id"]) for p, _, r in find_rule(rule["id"], packs)] == [(pack.id, rule["id"])]


def test_an_unknown_rule_is_said_so(capsys):
    assert main(["explain", "no-such-rule"]) == 1
    assert "no rule 'no-such-rule'" in capsys.readouterr().out
