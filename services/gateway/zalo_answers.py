"""What a Zalo reporter is told in the chat, and the drafts on their way to a report.

A Zalo message carries no name or phone: the report a draft becomes waits for its reporter's supplement, which only
the tracking page takes — with the report's id and tracking token. The chat is the one place the reporter can
learn them, so the gateway answers there (Zalo's OA message API, `PAHT_ZALO_OA_MESSAGE_URL`): the id and token of
the report, or why it was not taken. An answer is kept (collection `zalo_replies`) until Zalo took it, tried again
with a growing pause, and given up after REPLY_WINDOW (Zalo takes consultation messages within 48 hours of the
citizen's last message); its text holds the token, so it is deleted once sent and never logged.

A complete draft is kept (collection `zalo_reporting`) from when the webhook takes it until its report is stored
or refused for good: the broker or the record being away meanwhile only delays it (the gateway's timer reports it
again under the same idempotency key, so it is stored once), for REPLY_WINDOW at most (then logged as given up)."""
from __future__ import annotations

from datetime import datetime, timedelta

import requests

from paht.errors import ApiError
from paht.storage import DuplicateKeyError

REPLY_WINDOW = timedelta(hours=48)
RETRY_AFTER = timedelta(seconds=60)      # a draft not reported by then is reported again
HTTP_TIMEOUT_S = (5, 10)                 # connect, read


class ReplyFailed(Exception):
    pass


def reply_text(answer: dict, public_url: str) -> str:
    """The answer to a stored report: its id and tracking token, and where to follow it."""
    return (f"PAHT đã tiếp nhận phản ánh của bạn.\n"
            f"Mã phản ánh: {answer['id']}\n"
            f"Mã tra cứu (chỉ gửi một lần, vui lòng giữ kín): {answer['tracking_token']}\n"
            f"Theo dõi, bổ sung thông tin (họ tên, số điện thoại) và đánh giá kết quả tại {public_url}/track "
            f"bằng mã phản ánh và mã tra cứu.\n"
            f"(Report received: id {answer['id']}, tracking token above; follow it at {public_url}/track.)")


def refusal_text(refused: ApiError) -> str:
    """The answer to a draft the record refused: why, in Vietnamese first, and that a new message starts again."""
    fields = "; ".join(f"{name}: {why}" for name, why in (refused.fields or {}).items())
    return (f"PAHT chưa tiếp nhận được phản ánh của bạn: {refused.message}{f' ({fields})' if fields else ''}.\n"
            f"Vui lòng gửi lại nội dung, ảnh và vị trí hiện trường.\n"
            f"(Not received: {refused.message_en}; code {refused.code}.)")


def send_reply(url: str, token: str | None, sender: str, text: str) -> None:
    """One text message to a Zalo user who wrote to the Official Account; ReplyFailed unless Zalo took it (HTTP
    200 with `"error": 0`)."""
    try:
        answer = requests.post(url, json={"recipient": {"user_id": sender}, "message": {"text": text}},
                               headers={"access_token": token} if token else {}, timeout=HTTP_TIMEOUT_S)
    except requests.RequestException as exc:
        raise ReplyFailed(type(exc).__name__) from None
    if answer.status_code >= 300:
        raise ReplyFailed(f"HTTP {answer.status_code}")
    try:
        error = answer.json().get("error", 0)
    except (ValueError, AttributeError):
        raise ReplyFailed("not a JSON object") from None
    if error not in (0, None):
        raise ReplyFailed(f"Zalo error {error}")


class ZaloAnswers:
    """`zalo_reporting` (drafts being reported, by their first message's id) and `zalo_replies` (answers to send)
    in the gateway's store."""

    def __init__(self, db):
        self.reporting = db["zalo_reporting"]
        self.replies = db["zalo_replies"]

    # ---- drafts on their way ----------------------------------------------------------------------------------
    def keep(self, draft: dict, pack: str, now: datetime) -> dict:
        """A taken draft, kept until its report is stored or refused (the same draft twice: kept once)."""
        pending = {"_id": draft["messages"][0], "draft": draft, "pack": pack, "taken_at": now, "tried_at": now}
        try:
            self.reporting.insert_one(pending)
        except DuplicateKeyError:
            pass
        return pending

    def overdue(self, now: datetime) -> tuple[list[dict], list[dict]]:
        """(drafts whose last try is RETRY_AFTER old — the record or the broker was away —, marked as tried now;
        drafts taken more than REPLY_WINDOW ago, no longer tried: dropped, for the log)."""
        abandoned = list(self.reporting.find({"taken_at": {"$lt": now - REPLY_WINDOW}}))
        for pending in abandoned:
            self.reporting.delete_one({"_id": pending["_id"]})
        found = list(self.reporting.find({"tried_at": {"$lt": now - RETRY_AFTER}}, limit=50))
        for pending in found:
            self.reporting.update_one({"_id": pending["_id"]}, {"$set": {"tried_at": now}})
        return found, abandoned

    def done(self, pending: dict) -> None:
        self.reporting.delete_one({"_id": pending["_id"]})

    # ---- answers in the chat ----------------------------------------------------------------------------------
    def queue(self, key: str, sender: str, text: str, now: datetime) -> dict | None:
        """An answer to send (once per draft: `key`); None when it was queued already."""
        reply = {"_id": key, "sender": sender, "text": text, "created_at": now, "attempts": 0, "next_at": now}
        try:
            self.replies.insert_one(reply)
        except DuplicateKeyError:
            return None
        return reply

    def due(self, now: datetime) -> tuple[list[dict], list[str]]:
        """(answers to try now, the keys of those dropped: past REPLY_WINDOW, Zalo no longer takes them)."""
        expired = [reply["_id"] for reply in self.replies.find({"created_at": {"$lt": now - REPLY_WINDOW}}, {"_id": 1})]
        for key in expired:
            self.replies.delete_one({"_id": key})
        return list(self.replies.find({"next_at": {"$lte": now}}, limit=50)), expired

    def sent(self, reply: dict) -> None:
        self.replies.delete_one({"_id": reply["_id"]})

    def failed(self, reply: dict, now: datetime) -> None:
        """Tried again after 1, 2, 4 … minutes, an hour at most."""
        attempts = reply.get("attempts", 0) + 1
        pause = timedelta(minutes=min(2 ** (attempts - 1), 60))
        self.replies.update_one({"_id": reply["_id"]}, {"$set": {"attempts": attempts, "next_at": now + pause}})
