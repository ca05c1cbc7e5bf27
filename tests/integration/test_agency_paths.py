"""Every path of an agency's work through the real services (issue 5)."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from paht import accounts
from paht.callers import call_internal
from paht.rules import get_pack
from paht.worktime import calendar_for
from tests.integration.conftest import eventually
from tests.integration.test_notifications import notified
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead
from tests.webhook_check import documented_check

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def tokens(system, agency, pack=PACK):
    return system.agency_tokens(pack, agency)


def dispatched(system, **extra):
    answer = system.submit(good_report(**extra), [fresh_photo(seed=hash(json.dumps(extra, sort_keys=True)) % 1000)])
    assert answer.status_code == 201, answer.text
    return system.wait_state(answer.json()["id"], "dispatched")


def test_wrong_jurisdiction_return_is_routed_to_the_suggested_agency(system):
    system.start()
    view = dispatched(system)
    first = lead(view)
    staff, _ = tokens(system, first)
    answer = system.staff(view["id"], "return", staff, agency="cap-nuoc", note="Thuộc ngành cấp nước")
    assert answer.status_code == 200, answer.text
    view = system.wait_for(view["id"], lambda v: v["state"] == "dispatched" and lead(v) == "cap-nuoc",
                           what="re-routed to cap-nuoc")
    route = system.staff_get(f"reports/{view['id']}", system.tokens["operator"]).json()["route"]
    assert route["rule"] == "tth-route-suggested" and route["returned_count"] == 1
    staff_old, _ = tokens(system, first)
    assert system.staff(view["id"], "acknowledge", staff_old).status_code == 403   # no longer theirs
    assert system.staff(view["id"], "acknowledge", tokens(system, "cap-nuoc")[0]).status_code == 200


SOC_TRANG = dict(pack="soc-trang-2022", location={"lat": 10.0340, "lon": 105.7880, "source": "gps"},
                 reporter={"name": "An", "phone": "0905123456", "email": "an@example.vn", "address": "1 Trần Hưng Đạo",
                           "citizen_id": "079123456789", "account_id": "st-1",
                           "account_proof": accounts.proof("st-1")})


def test_lead_forwards_to_co_agencies_and_only_assigned_agencies_see_it(system):
    system.start()
    view = dispatched(system, **SOC_TRANG)
    staff, leader = tokens(system, lead(view), "soc-trang-2022")
    assert system.staff(view["id"], "acknowledge", staff).status_code == 200
    answer = system.staff(view["id"], "forward", staff, agencies=["dien-luc", "cap-nuoc"])
    assert answer.status_code == 200, answer.text
    view = system.wait_for(view["id"], lambda v: len(v["assigned_agencies"]) >= 3, what="co-agencies")
    roles = {a["id"]: a["role"] for a in view["assigned_agencies"]}
    assert roles["dien-luc"] == "co" and roles["cap-nuoc"] == "co"
    co_staff = tokens(system, "dien-luc", "soc-trang-2022")[0]
    listed = system.staff_get("reports", co_staff).json()["reports"]
    assert [r["id"] for r in listed] == [view["id"]]
    outsider = tokens(system, "so-y-te", "soc-trang-2022")[0]
    assert system.staff_get(f"reports/{view['id']}", outsider).status_code == 403
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "co_process" for d in v["deadlines"]),
                           what="co-agencies' deadline")
    assert system.staff(view["id"], "submit_result", co_staff, result_text="Đã kiểm tra lưới điện").status_code == 200
    co_leader = tokens(system, "dien-luc", "soc-trang-2022")[1]
    assert system.staff(view["id"], "approve", co_leader).status_code == 200
    for other in [a["id"] for a in view["assigned_agencies"] if a["role"] == "co" and a["id"] != "dien-luc"]:
        answer = system.staff(view["id"], "return", tokens(system, other, "soc-trang-2022")[0], agency="so-xay-dung")
        assert answer.status_code == 200, answer.text   # the ward and the water company: not their matter
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "co_process" and d.get("closed_at")
                                                     for d in v["deadlines"]), what="co step closed")
    assert view["state"] == "in_progress"
    assert system.staff(view["id"], "submit_result", staff, result_text="Tổng hợp").status_code == 200
    detail = system.staff_get(f"reports/{view['id']}", system.tokens["operator"]).json()
    assert detail["result"]["contributions"]["dien-luc"]["approved"] is True


def test_extension_within_and_beyond_the_packs_limit(system):
    system.start()
    view = dispatched(system, **SOC_TRANG)
    staff, _ = tokens(system, lead(view), "soc-trang-2022")
    assert system.staff(view["id"], "acknowledge", staff).status_code == 200
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "process" for d in v["deadlines"]),
                           what="process deadline")
    process = next(d for d in view["deadlines"] if d["step"] == "process")
    due = datetime.fromisoformat(process["due"])
    calendar = calendar_for(get_pack("soc-trang-2022").meta)
    too_long = calendar.add(due, 3, "wd") + timedelta(minutes=1)     # ½ of 6 working days (Điều 10 khoản 2 điểm c)
    refused = system.staff(view["id"], "extend", staff, new_due=too_long.isoformat(), note="Cần khảo sát thêm")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "EXTENSION_TOO_LONG"
    granted = due + timedelta(days=1)
    assert system.staff(view["id"], "extend", staff, new_due=granted.isoformat(), note="Chờ vật tư").status_code == 200
    # the centre sets the time from the agency's notice (Điều 10 khoản 2 điểm c; test_receipt_and_extension.py)
    assert system.staff(view["id"], "set_extension", system.tokens["operator"]).status_code == 200
    view = system.wait_for(view["id"], lambda v: any(
        d["step"] == "process" and datetime.fromisoformat(d["due"]) == granted for d in v["deadlines"]),
        what="moved deadline")


def test_leader_sends_back_then_approves(system):
    system.start()
    view = dispatched(system)
    staff, leader = tokens(system, lead(view))
    assert system.staff(view["id"], "acknowledge", staff).status_code == 200
    after = [fresh_photo(0, seed=78)]
    assert system.staff(view["id"], "submit_result", staff, photos=after, result_text="Đã xử lý").status_code == 200
    assert system.staff(view["id"], "send_back", leader, note="Ảnh chưa rõ").status_code == 200
    assert system.get(view["id"])["state"] == "in_progress"
    answer = system.staff(view["id"], "submit_result", staff, photos=after, result_text="Đã xử lý, ảnh rõ")
    assert answer.status_code == 200
    assert system.staff(view["id"], "approve", leader).status_code == 200
    system.wait_state(view["id"], "approved")
    assert system.staff(view["id"], "publish", system.tokens["operator"]).status_code == 200
    view = system.wait_state(view["id"], "published")
    states = [t["to"] for t in view["timeline"]]
    assert states.count("result_submitted") == 2 and states[-1] == "published"


def test_unresolved_then_designated_by_the_operator(system):
    system.start()
    answer = system.submit(good_report(category="other", description="Một vấn đề chưa rõ cơ quan phụ trách",
                                       location={"source": "manual", "address": "Khu phố 3, chợ cũ"})
                           | {"pack": "tay-ninh-2024"},
                           [fresh_photo()])
    report_id = answer.json()["id"]
    system.wait_state(report_id, "routing_unresolved")
    agency_staff = tokens(system, "so-xay-dung", "tay-ninh-2024")[0]
    assert system.staff(report_id, "designate", agency_staff, agency="so-xay-dung").status_code == 403
    answer = system.staff(report_id, "designate", system.tokens["operator"], agency="so-xay-dung")
    assert answer.status_code == 200, answer.text
    view = system.wait_state(report_id, "dispatched")
    assert lead(view) == "so-xay-dung"


WEBHOOK_SECRET = "paht-integration-webhook-secret"


class Receiver(BaseHTTPRequestHandler):
    received: list = []
    signed: list = []      # (raw body, X-PAHT-Timestamp, X-PAHT-Signature) of each call
    status = 200

    def do_POST(self):  # noqa: N802 — http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        type(self).signed.append((body, self.headers.get("X-PAHT-Timestamp"), self.headers.get("X-PAHT-Signature")))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    Receiver.received, Receiver.signed, Receiver.status = [], [], 200
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PAHT_IMMEDIATE_WEBHOOK", f"http://127.0.0.1:{server.server_port}/notify")
    monkeypatch.setenv("PAHT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    yield Receiver
    server.shutdown()


def immediate_told(system, report_id, status):
    """The immediate case's webhook in the report's timeline (publishing's `notified`), once it reached `status`."""
    return notified(system, report_id, channel="immediate_webhook", template="immediate", status=status)


def test_immediate_case_notifies_the_agency(system, webhook):
    system.start()
    view = dispatched(system, category="fire_rescue", urgent=True,
                      description="Cháy nhà dân trên đường Lê Lợi, khói rất nhiều")
    assert lead(view) == "cong-an"
    eventually(lambda: immediate_told(system, view["id"], "sent"), "the immediate case's webhook sent")
    staff = system.staff_get(f"reports/{view['id']}", system.tokens["operator"]).json()
    route = staff["route"]
    assert webhook.received == [{                                    # once, with the body of docs/webhooks.md
        "report_id": view["id"], "category": "fire_rescue", "lead": "cong-an", "co": route["co"],
        "ward": staff["ward"], "location": staff["location"], "description": staff["description"],
        "rule": route["rule"], "article": route["article"]}]
    assert route["rule"] and route["immediate"]
    body, timestamp, signature = webhook.signed[0]
    assert documented_check()(WEBHOOK_SECRET.encode(), body, timestamp, signature)     # docs/webhooks.md
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "receive" for d in v["deadlines"]),
                           what="receive deadline")
    receive = next(d for d in view["deadlines"] if d["step"] == "receive")
    assert receive["rule"] == "tth-sla-immediate-receive"


