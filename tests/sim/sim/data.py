"""The simulator's deterministic data set: apps, groups, members, app users.

Everything is a function of the seed and a base time (`now`, unix seconds);
the same seed and base time give byte-identical collections.  Documents are
stored the way the Mongo driver hands them to Node: Python dicts in JS
property order, app ids as ObjectId, `lu` as BsonDate.

App users come from `user_factory` (this module's generator by default, see
`users_gen.py`); every user has `_id = sha1(app key + did)`.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Callable

from .costmodel import FieldIndex, index_spec
from .jsonjs import BsonDate, ObjectId, ejson, js_ordered

# Fixed API keys (32 hex like Countly's md5 keys); not secret, not seeded.
ADMIN_KEY = hashlib.md5(b"countly-sim global admin").hexdigest()
USER_KEY = hashlib.md5(b"countly-sim member of apps 1 and 2").hexdigest()
ADMIN_MEMBER_ID = "64afcc1a4f5f0f0012a11101"
USER_MEMBER_ID = "64afcc1a4f5f0f0012a11102"

APP_NAMES = [
    'Acme Shop "iOS" & Web',
    "O'Reilly <Beta> App",
    "Tom &amp; Jerry, Inc.",
    "Zoë's Café — ünïcödé 😀",
    "Line\nBreak\tTab",
    "=1+1 CSV injection",
]
TIMEZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Chatham", "UTC", "Europe/Istanbul"]
COUNTRIES = ["US", "DE", "IN", "NZ", "TR", "JP"]
APP_TYPES = ["mobile", "web", "desktop"]

# (rng, app document, sequence number, base time) -> document, or
# (document, source) where source owns the wire text (see Collection).
UserFactory = Callable[[random.Random, dict, int, int], Any]


def object_id(seconds: int, rng: random.Random) -> str:
    """A 24-hex ObjectId whose first 4 bytes are the creation time."""
    return "%08x%016x" % (seconds & 0xFFFFFFFF, rng.getrandbits(64))


def base62(n: int) -> str:
    """Countly's short uid alphabet: 0-9a-zA-Z."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, r = divmod(n, 62)
        out = alphabet[r] + out
        if n == 0:
            return out


def user_id(app_key: str, did: str) -> str:
    """An app user's _id: sha1(app key + device id), 40 hex."""
    return hashlib.sha1((app_key + did).encode("utf-8", "surrogatepass")).hexdigest()


class Collection:
    """One Mongo collection: documents in natural (insertion) order, a
    cache of each document's text, the collection's indexes (sim.costmodel;
    built on first use, then kept up to date by insert and update) and a
    version bumped on every change.

    A document may have a *source*: an object with text(), update(changes)
    and row(app_id, server_url) that owns the document's exact wire text
    (gen_body.py records); otherwise the text is dbviewer's EJSON."""

    def __init__(self, name: str) -> None:
        """An empty collection."""
        self.name = name
        self.docs: list = []
        self.by_id: dict = {}
        self.sources: dict = {}
        self.version = 0
        self._text: dict = {}
        self._size: dict = {}
        self.indexes: dict = {field: FieldIndex(field, direction) for field, direction in index_spec(name)}

    def key(self, doc: dict) -> Any:
        """A hashable form of a document's _id."""
        oid = doc["_id"]
        return oid.hex if isinstance(oid, ObjectId) else oid

    def insert(self, doc: dict, source: Any = None, text: str | bytes | None = None) -> None:
        """Append a document (JS property order enforced unless a source
        owns the text or the caller hands over the finished wire text, as
        str or as UTF-8 bytes, which take less memory)."""
        if source is None and text is None:
            doc = js_ordered(doc)
        key = self.key(doc)
        self.docs.append(doc)
        self.by_id[key] = doc
        if source is not None:
            self.sources[key] = source
        if text is not None:
            self._text[key] = text
        for index in self.indexes.values():
            if index.built:
                index.add(key, doc)
        self.version += 1

    def update(self, key: Any, changes: dict) -> dict:
        """Set fields of one document (new fields go last); returns it."""
        doc = self.by_id[key]
        touched = [self.indexes[f] for f in changes if f in self.indexes and self.indexes[f].built]
        for index in touched:
            index.remove(key, doc)
        doc.update(changes)
        for index in touched:
            index.add(key, doc)
        if key in self.sources:
            self.sources[key].update(changes)
        self._text.pop(key, None)
        self._size.pop(key, None)
        self.version += 1
        return doc

    def text(self, doc: dict) -> str:
        """The document as dbviewer writes it (cached)."""
        key = self.key(doc)
        cached = self._text.get(key)
        if cached is None:
            source = self.sources.get(key)
            cached = source.text() if source is not None else ejson(doc)
            self._text[key] = cached
        elif type(cached) is bytes:
            return cached.decode("utf-8")
        return cached

    def size(self, doc: dict) -> int:
        """The document's size in bytes: its wire text in UTF-8 (cached)."""
        key = self.key(doc)
        cached = self._size.get(key)
        if cached is None:
            text = self._text.get(key)
            if type(text) is not bytes:
                text = self.text(doc).encode("utf-8", "surrogatepass")
            cached = len(text)
            self._size[key] = cached
        return cached

    def index(self, field: str) -> FieldIndex:
        """The built index on field (built now if it was not yet)."""
        index = self.indexes[field]
        if not index.built:
            index.build(self.docs, self.key)
        return index


