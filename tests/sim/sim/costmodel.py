"""What a dbviewer /o/db page costs a MongoDB server (countly-api.md 4.5).

dbviewer runs, for every page, count(filter) and then
find(filter).sort(sort).skip(skip).limit(limit).  This module plans both
the way the rules below say, executes them over sorted in-memory indexes
(so a page costs the simulator about what it returns) and reports what
MongoDB would have examined:

Indexes (`index_spec`): every app_users<id> collection has _id (unique),
{ls:-1}, {uid:1}, {sc:1}, {lac:-1}, {tsd:1}, {did:1}; `apps` has _id only;
no compound index.  An index holds one entry per document and value
(arrays: one per distinct element; a missing field or null: the null key;
an empty array: undefined, below null), ordered by MongoDB's type order
then value, ties by _id.  Direction only decides which way an unsorted
scan runs: every index serves both directions.

Predicates that give index bounds (`predicate_bounds`): implicit equality
with a scalar or null, $eq, $gt, $gte, $lt, $lte (within the operand's
type bracket), $in of scalars (points), {"$exists": false} (the null key,
documents then filtered).  $ne, $nin, $exists:true, object/array operands
give none.  Several on one field intersect.

Plan of the find (`choose_plan`), first rule that applies:
  1. IXSCAN(field): the top-level conjunction (and $and members) has a
     bounds-giving predicate on an indexed field; field preference lac,
     _id, then ls, uid, sc, tsd, did.
  2. OR(IXSCAN, ...): a top-level $or whose every branch has rule 1's
     index; any branch without one makes it a collection scan.
  3. FULL_IXSCAN(field): the sort is served by an index (one key, an
     indexed field; {lac:1} and {lac:-1} by {lac:-1}, {_id:1} by _id).
  4. COLLSCAN.
The sort is served (no blocking sort) when it is empty, or one key on the
IXSCAN's own field, or rule 3.  Then the scan walks in sort order and
stops after skip+limit matching documents: keys examined = documents
examined = entries walked.  Otherwise (any other sort, e.g.
{lac:1,_id:1}, which no index serves, and every OR with a sort) it is a
blocking SORT: every entry in the bounds is read (COLLSCAN: every
document), the filter applied, the survivors sorted and the top skip+limit
kept in memory; their size (the documents' JSON text in UTF-8 bytes) is
the blocking-sort bytes.  Above the sort memory limit the find fails.

Count (`count_plan`): an empty filter is answered from the collection's
metadata (nothing examined); a filter that is a range or equality on one
indexed field only (implicit equality, $eq, $gt/$gte/$lt/$lte; one
interval) is a COUNT_SCAN (keys = entries in the interval, no document);
any other filter reads what its find plan's bounds hold (keys and
documents) and applies the filter.

Ties: a sort that does not include _id returns documents with equal sort
keys in an order drawn from the request's random generator (two requests
differ); a sort including _id, and an empty sort, is deterministic.
"""

from __future__ import annotations

import bisect
import collections
import json
import random
from dataclasses import dataclass, field
from typing import Any

from . import mongo

APP_USERS_INDEXES = (("_id", 1), ("ls", -1), ("uid", 1), ("sc", 1), ("lac", -1), ("tsd", 1), ("did", 1))
APPS_INDEXES = (("_id", 1),)
PREFERENCE = ("lac", "_id", "ls", "uid", "sc", "tsd", "did")
DEFAULT_SORT_LIMIT_BYTES = 100 * 1024 * 1024
CACHE_SIZE = 16

NULL_KEY = (1,)
UNDEFINED_KEY = (0,)
LOWEST = (-1,)
HIGHEST = (100,)
FULL = (LOWEST, True, HIGHEST, False)


def index_spec(collection: str) -> tuple:
    """((field, direction), ...) of a collection's indexes."""
    if collection.startswith("app_users"):
        return APP_USERS_INDEXES
    return APPS_INDEXES


# ---------------------------------------------------------------------------
# Indexes


def entry_keys(value: Any) -> list:
    """The index keys one document's value gives (multikey for arrays)."""
    if type(value) is list:
        if not value:
            return [UNDEFINED_KEY]
        keys: list = []
        for item in value:
            key = mongo.order_key(item)
            if key not in keys:
                keys.append(key)
        return keys
    return [mongo.order_key(value)]


