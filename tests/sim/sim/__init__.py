"""Countly server simulator: the pieces behind countly_sim.py.

Modules:
  jsonjs   JSON exactly as Node writes it (JSON.stringify, relaxed EJSON,
           Countly's HTML escaping) plus the BSON value types.
  mongo    the MongoDB query subset dbviewer passes through (filter, sort,
           skip, limit) with Mongo's cross-type ordering.
  costmodel  indexes, query plans and what each /o/db page costs MongoDB
           (count + find, blocking sorts, the sort memory limit).
  data     the deterministic data set (apps, groups, members, app users).
  users_gen, users_lean, gen_body_adapter  app-user generators.
  truth    the CSV rows countly-sync is expected to write (SPEC.md).
  state    the one mutable server state object (data, clock, faults, stats).
  api      the Countly endpoints (/o/...).
  control  the simulator control API (/__sim/...).
  server   sockets, TLS and HTTP/1.1 framing written by hand like Node's.
"""
