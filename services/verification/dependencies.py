"""Verification's data: media fingerprints, reporter history, operator judgements; and the media files it reads."""
from __future__ import annotations

import math
from datetime import datetime

from nameko.extensions import DependencyProvider

from paht import storage
from paht.geo import distance_m

from .evidence import shingles, similarity
from .facts import locked


class StoredFingerprintIndex:
    """The duplicate index of `evidence.FingerprintIndex` (same methods, same answers), kept in the store's
    `fingerprints` collection instead of process memory, so every verification replica sees every report at once.

    Each lookup is one indexed query: by `reporter_key` (a reporter's own earlier reports: duplicates, the same open
    matter), or by `category` and the grid `cell` (0.001°, ~110 m) of the cells around a point that a radius can
    reach (other reporters' open reports nearby); the few documents found are then compared as in memory."""

    CELL = 0.001   # degrees: a 100 m radius touches at most 3×3 cells

    def __init__(self, collection):
        self.docs = collection
        self.docs.create_index([("reporter_key", 1)])
        self.docs.create_index([("cell", 1), ("category", 1)])
        meta = collection.database[f"{collection.name}_meta"]
        if meta.find_one({"_id": "cells", "degrees": self.CELL}) is None:   # documents of an earlier version
            for doc in list(self.docs.find({}, {"lat": 1, "lon": 1})):
                self.docs.update_one({"_id": doc["_id"]},
                                     {"$set": {"cell": self._cell(doc.get("lat"), doc.get("lon"))}})
            meta.update_one({"_id": "cells"}, {"$set": {"degrees": self.CELL}}, upsert=True)

    def __len__(self) -> int:
        return self.docs.count_documents({})

    def _cell(self, lat, lon) -> str | None:
        if lat is None or lon is None:
            return None
        return f"{math.floor(lat / self.CELL)}:{math.floor(lon / self.CELL)}"

    def _cells_around(self, lat, lon, radius_m) -> list[str]:
        dlat = radius_m / 110_000.0   # a little more than the radius spans (a degree is ≥ 110.5 km)
        dlon = radius_m / (110_000.0 * max(math.cos(math.radians(abs(lat) + dlat)), 0.01))
        rows = range(math.floor((lat - dlat) / self.CELL), math.floor((lat + dlat) / self.CELL) + 1)
        columns = range(math.floor((lon - dlon) / self.CELL), math.floor((lon + dlon) / self.CELL) + 1)
        return [f"{row}:{column}" for row in rows for column in columns]

    def add(self, report_id, reporter_key, phashes, text, category, lat, lon, open_until, state, pack=None) -> None:
        """`reporter_key` as verification counts reporters (paht.schemas.tenant_key: within the pack)."""
        doc = {"pack": pack, "reporter_key": reporter_key, "phashes": list(phashes), "text": text,
               "category": category, "lat": lat, "lon": lon, "cell": self._cell(lat, lon), "open_until": open_until,
               "state": state}
        self.docs.update_one({"_id": report_id}, {"$set": doc}, upsert=True)

    def set_state(self, report_id, state, open_until) -> bool:
        return self.docs.update_one({"_id": report_id},
                                    {"$set": {"state": state, "open_until": open_until}}).matched_count == 1

    def remove(self, report_id) -> None:
        self.docs.delete_one({"_id": report_id})

    def _own(self, reporter_key, query: dict | None = None) -> list[dict]:
        if not reporter_key:
            return []
        return list(self.docs.find({"reporter_key": reporter_key, **(query or {})}))

    def same_reporter_duplicate(self, reporter_key, phashes, text, max_hamming=8, min_text_sim=0.8,
                                exclude=None) -> str | None:
        """An earlier report of the same reporter with a near-identical image AND near-identical text."""
        hashes = [int(h, 16) for h in phashes]
        if not hashes:
            return None
        words = shingles(text)
        for doc in sorted(self._own(reporter_key), key=lambda d: d["_id"]):
            theirs = [int(h, 16) for h in doc.get("phashes") or []]
            if doc["_id"] == exclude or not theirs:
                continue
            close = any(bin(a ^ b).count("1") <= max_hamming for a in hashes for b in theirs)
            if close and similarity(words, shingles(doc.get("text") or "")) >= min_text_sim:
                return doc["_id"]
        return None

    def open_same_matter(self, reporter_key, category, lat, lon, text, now, exclude=None, within=None) -> str | None:
        """An earlier report of the same reporter, same category, same place (100 m) or text, still open and, when
        `within` is given (the ids → those of them still within their processing deadline: the sla service knows),
        still within its processing deadline ("còn trong thời hạn xử lý", TTH Điều 7 khoản 5 điểm b, VL Điều 8
        khoản 2)."""
        words = shingles(text)
        found = []
        for doc in sorted(self._own(reporter_key, {"category": category, "open_until": {"$gt": now}}),
                          key=lambda d: d["_id"]):
            if doc["_id"] == exclude:
                continue
            near = lat is not None and doc.get("lat") is not None and distance_m(lat, lon, doc["lat"],
                                                                                doc["lon"]) <= 100
            if near or similarity(words, shingles(doc.get("text") or "")) >= 0.6:
                found.append(doc["_id"])
        if found and within is not None:
            running = within(found)
            found = [report_id for report_id in found if report_id in running]
        return found[0] if found else None

    def cluster(self, report_id, category, lat, lon, radius_m=100, reporter_key=None, pack=None) -> list[str]:
        """Other reporters' open reports of the same category within `radius_m`, of `pack` only (a province never
        sees another's): information for the operator."""
        if lat is None or lon is None:
            return []
        found = []
        within = {} if pack is None else {"pack": pack}
        for doc in self.docs.find({"cell": {"$in": self._cells_around(lat, lon, radius_m)}, "category": category,
                                   **within},
                                  {"reporter_key": 1, "lat": 1, "lon": 1, "open_until": 1}):
            if doc["_id"] == report_id or not doc.get("open_until"):
                continue
            if reporter_key and doc.get("reporter_key") == reporter_key:
                continue
            if distance_m(lat, lon, doc["lat"], doc["lon"]) <= radius_m:
                found.append(doc["_id"])
        return sorted(found)