def test_failing_webhook_is_retried_then_dead_lettered(system, webhook, monkeypatch):
    """A failing receiver is tried again after publishing's pauses (30 s, then 60 s) and, after the last attempt,
    is a dead letter at intake like every notification."""
    monkeypatch.setenv("PAHT_NOTIFICATION_ATTEMPTS", "3")
    webhook.status = 500
    system.start()
    view = dispatched(system, category="security_order", urgent=True, description="Có trộm đang cạy cửa nhà")
    eventually(lambda: len(webhook.received) >= 1, "the first attempt")
    system.advance(31)
    eventually(lambda: len(webhook.received) >= 2, "the second attempt")
    system.advance(61)
    eventually(lambda: len(webhook.received) >= 3, "the third attempt")
    dead = eventually(lambda: immediate_told(system, view["id"], "dead"), "the dead notification")
    assert dead[0]["to"] == lead(view) and "HTTP 500" in dead[0]["error"]
    assert len(webhook.received) == 3 and all(body == webhook.received[0] for body in webhook.received)
    with ServiceRpcProxy("intake", system.rabbit_config) as intake:
        def letters():
            listed = [letter for letter in call_internal("intake", intake, "dead_letters")
                      if letter["report_id"] == view["id"]]
            return [call_internal("intake", intake, "dead_letter", letter_id=letter["_id"]) for letter in listed]
        [letter] = eventually(letters, "the dead letter")
    assert letter["service"] == "publishing" and letter["attempts"] == 3
    assert letter["body"]["channel"] == "immediate_webhook" and letter["error"]["type"] == "NotificationDead"


def test_a_late_wrong_jurisdiction_return_counts_against_the_agency(system):
    system.start()
    view = dispatched(system, description="Cống thoát nước bị vỡ, nước tràn ra đường")
    first = lead(view)
    system.advance(2 * 3600)                      # Huế allows 60 minutes to return a report (Điều 11 khoản 2)
    answer = system.staff(view["id"], "return", tokens(system, first)[0], agency="cap-nuoc")
    assert answer.status_code == 200, answer.text
    view = system.wait_for(view["id"], lambda v: any(d["step"] == "return" and d["late"] for d in v["deadlines"]),
                           what="late return")
    late_return = next(d for d in view["deadlines"] if d["step"] == "return")
    assert late_return["agency"] == first and late_return["rule"] == "tth-sla-return"
    report = system.staff_get("province-report", system.tokens["operator"], pack="thua-thien-hue-2022").json()
    counters = {row["agency"]: row["counters"] for row in report["agencies"]}
    assert counters[first]["late_count"] >= 1