class FieldIndex:
    """A single-field index: entries (key, _id) in order, keys alongside
    for bisect.  Built on first use, then maintained by add/remove."""

    def __init__(self, field_name: str, direction: int) -> None:
        """An unbuilt index on field_name."""
        self.field = field_name
        self.direction = direction
        self.entries: list = []
        self.keys: list = []
        self.built = False
        self.multikey = 0  # documents with more than one entry

    def build(self, docs: list, key_of: Any) -> None:
        """Index every document (one sort)."""
        entries = []
        append = entries.append
        multikey = 0
        name, missing = self.field, mongo.MISSING
        for doc in docs:
            value = doc.get(name, missing)
            kind = type(value)
            if kind is int or kind is float:
                append(((2, value), key_of(doc)))
            elif kind is str:
                append(((3, value.encode("utf-8", "surrogatepass")), key_of(doc)))
            elif value is None or value is missing:
                append((NULL_KEY, key_of(doc)))
            else:
                keys = entry_keys(value)
                ident = key_of(doc)
                multikey += len(keys) > 1
                entries.extend((k, ident) for k in keys)
        entries.sort()
        self.entries = entries
        self.keys = [e[0] for e in entries]
        self.multikey = multikey
        self.built = True

    def add(self, ident: Any, doc: dict) -> None:
        """Index one document."""
        keys = entry_keys(doc.get(self.field, mongo.MISSING))
        self.multikey += len(keys) > 1
        for key in keys:
            pos = bisect.bisect_left(self.entries, (key, ident))
            self.entries.insert(pos, (key, ident))
            self.keys.insert(pos, key)

    def remove(self, ident: Any, doc: dict) -> None:
        """Unindex one document (before its value changes)."""
        keys = entry_keys(doc.get(self.field, mongo.MISSING))
        self.multikey -= len(keys) > 1
        for key in keys:
            pos = bisect.bisect_left(self.entries, (key, ident))
            if pos < len(self.entries) and self.entries[pos] == (key, ident):
                del self.entries[pos]
                del self.keys[pos]

    def span(self, interval: tuple) -> tuple:
        """(first, end) entry positions of an interval."""
        lo, lo_incl, hi, hi_incl = interval
        first = bisect.bisect_left(self.keys, lo) if lo_incl else bisect.bisect_right(self.keys, lo)
        end = bisect.bisect_right(self.keys, hi) if hi_incl else bisect.bisect_left(self.keys, hi)
        return first, max(first, end)

    def count(self, intervals: list) -> int:
        """Entries inside the intervals."""
        total = 0
        for interval in intervals:
            first, end = self.span(interval)
            total += end - first
        return total

    def ids(self, intervals: list) -> list:
        """_ids of the entries inside the intervals, in index order."""
        out: list = []
        for interval in intervals:
            first, end = self.span(interval)
            out.extend(e[1] for e in self.entries[first:end])
        return out


# ---------------------------------------------------------------------------
# Bounds


def _point(value: Any) -> tuple:
    """The interval of one value ([k, k])."""
    key = NULL_KEY if value is None else mongo.order_key(value)
    return (key, True, key, True)


def _bracket_end(key: tuple) -> tuple:
    """The (exclusive) key just above every key of key's type bracket."""
    return (key[0] + 0.5,)


def operator_interval(op: str, arg: Any) -> tuple | None:
    """The interval of one comparison operator (None: gives no bounds)."""
    if isinstance(arg, (dict, list)):
        return None
    if op == "$eq":
        return _point(arg)
    if arg is None:
        # $gte/$lte null match null and missing; $gt/$lt null nothing
        return _point(None) if op in ("$gte", "$lte") else (NULL_KEY, False, NULL_KEY, False)
    key = mongo.order_key(arg)
    if op == "$gt":
        return (key, False, _bracket_end(key), False)
    if op == "$gte":
        return (key, True, _bracket_end(key), False)
    if op == "$lt":
        return ((key[0],), True, key, False)
    return ((key[0],), True, key, True)  # $lte


