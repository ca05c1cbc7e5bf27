"""The portal map's points (publishing's PublicationStore.points): the public records that have a public place,
newest first, filtered as the feed is; read by the store's indexes, only the fields drawn (issue 22: the map of a
province's ten thousand results)."""
from datetime import datetime, timedelta, timezone

from paht.storage import open_database
from services.publishing.dependencies import PublicationStore

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def record(number: int, pack="thua-thien-hue-2022", private=False, place=True, category="roads", ward="W1"):
    at = NOW - timedelta(hours=number)
    return {"_id": f"R{number}", "report_id": f"R{number}", "pack": pack, "category": category,
            "ward": {"code": ward, "name": ward}, "letter": "Kết quả " * 50, "private": private,
            "location": {"lat": 16.4 + number / 1000, "lon": 107.5} if place and not private else None,
            "published_at": at.isoformat(), "at": at}


def stored(*records) -> PublicationStore:
    store = PublicationStore(open_database("publishing", "memory://"))
    for doc in records:
        store.publications.insert_one(doc)
    return store


def test_the_points_are_the_packs_public_records_with_a_place_newest_first():
    store = stored(record(3), record(1), record(2, private=True), record(4, place=False),
                   record(5, pack="vinh-long-2025"), record(6, category="trees", ward="W2"),
                   # a private record never has a place (record()); one that had would still be left out
                   dict(record(7, private=True), location={"lat": 16.0, "lon": 107.0}))
    assert store.points("thua-thien-hue-2022") == [["R1", 16.401, 107.5, "roads"], ["R3", 16.403, 107.5, "roads"],
                                                  ["R6", 16.406, 107.5, "trees"]]
    assert [p[0] for p in store.points("thua-thien-hue-2022", category="trees")] == ["R6"]
    assert [p[0] for p in store.points("thua-thien-hue-2022", ward="W1")] == ["R1", "R3"]
    assert [p[0] for p in store.points("thua-thien-hue-2022", since=(NOW - timedelta(hours=2)).isoformat())] == \
        ["R1"]
    assert [p[0] for p in store.points("vinh-long-2025")] == ["R5"]
    assert [p[0] for p in store.points("thua-thien-hue-2022", limit=2)] == ["R1", "R3"]


def test_the_embedded_store_answers_the_packs_points_in_sql_by_its_index():
    store = stored(*(record(n) for n in range(1, 30)))
    publications = store.publications
    query = {"pack": "thua-thien-hue-2022", "location.lat": {"$gte": -90, "$lte": 90}}
    where, params = publications._exact(query)    # not None: no document is decoded in Python
    plan = " ".join(row[3] for row in publications.database.conn.execute(
        f'EXPLAIN QUERY PLAN SELECT id FROM "{publications._table}"{where}', params))
    assert "ix_c_publications_pack_location_lat" in plan
    assert len(store.points("thua-thien-hue-2022")) == 29
