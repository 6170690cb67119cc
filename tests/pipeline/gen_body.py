#!/usr/bin/env python3
"""gen_body.py - deterministic Countly response bodies plus the expected rows.

Writes bodies exactly as a Countly server sends them (countly-api.md 4.2, 6):

  apps_db    /o/db?collection=apps      {"limit":L, "start":S, ..., "collections":[doc,...]}
  users      /o/db?collection=app_users {"limit":L, "start":S, ..., "collections":[doc,...]}
  apps_mine  /o/apps/mine               {"admin_of":{id:app,...},"user_of":{id:app,...}}
                                        (HTML-escaped strings, no noescape)
  groups     /o/groups                  {"result":[group,...]} (HTML-escaped strings)

and, next to them, what SPEC.md says the CSV must hold, computed here from the
generator's own model of each record (never by parsing the body back):

  <kind>-page-NNN.json  the body, split into --pages pages like a paged sync
  <kind>.truth.jsonl    one line per expected row, in file order:
                        {"cols": {column: text or null}, "json": [columns whose
                        value is JSON text, compared as JSON]}
  <kind>.meta.json      table name, columns with kinds, record count, expected
                        U+FFFD replacements, the secret values, page files

A fraction (--nasty) of the records carries hostile values: quotes, commas,
CR/LF, tabs, emoji, formula prefixes, padded strings, huge/negative/fractional
numbers, nested and empty objects, nulls, duplicate keys, \\u escapes (\\u0000
and lone surrogates become U+FFFD), 13-digit millisecond timestamps.

--target-mb M writes one users page of at least M * 10^6 bytes, streaming
(records go to a part file, then the envelope is written around it).
Standard library only.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import shutil
import sys
from decimal import Decimal, ROUND_DOWN

# ---------------------------------------------------------------------------
# value model: str, bool, None, list, Num (exact literal text), Obj (pairs,
# duplicates allowed, source order)


class Num:
    """A JSON number with its exact source text."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = str(text)


class Obj:
    """A JSON object as (key, value) pairs in source order; keys may repeat."""

    __slots__ = ("pairs",)

    def __init__(self, pairs=None):
        self.pairs = list(pairs or [])

    def add(self, key, value):
        self.pairs.append((key, value))

    def last(self, key):
        """(present, value) of the last occurrence of key."""
        found, value = False, None
        for k, v in self.pairs:
            if k == key:
                found, value = True, v
        return found, value


# ---------------------------------------------------------------------------
# SPEC.md tables: (column, kind, source key). Kinds: text, id (text with
# ObjectId(...) stripped), int, ts, json, meta, and computed ones.

SECRETS = ("salt", "checksum_salt", "api_key")

TABLES = {
    "apps": [
        ("app_id", "id", "_id"),
        ("name", "text", "name"),
        ("key", "text", "key"),
        ("timezone", "text", "timezone"),
        ("created_at", "ts", "created_at"),
        ("updated_at", "ts", "edited_at"),
        ("icon", "icon", None),
        ("metadata", "meta", None),
        ("processed_at", "run", None),
    ],
    "groups": [
        ("group_id", "text", "_id"),
        ("name", "text", "name"),
        ("description", "text", "description"),
        ("user_count", "user_count", "matched_users_count"),
        ("created_at", "ts", "created_at"),
        ("updated_at", "ts", "updated_at"),
        ("metadata", "meta", None),
        ("processed_at", "run", None),
    ],
    "users": [
        ("user_id", "text", "_id"),
        ("app_id", "app", None),
        ("device_id", "text", "did"),
        ("username", "text", "name"),
        ("email", "text", "email"),
        ("organization", "text", "organization"),
        ("phone", "text", "phone"),
        ("picture", "text", "picture"),
        ("gender", "text", "gender"),
        ("byear", "int", "byear"),
        ("custom_data", "json", "custom"),
        ("first_seen", "ts", "fs"),
        ("last_seen", "ts", "ls"),
        ("session_count", "int", "sc"),
        ("total_session_duration", "int", "tsd"),
        ("processed_at", "run", None),
        ("last_activity", "ts", "lac"),
        ("metadata", "meta", None),
    ],
}

KIND_TABLE = {"apps_db": "apps", "apps_mine": "apps", "groups": "groups", "users": "users"}

# Column kinds as SQL types see them (for the loaders).
SQL_KIND = {"text": "text", "id": "text", "icon": "text", "app": "text", "int": "int",
            "user_count": "int", "ts": "ts", "run": "ts", "json": "json", "meta": "json"}

# ---------------------------------------------------------------------------
# expected values


def is_surrogate(ch):
    return 0xD800 <= ord(ch) <= 0xDFFF