def _intersect_one(a: tuple, b: tuple) -> tuple | None:
    """Intersection of two intervals (None when empty)."""
    if a[0] > b[0]:
        lo, lo_incl = a[0], a[1]
    elif b[0] > a[0]:
        lo, lo_incl = b[0], b[1]
    else:
        lo, lo_incl = a[0], a[1] and b[1]
    if a[2] < b[2]:
        hi, hi_incl = a[2], a[3]
    elif b[2] < a[2]:
        hi, hi_incl = b[2], b[3]
    else:
        hi, hi_incl = a[2], a[3] and b[3]
    if lo > hi or (lo == hi and not (lo_incl and hi_incl)):
        return None
    return (lo, lo_incl, hi, hi_incl)


def intersect(a: list, b: list) -> list:
    """Intersection of two interval lists (sorted, non-overlapping)."""
    out = []
    for x in a:
        for y in b:
            both = _intersect_one(x, y)
            if both is not None:
                out.append(both)
    out.sort(key=lambda iv: (iv[0], not iv[1]))
    return out


def _points(values: list) -> list:
    """Sorted, de-duplicated point intervals."""
    keys = []
    for value in values:
        point = _point(value)
        if point not in keys:
            keys.append(point)
    keys.sort(key=lambda iv: iv[0])
    return keys


def predicate_bounds(cond: Any) -> tuple:
    """(intervals or None, exact) of a field condition: exact when it is a
    range or equality only, one interval (what a COUNT_SCAN can count)."""
    if not mongo._is_operator_doc(cond):
        if isinstance(cond, (dict, list)):
            return None, False
        return [_point(cond)], True
    intervals = [FULL]
    used, exact = False, True
    for op, arg in cond.items():
        if op in ("$eq", "$gt", "$gte", "$lt", "$lte"):
            interval = operator_interval(op, arg)
            if interval is None:
                exact = False
                continue
            intervals = intersect(intervals, [interval])
            used = True
        elif op == "$in" and isinstance(arg, list) and not any(isinstance(a, (dict, list)) for a in arg):
            intervals = intersect(intervals, _points(arg))
            used, exact = True, False
        elif op == "$exists" and not arg:
            intervals = intersect(intervals, [_point(None)])
            used, exact = True, False
        else:
            exact = False
    if not used:
        return None, False
    return intervals, exact and len(intervals) == 1


# ---------------------------------------------------------------------------
# Plans


@dataclass
class Scan:
    """One index scan: the field and its bounds."""

    field: str
    intervals: list


@dataclass
class Plan:
    """How a find (or count) runs."""

    kind: str                      # IXSCAN, FULL_IXSCAN, OR, COLLSCAN
    scans: list = field(default_factory=list)
    blocking: bool = False         # a SORT stage over everything in bounds
    reverse: bool = False          # walk direction of a non-blocking scan

    def describe(self) -> str:
        """Text for the log: e.g. IXSCAN(lac)+SORT."""
        if self.kind == "OR":
            text = "OR(%s)" % ",".join("IXSCAN(%s)" % s.field for s in self.scans)
        elif self.kind == "COLLSCAN":
            text = "COLLSCAN"
        else:
            text = "%s(%s)" % (self.kind, self.scans[0].field)
        return text + ("+SORT" if self.blocking else "")


def parse_sort(spec: Any) -> list:
    """[(field, 1|-1), ...] of a sort document as given (no _id added)."""
    if not isinstance(spec, dict):
        return []
    keys = []
    for name, direction in spec.items():
        if isinstance(direction, bool) or not isinstance(direction, (int, float)) or direction == 0:
            raise mongo.QueryError("bad sort specification for %s" % name)
        keys.append((name, 1 if direction > 0 else -1))
    return keys


def _conjunction(query: dict, out: dict) -> None:
    """Field conditions of the top-level conjunction (through $and)."""
    for name, cond in query.items():
        if name == "$and" and isinstance(cond, list):
            for sub in cond:
                if isinstance(sub, dict):
                    _conjunction(sub, out)
        elif not name.startswith("$"):
            out.setdefault(name, []).append(cond)


def plan_conjunction(query: dict, indexed: dict) -> Scan | None:
    """Rule 1: the preferred indexed field with bounds, or None."""
    conds: dict = {}
    _conjunction(query, conds)
    for name in PREFERENCE:
        if name not in indexed or name not in conds:
            continue
        intervals, used = [FULL], False
        for cond in conds[name]:
            bounds, _ = predicate_bounds(cond)
            if bounds is not None:
                intervals = intersect(intervals, bounds)
                used = True
        if used:
            return Scan(name, intervals)
    return None


