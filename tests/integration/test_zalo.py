"""The Zalo Official Account webhook (issue 14 item 6): a citizen's signed messages — text, photo, location — become
one report; a bad signature gets 401 and stores nothing; a message Zalo sends again makes no second report."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from paht import clock
from paht.demo_media import camera_jpeg
from services.gateway.zalo import SIGNATURE_HEADER, mac
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration

PACK = "thua-thien-hue-2022"
SECRET = "zalo-oa-secret-for-tests"
APP_ID = "3608465249409039"
SENDER = "2468458835291979"
PHOTO = camera_jpeg(None, seed=9)


class PhotoServer(BaseHTTPRequestHandler):
    """Zalo's stand-in: the photos a citizen sent (GET /photo.jpg) and the Official Account's message API (POST
    /oa/message/cs: each call kept in `messages`; `/oa/message/cs-refusing` answers Zalo's error -216)."""
    messages: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        PhotoServer.messages.append({"path": self.path, "token": self.headers.get("access_token"),
                                     "body": json.loads(body)})
        answer = json.dumps({"error": 0, "message": "Success"} if self.path == "/oa/message/cs"
                            else {"error": -216, "message": "Access token is invalid"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):
        if self.path != "/photo.jpg":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(PHOTO)))
        self.end_headers()
        self.wfile.write(PHOTO)

    def log_message(self, *args):
        pass


