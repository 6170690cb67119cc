#!/usr/bin/env python3
"""replay_server.py - record one countly-sync run's answers, then serve them again.

For tests/bench/throughput.sh: the agent pages users by keyset, and its
filters hold the run start (the Date header of the first answer), so a
server of fixed files keyed by request parameters cannot answer it. This
file records what a run of the agent asked the simulator (tests/sim) and
replays exactly that, with the recorded Date, so that every later run of the
agent makes the same requests - whenever it runs.

  replay_server.py record --sim URL --key KEY --run-start R --out DIR [--level 6]
      Reads the simulator's request log (/__sim/log), fetches every distinct
      API request target again (identity, api_key added back), checks each
      answer (200, valid JSON) and stores it in DIR:
        r/NNNNN.json        the body as the simulator sent it
        r/NNNNN.json.gz     its gzip (zlib level --level) when >= 256 bytes
        targets.txt         every request target in the agent's order,
                            api_key removed (the peers replay this list)
        index.json          written last (its presence = DIR complete):
                            date, run_start, target -> file, byte totals,
                            rows to expect (users, apps, groups),
                            sequence_sha1 of the targets in order
      DIR must not exist yet (the caller records into a temporary folder and
      renames it).

  replay_server.py serve --dir DIR --port 0 --port-file F (--cert C --key K | --http)
                        [--chunk 65536]
      HTTPS (TLS 1.2/1.3, the client's suite preference wins, like nginx's
      default; --http: plain HTTP, to see what TLS costs) on 127.0.0.1, HTTP/1.1 keep-alive, one thread per connection.
      Every recorded target (the query compared without api_key) gets the
      stored body framed the way Countly's Node server frames it - Node's
      headers, the recorded Date, Transfer-Encoding: chunked - in chunks of
      --chunk bytes; with "gzip" in Accept-Encoding and a stored .gz, the
      gzip body with Content-Encoding: gzip and Vary: Accept-Encoding.
      Whole responses are built once at start-up and written with one
      sendall each. Anything else gets 404 {"result":"not recorded"} and is
      counted: a run with a 404 is invalid.
      Control (not counted): GET /__replay/stats[?reset=1] ->
        {"requests","not_found","bytes","gzip","connections","suites",
         "versions","sequence_sha1","expected_sha1","expected_requests"}
      (bytes: HTTP bytes written for API requests - status line, headers,
      chunk framing, body; TLS adds about 0.2 %). reset=1 answers, then
      zeroes them.

Standard library only.
"""

import argparse
import email.utils
import hashlib
import http.client
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import urllib.parse
import zlib

GZIP_MIN = 256  # Countly's nginx.conf: gzip_min_length 256
MAX_HEAD = 16 * 1024
IDLE_TIMEOUT = 5.0  # Keep-Alive: timeout=5, as Node


def strip_key(target):
    """The request target without its api_key parameter(s), order kept."""
    path, sep, query = target.partition("?")
    if not sep:
        return path
    kept = [p for p in query.split("&") if p and not p.startswith("api_key=")]
    return path + ("?" + "&".join(kept) if kept else "")


def sequence_sha1(targets):
    h = hashlib.sha1()
    for t in targets:
        h.update(t.encode("utf-8") + b"\n")
    return h.hexdigest()


# ---- record --------------------------------------------------------------------------------

