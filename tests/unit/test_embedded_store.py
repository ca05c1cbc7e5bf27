"""paht.embedded on its own (no broker): typed encoding, queries that never mix types, indexes across reopening,
projections and sorting. The store keeps datetimes to the microsecond and returns them aware, in UTC."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from paht.embedded import Database, DuplicateKeyError, matches

UTC = timezone.utc
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
OLD_PREFIX = "\x1edt:"   # how the first layout marked datetimes

offsets = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59))
datetimes = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                         timezones=st.none() | st.just(UTC) | offsets)
texts = (st.text()   # any unicode but lone surrogates (UTF-8 cannot hold them)
         | st.text("\x00\x01\x1e\x1f\"\\$dt:Z0-. ")   # control characters, escapes, marker and date pieces
         | st.sampled_from(["$date", "$", "$$date", "_id", ""])
         | st.builds(lambda d, prefix: prefix + d.isoformat(), datetimes, st.sampled_from(["", OLD_PREFIX, "\x00"])))
floats = st.floats(allow_nan=False, allow_infinity=False)   # JSON holds finite floats only
scalars = st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1) | floats | texts | datetimes
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts, inner, max_size=4), max_leaves=20)
documents = st.dictionaries(texts.filter(lambda k: k != "_id"), values, max_size=6)


def as_stored(value):
    """What the store gives back: datetimes in UTC (naive ones read as UTC), microseconds kept; tuples as lists."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: as_stored(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_stored(v) for v in value]
    return value


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (True is not 1, a str is not a datetime), keys in order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, datetime):
        return a == b and b.tzinfo == UTC
    return a == b


@settings(max_examples=300, deadline=None)
@given(documents)
@example({"description": OLD_PREFIX + "x", "when": {"$date": "2020-01-01T00:00:00.000000Z"}, "$$date": {"$": 1}})
def test_any_document_round_trips(document):
    db = Database(":memory:")
    inserted = db.c.insert_one(document).inserted_id
    assert same(db.c.find_one({"_id": inserted}), as_stored(document))
    assert db.c.update_one({"_id": inserted}, {"$set": {}}).modified_count == 0   # re-encoding gives the same text


kinds = st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False) | texts | datetimes
probes = st.one_of(kinds, st.sampled_from(["2020-01-01T00:00:00.000000Z", "a", "a\x00b", ""]))


def kind(value):
    return {bool: "bool", int: "number", float: "number", str: "str", datetime: "datetime"}[type(value)]


@settings(max_examples=150, deadline=None)
@given(st.lists(kinds, max_size=12), probes, st.booleans())
@example(["a\x00b", "a\x00c", "a", "b"], "a\x00b", True)   # SQLite's json_extract cuts strings at a NUL
@example(["a\x00b", "a"], "a", True)
def test_equality_and_ranges_never_mix_types(stored, probe, indexed):
    db = Database(":memory:")
    if indexed:
        db.c.create_index([("v", 1)])
    db.c.insert_many([{"_id": i, "v": v} for i, v in enumerate(stored)])
    want, values = as_stored(probe), [as_stored(v) for v in stored]

    def ids(query):
        return sorted(d["_id"] for d in db.c.find(query))

    comparable = [i for i, v in enumerate(values) if kind(v) == kind(want)]
    assert ids({"v": probe}) == [i for i in comparable if values[i] == want]
    assert ids({"v": {"$in": [probe]}}) == [i for i in comparable if values[i] == want]
    assert ids({"v": {"$lte": probe}}) == [i for i in comparable if values[i] <= want]
    assert ids({"v": {"$lt": probe}}) == [i for i in comparable if values[i] < want]
    assert ids({"v": {"$gte": probe}}) == [i for i in comparable if values[i] >= want]
    assert ids({"v": {"$gt": probe}}) == [i for i in comparable if values[i] > want]
    assert len(db.c.find({"v": {"$gte": probe}}, limit=1)) == min(1, len(ids({"v": {"$gte": probe}})))


@pytest.mark.parametrize("indexed", [False, True])
def test_a_string_that_looks_like_an_old_datetime_stays_a_string(indexed):
    db = Database(":memory:")
    if indexed:
        db.r.create_index([("status", 1), ("due", 1)])
        db.r.create_index([("description", 1)])
    text = OLD_PREFIX + "2020-01-01T00:00:00.000000"
    db.r.insert_one({"_id": "r", "status": "open", "description": text, "due": text})
    doc = db.r.find_one({"_id": "r"})
    assert doc["description"] == text and doc["due"] == text
    assert db.r.find_one({"description": text})["_id"] == "r"
    assert db.r.find_one({"due": text})["_id"] == "r"
    assert db.r.find({"status": "open", "due": {"$lte": NOW}}) == []
    assert db.r.find({"due": datetime(2020, 1, 1, tzinfo=UTC)}) == []


