"""Unit tests of sim.mongo (run: cd tests/sim && python3 -m unittest)."""

from __future__ import annotations

import unittest

from sim import mongo
from sim.jsonjs import BsonDate, ObjectId

R = 1717650000          # run start (seconds)
C = 1716000000          # cursor


def users() -> list:
    """A small app_users collection covering every lac shape."""
    return [
        {"_id": "e5", "lac": C + 10},
        {"_id": "a1", "lac": C + 10},           # tie with e5: _id breaks it
        {"_id": "b2", "lac": C - 1},            # before the window
        {"_id": "c3", "lac": R},                # at the (exclusive) end
        {"_id": "d4", "lac": R - 1},
        {"_id": "f6"},                          # no lac
        {"_id": "g7", "lac": 1716000000123},    # legacy milliseconds
        {"_id": "h8", "lac": None},             # null lac
        {"_id": "i9", "lac": "1716000100"},     # a string: other type bracket
        {"_id": "j0", "lac": C},                # at the (inclusive) start
    ]


def ids(docs: list) -> list:
    """The _ids of docs in order."""
    return [d["_id"] for d in docs]


class FilterTests(unittest.TestCase):
    """Filter operators."""

    def test_spec_incremental_window(self) -> None:
        """{"lac":{"$gte":C,"$lt":R}} sorted {"lac":1,"_id":1} (SPEC users)."""
        total, page = mongo.find(users(), {"lac": {"$gte": C, "$lt": R}}, {"lac": 1, "_id": 1})
        self.assertEqual(total, 4)
        self.assertEqual(ids(page), ["j0", "a1", "e5", "d4"])

    def test_spec_full_history_filter(self) -> None:
        """The $or filter of a first full run: seconds before R, any
        millisecond lac, and no lac at all (not null, not strings)."""
        query = {"$or": [{"lac": {"$lt": R}}, {"lac": {"$gte": 1000000000000}}, {"lac": {"$exists": False}}]}
        total, page = mongo.find(users(), query, {"lac": 1, "_id": 1})
        self.assertEqual(total, 7)
        self.assertEqual(ids(page), ["f6", "b2", "j0", "a1", "e5", "d4", "g7"])

    def test_comparisons_stay_in_type_bracket(self) -> None:
        """$gt on a number never matches strings, null or missing."""
        self.assertFalse(mongo.matches({"lac": "9999999999"}, {"lac": {"$gt": 0}}))
        self.assertFalse(mongo.matches({"lac": None}, {"lac": {"$gt": 0}}))
        self.assertFalse(mongo.matches({}, {"lac": {"$lt": 10 ** 12}}))
        self.assertTrue(mongo.matches({"lac": 5.5}, {"lac": {"$gt": 5}}))

    def test_booleans_are_not_numbers(self) -> None:
        """True is a boolean for Mongo, not 1."""
        self.assertFalse(mongo.matches({"x": True}, {"x": 1}))
        self.assertFalse(mongo.matches({"x": True}, {"x": {"$gte": 0}}))

    def test_equality_and_null(self) -> None:
        """Implicit $eq; null matches missing and null; arrays by element."""
        self.assertTrue(mongo.matches({"a": 1}, {"a": 1}))
        self.assertTrue(mongo.matches({"a": 1}, {"a": {"$eq": 1.0}}))
        self.assertTrue(mongo.matches({}, {"a": None}))
        self.assertTrue(mongo.matches({"a": None}, {"a": None}))
        self.assertFalse(mongo.matches({"a": 0}, {"a": None}))
        self.assertTrue(mongo.matches({"tags": ["x", "y"]}, {"tags": "y"}))
        self.assertTrue(mongo.matches({"tags": ["x", "y"]}, {"tags": ["x", "y"]}))
        self.assertTrue(mongo.matches({"a": {"b": 2}}, {"a.b": 2}))

    def test_exists(self) -> None:
        """$exists distinguishes missing from null."""
        self.assertTrue(mongo.matches({"a": None}, {"a": {"$exists": True}}))
        self.assertFalse(mongo.matches({}, {"a": {"$exists": True}}))
        self.assertTrue(mongo.matches({}, {"a": {"$exists": False}}))

    def test_logical_operators(self) -> None:
        """$and, $or, $nor and multiple conditions on one field."""
        doc = {"a": 5, "b": "x"}
        self.assertTrue(mongo.matches(doc, {"$and": [{"a": {"$gte": 5}}, {"b": "x"}]}))
        self.assertFalse(mongo.matches(doc, {"$and": [{"a": {"$gt": 5}}, {"b": "x"}]}))
        self.assertTrue(mongo.matches(doc, {"$or": [{"a": 1}, {"b": "x"}]}))
        self.assertFalse(mongo.matches(doc, {"$nor": [{"a": 5}]}))
        self.assertTrue(mongo.matches(doc, {"a": {"$gt": 1, "$lt": 6}}))
        self.assertTrue(mongo.matches(doc, {"a": {"$in": [1, 5]}, "b": {"$nin": ["y"]}, "c": {"$ne": 1}}))

    def test_unknown_operator_is_an_error(self) -> None:
        """Mongo rejects unknown operators; so do we."""
        with self.assertRaises(mongo.QueryError):
            mongo.matches({"a": 1}, {"a": {"$regexx": "x"}})
        with self.assertRaises(mongo.QueryError):
            mongo.matches({"a": 1}, {"$where": "1"})

    def test_ejson_values(self) -> None:
        """{"$date":..} and {"$oid":..} in filters compare as BSON values."""
        query = mongo.from_ejson({"lu": {"$gte": {"$date": "2024-06-05T15:11:40Z"}},
                                  "_id": {"$oid": "64b0ac10c2c3ce0012dd1001"}})
        doc = {"_id": ObjectId("64b0ac10c2c3ce0012dd1001"), "lu": BsonDate(1717600300000)}
        self.assertTrue(mongo.matches(doc, query))


