"""The province's view through the real services (issue 12): the centre's directive and missed-call records, an
agency's reply to the reporter, the month's scorecards (the centre sees all, an agency its own row, another
province nothing), and the monthly report made when due and downloaded as XLSX, CSV and JSON."""
from __future__ import annotations

import io
import time

import pytest
import requests
from openpyxl import load_workbook

from paht import clock, periods
from tests.integration.conftest import eventually
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def test_directives_calls_replies_scorecards_and_the_monthly_report(system, monkeypatch):
    monkeypatch.setenv("PAHT_REPORT_CHECK_SECONDS", "0.5")
    system.start()
    answer = system.submit(good_report(), [fresh_photo()])
    report_id, token = answer.json()["id"], answer.json()["tracking_token"]
    view = system.wait_state(report_id, "dispatched")
    agency = lead(view)
    staff, _ = system.agency_tokens(PACK, agency)
    operator = system.tokens["operator"]
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    assert system.staff(report_id, "directive", operator, note="Đề nghị khẩn trương xử lý").status_code == 200
    assert system.staff(report_id, "directive", staff, note="x").status_code == 403        # the centre's act
    assert system.staff(report_id, "missed_call", operator).status_code == 200

    asked = requests.post(f"{system.api}/api/v1/reports/{report_id}/interactions", json={"message": "Khi nào sửa?"},
                          headers={"X-Tracking-Token": token}, timeout=10)
    assert asked.status_code == 200, asked.text
    interaction = system.get(report_id)["interactions"][0]
    assert interaction["reply"] is None
    unknown = system.staff(report_id, "reply", staff, interaction_id="nope", note="?")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "INTERACTION_NOT_FOUND"
    assert system.staff(report_id, "reply", staff, interaction_id=interaction["id"],
                        note="Đơn vị sẽ sửa trong tuần.").status_code == 200
    assert system.get(report_id)["interactions"][0]["reply"] == "Đơn vị sẽ sửa trong tuần."
    again = system.staff(report_id, "reply", staff, interaction_id=interaction["id"], note="Lần hai")
    assert again.status_code == 409

    month = periods.containing("month", clock.now(), "Asia/Ho_Chi_Minh", 14)
    cards = system.staff_get("scorecards", operator, pack=PACK, period=month.label)
    assert cards.status_code == 200, cards.text
    row = next(r for r in cards.json()["agencies"] if r["agency"] == agency)["counters"]
    assert (row["received"], row["corrective_directives"], row["missed_hotline_calls"], row["interactions_count"],
            row["unanswered_interactions"]) == (1, 1, 1, 1, 0)
    own = system.staff_get("scorecards", staff, period=month.label).json()
    assert [r["agency"] for r in own["agencies"]] == [agency] and own["totals"] is None
    assert system.staff_get("scorecards", staff, pack="soc-trang-2022", period=month.label).status_code == 404
    assert system.staff_get("scorecards", operator, pack=PACK, period="2026-13").status_code == 422

    # the centre's schedule is watched once the rating service has made what was due at the start (its first check)
    eventually(lambda: system.staff_get("periodic-reports", operator, pack=PACK).json()["reports"], "first check")
    system.advance(40 * 86400)                 # past the 20th after this month's cut-off: the report falls due
    report_name = f"{PACK}:monthly:{month.label}"
    deadline = time.monotonic() + 20
    listed = []
    while time.monotonic() < deadline and report_name not in [r["_id"] for r in listed]:
        time.sleep(0.3)
        listed = system.staff_get("periodic-reports", operator, pack=PACK).json()["reports"]
    made = next((r for r in listed if r["_id"] == report_name), None)
    assert made, (report_name, [r["_id"] for r in listed])
    assert made["due"] and made["generated_at"] and made["article"]
    assert system.staff_get("periodic-reports", staff, pack=PACK).status_code == 403
    xlsx = system.staff_get(f"periodic-reports/{report_name}.xlsx", operator)
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["Content-Type"]
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = list(book["Theo đơn vị"].iter_rows(values_only=True))
    assert any(r[0] == agency and r[2] == 1 for r in rows[1:])
    assert system.staff_get(f"periodic-reports/{report_name}.csv", operator).content.decode("utf-8-sig") \
        .startswith("Mã đơn vị,Tên đơn vị")
    assert system.staff_get(f"periodic-reports/{report_name}.json", operator).json()["period"] == month.label
    assert system.staff_get(f"periodic-reports/{report_name}.pdf", operator).status_code == 404
