"""Sockets, TLS and HTTP/1.1 framing, written by hand the way Node does it.

* One thread per connection, keep-alive: many requests per connection;
  an idle connection is closed after the keep-alive timeout (5 s).
* HTTP/1.1 answers: status line, Countly's headers, then Date,
  Connection: keep-alive, Keep-Alive: timeout=5, Transfer-Encoding:
  chunked; each res.write() is one chunk; never Content-Length on JSON.
* HTTP/1.0 requests: close-delimited body, Connection: close.
* Transport faults (drop_mid_body, truncated_chunked, status, hang, http10,
  slow) are applied while writing.
"""

from __future__ import annotations

import email.utils
import http
import random
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import zlib
from typing import Any, TextIO

from . import api, control
from .state import Fault, SimState

MAX_HEAD = 16 * 1024          # Node's default max header size
FIRST_REQUEST_TIMEOUT = 60.0   # Node's headersTimeout
HANG_TIMEOUT = 3600.0
HANDSHAKE_TIMEOUT = 10.0
NGINX_PAGES = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
NODE_ERRORS = {400: "Bad Request", 401: "User does not exist", 404: "Not Found", 429: "Too Many Requests",
               500: "Server error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class ClientGone(Exception):
    """The peer closed or broke the connection."""


class BadRequest(Exception):
    """An unparsable request: answered like Node (status, then close)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class HeadTimeout(Exception):
    """No (complete) request arrived within the timeout."""


def redact_query(raw: str) -> str:
    """The query string with api_key/auth_token values replaced."""
    return re.sub(r"(^|&)(api_key|auth_token)=[^&]*", r"\1\2=REDACTED", raw)


def redact_params(params: dict) -> dict:
    """Parameters with api_key/auth_token values replaced."""
    return {k: ("REDACTED" if k in ("api_key", "auth_token") else v) for k, v in params.items()}


class Logger:
    """Request log lines to stderr and optionally a file (never api keys)."""

    def __init__(self, path: str | None) -> None:
        """Open the optional log file (line buffered)."""
        self.lock = threading.Lock()
        self.file: TextIO | None = open(path, "a", encoding="utf-8", buffering=1) if path else None

    def write(self, text: str) -> None:
        """Log one line."""
        line = "countly_sim: %s\n" % text
        with self.lock:
            sys.stderr.write(line)
            sys.stderr.flush()
            if self.file:
                self.file.write(line)


# ---------------------------------------------------------------------------
# Reading requests


class Connection:
    """One accepted connection: buffered reads, raw writes, close."""

    def __init__(self, sock: socket.socket, number: int) -> None:
        """Wrap a connected (TLS or plain) socket."""
        self.sock = sock
        self.number = number
        self.buf = b""

    def _recv(self) -> None:
        """Read more bytes or raise ClientGone / HeadTimeout."""
        try:
            data = self.sock.recv(65536)
        except socket.timeout as exc:
            raise HeadTimeout() from exc
        except (OSError, ssl.SSLError) as exc:
            raise ClientGone(str(exc)) from exc
        if not data:
            raise ClientGone("eof")
        self.buf += data

    def read_request(self, timeout: float) -> tuple:
        """(method, target, version, headers, body) of the next request."""
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise BadRequest(431)
            self._recv()
        self.sock.settimeout(FIRST_REQUEST_TIMEOUT)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if len(head) > MAX_HEAD:
            raise BadRequest(431)
        lines = head.decode("latin-1").split("\r\n")
        match = re.fullmatch(r"([A-Z]+) (\S+) (HTTP/1\.[01])", lines[0])
        if not match:
            raise BadRequest(400)
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(400)
            headers[name.strip().lower()] = value.strip()
        body = self._read_body(headers)
        return match.group(1), match.group(2), match.group(3), headers, body

    def _read_body(self, headers: dict) -> bytes:
        """A Content-Length request body (chunked request bodies refused)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise BadRequest(400)
        length_text = headers.get("content-length", "0") or "0"
        if not length_text.isdigit():
            raise BadRequest(400)
        length = int(length_text)
        while len(self.buf) < length:
            self._recv()
        body, self.buf = self.buf[:length], self.buf[length:]
        return body

    def drain(self) -> None:
        """Read and discard until the peer goes away (the hang fault)."""
        self.sock.settimeout(HANG_TIMEOUT)
        try:
            while True:
                self.buf = b""
                self._recv()
        except (ClientGone, HeadTimeout):
            pass

    def send(self, data: bytes) -> None:
        """Send everything or raise ClientGone."""
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            raise ClientGone(str(exc)) from exc

    def close(self, notify: bool) -> None:
        """Close; with notify a TLS close_notify is sent first, without it the
        TCP connection is just closed (an abrupt end, no TLS alert)."""
        sock = self.sock
        if notify and isinstance(sock, ssl.SSLSocket):
            try:
                sock.settimeout(1.0)
                sock = sock.unwrap()
            except (OSError, ssl.SSLError, ValueError):
                sock = self.sock
        for s in {id(sock): sock, id(self.sock): self.sock}.values():
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass


def parse_params(target: str, headers: dict, body: bytes) -> tuple:
    """(path, params, raw query): query string plus a form/JSON POST body
    (body fields win, like Countly's processRequest)."""
    split = urllib.parse.urlsplit(target)
    params: dict = {}
    for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
        params.setdefault(key, value)
    if body:
        ctype = headers.get("content-type", "")
        text = body.decode("utf-8", "replace")
        if "json" in ctype:
            parsed, err = api.parse_json_param(text)
            if err is None and isinstance(parsed, dict):
                params.update({k: v if isinstance(v, str) else api.stringify(v) for k, v in parsed.items()})
        else:
            params.update(dict(urllib.parse.parse_qsl(text, keep_blank_values=True)))
    return urllib.parse.unquote(split.path), params, split.query


# ---------------------------------------------------------------------------
# Writing responses


def reason(status: int) -> str:
    """The standard reason phrase."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def head_bytes(state: SimState, status: int, headers: list, version: str, framing: str) -> bytes:
    """Status line and headers in Node's order (Countly's, then Date,
    Connection, Keep-Alive, Transfer-Encoding)."""
    lines = ["%s %d %s" % (version, status, reason(status))]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    lines.append("Date: " + email.utils.formatdate(state.now(), usegmt=True))
    if framing == "chunked":
        lines += ["Connection: keep-alive", "Keep-Alive: timeout=%d" % round(state.options.keepalive_timeout),
                  "Transfer-Encoding: chunked"]
    elif framing == "keep-length":
        lines += ["Connection: keep-alive", "Keep-Alive: timeout=%d" % round(state.options.keepalive_timeout)]
    elif framing == "close-chunked":
        lines += ["Connection: close", "Transfer-Encoding: chunked"]
    elif framing == "close":
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (lowercase hex size)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def status_response(fault: Fault) -> api.Response:
    """The answer of a status fault: Node JSON, or nginx's HTML page for
    502/503/504 (Content-Length framed); body=json|html overrides."""
    code = int(fault.params.get("code", 500))
    style = fault.params.get("body") or ("html" if code in NGINX_PAGES else "json")
    if style == "html":
        title = "%d %s" % (code, NGINX_PAGES.get(code, reason(code)))
        page = ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
                "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (title, title))
        resp = api.Response(code, [page], headers=[("Server", "nginx"), ("Content-Type", "text/html")],
                            framing="length")
    else:
        resp = api.message(code, NODE_ERRORS.get(code, reason(code)))
    if fault.params.get("retry_after"):
        resp.headers = resp.headers + [("Retry-After", str(fault.params["retry_after"]))]
    return resp


def gzip_parts(bodies: list, corrupt: bool, flush_first: bool) -> list:
    """nginx's gzip filter over the body writes: a gzip stream (level 6)
    sent as its output buffers fill (a chunk per compressed piece). With
    corrupt, one byte of the trailer's CRC-32 is flipped; with
    flush_first (a query that fails while streaming) the first write is
    flushed so that what was sent can be decoded."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = []
    for n, body in enumerate(bodies):
        piece = comp.compress(body)
        if flush_first and n == 0:
            piece += comp.flush(zlib.Z_SYNC_FLUSH)
        if piece:
            out.append(piece)
    if not flush_first:
        out.append(comp.flush())
    if corrupt:  # the CRC-32 in the trailer: the data inflates, the check fails at the end
        total = sum(len(p) for p in out)
        target, seen = total - 6, 0
        for i, p in enumerate(out):
            if seen + len(p) > target:
                b = bytearray(p)
                b[target - seen] ^= 0x5A
                out[i] = bytes(b)
                break
            seen += len(p)
    return out


