"""The console's list of periodic reports (rating's RatingStore.periodic_list, issue 22): newest first, every field
but the content, which the embedded store leaves in SQLite (a year's report holds every late item of the year)."""
from datetime import datetime, timedelta, timezone

from paht.storage import open_database
from services.rating.dependencies import LISTED, RatingStore

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)


def test_the_list_is_newest_first_without_the_content_read_in_sql():
    store = RatingStore(open_database("rating", "memory://"))
    for number, (pack, made) in enumerate([("hue", 2), ("hue", 0), ("vl", 1), ("hue", 1), ("hue", 0)]):
        store.keep_periodic({"_id": f"hue:r{number}" if pack == "hue" else f"vl:r{number}", "pack": pack,
                             "kind": "monthly", "period": f"2026-{number + 1:02d}", "start": NOW, "end": NOW,
                             "due": NOW, "generated_at": NOW - timedelta(days=made), "to": "UBND", "article": "Đ 20",
                             "partial": False, "content": {"late": [{"report_id": "x" * 20}] * 1000}})
    listed = store.periodic_list("hue")
    assert [doc["_id"] for doc in listed] == ["hue:r1", "hue:r4", "hue:r3", "hue:r0"]   # ties as made
    assert all(set(doc) == {"_id", *LISTED} for doc in listed) and listed[0]["generated_at"] == NOW
    periodic = store.periodic
    assert periodic._exact({"pack": "hue"}) is not None and periodic._ordered([("generated_at", -1)])


def test_the_list_is_read_again_only_when_a_report_was_added(monkeypatch):
    """Periodic reports are only ever added: the list stands while the pack has as many (another process's addition
    is counted too), and a caller changing its copy changes nothing kept."""
    first, second = (RatingStore(open_database("rating", "memory://")) for _ in range(2))
    second.periodic = first.periodic      # two replicas of the service on one store
    reads = []
    find = first.periodic.find
    monkeypatch.setattr(first.periodic, "find", lambda *a, **k: reads.append(a) or find(*a, **k))

    def made(store, number):
        store.keep_periodic({"_id": f"hue:r{number}", "pack": "hue", "kind": "weekly", "period": str(number),
                             "start": NOW, "end": NOW, "due": NOW, "generated_at": NOW + timedelta(days=number),
                             "to": None, "article": None, "partial": False, "content": {}})
    made(first, 1)
    assert [d["_id"] for d in first.periodic_list("hue")] == ["hue:r1"] and len(reads) == 1
    first.periodic_list("hue")[0]["period"] = "changed by a caller"
    assert first.periodic_list("hue")[0]["period"] == "1" and len(reads) == 1
    made(second, 2)
    assert [d["_id"] for d in first.periodic_list("hue")] == ["hue:r2", "hue:r1"] and len(reads) == 2
    assert first.periodic_list("vl") == []