def test_datetimes_and_date_like_strings_are_told_apart_by_queries():
    db = Database(":memory:")
    db.d.create_index([("status", 1), ("due", 1)])
    db.d.insert_many([{"_id": "date", "status": "open", "due": NOW - timedelta(days=1)},
                      {"_id": "naive", "status": "open", "due": (NOW - timedelta(hours=1)).replace(tzinfo=None)},
                      {"_id": "text", "status": "open", "due": (NOW - timedelta(days=1)).isoformat()},
                      {"_id": "number", "status": "open", "due": 0}])
    assert [d["_id"] for d in db.d.find({"status": "open", "due": {"$lte": NOW}}, sort=[("due", 1)])] == [
        "date", "naive"]
    assert db.d.find_one({"due": NOW - timedelta(hours=1)})["_id"] == "naive"
    assert db.d.find_one({"due": (NOW - timedelta(days=1)).isoformat()})["_id"] == "text"


def test_a_unique_index_tells_a_datetime_from_the_same_text():
    db = Database(":memory:")
    db.u.create_index([("v", 1)], unique=True)
    db.u.insert_many([{"v": NOW}, {"v": "2027-01-04T08:00:00.000000Z"}, {"v": "2027-01-04T08:00:00.000000"}])
    with pytest.raises(DuplicateKeyError):
        db.u.insert_one({"v": NOW.replace(tzinfo=None)})


def test_the_sweep_is_narrowed_by_the_index_also_after_reopening(tmp_path):
    Database(tmp_path / "sla.sqlite3").d.create_index([("status", 1), ("due", 1)])
    db = Database(tmp_path / "sla.sqlite3")
    where, params = db.d._narrow({"status": "open", "due": {"$lte": NOW}})
    plan = db.conn.execute(f'EXPLAIN QUERY PLAN SELECT doc FROM "c_d"{where}', params).fetchall()
    assert "USING INDEX ix_c_d_status_due (<expr>=? AND <expr><?)" in plan[0][-1]


def test_a_compound_unique_index_survives_reopening(tmp_path):
    path = tmp_path / "svc.sqlite3"
    db = Database(path)
    db.u.create_index([("a", 1), ("b", 1)], unique=True)
    db.u.insert_one({"_id": 1, "a": 1, "b": 2})
    db.close()
    db = Database(path)
    db.u.insert_one({"_id": 2, "a": 1, "b": 3})
    with pytest.raises(DuplicateKeyError):
        db.u.insert_one({"_id": 3, "a": 1, "b": 2})
    with pytest.raises(DuplicateKeyError):
        db.u.update_one({"_id": 2}, {"$set": {"b": 2}})
    db.close()
    db = Database(path)
    db.u.create_index([("a", 1), ("b", 1)], unique=True)   # as a service does on every start
    with pytest.raises(DuplicateKeyError):
        db.u.insert_one({"_id": 3, "a": 1, "b": 3})
    assert sorted((d["a"], d["b"]) for d in db.u.find({"a": 1})) == [(1, 2), (1, 3)]


def test_a_file_of_the_first_layout_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "c_d" (id TEXT PRIMARY KEY, doc TEXT NOT NULL)')
    conn.execute("""CREATE UNIQUE INDEX "ix_c_d_status_due" ON "c_d" (json_extract(doc, '$.status'), """
                 """json_extract(doc, '$.due'))""")
    conn.execute("INSERT INTO c_d VALUES (?, ?)", ('"x"', json.dumps(
        {"_id": "x", "status": "open", "due": OLD_PREFIX + "2027-01-04T07:00:00.000000", "$k": 1})))
    conn.commit()
    conn.close()
    db = Database(path)
    assert db.d.find_one({"status": "open", "due": {"$lte": NOW}}) == {
        "_id": "x", "status": "open", "due": NOW - timedelta(hours=1), "$k": 1}
    with pytest.raises(DuplicateKeyError):
        db.d.insert_one({"status": "open", "due": NOW - timedelta(hours=1)})


