#!/usr/bin/env python3
"""same_csv.py A.csv B.csv - two outputs of the same syncs are the same bytes,
apart from the processed_at column (each run stamps its own start time).

Checks: same header; same number of records; every record equal field by
field except processed_at; A's processed_at values map one to one onto B's
(one value per run, in the same records); and the files are byte-identical
once each of A's processed_at values is replaced by B's (the column is a
fixed-width timestamp). Prints one line: "same N records" or the first
difference; exit 0 when the same.
"""

import csv
import io
import re
import sys


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
    for n, (ra, rb) in enumerate(zip(a[1:], b[1:]), start=1):
        if ra[:col] + ra[col + 1:] != rb[:col] + rb[col + 1:]:
            return "record %d differs: %r vs %r" % (n, ra, rb)
    if len(a) == 1:
        return None if a_raw == b_raw else "header bytes differ"
    stamps = stamp_map(a, b, col)
    if stamps is None:
        return "processed_at values do not pair up run by run"
    if any(len(k) != len(v) or not k for k, v in stamps.items()):
        return "processed_at values of different widths"
    pattern = re.compile(b"|".join(re.escape(k.encode()) for k in stamps))
    if pattern.sub(lambda m: stamps[m.group(0).decode()].encode(), a_raw) != b_raw:
        return "bytes differ outside processed_at"
    return None


if __name__ == "__main__":
    problem = main(sys.argv[1], sys.argv[2])
    if problem:
        print(problem)
        sys.exit(1)
    with open(sys.argv[1], "rb") as f:
        print("same %d records" % (len(list(csv.reader(io.StringIO(f.read().decode("utf-8"), newline="")))) - 1))
