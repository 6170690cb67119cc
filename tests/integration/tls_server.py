#!/usr/bin/env python3
"""Scriptable HTTPS/1.1 test server for the countly-sync integration tests.

Listens on 127.0.0.1 only.  HTTP framing is written by hand on the raw TLS
socket (no http.server) so every byte on the wire is under test control.

Modes (--mode):
  normal      HTTP/1.1 keep-alive server, endpoints below.
  silent-tcp  accepts TCP connections, never reads or writes.
  silent-tls  completes the TLS handshake, then never answers.

Endpoints in normal mode (query strings ignored unless stated; bodies are
the pattern of pattern.py):
  /len/N              200, Content-Length N
  /chunked/N?chunk=K  200, chunked, K-byte chunks (default 8192), lowercase
                      hex sizes, extension ";x=y" on every third chunk,
                      trailer "X-Trailer: 1"; streamed
  /onebyte/N          chunked with 1-byte chunks
  /close/N            200 with Connection: close, close-delimited body
  /http10/N           "HTTP/1.0 200 OK", close-delimited body
  /cut/N              Content-Length N, only N/2 bytes sent, then TCP close
  /cutchunked/N?chunk=K  chunked, about N/2 bytes, then TCP close
  /hang               reads the request, never answers
  /status/CODE        status CODE, body {"result":"status CODE"};
                      429 adds Retry-After: 7
  /closeafter/N       Content-Length N, then the server closes the connection
                      (no Connection: close header)
  /stats              {"connections": C, "requests": R}
Anything else gets a 404 JSON body.

Every response carries an RFC 1123 Date and
Content-Type: application/json; charset=utf-8.

Counters (connections accepted, requests served) are reported by /stats and,
with --stats-file, rewritten as JSON to that file after every change.
"""

import argparse
import email.utils
import http
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pattern  # noqa: E402  (sibling module)

CONTENT_TYPE = b"application/json; charset=utf-8"
MAX_HEADER_BYTES = 64 * 1024
SEND_BATCH = 64 * 1024
CLOSE_NOTIFY_TIMEOUT = 1.0


class Counters:
    """Thread-safe connection/request counters, optionally mirrored to a file."""

    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._path = path
        self.connections = 0
        self.requests = 0
        self._write()

    def add(self, connections=0, requests=0):
        """Increment the counters and refresh the stats file."""
        with self._lock:
            self.connections += connections
            self.requests += requests
            self._write()

    def snapshot(self):
        """Return {"connections": C, "requests": R}."""
        with self._lock:
            return {"connections": self.connections, "requests": self.requests}

    def _write(self):
        """Atomically rewrite the stats file (caller holds the lock)."""
        if not self._path:
            return
        tmp = self._path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            json.dump({"connections": self.connections, "requests": self.requests}, f)
        os.replace(tmp, self._path)


