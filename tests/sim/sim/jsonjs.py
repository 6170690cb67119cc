"""JSON text exactly as Countly's Node server writes it.

* `stringify(value)` is `JSON.stringify(value)`: JS property order (integer-like
  keys first, ascending), JS number formatting, raw UTF-8, minimal escapes.
* `ejson(value, top_level_oid=True)` is dbviewer's
  `EJSON.stringify(objectIdCheck(doc))` in relaxed mode: BSON dates become
  `{"$date":"...Z"}`, nested ObjectIds `{"$oid":..}`, top-level ObjectIds the
  string `"ObjectId(<hex>)"`.
* `escape_html`, `escape_html_entities` and `stringify_escaped` reproduce
  `common.escape_html` / `escape_html_entities` / `returnOutput` (the HTML
  escaping replacer), including their quirks.
* `decode_html` undoes the five entities (what the client does).
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any, Callable


class ObjectId:
    """A BSON ObjectId (24 lowercase hex digits)."""

    __slots__ = ("hex",)

    def __init__(self, hex_text: str) -> None:
        """Wrap a 24-hex id (stored lowercase)."""
        if not re.fullmatch(r"[0-9a-fA-F]{24}", hex_text):
            raise ValueError("not an ObjectId: %r" % hex_text)
        self.hex = hex_text.lower()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectId) and other.hex == self.hex

    def __hash__(self) -> int:
        return hash(("oid", self.hex))

    def __repr__(self) -> str:
        return "ObjectId(%s)" % self.hex


class BsonDate:
    """A BSON date: milliseconds since the epoch (UTC)."""

    __slots__ = ("ms",)

    def __init__(self, ms: int) -> None:
        """Wrap a millisecond timestamp."""
        self.ms = int(ms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BsonDate) and other.ms == self.ms

    def __hash__(self) -> int:
        return hash(("date", self.ms))

    def __repr__(self) -> str:
        return "BsonDate(%d)" % self.ms

    def iso(self, keep_zero_ms: bool) -> str:
        """ISO-8601 UTC text; `.000` is dropped unless keep_zero_ms (EJSON)."""
        secs, ms = divmod(self.ms, 1000)
        dt = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc)
        base = dt.strftime("%Y-%m-%dT%H:%M:%S")
        if ms == 0 and not keep_zero_ms:
            return base + "Z"
        return "%s.%03dZ" % (base, ms)


# ---------------------------------------------------------------------------
# JS property order and number formatting

_INDEX_RE = re.compile(r"0|[1-9][0-9]*")


def is_array_index(key: str) -> bool:
    """True when key is a canonical array index (JS orders those first)."""
    return bool(_INDEX_RE.fullmatch(key)) and int(key) < 4294967295


def js_keys(obj: dict) -> list:
    """The keys of obj in the order a JS object enumerates them."""
    ints = sorted((k for k in obj if is_array_index(k)), key=int)
    return ints + [k for k in obj if not is_array_index(k)]


def js_ordered(value: Any) -> Any:
    """A deep copy of value whose dicts are in JS property order."""
    if isinstance(value, dict):
        return {k: js_ordered(value[k]) for k in js_keys(value)}
    if isinstance(value, list):
        return [js_ordered(v) for v in value]
    return value


def js_number(num: float | int) -> str:
    """Number.prototype.toString for a finite number (ECMA-262 7.1.12.1)."""
    if isinstance(num, int):
        return str(num)
    if num == 0:
        return "0"
    sign = "-" if num < 0 else ""
    mant, _, exp = repr(abs(num)).partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + (int(exp) if exp else 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    esign = "+" if e >= 0 else "-"
    body = digits if k == 1 else digits[0] + "." + digits[1:]
    return "%s%se%s%d" % (sign, body, esign, abs(e))


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def js_string(text: str) -> str:
    """A JSON string literal as JSON.stringify writes it (raw UTF-8)."""
    out = json.dumps(text, ensure_ascii=False)
    return _SURROGATE_RE.sub(lambda m: "\\u%04x" % ord(m.group()), out)


# ---------------------------------------------------------------------------
# Serialisers

Replacer = Callable[[Any], Any]


def _encode(value: Any, out: list, ejson: bool, replacer: Replacer | None) -> None:
    """Append the JSON text of value to out (JSON.stringify's algorithm)."""
    if replacer is not None:
        value = replacer(value)
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float_text(value, ejson))
    elif isinstance(value, str):
        out.append(js_string(value))
    elif isinstance(value, ObjectId):
        out.append('{"$oid":"%s"}' % value.hex if ejson else '"%s"' % value.hex)
    elif isinstance(value, BsonDate):
        out.append('{"$date":"%s"}' % value.iso(False) if ejson else '"%s"' % value.iso(True))
    elif isinstance(value, list):
        _encode_list(value, out, ejson, replacer)
    elif isinstance(value, dict):
        _encode_dict(value, out, ejson, replacer)
    else:
        raise TypeError("cannot serialise %r" % (value,))