def choose_plan(query: dict, sort_keys: list, indexed: dict) -> Plan:
    """The find's plan (rules 1-4 of the module docstring)."""
    scan = plan_conjunction(query, indexed)
    if scan is not None:
        if not sort_keys:
            return Plan("IXSCAN", [scan], False, indexed[scan.field] < 0)
        if len(sort_keys) == 1 and sort_keys[0][0] == scan.field:
            return Plan("IXSCAN", [scan], False, sort_keys[0][1] < 0)
        return Plan("IXSCAN", [scan], True)
    branches = query.get("$or")
    if isinstance(branches, list) and branches:
        scans = [plan_conjunction(b, indexed) if isinstance(b, dict) else None for b in branches]
        if all(s is not None for s in scans):
            return Plan("OR", scans, bool(sort_keys))
    if len(sort_keys) == 1 and sort_keys[0][0] in indexed:
        return Plan("FULL_IXSCAN", [Scan(sort_keys[0][0], [FULL])], False, sort_keys[0][1] < 0)
    return Plan("COLLSCAN", [], bool(sort_keys))


def count_plan(query: dict, indexed: dict) -> tuple:
    """("COUNT" | "COUNT_SCAN" | "FETCH", Scan or Plan) of count(filter)."""
    if not query:
        return "COUNT", None
    if len(query) == 1:
        name, cond = next(iter(query.items()))
        if name in indexed:
            bounds, exact = predicate_bounds(cond)
            if exact:
                return "COUNT_SCAN", Scan(name, bounds)
    return "FETCH", choose_plan(query, [], indexed)


# ---------------------------------------------------------------------------
# Execution


@dataclass
class Outcome:
    """One dbviewer page: total, the page's documents, its cost."""

    total: int
    docs: list
    cost: dict
    failed: bool = False


@dataclass
class FilterEval:
    """Everything a plan's bounds hold, filtered (count and blocking sort)."""

    keys: int
    docs: int
    survivors: list


