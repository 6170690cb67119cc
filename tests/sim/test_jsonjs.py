"""Unit tests of sim.jsonjs and of the truth oracle (python3 -m unittest)."""

from __future__ import annotations

import json
import random
import unittest

from sim import truth, users_gen
from sim.data import Dataset
from sim.jsonjs import (BsonDate, ObjectId, decode_html, ejson, escape_html, js_number, stringify,
                        stringify_escaped)
from sim.users_factory import PIPELINE_DIR, gen_body_available


class NumberTests(unittest.TestCase):
    """Number.prototype.toString."""

    def test_js_number_forms(self) -> None:
        """Integers without .0, JS exponent thresholds and spelling."""
        cases = {5.0: "5", -0.0: "0", 0.1: "0.1", 1e21: "1e+21", 1e20: "100000000000000000000",
                 1.5e-7: "1.5e-7", 0.000001: "0.000001", 123.456: "123.456", -2.5: "-2.5",
                 1234567.875: "1234567.875"}
        for value, text in cases.items():
            self.assertEqual(js_number(value), text, value)


class StringifyTests(unittest.TestCase):
    """JSON.stringify and relaxed EJSON."""

    def test_js_property_order(self) -> None:
        """Integer-like keys first, ascending; then insertion order."""
        self.assertEqual(stringify({"b": 1, "10": 2, "2": 3, "a": 4, "01": 5}),
                         '{"2":3,"10":2,"b":1,"a":4,"01":5}')

    def test_strings_raw_utf8_minimal_escapes(self) -> None:
        """Non-ASCII raw; control characters escaped; lone surrogates \\u."""
        self.assertEqual(stringify("Zoë\n\x01\u2028"), '"Zoë\\n\\u0001\u2028"')
        self.assertEqual(stringify("a\ud800b"), '"a\\ud800b"')

    def test_ejson_dates_and_object_ids(self) -> None:
        """Top-level ObjectId as "ObjectId(..)", nested $oid; $date without .000."""
        doc = {"_id": ObjectId("64b0ac10c2c3ce0012dd1001"), "o": {"x": ObjectId("64b0ac10c2c3ce0012dd1002")},
               "d": BsonDate(1717600300000), "e": BsonDate(1717600300204)}
        self.assertEqual(ejson(doc), '{"_id":"ObjectId(64b0ac10c2c3ce0012dd1001)",'
                                     '"o":{"x":{"$oid":"64b0ac10c2c3ce0012dd1002"}},'
                                     '"d":{"$date":"2024-06-05T15:11:40Z"},'
                                     '"e":{"$date":"2024-06-05T15:11:40.204Z"}}')


class EscapeTests(unittest.TestCase):
    """Countly's escape_html / returnOutput replacer."""

    def test_escape_html_more(self) -> None:
        """All five characters from the first offending one on."""
        self.assertEqual(escape_html("a & b", True), "a &amp; b")
        self.assertEqual(escape_html("O'Reilly <x>", True), "O&#39;Reilly &lt;x&gt;")
        self.assertEqual(escape_html("Tom &amp; Jerry", True), "Tom &amp; Jerry")
        self.assertEqual(escape_html("&amp; then 'q'", True), "&amp; then &#39;q&#39;")
        self.assertEqual(escape_html("'&amp;", True), "&#39;&amp;amp;")

    def test_escape_html_less_quirk(self) -> None:
        """returnMessage mode: starts at the first < or >, then escapes all."""
        self.assertEqual(escape_html('say "hi"', False), 'say "hi"')
        self.assertEqual(escape_html('a "b" <c> "d"', False), 'a "b" &lt;c&gt; &quot;d&quot;')

    def test_stringify_escaped_keys_values_json_strings(self) -> None:
        """Keys and nested values escaped; JSON-looking strings re-serialised."""
        value = {"k<": ["a&b", {"x": "'"}], "j": '{"v":"<i>"}'}
        self.assertEqual(stringify_escaped(value),
                         '{"k&lt;":["a&amp;b",{"x":"&#39;"}],"j":"{\\"v\\":\\"&lt;i&gt;\\"}"}')

    def test_decode_single_pass(self) -> None:
        """The client's decoding of the five entities."""
        self.assertEqual(decode_html("&amp;lt; &quot;&#39;&gt;"), "&lt; \"'>")


class TruthCrossCheck(unittest.TestCase):
    """This package's SPEC mapping against gen_body.expect_row."""

    @unittest.skipUnless(gen_body_available(), "tests/pipeline/gen_body.py not present")
    def test_users_apps_groups_agree(self) -> None:
        """Both oracles give the same rows for the built-in generator's data."""
        from sim import gen_body_adapter
        data = Dataset(7, 1717650000, 2, 400, users_gen.make_user)
        mine = truth.Truth(data, None)
        theirs = truth.Truth(data, gen_body_adapter.TruthRows(PIPELINE_DIR))
        gb = gen_body_adapter.load(PIPELINE_DIR)
        for app in data.app_ids():
            coll = data.users[app]
            for doc, line in zip(truth.matching_users(data, app, {}), mine.users(app, {}, "https://h")):
                cols, json_cols, _ = gb.expect_row("users", gen_body_adapter.top_model(gb, doc),
                                                   {"app_id": app, "server_url": "https://h", "processed_at": 0})
                cols["processed_at"] = None
                self.assertEqual(line["cols"], cols, coll.text(doc))
                self.assertEqual(line["json"], json_cols)
        member = next(iter(data.members.values()))
        for source in ("db", "mine"):
            self.assertEqual(mine.apps(source, member, "https://h/"), theirs.apps(source, member, "https://h/"))
        self.assertEqual(mine.groups(), theirs.groups())

    def test_rows_parse_back(self) -> None:
        """Metadata and JSON cells are valid compact JSON."""
        data = Dataset(3, 1717650000, 1, 200, users_gen.make_user)
        for line in truth.Truth(data).users(data.app_ids()[0], {}, "https://h"):
            for column in line["json"]:
                text = line["cols"][column]
                self.assertEqual(json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")),
                                 text.replace("\\u2028", "\u2028").replace("\\u2029", "\u2029"), column)

    def test_generator_is_deterministic(self) -> None:
        """Same seed and base time, same bytes."""
        one = Dataset(5, 1717650000, 1, 50, users_gen.make_user)
        two = Dataset(5, 1717650000, 1, 50, users_gen.make_user)
        app = one.app_ids()[0]
        self.assertEqual([one.users[app].text(d) for d in one.users[app].docs],
                         [two.users[app].text(d) for d in two.users[app].docs])
        random.seed(0)


if __name__ == "__main__":
    unittest.main()
