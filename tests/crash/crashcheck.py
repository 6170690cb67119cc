#!/usr/bin/env python3
"""crashcheck.py - checks for the kill -9 suite (tests/crash/test_kill9.sh).

  crashcheck.py schedule --seed S --count N --t-run SEC --t-start SEC
      N lines "DELAY PAGE": kill delays in seconds (a seeded mixture:
      start-up, inside a page, anywhere in the run) and a
      max_records_per_page in 100..500 for each run
  crashcheck.py probe --dir OUT [--prev-bytes N] [--state-seen 0|1]
      what a killed run left on disk, as key=value lines: state (ok,
      missing or "corrupt: why"), bytes (the state's users_csv_bytes), size
      (users.csv), tail (none, header, rows:K = whole rows past the committed size,
      torn = a partial row), prefix_ok (the committed size ends a row),
      apps/groups (ok:N rows, missing, "bad: why"), tmp (the *.tmp files
      written since --since-us; stale_tmp: older ones, left by earlier kills),
      category, and problems= followed by one "problem ..." line each
  crashcheck.py users --csv F --truth T [--keys-out K] [--from-byte B]
      like tests/e2e/compare.py (strict RFC 4180 reader, every truth row
      exactly once, every column by csvcheck's rules) except that
      processed_at may take one value per run: each must be ISO-8601 UTC
      and they must not decrease down the file. With --from-byte, only the
      rows after byte B (the rows appended since) are compared.
      key=value lines, then details; exit 0 only when everything matches.

Standard library only (plus tests/pipeline/csvcheck.py's reader and rules).
"""

import argparse
import json
import math
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import csvcheck  # noqa: E402
import compare  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MAX_DETAILS = 12


# ---- schedule ----------------------------------------------------------------------------

def cmd_schedule(args):
    rng = random.Random(args.seed)
    t_run = max(args.t_run, 0.5)
    t_start = min(max(args.t_start, 0.005), t_run / 4)
    for _ in range(args.count):
        u = rng.random()
        mode = "timed"
        if u < 0.25:  # start-up: configuration, TLS, probe, apps, groups, first commit
            d = rng.uniform(0.001, 2.5 * t_start)
        elif u < 0.70:  # a page or a few in: log-uniform so short ones are common
            lo, hi = t_start, t_start + t_run / 10
            d = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        elif u < 0.90:  # then at the next state commit (state.json.tmp seen)
            lo, hi = t_start, t_start + t_run / 5
            d = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            mode = "commit"
        else:  # deep into a run (a round, one full sync, should take ~10-20 kills)
            d = rng.uniform(t_run / 10, t_run / 3)
        print("%.4f %d %s" % (d, rng.randint(100, 500), mode))
    return 0


# ---- probe: what a kill left on disk ------------------------------------------------------

def parse_rows(data, header_line):
    """Whole rows in data (bytes) under the header line, or None when torn."""
    if not data:
        return 0
    if not data.endswith(b"\n"):
        return None
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "crashcheck-tail-%d.csv" % os.getpid())
    try:
        with open(path, "wb") as f:
            f.write(header_line + data)
        try:
            _, rows = csvcheck.read_csv(path)
        except csvcheck.CsvError:
            return None
        return len(rows)
    finally:
        os.unlink(path)


def check_table(path, expect_rows):
    if not os.path.exists(path):
        return "missing"
    try:
        _, rows = csvcheck.read_csv(path)
    except csvcheck.CsvError as e:
        return "bad: %s" % e
    if expect_rows is not None and len(rows) != expect_rows:
        return "bad: %d rows, expected %d" % (len(rows), expect_rows)
    return "ok:%d" % len(rows)


