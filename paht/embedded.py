"""An embedded, file-backed document store with the pymongo subset PAHT uses (SQLite underneath).

Documents are JSON in one table per collection, with datetimes typed as in MongoDB's extended JSON:
{"$date": "2027-01-04T01:00:00.000000Z"} (fixed-width UTC, so text order is time order); a user's own key that
starts with "$" is stored with one more "$", so no user data can be read back as a marker. Datetimes come back as
aware UTC datetimes, as pymongo with tz_aware=True gives them; naive ones are taken as UTC.

`create_index` becomes an SQLite expression index (unique ones enforced by SQLite, and so kept exactly in the
file) over a per-field SQL key in which a datetime is a BLOB of its UTC text: SQLite never finds a BLOB equal to
TEXT, and orders BLOBs after every number and string. A query's conditions on indexed fields are narrowed in SQL,
then the whole query is matched in Python, so the sla sweeper's "due <= now" costs what is due, not what is open.
"""
from __future__ import annotations

import contextlib
import json
import math
import re
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from pymongo.errors import DuplicateKeyError

UTC = timezone.utc
_FORMAT = 1   # PRAGMA user_version of this layout; 0 was datetimes as "\x1edt:" strings
_FIELD = re.compile(r"^[A-Za-z0-9_.]+$")
_INDEXED_FIELD = re.compile(r"json_extract\(doc, '\$\.([A-Za-z0-9_.]+)'\)")
_RANGE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
YIELD_EVERY = 200   # documents decoded between two yields of a long read (a year's reports take seconds)


# ---- encoding -----------------------------------------------------------------------------------------------
def _date_text(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-len("+00:00")] + "Z"


def _encode(value):
    if isinstance(value, datetime):
        return {"$date": _date_text(value)}
    if isinstance(value, dict):
        return {("$" + k if str(k).startswith("$") else k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(obj: dict):
    """json.loads' object_hook: markers back to values, escaped keys back to the user's."""
    if "$date" in obj and len(obj) == 1:
        return datetime.fromisoformat(obj["$date"])
    for key in obj:
        if key[:1] == "$":
            return {k.removeprefix("$"): v for k, v in obj.items()}
    return obj


_ENCODER, _DECODER = json.JSONEncoder(ensure_ascii=False), json.JSONDecoder(object_hook=_decode)


def _dumps(doc: dict) -> str:
    """The stored text of a document. Datetimes become markers as the encoder meets them; when every '"$' in the
    text is one of those markers, no key of the user's starts with "$" and the text is final (the usual case,
    without walking the document in Python); else the document is walked and such keys escaped."""
    dates = 0

    def date_marker(value):
        nonlocal dates
        if isinstance(value, datetime):
            dates += 1
            return {"$date": _date_text(value)}
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    text = json.dumps(doc, ensure_ascii=False, default=date_marker)
    if text.count('"$') == dates:
        return text
    return _ENCODER.encode(_encode(doc))


def _loads(text: str) -> dict:
    return _DECODER.decode(text)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _aware(value):
    """A query or update with naive datetimes read as UTC (stored ones are aware, and naive ones do not compare).
    Scalars, most of what is walked, leave after one type lookup instead of three isinstance checks."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dict):
        return {k: _aware(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_aware(v) for v in value]
    return value


def _id_key(value) -> str:
    return json.dumps(_encode(value), sort_keys=True)


def _sql_key(field: str) -> str:
    """What SQL indexes and compares for a field: numbers and strings as themselves, a datetime as a BLOB."""
    return (f"""COALESCE(CAST(json_extract(doc, '$.{field}."$date"') AS BLOB), """
            f"""json_extract(doc, '$.{field}'))""")


def _sql_value(value):
    """A query value as _sql_key has it, or None where SQL cannot narrow on it. SQLite 3.40's json_extract cuts a
    string at its first NUL, so such a query string would miss its document."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):
        return _date_text(value).encode()
    if isinstance(value, int):
        return value if -2 ** 63 <= value < 2 ** 63 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return None if "\x00" in value else value
    return None


def _index_sql(table: str, fields: list[str], unique: bool) -> str:
    name = f"ix_{table}_" + "_".join(f.replace(".", "_") for f in fields)
    columns = ", ".join(_sql_key(field) for field in fields)
    return f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})'