def fix_text(s):
    """What a decoder must produce: U+0000 and lone surrogates -> U+FFFD."""
    if "\x00" not in s and not any(is_surrogate(c) for c in s):
        return s, 0
    out, n = [], 0
    for c in s:
        if c == "\x00" or is_surrogate(c):
            out.append("\ufffd")
            n += 1
        else:
            out.append(c)
    return "".join(out), n


def canon(value, counter):
    """Compact JSON of a model value: strings fixed, last duplicate wins at
    the position of the first occurrence (as JavaScript's JSON.parse)."""
    if isinstance(value, str):
        text, n = fix_text(value)
        counter[0] += n
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, Num):
        return value.text
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(canon(v, counter) for v in value) + "]"
    if isinstance(value, Obj):
        order, last = [], {}
        for k, v in value.pairs:
            if k not in last:
                order.append(k)
            last[k] = v
        return "{" + ",".join(canon(k, counter) + ":" + canon(last[k], counter)
                              for k in order) + "}"
    raise TypeError(type(value))


def iso(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def expect_ts(value):
    assert isinstance(value, Num), value
    digits = value.text.lstrip("-")
    assert digits.isdigit() and len(digits) in (10, 13), value.text
    v = int(value.text)
    return iso(v // 1000 if len(digits) == 13 else v)


def expect_int(value):
    assert isinstance(value, Num), value
    return str(int(Decimal(value.text).to_integral_value(rounding=ROUND_DOWN)))


def expect_row(kind, rec, ctx):
    """Expected CSV row of one record: (cols, json_cols, replaced)."""
    table = KIND_TABLE[kind]
    counter = [0]
    cols, json_cols = {}, []
    sources = {src for _, _, src in TABLES[table] if src}
    app_id = None
    for name, ckind, src in TABLES[table]:
        present, value = rec.last(src) if src else (False, None)
        if ckind in ("text", "id"):
            if not present or value is None:
                cols[name] = None
            elif isinstance(value, str):
                text, n = fix_text(value)
                counter[0] += n
                if ckind == "id" and text.startswith("ObjectId(") and text.endswith(")"):
                    text = text[9:-1]
                cols[name] = text
            elif isinstance(value, (Obj, list)):
                cols[name] = canon(value, counter)
                json_cols.append(name)
            else:
                cols[name] = canon(value, counter)
            if name == "app_id":
                app_id = cols[name]
        elif ckind == "int":
            cols[name] = None if value is None else expect_int(value)
        elif ckind == "user_count":
            if value is not None:
                cols[name] = expect_int(value)
            else:
                has_users, users = rec.last("users")
                cols[name] = str(len(users)) if has_users and isinstance(users, list) else None
        elif ckind == "ts":
            cols[name] = None if value is None else expect_ts(value)
        elif ckind == "json":
            cols[name] = None if value is None else canon(value, counter)
            if value is not None:
                json_cols.append(name)
        elif ckind == "meta":
            rest = Obj([(k, v) for k, v in rec.pairs if k not in sources and k not in SECRETS])
            cols[name] = canon(rest, counter)
            json_cols.append(name)
        elif ckind == "run":
            cols[name] = iso(ctx["processed_at"])
        elif ckind == "app":
            cols[name] = ctx["app_id"]
        elif ckind == "icon":
            cols[name] = "%s/appimages/%s.png" % (ctx["server_url"], app_id)
        else:
            raise ValueError(ckind)
    return cols, json_cols, counter[0]


# ---------------------------------------------------------------------------
# body serialization (what the server sends)


def html_escape(s):
    """Countly's escape_html_entities: & first, then the other four."""
    return (s.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#39;")
            .replace("<", "&lt;").replace(">", "&gt;"))


class Writer:
    """Serializes model values as compact JSON text, the way the server would,
    with random (seeded) choices of escapes for hostile strings."""

    SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}

    def __init__(self, rng, html):
        self.rng = rng
        self.html = html
        self.hostile = False  # use varied escapes (set per record)

    def string(self, s):
        if self.html:
            s = html_escape(s)
        plain = not any(is_surrogate(c) for c in s)
        if plain and not self.hostile:
            return json.dumps(s, ensure_ascii=False)
        return self._escaped(s)

    def _hex4(self, cp):
        text = "%04x" % cp
        return "\\u" + (text.upper() if self.rng.random() < 0.5 else text)

    def _escaped(self, s):
        out = ['"']
        prev_high = False
        for c in s:
            cp = ord(c)
            # a lone high surrogate followed by a low one would decode as a pair
            assert not (prev_high and 0xDC00 <= cp <= 0xDFFF), "surrogate pair in model"
            prev_high = 0xD800 <= cp <= 0xDBFF
            if c == '"':
                out.append('\\"')
            elif c == "\\":
                out.append("\\\\")
            elif c == "/":
                out.append("\\/" if self.rng.random() < 0.5 else "/")
            elif cp < 0x20:
                short = self.SHORT.get(c)
                out.append(short if short and self.rng.random() < 0.7 else self._hex4(cp))
            elif 0xD800 <= cp <= 0xDFFF:
                out.append(self._hex4(cp))
            elif cp > 0xFFFF:
                if self.rng.random() < 0.5:
                    out.append(c)
                else:
                    v = cp - 0x10000
                    out.append(self._hex4(0xD800 + (v >> 10)) + self._hex4(0xDC00 + (v & 0x3FF)))
            elif cp > 0x7E and self.rng.random() < 0.4:
                out.append(self._hex4(cp))
            else:
                out.append(c)
        out.append('"')
        return "".join(out)

    def value(self, v):
        if isinstance(v, str):
            return self.string(v)
        if isinstance(v, Num):
            return v.text
        if v is True:
            return "true"
        if v is False:
            return "false"
        if v is None:
            return "null"
        if isinstance(v, list):
            return "[" + ",".join(self.value(x) for x in v) + "]"
        if isinstance(v, Obj):
            return "{" + ",".join(self.string(k) + ":" + self.value(x) for k, x in v.pairs) + "}"
        raise TypeError(type(v))


# ---------------------------------------------------------------------------
# record generators

NAMES = ["Jane Doe", "John Smith", "Zoë Müller", "Søren Kierkegaard", "李小龙", "Ана Петрова",
         "José Álvarez", "Nguyễn Văn A", "Ōtani Shōhei", "Fatima Zahra", "Ali Veli", "Émile Zola"]
CITIES = ["Berlin", "New York", "İstanbul", "São Paulo", "Tōkyō", "Unknown", "Zürich", "Kraków"]
COUNTRIES = ["DE", "US", "TR", "BR", "JP", "Unknown", "CH", "PL", "FR", "GB"]
PLATFORMS = [("Android", "a", "SM-S911B", "samsung"), ("iOS", "i", "iPhone15,2", "Apple"),
             ("Windows", "w", "PC", "Dell"), ("macOS", "o", "MacBookPro18,3", "Apple")]
TIMEZONES = ["America/New_York", "Europe/Berlin", "Europe/Istanbul", "Asia/Tokyo", "UTC"]

# Hostile strings; each is valid as a Python str (lone surrogates and NUL
# are written as \u escapes; no high surrogate is followed by a low one).
HOSTILE_STRINGS = [
    'Doe, "Jim"', "line1\r\nline2", "tab\there", "lf only\n", "cr only\r", "😀 emoji 𝄞 clef",
    "=SUM(A1:A9)", "+15551234567", "-2+3", "@cmd", "  padded  ", " lead", "trail ", "\tTabbed",
    "NULL", "\\N", "null", "", ",", '"', '""', "a\"b\"c", "back\\slash", "slash/es",
    "nul\x00byte", "lone \ud800 high", "lone \udc00 low", "\udc00\ud800 reversed",
    "end high \ud83d", "\ud800\ud800", "bom\ufeffmid", "\u2028line sep\u2029", "del\x7f",
    "ctl\x01\x1f", "mixé Ünïcödé ☃", "é" * 3 + ",\n" + "€" * 3, "'single' quotes",
    "<b>html</b> & &amp; &lt;", "Tom &amp; Jerry", "semi;colon", "x" * 300,
]

HOSTILE_NUMBERS = ["-0", "1e3", "1.5E-7", "0.1", "123456789012345678901234567890", "-1",
                   "3.14159265358979323846", "2E+2", "0"]


def hexid(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def base62(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        out = digits[n % 62] + out
        n //= 62
        if n == 0:
            return out


def hostile_string(rng):
    return rng.choice(HOSTILE_STRINGS)


def nested_custom(rng, depth):
    """A nested custom object/array, at most depth levels."""
    obj = Obj()
    for i in range(rng.randint(0, 4)):
        r = rng.random()
        key = rng.choice(["k%d" % i, "clé%d" % i, "a,b%d" % i, 'q"k%d' % i, "sp ace%d" % i,
                          "back\\k%d" % i, "emoji😀%d" % i, "" if i == 0 else "e%d" % i])
        if depth > 0 and r < 0.3:
            obj.add(key, nested_custom(rng, depth - 1))
        elif depth > 0 and r < 0.5:
            obj.add(key, [hostile_string(rng), Num(rng.choice(HOSTILE_NUMBERS)),
                          nested_custom(rng, depth - 1), [], Obj(), None, True])
        elif r < 0.7:
            obj.add(key, hostile_string(rng))
        elif r < 0.85:
            obj.add(key, Num(rng.choice(HOSTILE_NUMBERS)))
        else:
            obj.add(key, rng.choice([None, True, False, [], Obj()]))
    return obj


def plain_custom(rng):
    c = Obj()
    if rng.random() < 0.6:
        c.add("plan", rng.choice(["free", "pro", "enterprise"]))
    if rng.random() < 0.5:
        c.add("logins", Num(rng.randint(0, 500)))
    if rng.random() < 0.3:
        c.add("tags", rng.sample(["beta", "vip", "churn-risk", "newsletter"], rng.randint(0, 3)))
    if rng.random() < 0.2:
        c.add("score", Num("%.2f" % (rng.random() * 100)))
    return c


def user_record(rng, index, app_key, hostile, base_time, secrets):
    """One app_users document, fields in Countly's order, random subsets."""
    rec = Obj()
    did = rng.choice(["%016x" % rng.getrandbits(64),
                      "%08X-%04X-4%03X-9%03X-%012X" % (rng.getrandbits(32), rng.getrandbits(16),
                                                       rng.getrandbits(12), rng.getrandbits(12),
                                                       rng.getrandbits(48)),
                      "user%d@example.com" % index])
    rec.add("_id", hashlib.sha1((app_key + did + str(index)).encode()).hexdigest())
    fs = base_time - rng.randint(86400, 400 * 86400)
    ls = fs + rng.randint(0, base_time - fs - 3600)
    lac = ls + rng.randint(0, 3600)

    def maybe(p, key, value):
        if rng.random() < p:
            rec.add(key, value)

    maybe(0.95, "uid", base62(index + 1))
    maybe(0.97, "did", did)
    maybe(0.3, "t", rng.choice(["0", Num(1), Num(2)]))
    maybe(0.4, "hasInfo", rng.random() < 0.7)
    maybe(0.8, "fac", Num(fs))
    maybe(0.8, "first_sync", Num(fs + 1))
    maybe(0.93, "fs", Num(fs))
    maybe(0.93, "ls", Num(ls))
    maybe(0.95, "lac", Num(lac))
    maybe(0.8, "last_sync", Num(lac + 1))
    maybe(0.5, "lu", Obj([("$date", iso(lac)[:-1] + ".%03dZ" % rng.randint(0, 999))]))
    maybe(0.93, "sc", Num(rng.randint(1, 2000)))
    maybe(0.9, "tsd", Num(rng.choice([rng.randint(0, 10 ** 6), "%d.%d" % (rng.randint(0, 9999),
                                                                        rng.randint(1, 9))])))
    maybe(0.6, "sd", Num(rng.randint(0, 600)))
    maybe(0.6, "lsid", hexid(rng, 24))
    maybe(0.6, "hos", rng.random() < 0.2)
    maybe(0.9, "cc", rng.choice(COUNTRIES))
    maybe(0.8, "cty", rng.choice(CITIES))
    maybe(0.5, "rgn", rng.choice(["BE", "NY", "34", "Unknown"]))
    if rng.random() < 0.4:
        rec.add("loc", Obj([("gps", rng.random() < 0.5),
                            ("geo", Obj([("type", "Point"),
                                         ("coordinates", [Num("%.4f" % rng.uniform(-180, 180)),
                                                          Num("%.4f" % rng.uniform(-90, 90))])])),
                            ("date", Num(lac * 1000 + rng.randint(0, 999)))]))
    maybe(0.7, "tz", rng.choice(["120", "-240", Num(60), Num(-300)]))
    platform, letter, model, maker = rng.choice(PLATFORMS)
    maybe(0.95, "p", platform)
    maybe(0.9, "pv", "%s%d:%d" % (letter, rng.randint(10, 17), rng.randint(0, 4)))
    maybe(0.9, "d", model)
    maybe(0.6, "mnf", maker)
    maybe(0.7, "dt", rng.choice(["phone", "tablet", "desktop"]))
    maybe(0.7, "r", rng.choice(["1080x2340", "1179x2556", "1920x1080"]))
    maybe(0.4, "dnst", rng.choice(["XXHDPI", "XHDPI", "@3x"]))
    maybe(0.5, "la", rng.choice(["en", "de", "tr", "ja"]))
    maybe(0.5, "c", rng.choice(["Telekom.de", "Verizon", "Turkcell", "--"]))
    major, minor, patch = rng.randint(1, 5), rng.randint(0, 9), rng.randint(0, 9)
    maybe(0.9, "av", "%d:%d:%d" % (major, minor, patch))
    if rng.random() < 0.6:
        rec.add("av_major", Num(major))
        rec.add("av_minor", Num(minor))
        rec.add("av_patch", Num(patch))
    has_info = rng.random() < 0.6
    if has_info:
        name = rng.choice(NAMES)
        maybe(0.9, "name", name)
        maybe(0.7, "username", name.split()[0].lower() + str(index))
        maybe(0.8, "email", "user%d@example.com" % index)
        maybe(0.5, "organization", rng.choice(["Acme", "Initech", "Umbrella Corp", "Ünited"]))
        maybe(0.5, "phone", "+1555%07d" % rng.randint(0, 9999999))
        maybe(0.4, "picture", rng.choice(["https://cdn.example.com/u/%d.png" % index,
                                          "/userimages/%s.png" % hexid(rng, 24)]))
        maybe(0.6, "gender", rng.choice(["M", "F"]))
        maybe(0.6, "byear", Num(rng.randint(1940, 2010)))
    maybe(0.7, "custom", plain_custom(rng))
    maybe(0.9, "sdk", Obj([("name", rng.choice(["java-native-android", "objc-native-ios",
                                                 "javascript_native_web"])),
                           ("version", "24.%d.%d" % (rng.randint(0, 9), rng.randint(0, 9)))]))
    maybe(0.1, "cmp", Obj([("c", "organic")]))
    maybe(0.1, "merges", Num(rng.randint(0, 3)))
    maybe(0.1, "hadFatalCrash", rng.choice([True, Num(lac)]))
    if hostile:
        for _ in range(rng.randint(1, 4)):
            rng.choice(USER_HOSTILITIES)(rng, rec, lac, secrets)
    return rec


def replace_or_add(rec, key, value):
    for i, (k, _) in enumerate(rec.pairs):
        if k == key:
            rec.pairs[i] = (key, value)
            return
    rec.add(key, value)


def h_text_columns(rng, rec, lac, secrets):
    for key in rng.sample(["name", "email", "organization", "phone", "picture", "gender",
                           "did", "username", "cty"], 3):
        replace_or_add(rec, key, hostile_string(rng))


def h_numbers(rng, rec, lac, secrets):
    replace_or_add(rec, "sc", Num(rng.choice(["9007199254740993", "0", "-1", "2000000000000",
                                              "9223372036854775807", "17.999"])))
    replace_or_add(rec, "tsd", Num(rng.choice(["-5", "12.9", "-12.9", "0.5", "-0.5", "7.0",
                                               "9007199254740993", "1234567.875"])))
    replace_or_add(rec, "byear", Num(rng.choice(["1990.0", "1985", "-1", "0"])))


def h_nested(rng, rec, lac, secrets):
    while True:  # stay well inside JSTREAM_TOKENS_MAX and JSTREAM_RECORD_MAX
        custom = nested_custom(rng, 4)
        if count_tokens(custom) < 300 and len(Writer(rng, False).value(custom)) < 4000:
            break
    replace_or_add(rec, "custom", custom)


def count_tokens(value):
    """jsmn tokens of a value: one per value, key, object and array."""
    if isinstance(value, list):
        return 1 + sum(count_tokens(v) for v in value)
    if isinstance(value, Obj):
        return 1 + sum(1 + count_tokens(v) for _, v in value.pairs)
    return 1


def h_custom_edge(rng, rec, lac, secrets):
    replace_or_add(rec, "custom", rng.choice([Obj(), None, [], ["a", Num(1), None],
                                              "plain string", Num("42.50"), True]))


def h_nulls(rng, rec, lac, secrets):
    for key in rng.sample(["email", "name", "byear", "fs", "ls", "lac", "sc", "tsd", "custom",
                           "t", "cty", "sdk", "did", "gender"], 4):
        replace_or_add(rec, key, None)


def h_duplicates(rng, rec, lac, secrets):
    # a column source repeated far apart: the last value wins
    rec.add("email", rng.choice(["last@example.com", None, ""]))
    rec.add("sc", Num(rng.randint(1, 99)))
    # a metadata key repeated next to itself (its position is then the same
    # whether the first or the last occurrence counts); once per record
    if not rec.last("dupkey")[0]:
        rec.pairs.insert(1, ("dupkey", "first"))
        rec.pairs.insert(2, ("dupkey", "second"))


def h_escapes(rng, rec, lac, secrets):
    replace_or_add(rec, "name", rng.choice(["nul\x00in name", "lone \ud800 in name",
                                            "\udfff", "pre\ud83d\x41post", "Zoë Müller 😀"]))
    replace_or_add(rec, "cty", rng.choice(["caf\u00e9", "\ud834 lone", "ok\x00"]))
    replace_or_add(rec, "note", rng.choice(["meta \udc12 string", "\x00", "\\u0041 literal"]))


def h_millis(rng, rec, lac, secrets):
    for key in rng.sample(["fs", "ls", "lac"], rng.randint(1, 3)):
        present, value = rec.last(key)
        seconds = int(value.text) if present and isinstance(value, Num) else lac
        if len(str(seconds)) == 13:  # already milliseconds
            seconds //= 1000
        replace_or_add(rec, key, Num(seconds * 1000 + rng.randint(0, 999)))


def h_nonstring_text(rng, rec, lac, secrets):
    key, value = rng.choice([("name", Num(12345)), ("gender", True), ("phone", Num(15551234567)),
                             ("email", Obj([("a", [Num(1), Num(2)]), ("b", 'q"uote')])),
                             ("picture", ["x", Obj()]), ("organization", Num("-1.5")),
                             ("did", False), ("username", Obj([("n", "Ünï,\n")]))])
    replace_or_add(rec, key, value)


def h_big_field(rng, rec, lac, secrets):
    # larger than CSV_BUFFER_SIZE once quoted, well under JSTREAM_RECORD_MAX
    text = ",".join("field%05d \"q\"" % i for i in range(rng.randint(480, 520)))
    replace_or_add(rec, "organization", text)


def h_secret(rng, rec, lac, secrets):
    key = "APIKEY" + hexid(rng, 26)
    replace_or_add(rec, "api_key", key)
    secrets.append(key)


def h_reorder(rng, rec, lac, secrets):
    head, rest = rec.pairs[:1], rec.pairs[1:]
    rng.shuffle(rest)
    # keep repeated metadata keys next to each other (their position is then
    # the same whether the first or the last occurrence counts)
    dups = [p for p in rest if p[0] == "dupkey"]
    if dups:
        at = next(i for i, p in enumerate(rest) if p[0] == "dupkey")
        rest = [p for p in rest if p[0] != "dupkey"]
        rest[at:at] = dups
    rec.pairs = head + rest


def h_weird_keys(rng, rec, lac, secrets):
    replace_or_add(rec, "plugin.key", "dotted")
    replace_or_add(rec, "$odd", Num(rng.choice(HOSTILE_NUMBERS)))
    replace_or_add(rec, "ключ", "кириллица")
    replace_or_add(rec, "empty_obj", Obj())
    replace_or_add(rec, "empty_arr", [])


USER_HOSTILITIES = [h_text_columns, h_numbers, h_nested, h_custom_edge, h_nulls, h_duplicates,
                    h_escapes, h_millis, h_nonstring_text, h_big_field, h_secret, h_reorder,
                    h_weird_keys]


def app_db_record(rng, index, hostile, base_time, secrets):
    rec = Obj()
    app_id = "64b0ac10%016x" % (index + 1)
    rec.add("_id", ("ObjectId(%s)" % app_id) if rng.random() < 0.8 else app_id)
    rec.add("name", hostile_string(rng) if hostile else "App %d" % index)
    rec.add("country", rng.choice(COUNTRIES))
    rec.add("type", rng.choice(["mobile", "web", "desktop"]))
    rec.add("category", str(rng.randint(1, 20)))
    rec.add("key", hexid(rng, 40))
    rec.add("timezone", rng.choice(TIMEZONES))
    created = base_time - rng.randint(86400, 1000 * 86400)
    if rng.random() < 0.9:
        rec.add("created_at", Num(created))
    if rng.random() < 0.85:
        edited = created + rng.randint(0, 100 * 86400)
        rec.add("edited_at", Num(edited * 1000 + 7 if hostile and rng.random() < 0.5 else edited))
    rec.add("owner", hexid(rng, 24))
    rec.add("seq", Num(rng.randint(0, 100000)))
    rec.add("has_image", rng.random() < 0.5)
    if rng.random() < 0.8:
        salt = "SALT" + hexid(rng, 12) if rng.random() < 0.8 else ""
        rec.add("salt", salt)
        secrets.append(salt)
    if rng.random() < 0.3:
        salt = "CHKSALT" + hexid(rng, 10)
        rec.add("checksum_salt", salt)
        secrets.append(salt)
    rec.add("plugins", nested_custom(rng, 2) if hostile else
            Obj([("consolidate", [])]) if rng.random() < 0.5 else Obj())
    rec.add("last_data", Num(base_time - rng.randint(0, 86400)))
    if rng.random() < 0.2:
        rec.add("locked", rng.random() < 0.5)
    if hostile and rng.random() < 0.5:
        rec.add("redirect_url", "https://example.com/?a=1&b=\"2\"")
        rec.add("timezone", None)
    return rec


def app_mine_record(rng, index, hostile, secrets):
    rec = Obj()
    app_id = "64b0ac10%016x" % (index + 1)
    rec.add("_id", app_id)
    rec.add("category", str(rng.randint(1, 20)))
    rec.add("country", rng.choice(COUNTRIES))
    rec.add("key", hexid(rng, 40))
    rec.add("name", rng.choice(["R&D <Team> \"Q\" 'A'", "Tom & Jerry", "x &amp; y",
                                "&lt;not a tag&gt;", "a &#39; b", hostile_string(rng)])
            if hostile else "App %d & Co" % index)
    rec.add("timezone", rng.choice(TIMEZONES))
    if rng.random() < 0.8:
        salt = "MSALT" + hexid(rng, 12) if rng.random() < 0.9 else ""
        rec.add("salt", salt)
        secrets.append(salt)
    return rec, app_id


def group_record(rng, index, hostile, base_time, app_ids):
    rec = Obj()
    rec.add("_id", "65a0b1c2%016x" % (index + 1))
    rec.add("name", (rng.choice(["R&D <Team> \"Q\" 'A'", "Sales & Marketing", "a &lt; b"])
                     if hostile and rng.random() < 0.5 else hostile_string(rng) if hostile
                     else "Group %d" % index))
    rec.add("groupID", "r&d-%d" % index if hostile else "group-%d" % index)
    if rng.random() < 0.3:
        rec.add("description", hostile_string(rng) if hostile else "Team %d" % index)
    rec.add("global_admin", rng.random() < 0.2)
    app = rng.choice(app_ids)
    rec.add("permission", Obj([("c", Obj()), ("r", Obj([(app, Obj([("all", True),
                                                                   ("allowed", Obj())]))])),
                               ("u", Obj()), ("d", Obj()),
                               ("_", Obj([("u", [[app]]), ("a", [])]))]))
    users = [hexid(rng, 24) for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.9:
        rec.add("users", users)
    r = rng.random()
    if r < 0.6:
        rec.add("matched_users_count", Num(len(users) if rng.random() < 0.8 else len(users) + 1))
    elif r < 0.7:
        rec.add("matched_users_count", None)
    if rng.random() < 0.3:
        created = base_time - rng.randint(86400, 500 * 86400)
        rec.add("created_at", Num(created))
        rec.add("updated_at", Num(created * 1000 + 5 if hostile else created + 3600))
    if hostile and rng.random() < 0.5:
        rec.add("admin_of", [app])
        rec.add("note", "<script>alert('x')</script> & \"q\"")
    return rec


# ---------------------------------------------------------------------------
# body files


def db_header(limit, start, end, total, pages, cur):
    return ('{"limit":%d, "start":%d, "end":%d, "total":%d, "pages":%d, "curPage":%d, '
            '"collections":[' % (limit, start, end, total, pages, cur))


class TruthSink:
    def __init__(self, path, kind, ctx):
        self.f = open(path, "w", encoding="ascii") if path else None
        self.kind, self.ctx = kind, ctx
        self.records = 0
        self.replaced = 0

    def add(self, rec):
        self.records += 1
        if not self.f:
            return
        cols, json_cols, replaced = expect_row(self.kind, rec, self.ctx)
        self.replaced += replaced
        self.f.write(json.dumps({"cols": cols, "json": json_cols}, ensure_ascii=True) + "\n")

    def close(self):
        if self.f:
            self.f.close()


def page_path(out_dir, kind, page):
    return os.path.join(out_dir, "%s-page-%03d.json" % (kind, page))


def write_db_pages(args, kind, make_record, truth):
    """Users or apps_db: --pages pages of the /o/db envelope."""
    total = args.count
    pages = max(1, args.pages)
    limit = max(1, -(-total // pages)) if total else 100
    writer = Writer(random.Random(args.seed * 7 + 1), html=False)
    files = []
    index = 0
    for page in range(1, pages + 1):
        start = (page - 1) * limit
        end = min(start + limit, total)
        path = page_path(args.out_dir, kind, page)
        with open(path, "w", encoding="utf-8", errors="strict") as f:
            f.write(db_header(limit, start + 1, end, total, -(-total // limit) if total else 0,
                              -(-(start + 1) // limit)))
            for i in range(start, end):
                rec, hostile = make_record(index)
                writer.hostile = hostile
                f.write(("," if i > start else "") + writer.value(rec))
                truth.add(rec)
                index += 1
            f.write("]}")
        files.append(os.path.basename(path))
    return files


def write_db_target(args, kind, make_record, truth):
    """One page of at least target_mb * 10^6 bytes, streamed to disk."""
    target = int(args.target_mb * 1000000)
    writer = Writer(random.Random(args.seed * 7 + 1), html=False)
    path = page_path(args.out_dir, kind, 1)
    part = path + ".part"
    count, size = 0, 0
    with open(part, "w", encoding="utf-8") as f:
        while size < target:
            rec, hostile = make_record(count)
            writer.hostile = hostile
            text = ("," if count else "") + writer.value(rec)
            f.write(text)
            size += len(text.encode("utf-8"))
            truth.add(rec)
            count += 1
    with open(path, "wb") as out, open(part, "rb") as body:
        out.write(db_header(count, 1, count, count, 1, 1).encode())
        shutil.copyfileobj(body, out, 1 << 20)
        out.write(b"]}")
    os.unlink(part)
    return [os.path.basename(path)], count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", required=True, choices=sorted(KIND_TABLE))
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--pages", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--target-mb", type=float, default=0)
    ap.add_argument("--nasty", type=float, default=0.1, help="fraction of hostile records")
    ap.add_argument("--no-truth", action="store_true", help="skip the truth file (benchmarks)")
    ap.add_argument("--app-id", default="64b0ac10c2c3ce0012dd1001")
    ap.add_argument("--server-url", default="https://countly.example.com/analytics")
    ap.add_argument("--processed-at", type=int, default=1717650000)
    args = ap.parse_args()

    kind = args.kind
    if args.target_mb and kind not in ("users", "apps_db"):
        ap.error("--target-mb needs --kind users or apps_db")
    if kind in ("apps_mine", "groups") and args.pages != 1:
        ap.error("%s has no paging (--pages 1)" % kind)
    if kind == "apps_mine" and args.count > 512:
        ap.error("apps_mine: at most 512 apps (JSTREAM_APPS_MAX)")
    os.makedirs(args.out_dir, exist_ok=True)

    ctx = {"app_id": args.app_id, "server_url": args.server_url,
           "processed_at": args.processed_at}
    truth_path = None if args.no_truth else os.path.join(args.out_dir, kind + ".truth.jsonl")
    truth = TruthSink(truth_path, kind, ctx)
    rng = random.Random(args.seed)
    base_time = args.processed_at - 3600
    secrets = []
    app_key = hexid(rng, 40)

    def make_user(i):
        hostile = rng.random() < args.nasty
        return user_record(rng, i, app_key, hostile, base_time, secrets), hostile

    def make_app(i):
        hostile = rng.random() < args.nasty
        return app_db_record(rng, i, hostile, base_time, secrets), hostile

    count = args.count
    if kind in ("users", "apps_db"):
        make = make_user if kind == "users" else make_app
        if args.target_mb:
            files, count = write_db_target(args, kind, make, truth)
        else:
            files = write_db_pages(args, kind, make, truth)
    elif kind == "apps_mine":
        files = [write_apps_mine(args, rng, secrets, truth)]
    else:
        files = [write_groups(args, rng, base_time, truth)]
    truth.close()

    meta = {
        "kind": kind,
        "table": KIND_TABLE[kind],
        "columns": [[name, SQL_KIND[ck]] for name, ck, _ in TABLES[KIND_TABLE[kind]]],
        "records": count,
        "replaced": truth.replaced if truth_path else None,
        "secrets": sorted({s for s in secrets if s}),
        "files": files,
        "app_id": args.app_id,
        "server_url": args.server_url,
        "processed_at": args.processed_at,
        "seed": args.seed,
    }
    with open(os.path.join(args.out_dir, kind + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("%s: %d records, %d page(s), %d bytes" % (
        kind, count, len(files),
        sum(os.path.getsize(os.path.join(args.out_dir, p)) for p in files)))


def write_apps_mine(args, rng, secrets, truth):
    """{"admin_of":{...},"user_of":{...}}: admin_of holds a subset, user_of
    all apps; the same app text appears in both. Rows come in order of first
    appearance."""
    writer = Writer(random.Random(args.seed * 7 + 2), html=True)
    apps = []
    for i in range(args.count):
        hostile = rng.random() < args.nasty
        rec, app_id = app_mine_record(rng, i, hostile, secrets)
        writer.hostile = hostile
        apps.append((app_id, rec, writer.value(rec)))
    admin = [a for a in apps if rng.random() < 0.5]
    admin_ids = {a[0] for a in admin}
    user_of = apps[:]
    rng.shuffle(user_of)
    for _, rec, _ in admin:
        truth.add(rec)
    for app_id, rec, _ in user_of:
        if app_id not in admin_ids:
            truth.add(rec)
    body = ('{"admin_of":{' + ",".join('"%s":%s' % (a, t) for a, _, t in admin) +
            '},"user_of":{' + ",".join('"%s":%s' % (a, t) for a, _, t in user_of) + "}}")
    path = page_path(args.out_dir, "apps_mine", 1)
    with open(path, "w", encoding="utf-8", errors="strict") as f:
        f.write(body)
    return os.path.basename(path)


def write_groups(args, rng, base_time, truth):
    writer = Writer(random.Random(args.seed * 7 + 3), html=True)
    app_ids = ["64b0ac10%016x" % (i + 1) for i in range(5)]
    parts = []
    for i in range(args.count):
        hostile = rng.random() < args.nasty
        rec = group_record(rng, i, hostile, base_time, app_ids)
        writer.hostile = hostile
        parts.append(writer.value(rec))
        truth.add(rec)
    path = page_path(args.out_dir, "groups", 1)
    with open(path, "w", encoding="utf-8", errors="strict") as f:
        f.write('{"result":[' + ",".join(parts) + "]}")
    return os.path.basename(path)


if __name__ == "__main__":
    sys.exit(main())
