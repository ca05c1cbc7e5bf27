"""`paht rules check` holds every citation of a pack against the articles of its regulation (articles.yaml, written
by scripts/seed-articles from the seed): a citation naming an article, khoản, điểm or Phụ lục the regulation does
not have fails, with its file and line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paht.rules import audit, cli, list_packs, load_pack, rules_root
from paht.rules.citations import cited, load_articles, missing, seed_articles
from tests.unit.pack_files import edit, line_of

ROOT = Path(__file__).resolve().parents[2]
SEEDS = Path(os.environ.get("PAHT_SEEDS_DIR") or "/nonexistent")   # the regulations' texts, outside the repository

REGULATION = """\
QUYẾT ĐỊNH
Điều 1. Ban hành kèm theo Quyết định này Quy chế ...
Điều 2. Quyết định này có hiệu lực thi hành kể từ ngày ký.
Chương I
Điều 1. Phạm vi điều chỉnh
1. Quy chế này quy định:
a) Việc tiếp nhận;
b) Việc xử lý.
2. Đối tượng áp dụng, theo 3 bước:
1. Bước một của một danh sách trong đoạn văn (không phải khoản)
Điều  . Tiếp nhận
1. Trung tâm tiếp nhận.
- a) trong vòng 24 giờ;
- b) có GPS.
Điều 1 . Phân phối
Trung tâm phân phối, không có khoản đánh số:
a) một cơ quan;
b) nhiều cơ quan.
Phụ lục I
1. Bước 1 của phụ lục
Phụ lục II
"""


def test_the_articles_of_a_regulation_are_read_from_its_text():
    found = seed_articles(REGULATION)
    # the decision's own Điều 1–2 are not the regulation's; a heading that lost its digit is the next article
    assert found["articles"] == {1: {1: ["a", "b"], 2: []}, 2: {1: ["a", "b"]}, 3: {0: ["a", "b"]}}
    assert found["appendices"] == ["1", "2"]


@pytest.mark.parametrize("citation, names", [
    ("Điều 6 khoản 5 điểm b, c", [("article", 6), ("clause", 6, 5), ("point", 6, 5, "b"), ("point", 6, 5, "c")]),
    ("Điều 23 khoản 7–8", [("article", 23), ("clause", 23, 7), ("clause", 23, 8)]),
    ("Điều 28 khoản 3, khoản 5; Phụ lục", [("article", 28), ("clause", 28, 3), ("clause", 28, 5), ("appendix", "")]),
    ("Điều 14 khoản 2 Bước 3; Phụ lục II trường hợp 2 Bước 5", [("article", 14), ("clause", 14, 2), ("appendix", "2")]),
    ("Điều 13 khoản 7 (kỳ chốt số liệu theo Nghị định 09/2019/NĐ-CP Điều 12)", [("article", 13), ("clause", 13, 7)]),
    ("Nghị định 09/2019/NĐ-CP Điều 12; Điều 1", [("article", 1)]),
])
def test_what_a_citation_names(citation, names):
    assert cited(citation) == names


def test_what_the_regulation_does_not_have_is_named():
    articles = {"articles": {16: {1: [], 2: [], 3: ["a"]}}, "appendices": ["1", "2"]}
    assert missing(articles, ("clause", 16, 3)) is None
    assert missing(articles, ("point", 16, 3, "a")) is None
    assert missing(articles, ("article", 17)) == "Điều 17 is not in the regulation (it has Điều 1–16)"
    assert missing(articles, ("clause", 16, 9)) == "Điều 16 has no khoản 9 (khoản 1–3)"
    assert missing(articles, ("point", 16, 3, "c")) == "Điều 16 khoản 3 has no điểm c (điểm a)"
    assert missing(articles, ("appendix", "")).startswith("Phụ lục is not in the regulation")


def test_check_fails_on_a_citation_of_a_khoan_the_regulation_does_not_have(pack_copy, monkeypatch, capsys):
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    path = pack_copy / "routing.yaml"
    edit(path, "    article: Điều 11 khoản 2\n", "    article: Điều 11 khoản 9\n")
    problems = [p for p in audit.audit(load_pack(pack_copy)) if "cites" in p.message]
    assert [(p.file, p.line) for p in problems] == [(str(path), line_of(path, "Điều 11 khoản 9"))]
    assert "Điều 11 has no khoản 9 (khoản 1–4)" in problems[0].message
    assert cli.check([pack_copy]) == 1
    assert f"routing.yaml:{line_of(path, 'Điều 11 khoản 9')}" in capsys.readouterr().out


def test_check_fails_on_a_point_article_or_appendix_the_regulation_does_not_have(pack_copy, monkeypatch):
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    path = pack_copy / "pack.yaml"
    edit(path, "Phụ lục 2 Bước 4}", "Phụ lục 3 Bước 4}")
    sla = pack_copy / "sla.yaml"
    edit(sla, "    article: Điều 11 khoản 4; Phụ lục 2 Bước 4\n", "    article: Điều 40; Điều 7 khoản 5 điểm c\n")
    problems = sorted((p.file, p.message.split("does not have: ", 1)[1]) for p in audit.audit(load_pack(pack_copy))
                      if "cites" in p.message)
    assert [why for _, why in problems] == [
        "Phụ lục 3 is not in the regulation (its appendices: Phụ lục 1, Phụ lục 2)",
        "Điều 40 is not in the regulation (it has Điều 1–29)",
        "Điều 7 khoản 5 has no điểm c (điểm a, b)"]


def test_a_pack_without_its_articles_fails_the_check(pack_copy, monkeypatch):
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    (pack_copy / "articles.yaml").unlink()
    problems = [str(p) for p in audit.audit(load_pack(pack_copy))]
    assert any("no articles.yaml" in p for p in problems)


def test_the_articles_of_another_regulation_fail_the_check(pack_copy, monkeypatch):
    """A pack scaffolded from another keeps that one's articles.yaml until scripts/seed-articles writes its own."""
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    path = pack_copy / "pack.yaml"
    edit(path, "  seed: 002_30a911421b5a299a.txt\n", "  seed: 999_another.txt\n")
    problems = [str(p) for p in audit.audit(load_pack(pack_copy)) if "articles.yaml" in str(p)]
    assert problems == [f"{pack_copy / 'articles.yaml'}:1: articles.yaml lists the articles of "
                        "002_30a911421b5a299a.txt, not of this pack's regulation (999_another.txt): run "
                        "scripts/seed-articles"]


@pytest.mark.parametrize("pack", list_packs())
def test_each_pack_ships_the_articles_of_its_regulation(pack):
    articles = load_articles(rules_root() / pack)
    assert articles and len(articles["articles"]) >= 20


@pytest.mark.skipif(not SEEDS.is_dir(), reason="PAHT_SEEDS_DIR names no folder of the regulations' texts")
def test_the_articles_files_are_what_the_script_writes_from_the_seeds(tmp_path):
    import shutil
    for pack in list_packs():
        shutil.copytree(rules_root() / pack, tmp_path / "rules" / pack)
    script = tmp_path / "scripts" / "seed-articles"
    script.parent.mkdir()
    shutil.copy(ROOT / "scripts" / "seed-articles", script)
    (tmp_path / "paht").symlink_to(ROOT / "paht")
    subprocess.run([sys.executable, str(script), "--seeds", str(SEEDS)], check=True, capture_output=True)
    for pack in list_packs():
        assert (tmp_path / "rules" / pack / "articles.yaml").read_text(encoding="utf-8") == \
            (rules_root() / pack / "articles.yaml").read_text(encoding="utf-8"), f"{pack}: run scripts/seed-articles"
