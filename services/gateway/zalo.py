"""The Zalo Official Account webhook's logic: the call's signature, what a message brings, and the drafts that
gather a citizen's messages into one report.

In Zalo a citizen sends the text, each photo and the shared location as separate messages. Intake gathers them
per sender in a draft (collection `zalo_drafts`): each message adds its pieces, and the draft becomes one report
as soon as it holds a text, at least one photo and a location — in whatever order they came, or all at once in
one event. A draft nobody added to for DRAFT_WINDOW is dropped when the sender writes again (a new report starts).
Each message is used once (its `msg_id`), so Zalo's retries change nothing."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import TypeAdapter, ValidationError

from paht.schemas import Location, VisibleText
from paht.storage import DuplicateKeyError, ReturnDocument

from .channel_schemas import ChannelReporter, EnteredReport, ZaloEvent

DRAFT_WINDOW = timedelta(minutes=30)
SIGNATURE_HEADER = "X-ZEvent-Signature"


def mac(app_id: str, raw_body: bytes, timestamp: str, secret: bytes) -> str:
    """Zalo's signature of a webhook call: sha256 over app id, the raw body, the timestamp and the OA secret key."""
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret).hexdigest()


def signature_ok(header: str, app_id, timestamp, raw_body: bytes, secret: bytes) -> bool:
    """Whether `header` (`mac=<hex>`) signs this body; a missing part is never a match."""
    given = header.strip()
    if not given.startswith("mac=") or not isinstance(app_id, str) or isinstance(timestamp, bool) \
            or not isinstance(timestamp, (str, int)):
        return False
    expected = mac(app_id, raw_body, str(timestamp), secret)
    return hmac.compare_digest(given[len("mac="):].strip().lower().encode(), expected.encode())


class Pieces(NamedTuple):
    text: str | None
    images: list[str]
    location: dict | None

    def empty(self) -> bool:
        return not (self.text or self.images or self.location)


def pieces(event: ZaloEvent) -> Pieces:
    """What one message adds to a report: its text (an image's caption too), its photos' URLs, a location."""
    images = [a.payload.url for a in event.message.attachments if a.type == "image" and a.payload.url]
    place = next((a.payload.coordinates for a in event.message.attachments
                  if a.type == "location" and a.payload.coordinates), None)
    location = {"lat": place.latitude, "lon": place.longitude} if place else None
    return Pieces(visible(event.message.text), images, location)


_VISIBLE = TypeAdapter(VisibleText)


def visible(text: str | None) -> str | None:
    """The text when it shows something (a description must), else None."""
    try:
        return _VISIBLE.validate_python((text or "").strip()) or None
    except ValidationError:
        return None


def complete(draft: dict) -> bool:
    return bool(draft.get("texts") and draft.get("images") and draft.get("location"))


def draft_report(draft: dict, pack: str) -> EnteredReport:
    """A complete draft as the report intake stores (the photos are added as files by the caller)."""
    return EnteredReport(
        pack=pack, channel="zalo", reporter=ChannelReporter(zalo_user_id=draft["sender"]),
        description="\n".join(draft["texts"])[:5000],
        location=Location(lat=draft["location"]["lat"], lon=draft["location"]["lon"], source="gps"),
        received_at=draft["first_at"])


class ZaloDrafts:
    """`zalo_drafts` in the gateway's store: `msg:<msg_id>` for each message used, `draft:<sender>` for each open
    draft."""

    def __init__(self, db):
        self.drafts = db["zalo_drafts"]

    def claim_message(self, msg_id: str, now: datetime) -> bool:
        """True the first time a message is seen."""
        try:
            self.drafts.insert_one({"_id": f"msg:{msg_id}", "at": now})
            return True
        except DuplicateKeyError:
            return False

    def release_message(self, msg_id: str) -> None:
        """A message that could not be kept: Zalo's retry may bring it again."""
        self.drafts.delete_one({"_id": f"msg:{msg_id}"})

    def add(self, sender: str, msg_id: str, found: Pieces, now: datetime) -> dict:
        """The sender's draft with this message's pieces added (a stale draft is dropped first)."""
        key = f"draft:{sender}"
        self.drafts.delete_one({"_id": key, "updated_at": {"$lt": now - DRAFT_WINDOW}})
        update: dict = {"$set": {"updated_at": now}, "$setOnInsert": {"sender": sender, "first_at": now},
                        "$push": {"messages": msg_id}, "$inc": {"version": 1}}
        if found.text:
            update["$push"]["texts"] = found.text
        if found.images:
            update["$push"]["images"] = {"$each": found.images}
        if found.location:
            update["$set"]["location"] = found.location
        return self.drafts.find_one_and_update({"_id": key}, update, upsert=True,
                                              return_document=ReturnDocument.AFTER)

    def take(self, draft: dict) -> bool:
        """Take a complete draft to report it: only one caller gets it, and only as it was read."""
        return self.drafts.delete_one({"_id": draft["_id"], "version": draft["version"]}).deleted_count == 1