class Dataset:
    """All collections plus the members and groups of one simulated server."""

    def __init__(self, seed: int, now: int, apps: int, users_per_app: int,
                 user_factory: UserFactory, bulk_import: int = 0) -> None:
        """Generate everything from seed and base time now.  bulk_import:
        that many users of every app (the first ones, out of the app's
        users) share one lac second, bulk_import_lac()."""
        self.seed = seed
        self.now = now
        self.user_factory = user_factory
        self.bulk_import = bulk_import
        self.apps = Collection("apps")
        self.users: dict = {}
        for index in range(apps):
            self.add_app(users_per_app)
        self.groups = make_groups(random.Random("%d:groups" % seed), self.app_ids())
        self.members = make_members(self.app_ids())

    def app_ids(self) -> list:
        """Hex ids of all apps in natural order."""
        return [d["_id"].hex for d in self.apps.docs]

    def app(self, app_hex: str) -> dict | None:
        """The app document with this hex id, or None."""
        return self.apps.by_id.get(app_hex)

    def bulk_import_lac(self) -> int:
        """The one lac second of the bulk-imported users: base time - 5 days."""
        return self.now - 5 * 86400

    def add_app(self, users: int) -> str:
        """Create one more app with `users` users; returns its hex id."""
        index = len(self.apps.docs)
        rng = random.Random("%d:app:%d" % (self.seed, index))
        app = make_app(rng, index, self.now)
        self.apps.insert(app)
        coll = Collection("app_users" + app["_id"].hex)
        make_users = getattr(self.user_factory, "make_users", None)
        if make_users is not None:
            # a whole-app generator: (document, finished wire text) pairs
            for doc, text in make_users(self.seed, index, app, users, self.now):
                coll.insert(doc, text=text)
        else:
            for seq in range(users):
                user_rng = random.Random("%d:user:%d:%d" % (self.seed, index, seq))
                made = self.user_factory(user_rng, app, seq, self.now)
                doc, source = made if isinstance(made, tuple) else (made, None)
                coll.insert(doc, source)
        for doc in coll.docs[: self.bulk_import]:
            coll.update(coll.key(doc), {"lac": self.bulk_import_lac()})
        coll.index("lac")  # every dbviewer query of app users needs it; the others are built on first use
        self.users[app["_id"].hex] = coll
        self.apps.update(app["_id"].hex, {"seq": users})
        return app["_id"].hex

    def collection(self, name: str) -> Collection | None:
        """A collection by name (apps or app_users<id>), None if absent."""
        if name == "apps":
            return self.apps
        if name.startswith("app_users"):
            return self.users.get(name[len("app_users"):])
        return None


