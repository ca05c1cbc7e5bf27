"""The centre's lateness is the centre's, through the real services (issue 23 item 1; review W4 W10, F1, P11): the
centre lets an approved result wait past its publication deadline (ST-23 Điều 15 khoản 2: 01 ngày làm việc; TTH
Điều 12 khoản 1: 01 giờ); the miss is the centre's in the public view and page, the scorecards and the late list,
and the lead agency keeps a clean record."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from paht import clock, periods
from paht.rules import get_pack
from tests.integration.test_centre_review import field_report, handle, into_office_hours, lead, photo

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


@pytest.mark.parametrize("pack", ["soc-trang-2023", "thua-thien-hue-2022"])
def test_a_publication_left_late_is_charged_to_the_centre(system, pack):
    system.start()
    into_office_hours(system, pack)
    answer = system.submit(field_report(pack, "0905123456", f"{pack}-late", "Ổ gà lớn giữa đường, xe máy dễ té ngã"),
                           [photo(1)])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    view = system.wait_state(report_id, "dispatched")
    agency = lead(view)
    staff, leader = system.agency_tokens(pack, agency)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    handle(system, pack, report_id, staff, leader, 21, "Đã vá ổ gà.")

    view = system.wait_for(report_id, lambda v: any(d["step"] == "publish" for d in v["deadlines"]),
                           what="the publication deadline")
    publish = next(d for d in view["deadlines"] if d["step"] == "publish")
    assert (publish["agency"], publish["party"]) == ("trung-tam", "centre")
    assert view["late"] is False and view["late_by"] == []
    due = datetime.fromisoformat(publish["due"])
    system.advance((due - clock.now()).total_seconds() + 120)

    view = system.wait_for(report_id, lambda v: v["late"], what="the late mark")
    centre_name = get_pack(pack).agencies["trung-tam"]["name"]
    assert view["late_by"] == [{"step": "publish", "subject": None, "party": "centre", "agency": "trung-tam",
                                "name": centre_name}]
    page = requests.get(f"{system.api}/reports/{report_id}", timeout=10)
    assert page.status_code == 200 and "Bước trễ hạn" in page.text and centre_name in page.text

    operator = system.tokens["operator"]
    meta = get_pack(pack).meta
    month = periods.containing("month", clock.now(), meta["timezone"], (meta.get("reports") or {}).get("cutoff_day"))
    cards = system.staff_get("scorecards", operator, pack=pack, period=month.label)
    assert cards.status_code == 200, cards.text
    rows = {row["agency"]: row["counters"] for row in cards.json()["agencies"]}
    assert rows["trung-tam"]["late_count"] == 1 and rows[agency]["late_count"] == 0
    late = [(item["report_id"], item["agency"], item["step"], item["party"]) for item in cards.json()["late"]]
    assert late == [(report_id, "trung-tam", "publish", "centre")]
    # the lead agency's own scorecard shows no lateness of the centre's
    own = system.staff_get("scorecards", staff, period=month.label).json()
    assert [(r["agency"], r["counters"]["late_count"]) for r in own["agencies"]] == [(agency, 0)]
    assert own["late"] == []

    # the centre publishes at last: the result is public, the miss stays on record
    assert system.staff(report_id, "publish", operator).status_code == 200
    view = system.wait_state(report_id, "published")
    assert [item["party"] for item in view["late_by"]] == ["centre"]
    assert timedelta(0) <= clock.now() - due
