"""The portal's four interfaces in headless Chromium over the real running system (issue 22): a citizen reports
with a photo from a phone and follows the report; the centre confirms the first-time reporter's identity; the
agency's staff acknowledges it and reports the result with a photo; the leader approves; the centre reviews and
publishes; the citizen rates it; the public page shows the result. A cross-site form is refused (403) and changes
nothing; an agency account of another province finds no such report (404). Then the centre's console with what
waits for it (a held report, a dead letter it replays) and the province's charts and ward map.

Every page is photographed (desktop; the citizen's pages on the phone too: `screenshot`, the whole page) and checked
with axe-core (no serious or critical violation; the lesser ones are printed).

The report reaches `dispatched` the way a first report through the portal does: the form has no account fields,
so the reporter is a first-time reporter whose identity the centre's operator confirms (Điều 7 khoản 5 điểm b of
Huế's regulation) with the judge form of /staff/reports/{id} — found from the console's list of held reports."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

from paht import callers
from paht.rules import get_pack
from services.routing import service as routing_service
from tests.browser.conftest import PHONE, axe, describe, screenshot
from tests.integration.conftest import eventually
from tests.integration.test_walking_route import HUE_POINT, PACK, fresh_photo, good_report, lead

pytestmark = pytest.mark.integration

OTHER_PACK = "tay-ninh-2024"
DESCRIPTION = "Ổ gà sâu giữa đường Lê Lợi, trước số 12 <b>nguy hiểm</b>"
RESULT = "Đã vá ổ gà bằng bê tông nhựa, thông xe lúc 15 giờ."
minor_findings: dict[str, list[str]] = {}   # page → axe's other violations (printed at the end)


# ---- accounts and pages ---------------------------------------------------------------------------------------
def add_account(system, username: str, role: str, pack: str | None = None, agency: str | None = None,
                name: str | None = None) -> str:
    """A staff account made as `paht users add` makes it (the gateway's add_user RPC, PAHT's own call); its
    password."""
    password = f"mat-khau-{username}"
    account = {"username": username, "role": role, "pack": pack, "agency": agency, "name": name,
               "password": password}
    with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
        answer = callers.call_internal("gateway", cluster.gateway, "add_user", account=account)
    assert "error" not in answer, answer
    return password


def wait(driver, condition, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(condition)


def loaded(driver) -> None:
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def go(driver, url: str) -> None:
    driver.get(url)
    loaded(driver)


def status(driver) -> int:
    """The HTTP status of the page now shown (Navigation Timing's responseStatus)."""
    return driver.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")


def send(driver, form_css: str, button_css: str = "button[type=submit]", keyboard: bool = False) -> None:
    """Submits a form with its own button, as a person does (a tap or click; `keyboard`: the button focused and
    Enter pressed), and waits for the next page (a new document: the mark left on this one is gone)."""
    driver.execute_script("window.pahtLeft = true")
    button = driver.find_element(By.CSS_SELECTOR, f"{form_css} {button_css}")
    if keyboard:
        button.send_keys(Keys.ENTER)
    else:
        button.click()

    def arrived(d):
        try:
            return d.execute_script("return !window.pahtLeft && document.readyState === 'complete'")
        except WebDriverException:   # between two documents
            return False
    wait(driver, arrived)


def type_in(driver, element_id: str, text: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)


def text_of(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def look(driver, name: str, mobile: bool = False) -> None:
    """The page photographed whole (`screenshot`'s file, then the full length captured beyond the viewport, at
    most 8000 px) and checked with axe: no serious or critical violation, and on a phone no page wider than it.
    `mobile` only names the device."""
    loaded(driver)
    driver.execute_script("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    path = screenshot(driver, name)
    width, height = driver.execute_script("return [document.documentElement.clientWidth, "
                                          "Math.min(document.documentElement.scrollHeight, 8000)]")
    whole = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.write_bytes(base64.b64decode(whole["data"]))
    print(f"screenshot {path}")
    found = axe(driver)
    if mobile:   # wider than the phone: Chrome zooms the whole page out (tiny text, taps off target)
        wide = driver.execute_script("return window.innerWidth") - PHONE["width"]
        if wide > 0:
            found.append({"id": "page-wider-than-phone", "impact": "serious", "nodes": [],
                          "help": f"the page is {wide} px wider than the {PHONE['width']} px phone",
                          "helpUrl": ""})
    failing = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not failing, f"accessibility on {name}:\n{describe(failing)}"
    lesser = [v for v in found if v not in failing]
    if lesser:
        minor_findings[name] = [f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])}×)" for v in lesser]


