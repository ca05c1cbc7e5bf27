"""What a Zalo reporter is told in the chat (services/gateway/zalo_answers.py): the texts, the call to the Official
Account's message API (a local HTTP server stands in for Zalo), and the kept answers and drafts on the embedded
store: once per draft, tried again after a growing pause, given up after Zalo's 48 hours."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from paht.embedded import Database
from paht.errors import ApiError
from services.gateway import zalo_answers
from services.gateway.zalo_answers import ReplyFailed, ZaloAnswers, refusal_text, reply_text, send_reply

NOW = datetime(2026, 12, 7, 2, tzinfo=timezone.utc)


def test_the_answer_gives_the_id_the_token_and_where_to_follow_it():
    text = reply_text({"id": "PA-261207-0000ABCD", "tracking_token": "tok-123"}, "https://paht.example.vn")
    assert "Mã phản ánh: PA-261207-0000ABCD" in text and "tok-123" in text
    assert "https://paht.example.vn/track" in text and text.startswith("PAHT đã tiếp nhận")


def test_a_refusal_says_why_in_vietnamese_first():
    text = refusal_text(ApiError("UNKNOWN_PACK", fields={"pack": "x"}))
    assert text.startswith("PAHT chưa tiếp nhận") and "pack: x" in text and "UNKNOWN_PACK" in text


class Zalo(BaseHTTPRequestHandler):
    calls: list = []
    answer: tuple = (200, {"error": 0})

    def do_POST(self):
        Zalo.calls.append((self.headers.get("access_token"), json.loads(self.rfile.read(
            int(self.headers["Content-Length"])))))
        status, body = Zalo.answer
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def zalo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Zalo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Zalo.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v3.0/oa/message/cs"
    server.shutdown()


def test_the_message_goes_to_the_user_with_the_oa_token(zalo):
    Zalo.answer = (200, {"error": 0, "message": "Success"})
    send_reply(zalo, "oa-token", "2468", "Xin chào")
    assert Zalo.calls == [("oa-token", {"recipient": {"user_id": "2468"}, "message": {"text": "Xin chào"}})]


@pytest.mark.parametrize("status, body, why", [
    (200, {"error": -216, "message": "Access token is invalid"}, "Zalo error -216"),
    (502, {"error": 0}, "HTTP 502"), (200, b"<html>", "not a JSON object"), (200, b"[1]", "not a JSON object")])
def test_what_zalo_did_not_take_fails(zalo, status, body, why):
    Zalo.answer = (status, body)
    with pytest.raises(ReplyFailed, match=why):
        send_reply(zalo, None, "2468", "Xin chào")


def test_an_unreachable_zalo_fails_without_waiting_forever():
    with pytest.raises(ReplyFailed, match="ConnectionError"):
        send_reply("http://127.0.0.1:9/oa/message/cs", None, "2468", "Xin chào")


def test_an_answer_is_kept_once_tried_again_later_and_given_up_after_48_hours():
    answers = ZaloAnswers(Database(":memory:"))
    reply = answers.queue("reply:msg-1", "2468", "PAHT đã tiếp nhận …", NOW)
    assert answers.queue("reply:msg-1", "2468", "PAHT đã tiếp nhận …", NOW) is None      # once per draft
    assert [r["_id"] for r in answers.due(NOW)[0]] == ["reply:msg-1"]
    for attempt, pause in ((1, 1), (2, 2), (3, 4)):
        answers.failed(reply, NOW)
        reply = answers.replies.find_one({"_id": "reply:msg-1"})
        assert reply["attempts"] == attempt and reply["next_at"] == NOW + timedelta(minutes=pause)
    assert answers.due(NOW) == ([], [])
    assert [r["_id"] for r in answers.due(NOW + timedelta(minutes=4))[0]] == ["reply:msg-1"]
    later = NOW + zalo_answers.REPLY_WINDOW + timedelta(seconds=1)
    assert answers.due(later) == ([], ["reply:msg-1"]) and answers.replies.count_documents({}) == 0
    answers.queue("reply:msg-2", "2468", "…", NOW)
    answers.sent(answers.replies.find_one({"_id": "reply:msg-2"}))
    assert answers.replies.count_documents({}) == 0


def test_a_taken_draft_is_kept_until_reported_and_retried_when_overdue():
    answers = ZaloAnswers(Database(":memory:"))
    draft = {"_id": "draft:2468", "messages": ["msg-1", "msg-2"], "sender": "2468"}
    pending = answers.keep(draft, "thua-thien-hue-2022", NOW)
    answers.keep(draft, "thua-thien-hue-2022", NOW)                                       # kept once
    assert answers.overdue(NOW + zalo_answers.RETRY_AFTER) == ([], [])
    [again], [] = answers.overdue(NOW + zalo_answers.RETRY_AFTER + timedelta(seconds=1))
    assert again["draft"] == draft and again["pack"] == "thua-thien-hue-2022"
    assert answers.overdue(NOW + zalo_answers.RETRY_AFTER + timedelta(seconds=2)) == ([], [])   # tried just now
    answers.done(pending)
    assert answers.reporting.count_documents({}) == 0


def test_a_draft_never_reported_is_given_up_after_48_hours():
    answers = ZaloAnswers(Database(":memory:"))
    answers.keep({"_id": "draft:1", "messages": ["msg-9"], "sender": "1"}, "thua-thien-hue-2022", NOW)
    [], [abandoned] = answers.overdue(NOW + zalo_answers.REPLY_WINDOW + timedelta(seconds=1))
    assert abandoned["_id"] == "msg-9" and answers.reporting.count_documents({}) == 0
