"""The simulator control API: /__sim/... on the same port, no api_key.

Every answer is JSON (truth: JSON lines), framed like the API's answers.
See README.md for the parameters of each path.
"""

from __future__ import annotations

import random
from typing import Any

from . import truth
from .api import Request, Response, js_parse_int, parse_json_param
from .data import ADMIN_KEY, USER_KEY, touch_user
from .jsonjs import stringify
from .state import FAULT_KINDS, Fault, SimState

FAULT_PARAMS = ("code", "retry_after", "size", "seconds", "body")


def reply(status: int, value: Any) -> Response:
    """A JSON control answer."""
    return Response(status, [stringify(value)], headers=[("Content-Type", "application/json; charset=utf-8")])


def error(text: str) -> Response:
    """A 400 control answer."""
    return reply(400, {"error": text})


def handle(state: SimState, req: Request) -> Response:
    """Dispatch one /__sim/ request."""
    name = req.path[len("/__sim/"):].strip("/")
    handler = HANDLERS.get(name)
    if handler is None:
        return reply(404, {"error": "unknown control path", "paths": sorted(HANDLERS)})
    try:
        return handler(state, req)
    except (KeyError, ValueError, TypeError) as exc:
        return error("%s: %s" % (type(exc).__name__, exc))


def keys(state: SimState, req: Request) -> Response:
    """GET /__sim/keys -> {"admin":..., "user":...}."""
    return reply(200, {"admin": ADMIN_KEY, "user": USER_KEY})


def info(state: SimState, req: Request) -> Response:
    """GET /__sim/info -> the server's configuration and data summary."""
    with state.lock:
        apps = state.data.app_ids()
        value = {"port": state.port, "scheme": state.scheme, "seed": state.data.seed,
                 "edition": state.options.edition, "dbviewer": state.options.dbviewer,
                 "honour_noescape": state.options.honour_noescape, "data_now": state.data.now,
                 "now": int(state.now()), "clock_offset": state.clock_offset, "apps": apps,
                 "user_apps": [a for a in apps if a in (state.data.members[USER_KEY]["admin_of"]
                                                       + state.data.members[USER_KEY]["user_of"])],
                 "users": {a: len(state.data.users[a].docs) for a in apps},
                 "generator": state.options.generator,
                 "sort_limit_bytes": state.engine.sort_limit_bytes, "churn": state.churn_k,
                 "bulk_import": {"users": state.data.bulk_import, "lac": state.data.bulk_import_lac()}}
    return reply(200, value)


def stats(state: SimState, req: Request) -> Response:
    """GET /__sim/stats -> connection/request counters."""
    return reply(200, state.snapshot_stats())


def log(state: SimState, req: Request) -> Response:
    """GET /__sim/log[?n=N] -> {"requests": [the last N request entries]}."""
    n = js_parse_int(req.params.get("n"), 200) or 200
    with state.lock:
        entries = list(state.log)[-n:]
    return reply(200, {"requests": entries})


def touch(state: SimState, req: Request) -> Response:
    """/__sim/touch?app=ID&count=N[&seed=S]: N users get lac = now."""
    app = req.params["app"]
    count = js_parse_int(req.params.get("count"), 1) or 0
    seed = req.params.get("seed", "0")
    with state.lock:
        coll = state.data.users.get(app)
        if coll is None:
            return error("no such app: %s" % app)
        now = int(state.now())
        ids = [d["_id"] for d in coll.docs]
        chosen = random.Random("touch:%s:%s" % (app, seed)).sample(ids, min(count, len(ids)))
        for key in chosen:
            touch_user(coll, key, now)
    return reply(200, {"app": app, "lac": now, "touched": chosen})


def add_app(state: SimState, req: Request) -> Response:
    """/__sim/add-app?users=N: one more app with N users -> {"app": id}."""
    users = js_parse_int(req.params.get("users"), 10) or 0
    with state.lock:
        app = state.data.add_app(users)
    return reply(200, {"app": app, "users": users})


def clock(state: SimState, req: Request) -> Response:
    """/__sim/clock[?offset=S]: read or set the clock offset (seconds)."""
    with state.lock:
        if "offset" in req.params:
            state.clock_offset = float(req.params["offset"])
        return reply(200, {"now": int(state.now()), "offset": state.clock_offset})


def fault(state: SimState, req: Request) -> Response:
    """/__sim/fault?kind=K[&count=N][&after=M][&path=P][&collection=C]
    [&match=S][&code=..][&retry_after=..][&size=..][&seconds=..][&body=..]."""
    kind = req.params.get("kind", "")
    if kind not in FAULT_KINDS:
        return error("kind must be one of %s" % ", ".join(FAULT_KINDS))
    count = js_parse_int(req.params.get("count"), 1)
    after = js_parse_int(req.params.get("after"), 0)
    if count is None or after is None or after < 0:
        return error("count and after must be integers")
    params = {k: req.params[k] for k in FAULT_PARAMS if k in req.params}
    if kind == "status" and js_parse_int(params.get("code"), 0) not in (400, 401, 404, 429, 500, 502, 503, 504):
        return error("status needs code=400|401|404|429|500|502|503|504")
    armed = Fault(kind=kind, count=count, after=after, path=req.params.get("path", ""),
                  collection=req.params.get("collection", ""), match=req.params.get("match", ""),
                  params=params)
    state.arm(armed)
    return reply(200, {"armed": armed.describe(), "faults": [f.describe() for f in state.faults]})


