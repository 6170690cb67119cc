#!/usr/bin/env python3
"""sync_pages.py - the exact responses a first countly-sync run requests, as files.

For tests/bench/sync.sh: a private nginx serves these files so that the
benchmark measures countly-sync, not a Python server. The records come from
tests/pipeline/gen_body.py (imported: user_record, app_db_record,
group_record, Writer, db_header); this file only arranges them into the
pages the agent asks for (src/agent.c):

  plugins.json                       GET /o/system/plugins
  db/apps/0.json                     GET /o/db?db=countly&collection=apps&...&skip=0
  groups.json                        GET /o/groups?noescape=true
  db/app_users<id>/<skip>.json       GET /o/db?...&collection=app_users<id>&...&skip=<skip>

Users of each app are sorted as the server sorts them for
sort={"lac":1,"_id":1} (missing or null lac first, then lac, then _id), and
every user's lac lies before the data time (--data-now, in the past), so the
all-history window of a first run (initial_sync_days 0) holds all of them.
The skips are those of the agent's overlapping pages: 0, then L-1, 2(L-1), ...
(each page after the first starts at the previous page's last record). Each
page is the real /o/db envelope with limit/start/end/total/pages/curPage.

meta.json (written last: its presence means the folder is complete) lists the
app ids, users per app, groups and the page count. Apps are generated in
parallel in chunks of CHUNK users (one process per CPU), each chunk from its
own seed, so the output depends only on the arguments. Standard library only.
"""

import argparse
import json
import multiprocessing
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))
import gen_body as gb  # noqa: E402  (tests/pipeline/gen_body.py)

PLUGINS = ["plugins", "locale", "browser", "sources", "views", "crashes", "push", "dbviewer",
           "groups", "users", "drill"]


def app_id(index):
    """The id gen_body.app_db_record gives app number index."""
    return "64b0ac10%016x" % (index + 1)


def sort_key(rec):
    """MongoDB's order for {"lac":1,"_id":1}: missing/null lac first."""
    present, lac = rec.last("lac")
    _, uid = rec.last("_id")
    if not present or lac is None:
        return (0, 0, uid)
    return (1, int(float(lac.text)), uid)


def skips(total, limit):
    """The skip of every page the agent requests for a window of total users."""
    out, skip = [], 0
    while True:
        out.append(skip)
        if skip + limit >= total:  # short page or end >= total: the agent stops
            return out
        skip += limit - 1 if limit > 1 else limit


CHUNK = 5000  # users generated per task (independent seeds: parallel and deterministic)


def app_key_of(seed, index):
    return gb.hexid(random.Random(seed * 1000 + index), 40)


def gen_users(job):
    """One chunk of one app's users: [(sort key, wire text)]."""
    index, first, count, seed, nasty, base_time = job
    rng = random.Random("%d/%d/%d" % (seed, index, first))
    writer = gb.Writer(random.Random("w%d/%d/%d" % (seed, index, first)), html=False)
    app_key = app_key_of(seed, index)
    docs = []
    for i in range(first, first + count):
        hostile = rng.random() < nasty
        rec = gb.user_record(rng, i, app_key, hostile, base_time, [])
        writer.hostile = hostile
        docs.append((sort_key(rec), writer.value(rec)))
    return index, docs


def write_app_users(out_dir, index, docs, users, limit):
    """Sorts one app's users and writes its pages; returns (pages, bytes)."""
    docs.sort(key=lambda d: d[0])
    ids = [d[0][2] for d in docs]
    assert len(set(ids)) == len(ids) == users, "duplicate or missing user _id"
    texts = [d[1] for d in docs]
    folder = os.path.join(out_dir, "db", "app_users" + app_id(index))
    os.makedirs(folder, exist_ok=True)
    pages = -(-users // limit) if users else 0
    size = 0
    plan = skips(users, limit)
    for skip in plan:
        end = min(skip + limit, users)
        body = (gb.db_header(limit, skip + 1, end, users, pages, -(-(skip + 1) // limit)) +
                ",".join(texts[skip:end]) + "]}")
        data = body.encode("utf-8")
        with open(os.path.join(folder, "%d.json" % skip), "wb") as f:
            f.write(data)
        size += len(data)
    return len(plan), size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--apps", type=int, default=3)
    ap.add_argument("--users-per-app", type=int, required=True)
    ap.add_argument("--limit", type=int, default=1000, help="max_records_per_page")
    ap.add_argument("--groups", type=int, default=5)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--nasty", type=float, default=0.1, help="fraction of hostile users")
    ap.add_argument("--data-now", type=int, default=1717650000,
                    help="base time of the data (every lac lies before it)")
    args = ap.parse_args()
    if not 1 <= args.limit <= 1000:
        ap.error("--limit must be 1..1000 (max_records_per_page)")
    out = args.out_dir
    os.makedirs(os.path.join(out, "db", "apps"), exist_ok=True)

    rng = random.Random(args.seed)
    base_time = args.data_now - 3600
    writer = gb.Writer(random.Random(args.seed + 1), html=False)
    apps = [writer.value(gb.app_db_record(rng, i, False, base_time, []))
            for i in range(args.apps)]
    with open(os.path.join(out, "db", "apps", "0.json"), "w", encoding="utf-8") as f:
        f.write(gb.db_header(args.limit, 1, args.apps, args.apps, 1, 1) + ",".join(apps) + "]}")
    ids = [app_id(i) for i in range(args.apps)]
    html = gb.Writer(random.Random(args.seed + 2), html=True)
    groups = [html.value(gb.group_record(rng, i, False, base_time, ids))
              for i in range(args.groups)]
    with open(os.path.join(out, "groups.json"), "w", encoding="utf-8") as f:
        f.write('{"result":[' + ",".join(groups) + "]}")
    with open(os.path.join(out, "plugins.json"), "w") as f:
        json.dump(PLUGINS, f)

    users = args.users_per_app
    jobs = [(i, first, min(CHUNK, users - first), args.seed, args.nasty, base_time)
            for i in range(args.apps) for first in range(0, users, CHUNK)]
    per_app = {i: [] for i in range(args.apps)}
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    if workers > 1:
        with multiprocessing.Pool(workers) as pool:
            for index, docs in pool.imap(gen_users, jobs):
                per_app[index].extend(docs)
    else:
        for job in jobs:
            index, docs = gen_users(job)
            per_app[index].extend(docs)
    results = []
    for i in range(args.apps):
        results.append((app_id(i),) + write_app_users(out, i, per_app.pop(i), users, args.limit))
    meta = {"apps": [r[0] for r in results], "users_per_app": args.users_per_app,
            "limit": args.limit, "groups": args.groups, "seed": args.seed, "nasty": args.nasty,
            "data_now": args.data_now, "user_pages": sum(r[1] for r in results),
            "user_bytes": sum(r[2] for r in results)}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("%d apps x %d users: %d user pages, %.1f MB" % (
        args.apps, args.users_per_app, meta["user_pages"], meta["user_bytes"] / 1e6))


if __name__ == "__main__":
    sys.exit(main())
