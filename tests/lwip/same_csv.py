#!/usr/bin/env python3
"""same_csv.py A.csv B.csv - two outputs of the same syncs are the same bytes,
apart from the processed_at column (each run stamps its own start time).

Records are compared in sorted order: users who share a lac second come
from the server in no guaranteed order. Checks: same header; same number of
records; every record equal field by field except processed_at; A's
processed_at values map one to one onto B's (one value per run, in the same
records); and the files are byte-identical once processed_at is replaced
and the records sorted (tests/cross/normalize.py). Prints one line: "same N records" or the first
difference; exit 0 when the same.
"""

import csv
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cross"))
import normalize  # noqa: E402


def load(path):
    """Raw bytes and parsed records (RFC 4180, quoted newlines allowed)."""
    with open(path, "rb") as f:
        raw = f.read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return raw, rows


def stamp_map(a, b, col):
    """A's processed_at values to B's, or None when not one to one."""
    forward, backward = {}, {}
    for ra, rb in zip(a[1:], b[1:]):
        if forward.setdefault(ra[col], rb[col]) != rb[col] or backward.setdefault(rb[col], ra[col]) != ra[col]:
            return None
    return forward


def main(a_path, b_path):
    a_raw, a = load(a_path)
    b_raw, b = load(b_path)
    if not a or not b or a[0] != b[0]:
        return "headers differ"
    if len(a) != len(b):
        return "%d records vs %d" % (len(a) - 1, len(b) - 1)
    if "processed_at" not in a[0]:
        return None if a_raw == b_raw else "bytes differ (no processed_at column)"
    col = a[0].index("processed_at")

    def content(r):
        return r[:col] + r[col + 1:]

    # users sharing a lac second come from the server in no guaranteed order
    a = a[:1] + sorted(a[1:], key=content)
    b = b[:1] + sorted(b[1:], key=content)
    for n, (ra, rb) in enumerate(zip(a[1:], b[1:]), start=1):
        if content(ra) != content(rb):
            return "record %d (sorted) differs: %r vs %r" % (n, ra, rb)
    if len(a) == 1:
        return None if a_raw == b_raw else "header bytes differ"
    if stamp_map(a, b, col) is None:
        return "processed_at values do not pair up run by run"
    if normalize.normalize_csv(a_raw) != normalize.normalize_csv(b_raw):
        return "bytes differ outside processed_at"
    return None


if __name__ == "__main__":
    problem = main(sys.argv[1], sys.argv[2])
    if problem:
        print(problem)
        sys.exit(1)
    with open(sys.argv[1], "rb") as f:
        print("same %d records" % (len(list(csv.reader(io.StringIO(f.read().decode("utf-8"), newline="")))) - 1))