# ---- matching -----------------------------------------------------------------------------------------------
def _values(doc, path: str) -> list:
    """Every value at a dotted path, descending into arrays as MongoDB does; [] when absent."""
    current = [doc]
    for part in path.split("."):
        found = []
        for item in current:
            if isinstance(item, dict) and part in item:
                found.append(item[part])
            elif isinstance(item, list):
                if part.isdigit() and int(part) < len(item):
                    found.append(item[int(part)])
                else:
                    found.extend(sub[part] for sub in item if isinstance(sub, dict) and part in sub)
        current = found
    return current


def _candidates(values: list) -> list:
    """Values plus the elements of array values (equality against an array matches any element)."""
    out = []
    for value in values:
        out.append(value)
        if isinstance(value, list):
            out.extend(value)
    return out


def _compare(op, have, want) -> bool:
    try:
        if op == "$gt":
            return have > want
        if op == "$gte":
            return have >= want
        if op == "$lt":
            return have < want
        if op == "$lte":
            return have <= want
    except TypeError:   # a string and a datetime, say: never in range of each other
        return False
    raise ValueError(op)


def _is_operators(condition) -> bool:
    return isinstance(condition, dict) and bool(condition) and all(k.startswith("$") for k in condition)


def _match_condition(values: list, condition) -> bool:
    if _is_operators(condition):
        for op, want in condition.items():
            cands = _candidates(values)
            if op == "$eq":
                ok = want in cands or (want is None and not values)
            elif op == "$ne":
                ok = want not in cands and not (want is None and not values)
            elif op == "$in":
                ok = any(w in cands for w in want) or (None in want and not values)
            elif op == "$nin":
                ok = not any(w in cands for w in want) and not (None in want and not values)
            elif op == "$exists":
                ok = bool(values) == bool(want)
            elif op in _RANGE:
                ok = any(_compare(op, v, want) for v in cands if v is not None)
            else:
                raise ValueError(f"unsupported query operator {op}")
            if not ok:
                return False
        return True
    if condition is None:
        return not values or None in _candidates(values)
    return condition in _candidates(values)


def matches(doc: dict, query: dict) -> bool:
    """Whether a decoded document matches a query (whose naive datetimes are already made aware)."""
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(doc, q) for q in condition):
                return False
        elif key == "$or":
            if not any(matches(doc, q) for q in condition):
                return False
        elif not _match_condition(_values(doc, key), condition):
            return False
    return True