class SortTests(unittest.TestCase):
    """Sorting, type order, paging."""

    def test_type_order_missing_null_numbers_strings(self) -> None:
        """missing/null < numbers < strings < objects < oid < bool < date;
        an array sorts by its smallest element ([1] before 2)."""
        docs = [{"_id": 9, "v": BsonDate(0)}, {"_id": 8, "v": True}, {"_id": 7, "v": ObjectId("0" * 24)},
                {"_id": 6, "v": [1]}, {"_id": 5, "v": {"a": 1}}, {"_id": 4, "v": "a"},
                {"_id": 3, "v": 2}, {"_id": 2, "v": None}, {"_id": 1}]
        self.assertEqual(ids(mongo.sort_docs(docs, mongo.normalise_sort({"v": 1}))), [1, 2, 6, 3, 4, 5, 7, 8, 9])

    def test_descending_and_multiple_keys(self) -> None:
        """Several keys, -1 reverses, _id tie-break is always ascending."""
        docs = [{"_id": "b", "x": 1, "y": 2}, {"_id": "a", "x": 1, "y": 2},
                {"_id": "c", "x": 2, "y": 1}, {"_id": "d", "x": 1, "y": 3}]
        order = mongo.sort_docs(docs, mongo.normalise_sort({"x": 1, "y": -1}))
        self.assertEqual(ids(order), ["d", "a", "b", "c"])

    def test_empty_sort_keeps_natural_order(self) -> None:
        """No sort: insertion order."""
        self.assertEqual(ids(mongo.find(users(), {}, {})[1]), ids(users()))

    def test_paging_concatenates_to_the_whole_window(self) -> None:
        """skip/limit pages of a sorted window add up to the window."""
        query, sort = {"lac": {"$gte": 0}}, {"lac": 1, "_id": 1}
        total, everything = mongo.find(users(), query, sort)
        pages = []
        for skip in range(0, total + 3, 3):
            pages += mongo.find(users(), query, sort, skip, 3)[1]
        self.assertEqual(ids(pages), ids(everything))
        self.assertEqual(mongo.find(users(), query, sort, total + 5, 3)[1], [])

    def test_limit_zero_means_all(self) -> None:
        """limit 0 = no limit (Mongo)."""
        self.assertEqual(len(mongo.find(users(), {}, {}, 2, 0)[1]), len(users()) - 2)


if __name__ == "__main__":
    unittest.main()
