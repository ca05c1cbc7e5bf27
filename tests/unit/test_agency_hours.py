"""An agency outside the province's administration with its own working hours (issue 24 item 3): agencies.yaml
`office_hours` of a utility or central agency; the deadlines it must meet count in its hours, on the pack's working
days. Written on a copy of Huế's pack (none of the five seeds gives an agency other hours)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from paht.rules import load_pack
from paht.worktime import WorkCalendar, calendar_for
from services.sla.deadlines import new_deadline
from tests.unit.pack_files import edit, refused

VN = timezone(timedelta(hours=7))
START = datetime(2027, 3, 1, 18, 0, tzinfo=VN)        # a Monday evening, after the pack's office hours; no holiday near
ROUND_THE_CLOCK = '  office_hours: [["00:00", "24:00"]]\n'
UTILITY = "  name: Công ty Điện lực Huế\n  kind: utility\n"


def report_led_by(agency: str) -> dict:
    return {"id": "R", "pack": "thua-thien-hue-2022", "state": "in_progress", "urgent": False,
            "category": "lighting_power", "assigned_agencies": [{"id": agency, "role": "lead"}]}


def test_a_utility_with_its_own_hours_gets_its_deadline_in_them(pack_copy):
    edit(pack_copy / "agencies.yaml", UTILITY, UTILITY + ROUND_THE_CLOCK)
    pack = load_pack(pack_copy)
    utility = new_deadline(pack, report_led_by("dien-luc"), "process", START, "e")
    department = new_deadline(pack, report_led_by("so-xay-dung"), "process", START, "e")
    # 06 ngày làm việc (tth-sla-process) from Monday evening: the utility's clock runs at once, the department's from
    # Tuesday's opening
    assert (utility["amount"], utility["unit"], utility["agency"]) == (6, "wd", "dien-luc")
    assert utility["due"] == WorkCalendar([["00:00", "24:00"]]).add(START, 6, "wd")
    assert department["due"] == calendar_for(pack.meta).add(START, 6, "wd")
    assert utility["due"] != department["due"]


def test_without_hours_of_its_own_an_agency_keeps_the_packs(pack_copy):
    pack = load_pack(pack_copy)
    assert calendar_for(pack.meta, pack.agencies["dien-luc"]) is calendar_for(pack.meta)


def test_check_refuses_hours_that_are_no_time_of_day(pack_copy):
    edit(pack_copy / "agencies.yaml", UTILITY, UTILITY + '  office_hours: [["7h30", "17:00"]]\n')
    assert "7h30" in str(refused(pack_copy))
