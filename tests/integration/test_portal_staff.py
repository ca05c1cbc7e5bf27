"""The agencies' and leaders' pages over HTTP on the real services (issue 22, interfaces b and c): staff accounts
sign in with a form (a wrong password is 401, the session in an HttpOnly cookie), see their queue, acknowledge and
report a result with a photo, their leader approves and reads the unit's dashboard; another province's report is
404, an action the state no longer allows shows the API's error in Vietnamese (English with lang=en), a POST
without the CSRF token changes nothing, logging out ends the session; sign-in is rate-limited like the API's."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
import requests

from tests.integration.conftest import VN
from tests.integration.test_portal_public import CSRF, form_token
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = pytest.mark.integration

PASSWORD = "mat-khau-rat-dai-123"


def add_account(system, username: str, role: str, agency: str | None = None, pack: str | None = PACK) -> None:
    """A staff account made by the demo admin through the admin API (as `paht users add` would)."""
    answer = requests.post(f"{system.api}/api/v1/admin/users", timeout=10,
                           headers={"Authorization": f"Bearer {system.tokens['admin']}"},
                           json={"username": username, "role": role, "pack": pack, "agency": agency,
                                 "name": username.replace(".", " ").title(), "password": PASSWORD})
    assert answer.status_code == 201, answer.text


def sign_in(system, username: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    token = form_token(browser, f"{system.api}/staff/login")
    answer = browser.post(f"{system.api}/staff/login", data={"csrf_token": token, "username": username,
                                                             "password": password},
                          allow_redirects=False, timeout=10)
    return browser, answer


def page_token(browser: requests.Session, url: str) -> tuple[str, str]:
    """A page's text and the CSRF token of its forms."""
    answer = browser.get(url, timeout=10)
    assert answer.status_code == 200, answer.text[:800]
    return answer.text, CSRF.search(answer.text).group(1)


