"""Every province is a tenant: an agency account of one pack never lists, reads or acts on another pack's report,
even where the agency ids are the same (issue 12, province isolation)."""
from __future__ import annotations

import pytest

from tests.integration.test_agency_paths import SOC_TRANG
from tests.integration.test_walking_route import fresh_photo, good_report, lead

pytestmark = pytest.mark.integration


def test_a_hue_account_gets_404_on_a_soc_trang_report_and_lists_only_hue(system):
    system.start()
    hue = system.submit(good_report(), [fresh_photo(seed=1)]).json()["id"]
    soc_trang = system.submit(good_report(**SOC_TRANG), [fresh_photo(seed=2)]).json()["id"]
    hue_view, st_view = system.wait_state(hue, "dispatched"), system.wait_state(soc_trang, "dispatched")
    agency = lead(st_view)
    assert agency in system.tokens["thua-thien-hue-2022"]        # the same agency id exists in both packs
    hue_staff, hue_leader = system.agency_tokens("thua-thien-hue-2022", agency)
    before = system.get(soc_trang)["timeline"]

    assert system.staff_get(f"reports/{soc_trang}", hue_staff).status_code == 404
    refused = system.staff(soc_trang, "acknowledge", hue_staff)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "NOT_FOUND"
    assert system.get(soc_trang)["timeline"] == before
    listed = system.staff_get("reports", hue_leader).json()["reports"]
    assert soc_trang not in [r["id"] for r in listed]
    assert {r["pack"] for r in listed} <= {"thua-thien-hue-2022"}
    assert system.staff_get("reports", hue_leader, pack="soc-trang-2022").json()["count"] == 0

    st_staff = system.agency_tokens("soc-trang-2022", agency)[0]
    assert system.staff(soc_trang, "acknowledge", st_staff).status_code == 200
    if lead(hue_view) == agency:
        assert [r["id"] for r in system.staff_get("reports", hue_staff).json()["reports"]] == [hue]
