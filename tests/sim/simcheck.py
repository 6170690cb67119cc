#!/usr/bin/env python3
"""simcheck.py - multi-request checks of a running simulator for test_sim.sh.

  simcheck.py BASE_URL CA_FILE paging|touch|data|keyset

Prints one line per check: "PASS name" or "FAIL name: details".
"""

from __future__ import annotations

import hashlib
import json
import ssl
import sys
import urllib.parse
import urllib.request

SORT = '{"lac":1,"_id":1}'


class Sim:
    """A tiny client of the simulator (API and control)."""

    def __init__(self, base: str, ca: str) -> None:
        """Base URL like https://localhost:PORT and the CA to trust."""
        self.base = base
        self.ctx = ssl.create_default_context(cafile=ca) if base.startswith("https") else None
        self.keys = self.get_json("/__sim/keys")

    def get(self, path: str, **params: str) -> tuple:
        """(status, body text) of a GET."""
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, context=self.ctx, timeout=60) as resp:
                return resp.status, resp.read().decode("utf-8", "surrogatepass")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def get_json(self, path: str, **params: str) -> object:
        """Parsed JSON of a GET that must succeed."""
        status, body = self.get(path, **params)
        if status != 200:
            raise RuntimeError("%s -> %d %s" % (path, status, body[:200]))
        return json.loads(body)

    def db(self, collection: str, query: dict, skip: int, limit: int, sort: str = SORT) -> dict:
        """One /o/db page."""
        return self.get_json("/o/db", api_key=self.keys["admin"], db="countly", collection=collection,
                             filter=json.dumps(query), sort=sort, skip=str(skip), limit=str(limit))

    def truth(self, **params: str) -> list:
        """Truth lines."""
        status, body = self.get("/__sim/truth", **params)
        if status != 200:
            raise RuntimeError("truth -> %d %s" % (status, body[:200]))
        return [json.loads(line) for line in body.split("\n") if line]


def report(name: str, ok: bool, detail: str = "") -> None:
    """Print one check result."""
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, ascii(detail)))


def sort_key(doc: dict) -> tuple:
    """(lac, _id) for docs that all have numeric lac."""
    return (doc["lac"], doc["_id"])


def read_all(sim: Sim, collection: str, query: dict, limit: int) -> tuple:
    """(docs from paging with skip, headers) until end >= total."""
    docs, heads, skip = [], [], 0
    while True:
        page = sim.db(collection, query, skip, limit)
        heads.append(page)
        docs += page["collections"]
        skip += limit
        if page["end"] >= page["total"] or not page["collections"]:
            return docs, heads


