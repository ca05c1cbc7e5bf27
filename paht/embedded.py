"""An embedded, file-backed document store with the pymongo subset PAHT uses (SQLite underneath).

Documents are JSON in one table per collection; `create_index` becomes an SQLite expression index on the field,
and a query whose conditions touch an indexed field is narrowed by SQL before the full filter is matched in
Python, so the sla sweeper's "due <= now" costs what is due, not what is open. Datetimes are stored as fixed-width
UTC strings (order-preserving) and come back as aware UTC datetimes, as pymongo with tz_aware=True gives them.
"""
from __future__ import annotations

import copy
import json
import re
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from pymongo.errors import DuplicateKeyError

UTC = timezone.utc
_DT = "\x1edt:"   # a record-separator prefix: SQLite compares text only up to a NUL
_FIELD = re.compile(r"^[A-Za-z0-9_.]+$")
_MISSING = object()


# ---- encoding -----------------------------------------------------------------------------------------------
def _encode(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return _DT + value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, str) and value.startswith(_DT):
        return datetime.strptime(value[len(_DT):], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


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
    except TypeError:
        return False
    raise ValueError(op)


def _match_condition(values: list, condition) -> bool:
    if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
        for op, want in condition.items():
            want = _encode(want)
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
            elif op in ("$gt", "$gte", "$lt", "$lte"):
                ok = any(_compare(op, v, want) for v in cands if v is not None)
            else:
                raise ValueError(f"unsupported query operator {op}")
            if not ok:
                return False
        return True
    want = _encode(condition)
    if want is None:
        return not values or None in _candidates(values)
    return want in _candidates(values)


def matches(doc: dict, query: dict) -> bool:
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


def _sort_key(doc: dict, path: str):
    values = _values(doc, path)
    return (0, 0) if not values or values[0] is None else (1, values[0])


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


def apply_update(doc: dict, update: dict, inserting: bool = False) -> dict:
    for op, fields in update.items():
        if op == "$setOnInsert" and not inserting:
            continue
        for path, value in fields.items():
            value = _encode(value)
            if op in ("$set", "$setOnInsert"):
                parent, key = _parent(doc, path, True)
                parent[key] = copy.deepcopy(value)
            elif op == "$unset":
                parent, key = _parent(doc, path, False)
                if parent is not None:
                    parent.pop(key, None)
            elif op == "$inc":
                parent, key = _parent(doc, path, True)
                parent[key] = parent.get(key, 0) + value
            elif op in ("$push", "$addToSet"):
                parent, key = _parent(doc, path, True)
                items = value["$each"] if isinstance(value, dict) and "$each" in value else [value]
                array = parent.setdefault(key, [])
                for item in items:
                    if op == "$push" or item not in array:
                        array.append(copy.deepcopy(item))
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
        parent[last] = _encode(condition)
    return doc


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
        self._indexed: dict[str, bool] = {}
        with database.lock:
            database.conn.execute(f'CREATE TABLE IF NOT EXISTS "{self._table}" (id TEXT PRIMARY KEY, doc TEXT NOT NULL)')
            for (sql,) in database.conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
                    (self._table,)):
                for field in re.findall(r"json_extract\(doc, '\$\.([A-Za-z0-9_.]+)'\)", sql):
                    self._indexed[field] = "UNIQUE" in sql.upper()

    # helpers
    def _rows(self, query: dict, limit: int = 0):
        sql, params, complete = self._narrow(query)
        if limit and complete:   # SQL alone decides: let it stop early
            sql, params = f"{sql} LIMIT ?", params + [limit]
        with self.database.lock:
            rows = self.database.conn.execute(f'SELECT id, doc FROM "{self._table}"{sql}', params).fetchall()
        for _, text in rows:
            yield json.loads(text)

    def _narrow(self, query: dict) -> tuple[str, list, bool]:
        """An SQL WHERE over the primary key or indexed fields the query constrains (the rest is matched later),
        and whether it expresses the whole query."""
        clauses, params = [], []
        complete = True
        for key, condition in query.items():
            column = "id" if key == "_id" else (f"json_extract(doc, '$.{key}')" if key in self._indexed else None)
            if column is None:
                complete = False
                continue
            before = len(clauses)
            if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
                for op, want in condition.items():
                    sql_op = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$eq": "="}.get(op)
                    if sql_op and isinstance(want, (int, float, str, datetime)) and not isinstance(want, bool):
                        clauses.append(f"{column} {sql_op} ?")
                        params.append(self._key(_encode(want)) if column == "id" else _encode(want))
                    elif op == "$in" and all(isinstance(w, (int, float, str)) and not isinstance(w, bool) for w in want):
                        clauses.append(f"{column} IN ({','.join('?' * len(want))})")
                        params.extend(self._key(w) if column == "id" else w for w in want)
            elif isinstance(condition, (int, float, str, datetime)) and not isinstance(condition, bool):
                clauses.append(f"{column} = ?")
                params.append(self._key(_encode(condition)) if column == "id" else _encode(condition))
            expected = len(condition) if isinstance(condition, dict) else 1
            # scalar equality on an array field also matches elements, which SQL does not see: stay conservative
            complete = complete and len(clauses) - before == expected and column != "id"
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return where, params, complete

    @staticmethod
    def _key(value) -> str:
        return json.dumps(value, sort_keys=True)

    def _check_unique(self, doc: dict, own_id=None) -> None:
        for field, unique in self._indexed.items():
            if not unique:
                continue
            values = _values(doc, field)
            if not values:
                continue
            for other in self._rows({field: values[0]}):
                if other["_id"] != own_id and values[0] in _values(other, field):
                    raise DuplicateKeyError(f"duplicate key on {self.name}.{field}: {values[0]!r}")

    def _write(self, doc: dict, insert: bool) -> None:
        text = json.dumps(doc, ensure_ascii=False)
        with self.database.lock:
            if insert:
                try:
                    self.database.conn.execute(f'INSERT INTO "{self._table}" (id, doc) VALUES (?, ?)',
                                               (self._key(doc["_id"]), text))
                except sqlite3.IntegrityError:
                    raise DuplicateKeyError(f"duplicate _id {doc['_id']!r} in {self.name}") from None
            else:
                self.database.conn.execute(f'UPDATE "{self._table}" SET doc = ? WHERE id = ?',
                                           (text, self._key(doc["_id"])))

    # pymongo API
    def create_index(self, keys, unique: bool = False, **_):
        """One SQLite expression index over the fields, in order (so status + due serves "status = x AND
        due <= t" by a range scan). Index scalar fields only: unlike MongoDB's multikey indexes, an SQL index
        on an array field would not match its elements."""
        fields = [keys] if isinstance(keys, str) else [k for k, _ in keys]
        for field in fields:
            if not _FIELD.match(field):
                raise ValueError(f"bad index field {field!r}")
        name = f"ix_{self._table}_" + "_".join(f.replace(".", "_") for f in fields)
        columns = ", ".join(f"json_extract(doc, '$.{field}')" for field in fields)
        with self.database.lock:
            self.database.conn.execute(
                f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{name}" ON "{self._table}" ({columns})')
        for field in fields:
            self._indexed[field] = self._indexed.get(field, False) or (unique and len(fields) == 1)
        return "_".join(f"{f}_1" for f in fields)

    def insert_one(self, document: dict) -> InsertOneResult:
        doc = _encode(copy.deepcopy(document))
        doc.setdefault("_id", uuid.uuid4().hex)
        document.setdefault("_id", doc["_id"])
        self._check_unique(doc)
        self._write(doc, insert=True)
        return InsertOneResult(doc["_id"])

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
        query = filter or {}
        docs = [d for d in self._rows(query, 0 if sort else limit) if matches(d, query)]
        for key, direction in reversed(sort or []):
            docs.sort(key=lambda d, k=key: _sort_key(d, k), reverse=direction < 0)
        if limit:
            docs = docs[:limit]
        return [self._project(_decode(d), projection) for d in docs]

    @staticmethod
    def _project(doc: dict, projection):
        if not projection:
            return doc
        wanted = {k for k, v in (projection.items() if isinstance(projection, dict) else
                                 ((p, 1) for p in projection)) if v}
        return {k: v for k, v in doc.items() if k in wanted or k == "_id"}

    def find_one(self, filter: dict | None = None, projection=None):
        found = self.find(filter, projection, limit=1)
        return found[0] if found else None

    def count_documents(self, filter: dict) -> int:
        return sum(1 for d in self._rows(filter) if matches(d, filter))

    def _update(self, query: dict, update: dict, upsert: bool, many: bool) -> UpdateResult:
        if not update or not all(k.startswith("$") for k in update):
            raise ValueError("update must use operators ($set, $inc, …)")
        with self.database.lock:   # read-modify-write is atomic for this process
            matched = modified = 0
            for doc in self._rows(query):
                if not matches(doc, query):
                    continue
                matched += 1
                before = json.dumps(doc, sort_keys=True)
                apply_update(doc, update)
                if json.dumps(doc, sort_keys=True) != before:
                    self._check_unique(doc, own_id=doc["_id"])
                    self._write(doc, insert=False)
                    modified += 1
                if not many:
                    break
            if matched or not upsert:
                return UpdateResult(matched, modified)
            doc = apply_update(_seed_from_query(query), update, inserting=True)
            doc.setdefault("_id", uuid.uuid4().hex)
            self._check_unique(doc)
            self._write(doc, insert=True)
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
        with self.database.lock:
            deleted = 0
            for doc in self._rows(query):
                if matches(doc, query):
                    self.database.conn.execute(f'DELETE FROM "{self._table}" WHERE id = ?', (self._key(doc["_id"]),))
                    deleted += 1
                    if not many:
                        break
            return DeleteResult(deleted)

    def drop(self) -> None:
        with self.database.lock:
            self.database.conn.execute(f'DROP TABLE IF EXISTS "{self._table}"')
        self._indexed.clear()


class Database:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
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
