#!/usr/bin/env python3
"""fault_check.py - output checks of the fault-injection suite.

  fault_check.py state --dir OUT --truth USERS.jsonl --apps ID,ID,...
      After a run (failed or not): state.json's users_csv_bytes equals the
      size of users.csv, the file ends with a complete row and parses
      strictly (tests/pipeline/csvcheck.py: no torn row), and its rows are
      exactly what the state claims, in reading order: every row of each
      app with a cursor, then the first run.skip rows of the app of the
      interrupted window (none when there is no run), nothing of the rest.
      Prints key=value lines; exit status 0 only when all of that holds.

  fault_check.py unify --csv IN --out OUT --allowed ISO[,ISO...] [--skip N]
      Rewrites IN with one processed_at value (the first allowed) into OUT,
      after checking every row's processed_at is one of the allowed run
      starts, so that compare.py can judge the rows of several runs; with
      --skip, only the rows after the first N. Prints rows=, processed_at=.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))
import csvcheck  # noqa: E402


def load_truth(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cmd_state(args):
    problems = []
    with open(os.path.join(args.dir, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
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
    expected = []
    for app in args.apps.split(","):
        if app in cursors:
            expected += [(app, k) for k in by_app.get(app, [])]
        elif run and run["app"] == app:
            expected += [(app, k) for k in by_app.get(app, [])[: run["skip"]]]
    got = [(r[ai], r[ki]) for r in rows]
    print("rows=%d" % len(got))
    print("expected_rows=%d" % len(expected))
    print("complete_apps=%d" % len(cursors))
    print("run_app=%s" % (run["app"] if run else "-"))
    print("run_skip=%s" % (run["skip"] if run else "-"))
    if got != expected:
        for n, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                problems.append("row %d: %s, expected %s" % (n + 1, g, e))
                break
        else:
            problems.append("%d rows, expected %d" % (len(got), len(expected)))
    for p in problems[:5]:
        print("  %s" % p)
    return 1 if problems else 0


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
    u = sub.add_parser("unify")
    u.add_argument("--csv", required=True)
    u.add_argument("--out", required=True)
    u.add_argument("--allowed", required=True)
    u.add_argument("--skip", type=int, default=0)
    args = ap.parse_args()
    try:
        return cmd_state(args) if args.cmd == "state" else cmd_unify(args)
    except csvcheck.CsvError as e:
        print("csv_error=%s" % e)
        return 1
    except (OSError, ValueError, KeyError) as e:
        print("error=%s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
