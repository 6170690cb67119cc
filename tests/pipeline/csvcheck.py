#!/usr/bin/env python3
"""csvcheck.py - checks pipeline CSV files against gen_body.py's truth.

  csvcheck.py selfcheck --dir D --kind K
      parses the generated bodies with Python's json module, maps them with
      py_export.map_record and compares with the truth (checks the generator)
  csvcheck.py sqlite --dir D --kind K --csv FILE --db FILE
      reads FILE with a strict RFC 4180 reader that keeps quoted "" apart from
      unquoted empty (NULL), loads it into a typed SQLite table, reads it back
      and compares every row and field with the truth
  csvcheck.py pg-sql --dir D --kind K --csv FILE
      prints a psql script that loads FILE and the truth into PostgreSQL typed
      tables and compares them field by field (printing key=value lines)
  csvcheck.py secrets --dir D --csv FILE...
      counts lines of the CSV files holding any secret value of the metas
  csvcheck.py reader-selftest
      checks the RFC 4180 reader on hand-written files (good and malformed)

Results are printed as key=value lines (for the shell runner), details of
mismatches as lines starting with "  ". Standard library only.
"""

import argparse
import glob
import json
import os
import re
import sqlite3
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import py_export  # noqa: E402

SQLITE_TYPE = {"text": "TEXT", "int": "INTEGER", "ts": "TEXT", "json": "TEXT"}
PG_TYPE = {"text": "text", "int": "bigint", "ts": "timestamptz", "json": "jsonb"}
MAX_DETAILS = 12


def load_meta(directory, kind):
    with open(os.path.join(directory, kind + ".meta.json")) as f:
        return json.load(f)


def load_truth(directory, kind):
    with open(os.path.join(directory, kind + ".truth.jsonl"), encoding="ascii") as f:
        return [json.loads(line) for line in f]


# ---------------------------------------------------------------------------
# strict RFC 4180 reader (PostgreSQL COPY CSV conventions)


class CsvError(Exception):
    pass


# One field and the comma or newline after it, as read_csv's rules allow
# it: quoted ("" stands for a quote inside), or unquoted without a quote,
# CR, comma or newline.
FIELD = re.compile('(?:"([^"]*(?:""[^"]*)*)"|([^,\n"\r]*))([,\n])')


