"""The staff sign-in through the province's identity provider (issue 22: "/staff/login … OIDC sign-in when the
province configured it") over HTTP on the real gateway and services, with a whole OpenID Connect provider on
loopback (tests/oidc_helpers.py): the button, the authorization code flow with PKCE, the session cookie as the
password's, the user scoped as the API scopes the provider's tokens (its agency's queue, an action signed as
`oidc:<sub>`, another province's report 404), logging out; and every way it can go wrong — a replayed or forged
state, a callback in another browser, the user or the provider saying no, a user without a role, a bad nonce, the
provider down (no 5xx: the login page in Vietnamese) — each leaving no session."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.test_portal_public import CSRF
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = pytest.mark.integration

CALLBACK = "/staff/login/oidc/callback"


def begin(system, browser: requests.Session, next_page: str | None = None) -> requests.Response:
    """The button: the gateway's answer (a redirect to the provider)."""
    return browser.get(f"{system.api}/staff/login/oidc", params={"next": next_page} if next_page else None,
                       allow_redirects=False, timeout=10)


def at_provider(browser: requests.Session, started: requests.Response) -> str:
    """The browser at the provider (the user signs in there): the callback URL it is sent back to."""
    assert started.status_code == 303, started.text[:500]
    answer = browser.get(started.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def sign_in(system, browser: requests.Session, next_page: str | None = None) -> requests.Response:
    back = at_provider(browser, begin(system, browser, next_page))
    return browser.get(back, allow_redirects=False, timeout=10)


def refused(answer: requests.Response, status: int, code: str, words: str) -> None:
    assert answer.status_code == status, answer.text[:800]
    assert code in answer.text and words in answer.text
    assert not any(c.startswith("paht_staff=") and not c.startswith("paht_staff=;")
                   for c in answer.raw.headers.getlist("Set-Cookie"))


def test_staff_sign_in_with_the_provinces_identity_provider(system, sign_in_provider, monkeypatch):
    idp = sign_in_provider
    system.start()
    monkeypatch.setenv("PAHT_OIDC_REDIRECT_URL", f"{system.api}{CALLBACK}")
    monkeypatch.setenv("PAHT_OIDC_DISPLAY_NAME", "Tài khoản Huế-S")
    report_id = system.submit(good_report(urgent=True), [fresh_photo()]).json()["id"]   # routed at any hour
    agency = lead(system.wait_state(report_id, "dispatched"))
    other = system.submit(good_report(pack="soc-trang-2022", location=None)).json()["id"]   # another province's

    browser = requests.Session()
    form = browser.get(f"{system.api}/staff/login", timeout=10).text
    assert 'id="oidc-sign-in" href="/staff/login/oidc"' in form and "Đăng nhập bằng Tài khoản Huế-S" in form
    english = requests.get(f"{system.api}/staff/login?lang=en", timeout=10).text
    assert "Sign in with Tài khoản Huế-S" in english

    idp.signs_in = {"sub": "kc-1", "paht_role": "agency_staff", "paht_pack": PACK, "paht_agency": agency,
                    "name": "Lê Văn C"}
    started = begin(system, browser, f"/staff/reports/{report_id}")
    assert started.status_code == 303
    binding = next(c for c in started.raw.headers.getlist("Set-Cookie") if c.startswith("paht_oidc="))
    assert "HttpOnly" in binding and "SameSite=Lax" in binding and "Max-Age=600" in binding
    asked = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["Location"]).query).items()}
    assert (asked["code_challenge_method"], asked["redirect_uri"]) == ("S256", f"{system.api}{CALLBACK}")
    assert asked["state"] not in binding                                     # the cookie binds, it is not the state
    back = at_provider(browser, started)
    signed = browser.get(back, allow_redirects=False, timeout=10)
    assert signed.status_code == 303 and signed.headers["Location"] == f"/staff/reports/{report_id}"
    cookies = signed.raw.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("paht_staff="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Max-Age=3600" in session   # the password's
    assert any(c.startswith("paht_oidc=;") or c.startswith('paht_oidc="";') for c in cookies)
    assert ("POST", "/realms/hue/token") in idp.calls and "." not in browser.cookies["paht_staff"]   # not the JWT

    me = requests.get(f"{system.api}/api/v1/auth/me", timeout=10,
                      headers={"Authorization": f"Bearer {browser.cookies['paht_staff']}"}).json()
    assert (me["id"], me["role"], me["pack"], me["agency"], me["via"]) == ("oidc:kc-1", "agency_staff", PACK, agency,
                                                                           "oidc")
    queue = browser.get(f"{system.api}/staff/", timeout=10)
    assert queue.status_code == 200 and "Lê Văn C" in queue.text and f'href="/staff/reports/{report_id}"' in queue.text
    page = browser.get(f"{system.api}/staff/reports/{report_id}", timeout=10)
    token = CSRF.search(page.text).group(1)
    acted = browser.post(f"{system.api}/staff/reports/{report_id}/acknowledge", data={"csrf_token": token},
                         allow_redirects=False, timeout=10)
    assert acted.status_code == 303, acted.text[:800]
    timeline = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]
    assert any((step.get("actor") or {}).get("user") == "oidc:kc-1" for step in timeline)
    assert browser.get(f"{system.api}/staff/reports/{other}", timeout=10).status_code == 404

    replayed = requests.get(back, allow_redirects=False, timeout=10, cookies={"paht_oidc": "whatever"})
    refused(replayed, 400, "OIDC_STATE_INVALID", "không hợp lệ hoặc đã hết hạn")

    session_cookie = browser.cookies["paht_staff"]
    out = browser.post(f"{system.api}/staff/logout", data={"csrf_token": CSRF.search(queue.text).group(1)},
                       allow_redirects=False, timeout=10)
    assert out.status_code == 303
    assert requests.get(f"{system.api}/staff/", cookies={"paht_staff": session_cookie}, allow_redirects=False,
                        timeout=10).status_code == 303                        # the session itself ended

    # ---- what goes wrong ----------------------------------------------------------------------------------------
    back = at_provider(browser, begin(system, browser))
    refused(requests.get(back, allow_redirects=False, timeout=10), 400, "OIDC_STATE_INVALID",
            "mở từ trình duyệt khác")                                        # another browser: no binding cookie
    refused(requests.get(back, allow_redirects=False, timeout=10, cookies={"paht_oidc": "guessed"}), 400,
            "OIDC_STATE_INVALID", "Vui lòng")                                # a wrong one spends the sign-in …
    refused(browser.get(back, allow_redirects=False, timeout=10), 400, "OIDC_STATE_INVALID", "Vui lòng")  # … for all

    back = at_provider(browser, begin(system, browser))
    forged = back.replace("state=", "state=x")
    refused(browser.get(forged, allow_redirects=False, timeout=10), 400, "OIDC_STATE_INVALID", "Vui lòng")

    idp.denies = True
    refused(sign_in(system, browser), 401, "OIDC_REFUSED", "access_denied")
    idp.denies = False

    idp.signs_in = {"sub": "kc-2", "paht_role": "agency_leader", "paht_pack": PACK}          # no agency
    refused(sign_in(system, browser), 403, "OIDC_NO_ROLE", "chưa được cấp vai trò")

    idp.signs_in = {"sub": "kc-3", "paht_role": "operator"}
    idp.id_token_claims = {"nonce": "not-this-sign-ins"}
    refused(sign_in(system, browser), 401, "OIDC_REFUSED", "không xác nhận")
    idp.id_token_claims = {}

    back = at_provider(browser, begin(system, browser))
    idp.down = True                                                           # down between the two steps
    refused(browser.get(back, allow_redirects=False, timeout=10), 200, "OIDC_UNAVAILABLE", "không phản hồi")
    idp.close()                                                               # gone altogether
    from paht import oidc_login
    oidc_login.DISCOVERY.clear()
    down = begin(system, browser)
    refused(down, 200, "OIDC_UNAVAILABLE", "hoặc đăng nhập bằng tên đăng nhập và mật khẩu")
    assert 'for="password"' in down.text                                      # the password form still works