def test_projections():
    db = Database(":memory:")
    db.p.insert_one({"_id": "p", "a": 1, "b": {"c": 2, "d": 3}, "e": 4})
    assert db.p.find_one({}, {"e": 0, "b.c": 0}) == {"_id": "p", "a": 1, "b": {"d": 3}}
    assert db.p.find_one({}, {"a": 0, "_id": 0}) == {"b": {"c": 2, "d": 3}, "e": 4}
    assert db.p.find_one({}, {"a": 1, "e": 1}) == {"_id": "p", "a": 1, "e": 4}
    assert db.p.find_one({}, {"a": 1, "_id": 0}) == {"a": 1}
    assert db.p.find_one({}, ["a"]) == {"_id": "p", "a": 1}
    assert db.p.find_one({}, {"_id": 1}) == {"_id": "p"}
    with pytest.raises(ValueError):
        db.p.find_one({}, {"a": 1, "e": 0})


def test_sorting_mixed_types_follows_mongodb_type_order():
    db = Database(":memory:")
    values = {"dt": NOW, "str": "2027", "int": 3, "float": 2.5, "none": None, "dict": {"k": 1}, "true": True,
              "false": False, "empty": [], "array": [4, "a"], "nested": [[1]]}
    db.s.insert_many([{"_id": k, "v": v} for k, v in values.items()] + [{"_id": "missing"}])
    ascending = [d["_id"] for d in db.s.find({}, sort=[("v", 1), ("_id", 1)])]
    assert ascending == ["empty", "missing", "none", "float", "int", "array", "str", "dict", "nested", "false",
                         "true", "dt"]
    descending = [d["_id"] for d in db.s.find({}, sort=[("v", -1), ("_id", 1)])]
    assert descending[:4] == ["dt", "true", "false", "nested"] and descending[5:7] == ["array", "str"]


sortable = (st.none() | st.integers(-2 ** 53, 2 ** 53) | floats
            | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
            | datetimes)   # what an indexed field holds: a scalar (no booleans, arrays or objects)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), sortable), sortable), min_size=1, max_size=25),
       st.sampled_from([[("at", -1), ("_id", -1)], [("at", 1)], [("at", -1)], [("_id", 1)], [("at", 1), ("n", -1)]]),
       st.integers(0, 30))
def test_a_sort_on_indexed_fields_read_in_sql_order_is_the_python_sort(rows, sort, limit):
    """find(sort, limit) on indexed fields stops reading at the limit, in SQLite's order: the same documents in the
    same order as sorting every match in Python (MongoDB's order of types: null, numbers, strings, datetimes)."""
    indexed, plain = Database(":memory:")["t"], Database(":memory:")["t"]
    indexed.create_index([("at", 1)])
    indexed.create_index([("n", 1)])
    for number, (at, n) in enumerate(rows):
        doc = {"_id": f"r{number:03d}", "n": n, **({} if at is None else {"at": at})}
        indexed.insert_one(dict(doc))
        plain.insert_one(dict(doc))
    assert indexed._ordered(sort)   # the pushed-down path is the one under test
    expected = plain.find({}, sort=sort, limit=limit)
    assert [d["_id"] for d in indexed.find({}, sort=sort, limit=limit)] == [d["_id"] for d in expected]


exact_values = (st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False)
                | st.text("ab\"\\$", max_size=3) | st.sampled_from([NOW, NOW + timedelta(hours=1)]))
exact_ops = st.sampled_from(["$eq", "$in", "$gt", "$gte", "$lt", "$lte"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.none() | exact_values, exact_values, st.booleans()), max_size=15),
       st.lists(st.tuples(st.sampled_from(["at", "n", "_id"]), exact_ops, exact_values), max_size=3),
       st.integers(0, 5))
def test_counts_and_projected_finds_said_in_sql_are_the_python_matches(rows, conditions, limit):
    """count_documents and a find keeping top-level fields, when SQL can say the whole filter (indexed scalar
    fields): counted and read in SQL, the same documents as matching each in Python."""
    indexed, plain = Database(":memory:")["t"], Database(":memory:")["t"]
    indexed.create_index([("at", 1)])
    indexed.create_index([("n", 1)])
    for number, (at, n, extra) in enumerate(rows):
        doc = {"_id": f"r{number:02d}", "n": n, **({} if at is None else {"at": at}),
               **({"extra": {"deep": [n, {"$date": "x"}]}} if extra else {})}
        indexed.insert_one(dict(doc))
        plain.insert_one(dict(doc))
    query: dict = {}
    for field, op, value in conditions:
        value = f"r{value}"[:3] if field == "_id" else value
        if field == "_id" and op not in ("$eq", "$in"):
            continue
        query.setdefault(field, {})[op] = [value] if op == "$in" else value
    assert indexed._exact(query) is not None   # the SQL path is the one under test
    assert indexed.count_documents(query) == plain.count_documents(query)
    for projection in ({"n": 1, "extra": 1}, {"at": 1, "_id": 0}, ["extra"]):
        got = indexed.find(query, projection, sort=[("at", 1), ("_id", 1)], limit=limit)
        assert got == plain.find(query, projection, sort=[("at", 1), ("_id", 1)], limit=limit)
        unsorted = indexed.find(query, projection)   # in whatever order the index gives them, as MongoDB may
        assert sorted(unsorted, key=repr) == sorted(plain.find(query, projection), key=repr)