@dataclass
class Engine:
    """Plans and runs dbviewer's queries; caches what a collection version
    allows (the costs are charged whether or not a cache answered)."""

    sort_limit_bytes: int = DEFAULT_SORT_LIMIT_BYTES
    _filters: collections.OrderedDict = field(default_factory=collections.OrderedDict)
    _sorted: collections.OrderedDict = field(default_factory=collections.OrderedDict)

    def _cached(self, cache: collections.OrderedDict, key: tuple, make: Any) -> Any:
        """An LRU lookup."""
        hit = cache.get(key)
        if hit is None:
            hit = make()
            cache[key] = hit
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return hit

    def evaluate(self, coll: Any, query: dict, plan: Plan) -> FilterEval:
        """Read everything in the plan's bounds and filter it (cached per
        collection version and filter)."""
        bounds = (plan.kind,) + tuple(s.field for s in plan.scans)
        key = (coll.name, coll.version, canonical(query), bounds)
        return self._cached(self._filters, key, lambda: self._evaluate(coll, query, plan))

    def _evaluate(self, coll: Any, query: dict, plan: Plan) -> FilterEval:
        """evaluate() without the cache."""
        if plan.kind == "COLLSCAN":
            docs = coll.docs
            return FilterEval(0, len(docs), [d for d in docs if mongo.matches(d, query)])
        keys = 0
        seen: dict = {}
        for scan in plan.scans:
            index = coll.index(scan.field)
            ids = index.ids(scan.intervals)
            keys += len(ids)
            for ident in ids:
                seen.setdefault(ident, None)
        by_id = coll.by_id
        fetched = [by_id[i] for i in seen]
        return FilterEval(keys, len(fetched), [d for d in fetched if mongo.matches(d, query)])

    def count(self, coll: Any, query: dict, indexed: dict, cost: dict) -> int:
        """count(filter): the total, its cost into cost."""
        kind, what = count_plan(query, indexed)
        if kind == "COUNT":
            cost["count_plan"] = "COUNT"
            return len(coll.docs)
        if kind == "COUNT_SCAN":
            index = coll.index(what.field)
            cost["count_plan"] = "COUNT_SCAN(%s)" % what.field
            cost["count_keys"] = index.count(what.intervals)
            if index.multikey:
                return len(set(index.ids(what.intervals)))
            return cost["count_keys"]
        evaluated = self.evaluate(coll, query, what)
        cost["count_plan"] = what.describe() + "+FETCH" if what.kind != "COLLSCAN" else "COLLSCAN"
        cost["count_keys"] = evaluated.keys
        cost["count_docs"] = evaluated.docs
        return len(evaluated.survivors)

    def execute(self, coll: Any, query: dict, sort: Any, skip: int, limit: int,
                rng: random.Random | None = None) -> Outcome:
        """count, then find(filter).sort(sort).skip(skip).limit(limit)."""
        cost = new_cost()
        if coll is None:
            cost["plan"] = cost["count_plan"] = "EOF"
            return Outcome(0, [], cost)
        sort_keys = parse_sort(sort)
        indexed = {name: index.direction for name, index in coll.indexes.items()}
        total = self.count(coll, query, indexed, cost)
        plan = choose_plan(query, sort_keys, indexed)
        cost["plan"] = plan.describe()
        skip = max(0, skip)
        limit = abs(limit)
        unique = any(name == "_id" for name, _ in sort_keys)
        ties = rng if sort_keys and not unique else None
        if ties is None and sort_keys and not unique:
            ties = random.Random(0)
        if plan.blocking:
            return self._blocking(coll, query, plan, sort_keys, skip, limit, ties, total, cost)
        need = skip + limit if limit else None
        matched = self._walk(coll, query, plan, need, ties, cost)
        cost["skip_walked"] = min(skip, len(matched))
        page = matched[skip:]
        cost["returned"] = len(page)
        return Outcome(total, page, cost)

    def _walk(self, coll: Any, query: dict, plan: Plan, need: int | None, ties: Any, cost: dict) -> list:
        """A non-blocking scan in order, stopping after `need` matches."""
        matched: list = []
        walked = 0
        if plan.kind == "COLLSCAN":
            for doc in coll.docs:
                if need is not None and len(matched) >= need:
                    break
                walked += 1
                if mongo.matches(doc, query):
                    matched.append(doc)
            cost["find_docs"] = walked
            return matched
        seen: set = set()
        fetched = 0
        by_id = coll.by_id
        for scan in plan.scans:
            index = coll.index(scan.field)
            check_seen = index.multikey or plan.kind == "OR"
            for ident in walk_index(index, scan.intervals, plan.reverse, ties):
                if need is not None and len(matched) >= need:
                    break
                walked += 1
                if check_seen:
                    if ident in seen:
                        continue
                    seen.add(ident)
                fetched += 1
                doc = by_id[ident]
                if mongo.matches(doc, query):
                    matched.append(doc)
        cost["find_keys"] = walked
        cost["find_docs"] = fetched
        return matched

    def _blocking(self, coll: Any, query: dict, plan: Plan, sort_keys: list, skip: int, limit: int,
                  ties: Any, total: int, cost: dict) -> Outcome:
        """Everything in bounds read, filtered, sorted; top skip+limit kept."""
        evaluated = self.evaluate(coll, query, plan)
        cost["find_keys"] = evaluated.keys
        cost["find_docs"] = evaluated.docs
        cost["blocking_sort"] = True
        survivors = evaluated.survivors
        cost["blocking_sort_docs"] = len(survivors)
        kept = len(survivors) if not limit else min(len(survivors), skip + limit)
        if ties is None:
            key = (coll.name, coll.version, canonical(query), canonical(sort_keys))
            ordered, prefix = self._cached(self._sorted, key, lambda: _sorted_with_sizes(coll, survivors, sort_keys))
            kept_bytes = prefix[kept]
        else:
            shuffled = list(survivors)
            ties.shuffle(shuffled)
            ordered = mongo.sort_docs(shuffled, sort_keys)
            kept_bytes = sum(coll.size(d) for d in ordered[:kept])
        cost["blocking_sort_bytes"] = kept_bytes
        cost["skip_walked"] = min(skip, len(ordered))
        if self.sort_limit_bytes and kept_bytes > self.sort_limit_bytes:
            cost["failed"] = True
            return Outcome(total, [], cost, failed=True)
        page = ordered[skip: skip + limit] if limit else ordered[skip:]
        cost["returned"] = len(page)
        return Outcome(total, page, cost)

    def matching(self, coll: Any, query: dict) -> list:
        """Documents matching a filter through the plan's bounds (for the
        truth oracle; not charged)."""
        indexed = {name: index.direction for name, index in coll.indexes.items()}
        plan = choose_plan(query, [], indexed)
        return list(self.evaluate(coll, query, plan).survivors)


