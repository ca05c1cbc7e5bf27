"""Staff sign in through the province's identity provider in a real browser (issue 22: /staff/login, "OIDC sign-in
when the province configured it"): the button on the login page, the provider's own sign-in page (the local
provider of tests/oidc_helpers.py), back to the queue with the session cookie (HttpOnly, SameSite=Lax), logging
out; with the provider down, the button gives the login page with its Vietnamese message. axe on both pages."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from paht import oidc_login
from tests.browser.conftest import assert_accessible, screenshot
from tests.oidc_helpers import PASSWORD

CALLBACK = "/staff/login/oidc/callback"


def test_an_operator_signs_in_through_the_identity_provider(system, sign_in_provider, browser, monkeypatch):
    idp = sign_in_provider
    system.start("intake")
    monkeypatch.setenv("PAHT_OIDC_REDIRECT_URL", f"{system.api}{CALLBACK}")
    idp.accounts = {"truc.ban": {"sub": "kc-9", "paht_role": "operator", "name": "Trực ban Trung tâm"}}

    browser.get(f"{system.api}/staff/login")
    button = browser.find_element(By.ID, "oidc-sign-in")
    assert button.text == "Đăng nhập bằng hệ thống định danh của tỉnh"
    assert_accessible(browser)
    screenshot(browser, "staff-login-with-identity-provider")
    button.click()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url.startswith(idp.base))
    browser.find_element(By.ID, "idp-username").send_keys("truc.ban")
    browser.find_element(By.ID, "idp-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "idp-submit").click()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url == f"{system.api}/staff/")
    assert "Trực ban Trung tâm" in browser.find_element(By.TAG_NAME, "header").text
    cookies = {cookie["name"]: cookie for cookie in browser.get_cookies()}
    assert cookies["paht_staff"]["httpOnly"] and cookies["paht_staff"]["sameSite"] == "Lax"
    assert "paht_oidc" not in cookies                                          # the sign-in is spent
    screenshot(browser, "staff-queue-after-identity-provider")

    browser.find_element(By.CSS_SELECTOR, "form[action='/staff/logout'] button").click()
    WebDriverWait(browser, 10).until(lambda driver: "/staff/login" in driver.current_url)
    assert "paht_staff" not in {cookie["name"] for cookie in browser.get_cookies()}

    idp.down = True
    oidc_login.DISCOVERY.clear()
    browser.find_element(By.ID, "oidc-sign-in").click()
    WebDriverWait(browser, 10).until(lambda driver: driver.find_elements(By.ID, "error"))
    notice = browser.find_element(By.ID, "error").text
    assert "Hệ thống định danh của tỉnh hiện không phản hồi" in notice and "OIDC_UNAVAILABLE" in notice
    assert browser.find_element(By.ID, "password").is_displayed()              # the password still works
    assert_accessible(browser)
    screenshot(browser, "staff-login-identity-provider-down")
