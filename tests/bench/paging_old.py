#!/usr/bin/env python3
"""paging_old.py - the OLD countly-sync request pattern against a running
simulator (tests/sim), to measure what it costs a MongoDB server.

  python3 tests/bench/paging_old.py --url http://127.0.0.1:PORT [--ca CA.pem]
          [--limit 1000] [--run-start UNIX] [--app ID ...] [--sort-limit-mb X]

For each app (default: every app in /__sim/info): the all-history filter of
a first full run
  {"$or":[{"lac":{"$lt":R}},{"lac":{"$gte":1000000000000}},{"lac":{"$exists":false}}]}
(R = --run-start, default the simulator's now) sorted {"lac":1,"_id":1},
limit L, skip 0, L, 2L, ... until a page shorter than L.  Bodies are read and
parsed, then discarded.  A cut body (the simulator's sort-memory-limit
failure: 200, the envelope head, then the connection closes) is recorded
and ends that app.  The simulator's /__sim/cost counters are reset first
(and --sort-limit-mb, when given, set through /__sim/sort-limit).

Prints one JSON line:
  {"limit","run_start","apps","requests","users_read","failed","failures":[{"app","skip","error"}],
   "seconds","cost":{/__sim/cost counters}}

Only the admin key is needed; it comes from /__sim/keys.  Plain HTTP or
HTTPS (--ca: the CA file to trust).  Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import sys
import time
import urllib.parse

SORT = '{"lac":1,"_id":1}'


class Client:
    """One keep-alive connection to the simulator (reopened after errors)."""

    def __init__(self, url: str, ca: str | None) -> None:
        """Parse the base URL; nothing is connected yet."""
        split = urllib.parse.urlsplit(url)
        self.https = split.scheme == "https"
        self.host = split.hostname or "127.0.0.1"
        self.port = split.port or (443 if self.https else 80)
        self.ctx = ssl.create_default_context(cafile=ca) if self.https else None
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        """The open connection (made when needed)."""
        if self.conn is None:
            if self.https:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=600)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        return self.conn

    def close(self) -> None:
        """Drop the connection."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path: str, params: dict | None = None) -> tuple:
        """(status, body bytes); a cut or broken body raises."""
        target = path + ("?" + urllib.parse.urlencode(params) if params else "")
        conn = self._connection()
        try:
            conn.request("GET", target)
            resp = conn.getresponse()
            body = resp.read()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        if resp.will_close:
            self.close()
        return resp.status, body

    def get_json(self, path: str, params: dict | None = None) -> object:
        """A control answer as JSON."""
        status, body = self.get(path, params)
        if status != 200:
            raise RuntimeError("%s -> %d %s" % (path, status, body[:200]))
        return json.loads(body)


def full_filter(run_start: int) -> str:
    """The old agent's all-history filter (third branch $exists:false)."""
    return json.dumps({"$or": [{"lac": {"$lt": run_start}}, {"lac": {"$gte": 1000000000000}},
                               {"lac": {"$exists": False}}]}, separators=(",", ":"))


def page_app(client: Client, key: str, app: str, filter_text: str, limit: int, tally: dict) -> None:
    """Skip-page one app until a short page or a failure."""
    skip = 0
    while True:
        params = {"api_key": key, "db": "countly", "collection": "app_users" + app, "filter": filter_text,
                  "sort": SORT, "limit": str(limit), "skip": str(skip)}
        tally["requests"] += 1
        try:
            status, body = client.get("/o/db", params)
            if status != 200:
                raise RuntimeError("status %d: %s" % (status, body[:200]))
            page = json.loads(body)
        except (http.client.HTTPException, OSError, ValueError, RuntimeError) as exc:
            tally["failures"].append({"app": app, "skip": skip, "error": "%s: %s" % (type(exc).__name__, exc)})
            client.close()
            return
        docs = page.get("collections", [])
        tally["users_read"] += len(docs)
        if len(docs) < limit:
            return
        skip += limit


def main(argv: list) -> int:
    """Run the pattern, print the JSON line."""
    p = argparse.ArgumentParser(description="the old skip-paging request pattern against the simulator")
    p.add_argument("--url", required=True, help="simulator base URL, http://127.0.0.1:PORT or https://localhost:PORT")
    p.add_argument("--ca", help="CA file to trust (https)")
    p.add_argument("--limit", type=int, default=1000, help="page size L (default 1000)")
    p.add_argument("--run-start", type=int, help="R of the filter (default: the simulator's now)")
    p.add_argument("--app", action="append", help="only this app (repeatable; default: all)")
    p.add_argument("--sort-limit-mb", type=float, help="set the simulator's sort memory limit first")
    args = p.parse_args(argv)

    client = Client(args.url, args.ca)
    key = client.get_json("/__sim/keys")["admin"]
    info = client.get_json("/__sim/info")
    apps = args.app or info["apps"]
    run_start = args.run_start if args.run_start is not None else info["now"]
    if args.sort_limit_mb is not None:
        client.get_json("/__sim/sort-limit", {"mb": repr(args.sort_limit_mb)})
    client.get_json("/__sim/cost", {"reset": "1"})
    tally: dict = {"requests": 0, "users_read": 0, "failures": []}
    filter_text = full_filter(run_start)
    started = time.time()
    for app in apps:
        page_app(client, key, app, filter_text, args.limit, tally)
    seconds = round(time.time() - started, 3)
    cost = client.get_json("/__sim/cost")
    client.close()
    print(json.dumps({"limit": args.limit, "run_start": run_start, "apps": apps, "requests": tally["requests"],
                      "users_read": tally["users_read"], "failed": bool(tally["failures"]),
                      "failures": tally["failures"], "seconds": seconds, "cost": cost}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