def _sorted_with_sizes(coll: Any, docs: list, sort_keys: list) -> tuple:
    """(docs sorted with _id as last tie-breaker, prefix sums of sizes)."""
    keys = list(sort_keys)
    if keys and "_id" not in (k for k, _ in keys):
        keys.append(("_id", 1))
    ordered = mongo.sort_docs(docs, keys)
    prefix = [0]
    running = 0
    for doc in ordered:
        running += coll.size(doc)
        prefix.append(running)
    return ordered, prefix


def walk_index(index: FieldIndex, intervals: list, reverse: bool, ties: Any):
    """_ids of the entries in bounds in walk order; runs of equal keys
    shuffled with `ties` when given (a sort that is not unique)."""
    keys, entries = index.keys, index.entries
    spans = [index.span(iv) for iv in intervals]
    if reverse:
        spans.reverse()
    for first, end in spans:
        if not reverse:
            i = first
            while i < end:
                key = keys[i]
                j = i + 1
                if j < end and keys[j] == key:
                    j = bisect.bisect_right(keys, key, i, end)
                if ties is not None and j - i > 1:
                    group = [e[1] for e in entries[i:j]]
                    ties.shuffle(group)
                    yield from group
                else:
                    for k in range(i, j):
                        yield entries[k][1]
                i = j
        else:
            i = end
            while i > first:
                key = keys[i - 1]
                j = i - 1
                if j > first and keys[j - 1] == key:
                    j = bisect.bisect_left(keys, key, first, i)
                if ties is not None and i - j > 1:
                    group = [e[1] for e in entries[j:i]]
                    ties.shuffle(group)
                    yield from group
                else:
                    for k in range(i - 1, j - 1, -1):
                        yield entries[k][1]
                i = j


# ---------------------------------------------------------------------------
# Counters

COST_FIELDS = ("count_keys", "count_docs", "find_keys", "find_docs", "blocking_sort_docs",
               "blocking_sort_bytes", "skip_walked", "returned")


def new_cost() -> dict:
    """A request's cost record (see README "Cost model")."""
    cost: dict = {"plan": "", "count_plan": ""}
    cost.update({name: 0 for name in COST_FIELDS})
    cost["blocking_sort"] = False
    cost["failed"] = False
    return cost


def new_totals() -> dict:
    """Cumulative counters (one set per collection and one overall)."""
    return {"db_requests": 0, "keys_examined": 0, "docs_examined": 0, "count_keys": 0, "count_docs": 0,
            "find_keys": 0, "find_docs": 0, "blocking_sorts": 0, "blocking_sort_docs": 0,
            "max_blocking_sort_bytes": 0, "sort_failures": 0, "skip_walked": 0, "returned": 0}


def add_cost(totals: dict, cost: dict) -> None:
    """Add one request's cost to cumulative counters."""
    totals["db_requests"] += 1
    totals["keys_examined"] += cost["count_keys"] + cost["find_keys"]
    totals["docs_examined"] += cost["count_docs"] + cost["find_docs"]
    for name in ("count_keys", "count_docs", "find_keys", "find_docs", "blocking_sort_docs", "skip_walked",
                 "returned"):
        totals[name] += cost[name]
    totals["blocking_sorts"] += cost["blocking_sort"]
    totals["max_blocking_sort_bytes"] = max(totals["max_blocking_sort_bytes"], cost["blocking_sort_bytes"])
    totals["sort_failures"] += cost["failed"]


def canonical(value: Any) -> str:
    """A cache key for a filter or sort document (order-preserving)."""
    return json.dumps(value, default=repr, separators=(",", ":"))