def make_app(rng: random.Random, index: int, now: int) -> dict:
    """One apps-collection document (field order as createApp leaves it)."""
    created = now - 400 * 86400 + index * 86400 + rng.randint(0, 3600)
    name = APP_NAMES[index % len(APP_NAMES)]
    if index >= len(APP_NAMES):
        name = "%s #%d" % (name, index)
    doc: dict = {
        "_id": ObjectId(object_id(created, rng)),
        "name": name,
        "country": COUNTRIES[index % len(COUNTRIES)],
        "type": APP_TYPES[index % len(APP_TYPES)],
        "category": str(1 + index % 20),
        "key": "%040x" % rng.getrandbits(160),
        "timezone": TIMEZONES[index % len(TIMEZONES)],
        "created_at": created,
        "edited_at": created if index % 2 else created + rng.randint(1000, 90000),
        "owner": ADMIN_MEMBER_ID,
        "seq": 0,
        "has_image": index % 2 == 1,
    }
    if index % 3 == 1:
        doc["salt"] = "x9Kq2LmP%d" % index
    elif index % 3 == 2:
        doc["checksum_salt"] = "legacy-salt-%d" % index
    doc["plugins"] = {} if index % 2 == 0 else {"consolidate": [], "note": "<b>&\"'"}
    doc["last_data"] = now - rng.randint(0, 86400)
    if index == 1:
        doc["locked"] = True
    return doc


def make_groups(rng: random.Random, app_ids: list) -> list:
    """Enterprise user groups (some without matched_users_count)."""
    a0 = app_ids[0] if app_ids else "000000000000000000000000"
    member = lambda: "64c1f0e2%016x" % rng.getrandbits(64)  # noqa: E731
    empty_perm = {"c": {}, "r": {}, "u": {}, "d": {}, "_": {"u": [], "a": []}}
    groups = [
        {"_id": "65a0b1c2d3e4f5a6b7c8d9e0", "name": "Marketing Team", "groupID": "marketing-team",
         "global_admin": False,
         "permission": {"c": {}, "r": {a0: {"all": True, "allowed": {}}}, "u": {}, "d": {},
                        "_": {"u": [[a0]], "a": []}},
         "users": [member(), member()], "matched_users_count": 2},
        {"_id": "65a0b1c2d3e4f5a6b7c8d9e1", "name": 'Platform "Admins" & <Ops>', "groupID": "platform-admins",
         "global_admin": True, "permission": empty_perm, "users": [ADMIN_MEMBER_ID], "matched_users_count": 1},
        {"_id": "65a0b1c2d3e4f5a6b7c8d9e2", "name": "R&amp;D", "groupID": "r-and-d",
         "global_admin": False, "permission": empty_perm, "users": [member(), member(), member()]},
        {"_id": "65a0b1c2d3e4f5a6b7c8d9e3", "name": "Ünïcode, commas\nand 'quotes'", "groupID": "unicode",
         "global_admin": False, "permission": empty_perm, "users": [],
         "description": "Has a description, \"quoted\"", "created_at": 1700000000, "updated_at": 1717600300123},
    ]
    return [js_ordered(g) for g in groups]


def make_members(app_ids: list) -> dict:
    """Dashboard members by api_key: a global admin and a plain member who
    is admin of app 1 and user of app 2."""
    first, second = (app_ids + ["", ""])[:2]
    return {
        ADMIN_KEY: {"_id": ADMIN_MEMBER_ID, "global_admin": True, "admin_of": [], "user_of": []},
        USER_KEY: {"_id": USER_MEMBER_ID, "global_admin": False,
                   "admin_of": [first] if first else [], "user_of": [second] if second else []},
    }


def touch_user(coll: Collection, key: str, now: int) -> dict:
    """An SDK request from this user: lac/last_sync/lu move to now."""
    changes = {"lac": now, "last_sync": now, "lu": BsonDate(now * 1000 + 321)}
    return coll.update(key, changes)