def sign_in(driver, system, username: str, password: str, shot: str | None = None) -> None:
    go(driver, f"{system.api}/staff/login")
    if shot:
        look(driver, shot)
    type_in(driver, "username", username)
    type_in(driver, "password", password)
    send(driver, "form[action='/staff/login']")
    assert "/staff/login" not in driver.current_url, text_of(driver)[:500]


def sign_out(driver) -> None:
    send(driver, "form[action='/staff/logout']")
    assert "/staff/login" in driver.current_url


def on_report(driver, system, report_id: str, shot: str | None = None) -> None:
    go(driver, f"{system.api}/staff/reports/{report_id}")
    assert status(driver) == 200, text_of(driver)[:500]
    if shot:
        look(driver, shot)


def act(driver, action: str, shot: str | None = None) -> None:
    """Sends the report page's form of `action` and expects the page's "done" notice."""
    send(driver, f"#action-{action} form")
    assert f"done={action}" in driver.current_url, text_of(driver)[:800]
    if shot:
        look(driver, shot)


def photo_file(tmp_path, name: str, **photo) -> str:
    _, data, _ = fresh_photo(**photo)
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def print_findings() -> None:
    for name, found in minor_findings.items():
        print(f"findings on {name}: " + "; ".join(found))
    minor_findings.clear()


