"""Unit tests of the MongoDB cost model (sim.costmodel), churn, bulk import
and the lean generator (run: cd tests/sim && python3 -m unittest)."""

from __future__ import annotations

import json
import random
import socket
import threading
import unittest
import urllib.parse

from sim import api, costmodel, mongo, server, truth, users_gen, users_lean
from sim.data import ADMIN_KEY, Dataset
from sim.jsonjs import ejson
from sim.state import Options, SimState

NOW = 1717650000          # base time of the data (before the simulator's clock)
MS = 1000000000000
OLD_SORT = {"lac": 1, "_id": 1}


def make_state(users: int = 3000, apps: int = 1, bulk: int = 0, seed: int = 11) -> SimState:
    """A simulator state over lean data."""
    data = Dataset(seed, NOW, apps, users, users_lean.factory, bulk_import=bulk)
    return SimState(data, Options(generator="lean"))


def request(query: dict, sort: dict, skip: int, limit: int, coll: str) -> api.Request:
    """An /o/db request as the server would parse it."""
    params = {"api_key": ADMIN_KEY, "db": "countly", "collection": coll, "filter": json.dumps(query),
              "sort": json.dumps(sort), "limit": str(limit), "skip": str(skip)}
    return api.Request("GET", "/o/db", params, urllib.parse.urlencode(params))


class Page:
    """One answered page: envelope, documents, cost."""

    def __init__(self, resp: api.Response) -> None:
        self.resp = resp
        self.cost = resp.cost
        self.failed = resp.cut
        self.body = None if resp.cut else json.loads("".join(resp.parts))
        self.docs = self.body["collections"] if self.body else []


def db(state: SimState, query: dict, sort: dict, skip: int = 0, limit: int = 100, app: int = 0) -> Page:
    """One /o/db page of an app's users."""
    coll = "app_users" + state.data.app_ids()[app]
    resp = api.handle(state, request(query, sort, skip, limit, coll), None)
    if resp.status != 200:
        raise AssertionError("status %d: %s" % (resp.status, resp.parts))
    return Page(resp)


def old_filter(run_start: int) -> dict:
    """The old agent's all-history filter."""
    return {"$or": [{"lac": {"$lt": run_start}}, {"lac": {"$gte": MS}}, {"lac": {"$exists": False}}]}


def keyset_read(state: SimState, run_start: int, limit: int, app: int = 0) -> list:
    """The new agent's requests for the all-history window: keyset pages on
    lac (a full page is cut before its last lac, which the next page starts
    at; a page of one lac is read by _id), then the users without lac."""
    ids: list = []
    for lower, upper in ((None, run_start), (MS, None)):
        cursor = lower
        while True:
            cond = {}
            if cursor is not None:
                cond["$gte"] = cursor
            if upper is not None:
                cond["$lt"] = upper
            docs = db(state, {"lac": cond}, {"lac": 1}, 0, limit, app).docs
            if len(docs) < limit:
                ids += [d["_id"] for d in docs]
                break
            last = docs[-1]["lac"]
            if docs[0]["lac"] == last:
                ids += by_id(state, {"lac": {"$gte": last, "$lt": last + 1}}, limit, app)
                cursor = last + 1
                continue
            ids += [d["_id"] for d in docs if d["lac"] != last]
            cursor = last
    return ids + by_id(state, {"lac": None}, limit, app)


def by_id(state: SimState, query: dict, limit: int, app: int = 0) -> list:
    """Every user matching query, paged on _id."""
    ids: list = []
    while True:
        paged = dict(query, _id={"$gt": ids[-1]}) if ids else query
        docs = db(state, paged, {"_id": 1}, 0, limit, app).docs
        ids += [d["_id"] for d in docs]
        if len(docs) < limit:
            return ids


