"""The MongoDB query subset that dbviewer's /o/db passes to the database.

Filters: implicit equality, $eq $ne $gt $gte $lt $lte $in $nin $exists,
logical $or $and $nor, on top-level or dotted fields.  Comparisons follow
MongoDB: $gt/$gte/$lt/$lte only match values of the same type bracket
(numbers with numbers, strings with strings, ...); equality with null also
matches a missing field; an array field matches when any element does.

Sorting follows MongoDB's BSON type order (missing/null < numbers < strings
< objects < arrays < ObjectId < booleans < dates) and is made total by
breaking ties on _id ascending, so skip/limit paging is stable.

Values given in a filter are Extended JSON: {"$date": ...} and
{"$oid": ...} are turned into BsonDate / ObjectId first (`from_ejson`).
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Iterable

from .jsonjs import BsonDate, ObjectId


class QueryError(ValueError):
    """A filter MongoDB itself would reject (e.g. an unknown operator)."""


_MISSING = object()
MISSING = _MISSING  # public name of the "field absent" marker

# BSON canonical type order (MinKey/MaxKey and rarer types left out).
_RANK_NULL, _RANK_NUMBER, _RANK_STRING, _RANK_OBJECT, _RANK_ARRAY = 1, 2, 3, 4, 5
_RANK_OID, _RANK_BOOL, _RANK_DATE = 7, 8, 9


def type_rank(value: Any) -> int:
    """The BSON type-bracket rank of a value (missing counts as null)."""
    if value is _MISSING or value is None:
        return _RANK_NULL
    if isinstance(value, bool):
        return _RANK_BOOL
    if isinstance(value, (int, float)):
        return _RANK_NUMBER
    if isinstance(value, str):
        return _RANK_STRING
    if isinstance(value, dict):
        return _RANK_OBJECT
    if isinstance(value, list):
        return _RANK_ARRAY
    if isinstance(value, ObjectId):
        return _RANK_OID
    if isinstance(value, BsonDate):
        return _RANK_DATE
    raise QueryError("unsupported value type %r" % type(value).__name__)


def compare(a: Any, b: Any) -> int:
    """Three-way comparison in MongoDB's order (-1, 0, 1)."""
    ra, rb = type_rank(a), type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == _RANK_NULL:
        return 0
    if ra == _RANK_OBJECT:
        return _compare_objects(a, b)
    if ra == _RANK_ARRAY:
        return _compare_sequences(a, b)
    ka, kb = _scalar_key(a), _scalar_key(b)
    return (ka > kb) - (ka < kb)


def _scalar_key(value: Any) -> Any:
    """A Python-comparable key for a scalar of a known bracket."""
    if isinstance(value, ObjectId):
        return value.hex
    if isinstance(value, BsonDate):
        return value.ms
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")  # binary (simple) collation
    return value


def _compare_sequences(a: list, b: list) -> int:
    """Element-wise comparison, shorter first on a common prefix."""
    for x, y in zip(a, b):
        c = compare(x, y)
        if c:
            return c
    return (len(a) > len(b)) - (len(a) < len(b))


def _compare_objects(a: dict, b: dict) -> int:
    """Objects compare field by field: type, name, then value."""
    items_a, items_b = list(a.items()), list(b.items())
    for (ka, va), (kb, vb) in zip(items_a, items_b):
        ra, rb = type_rank(va), type_rank(vb)
        if ra != rb:
            return -1 if ra < rb else 1
        if ka != kb:
            return -1 if ka < kb else 1
        c = compare(va, vb)
        if c:
            return c
    return (len(items_a) > len(items_b)) - (len(items_a) < len(items_b))


def get_field(doc: dict, path: str) -> Any:
    """The value at a (dotted) field path, or the _MISSING marker."""
    value: Any = doc
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


# ---------------------------------------------------------------------------
# Extended JSON in filters


def _parse_date(text: str) -> BsonDate:
    """An ISO-8601 date string from {"$date": ...} as a BsonDate."""
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return BsonDate(round(dt.timestamp() * 1000))


