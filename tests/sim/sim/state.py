"""The simulator's one mutable state object: data, clock, faults, counters.

Every handler thread works through a `SimState`; all mutation happens under
its lock.  Nothing else in the package keeps mutable module-level state.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import costmodel
from .data import Dataset, touch_user

FAULT_KINDS = ("drop_mid_body", "truncated_chunked", "status", "hang", "invalid_json", "huge_record",
               "auth_revoked", "http10", "slow", "corrupt_gzip")
LOG_LINES = 2000
MS_LAC = 1000000000000  # a lac at or above this is legacy milliseconds


@dataclass
class Options:
    """Server behaviour fixed at start (command-line options)."""

    edition: str = "ee"
    dbviewer: bool = True
    honour_noescape: bool = True
    keepalive_timeout: float = 5.0
    version: str = "24.05.15"
    generator: str = "sim"
    gzip: bool = False  # an nginx front with `gzip on` (countly-api.md 5.2)


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
        self.engine = costmodel.Engine()
        self.cost = costmodel.new_totals()
        self.cost_by_collection: dict = {}
        self.churn_k = 0
        self.churned: dict = {}        # app id -> [_id, ...] in order of first churn
        self._churned_sets: dict = {}
        self._churn_rng = random.Random("%d:churn" % data.seed)
        self._db_requests = 0

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

    # ---- queries and their cost -----------------------------------------
    def query(self, coll_name: str | None, query: dict, sort: Any, skip: int, limit: int) -> tuple:
        """(Outcome, collection) of one dbviewer page (count + find), its
        cost charged to the counters; coll_name None = not in the countly
        database (nothing there)."""
        with self.lock:
            coll = self.data.collection(coll_name) if coll_name else None
            self._db_requests += 1
            rng = random.Random("%d:ties:%d" % (self.data.seed, self._db_requests))
            outcome = self.engine.execute(coll, query, sort, skip, limit, rng)
            costmodel.add_cost(self.cost, outcome.cost)
            per = self.cost_by_collection.setdefault(coll_name or "", costmodel.new_totals())
            costmodel.add_cost(per, outcome.cost)
            return outcome, coll

    def cost_snapshot(self, reset: bool = False) -> dict:
        """The cumulative counters (then zeroed when reset)."""
        with self.lock:
            value = dict(self.cost)
            value["by_collection"] = {k: dict(v) for k, v in self.cost_by_collection.items()}
            value["sort_limit_bytes"] = self.engine.sort_limit_bytes
            if reset:
                self.cost = costmodel.new_totals()
                self.cost_by_collection = {}
            return value

    def set_sort_limit_mb(self, mb: float) -> None:
        """The sort memory limit in MiB (fractions allowed; 0 = none)."""
        if mb < 0:
            raise ValueError("the sort limit must be >= 0")
        with self.lock:
            self.engine.sort_limit_bytes = int(mb * 1024 * 1024)

    # ---- churn ------------------------------------------------------------
    def churn(self, app_id: str) -> list:
        """After a page of app_id's users: churn_k random users whose lac
        is before now (seconds or legacy milliseconds) leave the window:
        lac, last_sync, lu = now.  Returns their _ids."""
        with self.lock:
            coll = self.data.users.get(app_id)
            if coll is None or self.churn_k <= 0:
                return []
            now = int(self.now())
            index = coll.index("lac")
            spans = [index.span(((2,), True, (2, now), False)),
                     index.span(((2, MS_LAC), True, (2, now * 1000), False))]
            sizes = [end - first for first, end in spans]
            picks = self._churn_rng.sample(range(sum(sizes)), min(self.churn_k, sum(sizes)))
            chosen = []
            for pick in picks:
                first, _ = spans[0] if pick < sizes[0] else spans[1]
                chosen.append(index.entries[first + (pick if pick < sizes[0] else pick - sizes[0])][1])
            seen = self._churned_sets.setdefault(app_id, set())
            listed = self.churned.setdefault(app_id, [])
            for ident in chosen:
                touch_user(coll, ident, now)
                if ident not in seen:
                    seen.add(ident)
                    listed.append(ident)
            return chosen
