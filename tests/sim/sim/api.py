"""The Countly endpoints the simulator answers (countly-api.md §1-§6).

`handle(state, request, fault)` returns a `Response`: status, the headers
Countly itself sets, and the body as the list of `res.write()` calls Node
would make (the server turns each into one chunk).  Content faults
(invalid_json, huge_record) are applied here; transport faults in server.py.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

from . import mongo
from .jsonjs import ObjectId, js_json_parse, stringify, stringify_escaped
from .state import Fault, SimState
from .truth import packed_app, visible_apps

CONTENT_TYPE = "application/json; charset=utf-8"
EXTRA_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("X-Frame-Options", "deny"),
    ("X-XSS-Protection", "1; mode=block"),
    ("Strict-Transport-Security", "max-age=31536000 ; includeSubDomains"),
]
DATABASES = ("countly", "countly_drill", "countly_out", "countly_fs")
CE_PLUGINS = ["plugins", "locale", "browser", "sources", "views", "crashes", "push", "star-rating",
              "slipping-away-users", "compare", "server-stats", "dbviewer", "times-of-day",
              "compliance-hub", "alerts", "onboarding", "consolidate", "remote-config", "hooks",
              "dashboards", "sdk", "data-manager", "guides"]
EE_PLUGINS = ["groups", "users", "drill", "funnels", "cohorts", "retention_segments", "flows"]


@dataclass
class Request:
    """A parsed API request (parameters: query string merged with body)."""

    method: str
    path: str
    params: dict
    raw_query: str
    headers: dict = field(default_factory=dict)


@dataclass
class Response:
    """What the handler would hand to Node's res.writeHead/res.write."""

    status: int
    parts: list
    headers: list = field(default_factory=lambda: [("Content-Type", CONTENT_TYPE)] + EXTRA_HEADERS)
    framing: str = "chunked"  # "chunked" (Node) or "length" (e.g. nginx error pages)
    cut: bool = False         # the writes so far, then the connection closes (a failed query)
    cost: dict | None = None  # /o/db: what MongoDB examined (sim.costmodel), for the log


def message(status: int, text: str) -> Response:
    """common.returnMessage: {"result": text}, only <, > (and what follows
    the first of them) escaped."""
    return Response(status, [stringify_escaped({"result": text}, more=False)])


def output(state: SimState, req: Request, value: Any, fault: Fault | None = None) -> Response:
    """common.returnOutput: escaped unless noescape is given (and honoured)."""
    noescape = state.options.honour_noescape and bool(req.params.get("noescape"))
    body = stringify(value) if noescape else stringify_escaped(value)
    if fault is not None and fault.kind == "invalid_json":
        body = corrupt(body)
    return Response(200, [body])


def corrupt(text: str) -> str:
    """Invalid JSON: drop the colon after the first member name."""
    index = text.find('":')
    return text if index < 0 else text[: index + 1] + text[index + 2:]


def pad_document(text: str, size: int) -> str:
    """The document with a padding member so it is larger than size bytes."""
    extra = max(0, size - len(text.encode("utf-8"))) + 1
    return text[:-1] + ',"sim_padding":"' + "x" * extra + '"}'


# ---------------------------------------------------------------------------
# Routing and authentication


def handle(state: SimState, req: Request, fault: Fault | None) -> Response:
    """Answer one /o request."""
    if req.method not in ("GET", "POST"):
        return message(405, "Method not allowed")
    app_id = req.params.get("app_id")
    if app_id is not None and len(app_id) != 24:
        return message(400, 'Invalid parameter "app_id"')
    path = req.path.rstrip("/") or "/"
    parts = path.split("/")
    if path.startswith("/o/system/"):
        return route_system(state, req, parts[3] if len(parts) > 3 else "")
    if path.startswith("/o/apps/") or path == "/o/apps":
        return route_apps(state, req, parts[3] if len(parts) > 3 else "", fault)
    if path == "/o/groups" and state.options.edition == "ee":
        return groups(state, req, fault)
    if path == "/o/db" and state.options.dbviewer:
        return db(state, req, fault)
    return message(400, "Invalid path")


def authenticate(state: SimState, req: Request) -> tuple:
    """(member, None) or (None, error Response) per rights.js."""
    key = req.params.get("api_key")
    token = req.params.get("auth_token") or req.headers.get("countly-token")
    if not key and token:
        return None, message(400, "Token not valid")
    if not key:
        return None, message(400, 'Missing parameter "api_key" or "auth_token"')
    member = state.data.members.get(key)
    if member is None or (member["global_admin"] and state.auth_revoked):
        return None, message(401, "User does not exist")
    return member, None