class SortLimitTests(unittest.TestCase):
    """The blocking sort of the old paging against the sort memory limit."""

    def test_old_sort_fails_at_large_skip_keyset_does_not(self) -> None:
        """sort {lac:1,_id:1} keeps skip+limit documents in memory: with a
        0.5 MiB limit a skip of 1000 fails, skip 0 does not; the keyset
        requests read every user without a failure."""
        state = make_state()
        state.set_sort_limit_mb(0.5)
        first = db(state, old_filter(NOW), OLD_SORT, 0, 100)
        self.assertFalse(first.failed)
        self.assertTrue(first.cost["blocking_sort"])
        self.assertEqual(first.cost["plan"], "OR(IXSCAN(lac),IXSCAN(lac),IXSCAN(lac))+SORT")
        self.assertEqual(first.cost["find_docs"], 3000)
        deep = db(state, old_filter(NOW), OLD_SORT, 1000, 100)
        self.assertTrue(deep.failed)
        self.assertTrue(deep.cost["failed"])
        self.assertGreater(deep.cost["blocking_sort_bytes"], 0.5 * 1048576)
        self.assertEqual(len(deep.resp.parts), 1)
        self.assertTrue(deep.resp.parts[0].startswith('{"limit":100, "start":1001, "end":1100, "total":'))
        self.assertTrue(deep.resp.parts[0].endswith('"collections":['))
        self.assertTrue(db(state, old_filter(NOW), OLD_SORT, 1000, 100).failed, "a retry fails the same way")
        self.assertEqual(state.cost_snapshot()["sort_failures"], 2)

        state.cost_snapshot(reset=True)
        ids = keyset_read(state, NOW, 100)
        want = [d["_id"] for d in truth.matching_users(state.data, state.data.app_ids()[0], truth.full_filter(NOW))]
        self.assertEqual(sorted(ids), sorted(want))
        self.assertEqual(len(ids), len(set(ids)))
        totals = state.cost_snapshot()
        self.assertEqual(totals["sort_failures"], 0)
        self.assertLess(totals["max_blocking_sort_bytes"], 0.5 * 1048576)
        self.assertLessEqual(totals["docs_examined"], 1.5 * 3000)

    def test_no_limit_means_no_failure(self) -> None:
        """--sort-limit-mb 0: the blocking sort never fails (MongoDB 6 spills)."""
        state = make_state(users=500)
        state.set_sort_limit_mb(0)
        page = db(state, old_filter(NOW), OLD_SORT, 300, 100)
        self.assertFalse(page.failed)
        self.assertEqual(len(page.docs), 100)