class EvidenceStore:
    def __init__(self, db):
        self.fingerprints = db["fingerprints"]
        self.reporters = db["reporters"]
        self.judgements = db["judgements"]
        self.index = StoredFingerprintIndex(self.fingerprints)
        self.forget_submission_interaction_locks(db["reporters_meta"])

    def forget_submission_interaction_locks(self, meta) -> None:
        """Once, on the first start of this version: an earlier one counted abusive *submissions* of a calendar
        month toward the interaction lock and recorded `interaction_locked` ({rule, article, until}, no `at`),
        which nothing enforced. The articles count violating interactions only (rules/*/pack.yaml notes): those
        locks are dropped. Locks recorded since carry `at` and stay."""
        if meta.find_one({"_id": "interaction_locks"}) is not None:
            return
        self.reporters.update_many({"interaction_locked": {"$exists": True},
                                    "interaction_locked.at": {"$exists": False}},
                                   {"$unset": {"interaction_locked": ""}})
        meta.update_one({"_id": "interaction_locks"}, {"$set": {"counted": "interactions"}}, upsert=True)

    def remember(self, report_id: str, reporter_key: str | None, phashes: list[str], text: str, category: str,
                 lat, lon, open_until: datetime | None, state: str, pack: str | None = None) -> None:
        self.index.add(report_id, reporter_key, phashes, text, category, lat, lon, open_until, state, pack)

    def remember_state(self, report_id: str, state: str, open_until: datetime | None) -> None:
        """`open_until` None: the matter is not (or no longer) being processed."""
        self.index.set_state(report_id, state, open_until)

    def history(self, reporter_key: str | None) -> dict | None:
        return self.reporters.find_one({"_id": reporter_key}) if reporter_key else None

    def count_report(self, reporter_key: str | None, report_id: str) -> None:
        if reporter_key:
            self.reporters.update_one({"_id": reporter_key}, {"$addToSet": {"reports": report_id}}, upsert=True)

    def count_violation(self, reporter_key: str | None, month: str, report_id: str) -> dict | None:
        """A counted violation (prohibited content), once per report however often it is verified; returns the
        reporter's counters after it."""
        if not reporter_key:
            return None
        self.reporters.update_one({"_id": reporter_key},
                                  {"$addToSet": {"violating_reports": report_id,
                                                 f"violating_reports_by_month.{month}": report_id}}, upsert=True)
        history = self.reporters.find_one({"_id": reporter_key})
        return {"violations_total": len(history.get("violating_reports", [])),
                "violations_month": len((history.get("violating_reports_by_month") or {}).get(month, []))}

    def count_interaction_violation(self, reporter_key: str, event_id: str, report_id: str, at: datetime) -> bool:
        """A refused interaction with prohibited wording, kept in the reporter's record as its event id, report id
        and time (never its text), once per event id: True when this call counted it."""
        entry = {"event_id": event_id, "report_id": report_id, "at": at}
        try:
            result = self.reporters.update_one({"_id": reporter_key,
                                                "interaction_violations.event_id": {"$ne": event_id}},
                                               {"$push": {"interaction_violations": entry}}, upsert=True)
        except storage.DuplicateKeyError:      # the record exists and holds the event already
            return False
        return bool(result.upserted_id) or result.modified_count == 1

    def set_locks(self, reporter_key: str, locks: dict[str, dict]) -> None:
        """Record the locks the pack's penalties rules decided (`account_locked`, `interaction_locked`); a lock with
        a duration ends by itself (`until`)."""
        if locks:
            self.reporters.update_one({"_id": reporter_key}, {"$set": locks}, upsert=True)

    def adopt_interaction_lock(self, reporter_key: str, lock: dict, now: datetime) -> bool:
        """An interaction lock an earlier version's rating service recorded, unless one running at least as long
        is recorded here: True when it is now the reporter's."""
        mine = (self.history(reporter_key) or {}).get("interaction_locked")
        if locked(mine, now) and (mine.get("until") is None or (lock.get("until") is not None
                                                                and mine["until"] >= lock["until"])):
            return False
        self.set_locks(reporter_key, {"interaction_locked": lock})
        return True

    def mark_identity(self, reporter_key: str | None, status: str) -> None:
        if reporter_key:
            self.reporters.update_one({"_id": reporter_key}, {"$set": {"identity_status": status}}, upsert=True)

    def judgements_for(self, report_id: str) -> dict:
        doc = self.judgements.find_one({"_id": report_id}) or {}
        return doc.get("values", {})

    def judge(self, report_id: str, name: str, value) -> None:
        self.judgements.update_one({"_id": report_id}, {"$set": {f"values.{name}": value}}, upsert=True)

    def purge_report(self, report_id: str, reporter_key: str | None = None) -> None:
        """Retention (intake's `report_purged`): forget the report's fingerprint (reporter key, text, place,
        image hashes) and the operator's judgements of it, and take it out of its reporter's history (its
        violating interactions too); a reporter with no report and no violation left is forgotten entirely.
        Idempotent."""
        fingerprint = self.fingerprints.find_one({"_id": report_id}) or {}
        keys = {key for key in (reporter_key, fingerprint.get("reporter_key")) if key}
        keys |= {doc["_id"] for doc in self.reporters.find({"$or": [{"reports": report_id},
                                                                    {"violating_reports": report_id},
                                                                    {"interaction_violations.report_id": report_id}]})}
        self.index.remove(report_id)
        self.fingerprints.delete_one({"_id": report_id})
        self.judgements.delete_one({"_id": report_id})
        for key in sorted(keys):
            history = self.reporters.find_one({"_id": key})
            if history is None:
                continue
            months = [f"violating_reports_by_month.{m}" for m in history.get("violating_reports_by_month") or {}]
            self.reporters.update_one({"_id": key}, {"$pull": {"reports": report_id, "violating_reports": report_id,
                                                               "interaction_violations": {"report_id": report_id},
                                                               **{month: report_id for month in months}}})
            history = self.reporters.find_one({"_id": key}) or {}
            empty = [m for m, ids in (history.get("violating_reports_by_month") or {}).items() if not ids]
            if empty:
                self.reporters.update_one({"_id": key},
                                          {"$unset": {f"violating_reports_by_month.{m}": "" for m in empty}})
            nothing_left = [{"$or": [{field: {"$exists": False}}, {field: []}]}
                            for field in ("reports", "violating_reports", "interaction_violations")]
            self.reporters.delete_one({"_id": key, "$and": nothing_left})   # unless a report came in meanwhile


class Evidence(DependencyProvider):
    def setup(self):
        self.store = EvidenceStore(storage.open_database("verification"))

    def get_dependency(self, worker_ctx):
        return self.store