def route_system(state: SimState, req: Request, what: str) -> Response:
    """/o/system/plugins and /o/system/version."""
    if what not in ("plugins", "version"):
        return message(400, "Invalid path")
    member, error = authenticate(state, req)
    if error:
        return error
    if what == "version":
        return output(state, req, {"version": state.options.version})
    plugins = [p for p in CE_PLUGINS if p != "dbviewer" or state.options.dbviewer]
    if state.options.edition == "ee":
        plugins += EE_PLUGINS
    return output(state, req, plugins)


# ---------------------------------------------------------------------------
# /o/apps


def route_apps(state: SimState, req: Request, what: str, fault: Fault | None) -> Response:
    """/o/apps/all, /mine, /details, /plugins."""
    if what not in ("all", "mine", "details", "plugins"):
        return message(400, "Invalid path, must be one of /all, /mine, /details or /plugins")
    member, error = authenticate(state, req)
    if error:
        return error
    if what == "all" and not member["global_admin"]:
        return message(401, "User does not have right")
    if what in ("details", "plugins"):
        return app_details(state, req, member, what)
    with state.lock:
        admin_of, user_of = visible_apps(state.data, member)
        value = {"admin_of": {d["_id"].hex: packed_app(d) for d in admin_of},
                 "user_of": {d["_id"].hex: packed_app(d) for d in user_of}}
    if fault is not None and fault.kind == "huge_record" and value["admin_of"]:
        first = next(iter(value["admin_of"]))
        value["admin_of"][first] = dict(value["admin_of"][first], sim_padding="x" * int(fault.params.get("size", 65536)))
    return output(state, req, value, fault)


def app_details(state: SimState, req: Request, member: dict, what: str) -> Response:
    """/o/apps/details (and /plugins): one app, app admins only."""
    app_id = req.params.get("app_id")
    if not app_id:
        return message(400, "No app id provided")
    with state.lock:
        app = state.data.app(app_id)
        if app is None:
            return message(401, "App does not exist")
        if not member["global_admin"] and app_id not in member["admin_of"]:
            return message(401, "User does not have right")
        if what == "plugins":
            return output(state, req, {"plugins": app.get("plugins", {})})
        users = state.data.users.get(app_id)
        lacs = [d["lac"] for d in users.docs if isinstance(d.get("lac"), int)] if users else []
        value = {"app": {"owner": "Sim Admin", "owner_id": app.get("owner", ""),
                         "created_at": app.get("created_at", 0), "edited_at": app.get("edited_at", 0),
                         "plugins": app.get("plugins", {}), "last_data": app.get("last_data", 0),
                         "last_data_users": max(lacs) if lacs else 0},
                 "global_admin": [{"_id": "64afcc1a4f5f0f0012a11101", "full_name": "Sim Admin",
                                   "username": "admin"}],
                 "admin": [], "user": []}
    return output(state, req, value)


# ---------------------------------------------------------------------------
# /o/groups


def groups(state: SimState, req: Request, fault: Fault | None) -> Response:
    """/o/groups (Enterprise): {"result":[group, ...]}, global admin only."""
    member, error = authenticate(state, req)
    if error:
        return error
    if not member["global_admin"]:
        return message(401, "User does not have right")
    with state.lock:
        result = [dict(g) for g in state.data.groups]
    if fault is not None and fault.kind == "huge_record" and result:
        result[0]["sim_padding"] = "x" * int(fault.params.get("size", 65536))
    return output(state, req, {"result": result}, fault)


# ---------------------------------------------------------------------------
# /o/db (dbviewer)


def js_parse_int(text: Any, default: int) -> int | None:
    """parseInt(text || default): None for NaN."""
    if text is None or text == "":
        return default
    match = re.match(r"\s*([+-]?\d+)", str(text))
    return int(match.group(1)) if match else None


def js_ceil_div(a: int, b: int) -> str:
    """String(Math.ceil(a / b)) with JS's Infinity/NaN for b == 0."""
    if b == 0:
        if a == 0:
            return "NaN"
        return "Infinity" if a > 0 else "-Infinity"
    return str(math.ceil(a / b))


def js_parse_error(text: str) -> str:
    """The message Node 20's JSON.parse gives for invalid text."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text):
            return "Unexpected end of JSON input"
        shown = text if len(text) <= 10 else text[:10] + "..."
        return 'Unexpected token \'%s\', "%s" is not valid JSON' % (text[exc.pos], shown)
    return "Unexpected token"


def parse_json_param(text: str) -> tuple:
    """(value, None) or (None, error text) for a JSON query parameter."""
    try:
        return js_json_parse(text), None
    except ValueError:
        return None, js_parse_error(text)


def may_read(member: dict, collection: str) -> bool:
    """dbUserHasAccessToCollection: admins any, others their apps' collections."""
    if member["global_admin"]:
        return True
    apps = member["admin_of"] + member["user_of"]
    return any(app and collection.endswith(app) for app in apps)


