#!/usr/bin/env python3
"""idcheck.py - which users a users.csv holds, against the simulator's ids.

  idcheck.py --csv users.csv --ids IDS.json [--churned CHURNED.json]
             [--processed-at ISO] [--cover CHURNED.json]

IDS.json is the simulator's /__sim/ids answer ({"<app id>": [[_id, lac], ...]}):
the users of the window when the run started. Every one of them must be in
the CSV exactly once (as a row of its app), and no other user. Users listed
in CHURNED.json ({"<app id>": [_id, ...]}: they left the window while the
run read it) may be there at most once instead. With --processed-at, only
rows of that run count. --cover: instead, every user of CHURNED.json must
be among the rows (of that run): the next run reads the users that left.
Prints key=value lines; exit status 0 only when all of that holds.
"""

import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))
import csvcheck  # noqa: E402


def load_rows(path, processed_at):
    header, rows = csvcheck.read_csv(path)
    ki, ai, pi = header.index("user_id"), header.index("app_id"), header.index("processed_at")
    seen = collections.Counter()
    for r in rows:
        if processed_at is None or r[pi] == processed_at:
            seen[(r[ai], r[ki])] += 1
    return seen


def load_set(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = set()
    for app, ids in doc.items():
        for entry in ids:
            out.add((app, entry[0] if isinstance(entry, list) else entry))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--ids")
    ap.add_argument("--churned")
    ap.add_argument("--cover")
    ap.add_argument("--processed-at")
    args = ap.parse_args()
    seen = load_rows(args.csv, args.processed_at)
    print("rows=%d" % sum(seen.values()))
    if args.cover:
        want = load_set(args.cover)
        missing = [k for k in want if seen[k] == 0]
        print("cover=%d" % len(want))
        print("missing=%d" % len(missing))
        for k in sorted(missing)[:5]:
            print("  missing %s %s" % k)
        return 1 if missing else 0
    want = load_set(args.ids)
    churned = load_set(args.churned) if args.churned else set()
    missing, duplicates, unexpected, churned_twice = [], [], [], []
    for k in want:
        n = seen.get(k, 0)
        if k in churned:
            if n > 1:
                churned_twice.append(k)
        elif n == 0:
            missing.append(k)
        elif n > 1:
            duplicates.append(k)
    unexpected = [k for k in seen if k not in want]
    print("users=%d" % len(want))
    print("churned=%d" % len(churned & want))
    print("churned_written=%d" % sum(1 for k in churned & want if seen.get(k, 0)))
    print("missing=%d" % len(missing))
    print("duplicates=%d" % len(duplicates))
    print("unexpected=%d" % len(unexpected))
    print("churned_twice=%d" % len(churned_twice))
    for what, keys in (("missing", missing), ("duplicate", duplicates),
                       ("unexpected", unexpected), ("churned twice", churned_twice)):
        for k in sorted(keys)[:3]:
            print("  %s %s %s" % ((what,) + k))
    return 1 if missing or duplicates or unexpected or churned_twice else 0


if __name__ == "__main__":
    sys.exit(main())
