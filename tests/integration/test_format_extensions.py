"""What a pack may now express (issue 24 item 3), through the real services on RabbitMQ: a rules folder (PAHT_RULES_DIR)
holding Huế's pack with a `hide` acceptance rule, one deadline for the whole handling, a per-category processing
deadline and an agency with its own office hours. None of the five seeds needs them; the rules cite articles Huế's
regulation has so that the copy still checks."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from paht.rules import get_pack, rules_root
from paht.worktime import WorkCalendar, calendar_for
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead
from tests.unit.pack_files import edit

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

HIDE = """rules:
  - id: tth-acc-hide-trees
    article: Điều 9 khoản 2
    when: {category: trees_parks}
    then: {action: hide}
    message: Phản ánh được tiếp nhận không công khai.
"""
SLA = """rules:
  - id: tth-sla-handling
    article: Điều 11 khoản 2
    when: {step: handling}
    then: {action: set_deadline, amount: 3, unit: wd}
  - id: tth-sla-process-trees
    article: Điều 11 khoản 2
    when: {all: [{step: process}, {category: trees_parks}, {urgent: false}]}
    then: {action: set_deadline, amount: 16, unit: wh}
"""
LEAD = "- id: so-nong-nghiep-moi-truong\n"
ROUND_THE_CLOCK = '  office_hours: [["00:00", "24:00"]]\n'


@pytest.fixture
def extended_rules(tmp_path, monkeypatch):
    root = tmp_path / "rules"
    shutil.copytree(rules_root(), root, ignore=shutil.ignore_patterns("__pycache__"))
    hue = root / PACK
    edit(hue / "acceptance.yaml", "rules:\n", HIDE)
    edit(hue / "sla.yaml", "rules:\n", SLA)
    text = (hue / "agencies.yaml").read_text(encoding="utf-8")
    start = text.index(LEAD)
    kind = text.index("  kind:", start)
    line_end = text.index("\n", kind) + 1
    (hue / "agencies.yaml").write_text(text[:line_end] + ROUND_THE_CLOCK + text[line_end:], encoding="utf-8")
    monkeypatch.setenv("PAHT_RULES_DIR", str(root))
    return root


def test_hidden_report_with_one_handling_deadline_and_its_fields_deadline(extended_rules, system):
    system.start()
    answer = system.submit(good_report(category="trees_parks", description="Cây xanh gãy đổ chắn lối đi bộ"),
                           [fresh_photo()])
    assert answer.status_code == 201, answer.text
    view = system.wait_for(answer.json()["id"], lambda v: any(d["step"] == "handling" for d in v["deadlines"]),
                           what="the whole-handling deadline")
    assert view["state"] == "dispatched" and lead(view) == "so-nong-nghiep-moi-truong"
    # hidden, not rejected: accepted and dispatched, but the public reads no description
    assert view["description"] is None
    staff = system.staff_get(f"reports/{view['id']}", system.tokens["operator"]).json()
    assert staff["non_public"] is True and staff["description"].startswith("Cây xanh")
    handling = next(d for d in view["deadlines"] if d["step"] == "handling")
    # the lead acknowledges: its processing deadline is its field's, counted in its own (round-the-clock) hours
    token, _ = system.agency_tokens(PACK, "so-nong-nghiep-moi-truong")
    assert system.staff(view["id"], "acknowledge", token).status_code == 200
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "process" for d in v["deadlines"]),
                           what="the processing deadline")
    process = next(d for d in view["deadlines"] if d["step"] == "process")
    pack = get_pack(PACK)
    assert process["rule"] == "tth-sla-process-trees" and (process["amount"], process["unit"]) == (16, "wh")
    opened, due = datetime.fromisoformat(process["opened_at"]), datetime.fromisoformat(process["due"])
    assert due == WorkCalendar([["00:00", "24:00"]], pack.meta["timezone"]).add(opened, 16, "wh")
    assert due != calendar_for(pack.meta).add(opened, 16, "wh")     # not the pack's office hours
    # the whole-handling deadline runs on, the same one
    assert [d["due"] for d in view["deadlines"] if d["step"] == "handling"] == [handling["due"]]