def db(state: SimState, req: Request, fault: Fault | None) -> Response:
    """/o/db?db=countly&collection=...: paged collection stream."""
    member, error = authenticate(state, req)
    if error:
        return error
    dbname = req.params.get("dbs") or req.params.get("db")
    collection = req.params.get("collection")
    if dbname not in DATABASES:
        return message(404, "Database not found.")
    if not collection:
        return db_list(state, req, member)
    if not may_read(member, collection):
        return message(401, "User does not have right to view this collection")
    query, perr = parse_json_param(req.params.get("filter") or req.params.get("query") or "{}")
    if perr is not None:
        return message(400, "Failed to parse query. " + perr)
    sort, serr = parse_json_param(req.params.get("sort") or "{}")
    if serr is not None or not isinstance(sort, dict):
        sort = {}
    limit = js_parse_int(req.params.get("limit"), 20)
    skip = js_parse_int(req.params.get("skip"), 0)
    if limit is None:
        return message(400, 'Invalid parameter "limit"')
    if skip is None or skip < 0:
        return message(400, 'Invalid parameter "skip"')
    return db_page(state, req, dbname, collection, query, sort, skip, limit, fault)


def prepare_filter(query: Any) -> dict:
    """dbviewer's filter fix-ups: a 24-hex _id becomes an ObjectId; EJSON."""
    if not isinstance(query, dict):
        raise mongo.QueryError("filter must be an object")
    query = mongo.from_ejson(query)
    oid = query.get("_id")
    if isinstance(oid, str) and re.fullmatch(r"[0-9a-fA-F]{24}", oid):
        query["_id"] = ObjectId(oid)
    return query


def db_page(state: SimState, req: Request, dbname: str, collection: str, query: Any, sort: dict,
            skip: int, limit: int, fault: Fault | None) -> Response:
    """The header write, then one write per document, then "]}".  A find
    that fails (sort memory limit) leaves the header write alone and the
    connection closed, the way dbviewer's unhandled stream error does."""
    try:
        query = prepare_filter(query)
        with state.lock:
            outcome, coll = state.query(collection if dbname == "countly" else None, query, sort, skip, limit)
            texts = [coll.text(d) for d in outcome.docs] if coll is not None else []
            if coll is not None and collection.startswith("app_users") and state.churn_k > 0:
                state.churn(collection[len("app_users"):])
    except mongo.QueryError as exc:
        return message(500, str(exc))
    total = outcome.total
    texts = apply_content_fault(texts, fault)
    header = ('{"limit":%d, "start":%d, "end":%d, "total":%d, "pages":%s, "curPage":%s, "collections":['
              % (limit, skip + 1, min(skip + limit, total), total, js_ceil_div(total, limit),
                 js_ceil_div(skip + 1, limit)))
    if outcome.failed:
        return Response(200, [header], cut=True, cost=outcome.cost)
    if fault is not None and fault.kind == "invalid_json" and not texts:
        header = corrupt(header)
    return Response(200, [header] + stream_writes(texts, req.raw_query) + ["]}"], cost=outcome.cost)


def apply_content_fault(texts: list, fault: Fault | None) -> list:
    """invalid_json / huge_record on the middle document of a page."""
    if fault is None or not texts or fault.kind not in ("invalid_json", "huge_record"):
        return texts
    texts = list(texts)
    mid = len(texts) // 2
    if fault.kind == "invalid_json":
        texts[mid] = corrupt(texts[mid])
    else:
        texts[mid] = pad_document(texts[mid], int(fault.params.get("size", 65536)))
    return texts


def stream_writes(texts: list, seed_text: str) -> list:
    """Documents as a cursor stream writes them ("," before all but the
    first), grouped 1-4 per write so chunk sizes vary (deterministic)."""
    rng = random.Random(seed_text)
    writes, i = [], 0
    while i < len(texts):
        n = rng.randint(1, 4)
        group = texts[i: i + n]
        writes.append(("," if i else "") + ",".join(group))
        i += n
    return writes


def db_list(state: SimState, req: Request, member: dict) -> Response:
    """/o/db without a collection: the databases and readable collections."""
    with state.lock:
        names = ["apps"] + ["app_users" + a for a in state.data.app_ids()]
    readable = {n: n for n in names if may_read(member, n)}
    value = [{"name": "countly", "collections": readable}] + [
        {"name": n, "collections": {}} for n in DATABASES[1:]]
    return output(state, req, value)
