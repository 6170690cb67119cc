#!/usr/bin/env python3
"""connect_proxy.py - a small HTTP CONNECT proxy for the proxy tests.

Listens on 127.0.0.1, answers each "CONNECT host:port HTTP/1.1" request and,
on success, tunnels bytes both ways until either side closes. Options:

  --port N / --port-file F   listen port (0 = any free one), written to F
  --auth USER:PASSWORD       require Proxy-Authorization: Basic; answer 407
                             without it or with other credentials
  --resolve NAME=ADDR        connect to ADDR for NAME (the tests' made-up
                             names exist only in the agent's /etc/hosts)
  --answer CODE              answer every CONNECT (after the credentials
                             check) with CODE and its standard reason, e.g.
                             502 Bad Gateway, 503, 403, and tunnel nothing
  --log F                    one line per CONNECT: "CONNECT host:port <verdict>"
                             (verdict: ok, 407 proxy authentication required
                             (no credentials / wrong credentials), 502 bad
                             gateway, or the --answer code and reason)

The log never holds the credentials sent.
"""
import argparse
import base64
import http
import socket
import sys
import threading


def read_head(conn):
    """The request head (bytes up to the empty line), or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 16384:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def pump(src, dst):
    """Copies src to dst until src ends, then half-closes dst."""
    try:
        while True:
            chunk = src.recv(65536)
            if not chunk:
                break
            dst.sendall(chunk)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class Proxy:
    def __init__(self, args):
        self.auth = args.auth
        self.answer = args.answer
        self.resolve = dict(r.split("=", 1) for r in args.resolve)
        self.log_path = args.log
        self.lock = threading.Lock()

    def log(self, line):
        if self.log_path:
            with self.lock, open(self.log_path, "a") as f:
                f.write(line + "\n")

    def refuse(self, conn, target, code, reason, extra=""):
        self.log("CONNECT %s %d %s" % (target, code, reason.lower()))
        body = "%d %s\n" % (code, reason)
        conn.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                      % (code, reason, extra, len(body), body)).encode())

    def credentials_ok(self, lines, conn, target):
        if not self.auth:
            return True
        sent = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "proxy-authorization":
                sent = value.strip()
        want = "Basic " + base64.b64encode(self.auth.encode()).decode()
        if sent == want:
            return True
        why = "no credentials" if sent is None else "wrong credentials"
        self.refuse(conn, target, 407, "Proxy Authentication Required",
                    'Proxy-Authenticate: Basic realm="countly-sync tests"\r\n')
        self.log("  (%s)" % why)
        return False

    def handle(self, conn):
        with conn:
            got = read_head(conn)
            if got is None:
                return
            head, rest = got
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or parts[0] != "CONNECT":
                self.refuse(conn, lines[0][:60], 405, "Method Not Allowed")
                return
            target = parts[1]
            if not self.credentials_ok(lines, conn, target):
                return
            if self.answer is not None:
                self.refuse(conn, target, self.answer, http.HTTPStatus(self.answer).phrase)
                return
            host, _, port = target.rpartition(":")
            host = host.strip("[]")
            try:
                upstream = socket.create_connection((self.resolve.get(host, host), int(port)),
                                                   timeout=10)
            except (OSError, ValueError):
                self.refuse(conn, target, 502, "Bad Gateway")
                return
            self.log("CONNECT %s ok" % target)
            with upstream:
                upstream.settimeout(None)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n"
                             b"Proxy-Agent: connect_proxy.py\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
                back = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
                back.start()
                pump(conn, upstream)
                back.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--auth")
    ap.add_argument("--resolve", action="append", default=[])
    ap.add_argument("--answer", type=int)
    ap.add_argument("--log")
    args = ap.parse_args()
    proxy = Proxy(args)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(64)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.getsockname()[1])
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=proxy.handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
