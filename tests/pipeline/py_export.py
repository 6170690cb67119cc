#!/usr/bin/env python3
"""py_export.py - the Python way to turn a Countly body into SPEC.md's CSV.

What a user without countly-sync would write: json.load the whole body,
map each record with plain Python, write rows with the csv module.

  py_export.py --table users|apps_db|apps_mine|groups [--app-id ID]
               [--server-url URL] [--processed-at UNIX] --out FILE.csv BODY...

Prints "records=N bytes=B seconds=S". Simplifications against SPEC.md: the
csv module cannot tell NULL from "" (both come out empty), and fields are
quoted by its own rule (only when they hold a delimiter, quote or line break).

The mapping functions (map_record, read_records) are also used by the test
runner to check gen_body.py's truth against an independent parse of the body.
"""

import argparse
import csv
import datetime
import json
import os
import re
import sys
import time

COLUMNS = {
    "apps": ["app_id", "name", "key", "timezone", "created_at", "updated_at", "icon",
             "metadata", "processed_at"],
    "groups": ["group_id", "name", "description", "user_count", "created_at", "updated_at",
               "metadata", "processed_at"],
    "users": ["user_id", "app_id", "device_id", "username", "email", "organization", "phone",
              "picture", "gender", "byear", "custom_data", "first_seen", "last_seen",
              "session_count", "total_session_duration", "processed_at", "last_activity",
              "metadata"],
}
TABLE_OF = {"apps_db": "apps", "apps_mine": "apps", "groups": "groups", "users": "users"}

# source key of each column that has one; everything else goes to metadata
SOURCES = {
    "apps": {"app_id": "_id", "name": "name", "key": "key", "timezone": "timezone",
             "created_at": "created_at", "updated_at": "edited_at"},
    "groups": {"group_id": "_id", "name": "name", "description": "description",
               "user_count": "matched_users_count", "created_at": "created_at",
               "updated_at": "updated_at"},
    "users": {"user_id": "_id", "device_id": "did", "username": "name", "email": "email",
              "organization": "organization", "phone": "phone", "picture": "picture",
              "gender": "gender", "byear": "byear", "custom_data": "custom", "first_seen": "fs",
              "last_seen": "ls", "session_count": "sc", "total_session_duration": "tsd",
              "last_activity": "lac"},
}
TIMESTAMPS = {"created_at", "updated_at", "first_seen", "last_seen", "last_activity"}
INTEGERS = {"byear", "session_count", "total_session_duration", "user_count"}
JSON_COLUMNS = {"custom_data"}
SECRETS = {"salt", "checksum_salt", "api_key"}

BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
ENTITY = re.compile("&(amp|quot|#39|lt|gt);")
ENTITIES = {"amp": "&", "quot": '"', "#39": "'", "lt": "<", "gt": ">"}


def clean(s, html):
    """Decoded text as SPEC.md wants it: entities (when html), U+FFFD."""
    if html:
        s = ENTITY.sub(lambda m: ENTITIES[m.group(1)], s)
    return BAD_CHARS.sub("\ufffd", s)


def clean_value(v, html):
    if isinstance(v, str):
        return clean(v, html)
    if isinstance(v, list):
        return [clean_value(x, html) for x in v]
    if isinstance(v, dict):
        return {clean(k, html): clean_value(x, html) for k, x in v.items()}
    return v


def compact(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def as_text(v, html):
    if v is None:
        return None
    if isinstance(v, str):
        return clean(v, html)
    return compact(clean_value(v, html))


def as_timestamp(v):
    if v is None:
        return None
    seconds = int(v)
    if len(str(abs(seconds))) == 13:
        seconds //= 1000
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def iso_run(unix):
    return as_timestamp(unix)


def map_record(kind, doc, ctx):
    """One record as a dict column -> None or text."""
    table = TABLE_OF[kind]
    html = kind in ("apps_mine", "groups")
    sources = SOURCES[table]
    row = {}
    for col in COLUMNS[table]:
        src = sources.get(col)
        v = doc.get(src) if src else None
        if col in TIMESTAMPS:
            row[col] = as_timestamp(v)
        elif col in INTEGERS:
            if col == "user_count" and v is None and isinstance(doc.get("users"), list):
                v = len(doc["users"])
            row[col] = None if v is None else str(int(v))
        elif col in JSON_COLUMNS:
            row[col] = None if v is None else compact(clean_value(v, html))
        elif col == "metadata":
            used = set(sources.values()) | SECRETS
            row[col] = compact(clean_value({k: x for k, x in doc.items() if k not in used},
                                           html))
        elif col == "processed_at":
            row[col] = iso_run(ctx["processed_at"])
        elif src is None and col == "app_id":
            row[col] = ctx["app_id"]
        elif col == "icon":
            row[col] = "%s/appimages/%s.png" % (ctx["server_url"], row["app_id"])
        else:
            text = as_text(v, html)
            if col == "app_id" and text and text.startswith("ObjectId(") and text.endswith(")"):
                text = text[9:-1]
            row[col] = text
    return row


def read_records(kind, body):
    """The records of one parsed body, in the order SPEC.md's rows come."""
    if kind in ("users", "apps_db"):
        return body["collections"]
    if kind == "groups":
        return body["result"]
    seen, out = set(), []
    for part in ("admin_of", "user_of"):
        for app_id, app in body.get(part, {}).items():
            if app_id not in seen:
                seen.add(app_id)
                out.append(app)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--table", required=True, choices=sorted(TABLE_OF))
    ap.add_argument("--app-id", default="")
    ap.add_argument("--server-url", default="")
    ap.add_argument("--processed-at", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("bodies", nargs="+")
    args = ap.parse_args()
    ctx = {"app_id": args.app_id, "server_url": args.server_url,
           "processed_at": args.processed_at}
    columns = COLUMNS[TABLE_OF[args.table]]
    started = time.monotonic()
    records, size = 0, 0
    with open(args.out, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for path in args.bodies:
            size += os.path.getsize(path)
            with open(path, encoding="utf-8") as f:
                body = json.load(f)
            for doc in read_records(args.table, body):
                row = map_record(args.table, doc, ctx)
                writer.writerow([row[c] for c in columns])
                records += 1
    print("records=%d bytes=%d seconds=%.3f" % (records, size, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