def log(msg):
    """Log one line to stderr (never to stdout, which carries the port)."""
    sys.stderr.write("tls_server[%d]: %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


class ClientGone(Exception):
    """The peer closed the connection (cleanly or not)."""


class Request:
    """A parsed request head."""

    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # dict, lower-case names
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        self.query = urllib.parse.parse_qs(parsed.query)

    def wants_close(self):
        """True when the client asked for the connection to end after this."""
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" not in conn
        return "close" in conn


class Connection:
    """One accepted connection: buffered reads plus HTTP response writers."""

    def __init__(self, sock, counters):
        self.sock = sock
        self.counters = counters
        self.buf = b""

    # ---- reading -------------------------------------------------------
    def _recv(self):
        """Read more bytes into the buffer; raise ClientGone on EOF/error."""
        try:
            data = self.sock.recv(65536)
        except (OSError, ssl.SSLError) as exc:
            raise ClientGone(str(exc)) from exc
        if not data:
            raise ClientGone("eof")
        self.buf += data

    def read_request(self):
        """Return the next Request (pipelining-safe), or raise ClientGone."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEADER_BYTES:
                raise ClientGone("request head too large")
            self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise ClientGone("bad request line %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        # Discard a request body, if any (GETs normally have none).
        length = int(headers.get("content-length", "0") or "0")
        while len(self.buf) < length:
            self._recv()
        self.buf = self.buf[length:]
        return Request(parts[0], parts[1], parts[2], headers)

    def drain_forever(self):
        """Read and discard until the peer goes away (used by /hang)."""
        try:
            while True:
                self.buf = b""
                self._recv()
        except ClientGone:
            pass

    # ---- writing -------------------------------------------------------
    def send(self, data):
        """Send all bytes; raise ClientGone when the peer is gone."""
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            raise ClientGone(str(exc)) from exc

    def send_head(self, code, headers=(), version="HTTP/1.1"):
        """Send a status line plus Date, Content-Type and extra headers."""
        reason = http.HTTPStatus(code).phrase if code in http.HTTPStatus._value2member_map_ else "Status"
        lines = ["%s %d %s" % (version, code, reason),
                 "Date: " + email.utils.formatdate(usegmt=True),
                 "Server: countly-sync-test",
                 "Content-Type: " + CONTENT_TYPE.decode()]
        lines.extend(headers)
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_pattern(self, length):
        """Send the first `length` pattern bytes."""
        for piece in pattern.pieces(0, length):
            self.send(piece)

    def send_chunked(self, length, chunk, finish=True):
        """Stream `length` pattern bytes as chunks of `chunk` bytes.

        Every third chunk carries the extension ";x=y".  With finish, the
        last chunk and the trailer "X-Trailer: 1" follow.  Output is batched
        into ~64 KiB writes; memory stays bounded whatever the length.
        """
        batch = []
        batched = 0
        offset = 0
        index = 0
        while offset < length:
            n = min(chunk, length - offset)
            ext = ";x=y" if index % 3 == 2 else ""
            batch.append(("%x%s\r\n" % (n, ext)).encode("ascii"))
            batch.extend(pattern.pieces(offset, n))
            batch.append(b"\r\n")
            batched += n + 16
            offset += n
            index += 1
            if batched >= SEND_BATCH:
                self.send(b"".join(batch))
                batch, batched = [], 0
        if finish:
            batch.append(b"0\r\nX-Trailer: 1\r\n\r\n")
        if batch:
            self.send(b"".join(batch))

    def close(self, notify):
        """Close the connection, sending a TLS close_notify first if notify.

        Without notify the TCP connection is closed abruptly (no TLS alert).
        """
        sock = self.sock
        if notify and isinstance(sock, ssl.SSLSocket):
            try:
                sock.settimeout(CLOSE_NOTIFY_TIMEOUT)
                sock = sock.unwrap()
            except (OSError, ssl.SSLError, ValueError):
                sock = self.sock
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass
        if sock is not self.sock:
            try:
                self.sock.close()
            except OSError:
                pass


def number(text, default=0):
    """Parse a non-negative decimal path component, or return default."""
    return int(text) if text.isdigit() else default


def chunk_size(req, default=8192):
    """The ?chunk=K query parameter (K >= 1)."""
    values = req.query.get("chunk")
    return max(1, number(values[0], default)) if values else default


def json_body(obj):
    """Encode obj as compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def serve_request(conn, req, counters):
    """Answer one request.  Returns "keep", "close" (with close_notify),
    "abort" (no close_notify) or "hang"."""
    parts = req.path.strip("/").split("/")
    name = parts[0] if parts else ""
    arg = parts[1] if len(parts) > 1 else ""
    n = number(arg)
    closing = req.wants_close()
    conn_hdr = ["Connection: close"] if closing else []

    if name == "len" or name == "closeafter":
        conn.send_head(200, ["Content-Length: %d" % n] + conn_hdr)
        conn.send_pattern(n)
        return "close" if closing or name == "closeafter" else "keep"
    if name in ("chunked", "onebyte"):
        k = 1 if name == "onebyte" else chunk_size(req)
        conn.send_head(200, ["Transfer-Encoding: chunked", "Trailer: X-Trailer"] + conn_hdr)
        conn.send_chunked(n, k)
        return "close" if closing else "keep"
    if name == "close":
        conn.send_head(200, ["Connection: close"])
        conn.send_pattern(n)
        return "close"
    if name == "http10":
        conn.send_head(200, version="HTTP/1.0")
        conn.send_pattern(n)
        return "close"
    if name == "cut":
        conn.send_head(200, ["Content-Length: %d" % n])
        conn.send_pattern(n // 2)
        return "abort"
    if name == "cutchunked":
        conn.send_head(200, ["Transfer-Encoding: chunked"])
        conn.send_chunked(n // 2, chunk_size(req), finish=False)
        return "abort"
    if name == "hang":
        return "hang"
    if name == "status":
        code = number(arg, 500)
        body = json_body({"result": "status %d" % code})
        extra = ["Retry-After: 7"] if code == 429 else []
        conn.send_head(code, ["Content-Length: %d" % len(body)] + extra + conn_hdr)
        conn.send(body)
        return "close" if closing else "keep"
    if name == "stats":
        body = json_body(counters.snapshot())
        conn.send_head(200, ["Content-Length: %d" % len(body)] + conn_hdr)
        conn.send(body)
        return "close" if closing else "keep"
    body = json_body({"result": "not found", "path": req.path})
    conn.send_head(404, ["Content-Length: %d" % len(body)] + conn_hdr)
    conn.send(body)
    return "close" if closing else "keep"


def handle_normal(conn, counters):
    """Keep-alive request loop for one connection."""
    while True:
        req = conn.read_request()
        counters.add(requests=1)
        outcome = serve_request(conn, req, counters)
        if outcome == "keep":
            continue
        if outcome == "hang":
            conn.drain_forever()
            conn.close(notify=False)
        else:
            conn.close(notify=(outcome == "close"))
        return


def handle_client(raw, ctx, mode, counters):
    """Thread body: TLS handshake (unless silent-tcp) then mode behaviour."""
    try:
        if mode == "silent-tcp":
            # Hold the socket open, never reading or writing; it is closed
            # when the server process exits.
            while True:
                time.sleep(3600)
        raw.settimeout(30)
        try:
            sock = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            log("handshake failed: %s" % exc)
            raw.close()
            return
        sock.settimeout(None)
        conn = Connection(sock, counters)
        if mode == "silent-tls":
            conn.drain_forever()
            conn.close(notify=False)
            return
        handle_normal(conn, counters)
    except ClientGone as exc:
        if str(exc) != "eof":
            log("client gone: %s" % exc)
        try:
            raw.close()
        except OSError:
            pass
    except Exception as exc:  # keep serving other connections
        log("error: %r" % exc)
        try:
            raw.close()
        except OSError:
            pass


TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def make_context(args):
    """Server SSLContext for the given cert/key and version bounds."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.minimum_version = TLS_VERSIONS[args.tls_min]
    ctx.maximum_version = TLS_VERSIONS[args.tls_max]
    return ctx


def parse_args(argv):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--cert", help="server certificate (PEM)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--tls-min", choices=sorted(TLS_VERSIONS), default="1.2")
    p.add_argument("--tls-max", choices=sorted(TLS_VERSIONS), default="1.3")
    p.add_argument("--mode", choices=["normal", "silent-tcp", "silent-tls"], default="normal")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--stats-file", help="mirror the counters to this JSON file")
    args = p.parse_args(argv)
    if args.mode != "silent-tcp" and not (args.cert and args.key):
        p.error("--cert and --key are required unless --mode silent-tcp")
    if TLS_VERSIONS[args.tls_min] > TLS_VERSIONS[args.tls_max]:
        p.error("--tls-min is above --tls-max")
    return args


def write_port_file(path, port):
    """Atomically publish the bound port."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv):
    """Bind, publish the port, then accept forever."""
    args = parse_args(argv)
    ctx = make_context(args) if args.mode != "silent-tcp" else None
    counters = Counters(args.stats_file)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    port = listener.getsockname()[1]
    if args.port == 0:
        print(port, flush=True)
    if args.port_file:
        write_port_file(args.port_file, port)
    while True:
        try:
            raw, _ = listener.accept()
        except InterruptedError:
            continue
        counters.add(connections=1)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle_client, args=(raw, ctx, args.mode, counters),
                         daemon=True).start()


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
