"""Open311 GeoReport v2 on the real system (issue 14 item 4): every JSON and XML answer checked against the schemas
written from the specification (tests/contract/open311)."""
from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from paht import clock
from paht.demo_media import camera_jpeg
from tests.contract.open311.helpers import validate, xml_to_json

pytestmark = pytest.mark.integration

PACK = "thua-thien-hue-2022"
HUE_POINT = ("16.4637", "107.5909")
CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}
FLOW = ("intake", "verification", "routing", "sla")   # a report from submission to its acknowledge deadline


def call(system, method, path, fmt="json", kind=None, **kwargs):
    """(status, body in the JSON shape); the body validated against the schema of `kind` (errors for a 4xx)."""
    answer = requests.request(method, f"{system.api}/open311/v2/{path}.{fmt}", timeout=30, **kwargs)
    assert answer.headers["Content-Type"].startswith(CONTENT_TYPES[fmt]), answer.headers
    body = answer.json() if fmt == "json" else xml_to_json(answer.content)
    validate("errors" if answer.status_code >= 400 else kind, body)
    return answer.status_code, body


def get(system, path, fmt="json", kind="requests", **params):
    return call(system, "GET", path, fmt, kind, params={"jurisdiction_id": PACK} | params)


def form(system, **fields):
    base = {"api_key": system.tokens["open311_api_key"], "jurisdiction_id": PACK, "service_code": "roads_traffic",
            "lat": HUE_POINT[0], "long": HUE_POINT[1], "first_name": "An", "last_name": "Nguyễn Văn",
            "phone": "0905123456", "email": "an@example.vn",
            "description": "Ổ gà lớn giữa đường Lê Lợi, xe máy dễ té ngã"}
    return {k: v for k, v in (base | fields).items() if v is not None}


def post(system, fmt="json", files=None, **fields):
    return call(system, "POST", "requests", fmt, "post_response", data=form(system, **fields), files=files)


def photo(seed):
    return camera_jpeg(clock.now() - timedelta(hours=1), seed=seed)


def confirm_identity(system, report_id):
    system.wait_for(report_id, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                    what="identity check")
    answer = system.staff(report_id, "judge", system.tokens["operator"],
                          value={"name": "identity", "value": "confirmed"})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def media_server(monkeypatch):
    """A host on the media allow-list (127.0.0.1) serving one fresh camera photo."""
    served = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", "127.0.0.1")
    yield served, httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_services_and_their_definitions_in_json_and_xml(system):
    system.start("intake")
    for fmt in ("json", "xml"):
        status, services = get(system, "services", fmt, "services")
        assert status == 200 and "roads_traffic" in [s["service_code"] for s in services]
        assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)
        status, definition = get(system, "services/roads_traffic", fmt, "service_definition")
        assert status == 200 and [a["code"] for a in definition["attributes"]] == ["urgent", "keep_private",
                                                                                  "share_contact"]
        status, errors = get(system, "services", fmt, "services", jurisdiction_id="atlantis")
        assert status == 404 and errors[0]["description"].startswith("UNKNOWN_JURISDICTION")
        status, errors = get(system, "services/potholes", fmt, "service_definition")
        assert status == 404 and errors[0]["description"].startswith("UNKNOWN_SERVICE_CODE")
        status, errors = call(system, "GET", "services", fmt, "services")              # no jurisdiction_id
        assert status == 422 and any(e["description"].startswith("jurisdiction_id") for e in errors)
    answer = requests.get(f"{system.api}/open311/v2/services.html", params={"jurisdiction_id": PACK}, timeout=10)
    assert answer.status_code == 404
    validate("errors", answer.json())