def _float_text(value: float, ejson: bool) -> str:
    """A double: JS text, or relaxed-EJSON's $numberDouble for -0/NaN/Inf."""
    if ejson and (math.isnan(value) or math.isinf(value) or (value == 0 and math.copysign(1, value) < 0)):
        special = "NaN" if math.isnan(value) else ("-0.0" if value == 0 else ("Infinity" if value > 0 else "-Infinity"))
        return '{"$numberDouble":"%s"}' % special
    if math.isnan(value) or math.isinf(value):
        return "null"
    return js_number(value)


def _encode_list(value: list, out: list, ejson: bool, replacer: Replacer | None) -> None:
    """Append a JSON array."""
    out.append("[")
    for i, item in enumerate(value):
        if i:
            out.append(",")
        _encode(item, out, ejson, replacer)
    out.append("]")


def _encode_dict(value: dict, out: list, ejson: bool, replacer: Replacer | None) -> None:
    """Append a JSON object in JS property order."""
    out.append("{")
    for i, key in enumerate(js_keys(value)):
        if i:
            out.append(",")
        out.append(js_string(key))
        out.append(":")
        _encode(value[key], out, ejson, replacer)
    out.append("}")


def stringify(value: Any) -> str:
    """JSON.stringify(value): compact, JS order, ObjectId as hex, Date ISO."""
    out: list = []
    _encode(value, out, False, None)
    return "".join(out)


def ejson(doc: Any, top_level_oid: bool = True) -> str:
    """EJSON.stringify(objectIdCheck(doc)) in relaxed mode (dbviewer /o/db)."""
    if top_level_oid and isinstance(doc, dict):
        doc = {k: ("ObjectId(%s)" % v.hex if isinstance(v, ObjectId) else v) for k, v in doc.items()}
    out: list = []
    _encode(doc, out, True, None)
    return "".join(out)


# ---------------------------------------------------------------------------
# Countly's HTML escaping (api/utils/common.js)

_MORE_RE = re.compile(r"\"|'|&(?!amp;|quot;|#39;|lt;|gt;|#46;|#36;)|<|>")
_LESS_RE = re.compile(r"[<>]")
_ENTITIES = {'"': "&quot;", "&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;"}


def escape_html(text: str, more: bool) -> str:
    """common.escape_html: find the first offending character, then escape
    all five characters from there on (the part before is left alone)."""
    match = (_MORE_RE if more else _LESS_RE).search(text)
    if not match:
        return text
    head, tail = text[: match.start()], text[match.start():]
    return head + "".join(_ENTITIES.get(c, c) for c in tail)


def js_json_parse(text: str) -> Any:
    """JSON.parse or raise ValueError (no NaN/Infinity, like JS)."""
    def reject(name: str) -> Any:
        raise ValueError(name)
    return json.loads(text, parse_constant=reject)


def _json_container(text: str) -> tuple[bool, Any]:
    """common.getJSON: (True, data) when text parses to an object/array."""
    try:
        data = js_json_parse(text)
    except ValueError:
        return False, None
    return isinstance(data, (dict, list)), data


def _escape_string_member(text: str, more: bool) -> str:
    """A string member: re-serialised after escaping if it holds JSON."""
    valid, data = _json_container(text)
    if valid:
        return stringify(escape_html_entities(data, more))
    return escape_html(text, more)


def escape_html_entities(value: Any, more: bool) -> Any:
    """escape_html_entities(key, value, more): a deep escaped copy of a
    plain object/array (keys too); other values are returned unchanged."""
    if isinstance(value, list):
        return [
            _escape_string_member(v, more) if isinstance(v, str) else escape_html_entities(v, more)
            for v in value
        ]
    if isinstance(value, dict):
        out = {}
        for key in js_keys(value):
            v = value[key]
            ek = escape_html(key, more)
            out[ek] = _escape_string_member(v, more) if isinstance(v, str) else escape_html_entities(v, more)
        return out
    return value


def stringify_escaped(value: Any, more: bool = True) -> str:
    """JSON.stringify(value, replacer) with Countly's escaping replacer,
    applied at every level exactly as JSON.stringify calls a replacer."""
    out: list = []
    _encode(value, out, False, lambda v: escape_html_entities(v, more))
    return "".join(out)


_DECODE_RE = re.compile(r"&(amp|quot|#39|lt|gt);")
_DECODED = {"amp": "&", "quot": '"', "#39": "'", "lt": "<", "gt": ">"}


def decode_html(text: str) -> str:
    """Replace the five entities in one left-to-right pass."""
    return _DECODE_RE.sub(lambda m: _DECODED[m.group(1)], text)


def decode_html_deep(value: Any) -> Any:
    """decode_html applied to every string and key of a JSON value."""
    if isinstance(value, str):
        return decode_html(value)
    if isinstance(value, list):
        return [decode_html_deep(v) for v in value]
    if isinstance(value, dict):
        return {decode_html(k): decode_html_deep(v) for k, v in value.items()}
    return value