class CountTests(unittest.TestCase):
    """count(filter): index-only or document-reading."""

    def test_count_scan_vs_fetch(self) -> None:
        """A range on lac alone is a COUNT_SCAN (keys, no documents); with
        another field the count reads every document in the lac bounds."""
        state = make_state()
        window = {"lac": {"$gte": NOW - 100 * 86400, "$lt": NOW}}
        page = db(state, window, {"lac": 1}, 0, 50)
        self.assertEqual(page.cost["count_plan"], "COUNT_SCAN(lac)")
        self.assertEqual(page.cost["count_docs"], 0)
        self.assertEqual(page.cost["count_keys"], page.body["total"])
        narrowed = db(state, dict(window, cc="DE"), {"lac": 1}, 0, 50)
        self.assertEqual(narrowed.cost["count_plan"], "IXSCAN(lac)+FETCH")
        self.assertEqual(narrowed.cost["count_docs"], page.body["total"])
        self.assertLess(narrowed.body["total"], page.body["total"])
        null = db(state, {"lac": None}, {"_id": 1}, 0, 10)
        self.assertEqual(null.cost["count_plan"], "COUNT_SCAN(lac)")
        self.assertEqual(null.body["total"], sum(1 for d in state.data.users[state.data.app_ids()[0]].docs
                                                 if d.get("lac") is None))
        everything = db(state, {}, {}, 0, 10)
        self.assertEqual((everything.cost["count_plan"], everything.cost["count_keys"],
                          everything.cost["count_docs"]), ("COUNT", 0, 0))
        self.assertEqual(everything.cost["find_docs"], 10)

    def test_keyset_page_reads_only_its_documents(self) -> None:
        """{"lac":{"$gte":C,"$lt":E}} sorted {lac:1}: index order, stops after
        the page, wherever the page is in the window."""
        state = make_state()
        page = db(state, {"lac": {"$gte": NOW - 50 * 86400, "$lt": NOW}}, {"lac": 1}, 0, 100)
        self.assertEqual(page.cost["plan"], "IXSCAN(lac)")
        self.assertFalse(page.cost["blocking_sort"])
        self.assertEqual((page.cost["find_keys"], page.cost["find_docs"]), (100, 100))
        lacs = [d["lac"] for d in page.docs]
        self.assertEqual(lacs, sorted(lacs))
        skipped = db(state, {"lac": {"$gte": NOW - 50 * 86400, "$lt": NOW}}, {"lac": 1}, 200, 100)
        self.assertEqual((skipped.cost["find_docs"], skipped.cost["skip_walked"]), (300, 200))

    def test_old_window_is_a_blocking_sort_of_the_window(self) -> None:
        """{"lac":{"$gte":C,"$lt":R}} with sort {lac:1,_id:1}: the lac index
        gives the bounds, no index gives the sort."""
        state = make_state()
        window = {"lac": {"$gte": NOW - 100 * 86400, "$lt": NOW}}
        page = db(state, window, OLD_SORT, 0, 100)
        self.assertEqual(page.cost["plan"], "IXSCAN(lac)+SORT")
        self.assertEqual(page.cost["find_docs"], page.body["total"])
        self.assertEqual(page.cost["blocking_sort_docs"], page.body["total"])
        state2 = make_state()
        want = sum(state2.data.users[state2.data.app_ids()[0]].size(d) for d in page.docs)
        self.assertEqual(page.cost["blocking_sort_bytes"], want)


class TieTests(unittest.TestCase):
    """Ties of a non-unique sort and the tie-group requests."""

    def test_ties_shuffled_between_requests(self) -> None:
        """sort {lac:1} over a tie group: two requests differ; sort with _id
        does not."""
        state = make_state()
        tie = NOW - 10 * 86400
        query = {"lac": {"$gte": tie, "$lt": tie + 1}}
        one = [d["_id"] for d in db(state, query, {"lac": 1}, 0, 100).docs]
        two = [d["_id"] for d in db(state, query, {"lac": 1}, 0, 100).docs]
        self.assertEqual(len(one), 60)
        self.assertEqual(sorted(one), sorted(two))
        self.assertNotEqual(one, two)
        three = [d["_id"] for d in db(state, query, {"lac": 1, "_id": 1}, 0, 100).docs]
        four = [d["_id"] for d in db(state, query, {"lac": 1, "_id": 1}, 0, 100).docs]
        self.assertEqual(three, four)
        self.assertEqual(three, sorted(three))

    def test_tie_group_request_sorts_at_most_the_group(self) -> None:
        """{"lac":{"$gte":S,"$lt":S+1},"_id":{"$gt":X}} sorted {_id:1}: the lac
        bounds read the group, the blocking sort holds what is after X."""
        state = make_state()
        tie = NOW - 10 * 86400
        group = {"lac": {"$gte": tie, "$lt": tie + 1}}
        first = db(state, group, {"_id": 1}, 0, 25)
        self.assertEqual(first.cost["plan"], "IXSCAN(lac)+SORT")
        self.assertEqual(first.cost["find_docs"], 60)
        self.assertEqual(first.cost["blocking_sort_docs"], 60)
        after = first.docs[-1]["_id"]
        second = db(state, dict(group, _id={"$gt": after}), {"_id": 1}, 0, 25)
        self.assertEqual(second.cost["find_docs"], 60)
        self.assertEqual(second.cost["blocking_sort_docs"], 35)
        self.assertEqual(second.body["total"], 35)
        self.assertEqual(second.cost["count_docs"], 60)
        self.assertTrue(all(d["_id"] > after for d in second.docs))

    def test_bulk_import_makes_a_tie_group(self) -> None:
        """--bulk-import N: N users of each app share lac = data-now - 5 days."""
        state = make_state(users=1000, apps=2, bulk=300)
        bulk = state.data.bulk_import_lac()
        for app in range(2):
            page = db(state, {"lac": bulk}, {"_id": 1}, 0, 1000, app)
            self.assertEqual(page.body["total"], 300)
            self.assertEqual(page.cost["count_plan"], "COUNT_SCAN(lac)")
        coll = state.data.users[state.data.app_ids()[0]]
        self.assertEqual(len(coll.docs), 1000)
        self.assertTrue(all(coll.text(d) == ejson(d) for d in coll.docs[:300]))


