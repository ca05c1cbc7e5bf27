"""The browser tooling itself: Chromium drives a page of the running gateway, both browsers take screenshots, and the
axe helper finds a serious violation where there is one and none on a clean page."""
from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_accessible, axe, screenshot

CLEAN = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gửi phản ánh</title></head>
<body>
<main>
  <h1>Gửi phản ánh</h1>
  <form action="#" method="post">
    <label for="description">Nội dung phản ánh</label>
    <textarea id="description" name="description" required></textarea>
    <img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt="Ảnh hiện trường">
    <button type="submit">Gửi</button>
  </form>
</main>
</body>
</html>
"""
# the same page with an image that says nothing to a screen reader (axe's `image-alt`, critical)
NO_ALT = CLEAN.replace(' alt="Ảnh hiện trường"', "")


def open_html(driver, tmp_path, name: str, html: str):
    page = tmp_path / name
    page.write_text(html, encoding="utf-8")
    driver.get(page.as_uri())


def test_the_gateway_in_the_browser(system, browser):
    system.start("gateway")
    browser.get(f"{system.api}/api/v1/openapi.json")
    document = json.loads(browser.find_element(By.TAG_NAME, "pre").text)   # Chrome shows JSON in a <pre>
    assert document["openapi"].startswith("3.")
    assert any(path.startswith("/api/v1/reports") for path in document["paths"])
    assert browser.get_window_size() == {"width": 1280, "height": 900}
    assert browser.execute_script("return window.innerWidth") == 1280
    shot = screenshot(browser, "gateway-openapi")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_phone_is_a_phone(phone, tmp_path):
    open_html(phone, tmp_path, "form.html", CLEAN)
    width, height, ratio, touch = phone.execute_script(
        "return [innerWidth, innerHeight, devicePixelRatio, matchMedia('(pointer: coarse)').matches]")
    assert (width, height, ratio, touch) == (360, 800, 2, True)
    assert "Mobile" in phone.execute_script("return navigator.userAgent")
    shot = screenshot(phone, "phone-form")
    assert shot.stat().st_size > 1000


def test_axe_finds_an_image_without_alt(browser, tmp_path):
    open_html(browser, tmp_path, "no-alt.html", NO_ALT)
    with pytest.raises(AssertionError) as failure:
        assert_accessible(browser)
    assert "image-alt" in str(failure.value) and "[critical]" in str(failure.value)
    assert "<img" in str(failure.value)   # the element is named
    assert [violation["id"] for violation in axe(browser)] == ["image-alt"]


@pytest.mark.parametrize("device", ["browser", "phone"])
def test_axe_passes_a_clean_page(device, request, tmp_path):
    driver = request.getfixturevalue(device)
    open_html(driver, tmp_path, "clean.html", CLEAN)
    assert assert_accessible(driver) == []
    assert axe(driver) == []   # a second run reuses the injected axe