def _order(value):
    """A sort key over values of any types, in MongoDB's order of BSON types: null, numbers, strings, objects,
    arrays, booleans, datetimes."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (8, value)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict):   # pair by pair: the value's type, the name, the value
        pairs = [(k, _order(v)) for k, v in value.items()]
        return (3, [(order[0], k, order) for k, order in pairs])
    if isinstance(value, list):
        return (4, [_order(v) for v in value])
    return (9, value)


def _sort_key(doc: dict, path: str, descending: bool):
    """As MongoDB sorts: a missing field as null, an array by its least element (greatest when descending), an
    empty array before null."""
    keys = []
    for value in _values(doc, path) or [None]:
        if isinstance(value, list):
            keys.extend([_order(v) for v in value] or [(-1,)])
        else:
            keys.append(_order(value))
    return max(keys) if descending else min(keys)


# ---- updates ------------------------------------------------------------------------------------------------
def _parent(doc: dict, path: str, create: bool):
    parts = path.split(".")
    for part in parts[:-1]:
        if part not in doc or not isinstance(doc[part], dict):
            if not create:
                return None, parts[-1]
            doc[part] = {}
        doc = doc[part]
    return doc, parts[-1]


# operators that compare what they are given with what is stored: a naive datetime there must be read as UTC
_COMPARING = frozenset({"$max", "$addToSet", "$pull"})


def apply_update(doc: dict, update: dict, inserting: bool = False, serialized: bool = False) -> dict:
    """`serialized`: the document is only written out afterwards (the store's own updates), whose text reads a naive
    datetime as UTC anyway; then only the comparing operators' values are walked for naive datetimes, not what
    `$set` places (a report's whole timeline on every update)."""
    for op, fields in update.items():
        if op == "$setOnInsert" and not inserting:
            continue
        if not serialized or op in _COMPARING:
            fields = _aware(fields)
        for path, value in fields.items():
            if op in ("$set", "$setOnInsert"):
                parent, key = _parent(doc, path, True)
                parent[key] = value
            elif op == "$unset":
                parent, key = _parent(doc, path, False)
                if parent is not None:
                    parent.pop(key, None)
            elif op == "$inc":
                parent, key = _parent(doc, path, True)
                parent[key] = parent.get(key, 0) + value
            elif op == "$max":
                parent, key = _parent(doc, path, True)
                if key not in parent or value > parent[key]:
                    parent[key] = value
            elif op in ("$push", "$addToSet"):
                parent, key = _parent(doc, path, True)
                items = value["$each"] if isinstance(value, dict) and "$each" in value else [value]
                array = parent.setdefault(key, [])
                for item in items:
                    if op == "$push" or item not in array:
                        array.append(item)
            elif op == "$pull":
                parent, key = _parent(doc, path, False)
                if parent is not None and isinstance(parent.get(key), list):
                    parent[key] = [item for item in parent[key] if not (
                        matches(item, value) if isinstance(value, dict) and isinstance(item, dict) else item == value)]
            else:
                raise ValueError(f"unsupported update operator {op}")
    return doc


def _seed_from_query(query: dict) -> dict:
    """The equality parts of a filter, which an upsert copies into the new document."""
    doc: dict = {}
    for key, condition in query.items():
        if key.startswith("$") or (isinstance(condition, dict) and any(k.startswith("$") for k in condition)):
            continue
        parent, last = _parent(doc, key, True)
        parent[last] = condition
    return doc


def _only_ids(query: dict) -> list | None:
    """The ids a query names when it is `{"_id": value}` or `{"_id": {"$in": [...]}}` alone (None otherwise)."""
    if set(query) != {"_id"}:
        return None
    condition = query["_id"]
    if not _is_operators(condition):
        return None if isinstance(condition, (dict, list)) else [_aware(condition)]
    if set(condition) == {"$in"} and isinstance(condition["$in"], list) and all(
            not isinstance(value, (dict, list)) for value in condition["$in"]):
        return list(dict.fromkeys(_aware(condition["$in"])))
    return None


# ---- results ------------------------------------------------------------------------------------------------
class InsertOneResult:
    def __init__(self, inserted_id):
        self.inserted_id = inserted_id
        self.acknowledged = True


class UpdateResult:
    def __init__(self, matched, modified, upserted_id=None):
        self.matched_count, self.modified_count, self.upserted_id = matched, modified, upserted_id
        self.acknowledged = True


class DeleteResult:
    def __init__(self, deleted):
        self.deleted_count = deleted
        self.acknowledged = True


# ---- collection and database --------------------------------------------------------------------------------
class Collection:
    def __init__(self, database: "Database", name: str):
        if not _FIELD.match(name):
            raise ValueError(f"bad collection name {name!r}")
        self.database, self.name = database, name
        self._table = f"c_{name.replace('.', '_')}"
        self._indexed: set[str] = set()
        with database.lock:
            database.conn.execute(f'CREATE TABLE IF NOT EXISTS "{self._table}" (id TEXT PRIMARY KEY, doc TEXT NOT NULL)')
            for (sql,) in database.conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
                    (self._table,)):
                self._indexed.update(_INDEXED_FIELD.findall(sql))

    # helpers
    def _found(self, query: dict, limit: int = 0, order: str = "") -> list[tuple[str, dict]]:
        """(stored text, decoded document) of the documents that match, up to limit (0: all), in `order` (an SQL
        ORDER BY, _ordered) when given."""
        query = _aware(query)
        where, params = self._narrow(query)
        found = []
        for text, in self._rows(f'SELECT doc FROM "{self._table}"{where}{order}', params):
            doc = _loads(text)
            if matches(doc, query):
                found.append((text, doc))
                if len(found) == limit:
                    break
        return found

    def _rows(self, sql: str, params: list):
        """The rows of a read, YIELD_EVERY at a time: the store's lock is held while SQLite reads those, and between
        two batches the other green threads run (under eventlet's monkey patching time.sleep(0) is eventlet.sleep(0))
        — the broker's heartbeats and the service's other calls, their own reads and writes too, which then wait
        for a batch and not for a year's reports. SQLite runs a connection's other statements while this one is
        open; whether this read sees their changes is undefined, as a MongoDB cursor may or may not. Inside an
        update (which holds the lock) nobody else comes in between."""
        with self.database.lock:
            cursor = self.database.conn.execute(sql, params)
            rows = cursor.fetchmany(YIELD_EVERY)
        try:
            while rows:
                yield from rows
                if len(rows) < YIELD_EVERY:
                    return
                time.sleep(0)
                with self.database.lock:
                    rows = cursor.fetchmany(YIELD_EVERY)
        finally:
            with self.database.lock:
                cursor.close()

    def _ordered(self, sort) -> str:
        """The SQL ORDER BY of a sort on `_id` and indexed fields (which hold scalars: null, numbers, strings,
        datetimes — SQLite orders these classes as MongoDB does, a datetime's BLOB after every string), so a sorted
        find with a limit reads in order and stops there instead of decoding every match; "" for any other sort."""
        if not sort or any(key != "_id" and key not in self._indexed for key, _ in sort):
            return ""
        return " ORDER BY " + ", ".join(f"{_sql_key(key)} {'DESC' if direction < 0 else 'ASC'}"
                                        for key, direction in sort) + ", rowid"   # ties as stored, like Python's

    def _narrow(self, query: dict) -> tuple[str, list]:
        """An SQL WHERE over `_id` and the indexed fields the query constrains. It must select every document that
        matches (Python matches the whole query afterwards), and as few others as it cheaply can."""
        clauses, params = [], []
        for key, condition in query.items():
            if key == "$or" and isinstance(condition, list) and condition:   # each branch narrowed, or none
                branches = [self._narrow(branch) for branch in condition if isinstance(branch, dict)]
                if len(branches) == len(condition) and all(where for where, _ in branches):
                    clauses.append("(" + " OR ".join(f"({where[len(' WHERE '):]})" for where, _ in branches) + ")")
                    params.extend(param for _, branch_params in branches for param in branch_params)
                continue
            if key != "_id" and key not in self._indexed:
                want = condition.get("$eq") if _is_operators(condition) else condition
                if isinstance(want, str) and not key.startswith("$"):
                    # a string the document holds anywhere (an array's element too) is in its text as JSON
                    # writes it: SQLite looks for it there and Python decodes only the documents that have it
                    clauses.append("instr(doc, ?) > 0")
                    params.append(json.dumps(want, ensure_ascii=False))
                last = key.rsplit(".", 1)[-1]
                if _is_operators(condition) and condition.get("$exists") and not key.startswith("$") and \
                        _FIELD.match(last) and not any(part.isdigit() for part in key.split(".")):
                    # a field that exists has its name in the text as a key, as JSON writes it (a user's key never
                    # starts with "$" there, so no escaping): the documents without it are not decoded
                    clauses.append("instr(doc, ?) > 0")
                    params.append(json.dumps(last))
                continue
            for op, want in (condition.items() if _is_operators(condition) else [("$eq", condition)]):
                if key == "_id":   # its JSON text orders unlike its value: equality only
                    if op == "$eq" or (op == "$in" and want):
                        wants = want if op == "$in" else [want]
                        clauses.append(f"id IN ({','.join('?' * len(wants))})")
                        params.extend(_id_key(w) for w in wants)
                    continue
                column = _sql_key(key)
                if op == "$exists" and not want:   # missing (or null) is NULL in SQL
                    clauses.append(f"{column} IS NULL")
                elif op in ("$eq", "$in"):
                    # a boolean is 0/1 to SQL: the documents holding 0 or 1 come too, and Python tells them apart
                    wants = [int(w) if isinstance(w, bool) else _sql_value(w)
                             for w in (want if op == "$in" else [want])]
                    if wants and None not in wants:
                        clauses.append(f"{column} IN ({','.join('?' * len(wants))})")
                        params.extend(wants)
                elif op in _RANGE and _sql_value(want) is not None:
                    # a stored string with a NUL is cut to a prefix in SQL, which "> prefix" would miss
                    sql_op = ">=" if op == "$gt" and isinstance(want, str) else _RANGE[op]
                    clauses.append(f"{column} {sql_op} ?")
                    params.append(_sql_value(want))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _exact(self, query: dict) -> tuple[str, list] | None:
        """An SQL WHERE that selects exactly the documents matching `query`, or None when SQL cannot say it alone:
        every condition is `$eq`/`$in`/a range, on `_id` (equality with strings) or an indexed field, with values
        SQL holds as the query means them (numbers, strings without NUL, datetimes; a range only within its own
        type). Exact as long as an indexed field holds scalars — the known limit of the indexes themselves."""
        clauses, params = [], []
        for key, condition in query.items():
            if key != "_id" and key not in self._indexed:
                return None
            pairs = condition.items() if _is_operators(condition) else [("$eq", condition)]
            for op, want in pairs:
                wants = want if op == "$in" else [want]
                if op not in ("$eq", "$in", *_RANGE) or not isinstance(wants, list) or op in _RANGE and not wants:
                    return None
                if key == "_id":
                    if op not in ("$eq", "$in") or not all(isinstance(w, str) for w in wants):
                        return None
                    clauses.append(f"id IN ({','.join('?' * len(wants))})" if wants else "0")
                    params.extend(_id_key(w) for w in wants)
                    continue
                if any(isinstance(w, (bool, dict, list)) or _sql_value(w) is None for w in wants):
                    return None
                column = _sql_key(key)
                if op in _RANGE:
                    kinds = ("'blob'" if isinstance(want, datetime) else "'text'" if isinstance(want, str)
                             else "'integer', 'real'")
                    clauses.append(f"{column} {_RANGE[op]} ? AND typeof({column}) IN ({kinds})")
                    params.append(_sql_value(want))
                else:
                    clauses.append(f"{column} IN ({','.join('?' * len(wants))})" if wants else "0")
                    params.extend(_sql_value(w) for w in wants)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _write(self, doc: dict, text: str, insert: bool) -> None:
        with self.database.lock:
            try:
                if insert:
                    self.database.conn.execute(f'INSERT INTO "{self._table}" (id, doc) VALUES (?, ?)',
                                               (_id_key(doc["_id"]), text))
                else:
                    self.database.conn.execute(f'UPDATE "{self._table}" SET doc = ? WHERE id = ?',
                                               (text, _id_key(doc["_id"])))
            except sqlite3.IntegrityError as exc:   # the primary key or a unique index
                raise DuplicateKeyError(f"{self.name} {doc['_id']!r}: {exc}") from None

    # pymongo API
    def create_index(self, keys, unique: bool = False, **_):
        """One SQLite expression index over the fields, in order (so status + due serves "status = x AND
        due <= t" by a range scan). Index scalar fields only: unlike MongoDB's multikey indexes, an SQL index
        on an array field would not match its elements."""
        fields = [keys] if isinstance(keys, str) else [k for k, _ in keys]
        for field in fields:
            if not _FIELD.match(field):
                raise ValueError(f"bad index field {field!r}")
        with self.database.lock:
            self.database.conn.execute(_index_sql(self._table, fields, unique))
        self._indexed.update(fields)
        return "_".join(f"{f}_1" for f in fields)

    def insert_one(self, document: dict) -> InsertOneResult:
        document.setdefault("_id", uuid.uuid4().hex)
        self._write(document, _dumps(document), insert=True)
        return InsertOneResult(document["_id"])

    def insert_many(self, documents) -> list:
        """All or nothing, in one transaction."""
        with self.database.lock:
            self.database.conn.execute("BEGIN")
            try:
                ids = [self.insert_one(d).inserted_id for d in documents]
            except BaseException:
                self.database.conn.execute("ROLLBACK")
                raise
            self.database.conn.execute("COMMIT")
            return ids

    def find(self, filter: dict | None = None, projection=None, sort=None, limit: int = 0):
        order = self._ordered(sort)
        fields = self._top_fields(projection)
        exact = self._exact(_aware(filter or {})) if fields is not None and (order or not sort) else None
        if exact is not None:
            return self._extracted(exact, *fields, order, limit)
        docs = [doc for _, doc in self._found(filter or {}, limit if order or not sort else 0, order)]
        for key, direction in reversed(sort or [] if not order else []):
            docs.sort(key=lambda d, k=key, desc=direction < 0: _sort_key(d, k, desc), reverse=direction < 0)
        if limit:
            docs = docs[:limit]
        return [self._project(d, projection) for d in docs]

    @staticmethod
    def _top_fields(projection) -> tuple[list[str], bool] | None:
        """The top-level fields an inclusion projection keeps, and whether it keeps `_id` (None for any other
        projection)."""
        if not projection:
            return None
        spec = dict(projection) if isinstance(projection, dict) else dict.fromkeys(projection, 1)
        keep_id = spec.pop("_id", 1)
        if not spec or not all(v is True or v == 1 for v in spec.values()) or not all(
                _FIELD.match(f) and "." not in f for f in spec):
            return None
        return list(spec), bool(keep_id)

    def _extracted(self, exact: tuple[str, list], fields: list[str], keep_id: bool, order: str,
                   limit: int) -> list[dict]:
        """A find whose filter SQL says exactly, keeping top-level fields: SQLite reads only those out of each
        document (no whole document is decoded in Python). A missing field stays missing, as in a projection."""
        where, params = exact
        columns = "".join(f", doc -> '$.{field}'" for field in fields)
        sql = f'SELECT id{columns} FROM "{self._table}"{where}{order}' + (f" LIMIT {int(limit)}" if limit else "")
        docs = []
        for row in self._rows(sql, params):   # one JSON text per row, decoded at once (cheaper than per field)
            present = [(field, text) for field, text in zip(fields, row[1:]) if text is not None]
            values = _loads(f"[{','.join(text for _, text in present)}]")
            doc = {"_id": _loads(row[0])} if keep_id else {}
            doc.update(zip((field for field, _ in present), values))
            docs.append(doc)
        return docs

    @staticmethod
    def _project(doc: dict, projection):
        if not projection:
            return doc
        spec = dict(projection) if isinstance(projection, dict) else dict.fromkeys(projection, 1)
        keep_id = spec.pop("_id", 1)
        if any(spec.values()) or not spec and keep_id:   # {"_id": 1} alone includes only _id
            if not all(spec.values()):
                raise ValueError("a projection either includes or excludes fields")
            doc = {k: v for k, v in doc.items() if k in spec or k == "_id"}
        else:
            for path in spec:
                parent, key = _parent(doc, path, False)
                if parent is not None:
                    parent.pop(key, None)
        if not keep_id:
            doc.pop("_id", None)
        return doc

    def find_one(self, filter: dict | None = None, projection=None):
        found = self.find(filter, projection, limit=1)
        return found[0] if found else None

    def count_documents(self, filter: dict) -> int:
        exact = self._exact(_aware(filter))
        if exact is not None:   # counted in SQL (by an index where there is one), nothing decoded
            with self.database.lock:
                return self.database.conn.execute(f'SELECT COUNT(*) FROM "{self._table}"{exact[0]}',
                                                  exact[1]).fetchone()[0]
        return len(self._found(filter))

    def _update(self, query: dict, update: dict, upsert: bool, many: bool) -> UpdateResult:
        if not update or not all(k.startswith("$") for k in update):
            raise ValueError("update must use operators ($set, $inc, …)")
        with self.database.lock:   # read-modify-write is atomic for this process
            found = self._found(query, 0 if many else 1)
            modified = 0
            for before, doc in found:   # a stored text is what _dumps gives for its decoded document
                after = _dumps(apply_update(doc, update, serialized=True))
                if after != before:
                    self._write(doc, after, insert=False)
                    modified += 1
            if found or not upsert:
                return UpdateResult(len(found), modified)
            doc = apply_update(_seed_from_query(_aware(query)), update, inserting=True, serialized=True)
            doc.setdefault("_id", uuid.uuid4().hex)
            self._write(doc, _dumps(doc), insert=True)
            return UpdateResult(0, 0, doc["_id"])

    def update_one(self, filter: dict, update: dict, upsert: bool = False) -> UpdateResult:
        return self._update(filter, update, upsert, many=False)

    def update_many(self, filter: dict, update: dict, upsert: bool = False) -> UpdateResult:
        return self._update(filter, update, upsert, many=True)

    def find_one_and_update(self, filter: dict, update: dict, upsert: bool = False, return_document=False, **_):
        with self.database.lock:
            before = self.find_one(filter)
            result = self._update(filter, update, upsert, many=False)
            if not return_document:   # ReturnDocument.BEFORE is False, AFTER is True
                return before
            target = before["_id"] if before else result.upserted_id
            return self.find_one({"_id": target}) if target is not None else None

    def delete_one(self, filter: dict) -> DeleteResult:
        return self._delete(filter, many=False)

    def delete_many(self, filter: dict) -> DeleteResult:
        return self._delete(filter, many=True)

    def _delete(self, query: dict, many: bool) -> DeleteResult:
        ids = _only_ids(query)
        if ids is not None and (many or len(ids) <= 1):   # by id alone: nothing to read back and match
            if not ids:
                return DeleteResult(0)
            with self.database.lock:
                cursor = self.database.conn.execute(
                    f'DELETE FROM "{self._table}" WHERE id IN ({",".join("?" * len(ids))})', [_id_key(i) for i in ids])
                return DeleteResult(cursor.rowcount)
        with self.database.lock:
            found = self._found(query, 0 if many else 1)
            for _, doc in found:
                self.database.conn.execute(f'DELETE FROM "{self._table}" WHERE id = ?', (_id_key(doc["_id"]),))
            return DeleteResult(len(found))

    def drop(self) -> None:
        with self.database.lock:
            self.database.conn.execute(f'DROP TABLE IF EXISTS "{self._table}"')
        self._indexed.clear()


def _upgrade(conn: sqlite3.Connection) -> None:
    """Rewrite a file of layout 0 (datetimes as strings prefixed "\\x1edt:", indexes on the raw JSON values)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= _FORMAT:
        return

    def old(value):
        if isinstance(value, str) and value.startswith("\x1edt:"):
            return datetime.strptime(value[4:], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
        if isinstance(value, dict):
            return {k: old(v) for k, v in value.items()}
        if isinstance(value, list):
            return [old(v) for v in value]
        return value

    conn.execute("BEGIN IMMEDIATE")
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'c_%'").fetchall()
    for (table,) in tables:
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? "
                               "AND sql IS NOT NULL", (table,)).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        docs = [old(json.loads(text)) for (text,) in conn.execute(f'SELECT doc FROM "{table}"').fetchall()]
        conn.execute(f'DELETE FROM "{table}"')
        conn.executemany(f'INSERT INTO "{table}" (id, doc) VALUES (?, ?)',
                         [(_id_key(doc["_id"]), _dumps(doc)) for doc in docs])
        for _, sql in indexes:
            conn.execute(_index_sql(table, _INDEXED_FIELD.findall(sql), "UNIQUE" in sql.upper()))
    conn.execute(f"PRAGMA user_version = {_FORMAT}")
    conn.execute("COMMIT")


class Database:
    def __init__(self, path: str | Path, read_only: bool = False):
        """`read_only`: SQLite's own `mode=ro`, so every write fails (`paht rules replay` reads a service's file
        while the service runs); the file must exist and be of the current layout."""
        self.path = str(path)
        if read_only:
            self.conn = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True,
                                        check_same_thread=False, isolation_level=None)
            if self.conn.execute("PRAGMA user_version").fetchone()[0] < _FORMAT:
                raise sqlite3.OperationalError(f"{self.path}: an older layout; the service rewrites it on starting")
        else:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
            _upgrade(self.conn)
        self.lock = threading.RLock()
        self._collections: dict[str, Collection] = {}

    def __getitem__(self, name: str) -> Collection:
        with self.lock:
            if name not in self._collections:
                self._collections[name] = Collection(self, name)
            return self._collections[name]

    get_collection = __getitem__

    def __getattr__(self, name: str) -> Collection:   # db.reports, as in pymongo
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def list_collection_names(self) -> list[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'c_%'").fetchall()
        return [name[2:] for (name,) in rows]

    def close(self) -> None:
        self.conn.close()