class ChurnTests(unittest.TestCase):
    """Users leaving the window while it is paged."""

    def test_churn_moves_users(self) -> None:
        """k users with lac before now get lac = now after each page; the
        index follows; /__sim/churned lists them."""
        state = make_state()
        app = state.data.app_ids()[0]
        coll = state.data.users[app]
        state.churn_k = 5
        db(state, {"lac": {"$lt": NOW}}, {"lac": 1}, 0, 10)
        db(state, {"lac": {"$lt": NOW}}, {"lac": 1}, 0, 10)
        moved = state.churned[app]
        self.assertEqual(len(moved), 10)
        now = int(state.now())
        self.assertTrue(all(coll.by_id[i]["lac"] >= now - 5 for i in moved))
        self.assertTrue(all(coll.by_id[i]["last_sync"] == coll.by_id[i]["lac"] for i in moved))
        state.churn_k = 0
        recent = db(state, {"lac": {"$gte": now - 5, "$lt": MS}}, {"_id": 1}, 0, 100)
        self.assertEqual(sorted(d["_id"] for d in recent.docs), sorted(moved))
        self.assertEqual(recent.body["total"], 10)
        still = db(state, {"lac": {"$lt": NOW}}, {"lac": 1}, 0, 3000)
        self.assertFalse(set(moved) & {d["_id"] for d in still.docs})


class CounterTests(unittest.TestCase):
    """Per-request costs and the cumulative counters."""

    def test_counters_add_up(self) -> None:
        """The totals are the sums of the requests' costs; reset zeroes them."""
        state = make_state(users=800)
        costs = [db(state, q, s, k, lim).cost for q, s, k, lim in (
            ({"lac": {"$lt": NOW}}, {"lac": 1}, 0, 100),
            (old_filter(NOW), OLD_SORT, 200, 100),
            ({"lac": None}, {"_id": 1}, 0, 100),
            ({"cc": "DE"}, {}, 0, 10),
            ({"cc": "DE"}, {"ls": -1}, 0, 10),
            ({"uid": {"$in": ["1", "2"]}}, {"uid": 1}, 0, 10),
        )]
        totals = state.cost_snapshot(reset=True)
        self.assertEqual(totals["db_requests"], len(costs))
        for name in ("count_keys", "count_docs", "find_keys", "find_docs", "blocking_sort_docs", "skip_walked"):
            self.assertEqual(totals[name], sum(c[name] for c in costs), name)
        self.assertEqual(totals["keys_examined"], totals["count_keys"] + totals["find_keys"])
        self.assertEqual(totals["docs_examined"], totals["count_docs"] + totals["find_docs"])
        self.assertEqual(totals["blocking_sorts"], sum(c["blocking_sort"] for c in costs))
        self.assertEqual(totals["max_blocking_sort_bytes"], max(c["blocking_sort_bytes"] for c in costs))
        name = "app_users" + state.data.app_ids()[0]
        self.assertEqual(totals["by_collection"][name]["docs_examined"], totals["docs_examined"])
        self.assertEqual(costs[3]["plan"], "COLLSCAN")
        self.assertEqual(costs[4]["plan"], "FULL_IXSCAN(ls)")
        self.assertEqual(costs[5]["plan"], "IXSCAN(uid)")
        self.assertEqual(state.cost_snapshot()["db_requests"], 0)

    def test_cache_does_not_hide_costs(self) -> None:
        """The same request twice costs twice."""
        state = make_state(users=500)
        one = db(state, old_filter(NOW), OLD_SORT, 100, 100).cost
        two = db(state, old_filter(NOW), OLD_SORT, 100, 100).cost
        self.assertEqual(one, two)
        self.assertEqual(state.cost_snapshot()["docs_examined"], 2 * (one["count_docs"] + one["find_docs"]))


