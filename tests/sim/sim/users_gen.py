"""The simulator's own app-user generator (the §4.4 field mix, nasty values).

`make_user(rng, app, seq, now)` returns one app_users document.  Every value
stays valid for countly-sync (no bad data): integer and timestamp columns
hold numbers (10- or 13-digit timestamps, fractional durations), text
columns may hold non-strings (written as compact JSON) and hostile text.

Distribution of `lac` (the cursor field), by seq:
  seq % 97 == 5    no lac at all (created via /i/app_users/create)
  seq % 101 == 7   legacy 13-digit millisecond lac
  seq % 50 == 3    lac = now - 10 days exactly (ties, broken by _id)
  otherwise        uniform over the last 200 days before `now`
"""

from __future__ import annotations

import random

from .data import base62, user_id
from .jsonjs import BsonDate

DAY = 86400

NASTY_TEXT = [
    'He said "hi", then left',
    "O'Brien & Sons <b>bold</b>",
    "multi\nline\r\ntext",
    "tab\tseparated",
    "Zoë Müller",
    "日本語テキスト",
    "emoji 😀👍🏽",
    '=HYPERLINK("http://x")',
    "back\\slash \\n not a newline",
    "  padded  ",
    "",
    "null",
    "12345",
    '{"looks":"like json"}',
    "\u2028line separators\u2029",
    "control \u0001\u001f chars",
    "comma, semicolon; pipe|",
    "nbsp\u00a0and soft\u00adhyphen",
    "combining e\u0301",
    "4-byte 𝄞 clef",
    "&amp; &lt;not decoded in /o/db&gt;",
]
PLATFORMS = [("Android", "a", "samsung", "SM-S911B"), ("iOS", "i", "Apple", "iPhone15,2"),
             ("Windows", "mw", "Microsoft", "PC"), ("macOS", "o", "Apple", "MacBookPro18,3")]
CITIES = [("DE", "Berlin", "BE"), ("US", "New York", "NY"), ("JP", "東京", "13"),
          ("TR", "İstanbul", "34"), ("Unknown", "Unknown", "Unknown")]


def nasty(rng: random.Random) -> str:
    """One hostile string."""
    return rng.choice(NASTY_TEXT)


def make_did(rng: random.Random, seq: int) -> str:
    """A device id: hex, UUID, e-mail-like or hostile (always unique)."""
    kind = seq % 7
    if kind == 0:
        return "%016x" % rng.getrandbits(64)
    if kind == 1:
        h = "%032X" % rng.getrandbits(128)
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
    if kind == 2:
        return "user%d@example.com" % seq
    if kind == 3:
        return 'did "%d", with\nnewline' % seq
    return "%d-%016x" % (seq, rng.getrandbits(64))


def make_lac(rng: random.Random, seq: int, now: int) -> int | None:
    """Last activity per the distribution in the module docstring."""
    if seq % 97 == 5:
        return None
    if seq % 101 == 7:
        return (now - rng.randint(DAY, 400 * DAY)) * 1000 + rng.randint(0, 999)
    if seq % 50 == 3:
        return now - 10 * DAY
    return now - rng.randint(60, 200 * DAY)


def session_fields(rng: random.Random, seq: int, lac: int | None, now: int) -> dict:
    """fac/fs/ls/lac/... in the order Countly writes them."""
    last = lac // 1000 if lac and lac > 10 ** 12 else (lac or now - 300 * DAY)
    first = last - rng.randint(0, 300 * DAY)
    doc: dict = {"fac": first, "first_sync": first + 1}
    doc["fs"] = first * 1000 + 7 if seq % 89 == 4 else first
    if seq % 83 != 2:
        doc["ls"] = last - rng.randint(0, 3600)
    if lac is not None:
        doc["lac"] = lac
        doc["last_sync"] = last + 1
        if seq % 3:
            ms = 0 if seq % 9 == 1 else rng.randint(1, 999)
            doc["lu"] = BsonDate((last + 1) * 1000 + ms)
    doc["sc"] = rng.randint(1, 500)
    doc["tsd"] = rng.randint(0, 100000) if seq % 4 else round(rng.uniform(0, 5000), 3)
    doc["sd"] = 0
    doc["lsid"] = "%024x" % rng.getrandbits(96)
    doc["hos"] = seq % 10 == 0
    return doc