def read_csv(path):
    """Returns (header, rows); a field is None when empty and unquoted.
    Rows end with "\\n" (the last one too); CR only inside quotes; a quote
    only opens a field or is doubled inside a quoted one."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CsvError("not UTF-8 at byte %d" % e.start)
    if len(text) == 0 or text[-1] != "\n":
        raise CsvError("file does not end with a newline")
    rows = split_fields(text)
    if rows is None:  # not well-formed: the careful reader says where
        rows = split_fields_careful(text)
    if not rows:
        raise CsvError("no header")
    header = rows[0]
    for k, r in enumerate(rows[1:], 2):
        if len(r) != len(header):
            raise CsvError("row %d has %d fields, the header %d" % (k, len(r), len(header)))
    return header, rows[1:]


def split_fields(text):
    """The rows of text field by field (FIELD), fast; None at the first
    place FIELD does not continue (split_fields_careful names the fault)."""
    rows, row, pos = [], [], 0
    for m in FIELD.finditer(text):
        if m.start() != pos:
            return None
        pos = m.end()
        quoted, plain, end = m.groups()
        if quoted is not None:
            row.append(quoted.replace('""', '"') if '"' in quoted else quoted)
        else:
            row.append(plain if plain else None)
        if end == "\n":
            rows.append(row)
            row = []
    return rows if pos == len(text) else None


def split_fields_careful(text):
    """The rows of text character by character; CsvError at the first fault."""
    rows, row, i, n, line = [], [], 0, len(text), 1
    while i < n:
        if text[i] == '"':
            i += 1
            parts = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise CsvError("line %d: unterminated quoted field" % line)
                parts.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    parts.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            value = "".join(parts)
            line += value.count("\n")
        else:
            j = i
            while j < n and text[j] not in ',\n':
                if text[j] in '"\r':
                    raise CsvError("line %d: %r in an unquoted field" % (line, text[j]))
                j += 1
            value = text[i:j] if j > i else None
            i = j
        row.append(value)
        if i >= n:
            raise CsvError("line %d: missing final newline" % line)
        if text[i] == ",":
            i += 1
        elif text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
            line += 1
        else:
            raise CsvError("line %d: %r after a quoted field" % (line, text[i]))
    return rows


# ---------------------------------------------------------------------------
# field comparison


def is_compact(text):
    """No whitespace outside strings."""
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in " \t\r\n":
            return False
    return True


def parse_ordered(text, exact):
    """JSON with object key order (and repeated keys) kept; numbers as
    Decimal (exact) or float."""
    return json.loads(text, object_pairs_hook=lambda pairs: ("{}", tuple(pairs)),
                      parse_float=Decimal if exact else float)


def field_problem(kind, expected, actual, as_json, exact=True):
    """None when actual (None or text) is what expected says, else words."""
    if expected is None or actual is None:
        return None if expected is actual else "NULL vs value"
    if not as_json:
        return None if expected == actual else "differs"
    try:
        got = parse_ordered(actual, exact)
    except ValueError as e:
        return "not JSON (%s)" % e
    if not is_compact(actual):
        return "not compact JSON"
    want = parse_ordered(expected, exact)
    if got != want:
        return "JSON differs at %s" % first_difference(want, got, "$")
    return None


def first_difference(want, got, path):
    """Where two parse_ordered values first differ, with both sides."""
    if isinstance(want, tuple) and isinstance(got, tuple):
        wkeys, gkeys = [k for k, _ in want[1]], [k for k, _ in got[1]]
        if wkeys != gkeys:
            return "%s: keys %s, got %s" % (path, clip(wkeys, 300), clip(gkeys, 300))
        for (k, w), (_, g) in zip(want[1], got[1]):
            if w != g:
                return first_difference(w, g, "%s.%s" % (path, k))
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                return first_difference(w, g, "%s[%d]" % (path, i))
    return "%s: %s, got %s" % (path, clip(want, 120), clip(got, 120))


def clip(v, n=160):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "...'"


class Compare:
    """Compares rows (lists of None/text in column order) with the truth."""

    def __init__(self, meta, truth, exact=True):
        self.columns = meta["columns"]
        self.truth = truth
        self.exact = exact
        self.mismatches = 0
        self.details = []

    def row(self, index, actual):
        t = self.truth[index]
        for (name, kind), value in zip(self.columns, actual):
            expected = t["cols"][name]
            as_json = kind == "json" or name in t["json"]
            problem = field_problem(kind, expected, value, as_json, self.exact)
            if problem:
                self.mismatches += 1
                if len(self.details) < MAX_DETAILS:
                    key = t["cols"][self.columns[0][0]]
                    self.details.append("  row %d (%s=%s) column %s: %s: expected %s, got %s" % (
                        index + 1, self.columns[0][0], key, name, problem, clip(expected),
                        clip(value)))

    def report(self):
        print("mismatches=%d" % self.mismatches)
        for d in self.details:
            print(d)


# ---------------------------------------------------------------------------
# commands


def cmd_selfcheck(args):
    meta = load_meta(args.dir, args.kind)
    truth = load_truth(args.dir, args.kind)
    ctx = {k: meta[k] for k in ("app_id", "server_url", "processed_at")}
    names = [c[0] for c in meta["columns"]]
    cmp = Compare(meta, truth, exact=False)
    rows = 0
    for page in meta["files"]:
        with open(os.path.join(args.dir, page), encoding="utf-8") as f:
            body = json.load(f)
        for doc in py_export.read_records(args.kind, body):
            if rows < len(truth):
                mapped = py_export.map_record(args.kind, doc, ctx)
                cmp.row(rows, [mapped[n] for n in names])
            rows += 1
    print("rows=%d" % rows)
    print("truth_rows=%d" % len(truth))
    cmp.report()


def cmd_sqlite(args):
    meta = load_meta(args.dir, args.kind)
    truth = load_truth(args.dir, args.kind)
    names = [c[0] for c in meta["columns"]]
    try:
        header, rows = read_csv(args.csv)
    except CsvError as e:
        print("csv_error=%s" % e)
        return
    print("csv_error=none")
    print("header=%s" % ("ok" if header == names else "differs: %s" % ",".join(header)))
    if header != names:
        return
    db = sqlite3.connect(args.db)
    table = "t_" + args.kind
    db.execute("DROP TABLE IF EXISTS %s" % table)
    db.execute("CREATE TABLE %s (%s)" % (table, ", ".join(
        '"%s" %s' % (n, SQLITE_TYPE[k]) for n, k in meta["columns"])))
    db.executemany("INSERT INTO %s VALUES (%s)" % (table, ",".join("?" * len(names))), rows)
    db.commit()
    def q(sql):
        return db.execute(sql.format(t=table)).fetchone()[0]

    print("rows=%d" % q("SELECT count(*) FROM {t}"))
    print("truth_rows=%d" % len(truth))
    print("meta_invalid=%d" % q("SELECT count(*) FROM {t} WHERE metadata IS NULL OR "
                                "json_valid(metadata) = 0 OR json_type(metadata) <> 'object'"))
    bad_types = 0
    for name, kind in meta["columns"]:
        col = '"%s"' % name
        if kind == "int":
            bad_types += q("SELECT count(*) FROM {t} WHERE %s IS NOT NULL AND typeof(%s) <> "
                           "'integer'" % (col, col))
        elif kind == "ts":
            bad_types += q("SELECT count(*) FROM {t} WHERE %s IS NOT NULL AND strftime("
                           "'%%Y-%%m-%%dT%%H:%%M:%%SZ', %s) IS NOT %s" % (col, col, col))
        elif kind == "json":
            bad_types += q("SELECT count(*) FROM {t} WHERE %s IS NOT NULL AND json_valid(%s) = 0"
                           % (col, col))
    print("bad_types=%d" % bad_types)
    cmp = Compare(meta, truth)
    cur = db.execute("SELECT %s FROM %s ORDER BY rowid" % (
        ", ".join('"%s"' % n for n in names), table))
    for index, r in enumerate(cur):
        if index >= len(truth):
            break
        cmp.row(index, [None if v is None else str(v) for v in r])
    cmp.report()
    db.close()


def sql_string(s):
    return "'" + s.replace("'", "''") + "'"


def cmd_pg_sql(args):
    meta = load_meta(args.dir, args.kind)
    cols = meta["columns"]
    key = cols[0][0]
    t_csv, t_raw, t_truth = "csv_" + args.kind, "raw_" + args.kind, "truth_" + args.kind
    truth_path = os.path.abspath(os.path.join(args.dir, args.kind + ".truth.jsonl"))
    out = ["\\set ON_ERROR_STOP 1",
           "SET client_min_messages = warning;",
           "CREATE OR REPLACE FUNCTION try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql "
           "IMMUTABLE AS $$ BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; "
           "END $$;",
           "DROP TABLE IF EXISTS %s, %s, %s;" % (t_csv, t_raw, t_truth),
           "CREATE TABLE %s (n bigserial, %s);" % (t_csv, ", ".join(
               '"%s" %s' % (n, PG_TYPE[k]) for n, k in cols)),
           "\\copy %s(%s) FROM %s WITH (FORMAT csv, HEADER true)" % (
               t_csv, ",".join('"%s"' % n for n, _ in cols), sql_string(os.path.abspath(args.csv))),
           "CREATE TABLE %s (n bigserial, doc jsonb);" % t_raw,
           # one JSON document per line: no quote or delimiter character occurs
           "\\copy %s(doc) FROM %s WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" % (
               t_raw, sql_string(truth_path)),
           "CREATE TABLE %s AS SELECT n, doc, %s FROM %s;" % (t_truth, ", ".join(
               "(doc->'cols'->>'%s')::%s AS \"%s\"" % (n, PG_TYPE[k], n) for n, k in cols), t_raw),
           "SELECT 'rows=' || count(*) FROM %s;" % t_csv,
           "SELECT 'truth_rows=' || count(*) FROM %s;" % t_truth,
           "SELECT 'meta_not_object=' || count(*) FROM %s WHERE metadata IS NULL OR "
           "jsonb_typeof(metadata) <> 'object';" % t_csv]
    diffs = []
    for n, k in cols:
        if k == "text":
            distinct = ("CASE WHEN t.doc->'json' ? '{n}' THEN a.\"{n}\" IS NULL OR "
                        "try_jsonb(a.\"{n}\") IS DISTINCT FROM try_jsonb(t.\"{n}\") "
                        "ELSE a.\"{n}\" IS DISTINCT FROM t.\"{n}\" END").format(n=n)
        else:
            distinct = 'a."{n}" IS DISTINCT FROM t."{n}"'.format(n=n)
        diffs.append("SELECT coalesce(t.n, a.n) AS n, t.\"{key}\"::text AS key, '{n}' AS col, "
                     "t.\"{n}\"::text AS expected, a.\"{n}\"::text AS actual "
                     "FROM {tt} t FULL JOIN {ta} a ON a.n = t.n WHERE {d}".format(
                         key=key, n=n, tt=t_truth, ta=t_csv, d=distinct))
    union = " UNION ALL ".join(diffs)
    out.append("SELECT 'mismatches=' || count(*) FROM (%s) m;" % union)
    out.append("SELECT '  row ' || n || ' (%s=' || coalesce(key, 'NULL') || ') column ' || col "
               "|| ': expected ' || coalesce(quote_literal(left(expected, 160)), 'NULL') || "
               "', got ' || coalesce(quote_literal(left(actual, 160)), 'NULL') FROM (%s) m "
               "ORDER BY n, col LIMIT %d;" % (key, union, MAX_DETAILS))
    print("\n".join(out))


def cmd_reader_selftest(args):
    """The reader itself: NULL vs "", quoting, and what it must refuse."""
    import tempfile
    good = [
        ('a,b,c\n,"",x\n', [[None, "", "x"]]),
        ('a,b\n"q""uote","line\r\nbreak"\n', [['q"uote', "line\r\nbreak"]]),
        ('a,b\n" lead",trail \n', [[" lead", "trail "]]),
        ('a\n""\n\n', [[""], [None]]),
        ('a,b\n"é,😀",\n', [["é,😀", None]]),
    ]
    bad = ['a,b\r\n1,2\r\n', 'a,b\n1,2', 'a,b\nx"y,2\n', 'a,b\n"x"y,2\n', 'a,b\n1\n',
           'a,b\n"open,2\n', 'a,b\n1,2\r\n']
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.csv")
        for text, rows in good:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            try:
                got = read_csv(path)[1]
            except CsvError as e:
                got = "error: %s" % e
            if got != rows:
                failures += 1
                print("  %r: expected %r, got %r" % (text, rows, got))
        for text in bad:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            try:
                read_csv(path)
                failures += 1
                print("  %r: accepted" % text)
            except CsvError:
                pass
    print("cases=%d" % (len(good) + len(bad)))
    print("failures=%d" % failures)


def cmd_secrets(args):
    secrets = set()
    for path in glob.glob(os.path.join(args.dir, "*.meta.json")):
        with open(path) as f:
            secrets.update(s for s in json.load(f)["secrets"] if s)
    hits, lines = 0, 0
    # One pass of an alternation finds whether a line holds any secret; only
    # such lines are searched for each one (every secret it holds is a hit).
    anyof = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    for csv_path in args.csv:
        with open(csv_path, "rb") as f:
            for number, line in enumerate(f, 1):
                lines += 1
                text = line.decode("utf-8", "replace")
                if not secrets or anyof.search(text) is None:
                    continue
                for s in secrets:
                    if s in text:
                        hits += 1
                        print("  %s:%d holds secret %s" % (csv_path, number, s))
    print("secrets=%d" % len(secrets))
    print("lines=%d" % lines)
    print("hits=%d" % hits)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("selfcheck")
    p.add_argument("--dir", required=True)
    p.add_argument("--kind", required=True)
    p = sub.add_parser("sqlite")
    for a in ("--dir", "--kind", "--csv", "--db"):
        p.add_argument(a, required=True)
    p = sub.add_parser("pg-sql")
    for a in ("--dir", "--kind", "--csv"):
        p.add_argument(a, required=True)
    sub.add_parser("reader-selftest")
    p = sub.add_parser("secrets")
    p.add_argument("--dir", required=True)
    p.add_argument("--csv", nargs="+", required=True)
    args = ap.parse_args()
    {"selfcheck": cmd_selfcheck, "sqlite": cmd_sqlite, "pg-sql": cmd_pg_sql,
     "secrets": cmd_secrets, "reader-selftest": cmd_reader_selftest}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