class EngineAgreesWithMongo(unittest.TestCase):
    """The indexed execution returns what a plain evaluation returns."""

    def test_random_filters(self) -> None:
        """Totals and pages (deterministic sorts) equal mongo.find's."""
        data = Dataset(5, NOW, 1, 700, users_gen.make_user)
        coll = data.users[data.app_ids()[0]]
        engine = costmodel.Engine(sort_limit_bytes=0)
        rng = random.Random(3)
        lacs = [d["lac"] for d in coll.docs if isinstance(d.get("lac"), int)]
        for _ in range(300):
            a, b = sorted(rng.sample(lacs, 2))
            query = rng.choice([
                {"lac": {"$gte": a, "$lt": b}}, {"lac": {"$gt": a}}, {"lac": {"$lte": b}}, {"lac": a},
                {"lac": None}, {"lac": {"$exists": False}}, {"lac": {"$in": [a, b, None]}},
                {"lac": {"$gte": a, "$lt": b}, "_id": {"$gt": rng.choice(coll.docs)["_id"]}},
                {"$or": [{"lac": {"$lt": b}}, {"lac": {"$gte": MS}}, {"lac": None}]},
                {"$or": [{"lac": {"$lt": a}}, {"cc": "DE"}]}, {"sc": {"$gt": 100}, "p": "iOS"},
                {"lac": {"$gte": a, "$ne": b}}, {"$and": [{"lac": {"$gte": a}}, {"lac": {"$lt": b}}]},
                {"lac": {"$gte": "a"}}, {"_id": {"$gte": "8"}}, {"ls": {"$lt": a}, "lac": {"$gt": b}},
            ])
            sort = rng.choice([{}, {"lac": 1, "_id": 1}, {"_id": 1}, {"_id": -1}, {"lac": -1, "_id": 1},
                               {"ls": -1, "_id": -1}])
            skip, limit = rng.choice([0, 0, 5, 50]), rng.choice([0, 10, 100])
            total, want = mongo.find(coll.docs, query, sort, skip, limit)
            got = engine.execute(coll, query, sort, skip, limit, random.Random(1))
            self.assertEqual(got.total, total, (query, sort))
            if sort:
                self.assertEqual([d["_id"] for d in got.docs], [d["_id"] for d in want], (query, sort, skip))
            else:
                self.assertEqual(len(got.docs), len(want), (query, skip, limit))

    def test_index_follows_updates(self) -> None:
        """Touching users moves their lac index entries."""
        data = Dataset(6, NOW, 1, 300, users_gen.make_user)
        coll = data.users[data.app_ids()[0]]
        index = coll.index("lac")
        for doc in coll.docs[:40]:
            coll.update(coll.key(doc), {"lac": NOW + 77})
        self.assertEqual(index.count([costmodel.operator_interval("$eq", NOW + 77)]), 40)
        rebuilt = costmodel.FieldIndex("lac", -1)
        rebuilt.build(coll.docs, coll.key)
        self.assertEqual(index.entries, rebuilt.entries)