def test_staff_handle_a_report_in_pages_and_the_leader_approves_it(system):
    system.start()
    report_id = system.submit(good_report(), [fresh_photo()]).json()["id"]
    view = system.wait_state(report_id, "dispatched")
    agency = lead(view)
    system.wait_for(report_id, lambda v: any(d["step"] == "acknowledge" for d in v["deadlines"]),
                    what="acknowledge deadline")
    other = system.submit(good_report(pack="soc-trang-2022", location=None)).json()["id"]   # another province's
    add_account(system, "nv.xu.ly", "agency_staff", agency)
    add_account(system, "ld.don.vi", "agency_leader", agency)

    anonymous = requests.Session()
    away = anonymous.get(f"{system.api}/staff/", allow_redirects=False, timeout=10)
    assert away.status_code == 303 and away.headers["Location"].startswith("/staff/login")
    deep = anonymous.get(f"{system.api}/staff/reports/{report_id}", allow_redirects=False, timeout=10)
    assert deep.headers["Location"] == f"/staff/login?next=%2Fstaff%2Freports%2F{report_id}"

    browser, wrong = sign_in(system, "nv.xu.ly", "not-the-password")
    assert wrong.status_code == 401 and "Cần đăng nhập" in wrong.text and "UNAUTHORIZED" in wrong.text
    assert 'value="nv.xu.ly"' in wrong.text and "paht_staff" not in browser.cookies

    browser, signed = sign_in(system, "nv.xu.ly")
    assert signed.status_code == 303 and signed.headers["Location"] == "/staff/"
    cookie = next(c for c in signed.raw.headers.getlist("Set-Cookie") if c.startswith("paht_staff="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie

    bare = browser.get(f"{system.api}/staff", allow_redirects=False, timeout=10)
    assert bare.status_code == 303 and bare.headers["Location"] == "/staff/"
    queue = browser.get(f"{system.api}/staff/", timeout=10)
    assert queue.status_code == 200 and f'href="/staff/reports/{report_id}"' in queue.text
    assert "default-src 'self'" in queue.headers["Content-Security-Policy"] and 'name="state"' in queue.text
    assert other not in queue.text and "Đăng xuất" in queue.text
    filtered = browser.get(f"{system.api}/staff/", params={"state": "published", "late": "", "ward": ""}, timeout=10)
    assert filtered.status_code == 200 and report_id not in filtered.text
    exported = browser.get(f"{system.api}/staff/export.csv", timeout=10)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Mã phản ánh" and [r[0] for r in rows[1:]] == [report_id]
    assert "0905123456" not in exported.text      # the reporter masked, as the API's export masks it
    xlsx = browser.get(f"{system.api}/staff/export.xlsx", params={"state": "dispatched"}, timeout=10)
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["Content-Type"]

    page, token = page_token(browser, f"{system.api}/staff/reports/{report_id}")
    assert f'action="/staff/reports/{report_id}/acknowledge"' in page
    assert f'action="/staff/reports/{report_id}/approve"' not in page        # a leader's action
    assert "0905123456" not in page and "09******56" in page                 # masked as staff_view masks it
    assert "Ổ gà lớn giữa đường Lê Lợi" in page
    photo = re.search(rf'src="(/staff/reports/{report_id}/media/[0-9a-f]{{64}})"', page).group(1)
    assert browser.get(f"{system.api}{photo}", timeout=10).headers["Content-Type"] == "image/jpeg"
    assert anonymous.get(f"{system.api}{photo}", timeout=10).status_code == 401

    forged = browser.post(f"{system.api}/staff/reports/{report_id}/acknowledge", data={"note": "x"},
                          allow_redirects=False, timeout=10)
    assert forged.status_code == 403 and "FORBIDDEN" in forged.text
    assert system.get(report_id)["state"] == "dispatched"

    done = browser.post(f"{system.api}/staff/reports/{report_id}/acknowledge",
                        data={"csrf_token": token, "note": "Đã nhận"}, allow_redirects=False, timeout=10)
    assert done.status_code == 303 and done.headers["Location"] == f"/staff/reports/{report_id}?done=acknowledge"
    assert system.get(report_id)["state"] == "in_progress"
    page, token = page_token(browser, f"{system.api}/staff/reports/{report_id}?done=acknowledge")
    assert "Đã thực hiện" in page and f'action="/staff/reports/{report_id}/submit_result"' in page

    again = browser.post(f"{system.api}/staff/reports/{report_id}/acknowledge", data={"csrf_token": token},
                         timeout=10)
    assert again.status_code == 409 and "ACTION_NOT_ALLOWED" in again.text
    assert "Thao tác không được phép ở trạng thái hiện tại của phản ánh." in again.text
    english = browser.post(f"{system.api}/staff/reports/{report_id}/acknowledge?lang=en",
                           data={"csrf_token": token}, timeout=10)
    assert english.status_code == 409
    assert "The action is not allowed in the report's current state." in unescape(english.text)
    assert '<html lang="en">' in english.text
    browser.get(f"{system.api}/staff/?lang=vi", timeout=10)

    process = next(d for d in system.get(report_id)["deadlines"] if d["step"] == "process")
    later = (datetime.fromisoformat(process["due"]).astimezone(VN) + timedelta(days=1)).replace(second=0, microsecond=0)
    extended = browser.post(f"{system.api}/staff/reports/{report_id}/extend", allow_redirects=False, timeout=10,
                            data={"csrf_token": token, "new_due": later.strftime("%Y-%m-%dT%H:%M"),
                                  "note": "Chờ vật tư, cam kết xong trước hạn mới"})
    assert extended.status_code == 303, extended.text[:1500]
    assert datetime.fromisoformat(system.get(report_id)["extension"]["new_due"]) == later   # the province's time

    without_photo = browser.post(f"{system.api}/staff/reports/{report_id}/submit_result",
                                 data={"csrf_token": token, "result_text": "Đã vá ổ gà <b>xong</b>."}, timeout=10)
    assert without_photo.status_code == 422 and "after photos required" in without_photo.text
    assert "Đã vá ổ gà &lt;b&gt;xong&lt;/b&gt;." in without_photo.text     # what was written stays, escaped
    name, data, mime = fresh_photo(0, seed=78)
    submitted = browser.post(f"{system.api}/staff/reports/{report_id}/submit_result", allow_redirects=False,
                             data={"csrf_token": token, "result_text": "Đã vá ổ gà."},
                             files=[("media", (name, data, mime))], timeout=10)
    assert submitted.status_code == 303, submitted.text[:1500]
    system.wait_state(report_id, "result_submitted")
    refused = browser.post(f"{system.api}/staff/reports/{report_id}/approve", data={"csrf_token": token},
                           timeout=10)
    assert refused.status_code == 403 and "FORBIDDEN" in refused.text       # the deciders' answer, not the page's

    leader, signed = sign_in(system, "ld.don.vi")
    assert signed.status_code == 303
    page, leader_token = page_token(leader, f"{system.api}/staff/reports/{report_id}")
    assert f'action="/staff/reports/{report_id}/approve"' in page and "Đã vá ổ gà." in page
    after = re.findall(rf'src="(/staff/reports/{report_id}/media/[0-9a-f]{{64}})"', page)
    assert len(after) == 2 and leader.get(f"{system.api}{after[1]}", timeout=10).status_code == 200
    approved = leader.post(f"{system.api}/staff/reports/{report_id}/approve", allow_redirects=False,
                           data={"csrf_token": leader_token, "result_text": "", "note": ""}, timeout=10)
    assert approved.status_code == 303
    system.wait_state(report_id, "approved")

    dashboard = leader.get(f"{system.api}/staff/dashboard", timeout=10)
    assert dashboard.status_code == 200, dashboard.text[:1500]
    assert re.search(r'id="stat-received">1<', dashboard.text)
    assert "/static/vendor/chart.js/chart.umd.js" in dashboard.text
    assert 'data-trend="{' in dashboard.text and "Tiêu chí theo quy chế" in dashboard.text
    assert leader.get(f"{system.api}/staff/dashboard", params={"period": "2026-13"}, timeout=10).status_code == 422
    add_account(system, "dh.trung.tam", "operator", pack=PACK)
    operator_view, _ = sign_in(system, "dh.trung.tam")
    province = operator_view.get(f"{system.api}/staff/dashboard", params={"agency": agency}, timeout=10)
    assert province.status_code == 200 and re.search(r'id="stat-received">1<', province.text)
    centre_page, _ = page_token(operator_view, f"{system.api}/staff/reports/{report_id}")
    assert f'action="/staff/reports/{report_id}/publish"' in centre_page and "0905123456" in centre_page
    published = operator_view.post(f"{system.api}/staff/reports/{report_id}/publish", allow_redirects=False,
                                   data={"csrf_token": CSRF.search(centre_page).group(1), "letter_number": "12/TTGS"},
                                   timeout=10)
    assert published.status_code == 303
    assert "Đã vá ổ gà." in system.wait_state(report_id, "published")["result"]["letter"]

    foreign = browser.get(f"{system.api}/staff/reports/{other}", timeout=10)
    assert foreign.status_code == 404 and "NOT_FOUND" in foreign.text
    assert browser.post(f"{system.api}/staff/reports/{other}/acknowledge", data={"csrf_token": token},
                        timeout=10).status_code == 404

    session_cookie = browser.cookies["paht_staff"]
    out = browser.post(f"{system.api}/staff/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert out.status_code == 303 and "paht_staff" not in browser.cookies
    assert browser.get(f"{system.api}/staff/", allow_redirects=False, timeout=10).status_code == 303
    replayed = requests.get(f"{system.api}/staff/", cookies={"paht_staff": session_cookie}, allow_redirects=False,
                            timeout=10)
    assert replayed.status_code == 303      # the session itself ended, not only the cookie


def test_sign_in_is_rate_limited_like_the_apis(system, monkeypatch):
    """(The identity provider's sign-in: test_portal_oidc.py.)"""
    monkeypatch.setenv("PAHT_RATE_LIMIT_PER_MINUTE", "4")
    system.start("intake")
    stranger = requests.Session()
    _, token = page_token(stranger, f"{system.api}/staff/login")
    statuses = [stranger.post(f"{system.api}/staff/login", timeout=10,
                              data={"csrf_token": token, "username": "ai.do", "password": "sai-mat-khau"}).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]          # four sign-ins a minute from one address, as the API's
    limited = stranger.post(f"{system.api}/staff/login", timeout=10,
                            data={"csrf_token": token, "username": "nguoi.khac", "password": "sai-mat-khau"})
    assert limited.status_code == 429 and "RATE_LIMITED" in limited.text and limited.headers["Retry-After"]