def test_what_sql_cannot_say_is_still_matched_in_python():
    db = Database(":memory:")["t"]
    db.create_index([("state", 1)])
    db.insert_many([{"_id": 1, "state": "a", "tags": ["x"]}, {"_id": 2, "state": "a", "tags": ["y"]},
                    {"_id": 3, "state": True}])
    assert db._exact({"state": "a", "tags": "x"}) is None and db.count_documents({"state": "a", "tags": "x"}) == 1
    assert db._exact({"state": True}) is None and db.count_documents({"state": True}) == 1
    assert db._exact({"state": {"$ne": "a"}}) is None and db.count_documents({"state": {"$ne": "a"}}) == 1
    assert db.find({"state": "a", "tags": "y"}, {"tags": 1}) == [{"_id": 2, "tags": ["y"]}]


@settings(max_examples=100, deadline=None)
@given(st.lists(values, max_size=8), texts)
def test_a_string_looked_for_in_the_documents_text_finds_every_document_holding_it(stored, probe):
    """An equality on a field no index holds is narrowed by looking for the string's JSON in the stored text: never
    missing a document that holds it (in an array, escaped, beside a "$" key)."""
    db = Database(":memory:")
    docs = [{"_id": i, "a": [{"id": v}, {"id": probe if i % 2 else "other"}]} for i, v in enumerate(stored)]
    db.c.insert_many([dict(d) for d in docs])
    expected = [d["_id"] for d in docs if matches(as_stored(d), {"a.id": as_stored(probe)})]
    assert sorted(d["_id"] for d in db.c.find({"a.id": probe})) == expected
    assert db.c.count_documents({"a.id": probe}) == len(expected)


def test_booleans_and_missing_fields_on_an_index_are_narrowed_in_sql_and_matched_in_python():
    """A boolean is 0/1 to SQL and a missing field NULL: an index narrows on them, and the documents found are those
    matched without it."""
    plain, indexed = Database(":memory:")["t"], Database(":memory:")["t"]
    indexed.create_index([("flag", 1)])
    docs = [{"_id": 1, "flag": False}, {"_id": 2, "flag": 0}, {"_id": 3, "flag": True}, {"_id": 4},
            {"_id": 5, "flag": None}, {"_id": 6, "flag": "0"}, {"_id": 7, "flag": 1.0}]
    plain.insert_many([dict(d) for d in docs])
    indexed.insert_many([dict(d) for d in docs])
    for query in ({"flag": False}, {"flag": {"$in": [True]}}, {"flag": {"$exists": False}}, {"flag": None}):
        assert sorted(d["_id"] for d in indexed.find(query)) == sorted(d["_id"] for d in plain.find(query))
        assert "WHERE" in indexed._narrow(query)[0] or query == {"flag": None}
    assert [d["_id"] for d in indexed.find({"flag": {"$exists": False}})] == [4]


def test_an_or_is_narrowed_when_every_branch_is():
    db = Database(":memory:")["t"]
    db.create_index([("state", 1)])
    db.insert_many([{"_id": 1, "media": [{"sha256": "x"}]}, {"_id": 2, "result": {"after_photos": ["x"]}},
                    {"_id": 3, "media": [{"sha256": "y"}], "state": "a"}, {"_id": 4, "note": "x"}])
    either = {"$or": [{"media.sha256": "x"}, {"result.after_photos": "x"}]}
    assert "OR" in db._narrow(either)[0] and sorted(d["_id"] for d in db.find(either)) == [1, 2]
    loose = {"$or": [{"media.sha256": "y"}, {"n": {"$gt": 1}}]}   # a branch SQL cannot narrow: no narrowing
    assert db._narrow(loose)[0] == "" and [d["_id"] for d in db.find(loose)] == [3]
    mixed = {"$or": [{"state": "a"}, {"note": "x"}], "_id": {"$in": [3, 4]}}
    assert sorted(d["_id"] for d in db.find(mixed)) == [3, 4]