def faults(state: SimState, req: Request) -> Response:
    """GET /__sim/faults -> the armed faults and whether auth is revoked."""
    with state.lock:
        return reply(200, {"faults": [f.describe() for f in state.faults], "auth_revoked": state.auth_revoked})


def reset_faults(state: SimState, req: Request) -> Response:
    """/__sim/reset-faults: disarm everything, un-revoke the admin key."""
    state.reset_faults()
    return reply(200, {"ok": True})


def truth_rows(state: SimState, req: Request) -> Response:
    """/__sim/truth?table=apps_db|apps_mine|groups|users ... -> JSON lines."""
    table = req.params.get("table", "")
    server_url = req.params.get("server_url") or "%s://localhost:%d" % (state.scheme, state.port)
    member_key = USER_KEY if req.params.get("key") == "user" else ADMIN_KEY
    with state.lock:
        member = state.data.members[member_key]
        oracle = truth.Truth(state.data, state.truth_backend)
        if table == "apps_db":
            rows = oracle.apps("db", member, server_url)
        elif table == "apps_mine":
            rows = oracle.apps("mine", member, server_url)
        elif table == "groups":
            rows = oracle.groups()
        elif table == "users":
            rows = users_truth(state, req, oracle, server_url)
            if isinstance(rows, Response):
                return rows
        else:
            return error("table must be apps_db, apps_mine, groups or users")
    body = "".join(stringify(r) + "\n" for r in rows)
    return Response(200, [body] if body else [], headers=[("Content-Type", "application/x-ndjson; charset=utf-8")])


def window_query(state: SimState, req: Request) -> tuple:
    """(apps, Mongo filter) of app=ID (or * for every app) and filter= /
    gte=,lt= / full=RUN_START (the all-history filter); an error Response
    instead of the apps when a parameter is wrong."""
    app = req.params.get("app", "*")
    apps = state.data.app_ids() if app == "*" else [app]
    for app_id in apps:
        if app_id not in state.data.users:
            return error("no such app: %s" % app_id), None
    if "filter" in req.params:
        query, perr = parse_json_param(req.params["filter"])
        if perr is not None:
            return error("bad filter: " + perr), None
        return apps, query
    if "full" in req.params:
        return apps, truth.full_filter(int(req.params["full"]))
    gte, lt = req.params.get("gte"), req.params.get("lt")
    return apps, truth.window_filter(int(gte) if gte else None, int(lt) if lt else None)


def users_truth(state: SimState, req: Request, oracle: truth.Truth, server_url: str) -> list | Response:
    """Rows of a window's users (window_query), in reading order."""
    apps, query = window_query(state, req)
    if isinstance(apps, Response):
        return apps
    rows = []
    for app_id in apps:
        rows.extend(oracle.users(app_id, query, server_url))
    return rows


def user_ids(state: SimState, req: Request) -> Response:
    """/__sim/ids?app=ID|*&(filter=|gte=,lt=|full=) -> {"<app>": [[_id, lac], ...]}:
    the users a window holds, without rendering their rows (cheap at any size).
    lac is the raw value (null when missing or null)."""
    with state.lock:
        apps, query = window_query(state, req)
        if isinstance(apps, Response):
            return apps
        out = {app_id: [[d["_id"], d.get("lac")] for d in truth.matching_users(state.data, app_id, query)]
               for app_id in apps}
    return reply(200, out)


def cost(state: SimState, req: Request) -> Response:
    """GET /__sim/cost[?reset=1] -> the cumulative /o/db cost counters
    (then zeroed with reset=1)."""
    reset = req.params.get("reset", "") not in ("", "0")
    return reply(200, state.cost_snapshot(reset))


def cost_reset(state: SimState, req: Request) -> Response:
    """GET /__sim/cost-reset -> zero the cost counters: {"ok": true}."""
    state.cost_snapshot(True)
    return reply(200, {"ok": True})


def sort_limit(state: SimState, req: Request) -> Response:
    """/__sim/sort-limit[?mb=X]: read or set the sort memory limit (MiB,
    fractions allowed, 0 = none) -> {"sort_limit_mb","sort_limit_bytes"}."""
    if "mb" in req.params:
        state.set_sort_limit_mb(float(req.params["mb"]))
    limit = state.engine.sort_limit_bytes
    return reply(200, {"sort_limit_mb": limit / 1048576, "sort_limit_bytes": limit})


def churn(state: SimState, req: Request) -> Response:
    """/__sim/churn[?k=K]: read or set the churn per /o/db page (0 = off)."""
    if "k" in req.params:
        k = js_parse_int(req.params["k"], 0)
        if k is None or k < 0:
            return error("k must be an integer >= 0")
        with state.lock:
            state.churn_k = k
    return reply(200, {"churn": state.churn_k})


def churned(state: SimState, req: Request) -> Response:
    """/__sim/churned?app=ID -> {"app","churned":[_id, ...],"count"} (every
    user churn moved so far, in order of first move)."""
    app = req.params["app"]
    with state.lock:
        if app not in state.data.users:
            return error("no such app: %s" % app)
        ids = list(state.churned.get(app, []))
    return reply(200, {"app": app, "churned": ids, "count": len(ids)})


HANDLERS = {
    "keys": keys, "info": info, "stats": stats, "log": log, "touch": touch, "add-app": add_app,
    "clock": clock, "fault": fault, "faults": faults, "reset-faults": reset_faults, "truth": truth_rows, "ids": user_ids,
    "cost": cost, "cost-reset": cost_reset, "sort-limit": sort_limit, "churn": churn, "churned": churned,
}