def device_fields(rng: random.Random, seq: int) -> dict:
    """Location, platform and app-version metrics."""
    cc, cty, rgn = rng.choice(CITIES)
    plat, prefix, mnf, model = rng.choice(PLATFORMS)
    major, minor, patch = rng.randint(1, 3), rng.randint(0, 9), rng.randint(0, 20)
    doc: dict = {"cc": cc, "cty": cty, "rgn": rgn}
    if seq % 5 == 0:
        doc["loc"] = {"gps": True, "geo": {"type": "Point",
                      "coordinates": [round(rng.uniform(-180, 180), 4), round(rng.uniform(-90, 90), 4)]},
                      "date": 1717590000123}
    doc["tz"] = str(rng.choice([-240, 0, 120, 330])) if seq % 2 else rng.choice([-240, 0, 345])
    doc.update({"p": plat, "pv": "%s%d:%d" % (prefix, rng.randint(10, 17), rng.randint(0, 4)),
                "d": model, "mnf": mnf, "dt": rng.choice(["phone", "tablet", "desktop"]),
                "r": "1080x2340", "dnst": "XXHDPI", "la": rng.choice(["en", "de", "tr_TR"]),
                "c": rng.choice(["Telekom.de", "Verizon", "NTT docomo"]),
                "av": "%d:%d:%d" % (major, minor, patch)})
    if seq % 2:
        doc.update({"av_major": major, "av_minor": minor, "av_patch": patch})
    return doc


def profile_fields(rng: random.Random, seq: int) -> dict:
    """SDK user_details: strings mostly, some non-strings in text columns."""
    if seq % 6 == 5:
        return {}
    doc: dict = {"name": nasty(rng) if seq % 2 else "User %d" % seq}
    doc["username"] = "u%d" % seq
    doc["email"] = ["a%d@x.example" % seq, "b@y.example"] if seq % 13 == 1 else "user%d@example.com" % seq
    if seq % 11 == 3:
        doc["name"] = {"first": "Jo", "last": 'Lee "the" <dev>'}
    doc["organization"] = nasty(rng)
    doc["phone"] = 15551230000 + seq if seq % 7 == 2 else "+1 (555) 123-%04d" % (seq % 10000)
    if seq % 8:
        doc["picture"] = "https://cdn.example.com/u/%d.png?x=1&y=\"2\"" % seq if seq % 3 else "/userimages/%d.png" % seq
    doc["gender"] = rng.choice(["M", "F", True]) if seq % 17 == 9 else rng.choice(["M", "F"])
    if seq % 10 != 7:
        doc["byear"] = 1990.7 if seq % 19 == 4 else rng.randint(1940, 2010)
    return doc


def custom_fields(rng: random.Random, seq: int) -> dict:
    """Custom properties: nested values, integer-like keys, hostile keys."""
    if seq % 9 == 8:
        return {}
    custom: dict = {"plan": rng.choice(["free", "pro", "team"]), "logins": rng.randint(0, 999),
                    "tags": ["beta", nasty(rng)], "score": 2.5}
    if seq % 4 == 1:
        custom["10"] = "ten"
        custom["2"] = "two"
        custom['key "q",\n'] = nasty(rng)
        custom["nested"] = {"a": [1, 2.25, {"b": None}], "": "empty key", "t": True}
    return custom


def extra_fields(rng: random.Random, seq: int) -> dict:
    """SDK info, campaign, crash flags, merges and plugin keys."""
    doc: dict = {"sdk": {"name": rng.choice(["java-native-android", "objc-native-ios"]), "version": "24.4.1"}}
    if seq % 12 == 0:
        doc["cmp"] = {"c": "organic", "b": None}
    if seq % 15 == 0:
        doc["chr"] = {"5f0c2b7e1a9d4c3e8b6a7f21": {"in": "true", "ts": 1716400000}}
    if seq % 6 == 1:
        doc.update({"hadFatalCrash": 1716400000, "hadAnyFatalCrash": True})
    if seq % 20 == 11:
        doc["merges"] = 1
        doc["tpa"] = 19.99
        doc["tpc"] = 2
    if seq % 25 == 13:
        doc["ключ \"plugin\" <x>"] = {"consent": {"push": False}}
    return doc


def make_user(rng: random.Random, app: dict, seq: int, now: int) -> dict:
    """One app_users document for app (per-user deterministic rng)."""
    did = make_did(rng, seq)
    doc: dict = {"_id": user_id(app["key"], did), "uid": base62(seq + 1), "did": did}
    if seq % 3 == 0:
        doc["t"] = "0"
        doc["hasInfo"] = True
    lac = make_lac(rng, seq, now)
    doc.update(session_fields(rng, seq, lac, now))
    doc.update(device_fields(rng, seq))
    doc.update(profile_fields(rng, seq))
    custom = custom_fields(rng, seq)
    if custom or seq % 2:
        doc["custom"] = custom
    doc.update(extra_fields(rng, seq))
    return doc