def test_a_long_read_lets_other_green_threads_run(monkeypatch):
    """A service reading thousands of documents (a yearly report's) gives way now and then, so its broker
    connection's heartbeats are not starved: under eventlet's monkey patching time.sleep(0) is eventlet.sleep(0)."""
    import eventlet
    from paht import embedded
    db = Database(":memory:")["t"]
    db.insert_many([{"_id": i} for i in range(5 * embedded.YIELD_EVERY)])
    ticks = []

    def other():
        while True:
            ticks.append(1)
            eventlet.sleep(0)
    monkeypatch.setattr(embedded.time, "sleep", eventlet.sleep)   # what eventlet.monkey_patch() does in a service
    thread = eventlet.spawn(other)
    try:
        assert len(db.find({})) == 5 * embedded.YIELD_EVERY
    finally:
        thread.kill()
    assert len(ticks) >= 4


def test_other_green_threads_use_the_store_between_the_batches_of_a_long_read(monkeypatch):
    """A long read holds the store's lock only while SQLite reads a batch: a call that reads or writes meanwhile
    (intake's staff list while a yearly report's reports are read) waits for a batch, not for the whole read, and
    the long read still gives every document it selects (issue 22)."""
    import eventlet
    from eventlet.green import threading as green_threading
    from paht import embedded
    database = Database(":memory:")
    database.lock = green_threading.RLock()   # the lock as a service has it (eventlet's monkey patching)
    db = database["t"]
    db.create_index([("n", 1)])
    count = 5 * embedded.YIELD_EVERY
    db.insert_many([{"_id": i, "n": i, "text": "x" * 100} for i in range(count)])
    monkeypatch.setattr(embedded.time, "sleep", eventlet.sleep)   # what eventlet.monkey_patch() does in a service
    done = []

    def other():
        db.insert_one({"_id": "new", "n": -1})
        done.append(db.find_one({"_id": 3})["n"])
    for projection in (None, {"n": 1}):   # a decoded read and one SQLite answers (_extracted)
        done.clear()
        db.delete_many({"_id": "new"})
        long_read = eventlet.spawn(db.find, {"n": {"$gte": 0}}, projection)
        eventlet.sleep(0)                 # the long read has begun
        eventlet.spawn(other).wait()      # and the other call is answered before it ends
        assert done == [3] and not long_read.dead
        assert sorted(d["_id"] for d in long_read.wait()) == list(range(count))


def test_a_field_that_must_exist_narrows_to_the_documents_with_its_name():
    """`{"field": {"$exists": True}}` on a field no index holds: SQLite passes on only the documents whose text has
    the field's name as a key (intake's province_referrals read a pack's reports to find the few referred ones, issue
    22); what matches is still decided on the decoded document (a name in a value, an array's element)."""
    db = Database(":memory:")["t"]
    db.insert_many([{"_id": 1, "referrals": [{"at": 1}]}, {"_id": 2, "note": "referrals"},
                    {"_id": 3, "a": [{"b": {"referrals": 1}}]}, {"_id": 4, "referrals": None},
                    {"_id": 5, "a": [{"b": 1}, {"c": 2}]}, {"_id": 6, "x": '"referrals"'}, {"_id": 7}])
    assert "instr" in db._narrow({"referrals": {"$exists": True}})[0]
    assert [d["_id"] for d in db.find({"referrals": {"$exists": True}})] == [1, 4]
    assert [d["_id"] for d in db.find({"a.b.referrals": {"$exists": True}})] == [3]
    assert [d["_id"] for d in db.find({"a.c": {"$exists": 1}})] == [5]
    assert [d["_id"] for d in db.find({"a.0.b": {"$exists": True}})] == [3, 5]      # not narrowed: "0" is no key
    assert sorted(d["_id"] for d in db.find({"referrals": {"$exists": False}})) == [2, 3, 5, 6, 7]
    rows = db.database.conn.execute(f'SELECT id FROM "{db._table}"' + db._narrow({"referrals": {"$exists": True}})[0],
                                    db._narrow({"referrals": {"$exists": True}})[1]).fetchall()
    assert sorted(row[0] for row in rows) == ["1", "2", "3", "4"]   # 2: the name as a value; 3: deeper; not 5, 6, 7