def test_a_request_goes_the_accepted_path_and_its_token_finds_it(system):
    system.start(*FLOW)
    status, created = post(system, "xml", files=[("media", ("scene.jpg", photo(1), "image/jpeg"))],
                           **{"attribute[share_contact]": "true"})
    assert status == 201, created
    report_id, token = created[0]["service_request_id"], created[0]["token"]
    assert created[0]["account_id"] is None and "30/2022/QĐ-UBND" in created[0]["service_notice"]

    confirm_identity(system, report_id)
    system.wait_for(report_id, lambda v: v["state"] == "dispatched" and any(
        d["step"] == "acknowledge" for d in v["deadlines"]), what="dispatched with its acknowledge deadline")
    view = system.get(report_id)
    lead = next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")
    acknowledge = next(d for d in view["deadlines"] if d["step"] == "acknowledge")
    for fmt in ("json", "xml"):
        status, found = get(system, f"requests/{report_id}", fmt)
        assert status == 200 and len(found) == 1
        request = found[0]
        assert request["status"] == "open" and request["service_code"] == "roads_traffic"
        assert request["agency_responsible"] and request["status_notes"].startswith(
            f"Đã chuyển đến {request['agency_responsible']} xử lý.")
        assert lead and request["expected_datetime"] == acknowledge["due"]
        assert request["address"] == view["ward"]["name"]
        assert "0905123456" not in str(request) and "Nguyễn" not in str(request)
        status, tokens = get(system, f"tokens/{token}", fmt, "tokens")
        assert status == 200 and tokens == [{"token": token, "service_request_id": report_id}]
    staff_view = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()
    assert staff_view["channel"] == "open311" and staff_view["reporter"]["name"] == "Nguyễn Văn An"
    assert staff_view["reporter"]["share_contact"] is True and staff_view["media"][0]["filename"] == "scene.jpg"
    status, errors = get(system, "tokens/not-a-token", "json", "tokens")
    assert status == 404
    status, errors = get(system, f"requests/{report_id}", "json", jurisdiction_id="vinh-long-2025")
    assert status == 404 and errors[0]["description"].startswith("NOT_FOUND")


def test_a_request_that_needs_a_supplement_says_so_and_the_filters_select(system):
    system.start(*FLOW)
    _, first = post(system, files=[("media", ("a.jpg", photo(2), "image/jpeg"))])
    dispatched = first[0]["service_request_id"]
    _, second = post(system, lat=None, long=None, address_string="Đường Lê Lợi", phone="0905123457")
    supplement = second[0]["service_request_id"]
    _, third = post(system, service_code="waste_sanitation", phone="0905123458",
                    description="Rác thải đổ trộm bên bờ sông Hương, bốc mùi hôi thối")
    cancelled, token = third[0]["service_request_id"], third[0]["token"]

    system.wait_for(supplement, lambda v: v["state"] == "needs_supplement" and any(
        d["step"] == "supplement" for d in v["deadlines"]), what="supplement deadline")
    for fmt in ("json", "xml"):
        status, found = get(system, f"requests/{supplement}", fmt)
        assert status == 200
        notes = found[0]["status_notes"]
        assert found[0]["status"] == "open" and notes.startswith("Phản ánh cần bổ sung:")
        assert "Vui lòng bổ sung hình ảnh" in notes and "Vui lòng bật định vị GPS" in notes
        assert f"/api/v1/reports/{supplement}/supplement" in notes

    system.wait_state(cancelled, "needs_supplement")          # no photo either
    answer = requests.post(f"{system.api}/api/v1/reports/{cancelled}/cancel",
                           headers={"X-Tracking-Token": token}, timeout=10)   # the Open311 token is the tracking token
    assert answer.status_code == 200, answer.text
    system.wait_state(cancelled, "cancelled")
    confirm_identity(system, dispatched)
    system.wait_state(dispatched, "dispatched")

    def ids(fmt="json", **params):
        status, found = get(system, "requests", fmt, **params)
        assert status == 200, found
        return {request["service_request_id"] for request in found}

    every = {dispatched, supplement, cancelled}
    now = clock.now()
    for fmt in ("json", "xml"):
        assert ids(fmt) == every
        assert ids(fmt, service_request_id=f"{dispatched},{cancelled},PA-000000-00000000") == {dispatched, cancelled}
        assert ids(fmt, service_code="waste_sanitation") == {cancelled}
        assert ids(fmt, service_code="roads_traffic,waste_sanitation") == every
        assert ids(fmt, status="closed") == {cancelled}
        assert ids(fmt, status="open") == {dispatched, supplement}
        assert ids(fmt, status="open", service_code="waste_sanitation") == set()
        assert ids(fmt, start_date=(now - timedelta(minutes=5)).isoformat(),
                   end_date=(now + timedelta(minutes=5)).isoformat()) == every
        assert ids(fmt, start_date=(now + timedelta(minutes=1)).isoformat()) == set()
        assert ids(fmt, end_date=(now - timedelta(days=1)).isoformat()) == set()
    status, found = get(system, "requests", status="closed")
    assert found[0]["status"] == "closed" and found[0]["status_notes"].startswith("Phản ánh đã được hủy")
    status, errors = get(system, "requests", status="pending")
    assert status == 422
    status, errors = get(system, "requests", start_date=(now - timedelta(days=200)).isoformat(),
                         end_date=now.isoformat())
    assert status == 422 and any(e["description"].startswith("start_date") for e in errors)
    status, errors = get(system, "requests", start_date="yesterday")
    assert status == 422


