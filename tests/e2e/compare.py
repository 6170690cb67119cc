#!/usr/bin/env python3
"""compare.py - a countly-sync output file against the simulator's truth.

  compare.py --csv users.csv --truth users.truth.jsonl [--key user_id]
             [--processed-at ISO] [--expect-rows N] [--keys-out FILE]

Reads the CSV with the strict RFC 4180 reader of tests/pipeline/csvcheck.py
(NULL = empty unquoted, "" = empty string), matches rows to the truth by
primary key (every truth row exactly once, no other row, no duplicate) and
compares every column with csvcheck's field rules (JSON columns as ordered
JSON, compact). processed_at must be one value for the whole file (or the
given one) and a valid ISO-8601 UTC timestamp. Prints key=value lines:
rows, truth_rows, missing, unexpected, duplicates, mismatches, then up to a
dozen detail lines; exit status 0 only when everything matches.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipeline"))
import csvcheck  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MAX_DETAILS = 12


def load_truth(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare_rows(header, rows, truth, key):
    """Matches rows to the truth by key and compares every column but
    processed_at. Returns counts, detail lines, the missing keys and the
    processed_at value of every matched row, in file order."""
    details = []
    if truth and list(truth[0]["cols"].keys()) != header:
        details.append("  header %s, expected %s" % (header, list(truth[0]["cols"].keys())))
    ki = header.index(key)
    want = {t["cols"][key]: t for t in truth}
    seen, duplicates, unexpected, mismatches = set(), 0, 0, 0
    processed = []
    for n, row in enumerate(rows, 2):
        k = row[ki]
        if k in seen:
            duplicates += 1
            details.append("  line %d: duplicate %s=%s" % (n, key, k))
            continue
        seen.add(k)
        t = want.get(k)
        if t is None:
            unexpected += 1
            details.append("  line %d: unexpected %s=%s" % (n, key, k))
            continue
        for name, value in zip(header, row):
            if name == "processed_at":
                processed.append(value)
                continue
            expected = t["cols"].get(name)
            if expected == value:
                continue  # same text: same value (the truth is compact JSON)
            problem = csvcheck.field_problem("", expected, value, name in t["json"])
            if problem:
                mismatches += 1
                details.append("  %s=%s column %s: %s: expected %s, got %s" % (
                    key, k, name, problem, csvcheck.clip(expected), csvcheck.clip(value)))
    missing = [k for k in want if k not in seen]
    for k in missing[:3]:
        details.append("  missing %s=%s" % (key, k))
    return {"details": details, "missing": missing, "mismatches": mismatches,
            "unexpected": unexpected, "duplicates": duplicates, "processed_at": processed}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--key", default=None, help="primary key column (default: the first)")
    ap.add_argument("--processed-at", default=None)
    ap.add_argument("--keys-out", default=None, help="write the CSV's keys here, one a line")
    args = ap.parse_args()

    header, rows = csvcheck.read_csv(args.csv)
    truth = load_truth(args.truth)
    key = args.key or header[0]
    ki = header.index(key)
    r = compare_rows(header, rows, truth, key)
    details, missing, mismatches = r["details"], r["missing"], r["mismatches"]
    unexpected, duplicates = r["unexpected"], r["duplicates"]
    processed = set(r["processed_at"])
    bad_processed = [p for p in processed if p is None or not ISO.match(p)]
    if len(processed) > 1 or bad_processed or (
            args.processed_at and processed and processed != {args.processed_at}):
        details.append("  processed_at values: %s" % sorted(map(str, processed))[:5])
        mismatches += 1
    if args.keys_out:
        with open(args.keys_out, "w") as f:
            for row in rows:
                f.write("%s\n" % row[ki])
    print("rows=%d" % len(rows))
    print("truth_rows=%d" % len(truth))
    print("missing=%d" % len(missing))
    print("unexpected=%d" % unexpected)
    print("duplicates=%d" % duplicates)
    print("mismatches=%d" % mismatches)
    print("processed_at=%s" % (next(iter(processed)) if len(processed) == 1 else "-"))
    for d in details[:MAX_DETAILS]:
        print(d)
    ok = not (missing or unexpected or duplicates or mismatches or details)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except csvcheck.CsvError as e:
        print("csv_error=%s" % e)
        sys.exit(1)
