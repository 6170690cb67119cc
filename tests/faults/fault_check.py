#!/usr/bin/env python3
"""fault_check.py - output checks of the fault-injection suite.

  fault_check.py state --dir OUT --truth USERS.jsonl --apps ID,ID,... --raw RAW.json
      After a run (failed or not): state.json's users_csv_bytes equals the
      size of users.csv, the file ends with a complete row and parses
      strictly (tests/pipeline/csvcheck.py: no torn row), and its rows are
      exactly what the state claims, app by app in reading order: every
      user of each app with a cursor, then the users of the interrupted
      window that lie before its saved position (run.range, run.lo,
      run.tie, run.after; window.h), each once; nothing of the rest. RAW
      maps each app to its users' raw lac values ({"app": {"_id": lac}}),
      which the truth's rounded timestamps cannot tell. Prints key=value
      lines (run_rows: the interrupted app's rows); exit status 0 only when
      all of that holds.

  fault_check.py raw --sim URL --ca CA --key KEY --apps ID,... --out RAW.json
      Reads every user's raw lac from the simulator's /o/db.

  fault_check.py nth-null --raw RAW.json --app ID (--n N | --count)
      The N-th (0-based) _id, in _id order, of the app's users without lac,
      or how many there are.

  fault_check.py unify --csv IN --out OUT --allowed ISO[,ISO...] [--skip N]
      Rewrites IN with one processed_at value (the first allowed) into OUT,
      after checking every row's processed_at is one of the allowed run
      starts, so that compare.py can judge the rows of several runs; with
      --skip, only the rows after the first N. Prints rows=, processed_at=.
"""

import argparse
import json
import math
import os
import ssl
import sys
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))
import csvcheck  # noqa: E402


def load_truth(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


MILLIS_MIN = 1000000000000


def before_position(run, lac, uid):
    """Whether a user of the interrupted window lies before its position."""
    if run["range"] == "done":
        return True
    ranges = {"null": 0, "seconds": 1, "millis": 2}
    have = 0 if lac is None else (2 if lac >= MILLIS_MIN and run["all_history"] else 1)
    want = ranges[run["range"]]
    if have != want:
        return have < want
    if want == 0:
        return run["after"] is not None and uid <= run["after"]
    second = math.floor(lac)
    if run["lo"] is None or second > run["lo"]:
        return False
    if second < run["lo"]:
        return True
    return run["tie"] and run["after"] is not None and uid <= run["after"]


def cmd_state(args):
    problems = []
    with open(os.path.join(args.dir, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    with open(args.raw, encoding="utf-8") as f:
        raw = json.load(f)
    path = os.path.join(args.dir, "users.csv")
    size = os.path.getsize(path)
    committed = state.get("users_csv_bytes")
    print("users_csv_bytes=%s" % committed)
    print("size=%d" % size)
    if committed != size:
        problems.append("users_csv_bytes %s != size of users.csv %d" % (committed, size))
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        problems.append("users.csv does not end with a complete row")
    try:
        header, rows = csvcheck.read_csv(path)
    except csvcheck.CsvError as e:
        print("csv_error=%s" % e)
        return 1
    ki, ai = header.index("user_id"), header.index("app_id")
    truth = load_truth(args.truth)
    by_app = {}
    for t in truth:
        by_app.setdefault(t["cols"]["app_id"], []).append(t["cols"]["user_id"])
    cursors = state.get("apps", {})
    run = state.get("run")
    order = args.apps.split(",")
    expected = {}
    for app in order:
        if app in cursors:
            expected[app] = set(by_app.get(app, []))
        elif run and run["app"] == app:
            lacs = raw[app]
            expected[app] = {k for k in by_app.get(app, []) if before_position(run, lacs[k], k)}
    got = {}
    last_app = -1
    for r in rows:
        app, key = r[ai], r[ki]
        rank = order.index(app) if app in order else len(order)
        if rank < last_app:
            problems.append("a row of app %s after rows of a later app" % app)
        last_app = max(last_app, rank)
        if key in got.setdefault(app, set()):
            problems.append("user %s of app %s written twice" % (key, app))
        got[app].add(key)
    print("rows=%d" % len(rows))
    print("expected_rows=%d" % sum(len(v) for v in expected.values()))
    print("complete_apps=%d" % len(cursors))
    print("run_app=%s" % (run["app"] if run else "-"))
    print("run_rows=%s" % (len(got.get(run["app"], ())) if run else "-"))
    for app in set(expected) | set(got):
        want, have = expected.get(app, set()), got.get(app, set())
        if want != have:
            problems.append("app %s: %d rows missing, %d not expected (e.g. %s)" % (
                app, len(want - have), len(have - want), sorted((want ^ have))[:2]))
    for p in problems[:5]:
        print("  %s" % p)
    return 1 if problems else 0


def cmd_raw(args):
    ctx = ssl.create_default_context(cafile=args.ca)
    raw = {}
    for app in args.apps.split(","):
        query = urllib.parse.urlencode({"api_key": args.key, "db": "countly",
                                        "collection": "app_users" + app, "limit": 1000000})
        with urllib.request.urlopen(args.sim + "/o/db?" + query, context=ctx) as resp:
            docs = json.loads(resp.read())["collections"]
        raw[app] = {d["_id"]: d.get("lac") for d in docs}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(raw, f)
    return 0


def cmd_nth_null(args):
    with open(args.raw, encoding="utf-8") as f:
        lacs = json.load(f)[args.app]
    ids = sorted(k for k, v in lacs.items() if v is None)
    print(len(ids) if args.count else ids[args.n])
    return 0


def cell(v):
    return "" if v is None else '"' + v.replace('"', '""') + '"'


def cmd_unify(args):
    allowed = args.allowed.split(",")
    header, rows = csvcheck.read_csv(args.csv)
    pi = header.index("processed_at")
    rows = rows[args.skip:]
    seen = sorted({r[pi] for r in rows}, key=str)
    bad = [v for v in seen if v not in allowed]
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            r = list(r)
            r[pi] = allowed[0]
            f.write(",".join(cell(v) for v in r) + "\n")
    print("rows=%d" % len(rows))
    print("processed_at=%s" % " ".join(map(str, seen)))
    if bad:
        print("  processed_at not a run start: %s" % bad[:3])
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("state")
    s.add_argument("--dir", required=True)
    s.add_argument("--truth", required=True)
    s.add_argument("--apps", required=True)
    s.add_argument("--raw", required=True)
    r = sub.add_parser("raw")
    r.add_argument("--sim", required=True)
    r.add_argument("--ca", required=True)
    r.add_argument("--key", required=True)
    r.add_argument("--apps", required=True)
    r.add_argument("--out", required=True)
    n = sub.add_parser("nth-null")
    n.add_argument("--raw", required=True)
    n.add_argument("--app", required=True)
    n.add_argument("--n", type=int, default=0)
    n.add_argument("--count", action="store_true", help="print how many there are")
    u = sub.add_parser("unify")
    u.add_argument("--csv", required=True)
    u.add_argument("--out", required=True)
    u.add_argument("--allowed", required=True)
    u.add_argument("--skip", type=int, default=0)
    args = ap.parse_args()
    try:
        return {"state": cmd_state, "raw": cmd_raw, "nth-null": cmd_nth_null,
                "unify": cmd_unify}[args.cmd](args)
    except csvcheck.CsvError as e:
        print("csv_error=%s" % e)
        return 1
    except (OSError, ValueError, KeyError) as e:
        print("error=%s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
