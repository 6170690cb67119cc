#!/usr/bin/env python3
"""countly_sim: a Countly server simulator for the countly-sync tests.

Serves the Countly read API (/o/system, /o/apps, /o/groups, /o/db) over
HTTPS (or plain HTTP with --http) on 127.0.0.1 (or --host), framed like Node, with
deterministic data, a control API under /__sim/ and switchable faults.
See tests/sim/README.md.

stdout: line 1 the port, then "admin_key=..." and "user_key=..." (stdout
only; the request log on stderr / --log never contains api keys).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sim import server  # noqa: E402
from sim.data import ADMIN_KEY, USER_KEY, Dataset  # noqa: E402
from sim.state import Options, SimState  # noqa: E402
from sim.users_factory import choose_user_factory  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GEN_PKI = os.path.join(HERE, "..", "integration", "gen_pki.sh")


def parse_args(argv: list) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description="Countly server simulator (127.0.0.1 unless --host)")
    p.add_argument("--port", type=int, default=0, help="TCP port, 0 = any free port")
    p.add_argument("--host", default="127.0.0.1",
                   help="IPv4 address to bind (default 127.0.0.1; anything else only inside a "
                        "network namespace the test made itself, e.g. tests/lwip)")
    p.add_argument("--port-file", help="write the bound port to this file once listening")
    p.add_argument("--cert", help="server certificate (PEM)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--http", action="store_true", help="plain HTTP instead of TLS")
    p.add_argument("--tls-max", choices=["1.2", "1.3"], default="1.3")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--apps", type=int, default=3)
    p.add_argument("--users-per-app", type=int, default=5000)
    p.add_argument("--edition", choices=["ee", "ce"], default="ee")
    p.add_argument("--no-dbviewer", action="store_true", help="dbviewer plugin disabled (/o/db invalid)")
    p.add_argument("--ignore-noescape", action="store_true",
                   help="behave like an older server: HTML-escape /o/apps, /o/groups even with noescape")
    p.add_argument("--clock-offset", type=float, default=0.0, help="simulator clock = real time + this (s)")
    p.add_argument("--data-now", type=int, help="base time of the generated data (default: simulator now)")
    p.add_argument("--keepalive-timeout", type=float, default=5.0, help="idle keep-alive timeout (s)")
    p.add_argument("--generator", choices=["auto", "sim", "gen_body", "lean"], default="auto",
                   help="app-user generator: tests/pipeline/gen_body.py when present (auto), the built-in one "
                        "(sim) or the fast one for big data sets (lean)")
    p.add_argument("--sort-limit-mb", type=float, default=100.0,
                   help="MongoDB's blocking-sort memory limit in MiB (fractions allowed; 0 = none, as when "
                        "MongoDB >= 6.0 spills to disk); a find above it fails")
    p.add_argument("--churn", type=int, default=0,
                   help="after each /o/db page of an app's users, this many of its users with lac before "
                        "now get lac = now (0 = off)")
    p.add_argument("--bulk-import", type=int, default=0,
                   help="this many users of each app (the first ones, counted in --users-per-app) share one "
                        "lac second: data-now - 5 days")
    p.add_argument("--gzip", action="store_true",
                   help="behave like Countly's stock nginx front: gzip JSON bodies of 256 bytes or more "
                        "for clients that send Accept-Encoding: gzip")
    p.add_argument("--log", help="append the request log to this file too")
    p.add_argument("--demo-dir", help="demo mode: PKI, port, keys and a client configuration in this folder")
    args = p.parse_args(argv)
    if args.sort_limit_mb < 0 or args.churn < 0 or args.bulk_import < 0:
        p.error("--sort-limit-mb, --churn and --bulk-import must not be negative")
    if args.demo_dir:
        prepare_demo_pki(args)
    if not args.http and not (args.cert and args.key):
        p.error("--cert and --key are required unless --http or --demo-dir")
    return args


def prepare_demo_pki(args: argparse.Namespace) -> None:
    """Generate the test PKI into --demo-dir (if missing) and use it."""
    os.makedirs(args.demo_dir, exist_ok=True)
    subprocess.run(["bash", GEN_PKI, args.demo_dir], check=True)
    args.cert = args.cert or os.path.join(args.demo_dir, "server-ec.crt")
    args.key = args.key or os.path.join(args.demo_dir, "server-ec.key")
    args.port_file = args.port_file or os.path.join(args.demo_dir, "port")


def write_demo_config(args: argparse.Namespace, port: int) -> None:
    """A countly-sync configuration.json for the demo server."""
    scheme = "http" if args.http else "https"
    config = {"server_url": "%s://localhost:%d" % (scheme, port), "api_key": ADMIN_KEY, "app_id": "*",
              "ca_file": os.path.abspath(os.path.join(args.demo_dir, "ca-ec.crt")),
              "output_dir": os.path.abspath(os.path.join(args.demo_dir, "countly-data"))}
    path = os.path.join(args.demo_dir, "configuration.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.chmod(path, 0o600)


def write_atomic(path: str, text: str) -> None:
    """Write a small file via rename so readers never see it half-written."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list) -> int:
    """Generate data, listen, announce the port, serve."""
    args = parse_args(argv)
    logger = server.Logger(args.log)
    started = time.time()
    data_now = args.data_now if args.data_now is not None else int(time.time() + args.clock_offset)
    factory, factory_name, truth_backend = choose_user_factory(args.generator)
    gc.disable()  # millions of long-lived objects: no collections while they are made
    data = Dataset(args.seed, data_now, args.apps, args.users_per_app, factory, bulk_import=args.bulk_import)
    gc.freeze()   # and none that walk them later
    gc.enable()
    options = Options(edition=args.edition, dbviewer=not args.no_dbviewer,
                      honour_noescape=not args.ignore_noescape, keepalive_timeout=args.keepalive_timeout,
                      generator=factory_name, gzip=args.gzip)
    state = SimState(data, options, args.clock_offset)
    state.truth_backend = truth_backend
    state.set_sort_limit_mb(args.sort_limit_mb)
    state.churn_k = args.churn
    ctx = None if args.http else server.make_context(args.cert, args.key, args.tls_max)
    srv = server.Server(state, ctx, logger)
    port = srv.listen(args.port, args.host)
    if args.demo_dir:
        write_demo_config(args, port)
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % port)
    sys.stdout.write("%d\nadmin_key=%s\nuser_key=%s\n" % (port, ADMIN_KEY, USER_KEY))
    sys.stdout.flush()
    logger.write("listening on %s:%d (%s, %s, dbviewer %s, %d apps x %d users, generator %s, %.1fs)"
                 % (args.host, port, state.scheme, args.edition, "on" if options.dbviewer else "off", args.apps,
                    args.users_per_app, factory_name, time.time() - started))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
