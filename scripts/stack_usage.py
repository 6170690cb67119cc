#!/usr/bin/env python3
"""stack_usage.py - worst-case stack from GCC's -fstack-usage / -fcallgraph-info=su.

    stack_usage.py [--top N] [--root main] [--ours DIR]... DIR...

Reads every *.ci file (one VCG call graph per object, node labels carry the
frame size from -fstack-usage) under the DIRs and prints, as Markdown:

  * the N largest frames (function, file, bytes, GCC's qualifier);
  * the deepest call chain from --root over direct calls only (frame sizes
    summed along GCC's call graph: a lower bound, since function pointers
    are not followed);
  * the deepest chain with function pointers followed: an indirect call in
    our code may reach any "callback" of our code (a function under an
    --ours DIR that no direct call reaches: the transport table, the body
    and record callbacks, mbedTLS's bio callbacks), one in mbedTLS only
    tls.c's bio_* callbacks: an upper bound (mbedTLS's own function
    pointers, e.g. cipher wrappers, are not followed).
  Recursion is cut where a function is already on the chain. Functions
  without a .ci (the C library) count 0 and are listed.
"""
import argparse
import os
import re
import sys

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def load(dirs, ours):
    defs = {}  # (file, name) -> (bytes, qualifier, location)
    by_name = {}  # name -> [(file, name)]
    edges = {}  # (file, name) -> set of callee names
    owner = {}
    for top in dirs:
        for base, _, files in os.walk(top):
            for f in files:
                if not f.endswith(".ci"):
                    continue
                path = os.path.join(base, f)
                text = open(path, encoding="utf-8", errors="replace").read()
                local = {}
                for name, label in NODE.findall(text):
                    parts = label.split("\\n")
                    m = re.match(r"(\d+) bytes \(([^)]*)\)", parts[2]) if len(parts) > 2 else None
                    if not m:
                        continue
                    key = (path, name)
                    defs[key] = (int(m.group(1)), m.group(2), parts[1])
                    by_name.setdefault(name, []).append(key)
                    local[name] = key
                    owner[key] = any(os.path.abspath(path).startswith(os.path.abspath(o) + os.sep)
                                     for o in ours)
                for src, dst in EDGE.findall(text):
                    if src in local:
                        edges.setdefault(local[src], set()).add((path, dst))
    return defs, by_name, edges, owner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--root", default="main")
    ap.add_argument("--ours", action="append", default=[])
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    defs, by_name, edges, owner = load(args.dirs, args.ours)
    if not defs:
        print("no .ci files found under " + " ".join(args.dirs))
        return 1

    def resolve(path, name):
        """The definition a call from file `path` to `name` reaches."""
        if (path, name) in defs:
            return (path, name)
        cands = by_name.get(name, [])  # .ci does not say which are static: first one
        return cands[0] if cands else None

    called = set()
    for key, callees in edges.items():
        for path, name in callees:
            if name != "__indirect_call":
                r = resolve(path, name)
                if r:
                    called.add(r)
    callbacks = sorted(k for k in defs if owner[k] and k not in called and k[1] != args.root)

    bio = [k for k in callbacks if k[1].split(":")[-1].startswith("bio_")]
    unknown = set()
    memo = {}
    follow = [True]

    def worst(key, stack):
        if key in memo:
            return memo[key]
        best, best_chain = 0, []
        for path, name in sorted(edges.get(key, ())):
            if name == "__indirect_call":
                if not follow[0]:
                    continue
                # ours: any of our callbacks; mbedTLS: only its bio callbacks
                targets = [(k, True) for k in (callbacks if owner[key] else bio)]
            else:
                r = resolve(path, name)
                if r is None:
                    unknown.add(name)
                    continue
                targets = [(r, False)]
            for t, indirect in targets:
                if t in stack:
                    continue  # recursion: cut
                w, chain = worst(t, stack | {t})
                if w > best:
                    best = w
                    best_chain = [(t, indirect)] + chain
        total = defs[key][0] + best
        memo[key] = (total, best_chain)
        return memo[key]

    print("Largest frames (-fstack-usage):\n")
    print("| function | file | bytes | kind |")
    print("|---|---|---:|---|")
    frames = sorted(defs.items(), key=lambda kv: -kv[1][0])
    for (path, name), (size, qual, loc) in frames[: args.top]:
        print("| `%s` | %s | %d | %s |" % (name, loc.split(":")[0], size, qual))

    roots = by_name.get(args.root, [])
    if not roots:
        print("\nno %s in the call graph" % args.root)
        return 1
    sys.setrecursionlimit(100000)
    follow[0] = False
    direct, _ = worst(roots[0], {roots[0]})
    memo.clear()
    follow[0] = True
    total, chain = worst(roots[0], {roots[0]})
    print("\nDirect calls only (a lower bound): **%d bytes**." % direct)
    print("\nWith function pointers followed (an upper bound; the path may be infeasible): "
          "**%d bytes**, %d functions deep (`*` = reached through a function pointer: "
          "from our code to any of our callbacks, from mbedTLS to tls.c's bio "
          "callbacks only):\n" % (total, len(chain) + 1))
    print("| # | function | file | frame | running total |")
    print("|---:|---|---|---:|---:|")
    run = 0
    for i, (key, indirect) in enumerate([(roots[0], False)] + chain):
        size, qual, loc = defs[key]
        run += size
        print("| %d | `%s`%s | %s | %d%s | %d |" % (i, key[1], " *" if indirect else "",
                                                   loc.split(":")[0], size,
                                                   "" if qual == "static" else " (%s)" % qual, run))
    dyn = sorted({k[1] for k in defs if defs[k][1] != "static"})
    print("\nFunctions whose frame is not static (GCC: dynamic/bounded): %s." %
          (", ".join("`%s`" % d for d in dyn[:20]) + (" …" if len(dyn) > 20 else "") if dyn else "none"))
    ext = sorted(n for n in unknown if not n.startswith("__builtin"))
    print("\nCalled but not compiled here (C library, compiler runtime; counted as 0 bytes): "
          "%d functions, e.g. %s." % (len(ext), ", ".join("`%s`" % n for n in ext[:12])))
    print("\nCallbacks an indirect call is resolved to: %s." %
          ", ".join("`%s`" % k[1] for k in callbacks[:40]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