class LeanGeneratorTests(unittest.TestCase):
    """--generator lean."""

    def test_text_is_ejson_and_sizes(self) -> None:
        """Rendered text equals ejson(doc); 0.5-1.8 KB; the lac mix."""
        data = Dataset(2, NOW, 1, 4000, users_lean.factory)
        coll = data.users[data.app_ids()[0]]
        sizes = []
        for doc in coll.docs:
            self.assertEqual(coll.text(doc), ejson(doc))
            sizes.append(coll.size(doc))
        self.assertGreaterEqual(min(sizes), 500)
        self.assertLessEqual(max(sizes), 1800)
        self.assertTrue(800 <= sum(sizes) / len(sizes) <= 1400)
        docs = coll.docs
        self.assertEqual(sum("lac" not in d for d in docs), 160)
        self.assertEqual(sum("lac" in d and d["lac"] is None for d in docs), 20)
        self.assertEqual(sum(isinstance(d.get("lac"), int) and d["lac"] >= MS for d in docs), 20)
        self.assertEqual(sum(d.get("lac") == NOW - 10 * 86400 for d in docs), 80)
        seconds = [d["lac"] for d in docs if isinstance(d.get("lac"), int) and d["lac"] < MS]
        self.assertGreater(min(seconds), NOW - 401 * 86400)
        self.assertLess(max(seconds), NOW)

    def test_deterministic_and_truth(self) -> None:
        """Same seed, same bytes; truth rows for the SPEC filter include null lac."""
        one = Dataset(4, NOW, 2, 300, users_lean.factory)
        two = Dataset(4, NOW, 2, 300, users_lean.factory)
        for app in one.app_ids():
            self.assertEqual([one.users[app].text(d) for d in one.users[app].docs],
                             [two.users[app].text(d) for d in two.users[app].docs])
        app = one.app_ids()[0]
        rows = truth.Truth(one).users(app, truth.full_filter(NOW), "http://h")
        docs = one.users[app].docs
        self.assertEqual(len(rows), sum(1 for d in docs if d.get("lac") is None or d["lac"] < NOW or d["lac"] >= MS))
        nulls = {d["_id"] for d in docs if "lac" in d and d["lac"] is None}
        self.assertTrue(nulls)
        self.assertTrue(nulls <= {r["cols"]["user_id"] for r in rows})
        self.assertEqual(rows[0]["cols"]["last_activity"], None)


class QuietLogger(server.Logger):
    """A request log that goes nowhere."""

    def __init__(self) -> None:
        super().__init__(None)

    def write(self, text: str) -> None:
        pass


class HttpFailureSignature(unittest.TestCase):
    """The sort-limit failure on the wire."""

    def test_head_chunk_then_close(self) -> None:
        """200, the normal headers, one chunk holding the envelope head, then
        the connection closes without the terminating chunk; twice."""
        state = make_state(users=600)
        state.set_sort_limit_mb(0.1)
        srv = server.Server(state, None, QuietLogger())
        port = srv.listen(0)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        coll = "app_users" + state.data.app_ids()[0]
        target = "/o/db?" + request(old_filter(NOW), OLD_SORT, 200, 100, coll).raw_query
        answers = []
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target).encode())
                data = b""
                while True:
                    more = sock.recv(65536)
                    if not more:
                        break
                    data += more
            answers.append(data)
        head, _, body = answers[0].partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertIn(b"Content-Type: application/json; charset=utf-8", head)
        size, _, rest = body.partition(b"\r\n")
        envelope = rest[: int(size, 16)]
        self.assertEqual(rest, envelope + b"\r\n")
        self.assertTrue(envelope.startswith(b'{"limit":100, "start":201, "end":300, "total":'))
        self.assertTrue(envelope.endswith(b'"collections":['))
        self.assertFalse(body.endswith(b"0\r\n\r\n"))
        self.assertEqual(answers[0].partition(b"\r\n\r\n")[2], answers[1].partition(b"\r\n\r\n")[2])
        self.assertTrue(state.log[-1]["cost"]["failed"])


if __name__ == "__main__":
    unittest.main()
