#!/usr/bin/env python3
"""runscheck.py - checks of the runs output layout (tests/e2e/test_runs.sh).

  runscheck.py files --dir OUT [--header users=FILE ...]
      every file under a final name in OUT/apps, OUT/groups, OUT/users
      parses completely with Python's csv module (strict): a header row
      (equal to FILE's first line when given for its folder), every row
      with the header's number of fields, the file ends with a newline; and
      every OUT/runs/*.json is a JSON object; a .csv.gz file must be a
      complete gzip file (every member whole) holding such a CSV. Hidden files (".NAME.tmp",
      a part being written) are counted, never read. key=value lines:
      files, rows, hidden, bad (then one "bad ..." line each); exit 0 only
      when bad=0.
  runscheck.py manifest --dir OUT --manifest M [--limit BYTES]
      the manifest's files: each exists, is complete, its rows (csv
      records after the header), bytes (size) and sha256 are the file's,
      and with --limit no users part holds more CSV text (gzip: once
      inflated). key=value lines: files,
      rows, exit_code, outcome, run_start, paths (space-separated), bad.
  runscheck.py union --dir OUT --out F [--stamp S]
      every users part of OUT/users (those of stamp S only, when given), in
      name order, into one CSV with the header once (for compare.py and
      crashcheck.py users). key=value lines: parts, mixed (parts whose rows
      carry more than one processed_at: an interrupted run's part finished
      by the run that resumed it).
Standard library only.
"""

import argparse
import csv
import gzip
import hashlib
import zlib
import io
import json
import os
import re
import sys

FINAL = re.compile(r"^\d{8}T\d{6}Z(-\d{4})?\.csv(\.gz)?$")


def read_text(path):
    """The CSV text of a file: .csv.gz inflated (every member; a torn one
    raises ValueError)."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError("not a complete gzip file: %s" % e)
    return data


def read_csv(path):
    """(header, rows) of a whole file; raises ValueError on a torn or bad file."""
    data = read_text(path)
    if not data.endswith(b"\n"):
        raise ValueError("does not end with a newline (torn row)")
    text = data.decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not records:
        raise ValueError("no header row")
    header, rows = records[0], records[1:]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError("row %d has %d fields, the header %d" % (i + 1, len(row), len(header)))
    return header, rows


def cmd_files(args):
    expected = {}
    for spec in args.header or []:
        folder, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            expected[folder] = next(csv.reader([f.readline()]))
    files = rows = hidden = 0
    bad = []
    for folder in ("apps", "groups", "users"):
        d = os.path.join(args.dir, folder)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            if name.startswith("."):
                hidden += 1
                continue
            if not FINAL.match(name):
                bad.append("%s/%s: not a final name of the runs layout" % (folder, name))
                continue
            files += 1
            try:
                header, body = read_csv(path)
            except (ValueError, csv.Error, UnicodeDecodeError) as e:
                bad.append("%s/%s: %s" % (folder, name, e))
                continue
            if folder in expected and header != expected[folder]:
                bad.append("%s/%s: header %s" % (folder, name, ",".join(header)[:80]))
            rows += len(body)
    d = os.path.join(args.dir, "runs")
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if name.startswith("."):
            hidden += 1
            continue
        try:
            with open(os.path.join(d, name), encoding="utf-8") as f:
                if not isinstance(json.load(f), dict):
                    raise ValueError("not an object")
        except ValueError as e:
            bad.append("runs/%s: %s" % (name, e))
    print("files=%d\nrows=%d\nhidden=%d\nbad=%d" % (files, rows, hidden, len(bad)))
    for b in bad[:12]:
        print("bad " + b)
    return 0 if not bad else 1


def cmd_manifest(args):
    with open(args.manifest, encoding="utf-8") as f:
        m = json.load(f)
    bad = []
    total = 0
    paths = []
    for entry in m.get("files", []):
        path = os.path.join(args.dir, entry["path"])
        paths.append(entry["path"])
        if not entry.get("complete"):
            bad.append("%s: not complete" % entry["path"])
        try:
            with open(path, "rb") as f:
                data = f.read()
            _, body = read_csv(path)
            text = read_text(path)
        except (OSError, ValueError, csv.Error) as e:
            bad.append("%s: %s" % (entry["path"], e))
            continue
        if entry.get("rows") != len(body):
            bad.append("%s: rows %s, the file has %d" % (entry["path"], entry.get("rows"), len(body)))
        if entry.get("bytes") != len(data):
            bad.append("%s: bytes %s, the file has %d" % (entry["path"], entry.get("bytes"), len(data)))
        if entry.get("sha256") != hashlib.sha256(data).hexdigest():
            bad.append("%s: sha256 differs" % entry["path"])
        if args.limit and entry["path"].startswith("users/") and len(text) > args.limit:
            bad.append("%s: %d bytes of CSV, over the limit %d" % (entry["path"], len(text),
                                                                    args.limit))
        if entry["path"].startswith("users/"):
            total += len(body)
    print("files=%d\nrows=%d\nexit_code=%s\noutcome=%s\nrun_start=%s\npaths=%s\nbad=%d" %
          (len(paths), total, m.get("exit_code"), m.get("outcome"), m.get("run_start"),
           " ".join(paths), len(bad)))
    for b in bad[:12]:
        print("bad " + b)
    return 0 if not bad else 1


def cmd_union(args):
    d = os.path.join(args.dir, "users")
    names = sorted(n for n in os.listdir(d) if FINAL.match(n) and
                   (args.stamp is None or n.startswith(args.stamp + "-")))
    with open(args.out, "wb") as out:
        for i, name in enumerate(names):
            text = read_text(os.path.join(d, name))
            end = text.index(b"\n") + 1
            if i == 0:
                out.write(text[:end])
            out.write(text[end:])
    mixed = 0  # parts holding rows of more than one run (a resumed part)
    for name in names:
        header, body = read_csv(os.path.join(d, name))
        column = header.index("processed_at")
        mixed += len({row[column] for row in body}) > 1
    print("parts=%d\nmixed=%d" % (len(names), mixed))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("files")
    f.add_argument("--dir", required=True)
    f.add_argument("--header", action="append")
    m = sub.add_parser("manifest")
    m.add_argument("--dir", required=True)
    m.add_argument("--manifest", required=True)
    m.add_argument("--limit", type=int, default=0)
    u = sub.add_parser("union")
    u.add_argument("--dir", required=True)
    u.add_argument("--out", required=True)
    u.add_argument("--stamp")
    args = ap.parse_args()
    return {"files": cmd_files, "manifest": cmd_manifest, "union": cmd_union}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
