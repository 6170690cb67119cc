#!/usr/bin/env python3
"""py_sync_peer.py - the same sync as countly-sync, written the plain Python way.

For tests/bench/throughput.sh: what a user would write with requests and the
csv module. It makes the recorded run's requests in the same order (one
requests.Session: keep-alive, identity bodies), parses each body with
requests' .json(), maps every record with tests/pipeline/py_export.py's
map_record and writes apps.csv, groups.csv and users.csv with csv.writer
(processed_at from the first answer's Date header, as the agent).

Like the agent, a full page sorted by {"lac":1} is cut before the users of
its last lac second (the next request starts at that second and returns them
again), so users.csv has each user once. Unlike the agent: no state file, no
fsync, no checks of the answers' order, the whole body in memory.

  COUNTLY_API_KEY=... py_sync_peer.py --url https://localhost:PORT --ca CA.crt \
      --targets DIR/targets.txt --out OUTDIR [--limit 1000]

Prints "requests=N users=N apps=N groups=N".
"""

import argparse
import csv
import email.utils
import os
import sys
import urllib.parse

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipeline"))
import py_export as px  # noqa: E402  (tests/pipeline/py_export.py)


def second(doc):
    lac = doc.get("lac")
    return None if lac is None else int(float(lac))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=1000)
    args = ap.parse_args()
    key = os.environ["COUNTLY_API_KEY"]
    with open(args.targets, encoding="utf-8") as f:
        targets = [line.rstrip("\n") for line in f if line.strip()]
    os.makedirs(args.out, exist_ok=True)
    session = requests.Session()
    session.headers["Accept-Encoding"] = "identity"

    files = {t: open(os.path.join(args.out, t + ".csv"), "w", newline="", encoding="utf-8")
             for t in ("apps", "groups", "users")}
    writers = {t: csv.writer(f, lineterminator="\n") for t, f in files.items()}
    for table, w in writers.items():
        w.writerow(px.COLUMNS[table])
    counts = {"apps": 0, "groups": 0, "users": 0}
    ctx = {"server_url": args.url, "processed_at": None, "app_id": ""}
    for target in targets:
        sep = "&" if "?" in target else "?"
        # verify per request: a session's verify loses to REQUESTS_CA_BUNDLE
        resp = session.get(args.url + target + sep + "api_key=" + key, verify=args.ca)
        resp.raise_for_status()
        if ctx["processed_at"] is None:
            ctx["processed_at"] = int(
                email.utils.parsedate_to_datetime(resp.headers["Date"]).timestamp())
        body = resp.json()
        path, _, query = target.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        collection = params.get("collection", "")
        if path == "/o/db" and collection.startswith("app_users"):
            kind, table = "users", "users"
            ctx["app_id"] = collection[len("app_users"):]
            docs = body["collections"]
            if params.get("sort") == '{"lac":1}' and len(docs) == args.limit:
                last, n = second(docs[-1]), len(docs)  # cut before the last second's users
                while n and second(docs[n - 1]) == last:
                    n -= 1
                docs = docs[:n]
        elif path == "/o/db" and collection == "apps":
            kind, table, docs = "apps_db", "apps", body["collections"]
        elif path == "/o/groups":
            kind, table, docs = "groups", "groups", body["result"]
        else:
            continue
        columns = px.COLUMNS[table]
        w = writers[table]
        for doc in docs:
            row = px.map_record(kind, doc, ctx)
            w.writerow([row[c] for c in columns])
        counts[table] += len(docs)
    for f in files.values():
        f.close()
    print("requests=%d users=%d apps=%d groups=%d" % (len(targets), counts["users"],
                                                     counts["apps"], counts["groups"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