def cmd_probe(args):
    d = args.dir
    out, problems = {}, []
    state_path = os.path.join(d, "state.json")
    users_path = os.path.join(d, "users.csv")
    state = None
    if not os.path.exists(state_path):
        out["state"] = "missing"
        if args.state_seen:
            problems.append("state.json vanished after it had been committed")
    else:
        try:
            with open(state_path, "rb") as f:
                state = json.loads(f.read().decode("utf-8"))
            if not isinstance(state, dict) or state.get("version") != 2 or \
                    not isinstance(state.get("users_csv_bytes"), int):
                raise ValueError("no version 2 / users_csv_bytes")
            out["state"] = "ok"
        except (ValueError, UnicodeDecodeError) as e:
            out["state"] = "corrupt: %s" % str(e).replace("\n", " ")
            problems.append("state.json does not parse: %s" % e)
            state = None
    committed = state["users_csv_bytes"] if state else 0
    out["bytes"] = committed
    out["run_active"] = int(bool(state and state.get("run")))
    run = state.get("run") if state else None
    # where the committed paging position stands (window.h): a tie second
    # is read by _id, everything else by lac seconds
    out["position"] = "-" if not run else ("tie" if run.get("tie") else run.get("range", "?"))
    size = os.path.getsize(users_path) if os.path.exists(users_path) else -1
    out["size"] = size
    if state and committed < args.prev_bytes:
        problems.append("committed size went back: %d < %d" % (committed, args.prev_bytes))
    tail = "none"
    if size >= 0 and size < committed:
        problems.append("users.csv (%d bytes) is shorter than the state's %d" % (size, committed))
    elif size < 0 and committed > 0:
        problems.append("users.csv is missing but the state says %d bytes" % committed)
    elif size > committed:
        with open(users_path, "rb") as f:
            head = f.readline()
            f.seek(max(committed, len(head)))  # nothing committed: rows after the header
            data = f.read()
        if not head.endswith(b"\n"):
            tail = "torn"
        elif committed == 0 and not data:
            tail = "header"
        else:
            n = parse_rows(data, head)
            tail = "torn" if n is None else "rows:%d" % n
    out["tail"] = tail
    prefix_ok = 1
    if size >= committed > 0:
        with open(users_path, "rb") as f:
            f.seek(committed - 1)
            prefix_ok = int(f.read(1) == b"\n")
        if not prefix_ok:
            problems.append("the committed size %d does not end a row" % committed)
    out["prefix_ok"] = prefix_ok
    for name, rows in (("apps", args.apps), ("groups", args.groups)):
        r = check_table(os.path.join(d, name + ".csv"), rows if rows >= 0 else None)
        out[name] = r
        if r.startswith("bad"):
            problems.append("%s.csv: %s" % (name, r))
        if r == "missing" and args.tables_seen:
            problems.append("%s.csv vanished" % name)
    tmps, stale = [], []
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if n.endswith(".tmp"):  # one left by an earlier kill is stale, not this run's
            fresh = os.stat(os.path.join(d, n)).st_mtime_ns // 1000 >= args.since_us
            (tmps if fresh else stale).append(n)
    out["tmp"] = ",".join(tmps) or "-"
    out["stale_tmp"] = ",".join(stale) or "-"
    # Where the kill landed, judged by what is on disk.
    if "state.json.tmp" in tmps:
        cat = "state-commit (state.json.tmp written, not yet renamed)"
    elif "apps.csv.tmp" in tmps or "groups.csv.tmp" in tmps:
        cat = "full-refresh (%s being written)" % "+".join(t for t in tmps if t != "state.json.tmp")
    elif state is None:
        cat = "start-up (no state committed yet)"
    elif size < 0:
        cat = "start-up (state committed, users.csv not created yet)"
    elif tail == "header":
        cat = "first page of the first window (users.csv: header only)"
    elif tail == "torn":
        cat = "mid-page (a partial row past the committed size)"
    elif tail.startswith("rows:"):
        cat = "page written, state not yet saved (whole rows past the committed size)"
    elif out["run_active"]:
        cat = "between pages (rows and state committed)"
    else:
        cat = "start-up or a window's first page (no window in the state, nothing uncommitted)"
    out["category"] = cat
    for k, v in out.items():
        print("%s=%s" % (k, v))
    print("problems=%d" % len(problems))
    for p in problems:
        print("problem %s" % p)
    return 0


# ---- users: compare with the truth ---------------------------------------------------------

def cmd_users(args):
    path = args.csv
    if args.from_byte:
        with open(args.csv, "rb") as f:
            head = f.readline()
            f.seek(args.from_byte)
            data = f.read()
        path = args.csv + ".appended"
        with open(path, "wb") as f:
            f.write(head + data)
    try:
        header, rows = csvcheck.read_csv(path)
    except csvcheck.CsvError as e:
        print("csv_error=%s" % e)
        return 1
    with open(args.truth, encoding="utf-8") as f:
        truth = [json.loads(line) for line in f if line.strip()]
    key = header[0]
    r = compare.compare_rows(header, rows, truth, key)
    details, missing, mismatches = r["details"], r["missing"], r["mismatches"]
    unexpected, duplicates = r["unexpected"], r["duplicates"]
    runs, last_run = [], None
    for p in r["processed_at"]:  # one value per run, never going back
        if p != last_run:
            if p is None or not ISO.match(p) or (last_run is not None and p < last_run):
                mismatches += 1
                details.append("  processed_at %r after %r" % (p, last_run))
            runs.append(p)
            last_run = p
    if args.keys_out:
        with open(args.keys_out, "w") as f:
            for row in rows:
                f.write("%s\n" % row[0])
    print("rows=%d" % len(rows))
    print("truth_rows=%d" % len(truth))
    print("missing=%d" % len(missing))
    print("unexpected=%d" % unexpected)
    print("duplicates=%d" % duplicates)
    print("mismatches=%d" % mismatches)
    print("runs=%d" % len(set(runs)))
    for d in details[:MAX_DETAILS]:
        print(d)
    ok = not (missing or unexpected or duplicates or mismatches or details)
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("schedule")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--t-run", type=float, required=True)
    s.add_argument("--t-start", type=float, required=True)
    p = sub.add_parser("probe")
    p.add_argument("--dir", required=True)
    p.add_argument("--prev-bytes", type=int, default=0)
    p.add_argument("--state-seen", type=int, default=0)
    p.add_argument("--tables-seen", type=int, default=0)
    p.add_argument("--since-us", type=int, default=0,
                   help="run start (unix microseconds): older *.tmp files are stale")
    p.add_argument("--apps", type=int, default=-1, help="expected apps.csv rows")
    p.add_argument("--groups", type=int, default=-1, help="expected groups.csv rows")
    u = sub.add_parser("users")
    u.add_argument("--csv", required=True)
    u.add_argument("--truth", required=True)
    u.add_argument("--keys-out", default=None)
    u.add_argument("--from-byte", type=int, default=0)
    args = ap.parse_args()
    return {"schedule": cmd_schedule, "probe": cmd_probe, "users": cmd_users}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
