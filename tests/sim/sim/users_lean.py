"""A fast app-user generator for big data sets (--generator lean).

A whole app is generated at once from one random generator per (seed, app
index), so 3 x 100,000 users take a few seconds; each document's wire text
is written next to it from the same values (no encoder pass) and kept as
UTF-8 bytes.  That text is what sim.jsonjs.ejson writes for the document:
no integer-like keys, JS number text, string literals from js_string.
test_costmodel.py checks the equality on a sample.

Documents are about 0.6-1.5 KB: _id (sha1 of app key + did, 40 hex), uid,
did, fac, first_sync, fs, ls, lac, last_sync, lu, sc, tsd, sd, lsid, hos,
cc, cty, rgn, tz, p, pv, d, mnf, dt, r, dnst, la, c, av, av_major/minor/
patch, name, username, email, organization, phone, picture, gender, byear,
custom (with a note of varying length), sdk, sometimes cmp and crash flags.

`lac` by seq:
  seq % 25 == 3     no lac at all (4 %)
  seq % 200 == 8    "lac": null (0.5 %)
  seq % 200 == 11   legacy 13-digit milliseconds (0.5 %)
  seq % 50 == 13    base time - 10 days exactly (2 %: a tie group)
  otherwise         uniform over the 400 days before the base time
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Iterator

from .data import base62
from .jsonjs import BsonDate, ejson, js_number, js_string

DAY = 86400
NAMES = ["Anna Schmidt", "Zoë Müller", 'Jane "JJ" Doe', "O'Brien, Pat", "李小龙", "Émile Zola",
         "Ana\nMaria", "Ali <admin> & Co", "😀 Emoji Fan", "Mehmet Yılmaz", "Sam Lee", "=1+1"]
ORGS = ["Acme", "Initech", "Umbrella Corp", "Ünited, Ltd.", 'The "Quoted" Inc', "Globex"]
CITIES = [("DE", "Berlin", "BE"), ("US", "New York", "NY"), ("JP", "東京", "13"), ("TR", "İstanbul", "34"),
          ("IN", "Mumbai", "MH"), ("Unknown", "Unknown", "Unknown")]
PLATFORMS = [("Android", "a", "samsung", "SM-S911B"), ("iOS", "i", "Apple", "iPhone15,2"),
             ("Windows", "mw", "Microsoft", "PC"), ("macOS", "o", "Apple", "MacBookPro18,3")]
CARRIERS = ["Telekom.de", "Verizon", "NTT docomo", "Turkcell", "--"]
LANGS = ["en", "de", "ja", "tr", "hi"]
DEVICE_TYPES = ["phone", "tablet", "desktop"]
RESOLUTIONS = ["1080x2340", "1179x2556", "1920x1080"]
PLANS = ["free", "pro", "team", "enterprise"]
TAGS = ["beta", "vip", "churn-risk", "newsletter", "ünïcode", 'q"uote']
SDKS = ["java-native-android", "objc-native-ios", "javascript_native_web"]
FILLER = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor incididunt "
          "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
          "ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in "
          "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. ") * 4
NOTE_MAX = 700


def _lit(values: list) -> list:
    """(value, its JSON literal) pairs: the literal as JSON.stringify writes it."""
    return [(v, js_string(v)) for v in values]


NAMES_J, ORGS_J, TAGS_J = _lit(NAMES), _lit(ORGS), _lit(TAGS)
CITIES_J = [(c, js_string(c[1])) for c in CITIES]
NOTES = [FILLER[:n] for n in range(NOTE_MAX)]
NOTES_J = [js_string(n) for n in NOTES]
_DAYS: dict = {}


def render(doc: dict) -> str:
    """A document's /o/db text (jsonjs.ejson; make_users renders its own
    documents faster, to the same text)."""
    return ejson(doc)


def lac_of(seq: int, rnd: Any, now: int) -> tuple:
    """(present, lac) per the module docstring."""
    if seq % 25 == 3:
        return False, None
    if seq % 200 == 8:
        return True, None
    if seq % 200 == 11:
        return True, (now - DAY - int(rnd() * 399 * DAY)) * 1000 + int(rnd() * 1000)
    if seq % 50 == 13:
        return True, now - 10 * DAY
    return True, now - 60 - int(rnd() * 400 * DAY)


def make_users(seed: int, app_index: int, app: dict, count: int, now: int) -> Iterator:
    """(document, wire text as UTF-8 bytes) of count users of one app
    (deterministic per seed, app index and base time)."""
    rng = random.Random("%d:lean:%d" % (seed, app_index))
    rnd, bits = rng.random, rng.getrandbits
    app_key = app["key"]
    for seq in range(count):
        doc, text = one_user(seq, rnd, bits, app_key, now)
        yield doc, text.encode("utf-8")


def _iso_ms(ms: int) -> str:
    """BsonDate(ms).iso(False) (relaxed EJSON date text), the date part
    cached per day."""
    secs, milli = divmod(ms, 1000)
    days, rest = divmod(secs, DAY)
    date = _DAYS.get(days)
    if date is None:
        date = _DAYS[days] = BsonDate(days * DAY * 1000).iso(True)[:11]
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if milli:
        return "%s%02d:%02d:%02d.%03dZ" % (date, hours, minutes, seconds, milli)
    return "%s%02d:%02d:%02dZ" % (date, hours, minutes, seconds)


def one_user(seq: int, rnd: Any, bits: Any, app_key: str, now: int) -> tuple:
    """(document, its /o/db text) of one app user, fields in Countly's
    order; the text is built next to the document (faster than encoding it
    afterwards) and equals jsonjs.ejson(document)."""
    kind = seq % 10
    if kind < 7:
        did = "%016x" % bits(64)
    elif kind < 9:
        h = "%032X" % bits(128)
        did = "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
    else:
        did = "user%d@example.com" % seq
    ident = hashlib.sha1((app_key + did).encode("utf-8")).hexdigest()
    uid = base62(seq + 1)
    doc: dict = {"_id": ident, "uid": uid, "did": did}
    out = ['{"_id":"%s","uid":"%s","did":"%s"' % (ident, uid, did)]
    if seq % 3 == 0:
        doc["t"] = "0"
        doc["hasInfo"] = True
        out.append(',"t":"0","hasInfo":true')
    present, lac = lac_of(seq, rnd, now)
    last = lac // 1000 if lac and lac >= 10 ** 12 else (lac or now - 300 * DAY - int(rnd() * 90 * DAY))
    ls = last - int(rnd() * 3600)
    first = ls - int(rnd() * 300 * DAY)
    doc["fac"] = first
    doc["first_sync"] = first + 1
    doc["fs"] = first
    doc["ls"] = ls
    out.append(',"fac":%d,"first_sync":%d,"fs":%d,"ls":%d' % (first, first + 1, first, ls))
    if present:
        doc["lac"] = lac
        out.append(',"lac":null' if lac is None else ',"lac":%d' % lac)
    if lac is not None:
        doc["last_sync"] = last + 1
        out.append(',"last_sync":%d' % (last + 1))
        if seq % 3:
            ms = (last + 1) * 1000 + int(rnd() * 1000)
            doc["lu"] = BsonDate(ms)
            out.append(',"lu":{"$date":"%s"}' % _iso_ms(ms))
    sc = 1 + int(rnd() * 800)
    tsd = int(rnd() * 200000) if seq % 4 else int(rnd() * 5000) + (1 + int(rnd() * 999)) / 1000
    sd = int(rnd() * 600)
    lsid = "%024x" % bits(96)
    hos = seq % 10 == 0
    (cc, cty, rgn), cty_j = CITIES_J[int(rnd() * len(CITIES_J))]
    doc["sc"] = sc
    doc["tsd"] = tsd
    doc["sd"] = sd
    doc["lsid"] = lsid
    doc["hos"] = hos
    doc["cc"] = cc
    doc["cty"] = cty
    doc["rgn"] = rgn
    out.append(',"sc":%d,"tsd":%s,"sd":%d,"lsid":"%s","hos":%s,"cc":"%s","cty":%s,"rgn":"%s"'
               % (sc, tsd if type(tsd) is int else js_number(tsd), sd, lsid, "true" if hos else "false", cc,
                  cty_j, rgn))
    if seq % 5 == 0:
        lon = (int(rnd() * 179999) * 10 + 1 + int(rnd() * 9)) / 10000 * (1 if rnd() < 0.5 else -1)
        lat = (int(rnd() * 89999) * 10 + 1 + int(rnd() * 9)) / 10000 * (1 if rnd() < 0.5 else -1)
        doc["loc"] = {"gps": True, "geo": {"type": "Point", "coordinates": [lon, lat]}, "date": last * 1000 + 123}
        out.append(',"loc":{"gps":true,"geo":{"type":"Point","coordinates":[%s,%s]},"date":%d}'
                   % (js_number(lon), js_number(lat), last * 1000 + 123))
    tz_num = int(rnd() * 5) * 60 - 120
    if seq % 2:
        doc["tz"] = str(tz_num)
        out.append(',"tz":"%d"' % tz_num)
    else:
        doc["tz"] = tz_num
        out.append(',"tz":%d' % tz_num)
    plat, prefix, mnf, model = PLATFORMS[seq % 4]
    major, minor, patch = 1 + int(rnd() * 3), int(rnd() * 10), int(rnd() * 21)
    pv = "%s%d:%d" % (prefix, 10 + int(rnd() * 8), int(rnd() * 5))
    dt = DEVICE_TYPES[int(rnd() * 3)]
    res = RESOLUTIONS[int(rnd() * 3)]
    la = LANGS[int(rnd() * len(LANGS))]
    carrier = CARRIERS[int(rnd() * len(CARRIERS))]
    av = "%d:%d:%d" % (major, minor, patch)
    doc["p"] = plat
    doc["pv"] = pv
    doc["d"] = model
    doc["mnf"] = mnf
    doc["dt"] = dt
    doc["r"] = res
    doc["dnst"] = "XXHDPI"
    doc["la"] = la
    doc["c"] = carrier
    doc["av"] = av
    out.append(',"p":"%s","pv":"%s","d":"%s","mnf":"%s","dt":"%s","r":"%s","dnst":"XXHDPI","la":"%s","c":"%s",'
               '"av":"%s"' % (plat, pv, model, mnf, dt, res, la, carrier, av))
    if seq % 2:
        doc["av_major"] = major
        doc["av_minor"] = minor
        doc["av_patch"] = patch
        out.append(',"av_major":%d,"av_minor":%d,"av_patch":%d' % (major, minor, patch))
    if seq % 6 != 5:
        name, name_j = NAMES_J[int(rnd() * len(NAMES_J))]
        org, org_j = ORGS_J[int(rnd() * len(ORGS_J))]
        phone = "+1 (555) 123-%04d" % (seq % 10000)
        doc["name"] = name
        doc["username"] = "u%d" % seq
        doc["email"] = "user%d@example.com" % seq
        doc["organization"] = org
        doc["phone"] = phone
        out.append(',"name":%s,"username":"u%d","email":"user%d@example.com","organization":%s,"phone":"%s"'
                   % (name_j, seq, seq, org_j, phone))
        if seq % 8:
            doc["picture"] = "https://cdn.example.com/u/%d.png?x=1&y=2" % seq
            out.append(',"picture":"https://cdn.example.com/u/%d.png?x=1&y=2"' % seq)
        gender = "MF"[int(rnd() * 2)]
        doc["gender"] = gender
        out.append(',"gender":"%s"' % gender)
        if seq % 10 != 7:
            byear = 1940 + int(rnd() * 70)
            doc["byear"] = byear
            out.append(',"byear":%d' % byear)
    note_len = int(rnd() * NOTE_MAX)
    plan = PLANS[int(rnd() * len(PLANS))]
    logins = int(rnd() * 1000)
    tag1, tag1_j = TAGS_J[int(rnd() * len(TAGS_J))]
    tag2, tag2_j = TAGS_J[int(rnd() * len(TAGS_J))]
    doc["custom"] = {"plan": plan, "logins": logins, "tags": [tag1, tag2], "score": 2.5, "note": NOTES[note_len]}
    out.append(',"custom":{"plan":"%s","logins":%d,"tags":[%s,%s],"score":2.5,"note":%s}'
               % (plan, logins, tag1_j, tag2_j, NOTES_J[note_len]))
    sdk_name, sdk_version = SDKS[seq % 3], "24.%d.%d" % (int(rnd() * 10), int(rnd() * 10))
    doc["sdk"] = {"name": sdk_name, "version": sdk_version}
    out.append(',"sdk":{"name":"%s","version":"%s"}' % (sdk_name, sdk_version))
    if seq % 12 == 0:
        doc["cmp"] = {"c": "organic", "b": None}
        out.append(',"cmp":{"c":"organic","b":null}')
    if seq % 6 == 1:
        doc["hadFatalCrash"] = last - 100
        doc["hadAnyFatalCrash"] = True
        out.append(',"hadFatalCrash":%d,"hadAnyFatalCrash":true' % (last - 100))
    out.append("}")
    return doc, "".join(out)


class LeanFactory:
    """The sim.data user factory: make_users for whole apps (what Dataset
    uses); calling it makes one user from the given generator."""

    make_users = staticmethod(make_users)

    def __call__(self, rng: random.Random, app: dict, seq: int, now: int) -> dict:
        """One user (the per-user factory interface)."""
        return one_user(seq, rng.random, rng.getrandbits, app["key"], now)[0]


factory = LeanFactory()
