"""`paht rules diff OLD NEW` (issue 24 item 4): a broken NEW is answered with what is wrong, file:line, and a failing
exit code — never a traceback; a sound one with what differs."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paht.rules.cli import main as rules_main

ROOT = Path(__file__).resolve().parents[2]
PACK = "vinh-long-2025"


@pytest.fixture
def copy(tmp_path) -> Path:
    shutil.copytree(ROOT / "rules" / PACK, tmp_path / PACK)
    shutil.copy(ROOT / "rules" / "categories.yaml", tmp_path / "categories.yaml")
    return tmp_path / PACK


def diff(new: Path, capsys) -> tuple[int, str]:
    code = rules_main(["diff", PACK, str(new)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out


def test_a_copy_differs_in_nothing(copy, capsys):
    assert diff(copy, capsys) == (0, "no differences\n")


def test_a_changed_parameter_is_shown(copy, capsys):
    pack = copy / "pack.yaml"
    text = pack.read_text(encoding="utf-8")
    name = "process_time: {amount: "
    assert name in text
    start = text.index(name) + len(name)
    amount = text[start:text.index(",", start)]
    pack.write_text(text.replace(f"{name}{amount},", f"{name}{int(amount) + 1},", 1), encoding="utf-8")
    code, out = diff(copy, capsys)
    assert code == 0 and "process_time" in out and f"{int(amount) + 1} wd" in out


@pytest.mark.parametrize("break_it, where, says", [
    (lambda p: (p / "sla.yaml").write_text("stage: sla\nrules: [\n", encoding="utf-8"), "sla.yaml:3", "YAML error"),
    (lambda p: (p / "routing.yaml").write_bytes(b"\xff\xfe stage"), "routing.yaml:?", "not UTF-8"),
    (lambda p: (p / "pack.yaml").write_text((p / "pack.yaml").read_text(encoding="utf-8") + "operator_reveiw: true\n",
                                            encoding="utf-8"), "pack.yaml:", "operator_reveiw"),
    (lambda p: (p / "routing.yaml").write_text((p / "routing.yaml").read_text(encoding="utf-8").replace(
        "lead: ward_committee", "lead: ubnd-nowhere", 1), encoding="utf-8"), "routing.yaml:", "ubnd-nowhere"),
    (lambda p: (p / "pack.yaml").unlink(), "pack.yaml:?", "no pack.yaml"),
    (lambda p: shutil.rmtree(p / "templates"), "pack.yaml:", "result_letter.md.j2, which is not in the pack"),
], ids=["bad-yaml", "not-utf8", "unknown-key", "bad-reference", "missing-pack-yaml", "missing-template"])
def test_a_broken_new_pack_is_named_with_its_file_and_line(copy, capsys, break_it, where, says):
    break_it(copy)
    code, out = diff(copy, capsys)
    assert code == 1
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert any(where in line and says in line for line in failures), out


def test_a_file_only_one_pack_has_is_a_row(copy, capsys):
    (copy / "agencies.yaml").rename(copy / "agencies.yaml.old")
    code, out = diff(copy, capsys)
    assert "agencies.yaml" in out and "agencies.yaml.old" in out
