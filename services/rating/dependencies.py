"""Rating's data: ratings, reporters' interactions, periodic reports (a reporter's violations and locks are
verification's; what an earlier version kept of them here is handed over)."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from paht import storage


# what a periodic report is listed with (keep_periodic's fields but its content)
LISTED = ("pack", "kind", "period", "start", "end", "due", "generated_at", "to", "article", "partial")


class RatingStore:
    def __init__(self, db):
        self.ratings = db["ratings"]
        self.interactions = db["interactions"]
        self.ratings.create_index([("agency", 1)])
        self.periodic = db["periodic_reports"]
        self.periodic.create_index([("pack", 1)])
        self.periodic.create_index([("pack", 1), ("generated_at", 1)])   # the console's list, newest first
        self.checks = db["periodic_checks"]
        self.listed: dict[str, tuple[int, list[dict]]] = {}   # periodic_list's: pack → (how many, the list)
        self.legacy_handed_over = False

    def record_rating(self, report_id: str, pack: str, rating: dict) -> None:
        self.ratings.update_one({"_id": report_id}, {"$set": {"pack": pack, **rating}}, upsert=True)

    def record_interaction(self, event_id: str, report_id: str, message: str, at) -> None:
        self.interactions.update_one({"_id": event_id}, {"$set": {"report_id": report_id, "message": message,
                                                                  "at": at}}, upsert=True)

    # ---- upgrade: the citizen's interaction penalties moved to verification ------------------------------------
    def legacy_penalty_records(self, limit: int = 500) -> tuple[list[dict], list[dict]]:
        """(violating interactions, interaction locks) an earlier version of this service kept here and has not
        handed over to verification yet: at most `limit` of each, oldest first. Empty once handed over (then
        this process looks no more)."""
        if self.legacy_handed_over:
            return [], []
        violations = list(self.interactions.find({"violation": True}, sort=[("at", 1)], limit=limit))
        locks = list(self.interactions.find({"lock": True}, sort=[("at", 1)], limit=limit))
        if not violations and not locks:
            self.legacy_handed_over = True
        return violations, locks

    def forget_legacy(self, ids: list[str]) -> None:
        """Handed over: the records (and the refused messages' texts they kept) are deleted."""
        if ids:
            self.interactions.delete_many({"_id": {"$in": ids}})

    def all_ratings(self, pack: str | None = None) -> list[dict]:
        return list(self.ratings.find({} if pack is None else {"pack": pack}))

    # periodic reports: made once when due, kept as made
    def keep_periodic(self, doc: dict) -> bool:
        """Store a periodic report unless it exists (True when this call stored it)."""
        result = self.periodic.update_one({"_id": doc["_id"]}, {"$setOnInsert": {k: v for k, v in doc.items()
                                                                                 if k != "_id"}}, upsert=True)
        return bool(result.upserted_id)

    def checked_until(self, schedule: str):
        """Up to when a pack's schedule item (`pack:kind`) has been made (None before its first check)."""
        mark = self.checks.find_one({"_id": schedule})
        return mark["at"] if mark else None

    def mark_checked(self, schedule: str, at) -> None:
        self.checks.update_one({"_id": schedule}, {"$max": {"at": at}}, upsert=True)

    def has_periodic(self, report_id: str) -> bool:
        return self.periodic.find_one({"_id": report_id}, {"_id": 1}) is not None

    def periodic_list(self, pack: str) -> list[dict]:
        """A pack's periodic reports, newest first, without their content (a report's counts and late items, read
        only when its file is asked for: the store reads out only these fields, it does not decode the content).
        A periodic report is only ever added (keep_periodic), never changed or deleted, so the list read before
        stands while the pack has as many as then — counted on the index, nothing read (whoever added one: another
        replica's is counted too)."""
        count = self.periodic.count_documents({"pack": pack})   # before reading: one added meanwhile reads again
        held = self.listed.get(pack)
        if held is None or held[0] != count:
            held = self.listed[pack] = (count, list(self.periodic.find(
                {"pack": pack}, dict.fromkeys(LISTED, 1), sort=[("generated_at", -1)])))
        return [dict(doc) for doc in held[1]]

    def periodic_report(self, report_id: str) -> dict | None:
        return self.periodic.find_one({"_id": report_id})

    def purge_report(self, report_id: str) -> None:
        """Retention (intake's `report_purged`): the reporter's messages on the report are deleted and their
        rating loses its comment; the level stays for the agencies' scorecards. Idempotent."""
        self.interactions.delete_many({"report_id": report_id})
        self.ratings.update_one({"_id": report_id}, {"$set": {"comment": None}})


class Ratings(DependencyProvider):
    def setup(self):
        self.store = RatingStore(storage.open_database("rating"))

    def get_dependency(self, worker_ctx):
        return self.store


class SettledScorecards(DependencyProvider):
    """Scorecards of periods long over, as counted, in this process's memory (RatingService.scorecards): {(pack,
    kind, start): (the pack's rules, when counted (time.monotonic), content)}."""

    def setup(self):
        self.kept: dict = {}

    def get_dependency(self, worker_ctx):
        return self.kept