def test_no_button_and_no_flow_without_a_client(system, provider):
    system.start("intake")
    browser = requests.Session()
    form = browser.get(f"{system.api}/staff/login", timeout=10).text
    assert 'for="username"' in form and 'id="oidc"' not in form and 'name="token"' not in form
    refused(begin(system, browser), 404, "OIDC_NOT_CONFIGURED", "chưa cấu hình")
    refused(browser.get(f"{system.api}{CALLBACK}?code=c&state=s", timeout=10), 404, "OIDC_NOT_CONFIGURED",
            "chưa cấu hình")


def test_the_button_counts_as_a_sign_in_for_the_rate_limit(system, sign_in_provider, monkeypatch):
    monkeypatch.setenv("PAHT_RATE_LIMIT_PER_MINUTE", "2")
    system.start("intake")
    monkeypatch.setenv("PAHT_OIDC_REDIRECT_URL", f"{system.api}{CALLBACK}")
    browser = requests.Session()
    assert [begin(system, browser).status_code for _ in range(2)] == [303, 303]
    limited = begin(system, browser)
    assert limited.status_code == 429 and "RATE_LIMITED" in limited.text and limited.headers["Retry-After"]
    token = CSRF.search(browser.get(f"{system.api}/staff/login", timeout=10).text).group(1)
    password = browser.post(f"{system.api}/staff/login", timeout=10,
                            data={"csrf_token": token, "username": "ai.do", "password": "sai-mat-khau"})
    assert password.status_code == 429                                        # one budget for both ways in
