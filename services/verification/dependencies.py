"""Verification's data: media fingerprints, reporter history, operator judgements; and the media files it reads."""
from __future__ import annotations

from datetime import datetime

from nameko.extensions import DependencyProvider

from paht import storage
from paht.worktime import calendar_for

from .evidence import FingerprintIndex


class EvidenceStore:
    def __init__(self, db):
        self.fingerprints = db["fingerprints"]
        self.reporters = db["reporters"]
        self.judgements = db["judgements"]
        self.index = FingerprintIndex()
        for doc in self.fingerprints.find({}):
            self._index(doc)

    def _index(self, doc: dict) -> None:
        self.index.add(doc["_id"], doc.get("reporter_key"), doc.get("phashes", []), doc.get("text", ""),
                       doc.get("category"), doc.get("lat"), doc.get("lon"), doc.get("open_until"),
                       doc.get("state"))

    def remember(self, report_id: str, reporter_key: str | None, phashes: list[str], text: str, category: str,
                 lat, lon, open_until: datetime | None, state: str) -> None:
        doc = {"reporter_key": reporter_key, "phashes": phashes, "text": text, "category": category, "lat": lat,
               "lon": lon, "open_until": open_until, "state": state}
        self.fingerprints.update_one({"_id": report_id}, {"$set": doc}, upsert=True)
        self._index({"_id": report_id, **doc})

    def remember_state(self, report_id: str, state: str, open_until: datetime | None) -> None:
        """`open_until` None: the matter is not (or no longer) being processed."""
        doc = self.fingerprints.find_one({"_id": report_id})
        if doc is None:
            return
        self.fingerprints.update_one({"_id": report_id}, {"$set": {"state": state, "open_until": open_until}})
        self._index({**doc, "state": state, "open_until": open_until})

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

    def apply_citizen_penalties(self, reporter_key: str, actions: list[dict], now: datetime) -> None:
        """Record the locks the pack's rules decided; a lock with a duration ends by itself (`until`)."""
        locks = {"lock_account": "account_locked", "lock_interaction": "interaction_locked"}
        fields = {locks[a["action"]]: {"rule": a["rule"], "article": a["article"], "until": lock_until(a, now)}
                  for a in actions if a["action"] in locks}
        if fields:
            self.reporters.update_one({"_id": reporter_key}, {"$set": fields})

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
        image hashes) and the operator's judgements of it, and take it out of its reporter's history; a reporter
        with no report left is forgotten entirely. Idempotent."""
        fingerprint = self.fingerprints.find_one({"_id": report_id}) or {}
        keys = {key for key in (reporter_key, fingerprint.get("reporter_key")) if key}
        keys |= {doc["_id"] for doc in self.reporters.find({"$or": [{"reports": report_id},
                                                                    {"violating_reports": report_id}]})}
        self.index.remove(report_id)
        self.fingerprints.delete_one({"_id": report_id})
        self.judgements.delete_one({"_id": report_id})
        for key in sorted(keys):
            history = self.reporters.find_one({"_id": key})
            if history is None:
                continue
            months = [f"violating_reports_by_month.{m}" for m in history.get("violating_reports_by_month") or {}]
            self.reporters.update_one({"_id": key}, {"$pull": {"reports": report_id, "violating_reports": report_id,
                                                               **{month: report_id for month in months}}})
            history = self.reporters.find_one({"_id": key}) or {}
            empty = [m for m, ids in (history.get("violating_reports_by_month") or {}).items() if not ids]
            if empty:
                self.reporters.update_one({"_id": key},
                                          {"$unset": {f"violating_reports_by_month.{m}": "" for m in empty}})
            nothing_left = [{"$or": [{field: {"$exists": False}}, {field: []}]}
                            for field in ("reports", "violating_reports")]
            self.reporters.delete_one({"_id": key, "$and": nothing_left})   # unless a report came in meanwhile


def lock_until(action: dict, now: datetime) -> datetime | None:
    duration = action.get("duration")
    if not duration:
        return None
    return calendar_for({}).add(now, duration["amount"], duration["unit"])


class Evidence(DependencyProvider):
    def setup(self):
        self.store = EvidenceStore(storage.open_database("verification"))

    def get_dependency(self, worker_ctx):
        return self.store
