"""Publishing's data: the public feed of published results (no personal data)."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from nameko.extensions import DependencyProvider

from paht import storage
from paht.errors import ApiError
from paht.rules import get_pack

from .letters import public_location


def encode_cursor(item: dict) -> str:
    """Where the next page starts: after this item in the feed's order (newest first, then by report id)."""
    raw = json.dumps([item["at"].isoformat(), item["_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, report_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(at)
        if at.tzinfo is None or not isinstance(report_id, str):
            raise ValueError("incomplete")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError("VALIDATION_FAILED", fields={"cursor": "not a cursor this feed gave"}) from None
    return at, report_id


def aware(text, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError("VALIDATION_FAILED", fields={name: "an ISO datetime with its offset"})
    return moment


def feed_query(pack=None, ward=None, category=None, since=None, until=None, bbox=None, after=None) -> dict:
    """The store query of a feed page: public records only; `since`/`until` datetimes ([since, until)), `bbox`
    [min_lon, min_lat, max_lon, max_lat] on the public location, `after` the cursor's (at, report id)."""
    query: dict = {"private": False}
    for field, value in (("pack", pack), ("ward.code", ward), ("category", category)):
        if value is not None:
            query[field] = str(value)
    if since is not None or until is not None:
        query["at"] = {**({"$gte": since} if since is not None else {}),
                       **({"$lt": until} if until is not None else {})}
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query["location.lon"] = {"$gte": min_lon, "$lte": max_lon}
        query["location.lat"] = {"$gte": min_lat, "$lte": max_lat}
    if after is not None:
        at, report_id = after
        query["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": report_id}}]
    return query


class PublicationStore:
    def __init__(self, db):
        self.publications = db["publications"]
        self.publications.create_index([("published_at", -1)])
        self.publications.create_index([("at", -1)])
        # the map's points (points): a pack's records with a public place, read by the index and only their place
        self.publications.create_index([("pack", 1), ("location.lat", 1)])
        # records made before the feed was filtered by date carry only the text of their publication time
        for old in self.publications.find({"at": {"$exists": False}}, {"published_at": 1}):
            self.publications.update_one({"_id": old["_id"]},
                                         {"$set": {"at": datetime.fromisoformat(old["published_at"])}})

    def record(self, report: dict, publication: dict) -> None:
        """The public copy of a publication, with the place as the public may see it (letters.public_location)."""
        private = bool(publication.get("private"))   # a private result is the reporter's alone: no copy here
        location = None if private else public_location(report, get_pack(report["pack"]))
        public = {"report_id": report["id"], "pack": report["pack"], "category": report.get("category"),
                  "ward": None if private else report.get("ward"), "letter": None if private else publication["letter"],
                  "location": location, "published_at": publication["published_at"],
                  "at": datetime.fromisoformat(publication["published_at"]), "private": publication["private"]}
        self.publications.update_one({"_id": report["id"]}, {"$set": public}, upsert=True)

    def page(self, pack=None, limit=50, ward=None, category=None, since=None, until=None, bbox=None,
             cursor=None) -> dict:
        """{"results", "next"}: a page of the feed, newest first, and the cursor of the next page (None on the last
        one). `since`/`until` ISO datetimes ([since, until) of the publication time), `bbox` [min_lon, min_lat,
        max_lon, max_lat] on the public location; a cursor this feed did not give is {"error": VALIDATION_FAILED}."""
        try:
            after = decode_cursor(str(cursor)) if cursor else None
            since, until = (moment and aware(moment, name) for moment, name in ((since, "since"), (until, "until")))
            query = feed_query(pack, ward, category, since, until, bbox, after)
        except ApiError as exc:
            return exc.body()
        limit = max(1, min(int(limit), 200))
        found = list(self.publications.find(query, sort=[("at", -1), ("_id", -1)], limit=limit + 1))
        page = found[:limit]
        return {"results": [{k: v for k, v in item.items() if k not in ("_id", "at")} for item in page],
                "next": encode_cursor(page[-1]) if len(found) > limit else None}


    def points(self, pack=None, ward=None, category=None, since=None, until=None, limit: int = 20000) -> list:
        """[report id, lat, lon, category] of the public records that have a public place, newest first: what the
        portal's map draws (a compact list, so a province's ten thousand results load in one answer)."""
        since, until = (moment and aware(moment, name) for moment, name in ((since, "since"), (until, "until")))
        # a place is a latitude (a private record has none: record()); asked without `private`, the embedded store
        # answers the query in SQL by its indexes and reads out only these fields (a province's records and their
        # letters are not decoded); a private record is still left out here
        query = feed_query(pack, ward, category, since, until) | {"location.lat": {"$gte": -90, "$lte": 90}}
        query.pop("private")
        return [[item["_id"], item["location"]["lat"], item["location"]["lon"], item.get("category")]
                for item in self.publications.find(query, {"location": 1, "category": 1, "private": 1},
                                                   sort=[("at", -1), ("_id", -1)], limit=max(1, min(limit, 20000)))
                if item.get("private") is False]


class Publications(DependencyProvider):
    def setup(self):
        self.store = PublicationStore(storage.open_database("publishing"))

    def get_dependency(self, worker_ctx):
        return self.store
