"""The staff pages' own small decisions (services/gateway/pages/staff.py): where a sign-in may lead, how a form
becomes the API's action body (a local date and time in the province's zone), which forms a report's page offers,
the queue's badges, and that every label the pages show has its English."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from paht.actions import DECIDERS
from paht.errors import ApiError
from services.gateway.pages import staff
from services.gateway.pages.catalog import catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PACK = "thua-thien-hue-2022"
TEMPLATES = Path(staff.__file__).resolve().parent / "templates" / "staff"


@pytest.mark.parametrize("target, expected", [
    ("/staff/reports/PA-1", "/staff/reports/PA-1"), ("/staff/?state=in_progress", "/staff/?state=in_progress"),
    ("https://evil.example/staff/", None), ("//evil.example/staff/", None), ("/staff/login?next=x", None),
    ("/staff/logout", None), ("/centre/", "/centre/"), ("/staff/\\evil", None), ("", None), (None, None)])
def test_a_sign_in_leads_back_to_a_staff_page_only(target, expected):
    assert staff.safe_next(target) == expected


def test_a_form_is_the_apis_action_body():
    form = MultiDict([("note", "  Chờ vật tư "), ("new_due", "2026-12-17T09:30"), ("agencies", "a"), ("agencies", ""),
                      ("agencies", "b"), ("result_text", ""), ("csrf_token", "x"), ("value", "false")])
    body = staff.action_body(form, VN)
    assert body == {"note": "Chờ vật tư", "new_due": "2026-12-17T09:30:00+07:00", "agencies": ["a", "b"],
                    "value": False}
    judged = staff.action_body(MultiDict({"value.name": "identity", "value.value": "confirmed"}), VN)
    assert judged == {"value": {"name": "identity", "value": "confirmed"}}
    assert staff.action_body(MultiDict({"value.name": "urgent", "value.value": "true"}), VN)["value"]["value"] is True
    with pytest.raises(ApiError) as refused:
        staff.action_body(MultiDict({"new_due": "17/12/2026"}), VN)
    assert refused.value.code == "VALIDATION_FAILED" and "new_due" in refused.value.fields


def view(state, agencies=(("lead-agency", "lead"),), **extra):
    return {"id": "PA-1", "pack": PACK, "state": state, "deadlines": [], "interactions": [],
            "assigned_agencies": [{"id": a, "role": role} for a, role in agencies]} | extra


def user(role, agency=None):
    return {"_id": "u", "role": role, "pack": PACK, "agency": agency}


def test_the_forms_offered_follow_state_and_role():
    lead_staff, lead_leader = user("agency_staff", "lead-agency"), user("agency_leader", "lead-agency")
    assert staff.offered_actions(view("dispatched"), lead_staff) == ["acknowledge", "return", "sanction_procedure"]
    assert staff.offered_actions(view("result_submitted"), lead_staff) == []
    assert staff.offered_actions(view("result_submitted"), lead_leader) == ["approve", "send_back"]
    co = view("in_progress", (("lead-agency", "lead"), ("co-agency", "co")))
    assert staff.offered_actions(co, user("agency_staff", "co-agency")) == ["acknowledge", "submit_result", "return"]
    assert staff.offered_actions(view("in_progress"), user("agency_staff", "stranger")) == []
    assert staff.offered_actions(view("published"), lead_staff) == []                      # nothing rated
    assert staff.offered_actions(view("published", rating={"level": "x"}), lead_staff) == ["clarify"]
    operator = user("operator")
    assert staff.offered_actions(view("routing_unresolved", ()), operator)[0] == "designate"
    approved = staff.offered_actions(view("approved"), operator)
    assert approved[:2] == ["publish", "rework"] and "agree" not in approved        # no agreement awaited
    agree = view("approved", deadlines=[{"step": "agree", "agency": "lead-agency"}])
    assert "agree" in staff.offered_actions(agree, operator) and staff.offered_actions(agree, lead_staff) == ["agree"]
    assert staff.offered_actions(view("published"), operator) == ["reopen", "refer_to_province"]   # an update only
    assert staff.offered_actions(view("published", pack="soc-trang-2022"), operator) == ["refer_to_province"]
    designated = view("approved", deadlines=[{"step": "agree", "agency": "coordinator"}],
                      route={"designation": {"agency": "coordinator"}})
    assert staff.offered_actions(designated, user("agency_staff", "coordinator")) == ["agree"]
    assert staff.offered_actions(view("approved", route={"designation": {"agency": "coordinator"}}),
                                 user("agency_staff", "coordinator")) == []               # not yet asked
    assert "called_back" in staff.offered_actions(view("in_progress", sos=True), operator)
    for state in ("submitted", "dispatched", "in_progress", "result_submitted", "approved", "published"):
        for someone in (lead_staff, lead_leader, operator):
            assert set(staff.offered_actions(view(state), someone)) <= set(DECIDERS)


def test_the_sanction_procedure_and_the_report_to_the_province_are_offered_where_the_pack_has_them():
    lead_staff, operator = user("agency_staff", "lead-agency"), user("operator")
    flagged = {"article": "Điều 11 khoản 2", "status_updates": True}
    assert "sanction_procedure" in staff.offered_actions(view("in_progress"), lead_staff)           # TTH Đ11 k2
    assert "sanction_procedure" in staff.offered_actions(view("in_progress"), operator)
    assert "sanction_procedure" not in staff.offered_actions(view("in_progress", pack="soc-trang-2022"), lead_staff)
    assert "sanction_procedure" in staff.offered_actions(view("in_progress", pack="soc-trang-2022", urgent=True),
                                                         lead_staff)                                # ST22 Đ13 B4
    assert "sanction_procedure" not in staff.offered_actions(view("in_progress", pack="soc-trang-2023"), operator)
    under = staff.offered_actions(view("in_progress", sanction_procedure=flagged), lead_staff)
    assert "status_update" in under and "sanction_procedure" not in under
    assert "status_update" not in staff.offered_actions(
        view("in_progress", sanction_procedure=dict(flagged, status_updates=False)), lead_staff)
    assert "refer_to_province" not in staff.offered_actions(view("in_progress"), lead_staff)          # the centre's
    assert "refer_to_province" in staff.offered_actions(view("routing_unresolved", ()), operator)
    assert "refer_to_province" not in staff.offered_actions(view("rejected", ()), operator)


def test_the_queue_marks_late_and_due_soon():
    now = datetime(2026, 12, 8, 9, tzinfo=VN)
    item = lambda due, late=False: staff.queue_item({"id": "PA-1", "late": late, "due": due and due.isoformat()}, now)
    assert (item(now + timedelta(hours=30))["soon"], item(now + timedelta(hours=30))["late_now"]) == (False, False)
    assert (item(now + timedelta(hours=20))["soon"], item(now + timedelta(hours=20))["late_now"]) == (True, False)
    assert (item(now - timedelta(minutes=1))["soon"], item(now - timedelta(minutes=1))["late_now"]) == (False, True)
    assert item(now + timedelta(days=3), late=True)["late_now"] and not item(None)["soon"]


def test_every_text_of_the_staff_pages_has_its_english():
    english = catalog("en").texts
    texts = {m.group(2) for path in TEMPLATES.glob("*.html")
             for m in re.finditer(r'_\((["\'])(.*?)\1\)', path.read_text(encoding="utf-8"))}
    for table in (staff.ACTION_LABELS, staff.KIND_LABELS, staff.STEP_LABELS, staff.COUNTER_LABELS,
                  staff.RATE_LABELS, staff.FINDING_LABELS, staff.ROUTE_LABELS, staff.ROLE_LABELS):
        texts |= set(table.values())
    assert sorted(text for text in texts if text not in english) == []
    assert set(staff.ACTION_LABELS) == set(DECIDERS)


@pytest.mark.parametrize("environment, secure", [("dev", False), ("test", False), ("production", True),
                                                 ("staging", True)])
def test_the_pages_cookies_are_httponly_lax_and_secure_outside_dev(monkeypatch, environment, secure):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from services.gateway.pages.web import Page
    monkeypatch.setenv("PAHT_ENV", environment)
    page = Page(Request(EnvironBuilder(path="/staff/login", query_string="lang=en").get_environ()))
    page.set_cookie("paht_staff", "session-token")
    cookies = page.redirect("/staff/").headers.getlist("Set-Cookie")
    by_name = {cookie.split("=", 1)[0]: cookie for cookie in cookies}
    assert set(by_name) == {"paht_csrf", "paht_lang", "paht_staff"}
    for name, cookie in by_name.items():
        assert "SameSite=Lax" in cookie and ("; Secure" in cookie) is secure
        assert ("HttpOnly" in cookie) is (name != "paht_lang")     # the language switch is the page's own