def from_ejson(value: Any) -> Any:
    """Turn {"$date":..} / {"$oid":..} wrappers into BSON values (deep)."""
    if isinstance(value, list):
        return [from_ejson(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and "$oid" in value and isinstance(value["$oid"], str):
        return ObjectId(value["$oid"])
    if len(value) == 1 and "$date" in value:
        raw = value["$date"]
        if isinstance(raw, str):
            return _parse_date(raw)
        if isinstance(raw, dict) and "$numberLong" in raw:
            return BsonDate(int(raw["$numberLong"]))
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return BsonDate(int(raw))
    return {k: from_ejson(v) for k, v in value.items()}


# ---------------------------------------------------------------------------
# Filter evaluation


def matches(doc: dict, query: dict) -> bool:
    """True when doc satisfies the filter document."""
    if not isinstance(query, dict):
        raise QueryError("filter must be an object")
    return all(_match_clause(doc, key, cond) for key, cond in query.items())


def _match_clause(doc: dict, key: str, cond: Any) -> bool:
    """One top-level filter entry: a logical operator or a field condition."""
    if key in ("$or", "$and", "$nor"):
        if not isinstance(cond, list) or not cond:
            raise QueryError("%s must be a nonempty array" % key)
        results = (matches(doc, sub) for sub in cond)
        if key == "$or":
            return any(results)
        if key == "$and":
            return all(results)
        return not any(results)
    if key.startswith("$"):
        raise QueryError("unknown top level operator: %s" % key)
    return _match_field(get_field(doc, key), cond)


def _is_operator_doc(cond: Any) -> bool:
    """True for {"$op": ...} condition documents."""
    return isinstance(cond, dict) and bool(cond) and all(k.startswith("$") for k in cond)


def _match_field(value: Any, cond: Any) -> bool:
    """A field condition: an operator document or implicit equality."""
    if _is_operator_doc(cond):
        return all(_apply_operator(value, op, arg) for op, arg in cond.items())
    return _equals(value, cond)


def _candidates(value: Any) -> list:
    """The values an operator is tried against: the array and its elements."""
    if isinstance(value, list):
        return [value] + value
    return [value]


def _equals(value: Any, target: Any) -> bool:
    """$eq semantics (null matches missing; arrays match by element)."""
    if target is None:
        return value is _MISSING or value is None or (
            isinstance(value, list) and any(v is None for v in value))
    if value is _MISSING:
        return False
    return any(type_rank(c) == type_rank(target) and compare(c, target) == 0 for c in _candidates(value))


def _ordered_match(value: Any, target: Any, accept: tuple) -> bool:
    """$gt/$gte/$lt/$lte: same type bracket only, any array element."""
    if value is _MISSING:
        return target is None and 0 in accept
    for c in _candidates(value):
        if type_rank(c) == type_rank(target) and compare(c, target) in accept:
            return True
    return False


_ORDER_OPS = {"$gt": (1,), "$gte": (1, 0), "$lt": (-1,), "$lte": (-1, 0)}


def _apply_operator(value: Any, op: str, arg: Any) -> bool:
    """Evaluate one field operator."""
    if op == "$eq":
        return _equals(value, arg)
    if op == "$ne":
        return not _equals(value, arg)
    if op in _ORDER_OPS:
        return _ordered_match(value, arg, _ORDER_OPS[op])
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise QueryError("%s needs an array" % op)
        found = any(_equals(value, a) for a in arg)
        return found if op == "$in" else not found
    raise QueryError("unknown operator: %s" % op)


# ---------------------------------------------------------------------------
# Sorting and paging


def normalise_sort(spec: Any) -> list:
    """[(field, 1|-1), ...] from a sort document, with _id appended as the
    final tie-breaker so the order is total."""
    if not isinstance(spec, dict):
        return []
    keys = []
    for field, direction in spec.items():
        if isinstance(direction, bool) or not isinstance(direction, (int, float)) or direction == 0:
            raise QueryError("bad sort specification for %s" % field)
        keys.append((field, 1 if direction > 0 else -1))
    if keys and "_id" not in (k for k, _ in keys):
        keys.append(("_id", 1))
    return keys


def _sort_value(doc: dict, field: str, direction: int) -> Any:
    """The value a field sorts by: arrays use their min (asc) / max (desc)."""
    value = get_field(doc, field)
    if isinstance(value, list) and value:
        pick = min if direction > 0 else max
        return pick(value, key=functools.cmp_to_key(compare))
    return value


class _Wrapped:
    """An object or array value made orderable with compare() (sort and
    index keys of the rare non-scalar values)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: "_Wrapped") -> bool:
        return compare(self.value, other.value) < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Wrapped) and compare(self.value, other.value) == 0

    def __hash__(self) -> int:
        return 0


def order_key(value: Any) -> tuple:
    """A tuple that orders like compare(): (type rank,) for null/missing,
    (rank, comparable scalar) otherwise.  Tuples of different ranks never
    compare their second members, so keys of any types sort together."""
    kind = type(value)
    if kind is int or kind is float:
        return (_RANK_NUMBER, value)
    if kind is str:
        return (_RANK_STRING, value.encode("utf-8", "surrogatepass"))
    if value is _MISSING or value is None:
        return (_RANK_NULL,)
    rank = type_rank(value)
    if rank in (_RANK_OBJECT, _RANK_ARRAY):
        return (rank, _Wrapped(value))
    return (rank, _scalar_key(value))


def sort_docs(docs: Iterable[dict], keys: list) -> list:
    """A new list of docs in the given sort order (stable): one stable sort
    per key, last key first."""
    docs = list(docs)
    for field, direction in reversed(keys):
        if "." not in field:
            docs.sort(key=lambda d: order_key(_sort_value_top(d, field, direction)), reverse=direction < 0)
        else:
            docs.sort(key=lambda d: order_key(_sort_value(d, field, direction)), reverse=direction < 0)
    return docs


def _sort_value_top(doc: dict, field: str, direction: int) -> Any:
    """_sort_value for a top-level field (fast path)."""
    value = doc.get(field, _MISSING)
    if type(value) is list and value:
        pick = min if direction > 0 else max
        return pick(value, key=functools.cmp_to_key(compare))
    return value


def find(docs: Iterable[dict], query: dict, sort: Any = None, skip: int = 0, limit: int = 0) -> tuple:
    """(total matching, the page) for filter/sort/skip/limit; limit 0 = all."""
    matched = [d for d in docs if matches(d, query)]
    ordered = sort_docs(matched, normalise_sort(sort or {}))
    return len(matched), page(ordered, skip, limit)


def page(ordered: list, skip: int, limit: int) -> list:
    """The skip/limit window of an ordered list (negative limit = abs)."""
    skip = max(0, skip)
    limit = abs(limit)
    return ordered[skip: skip + limit] if limit else ordered[skip:]