class Writer:
    """Sends one response: framing per request version and fault, wire
    bytes coalesced into writes of varying size."""

    def __init__(self, state: SimState, conn: Connection, rng: random.Random) -> None:
        """Bind to a connection."""
        self.state = state
        self.conn = conn
        self.rng = rng

    def send(self, resp: api.Response, version: str, wants_close: bool, fault: Fault | None,
             accept_gzip: bool = False) -> str:
        """Write resp; returns "keep", "close" (close_notify) or "abort"."""
        kind = fault.kind if fault else ""
        bodies = [p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p for p in resp.parts]
        if accept_gzip and self.state.options.gzip and sum(len(b) for b in bodies) >= 256:
            bodies = gzip_parts(bodies, corrupt=kind == "corrupt_gzip", flush_first=resp.cut)
            resp = api.Response(resp.status, resp.parts, headers=resp.headers +
                                [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                                framing=resp.framing, cut=resp.cut, cost=resp.cost)
        if resp.cut:
            return self._cut(resp, bodies, version, wants_close, kind)
        if kind == "http10":
            head = head_bytes(self.state, resp.status, resp.headers, "HTTP/1.0", "none")
            return self._emit(head, b"".join(bodies), "close", kind)
        if version == "HTTP/1.0":
            head = head_bytes(self.state, resp.status, resp.headers, "HTTP/1.1", "close")
            return self._emit(head, b"".join(bodies), "close", kind)
        if resp.framing == "length":
            body = b"".join(bodies)
            headers = resp.headers + [("Content-Length", str(len(body)))]
            framing = "close" if wants_close else "keep-length"
            head = head_bytes(self.state, resp.status, headers, "HTTP/1.1", framing)
            return self._emit(head, body, "close" if wants_close else "keep", kind)
        framing = "close-chunked" if wants_close else "chunked"
        head = head_bytes(self.state, resp.status, resp.headers, "HTTP/1.1", framing)
        chunks = [chunk(b) for b in bodies if b]
        if kind == "truncated_chunked":
            keep = max(1, (len(chunks) + 1) // 2)
            self._write(head + b"".join(chunks[:keep]))
            return "close"
        return self._emit(head, b"".join(chunks) + b"0\r\n\r\n", "close" if wants_close else "keep", kind)

    def _cut(self, resp: api.Response, bodies: list, version: str, wants_close: bool, kind: str) -> str:
        """A response whose query failed mid-stream: the head and the writes
        made so far (no terminating chunk), then the connection closes
        without TLS close_notify (the worker's socket is destroyed)."""
        if kind == "http10" or version == "HTTP/1.0":
            head = head_bytes(self.state, resp.status, resp.headers, "HTTP/1.0" if kind == "http10" else "HTTP/1.1",
                              "none" if kind == "http10" else "close")
            self._write(head + b"".join(bodies))
            return "abort"
        framing = "close-chunked" if wants_close else "chunked"
        head = head_bytes(self.state, resp.status, resp.headers, "HTTP/1.1", framing)
        self._write(head + b"".join(chunk(b) for b in bodies if b))
        return "abort"

    def _emit(self, head: bytes, body: bytes, outcome: str, kind: str) -> str:
        """Send head+body, or for drop_mid_body half the body then abort."""
        if kind == "drop_mid_body":
            self._write(head + body[: max(1, len(body) // 2)])
            return "abort"
        if kind == "truncated_chunked":
            self._write(head + body[: max(1, len(body) // 2)])
            return "close"
        self._write(head + body)
        return outcome

    def _write(self, data: bytes) -> None:
        """Send in pieces of 1-32 KiB (varying TLS record boundaries)."""
        offset = 0
        while offset < len(data):
            size = self.rng.randint(1024, 32 * 1024)
            self.conn.send(data[offset: offset + size])
            offset += size


# ---------------------------------------------------------------------------
# The request loop


class Server:
    """The listening socket and the per-connection threads."""

    def __init__(self, state: SimState, ctx: ssl.SSLContext | None, logger: Logger) -> None:
        """Prepare; call listen() then serve_forever()."""
        self.state = state
        self.ctx = ctx
        self.logger = logger
        self.listener: socket.socket | None = None
        self._numbers = iter(range(1, 1 << 62))
        self._numbers_lock = threading.Lock()

    def listen(self, port: int, host: str = "127.0.0.1") -> int:
        """Bind host:port (0 = any free port); returns the port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        self.listener = sock
        self.state.port = sock.getsockname()[1]
        self.state.scheme = "https" if self.ctx else "http"
        return self.state.port

    def serve_forever(self) -> None:
        """Accept connections until the process ends."""
        assert self.listener is not None
        while True:
            raw, _ = self.listener.accept()
            with self._numbers_lock:
                number = next(self._numbers)
            threading.Thread(target=self.connection_thread, args=(raw, number), daemon=True).start()

    def connection_thread(self, raw: socket.socket, number: int) -> None:
        """Handshake, then serve requests until the connection ends."""
        sock: Any = raw
        if self.ctx is not None:
            try:
                raw.settimeout(HANDSHAKE_TIMEOUT)
                sock = self.ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError) as exc:
                self.state.count_handshake_failure()
                self.logger.write("conn %d: TLS handshake failed: %s" % (number, exc))
                raw.close()
                return
        self.state.count_accept(sock.version() if self.ctx is not None else None)
        conn = Connection(sock, number)
        try:
            outcome = self.request_loop(conn)
        except ClientGone:
            outcome = "abort"
        except Exception as exc:  # keep serving other connections
            self.logger.write("conn %d: internal error: %r" % (number, exc))
            outcome = "abort"
        conn.close(notify=(outcome == "close"))

    def request_loop(self, conn: Connection) -> str:
        """Serve requests on one connection; returns how to close it."""
        first = True
        while True:
            timeout = FIRST_REQUEST_TIMEOUT if first else self.state.options.keepalive_timeout
            try:
                method, target, version, headers, body = conn.read_request(timeout)
            except HeadTimeout:
                return "close"
            except BadRequest as exc:
                conn.send(b"HTTP/1.1 %d %s\r\nConnection: close\r\n\r\n" % (exc.status, reason(exc.status).encode()))
                return "close"
            path, params, raw_query = parse_params(target, headers, body)
            control_request = path.startswith("/__sim/")
            if first:
                self.state.count_connection(api=not control_request)
                first = False
            outcome = self.serve(conn, method, path, params, raw_query, version, headers, control_request)
            if outcome != "keep":
                return outcome

    def serve(self, conn: Connection, method: str, path: str, params: dict, raw_query: str, version: str,
              headers: dict, control_request: bool) -> str:
        """Answer one request (faults included); returns the outcome."""
        req = api.Request(method, path, params, raw_query, headers)
        wants_close = version == "HTTP/1.0" or "close" in headers.get("connection", "").lower()
        rng = random.Random("%d:%s" % (conn.number, raw_query))
        if control_request:
            self.state.count_control()
            resp = control.handle(self.state, req)
            return Writer(self.state, conn, rng).send(resp, version, wants_close, None)
        self.state.count_request(path)
        fault = self.state.take_fault(path, params, raw_query)
        entry = {"t": round(self.state.now(), 3), "conn": conn.number, "method": method, "path": path,
                 "query": redact_query(raw_query), "params": redact_params(params), "version": version,
                 "status": None, "fault": fault.kind if fault else None}
        self.state.add_log(entry)
        if fault is not None and fault.kind == "hang":
            self.logger.write("conn %d: %s %s?%s -> hang" % (conn.number, method, path, entry["query"]))
            conn.drain()
            return "abort"
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.params.get("seconds", 5)))
        resp = status_response(fault) if fault is not None and fault.kind == "status" else \
            api.handle(self.state, req, fault)
        entry["status"] = resp.status
        if resp.cost is not None:
            entry["cost"] = resp.cost
        self.logger.write("conn %d: %s %s?%s -> %d%s%s" % (conn.number, method, path, entry["query"], resp.status,
                                                           " [%s]" % fault.kind if fault else "",
                                                           " [query failed: sort memory limit]" if resp.cut else ""))
        accept_gzip = "gzip" in headers.get("accept-encoding", "").lower()
        return Writer(self.state, conn, rng).send(resp, version, wants_close, fault, accept_gzip)


def make_context(cert: str, key: str, tls_max: str) -> ssl.SSLContext:
    """Server TLS context: TLS 1.2 minimum, maximum 1.2 or 1.3."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if tls_max == "1.3" else ssl.TLSVersion.TLSv1_2
    return ctx