def test_refusals_are_open311_errors_in_either_format(system):
    system.start("intake")
    for fmt in ("json", "xml"):
        status, errors = post(system, fmt, api_key="not-the-key")
        assert status == 403 and errors[0]["description"].startswith("INVALID_API_KEY")
        status, errors = post(system, fmt, api_key=None)
        assert status == 403
        status, errors = post(system, fmt, jurisdiction_id="atlantis")
        assert status == 404 and errors[0]["description"].startswith("UNKNOWN_JURISDICTION")
        status, errors = post(system, fmt, service_code="potholes")
        assert status == 422 and errors[1]["description"].startswith("service_code")
        status, errors = post(system, fmt, lat="91.5")
        assert status == 422 and errors[1]["description"].startswith("lat")
        status, errors = post(system, fmt, long="NaN")
        assert status == 422 and errors[1]["description"].startswith("long")
        status, errors = post(system, fmt, **{"attribute[urgent]": "maybe"})
        assert status == 422 and errors[1]["description"].startswith("attribute[urgent]")
        status, errors = post(system, fmt, color="red")
        assert status == 422 and errors[1]["description"].startswith("color")
        status, errors = post(system, fmt, files=[("media", ("notes.txt", b"just text", "text/plain"))])
        assert status == 415 and errors[0]["description"].startswith("UNSUPPORTED_MEDIA")
    answer = requests.post(f"{system.api}/open311/v2/requests.json", json=form(system), timeout=10)
    assert answer.status_code == 415
    validate("errors", answer.json())
    status, _ = get(system, "requests/PA-000000-00000000")
    assert status == 404


def test_media_url_is_fetched_from_an_allowed_host_only(system, media_server):
    served, port = media_server
    system.start(*FLOW)
    served["/scene.jpg"] = photo(3)
    status, created = post(system, media_url=f"http://127.0.0.1:{port}/scene.jpg")
    assert status == 201, created
    report_id = created[0]["service_request_id"]
    media = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["media"]
    assert [(m["filename"], m["kind"], m["size"]) for m in media] == [("scene.jpg", "photo", len(served["/scene.jpg"]))]
    for fmt in ("json", "xml"):
        status, errors = post(system, fmt, media_url=f"http://localhost:{port}/scene.jpg")
        assert status == 422 and errors[0]["description"].startswith("MEDIA_URL_REFUSED")
        status, errors = post(system, fmt, media_url=f"http://127.0.0.1:{port}/missing.jpg")
        assert status == 422 and errors[0]["description"].startswith("MEDIA_URL_UNREACHABLE")