@pytest.fixture
def zalo_system(system, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PhotoServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PAHT_ZALO_OA_SECRET", SECRET)
    monkeypatch.setenv("PAHT_ZALO_PACK", PACK)
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", host)
    monkeypatch.setenv("PAHT_ZALO_OA_MESSAGE_URL", f"http://{host}/oa/message/cs")
    monkeypatch.setenv("PAHT_ZALO_ACCESS_TOKEN", "oa-access-token")
    PhotoServer.messages = []
    system.start()
    system.photo_url = f"http://{host}/photo.jpg"
    system.zalo_host = host
    yield system
    server.shutdown()


def event(name, msg_id, text=None, attachments=(), sender=SENDER) -> dict:
    message = {"msg_id": msg_id, "attachments": list(attachments)}
    if text is not None:
        message["text"] = text
    return {"app_id": APP_ID, "user_id_by_app": "552177279717587730", "event_name": name, "sender": {"id": sender},
            "recipient": {"id": "388613280878808645"}, "message": message,
            "timestamp": str(int(clock.now().timestamp() * 1000))}


def post(system, body: dict, signature: str | None = "good"):
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "good":
        headers[SIGNATURE_HEADER] = "mac=" + mac(body["app_id"], raw, body["timestamp"], SECRET.encode())
    elif signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return requests.post(f"{system.api}/api/v1/channels/zalo", data=raw, headers=headers, timeout=10)


def listed(system) -> list[dict]:
    answer = system.staff_get("reports", system.tokens["operator"])
    assert answer.status_code == 200, answer.text
    return answer.json()["reports"]


def wait_listed(system, count: int, timeout: float = 20.0) -> list[dict]:
    def enough():
        found = listed(system)
        return found if len(found) >= count else None
    return eventually(enough, f"{count} report(s) stored", timeout)


def location(lat="16.4637", lon="107.5909"):
    return {"type": "location", "payload": {"coordinates": {"latitude": lat, "longitude": lon}}}


def test_text_photo_and_location_from_one_citizen_become_one_report(zalo_system):
    system = zalo_system
    image = {"type": "image", "payload": {"url": system.photo_url, "thumbnail": system.photo_url}}
    first = post(system, event("user_send_text", "msg-1", text="Đèn đường đường Lê Lợi bị tắt cả tuần nay"))
    assert first.status_code == 200 and first.json() == {"status": "gathering", "has": ["text"]}
    second = post(system, event("user_send_image", "msg-2", attachments=[image]))
    assert second.json() == {"status": "gathering", "has": ["text", "photo"]}
    assert listed(system) == []
    third = post(system, event("user_send_location", "msg-3", attachments=[location()]))
    assert third.status_code == 200 and third.json() == {"status": "reporting"}

    [found] = wait_listed(system, 1)
    view = system.staff_get(f"reports/{found['id']}", system.tokens["operator"]).json()
    assert view["channel"] == "zalo" and view["reporter"]["zalo_user_id"] == SENDER
    assert view["description"] == "Đèn đường đường Lê Lợi bị tắt cả tuần nay"
    assert view["location"]["lat"] == 16.4637 and view["location"]["lon"] == 107.5909
    assert [m["kind"] for m in view["media"]] == ["photo"] and view["media"][0]["size"] == len(PHOTO)
    # verified like any report: a Zalo message gives no name or phone, so the pack asks for them
    view = system.wait_state(found["id"], "needs_supplement")
    assert "MISSING_REPORTER_INFO" in {r["code"] for r in view["reasons"]}

    # Zalo sends a message again when it missed our answer: nothing new
    again = post(system, event("user_send_location", "msg-3", attachments=[location()]))
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    # …while a new complete message from the same citizen (all in one event) is a new report
    one_event = event("user_send_image", "msg-4", text="Cống vỡ trước nhà số 8", attachments=[image, location()])
    assert post(system, one_event).json() == {"status": "reporting"}
    assert len(wait_listed(system, 2)) == 2
    # a draft becomes a report only in work the webhook leaves running after its answer (intake's Background, which
    # counts each task from before the answer until it ends): once intake has none left, no report can come later
    eventually(lambda: system.metric("intake", "paht_background_tasks", service="intake") == 0,
               "intake's work after its answers done")
    assert len(listed(system)) == 2


def test_the_citizen_is_answered_in_the_chat_and_supplements_with_what_it_says(zalo_system, monkeypatch, caplog):
    """A Zalo message has no name or phone, so the report waits for its reporter's supplement: the answer in the
    chat gives the report's id and tracking token, which open the tracking page and take the supplement. Zalo
    refusing an answer leaves it kept to be sent again; the token is in no log."""
    import logging
    import re

    caplog.set_level(logging.DEBUG)
    system = zalo_system
    image = {"type": "image", "payload": {"url": system.photo_url}}
    one_event = event("user_send_image", "msg-20", text="Cây đổ chắn ngang đường Hùng Vương",
                      attachments=[image, location()])
    assert post(system, one_event).json() == {"status": "reporting"}
    [found] = wait_listed(system, 1)
    [sent] = eventually(lambda: PhotoServer.messages or None, "the answer in the chat")
    assert sent["token"] == "oa-access-token" and sent["body"]["recipient"] == {"user_id": SENDER}
    text = sent["body"]["message"]["text"]
    assert found["id"] in text and "Mã tra cứu" in text
    tracking = re.search(r"Mã tra cứu \(chỉ gửi một lần, vui lòng giữ kín\): (\S+)", text).group(1)
    system.wait_state(found["id"], "needs_supplement")
    supplied = requests.post(f"{system.api}/api/v1/reports/{found['id']}/supplement", timeout=10,
                             headers={"X-Tracking-Token": tracking},
                             json={"reporter": {"name": "Trần Thị Bình", "phone": "0905111222",
                                                   "email": "binh@example.vn"}})
    assert supplied.status_code == 200, supplied.text
    system.wait_for(found["id"], lambda v: v["state"] != "needs_supplement", what="the supplement taken")

    monkeypatch.setenv("PAHT_ZALO_OA_MESSAGE_URL", f"http://{system.zalo_host}/oa/message/cs-refusing")
    assert post(system, event("user_send_image", "msg-22", text="Rác ứ đọng chợ Đông Ba", sender="2222",
                              attachments=[image, location()])).json() == {"status": "reporting"}
    wait_listed(system, 2)
    eventually(lambda: any(m["path"].endswith("refusing") for m in PhotoServer.messages), "a refused answer")
    from paht.storage import open_database
    kept = eventually(lambda: open_database("gateway")["zalo_replies"].find_one({"sender": "2222"}),
                      "the refused answer kept to be sent again")
    assert kept["attempts"] == 1 and kept["next_at"] > kept["created_at"]
    assert open_database("gateway")["zalo_reporting"].count_documents({}) == 0   # every draft reported
    assert tracking not in caplog.text


@pytest.mark.parametrize("signature", [None, "", "mac=", "mac=" + "0" * 64, "sha256=abc", "wrong"])
def test_a_bad_signature_gets_401_and_stores_nothing(zalo_system, signature):
    system = zalo_system
    body = event("user_send_image", "msg-bad", text="Giả mạo",
                 attachments=[{"type": "image", "payload": {"url": system.photo_url}}, location()])
    refused = post(system, body, signature)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "INVALID_SIGNATURE"
    # signed with another secret
    raw = json.dumps(body).encode()
    forged = requests.post(f"{system.api}/api/v1/channels/zalo", data=raw, timeout=10, headers={
        SIGNATURE_HEADER: "mac=" + mac(APP_ID, raw, body["timestamp"], b"guessed"), "Content-Type": "application/json"})
    assert forged.status_code == 401
    # nothing was kept: the same msg_id, now signed, is new, and the forged text is in no draft
    assert post(system, event("user_send_text", "msg-bad", text="Thật")).json() == {"status": "gathering",
                                                                                     "has": ["text"]}
    assert listed(system) == []


def test_unreadable_calls_and_other_events(zalo_system, monkeypatch):
    system = zalo_system
    for raw in (b"{", b"[]", b"\xff\xfe", b""):
        answer = requests.post(f"{system.api}/api/v1/channels/zalo", data=raw, timeout=10,
                               headers={SIGNATURE_HEADER: "mac=00"})
        assert answer.status_code == 401, raw
    follow = {"app_id": APP_ID, "event_name": "follow", "follower": {"id": SENDER}, "timestamp": "1741053600000"}
    answer = post(system, follow)
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    monkeypatch.delenv("PAHT_ZALO_OA_SECRET")   # not configured: every call refused, even a well-signed one
    answer = post(system, event("user_send_text", "msg-9", text="Xin chào"))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert listed(system) == []