def sim_get(conn, target, what):
    conn.request("GET", target, headers={"Accept-Encoding": "identity"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise SystemExit("replay_server: record: %s answered %d: %r" % (what, resp.status, body[:200]))
    return body


def gzip_len(body, level):
    comp = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return len(comp.compress(body)) + len(comp.flush())


def record(args):
    url = urllib.parse.urlsplit(args.sim)
    if url.scheme != "http":
        raise SystemExit("replay_server: record: --sim must be http:// (the simulator with --http)")
    if os.path.exists(args.out):
        raise SystemExit("replay_server: record: %s exists" % args.out)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    log = json.loads(sim_get(conn, "/__sim/log?n=100000", "/__sim/log"))["requests"]
    api = [e for e in log if not e["path"].startswith("/__sim/")]
    if not api or api[0]["path"] != "/o/system/plugins":
        raise SystemExit("replay_server: record: the log does not start with the agent's first "
                         "request (the simulator keeps its last 2000 requests)")
    for e in api:
        if e["method"] != "GET" or e["status"] != 200 or e.get("fault"):
            raise SystemExit("replay_server: record: the recorded run had %s %s -> %s (fault %s)"
                             % (e["method"], e["path"], e["status"], e.get("fault")))
    raw_targets = [e["path"] + ("?" + e["query"] if e["query"] else "") for e in api]
    targets = [strip_key(t) for t in raw_targets]
    run_start = args.run_start
    needle = '"$lt":%d' % run_start
    if not any(needle in urllib.parse.unquote(t) for t in targets):
        raise SystemExit("replay_server: record: no request filter holds %s: wrong run start?"
                         % needle)

    os.makedirs(os.path.join(args.out, "r"))
    files = {}
    json_bytes = gz_bytes = gz1_bytes = 0
    sizes = {}
    users = apps = groups = 0
    for raw, target in zip(raw_targets, targets):
        if target in files:
            continue
        name = "%05d" % len(files)
        files[target] = name
        body = sim_get(conn, raw.replace("api_key=REDACTED", "api_key=" + args.key), target[:80])
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise SystemExit("replay_server: record: %s: invalid JSON: %s" % (target[:80], e))
        path, _, query = target.partition("?")
        collection = urllib.parse.parse_qs(query).get("collection", [""])[0]
        if path == "/o/db" and collection.startswith("app_users"):
            kind = "users"
        elif path == "/o/db" and collection == "apps":
            kind, apps = "apps", apps + len(doc["collections"])
        elif path == "/o/groups":
            kind, groups = "groups", groups + len(doc["result"])
        else:
            kind = "other"
        base = os.path.join(args.out, "r", name + ".json")
        with open(base, "wb") as f:
            f.write(body)
        gz = None
        if len(body) >= GZIP_MIN:
            comp = zlib.compressobj(args.level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            gz = comp.compress(body) + comp.flush()
            with open(base + ".gz", "wb") as f:
                f.write(gz)
        sizes[target] = (len(body), len(gz) if gz else len(body),
                         gzip_len(body, 1) if gz else len(body), kind)
    for target in targets:  # totals over the requests as made (a repeated target counts again)
        n, g, g1, kind = sizes[target]
        json_bytes += n
        gz_bytes += g
        gz1_bytes += g1
    users_json = sum(sizes[t][0] for t in targets if sizes[t][3] == "users")

    # the users the run's window holds (the simulator's oracle, without rendering rows)
    ids = json.loads(sim_get(conn, "/__sim/ids?app=*&full=%d" % run_start, "/__sim/ids"))
    users = sum(len(v) for v in ids.values())
    with open(os.path.join(args.out, "targets.txt"), "w", encoding="utf-8") as f:
        f.writelines(t + "\n" for t in targets)
    index = {
        "version": 1,
        "run_start": run_start,
        "date": email.utils.formatdate(run_start, usegmt=True),
        "gzip_level": args.level,
        "requests": len(targets),
        "responses": len(files),
        "files": files,
        "json_bytes": json_bytes,
        "users_json_bytes": users_json,
        "gzip_bytes": gz_bytes,
        "gzip1_bytes": gz1_bytes,
        "users": users,
        "apps": apps,
        "groups": groups,
        "sequence_sha1": sequence_sha1(targets),
    }
    tmp = os.path.join(args.out, "index.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
    os.rename(tmp, os.path.join(args.out, "index.json"))
    print("recorded %d requests (%d distinct), %.1f MB JSON, gzip level %d %.1f MB (level 1: "
          "%.1f MB), %d users" % (len(targets), len(files), json_bytes / 1e6, args.level,
                                  gz_bytes / 1e6, gz1_bytes / 1e6, users))


# ---- serve ---------------------------------------------------------------------------------

NODE_HEAD = ("HTTP/1.1 200 OK\r\n"
             "Content-Type: application/json; charset=utf-8\r\n"
             "Access-Control-Allow-Origin: *\r\n"
             "X-Frame-Options: deny\r\n"
             "X-XSS-Protection: 1; mode=block\r\n"
             "Strict-Transport-Security: max-age=31536000 ; includeSubDomains\r\n"
             "%s"
             "Date: %s\r\n"
             "Connection: keep-alive\r\n"
             "Keep-Alive: timeout=5\r\n"
             "Transfer-Encoding: chunked\r\n\r\n")


def framed(body, chunk):
    """body as HTTP/1.1 chunks of at most chunk bytes, then the last chunk."""
    parts = []
    for i in range(0, len(body), chunk):
        piece = body[i:i + chunk]
        parts += [b"%x\r\n" % len(piece), piece, b"\r\n"]
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


class Stats:
    def __init__(self, expected_sha1, expected_requests):
        self.lock = threading.Lock()
        self.expected_sha1 = expected_sha1
        self.expected_requests = expected_requests
        self.reset()

    def reset(self):
        self.requests = self.not_found = self.bytes = self.gzip = self.connections = 0
        self.suites = {}
        self.versions = {}
        self.sha = hashlib.sha1()

    def snapshot(self):
        return {"requests": self.requests, "not_found": self.not_found, "bytes": self.bytes,
                "gzip": self.gzip, "connections": self.connections, "suites": self.suites,
                "versions": self.versions, "sequence_sha1": self.sha.hexdigest(),
                "expected_sha1": self.expected_sha1,
                "expected_requests": self.expected_requests}


class Replay:
    """The recorded answers, whole responses built once."""

    def __init__(self, folder, chunk):
        with open(os.path.join(folder, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        date = index["date"]
        head_id = (NODE_HEAD % ("", date)).encode("ascii")
        head_gz = (NODE_HEAD % ("Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n",
                                date)).encode("ascii")
        self.answers = {}
        for target, name in index["files"].items():
            base = os.path.join(folder, "r", name + ".json")
            with open(base, "rb") as f:
                identity = head_id + framed(f.read(), chunk)
            gz = None
            if os.path.exists(base + ".gz"):
                with open(base + ".gz", "rb") as f:
                    gz = head_gz + framed(f.read(), chunk)
            self.answers[target] = (identity, gz)
        self.stats = Stats(index["sequence_sha1"], index["requests"])


def small(status, reason, doc, close=False):
    body = json.dumps(doc).encode("utf-8")
    return ("HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
            "Date: %s\r\nConnection: %s\r\nContent-Length: %d\r\n\r\n"
            % (status, reason, email.utils.formatdate(usegmt=True),
               "close" if close else "keep-alive", len(body))).encode("ascii") + body


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        raw = self.request
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(30)
        conn = raw
        if self.server.ctx is not None:
            try:
                conn = self.server.ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            self.loop(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def loop(self, conn):
        replay = self.server.replay
        stats = replay.stats
        rfile = conn.makefile("rb", 65536)
        counted = False
        while True:
            conn.settimeout(IDLE_TIMEOUT)
            line = rfile.readline(MAX_HEAD + 1)
            if not line:
                return
            conn.settimeout(30)
            head = len(line)
            headers = {}
            while True:
                h = rfile.readline(MAX_HEAD + 1)
                head += len(h)
                if not h or head > MAX_HEAD:
                    return
                if h in (b"\r\n", b"\n"):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            parts = line.decode("latin-1").split()
            if len(parts) != 3:
                conn.sendall(small(400, "Bad Request", {"result": "bad request line"}, True))
                return
            method, target, version = parts
            length = int(headers.get("content-length", "0") or 0)
            if length:
                rfile.read(length)
            close = (version != "HTTP/1.1"
                     or headers.get("connection", "").lower() == "close")
            if target.startswith("/__replay/"):
                conn.sendall(self.control(target, close))
                if close:
                    return
                continue
            key = strip_key(target)
            answer = replay.answers.get(key) if method == "GET" else None
            if answer is None:
                data = small(404, "Not Found", {"result": "not recorded"}, close)
                gz = False
            else:
                gz = "gzip" in headers.get("accept-encoding", "").lower() and answer[1] is not None
                data = answer[1] if gz else answer[0]
            with stats.lock:
                if not counted:
                    counted = True
                    stats.connections += 1
                    tls = isinstance(conn, ssl.SSLSocket)
                    suite = (conn.cipher() or ("?",))[0] if tls else "plain"
                    stats.suites[suite] = stats.suites.get(suite, 0) + 1
                    ver = (conn.version() or "?") if tls else "plain"
                    stats.versions[ver] = stats.versions.get(ver, 0) + 1
                stats.requests += 1
                stats.bytes += len(data)
                stats.gzip += 1 if gz else 0
                stats.sha.update(key.encode("utf-8") + b"\n")
                if answer is None:
                    stats.not_found += 1
            conn.sendall(data)
            if close:
                return

    def control(self, target, close):
        stats = self.server.replay.stats
        path, _, query = target.partition("?")
        if path != "/__replay/stats":
            return small(404, "Not Found", {"error": "unknown control path",
                                             "paths": ["/__replay/stats"]}, close)
        with stats.lock:
            snap = stats.snapshot()
            if "reset=1" in query.split("&"):
                stats.reset()
        return small(200, "OK", snap, close)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def serve(args):
    replay = Replay(args.dir, args.chunk)
    ctx = None
    if not args.http:
        if not args.cert or not args.key:
            raise SystemExit("replay_server: serve: --cert and --key (or --http)")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE  # the client's order wins (nginx default)
        ctx.load_cert_chain(args.cert, args.key)
    server = Server(("127.0.0.1", args.port), Handler)
    server.ctx = ctx
    server.replay = replay
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--sim", required=True)
    r.add_argument("--key", required=True)
    r.add_argument("--run-start", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--level", type=int, default=6)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--port-file", required=True)
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--http", action="store_true")
    s.add_argument("--chunk", type=int, default=65536)
    args = ap.parse_args()
    if args.cmd == "record":
        record(args)
    else:
        serve(args)


if __name__ == "__main__":
    main()
