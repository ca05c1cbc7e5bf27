"""The centre's console (/centre/) over HTTP on the real services (the browser test walks it in Chromium): only the
centre's accounts open it; it lists the report held for the operator's identity check and the approved result
waiting for review, each linking to its staff page; the province's counts by ward, category and month; the
periodic reports to download."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
import requests

from tests.integration.conftest import eventually
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def signed_in(system, token: str) -> requests.Session:
    """A browser whose staff session cookie holds `token` (the login page sets the same cookie)."""
    session = requests.Session()
    session.cookies.set("paht_staff", token)
    return session


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_the_centre_console_shows_what_waits_and_the_province_counts(system, monkeypatch):
    monkeypatch.setenv("PAHT_REPORT_CHECK_SECONDS", "0.5")
    system.start()
    first_timer = good_report(reporter={"name": "Trần Văn Bình", "phone": "0905000111",
                                                "email": "binh@example.vn"})   # no account: checked
    held_id = system.submit(first_timer, [fresh_photo(seed=5)]).json()["id"]
    review_id = system.submit(good_report(), [fresh_photo(seed=6)]).json()["id"]
    agency = lead(system.wait_state(review_id, "dispatched"))
    staff, leader = system.agency_tokens(PACK, agency)
    assert system.staff(review_id, "acknowledge", staff).status_code == 200
    assert system.staff(review_id, "submit_result", staff, photos=[fresh_photo(0, seed=7)],
                        result_text="Đã vá ổ gà.").status_code == 200
    assert system.staff(review_id, "approve", leader).status_code == 200
    system.wait_state(review_id, "approved")
    system.wait_for(held_id, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                    what="identity check")

    nobody = requests.get(f"{system.api}/centre/", allow_redirects=False, timeout=10)
    assert nobody.status_code == 303 and nobody.headers["Location"].startswith("/staff/login")
    refused = signed_in(system, staff).get(f"{system.api}/centre/", timeout=10)
    assert refused.status_code == 403 and "FORBIDDEN" in refused.text
    assert "default-src 'self'" in refused.headers["Content-Security-Policy"]

    operator = signed_in(system, system.tokens["operator"])
    answer = operator.get(f"{system.api}/centre/", params={"pack": PACK}, timeout=10)
    assert answer.status_code == 200, answer.text[:1000]
    page = answer.text
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"] and "<script>" not in page
    held = section(page, "held")
    assert f'href="/staff/reports/{held_id}"' in held and review_id not in held
    review = section(page, "review")
    assert f'href="/staff/reports/{review_id}"' in review and held_id not in review
    assert "Trần Văn Bình" not in page and "0905000111" not in page      # counts and ids only

    counts = json.loads(unescape(re.search(r"data-counts='([^']*)'", page).group(1)))
    ward = system.get(review_id)["ward"]["code"]
    assert counts == {ward: 1}                 # the held report has no ward until verification lets it through
    assert "Không xác định được phường, xã: 1" in page
    trend = json.loads(unescape(re.search(r"data-chart='([^']*)'", page).group(1)))
    assert len(trend["labels"]) == 12 and trend["series"][0]["data"][-1] == 2
    assert 'href="/map/wards/' + PACK + '.geojson"' not in page and f'data-wards="/map/wards/{PACK}.geojson"' in page

    english = operator.get(f"{system.api}/centre/", params={"pack": PACK, "lang": "en"}, timeout=10)
    assert '<html lang="en">' in english.text and "Waiting for the centre" in english.text
    assert operator.get(f"{system.api}/centre/", params={"pack": PACK, "period": "2026-13"},
                        timeout=10).status_code == 422
    assert operator.get(f"{system.api}/centre/", params={"pack": "nowhere"}, timeout=10).status_code == 422

    # the periodic reports made so far (the schedule's first check makes the latest of each), as files
    listed = eventually(lambda: re.findall(r'href="/centre/periodic/([^"]+)\.xlsx"',
                                           operator.get(f"{system.api}/centre/", params={"pack": PACK},
                                                        timeout=10).text), "a periodic report listed")
    xlsx = operator.get(f"{system.api}/centre/periodic/{listed[0]}.xlsx", timeout=10)
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["Content-Type"], xlsx.text[:300]
    assert "attachment" in xlsx.headers["Content-Disposition"]
    assert operator.get(f"{system.api}/centre/periodic/{listed[0]}.pdf", timeout=10).status_code == 404
    assert signed_in(system, staff).get(f"{system.api}/centre/periodic/{listed[0]}.csv",
                                        timeout=10).status_code == 403

    # a dead letter is settled by a form of the console: ours (CSRF) and a letter that exists
    form = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page).group(1)
    missing = operator.post(f"{system.api}/centre/dead-letters/dl-nope/replay", data={"csrf_token": form},
                            timeout=10)
    assert missing.status_code == 404 and "DEAD_LETTER_NOT_FOUND" in missing.text
    forged = signed_in(system, system.tokens["operator"]).post(f"{system.api}/centre/dead-letters/dl-nope/drop",
                                                              data={"csrf_token": "0" * 64}, timeout=10)
    assert forged.status_code == 403
