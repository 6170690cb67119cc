"""Countly server simulator: the pieces behind countly_sim.py.

Modules:
  jsonjs   JSON exactly as Node writes it (JSON.stringify, relaxed EJSON,
           Countly's HTML escaping) plus the BSON value types.
  mongo    the MongoDB query subset dbviewer passes through (filter, sort,
           skip, limit) with Mongo's cross-type ordering.
  data     the deterministic data set (apps, groups, members, app users).
  truth    the CSV rows countly-sync is expected to write (SPEC.md).
  state    the one mutable server state object (data, clock, faults, stats).
  api      the Countly endpoints (/o/...).
  control  the simulator control API (/__sim/...).
  server   sockets, TLS and HTTP/1.1 framing written by hand like Node's.
"""