# ---- the whole path ---------------------------------------------------------------------------------------------
def test_a_report_from_the_citizen_to_the_published_result_in_the_browser(system, browser, phone, tmp_path):
    system.start()
    operator_password = add_account(system, "dieu.hanh.vien", "operator", PACK, name="Điều hành viên IOC")

    # -- (a) the citizen, on a phone: the published results, the form, the id and token, the own page
    go(phone, f"{system.api}/")
    look(phone, "01-citizen-home-phone", mobile=True)
    go(browser, f"{system.api}/")
    look(browser, "01-citizen-home-desktop")

    go(phone, f"{system.api}/submit")
    look(phone, "02-citizen-submit-form-phone", mobile=True)
    Select(phone.find_element(By.ID, "pack")).select_by_value(PACK)
    Select(phone.find_element(By.ID, "category")).select_by_value("roads_traffic")
    type_in(phone, "description", DESCRIPTION)
    photo = Path(photo_file(tmp_path, "o-ga.jpg", seed=41))
    phone.find_element(By.ID, "media").send_keys(str(photo))
    type_in(phone, "lat", str(HUE_POINT[0]))
    type_in(phone, "lon", str(HUE_POINT[1]))
    type_in(phone, "address", "Trước số 12 Lê Lợi, Huế")
    type_in(phone, "name", "Nguyễn Thị Hoa")
    type_in(phone, "phone", "0905123999")
    type_in(phone, "email", "hoa@example.vn")
    phone.find_element(By.CSS_SELECTOR, "label[for=share_contact]").click()
    send(phone, "form[action='/submit']")
    assert status(phone) == 200, text_of(phone)[:800]
    report_id = phone.find_element(By.ID, "report-id").text
    token = phone.find_element(By.ID, "tracking-token").text
    assert re.fullmatch(r"PA-\d{6}-[0-9A-F]{8}", report_id) and len(token) >= 16
    assert token not in phone.current_url
    look(phone, "03-citizen-submitted-phone", mobile=True)
    send(phone, "form[action='/track']")                 # "Xem phản ánh của tôi": a POST, never the token in a URL
    assert report_id in text_of(phone) and token not in phone.current_url
    look(phone, "04-citizen-tracked-phone", mobile=True)
    view = system.wait_for(report_id, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                           what="the identity check")
    assert view["state"] == "submitted" and view["description"] == DESCRIPTION
    [media] = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["media"]
    taken = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert media["kind"] == "photo" and media["sha256"] == taken       # the file as taken, EXIF and all

    # -- (d) the centre: the console lists the held report; the operator confirms the reporter's identity
    sign_in(browser, system, "dieu.hanh.vien", operator_password, shot="05-staff-login-desktop")
    browser.find_element(By.CSS_SELECTOR, "header a[href='/centre/']").click()
    loaded(browser)
    assert browser.current_url.endswith("/centre/") and status(browser) == 200
    look(browser, "06-centre-console-held-desktop")
    browser.find_element(By.CSS_SELECTOR, f"#held a[href='/staff/reports/{report_id}']").click()
    loaded(browser)
    look(browser, "07-staff-report-identity-check-desktop")
    Select(browser.find_element(By.ID, "judge-name")).select_by_value("identity")
    type_in(browser, "judge-value", "confirmed")
    act(browser, "judge")
    view = system.wait_state(report_id, "dispatched")
    agency = lead(view)
    sign_out(browser)

    # -- (b) the agency: its queue, acknowledge, the result with its photo
    staff_password = add_account(system, "can.bo.xu.ly", "agency_staff", PACK, agency, name="Cán bộ xử lý")
    sign_in(browser, system, "can.bo.xu.ly", staff_password)
    assert report_id in text_of(browser)                  # the queue (/staff/)
    look(browser, "08-staff-queue-desktop")
    on_report(browser, system, report_id, shot="09-staff-report-dispatched-desktop")
    act(browser, "acknowledge")
    type_in(browser, "submit_result-result_text", RESULT)
    browser.find_element(By.ID, "submit_result-media").send_keys(photo_file(tmp_path, "da-va.jpg", hours_ago=0,
                                                                            seed=77))
    act(browser, "submit_result", shot="10-staff-result-submitted-desktop")
    system.wait_state(report_id, "result_submitted")
    sign_out(browser)

    # -- (c) the unit's leader: the dashboard, then approves
    leader_password = add_account(system, "lanh.dao.don.vi", "agency_leader", PACK, agency, name="Lãnh đạo đơn vị")
    sign_in(browser, system, "lanh.dao.don.vi", leader_password)
    go(browser, f"{system.api}/staff/dashboard")
    assert status(browser) == 200, text_of(browser)[:500]
    look(browser, "11-leader-dashboard-desktop")
    on_report(browser, system, report_id)
    act(browser, "approve", shot="12-leader-approved-desktop")
    system.wait_state(report_id, "approved")
    sign_out(browser)

    # -- (d) the centre reviews: the console lists the approved result; a forged form changes nothing; publish
    sign_in(browser, system, "dieu.hanh.vien", operator_password)
    go(browser, f"{system.api}/centre/")
    assert browser.find_elements(By.CSS_SELECTOR, f"#review a[href='/staff/reports/{report_id}']")
    look(browser, "13-centre-console-review-desktop")

    forged = tmp_path / "trang-la.html"          # another site's page, opened by the signed-in operator
    forged.write_text(f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Quà tặng</title></head>
<body><main><h1>Nhận quà</h1><form method="post" action="{system.api}/staff/reports/{report_id}/publish">
<input type="hidden" name="letter_number" value="GIA-MAO"><input type="hidden" name="csrf_token" value="{'0' * 64}">
<button type="submit">Nhận quà</button></form></main></body></html>""", encoding="utf-8")
    go(browser, forged.as_uri())
    send(browser, "form")
    assert status(browser) == 403 and "FORBIDDEN" in text_of(browser)
    look(browser, "14-cross-site-post-refused-desktop")
    assert system.get(report_id)["state"] == "approved"
    assert "GIA-MAO" not in json.dumps(system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json())

    go(browser, f"{system.api}/centre/")
    browser.find_element(By.CSS_SELECTOR, f"#review a[href='/staff/reports/{report_id}']").click()
    loaded(browser)
    look(browser, "15-centre-review-report-desktop")
    act(browser, "publish")
    view = system.wait_state(report_id, "published")
    assert RESULT in view["result"]["letter"]
    sign_out(browser)

    # -- (a) the citizen rates the result on their own page
    go(phone, f"{system.api}/track")
    look(phone, "16-citizen-track-form-phone", mobile=True)
    type_in(phone, "id", report_id)
    type_in(phone, "tracking_token", token)
    send(phone, "form[action='/track']")
    assert RESULT in text_of(phone)
    level = get_pack(PACK).rating_levels()[0]
    phone.find_element(By.CSS_SELECTOR, f"label[for='level-{level['id']}']").click()
    type_in(phone, "comment", "Sửa nhanh, cảm ơn.")
    send(phone, "form[action='/track/rating']")
    assert status(phone) == 200 and level["label"] in text_of(phone)
    look(phone, "17-citizen-rated-phone", mobile=True)
    view = system.wait_for(report_id, lambda v: v.get("rating"), what="the rating")
    assert view["rating"]["level"] == level["id"]

    # -- (a) the public page: the result letter and the photo of the fixed scene, never the reporter
    for driver, device in ((phone, "phone"), (browser, "desktop")):
        go(driver, f"{system.api}/reports/{report_id}")
        page = text_of(driver)
        assert RESULT in page and "<b>nguy hiểm</b>" in page        # the description as text, not markup
        assert "Nguyễn Thị Hoa" not in page and "0905123999" not in page and "hoa@example.vn" not in page
        photo = driver.find_element(By.CSS_SELECTOR, ".photos img")
        wait(driver, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0",
                                                photo))
        look(driver, f"18-public-report-{device}", mobile=device == "phone")
    go(browser, f"{system.api}/?pack={PACK}")
    assert report_id in text_of(browser)
    wait(browser, lambda d: d.find_element(By.ID, "map").get_attribute("data-loaded") == "1", timeout=10)
    assert browser.find_elements(By.CSS_SELECTOR, "#map .leaflet-marker-icon")   # the published report's marker
    look(browser, "19-public-home-with-result-desktop")

    # -- tenancy: an agency account of another province finds no such report
    stranger_agency = sorted(get_pack(OTHER_PACK).agencies)[0]
    stranger_password = add_account(system, "can.bo.tinh.khac", "agency_staff", OTHER_PACK, stranger_agency)
    sign_in(browser, system, "can.bo.tinh.khac", stranger_password)
    go(browser, f"{system.api}/staff/reports/{report_id}")
    assert status(browser) == 404 and "NOT_FOUND" in text_of(browser) and RESULT not in text_of(browser)
    look(browser, "20-other-province-report-404-desktop")
    go(browser, f"{system.api}/centre/")
    assert status(browser) == 403                           # and the centre's console is the centre's
    print_findings()


# ---- the centre's console -----------------------------------------------------------------------------------------
def test_the_centre_console_in_the_browser(system, browser, phone, monkeypatch):
    """The console with something in every list: a report held for the identity check, a dead letter (routing
    failing on one report five times) that the operator sends again from the console once routing works, a
    result waiting for review; and the statistics drawn: the charts and the ward map shaded."""
    broken_once = "Cây đổ chắn ngang đường Nguyễn Huệ"
    real_facts, failing = routing_service.routing_facts, {"on": True}

    def routing_facts(report):
        if report["description"] == broken_once and failing["on"]:
            raise RuntimeError("routing table unreadable")
        return real_facts(report)

    monkeypatch.setattr(routing_service, "routing_facts", routing_facts)
    monkeypatch.setenv("PAHT_REPORT_CHECK_SECONDS", "0.5")   # the periodic reports due at the start are made
    system.start()
    password = add_account(system, "giam.sat.vien", "operator", PACK, name="Giám sát viên")
    first_timer = good_report(reporter={"name": "Lê Văn Cường", "phone": "0905777666", "email": "cuong@example.vn"})
    held_id = system.submit(first_timer, [fresh_photo(seed=11)]).json()["id"]
    poisoned = system.submit(good_report(description=broken_once), [fresh_photo(seed=12)]).json()["id"]
    review_id = system.submit(good_report(category="lighting_power", description="Đèn đường hỏng cả dãy phố"),
                          [fresh_photo(seed=13)]).json()["id"]
    other = system.submit(good_report(category="waste_sanitation", description="Rác thải đổ trộm bên bờ sông"),
                          [fresh_photo(seed=14)]).json()
    other_id, other_token = other["id"], other["tracking_token"]
    agency = lead(system.wait_state(review_id, "dispatched"))
    staff, leader = system.agency_tokens(PACK, agency)
    assert system.staff(review_id, "acknowledge", staff).status_code == 200
    assert system.staff(review_id, "submit_result", staff, photos=[fresh_photo(0, seed=15)],
                        result_text="Đã thay bóng đèn.").status_code == 200
    assert system.staff(review_id, "approve", leader).status_code == 200
    system.wait_state(review_id, "approved")
    system.wait_for(held_id, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                    what="the identity check")
    letter = eventually(lambda: [dl for dl in system.staff_get("dead-letters", system.tokens["operator"]).json()
                                 ["dead_letters"] if dl["report_id"] == poisoned], "the dead letter")[0]
    other_agency = lead(system.wait_state(other_id, "dispatched"))    # one result published and rated
    other_staff, other_leader = system.agency_tokens(PACK, other_agency)
    assert system.staff(other_id, "acknowledge", other_staff).status_code == 200
    assert system.staff(other_id, "submit_result", other_staff, photos=[fresh_photo(0, seed=16)],
                        result_text="Đã thu gom rác.").status_code == 200
    assert system.staff(other_id, "approve", other_leader).status_code == 200
    system.wait_state(other_id, "approved")
    assert system.staff(other_id, "publish", system.tokens["operator"]).status_code == 200
    system.wait_state(other_id, "published")
    rated = requests.post(f"{system.api}/api/v1/reports/{other_id}/rating", json={"level": "hai_long"},
                          headers={"X-Tracking-Token": other_token}, timeout=10)
    assert rated.status_code == 200, rated.text
    system.wait_for(other_id, lambda v: v.get("rating"), what="the rating")

    go(browser, f"{system.api}/centre/")
    assert "/staff/login" in browser.current_url           # not signed in: the sign-in page
    sign_in(browser, system, "giam.sat.vien", password)
    eventually(lambda: system.staff_get("periodic-reports", system.tokens["operator"], pack=PACK).json()["reports"],
               "the periodic reports made at the start")
    go(browser, f"{system.api}/centre/")
    assert browser.find_elements(By.CSS_SELECTOR, "#periodic a[href$='.xlsx']")
    for section, found in (("held", held_id), ("review", review_id), ("dead-letters", poisoned)):
        assert browser.find_elements(By.CSS_SELECTOR, f"#{section} a[href='/staff/reports/{found}']"), section
    charts = browser.find_elements(By.CSS_SELECTOR, "canvas[data-chart]")
    assert len(charts) == 4
    wait(browser, lambda d: all(c.get_attribute("data-drawn") == "1" for c in charts))
    wait(browser, lambda d: d.find_element(By.ID, "ward-map").get_attribute("data-loaded") is not None)
    assert browser.find_elements(By.CSS_SELECTOR, "#ward-map canvas, #ward-map path.leaflet-interactive")
    look(browser, "21-centre-console-everything-desktop")
    sign_in(phone, system, "giam.sat.vien", password)            # the console on a phone too: 360 px wide
    go(phone, f"{system.api}/centre/")
    overflow = phone.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the console is {overflow} px wider than the phone"
    look(phone, "22-centre-console-phone", mobile=True)

    failing["on"] = False                                  # the cause fixed: the operator sends the letter again
    send(browser, f"form[action='/centre/dead-letters/{letter['_id']}/replay']")
    assert "done=replay" in browser.current_url and status(browser) == 200
    assert not browser.find_elements(By.CSS_SELECTOR, f"#dead-letters a[href='/staff/reports/{poisoned}']")
    look(browser, "23-centre-dead-letter-replayed-desktop")
    system.wait_state(poisoned, "dispatched")

    go(browser, f"{system.api}/centre/?lang=en")
    assert "Waiting for the centre" in text_of(browser)
    look(browser, "24-centre-console-english-desktop")
    print_findings()
