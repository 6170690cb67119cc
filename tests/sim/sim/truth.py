"""The CSV rows countly-sync should write for the simulator's data (SPEC.md).

Each row is {"cols": {column: cell}, "json": [columns]} (the format of
tests/pipeline/gen_body.py's truth files): the columns in SPEC order, a cell
being the text the CSV field holds after RFC 4180 unquoting or None for NULL
(an empty unquoted field); "json" names the cells to compare as JSON.
`processed_at` is always None: the run start is the client's business.

`Truth` computes rows with gen_body.expect_row (through sim.gen_body_adapter)
when tests/pipeline/gen_body.py exists, else with this module's own mapping
(kept as the fallback and as an independent cross-check in test_truth.py).

Rules applied (SPEC "Tables"):
  timestamp  10 digits = seconds, 13 digits = milliseconds (truncated);
             ISO-8601 UTC to the second with Z
  integer    whole number, fraction truncated toward zero
  text       a string as is; other JSON values as their compact JSON text
  json       compact JSON, the source's keys in the source's order
  metadata   every field that is not the source of another column (and not
             a secret: salt, checksum_salt, api_key) as one JSON object
Strings from /o/apps/* and /o/groups have the five HTML entities decoded
(the client does so whether or not the server honoured noescape=true);
strings from /o/db are taken as they are.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable

from . import costmodel, mongo
from .data import Dataset
from .jsonjs import ObjectId, decode_html_deep, ejson, stringify

SECRETS = ("salt", "checksum_salt", "api_key")
APP_COLUMNS = ["app_id", "name", "key", "timezone", "created_at", "updated_at", "icon", "metadata", "processed_at"]
GROUP_COLUMNS = ["group_id", "name", "description", "user_count", "created_at", "updated_at", "metadata",
                 "processed_at"]
USER_COLUMNS = ["user_id", "app_id", "device_id", "username", "email", "organization", "phone", "picture",
                "gender", "byear", "custom_data", "first_seen", "last_seen", "session_count",
                "total_session_duration", "processed_at", "last_activity", "metadata"]

Render = Callable[[Any], str]


def timestamp_cell(value: Any) -> str | None:
    """A unix seconds/milliseconds number as ISO-8601 UTC, None if absent."""
    if value is None:
        return None
    whole = int(value)
    if len(str(abs(whole))) == 13:
        whole = int(whole / 1000)
    when = datetime.datetime.fromtimestamp(whole, datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def integer_cell(value: Any) -> str | None:
    """A number as a whole number (truncated toward zero)."""
    return None if value is None else str(int(value))


def text_cell(value: Any, render: Render) -> str | None:
    """A string as is, another JSON value as its compact JSON text."""
    if value is None:
        return None
    return value if isinstance(value, str) else render(value)


def metadata_cell(doc: dict, used: set, render: Render) -> str:
    """Every field not used by a column (secrets dropped) as one object."""
    rest = {k: v for k, v in doc.items() if k not in used and k not in SECRETS}
    return render(rest)


def ejson_value(value: Any) -> str:
    """Compact JSON of a value as /o/db sends it (nested EJSON)."""
    return ejson(value, top_level_oid=False)


# ---------------------------------------------------------------------------
# apps.csv


def _icon(server_url: str, app_id: str) -> str:
    """The app icon URL built from the configured server URL."""
    return "%s/appimages/%s.png" % (server_url.rstrip("/"), app_id)


def app_row_from_db(doc: dict, server_url: str) -> dict:
    """An apps.csv row when the source is /o/db collection=apps."""
    oid = doc["_id"]
    app_id = oid.hex if isinstance(oid, ObjectId) else str(oid)
    used = {"_id", "name", "key", "timezone", "created_at", "edited_at"}
    return {
        "app_id": app_id,
        "name": text_cell(doc.get("name"), ejson_value),
        "key": text_cell(doc.get("key"), ejson_value),
        "timezone": text_cell(doc.get("timezone"), ejson_value),
        "created_at": timestamp_cell(doc.get("created_at")),
        "updated_at": timestamp_cell(doc.get("edited_at")),
        "icon": _icon(server_url, app_id),
        "metadata": metadata_cell({k: v for k, v in doc.items()}, used, ejson_value),
        "processed_at": None,
    }


def app_row_from_mine(packed: dict, server_url: str) -> dict:
    """An apps.csv row when the source is /o/apps/mine (decoded entities)."""
    doc = decode_html_deep(packed)
    used = {"_id", "name", "key", "timezone"}
    return {
        "app_id": doc["_id"],
        "name": text_cell(doc.get("name"), stringify),
        "key": text_cell(doc.get("key"), stringify),
        "timezone": text_cell(doc.get("timezone"), stringify),
        "created_at": None,
        "updated_at": None,
        "icon": _icon(server_url, doc["_id"]),
        "metadata": metadata_cell(doc, used, stringify),
        "processed_at": None,
    }


def packed_app(doc: dict) -> dict:
    """packApps(): the seven keys /o/apps/* returns for an app."""
    return {
        "_id": doc["_id"].hex,
        "category": doc.get("category"),
        "country": doc.get("country"),
        "key": doc.get("key"),
        "name": doc.get("name"),
        "timezone": doc.get("timezone"),
        "salt": doc.get("salt") or doc.get("checksum_salt") or "",
    }


def visible_apps(data: Dataset, member: dict) -> tuple:
    """(admin_of, user_of) app documents a member sees via /o/apps/mine."""
    if member["global_admin"]:
        return list(data.apps.docs), list(data.apps.docs)
    admin_ids = set(member["admin_of"])
    user_ids = set(member["user_of"]) | admin_ids
    admin_of = [d for d in data.apps.docs if d["_id"].hex in admin_ids]
    user_of = [d for d in data.apps.docs if d["_id"].hex in user_ids]
    return admin_of, user_of


# ---------------------------------------------------------------------------
# groups.csv


def group_row(group: dict) -> dict:
    """A groups.csv row from one /o/groups record (decoded entities)."""
    doc = decode_html_deep(group)
    used = {"_id", "name", "description", "created_at", "updated_at"}
    if doc.get("matched_users_count") is not None:
        count = doc["matched_users_count"]
        used.add("matched_users_count")
    else:
        count = len(doc["users"]) if isinstance(doc.get("users"), list) else None
    return {
        "group_id": text_cell(doc.get("_id"), stringify),
        "name": text_cell(doc.get("name"), stringify),
        "description": text_cell(doc.get("description"), stringify),
        "user_count": integer_cell(count),
        "created_at": timestamp_cell(doc.get("created_at")),
        "updated_at": timestamp_cell(doc.get("updated_at")),
        "metadata": metadata_cell(doc, used, stringify),
        "processed_at": None,
    }


# ---------------------------------------------------------------------------
# users.csv

USER_SOURCES = {"_id", "did", "name", "email", "organization", "phone", "picture", "gender", "byear",
                "custom", "fs", "ls", "sc", "tsd", "lac"}


def user_row(doc: dict, app_id: str) -> dict:
    """A users.csv row from one /o/db app_users document."""
    text = lambda key: text_cell(doc.get(key), ejson_value)  # noqa: E731
    custom = doc.get("custom")
    return {
        "user_id": text("_id"),
        "app_id": app_id,
        "device_id": text("did"),
        "username": text("name"),
        "email": text("email"),
        "organization": text("organization"),
        "phone": text("phone"),
        "picture": text("picture"),
        "gender": text("gender"),
        "byear": integer_cell(doc.get("byear")),
        "custom_data": None if custom is None else ejson_value(custom),
        "first_seen": timestamp_cell(doc.get("fs")),
        "last_seen": timestamp_cell(doc.get("ls")),
        "session_count": integer_cell(doc.get("sc")),
        "total_session_duration": integer_cell(doc.get("tsd")),
        "processed_at": None,
        "last_activity": timestamp_cell(doc.get("lac")),
        "metadata": metadata_cell(doc, USER_SOURCES, ejson_value),
    }


def matching_users(data: Dataset, app_id: str, query: dict) -> list:
    """One app's users matching a Mongo filter, in the order the client
    reads them (sort lac, _id)."""
    coll = data.users.get(app_id)
    if coll is None:
        return []
    matched = costmodel.Engine().matching(coll, query)
    return mongo.sort_docs(matched, [("lac", 1), ("_id", 1)])


def json_columns(cols: dict, doc_values: dict, always: tuple) -> list:
    """Columns to compare as JSON: the always-JSON ones that are not NULL
    and text columns that received an object or array."""
    out = [c for c in cols if c in always and cols[c] is not None]
    out += [c for c, v in doc_values.items() if isinstance(v, (dict, list)) and c not in out]
    return [c for c in cols if c in out]


def line(cols: dict, json_cols: list) -> dict:
    """One truth line."""
    return {"cols": cols, "json": json_cols}


class Truth:
    """Expected rows for every table, via gen_body when it is available."""

    def __init__(self, data: Dataset, backend: Any = None) -> None:
        """backend: a gen_body_adapter.TruthRows, or None for this module."""
        self.data = data
        self.backend = backend

    def apps(self, source: str, member: dict, server_url: str) -> list:
        """apps.csv lines for source "db" or "mine" as member sees them."""
        if source == "db":
            docs = mongo.sort_docs(self.data.apps.docs, [("_id", 1)])
            if self.backend is not None:
                return [self.backend.app_db(d, server_url) for d in docs]
            return [self._mine_line(app_row_from_db(d, server_url), d,
                                    {"name": "name", "key": "key", "timezone": "timezone"}) for d in docs]
        admin_of, user_of = visible_apps(self.data, member)
        seen: dict = {}
        for doc in admin_of + user_of:
            seen.setdefault(doc["_id"].hex, packed_app(doc))
        if self.backend is not None:
            return [self.backend.app_mine(p, server_url) for p in seen.values()]
        return [self._mine_line(app_row_from_mine(p, server_url), p,
                                {"name": "name", "key": "key", "timezone": "timezone"}) for p in seen.values()]

    def _mine_line(self, cols: dict, doc: dict, text_sources: dict) -> dict:
        """A line for this module's app rows."""
        values = {c: doc.get(src) for c, src in text_sources.items()}
        return line(cols, json_columns(cols, values, ("metadata",)))

    def groups(self) -> list:
        """groups.csv lines."""
        if self.backend is not None:
            return [self.backend.group(g) for g in self.data.groups]
        out = []
        for group in self.data.groups:
            cols = group_row(group)
            values = {"group_id": group.get("_id"), "name": group.get("name"),
                      "description": group.get("description")}
            out.append(line(cols, json_columns(cols, values, ("metadata",))))
        return out

    def users(self, app_id: str, query: dict, server_url: str) -> list:
        """users.csv lines of one app for a Mongo filter, in read order."""
        coll = self.data.users.get(app_id)
        out = []
        for doc in matching_users(self.data, app_id, query):
            source = coll.sources.get(coll.key(doc)) if coll is not None else None
            if source is not None:
                out.append(source.row(app_id, server_url))
                continue
            cols = user_row(doc, app_id)
            values = {c: doc.get(src) for c, src in USER_TEXT_SOURCES.items()}
            out.append(line(cols, json_columns(cols, values, ("custom_data", "metadata"))))
        return out


USER_TEXT_SOURCES = {"user_id": "_id", "device_id": "did", "username": "name", "email": "email",
                     "organization": "organization", "phone": "phone", "picture": "picture",
                     "gender": "gender"}


def window_filter(gte: int | None, lt: int | None) -> dict:
    """The incremental filter {"lac":{"$gte":C,"$lt":R}} (either bound optional)."""
    cond = {}
    if gte is not None:
        cond["$gte"] = gte
    if lt is not None:
        cond["$lt"] = lt
    return {"lac": cond} if cond else {}


def full_filter(run_start: int) -> dict:
    """The all-history filter SPEC prescribes for a first full run: lac
    before the run start, any millisecond lac, or lac missing or null."""
    return {"$or": [{"lac": {"$lt": run_start}}, {"lac": {"$gte": 1000000000000}}, {"lac": None}]}
