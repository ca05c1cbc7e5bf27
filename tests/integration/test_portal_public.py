"""The citizens' pages over HTTP on the real services (the browser tests walk them in Chromium): the form submits
a report with its photo and shows the id and token once; the reporter's page is reached by a POST only; every
page is escaped, carries a strict CSP, and refuses a cross-site POST."""
from __future__ import annotations

import re

import pytest
import requests

from tests.integration.test_walking_route import HUE_POINT, PACK, fresh_photo

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def form_token(session: requests.Session, url: str) -> str:
    answer = session.get(url, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    return CSRF.search(answer.text).group(1)


def fields(token: str, **extra) -> dict:
    return {"csrf_token": token, "pack": PACK, "category": "roads_traffic",
            "description": "<script>alert(1)</script> Ổ gà lớn giữa đường Lê Lợi", "lat": str(HUE_POINT[0]),
            "lon": str(HUE_POINT[1]), "name": "Nguyễn Văn An", "phone": "0905123456", "email": "an@example.vn",
            "share_contact": "1"} | extra


def test_a_citizen_reports_and_follows_it_in_pages(system):
    system.start()
    browser = requests.Session()
    home = browser.get(f"{system.api}/", timeout=10)
    assert home.status_code == 200 and home.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in home.headers["Content-Security-Policy"] and '<html lang="vi">' in home.text
    assert "paht_csrf" in browser.cookies and "HttpOnly" in home.headers["Set-Cookie"]

    token = form_token(browser, f"{system.api}/submit")
    name, data, mime = fresh_photo(seed=41)
    sent = browser.post(f"{system.api}/submit", data=fields(token), files=[("media", (name, data, mime))], timeout=10)
    assert sent.status_code == 200, sent.text[:800]
    report_id = re.search(r'id="report-id">(PA-[0-9A-F-]+)<', sent.text).group(1)
    tracking = re.search(r'id="tracking-token">([^<]+)<', sent.text).group(1)
    assert tracking not in sent.url

    view = system.wait_for(report_id, lambda v: v["deadlines"], what="verified")   # (an identity check waits)
    assert view["description"].startswith("<script>")
    public = browser.get(f"{system.api}/reports/{report_id}", timeout=10)
    assert public.status_code == 200 and "<script>alert(1)" not in public.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in public.text and "0905123456" not in public.text

    own = browser.post(f"{system.api}/track", data={"csrf_token": token, "id": report_id, "tracking_token": tracking},
                       timeout=10)
    assert own.status_code == 200 and "/track/cancel" in own.text and tracking not in own.url
    wrong = browser.post(f"{system.api}/track", data={"csrf_token": token, "id": report_id, "tracking_token": "x" * 24},
                         timeout=10)
    assert wrong.status_code == 403 and "INVALID_TOKEN" in wrong.text

    asked = browser.post(f"{system.api}/track/interactions", timeout=10,
                         data={"csrf_token": token, "id": report_id, "tracking_token": tracking,
                               "message": "Khi nào sửa xong?"})
    assert asked.status_code == 200 and "Khi nào sửa xong?" in asked.text

    english = browser.get(f"{system.api}/reports/{report_id}?lang=en", timeout=10)
    assert '<html lang="en">' in english.text and "History" in english.text


def test_refused_forms_say_why_and_cross_site_posts_change_nothing(system):
    system.start()
    browser = requests.Session()
    token = form_token(browser, f"{system.api}/submit")
    refused = browser.post(f"{system.api}/submit", data=fields(token, phone="not a phone", description=""),
                           timeout=10)
    assert refused.status_code == 422 and 'id="phone-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="Nguyễn Văn An"' in refused.text   # what was given stays in the form

    stranger = requests.Session()   # another site's page: no CSRF cookie of ours, a made-up token
    forged = stranger.post(f"{system.api}/submit", data=fields("0" * 64), timeout=10)
    assert forged.status_code == 403 and "FORBIDDEN" in forged.text
    assert system.staff_get("reports", system.tokens["operator"]).json()["count"] == 0

    missing = browser.get(f"{system.api}/reports/PA-000000-00000000", timeout=10)
    assert missing.status_code == 404 and "NOT_FOUND" in missing.text
    traversal = browser.get(f"{system.api}/static/../service.py", timeout=10)
    assert traversal.status_code == 404
    assert browser.get(f"{system.api}/static/vendor/leaflet/leaflet.js", timeout=10).status_code == 200


def test_the_forms_refuse_bad_files_as_the_api_does_and_store_nothing(system, monkeypatch):
    """A pixel bomb and a file over the upload limit get the API's codes and statuses, shown on the form in
    Vietnamese with what was typed kept; no report, no file is stored."""
    from tests.media_factory import png_bomb
    monkeypatch.setenv("PAHT_MAX_UPLOAD_MB", "1")
    system.start("intake")
    browser = requests.Session()
    token = form_token(browser, f"{system.api}/submit")
    bomb = browser.post(f"{system.api}/submit", data=fields(token), timeout=30,
                        files=[("media", ("bomb.png", png_bomb(), "image/png"))])
    api = system.submit({"pack": PACK, "channel": "app", "category": "roads_traffic", "description": "Ổ gà",
                         "location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps"},
                         "reporter": {"phone": "0905123456"}}, [("bomb.png", png_bomb(), "image/png")])
    assert bomb.status_code == api.status_code == 422
    code = api.json()["error"]["code"]
    assert f"({code})" in bomb.text and api.json()["error"]["message"] in bomb.text and "bomb.png" in bomb.text
    assert 'id="media-error"' in bomb.text and 'value="Nguyễn Văn An"' in bomb.text    # what was typed is kept

    name, data, mime = fresh_photo(seed=42)
    big = browser.post(f"{system.api}/submit", data=fields(token), timeout=30,
                       files=[("media", (name, data + b"\0" * (1024 * 1024), mime))])
    assert big.status_code == 422 and "(MEDIA_TOO_LARGE)" in big.text and "limit 1 MB" in big.text
    monkeypatch.setenv("PAHT_MAX_REQUEST_MB", "2")     # a body over the whole request's limit: the API's 413
    huge = browser.post(f"{system.api}/submit", data=fields(token), timeout=30,
                        files=[("media", (name, data + b"\0" * (3 * 1024 * 1024), mime))])
    assert huge.status_code == 413 and "PAYLOAD_TOO_LARGE" in huge.text and "<html" in huge.text
    assert system.staff_get("reports", system.tokens["operator"]).json()["count"] == 0
    assert not (system.tmp_path / "media").exists() or not any((system.tmp_path / "media").rglob("*"))


