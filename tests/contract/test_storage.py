"""The storage subset every service relies on, against the embedded store and, when PAHT_TEST_MONGO_URI is set,
a real MongoDB: both must behave the same."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone

import eventlet
import pytest

from paht.storage import DuplicateKeyError, open_database

UTC = timezone.utc
BACKENDS = ["embedded", "memory", "mongodb"]


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    if request.param == "mongodb":
        uri = os.environ.get("PAHT_TEST_MONGO_URI")
        if not uri:
            pytest.skip("PAHT_TEST_MONGO_URI not set: no MongoDB server to compare with")
        database = open_database(f"contract_{uuid.uuid4().hex[:8]}", uri)
        yield database
        database.client.drop_database(database.name)
        return
    yield open_database("contract", "embedded://" + str(tmp_path) if request.param == "embedded" else "memory://")


def test_insert_find_and_duplicate_id(db):
    db.c.insert_one({"_id": "a", "n": 1, "tags": ["x", "y"], "sub": {"k": "v"}})
    assert db.c.find_one({"_id": "a"})["sub"] == {"k": "v"}
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": "a"})
    generated = db.c.insert_one({"n": 2}).inserted_id
    assert db.c.find_one({"_id": generated})["n"] == 2


def test_filters(db):
    db.c.insert_many([{"_id": i, "n": i, "tags": ["even" if i % 2 == 0 else "odd"], "sub": {"k": i % 3},
                       "agencies": [{"id": f"a{i % 2}", "role": "lead"}]} for i in range(10)])
    ids = lambda q: sorted(d["_id"] for d in db.c.find(q))  # noqa: E731
    assert ids({"n": {"$gte": 7}}) == [7, 8, 9]
    assert ids({"n": {"$gt": 2, "$lt": 5}}) == [3, 4]
    assert ids({"n": {"$in": [1, 3, 99]}}) == [1, 3]
    assert ids({"n": {"$nin": list(range(2, 10))}}) == [0, 1]
    assert ids({"tags": "even", "n": {"$lte": 4}}) == [0, 2, 4]
    assert ids({"tags": {"$ne": "even"}, "n": {"$lt": 4}}) == [1, 3]
    assert ids({"sub.k": 2}) == [2, 5, 8]
    assert ids({"agencies.id": "a1", "n": {"$lt": 4}}) == [1, 3]
    assert ids({"$or": [{"n": 0}, {"n": 9}]}) == [0, 9]
    assert ids({"$and": [{"n": {"$gt": 0}}, {"n": {"$lt": 2}}]}) == [1]
    assert ids({"missing": {"$exists": False}, "n": {"$lt": 2}}) == [0, 1]
    assert ids({"n": {"$exists": True}, "sub.k": {"$exists": True}, "tags": "odd", "_id": {"$lte": 3}}) == [1, 3]
    assert db.c.count_documents({"tags": "odd"}) == 5
    assert [d["_id"] for d in db.c.find({}, sort=[("n", -1)], limit=3)] == [9, 8, 7]


def test_update_operators_and_upsert(db):
    db.c.insert_one({"_id": "r", "state": "a", "version": 0, "list": [], "deep": {"x": 1}})
    result = db.c.update_one({"_id": "r"}, {"$set": {"state": "b", "deep.y": 2}, "$inc": {"version": 1},
                                            "$push": {"list": {"k": 1}}, "$addToSet": {"set": "s"}})
    assert (result.matched_count, result.modified_count) == (1, 1)
    db.c.update_one({"_id": "r"}, {"$addToSet": {"set": "s"}, "$unset": {"deep.x": ""}})
    doc = db.c.find_one({"_id": "r"})
    assert doc["state"] == "b" and doc["version"] == 1 and doc["list"] == [{"k": 1}] and doc["set"] == ["s"]
    assert doc["deep"] == {"y": 2}
    db.c.update_one({"_id": "r"}, {"$max": {"version": 5, "top": 3}})
    db.c.update_one({"_id": "r"}, {"$max": {"version": 2}})
    assert (db.c.find_one({"_id": "r"})["version"], db.c.find_one({"_id": "r"})["top"]) == (5, 3)
    assert db.c.update_one({"_id": "nobody"}, {"$set": {"x": 1}}).matched_count == 0
    upserted = db.c.update_one({"_id": "new", "kind": "k"}, {"$set": {"x": 1}, "$setOnInsert": {"first": True}},
                               upsert=True)
    assert upserted.upserted_id == "new"
    assert db.c.find_one({"_id": "new"}) == {"_id": "new", "kind": "k", "x": 1, "first": True}
    db.c.update_one({"_id": "new"}, {"$set": {"x": 2}, "$setOnInsert": {"first": False}}, upsert=True)
    assert db.c.find_one({"_id": "new"})["first"] is True
    assert db.c.update_many({}, {"$set": {"all": 1}}).modified_count == 2
    assert db.c.delete_one({"_id": "new"}).deleted_count == 1
    assert db.c.delete_many({}).deleted_count == 1


def test_deletes_by_id(db):
    db.c.insert_many([{"_id": key, "n": n} for n, key in enumerate(["a", "b", "c", "d"])] + [{"_id": 7, "n": 9}])
    assert db.c.delete_many({"_id": {"$in": ["a", "b", "a", "gone"]}}).deleted_count == 2
    assert db.c.delete_many({"_id": {"$in": []}}).deleted_count == 0
    assert db.c.delete_one({"_id": "gone"}).deleted_count == 0
    assert db.c.delete_one({"_id": "7"}).deleted_count == 0 and db.c.delete_one({"_id": 7}).deleted_count == 1
    assert db.c.delete_one({"_id": {"$in": ["c", "d"]}}).deleted_count == 1     # one of them
    assert db.c.delete_many({"_id": "c", "n": 0}).deleted_count == 0            # more than the id: matched
    assert db.c.count_documents({}) == 1


def test_guarded_update_applies_an_event_once(db):
    db.r.insert_one({"_id": "r", "applied_events": [], "n": 0})
    for _ in range(3):
        db.r.update_one({"_id": "r", "applied_events": {"$ne": "e1"}},
                        {"$push": {"applied_events": "e1"}, "$inc": {"n": 1}})
    assert db.r.find_one({"_id": "r"})["n"] == 1


def test_unique_index(db):
    db.u.create_index([("token_hash", 1)], unique=True)
    db.u.insert_one({"_id": 1, "token_hash": "h"})
    with pytest.raises(DuplicateKeyError):
        db.u.insert_one({"_id": 2, "token_hash": "h"})
    with pytest.raises(DuplicateKeyError):
        db.u.update_one({"_id": 3}, {"$set": {"token_hash": "h"}}, upsert=True)


def test_aware_datetimes_round_trip_and_range_on_an_index(db):
    db.d.create_index([("status", 1), ("due", 1)])
    base = datetime(2027, 2, 3, 3, 0, tzinfo=UTC)
    for i in range(50):
        db.d.insert_one({"_id": i, "status": "open", "due": base + timedelta(minutes=i)})
    local = (base + timedelta(minutes=9)).astimezone(timezone(timedelta(hours=7)))
    due = db.d.find({"status": "open", "due": {"$lte": local}}, sort=[("due", 1)])
    assert [d["_id"] for d in due] == list(range(10))
    assert due[0]["due"] == base and due[0]["due"].tzinfo is not None


def test_find_one_and_update(db):
    from paht.storage import ReturnDocument
    db.f.insert_one({"_id": "x", "n": 1})
    after = db.f.find_one_and_update({"_id": "x"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER)
    assert after["n"] == 2


def test_persistence_across_reopen(tmp_path):
    uri = "embedded://" + str(tmp_path)
    open_database("svc", uri).k.insert_one({"_id": "kept", "at": datetime(2026, 1, 1, tzinfo=UTC)})
    assert open_database("svc", uri).k.find_one({"_id": "kept"})["at"].year == 2026


def test_concurrent_green_writers_lose_nothing(db):
    db.g.insert_one({"_id": "counter", "n": 0, "items": []})

    def writer(k):
        for i in range(20):
            db.g.update_one({"_id": "counter"}, {"$inc": {"n": 1}, "$push": {"items": f"{k}-{i}"}})
            eventlet.sleep(0)

    pool = eventlet.GreenPool()
    for k in range(10):
        pool.spawn(writer, k)
    pool.waitall()
    doc = db.g.find_one({"_id": "counter"})
    assert doc["n"] == 200 and len(doc["items"]) == 200


def test_exclusion_projection_and_sorting_mixed_types(db):
    db.p.insert_one({"_id": "p", "a": 1, "b": {"c": 2, "d": 3}, "e": 4})
    assert db.p.find_one({"_id": "p"}, {"e": 0, "b.c": 0}) == {"_id": "p", "a": 1, "b": {"d": 3}}
    assert db.p.find_one({"_id": "p"}, {"a": 1, "_id": 0}) == {"a": 1}
    values = {"dt": datetime(2027, 1, 1, tzinfo=UTC), "str": "2027", "int": 3, "none": None, "sub": {"k": 1},
              "array": [4, "a"], "empty": [], "true": True}
    db.s.insert_many([{"_id": k, "v": v} for k, v in values.items()] + [{"_id": "missing"}])
    assert [d["_id"] for d in db.s.find({}, sort=[("v", 1), ("_id", 1)])] == [
        "empty", "missing", "none", "int", "array", "str", "sub", "true", "dt"]
    assert [d["_id"] for d in db.s.find({}, sort=[("v", -1), ("_id", 1)])][:5] == ["dt", "true", "sub", "array", "str"]