def test_hostile_input_is_refused_in_the_open311_format_never_with_a_5xx(system, monkeypatch):
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", "127.0.0.1")
    system.start("intake")
    base = f"{system.api}/open311/v2"
    key = system.tokens["open311_api_key"]
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    attempts = [
        ("POST", "requests.json", {"data": b"api_key=" + key.encode() + b"&jurisdiction_id=" + PACK.encode()
                                   + b"&service_code=other&description=\xff\xfe", "headers": urlencoded}),
        ("POST", "requests.xml", {"data": form(system, **{f"attribute[a{i}]": "true" for i in range(60)})}),
        ("POST", "requests.json", {"data": form(system, lat="1e400")}),
        ("POST", "requests.json", {"data": form(system, lat="0x1p3", long="--1")}),
        ("POST", "requests.json", {"data": form(system, jurisdiction_id="x" * 10_000)}),
        ("POST", "requests.json", {"data": form(system, description="\x00" * 4)}),
        ("POST", "requests.json", {"data": form(system, **{"attribute[]": "x", "attribute[[": "y"})}),
        ("POST", "requests.json", {"data": list(form(system).items()) + [("description", "twice")]}),
        ("POST", "requests.json", {"data": form(system, media_url="http://127.0.0.1:1/scene.jpg")}),
        ("POST", "requests.json", {"data": form(system, media_url="http://[::1")}),
        ("POST", "requests.json", {"data": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}}),
        ("POST", "requests.json", {"data": b"{}", "headers": {"Content-Type": "text/plain"}}),
        ("POST", "requests.json", {"files": [("report", ("r.json", b"{}", "application/json"))],
                                   "data": form(system)}),
        ("GET", "requests.json", {"params": {"jurisdiction_id": PACK, "service_request_id": "P" * 5000}}),
        ("GET", "requests.xml", {"params": {"jurisdiction_id": PACK, "start_date": "2025-01-01T00:00:00"}}),
        ("GET", "requests.json", {"params": {"jurisdiction_id": PACK, "start_date": "0001-01-01T00:00:00-12:00"}}),
        ("GET", "requests.json", {"params": {"jurisdiction_id": PACK, "end_date": "0001-01-01T00:00:00+14:00"}}),
        ("GET", "requests.xml", {"params": {"jurisdiction_id": PACK, "start_date": "9999-12-31T23:59:59-12:00",
                                            "end_date": "9999-12-31T23:59:59-12:00"}}),
        ("GET", "requests.json", {"params": {"jurisdiction_id": PACK, "page": "2"}}),
        ("GET", "requests/%F0%9F%92%A5%00.xml", {"params": {"jurisdiction_id": PACK}}),
        ("GET", f"tokens/{'t' * 5000}.xml", {"params": {"jurisdiction_id": PACK}}),
        ("GET", "services.json", {"params": [("jurisdiction_id", "x"), ("jurisdiction_id", PACK)]}),
    ]
    for method, path, kwargs in attempts:
        answer = requests.request(method, f"{base}/{path}", timeout=30, **kwargs)
        assert 400 <= answer.status_code < 500, (path, kwargs.get("params"), answer.status_code, answer.text[:300])
        body = xml_to_json(answer.content) if path.endswith(".xml") else answer.json()
        validate("errors", body)
    # a path no Open311 route matches is the API's own 404 (paht.web), still never a 5xx
    answer = requests.get(f"{base}/services/..%2F..%2Fetc.json", params={"jurisdiction_id": PACK}, timeout=30)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "ROUTE_NOT_FOUND"
    for far in ("9999-12-31T23:59:59+14:00", "0001-01-02T00:00:00-12:00"):   # valid, if far: nothing found
        answer = requests.get(f"{base}/requests.json", params={"jurisdiction_id": PACK, "end_date": far}, timeout=30)
        assert answer.status_code in (200, 422), answer.text