def test_the_tracking_token_appears_in_no_url_and_no_log(system, caplog):
    """Every log record the services write while a citizen submits through the form and opens, asks on, and
    cancels their report holds neither the tracking token nor its reporter's phone."""
    import logging
    caplog.set_level(logging.DEBUG)
    system.start()
    browser = requests.Session()
    token = form_token(browser, f"{system.api}/submit")
    sent = browser.post(f"{system.api}/submit", data=fields(token), timeout=10,
                        files=[("media", fresh_photo(seed=43))])
    report_id = re.search(r'id="report-id">(PA-[0-9A-F-]+)<', sent.text).group(1)
    tracking = re.search(r'id="tracking-token">([^<]+)<', sent.text).group(1)
    system.wait_for(report_id, lambda v: v["deadlines"], what="verified")
    reporter = {"csrf_token": token, "id": report_id, "tracking_token": tracking}
    for url, data in ((f"{system.api}/track", reporter),
                      (f"{system.api}/track/interactions", dict(reporter, message="Khi nào sửa?")),
                      (f"{system.api}/track/cancel", reporter)):
        answer = browser.post(url, data=data, timeout=10)
        assert answer.status_code == 200 and tracking not in answer.url, answer.text[:500]
        assert all(tracking not in r.url for r in answer.history)
    system.wait_state(report_id, "cancelled")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert report_id in logged                       # the services did log the report's life
    assert tracking not in logged and "0905123456" not in logged
