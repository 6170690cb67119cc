"""The simulator's one mutable state object: data, clock, faults, counters.

Every handler thread works through a `SimState`; all mutation happens under
its lock.  Nothing else in the package keeps mutable module-level state.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import mongo
from .data import Dataset

FAULT_KINDS = ("drop_mid_body", "truncated_chunked", "status", "hang", "invalid_json", "huge_record",
               "auth_revoked", "http10", "slow")
LOG_LINES = 2000
QUERY_CACHE_SIZE = 16


@dataclass
class Options:
    """Server behaviour fixed at start (command-line options)."""

    edition: str = "ee"
    dbviewer: bool = True
    honour_noescape: bool = True
    keepalive_timeout: float = 5.0
    version: str = "24.05.15"


@dataclass
class Fault:
    """An armed fault: fires on the next `count` matching requests after
    skipping `after` of them (count -1 = forever)."""

    kind: str
    count: int = 1
    after: int = 0
    path: str = ""
    collection: str = ""
    match: str = ""
    params: dict = field(default_factory=dict)
    fired: int = 0

    def matches(self, path: str, params: dict, raw_query: str) -> bool:
        """True when a request is one this fault targets."""
        if self.path and not path.startswith(self.path):
            return False
        if self.collection and params.get("collection") != self.collection:
            return False
        return not self.match or self.match in raw_query

    def describe(self) -> dict:
        """JSON view of the fault."""
        return {"kind": self.kind, "count": self.count, "after": self.after, "path": self.path,
                "collection": self.collection, "match": self.match, "params": self.params,
                "fired": self.fired}


class SimState:
    """Shared, lock-protected simulator state."""

    def __init__(self, data: Dataset, options: Options, clock_offset: float = 0.0) -> None:
        """Wrap a generated data set."""
        self.lock = threading.RLock()
        self.data = data
        self.options = options
        self.clock_offset = clock_offset
        self.faults: list = []
        self.auth_revoked = False
        self.port = 0
        self.scheme = "https"
        self.truth_backend: Any = None  # gen_body_adapter.TruthRows when available
        self.stats = {"connections": 0, "all_connections": 0, "requests": 0, "control_requests": 0,
                      "handshake_failures": 0, "requests_by_path": {}, "tls_versions": {},
                      "faults_fired": {}}
        self.log: collections.deque = collections.deque(maxlen=LOG_LINES)
        self._query_cache: collections.OrderedDict = collections.OrderedDict()

    # ---- clock ---------------------------------------------------------
    def now(self) -> float:
        """Simulator time: real time plus the clock offset."""
        return time.time() + self.clock_offset

    # ---- counters ------------------------------------------------------
    def count_connection(self, api: bool) -> None:
        """A connection carried its first request (api: not /__sim/)."""
        with self.lock:
            if api:
                self.stats["connections"] += 1

    def count_accept(self, tls_version: str | None) -> None:
        """A TCP connection was accepted (and its TLS handshake done)."""
        with self.lock:
            self.stats["all_connections"] += 1
            if tls_version:
                versions = self.stats["tls_versions"]
                versions[tls_version] = versions.get(tls_version, 0) + 1

    def count_handshake_failure(self) -> None:
        """A TLS handshake failed."""
        with self.lock:
            self.stats["handshake_failures"] += 1

    def count_request(self, path: str) -> None:
        """An API request (not /__sim/) was read."""
        with self.lock:
            self.stats["requests"] += 1
            by_path = self.stats["requests_by_path"]
            by_path[path] = by_path.get(path, 0) + 1

    def count_control(self) -> None:
        """A control request was read."""
        with self.lock:
            self.stats["control_requests"] += 1

    def snapshot_stats(self) -> dict:
        """A deep copy of the counters."""
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def add_log(self, entry: dict) -> None:
        """Remember one request line (api_key already redacted)."""
        with self.lock:
            self.log.append(entry)

    # ---- faults --------------------------------------------------------
    def arm(self, fault: Fault) -> None:
        """Add a fault to the list."""
        with self.lock:
            self.faults.append(fault)

    def reset_faults(self) -> None:
        """Drop every fault and restore revoked credentials."""
        with self.lock:
            self.faults.clear()
            self.auth_revoked = False

    def take_fault(self, path: str, params: dict, raw_query: str) -> Fault | None:
        """The fault that fires for this request, if any (consumes it)."""
        with self.lock:
            chosen = None
            for fault in self.faults:
                if fault.count == 0 or not fault.matches(path, params, raw_query):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                if chosen is None:
                    chosen = fault
            if chosen is None:
                return None
            chosen.fired += 1
            if chosen.count > 0:
                chosen.count -= 1
            fired = self.stats["faults_fired"]
            fired[chosen.kind] = fired.get(chosen.kind, 0) + 1
            if chosen.kind == "auth_revoked":
                self.auth_revoked = True
            return chosen

    # ---- queries -------------------------------------------------------
    def query(self, coll_name: str, query: dict, sort: Any, skip: int, limit: int) -> tuple:
        """(total, page docs, collection) for a dbviewer query; results of
        the same filter+sort are cached until the collection changes."""
        with self.lock:
            coll = self.data.collection(coll_name)
            if coll is None:
                return 0, [], None
            key = (coll_name, coll.version, _canonical(query), _canonical(sort))
            hit = self._query_cache.get(key)
            if hit is None:
                matched = [d for d in coll.docs if mongo.matches(d, query)]
                hit = mongo.sort_docs(matched, mongo.normalise_sort(sort))
                self._query_cache[key] = hit
                while len(self._query_cache) > QUERY_CACHE_SIZE:
                    self._query_cache.popitem(last=False)
            self._query_cache.move_to_end(key)
            return len(hit), mongo.page(hit, skip, limit), coll


def _canonical(value: Any) -> str:
    """A cache key for a filter or sort document (order-preserving)."""
    return json.dumps(value, default=repr, separators=(",", ":"))