def check_paging(sim: Sim) -> None:
    """Pages concatenate to the full sorted window; totals and truth agree."""
    info = sim.get_json("/__sim/info")
    app = info["apps"][0]
    coll = "app_users" + app
    now = info["now"]
    window = {"lac": {"$gte": now - 100 * 86400, "$lt": now}}
    paged, heads = read_all(sim, coll, window, 97)
    whole = sim.db(coll, window, 0, 100000)
    report("paging.total_matches_whole", heads[0]["total"] == whole["total"] == len(whole["collections"]),
           "%d/%d/%d" % (heads[0]["total"], whole["total"], len(whole["collections"])))
    report("paging.concatenation", [d["_id"] for d in paged] == [d["_id"] for d in whole["collections"]],
           "%d paged vs %d" % (len(paged), len(whole["collections"])))
    report("paging.sorted_lac_id", paged == sorted(paged, key=sort_key))
    report("paging.within_window", all(now - 100 * 86400 <= d["lac"] < now for d in paged))
    pages_ok = all(h["limit"] == 97 and h["start"] == 97 * i + 1 and h["curPage"] == i + 1
                   and h["pages"] == -(-h["total"] // 97) for i, h in enumerate(heads))
    report("paging.header_fields", pages_ok)
    past = sim.db(coll, window, whole["total"] + 10, 97)
    report("paging.past_end_empty", past["collections"] == [] and past["start"] > past["end"], str(past)[:200])
    truth = sim.truth(table="users", app=app, gte=str(now - 100 * 86400), lt=str(now))
    report("paging.truth_same_users", [t["cols"]["user_id"] for t in truth] == [d["_id"] for d in paged],
           "%d truth rows" % len(truth))
    full = {"$or": [{"lac": {"$lt": now}}, {"lac": {"$gte": 1000000000000}}, {"lac": None}]}
    all_docs, _ = read_all(sim, coll, full, 250)
    truth_full = sim.truth(table="users", app=app, full=str(now))
    report("paging.full_filter_matches_truth",
           [t["cols"]["user_id"] for t in truth_full] == [d["_id"] for d in all_docs],
           "%d vs %d" % (len(truth_full), len(all_docs)))


def check_touch(sim: Sim) -> None:
    """Touched users get lac = now and appear in a later window."""
    info = sim.get_json("/__sim/info")
    app = info["apps"][1]
    before = info["now"]
    touched = sim.get_json("/__sim/touch", app=app, count="5", seed="7")
    report("touch.five_ids", len(touched["touched"]) == 5 and touched["lac"] >= before, str(touched)[:200])
    window = {"lac": {"$gte": touched["lac"], "$lt": touched["lac"] + 3600}}
    docs, _ = read_all(sim, "app_users" + app, window, 2)
    got = {d["_id"] for d in docs}
    report("touch.in_later_window", set(touched["touched"]) <= got, "%s not in %s" % (touched["touched"], got))
    again = sim.get_json("/__sim/touch", app=app, count="5", seed="7")
    report("touch.deterministic", again["touched"] == touched["touched"])


def check_data(sim: Sim) -> None:
    """The generated data has the shapes the brief asks for."""
    info = sim.get_json("/__sim/info")
    now = info["now"]
    no_lac = millis = recent = total = sha_ok = 0
    apps = {a["_id"].replace("ObjectId(", "").rstrip(")"): a
            for a in sim.db("apps", {}, 0, 100)["collections"]}
    for app_id in info["apps"]:
        docs, _ = read_all(sim, "app_users" + app_id, {}, 1000)
        key = apps[app_id]["key"]
        for d in docs:
            total += 1
            lac = d.get("lac")
            no_lac += "lac" not in d
            millis += isinstance(lac, int) and lac >= 10 ** 12
            recent += isinstance(lac, int) and now - 400 * 86400 <= lac <= now
            did = d.get("did")
            sha_ok += isinstance(did, str) and d["_id"] == hashlib.sha1((key + did).encode("utf-8", "surrogatepass")).hexdigest()
    report("data.users_without_lac", no_lac >= 1, "%d" % no_lac)
    report("data.users_with_ms_lac", millis >= 1, "%d" % millis)
    report("data.most_lac_recent_seconds", recent >= total * 0.8, "%d of %d" % (recent, total))
    report("data.user_id_sha1_app_key_did", sha_ok >= total * 0.8, "%d of %d" % (sha_ok, total))
    report("data.app_ids_24_hex", all(len(a) == 24 for a in apps), str(list(apps)))


def keyset_ids(sim: Sim, coll: str, run_start: int, limit: int) -> tuple:
    """(_ids, requests) of the keyset requests of the all-history window:
    lac pages sorted {lac:1} (a full page cut before its last lac, where
    the next starts; a page of one lac read by _id), then users without lac."""
    ids: list = []
    requests = 0

    def by_id(query: dict) -> None:
        nonlocal requests
        got: list = []
        while True:
            paged = dict(query, _id={"$gt": got[-1]}) if got else query
            docs = sim.db(coll, paged, 0, limit, sort='{"_id":1}')["collections"]
            requests += 1
            got += [d["_id"] for d in docs]
            if len(docs) < limit:
                ids.extend(got)
                return

    for lower, upper in ((None, run_start), (1000000000000, None)):
        cursor = lower
        while True:
            cond = {}
            if cursor is not None:
                cond["$gte"] = cursor
            if upper is not None:
                cond["$lt"] = upper
            docs = sim.db(coll, {"lac": cond}, 0, limit, sort='{"lac":1}')["collections"]
            requests += 1
            if len(docs) < limit:
                ids += [d["_id"] for d in docs]
                break
            last = docs[-1]["lac"]
            if docs[0]["lac"] == last:
                by_id({"lac": {"$gte": last, "$lt": last + 1}})
                cursor = last + 1
                continue
            ids += [d["_id"] for d in docs if d["lac"] != last]
            cursor = last
    by_id({"lac": None})
    return ids, requests


def check_keyset(sim: Sim) -> None:
    """Keyset paging reads every user of the SPEC window once, cheaply, and
    never hits a small sort memory limit; skip paging does."""
    info = sim.get_json("/__sim/info")
    app = info["apps"][0]
    coll = "app_users" + app
    now = info["now"]
    users = info["users"][app]
    sim.get_json("/__sim/sort-limit", mb="0.5")
    sim.get_json("/__sim/cost-reset")
    ids, requests = keyset_ids(sim, coll, now, 200)
    cost = sim.get_json("/__sim/cost", reset="1")
    truth = [t["cols"]["user_id"] for t in sim.truth(table="users", app=app, full=str(now))]
    report("keyset.every_user_once", sorted(ids) == sorted(truth) and len(ids) == len(set(ids)),
           "%d read, %d unique, %d truth" % (len(ids), len(set(ids)), len(truth)))
    report("keyset.requests_counted", cost["db_requests"] == requests, "%s vs %d" % (cost["db_requests"], requests))
    report("keyset.no_sort_failure", cost["sort_failures"] == 0, str(cost))
    # a tie group of G > limit users (--bulk-import) is read by _id: each
    # of its ceil(G/limit) pages counts and sorts the whole group again
    group = info["bulk_import"]["users"]
    bound = 1.5 * users + (2 * group * -(-group // 200) if group > 200 else 0)
    report("keyset.docs_examined_bounded", cost["docs_examined"] <= bound,
           "%d docs for %d users (bound %d)" % (cost["docs_examined"], users, bound))
    log = sim.get_json("/__sim/log", n="1")["requests"][-1]
    report("keyset.cost_in_log", log.get("cost", {}).get("plan", "").startswith("IXSCAN(lac)"), str(log)[:300])
    full = {"$or": [{"lac": {"$lt": now}}, {"lac": {"$gte": 1000000000000}}, {"lac": None}]}
    sim.get_json("/__sim/sort-limit", mb="0.2")
    try:
        read_all(sim, coll, full, 200)
        failed = False
    except Exception:  # the cut body: urllib raises IncompleteRead
        failed = True
    cost = sim.get_json("/__sim/cost", reset="1")
    report("keyset.skip_paging_fails_at_limit", failed and cost["sort_failures"] == 1, str(cost)[:300])
    sim.get_json("/__sim/sort-limit", mb="100")


def main(argv: list) -> int:
    """Run one group of checks."""
    sim = Sim(argv[1], argv[2])
    {"paging": check_paging, "touch": check_touch, "data": check_data, "keyset": check_keyset}[argv[3]](sim)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
