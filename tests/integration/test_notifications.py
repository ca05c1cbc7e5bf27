"""Notifications on the real broker: an SMTP server (aiosmtpd) and a local HTTP server (SMS, Zalo ZNS, the agencies'
webhook) receive what the reporter and the agency are told along the happy path and the supplement path; a failing
gateway is retried, then dead-lettered, and a replay of the letter sends it again."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from aiosmtpd.controller import Controller
from nameko.standalone.rpc import ServiceRpcProxy

from paht import clock
from paht.callers import call_internal
from paht.storage import open_database
from tests.integration.conftest import eventually, free_port
from tests.integration.test_walking_route import HUE_POINT, PACK, fresh_photo, good_report
from tests.webhook_check import documented_check

pytestmark = pytest.mark.integration
WEBHOOK_SECRET = "paht-integration-webhook-secret"

class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def to(self, address, subject_part=""):
        return [m for m in self.messages if m["To"] == address and subject_part in m["Subject"]]


class Gateway(BaseHTTPRequestHandler):
    """SMS (/sms), Zalo ZNS (/zalo) and the agencies' webhook (/agency); `failing` paths answer 500. Each call is
    kept as (path, body, headers, raw body)."""
    received: ClassVar[list] = []
    failing: ClassVar[set] = set()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(raw), dict(self.headers), raw))
        self.send_response(500 if self.path in type(self).failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

    @classmethod
    def calls(cls, path, **match):
        return [body for got, body, *_ in cls.received
                if got == path and all(body.get(k) == v for k, v in match.items())]

    @classmethod
    def headers_of(cls, body) -> tuple[dict, bytes]:
        return next((headers, raw) for _, got, headers, raw in cls.received if got is body)


@pytest.fixture
def endpoints(monkeypatch):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    Gateway.received, Gateway.failing = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("PAHT_SMTP_URL", f"smtp://127.0.0.1:{smtp.port}")
    monkeypatch.setenv("PAHT_SMS_URL", f"{base}/sms")
    monkeypatch.setenv("PAHT_ZALO_URL", f"{base}/zalo")
    monkeypatch.setenv("PAHT_AGENCY_WEBHOOK_URL", f"{base}/agency")
    monkeypatch.setenv("PAHT_PUBLIC_URL", "https://paht.example.vn")
    monkeypatch.setenv("PAHT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("PAHT_SMS_API_KEY", "sms-gateway-key")
    monkeypatch.setenv("PAHT_ZALO_ACCESS_TOKEN", "zalo-oa-access-token")
    yield mailbox, Gateway
    server.shutdown()
    smtp.stop()


def notified(system, report_id, **match):
    timeline = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]
    return [e["detail"] for e in timeline if e["kind"] == "notified"
            and all(e["detail"].get(k) == v for k, v in match.items())]


def test_the_reporter_and_the_agency_are_told_along_the_happy_path(system, endpoints):
    mailbox, gateway = endpoints
    system.start()
    answer = system.submit(good_report(), [fresh_photo()])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    link = f"https://paht.example.vn/reports/{report_id}"

    received = eventually(lambda: mailbox.to("an@example.vn", "Đã tiếp nhận phản ánh"), "the receipt e-mail")[0]
    assert report_id in received["Subject"] and link in received.get_content()
    assert received["From"] == "PAHT <no-reply@paht.local>"
    sms = eventually(lambda: gateway.calls("/sms", to="0905123456"), "the receipt SMS")[0]
    assert report_id in sms["text"] and link in sms["text"]
    assert gateway.headers_of(sms)[0]["Authorization"] == "Bearer sms-gateway-key"
    zalo = eventually(lambda: gateway.calls("/zalo", phone="84905123456"), "the receipt ZNS")[0]
    assert zalo["template_id"] == "paht-received" and zalo["template_data"]["report_id"] == report_id
    assert gateway.headers_of(zalo)[0]["access_token"] == "zalo-oa-access-token"

    view = system.wait_state(report_id, "dispatched")
    agency = next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")
    dispatched = eventually(lambda: mailbox.to("an@example.vn", "đã được chuyển"), "the dispatch e-mail")[0]
    assert view["assigned_agencies"][0]["name"] in dispatched.get_content()
    hook = eventually(lambda: gateway.calls("/agency", event="assigned", agency=agency), "the assignment webhook")[0]
    assert hook["report_id"] == report_id and hook["pack"] == PACK and hook["link"] == link
    assert "Ổ gà lớn giữa đường Lê Lợi" in hook["text"]
    headers, raw = gateway.headers_of(hook)
    assert documented_check()(WEBHOOK_SECRET.encode(), raw, headers.get("X-PAHT-Timestamp"),
                              headers.get("X-PAHT-Signature"))

    staff, leader = system.agency_tokens(PACK, agency)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    assert system.staff(report_id, "submit_result", staff, photos=[fresh_photo(seed=77)],
                        result_text="Đã vá ổ gà.").status_code == 200
    assert system.staff(report_id, "approve", leader).status_code == 200
    system.wait_state(report_id, "approved")
    assert system.staff(report_id, "publish", system.tokens["operator"]).status_code == 200
    system.wait_state(report_id, "published")
    result = eventually(lambda: mailbox.to("an@example.vn", "Kết quả xử lý"), "the result e-mail")[0]
    assert "Đã vá ổ gà." in result.get_content() and link in result.get_content()

    entries = eventually(lambda: len(notified(system, report_id)) >= 10 and notified(system, report_id),
                         "the notifications in the timeline")
    told = {(e["template"], e["channel"], e["to"], e["status"]) for e in entries}
    assert {("received", "email", "a***@example.vn", "sent"), ("received", "sms", "09*****456", "sent"),
            ("received", "zalo", "09*****456", "sent"), ("dispatched", "email", "a***@example.vn", "sent"),
            ("assigned", "agency_webhook", agency, "sent"), ("published", "email", "a***@example.vn", "sent")} <= told
    assert len(gateway.calls("/sms", to="0905123456")) == len({e["template"] for e in entries
                                                               if e["recipient"] == "reporter"})   # once each
    public = system.get(report_id)
    assert "notified" not in {step["kind"] for step in public["timeline"]} and "0905123456" not in json.dumps(public)


def test_the_supplement_path_lists_every_reason_then_confirms_the_supplement(system, endpoints):
    mailbox, gateway = endpoints
    system.start()
    answer = system.submit(good_report(location=None))
    report_id, token = answer.json()["id"], answer.json()["tracking_token"]
    view = system.wait_state(report_id, "needs_supplement")
    mail = eventually(lambda: mailbox.to("an@example.vn", "cần bổ sung"), "the supplement e-mail")[0]
    text = mail.get_content()
    for reason in view["reasons"]:
        assert reason["message"] in text and reason["article"] in text
    assert {"MISSING_MEDIA", "MISSING_LOCATION"} <= {r["code"] for r in view["reasons"]}
    assert "Cách khắc phục" in text and "02 ngày" in text
    sms = eventually(lambda: [c for c in gateway.calls("/sms") if "cần bổ sung" in c["text"]], "the supplement SMS")
    assert all(reason["message"] in sms[0]["text"] for reason in view["reasons"])

    supplement = {"location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps"}}
    answer = system.supplement(report_id, token, supplement, [fresh_photo()])
    assert answer.status_code == 200, answer.text
    again = eventually(lambda: mailbox.to("an@example.vn", "Đã nhận thông tin bổ sung"), "the supplement receipt")
    assert report_id in again[0]["Subject"]
    system.wait_state(report_id, "dispatched")
    eventually(lambda: notified(system, report_id, template="needs_supplement", channel="email", status="sent"),
               "the supplement request in the timeline")


def test_a_failing_gateway_is_retried_then_dead_lettered_and_a_replay_sends_it(system, endpoints, monkeypatch):
    mailbox, gateway = endpoints
    monkeypatch.setenv("PAHT_NOTIFICATION_ATTEMPTS", "3")
    gateway.failing = {"/sms"}
    system.start()
    report_id = system.submit(good_report(), [fresh_photo()]).json()["id"]

    def receipts():
        return [call for call in gateway.calls("/sms") if "Đã tiếp nhận phản ánh" in call["text"]]
    eventually(lambda: len(receipts()) >= 1, "the first attempt")
    eventually(lambda: mailbox.to("an@example.vn", "Đã tiếp nhận"), "the e-mail, which does not wait for the SMS")
    # not again before its pause (30 s): the notifier recorded the failed attempt in its outbox with the next one due
    # 30 s later, and its timer claims only what is due (the clock moves with real time and the test's advances)
    outbox = open_database("publishing", var=system.tmp_path)["notifications"]

    def failed_once():
        found = list(outbox.find({"report_id": report_id, "template": "received", "channel": "sms"}))
        return found if found and found[0]["attempts"] >= 1 else None
    [receipt] = eventually(failed_once, "the failed attempt recorded")
    assert receipt["status"] == "pending" and receipt["attempts"] == 1 and "HTTP 500" in receipt["last_error"]
    assert receipt["next_at"] == receipt["failed_at"] + timedelta(seconds=30) and receipt["next_at"] > clock.now()
    assert len(receipts()) == 1
    system.advance(31)
    eventually(lambda: len(receipts()) >= 2, "the second attempt")
    system.advance(61)
    eventually(lambda: len(receipts()) >= 3, "the third attempt")

    with ServiceRpcProxy("intake", system.rabbit_config) as intake:
        def receipt_letters():
            listed = [letter for letter in call_internal("intake", intake, "dead_letters")
                      if letter["report_id"] == report_id]
            return [full for full in (call_internal("intake", intake, "dead_letter", letter_id=letter["_id"])
                                      for letter in listed)
                    if full["body"]["template"] == "received"]
        letter = eventually(receipt_letters, "the dead letter")[0]
        assert letter["service"] == "publishing" and letter["attempts"] == 3 and letter["body"]["channel"] == "sms"
        assert letter["error"]["type"] == "NotificationDead" and "HTTP 500" in letter["error"]["message"]
        assert "0905123456" not in json.dumps(letter)
        dead = eventually(lambda: notified(system, report_id, template="received", channel="sms", status="dead"),
                          "the dead notification")
        assert dead[0]["to"] == "09*****456" and "HTTP 500" in dead[0]["error"]
        staff_view = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()
        assert staff_view["processing_error"]["type"] == "NotificationDead"

        gateway.failing = set()
        assert call_internal("intake", intake, "replay_dead_letter", letter_id=letter["_id"])["status"] == "replayed"
    eventually(lambda: notified(system, report_id, template="received", channel="sms", status="sent"),
               "the replayed notification")
    assert len(receipts()) == 4
