/*
 * test_text.c - the shared character helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void hex_value_of_every_byte(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int want = (c >= '0' && c <= '9')   ? c - '0'
                   : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                   : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                            : -1;
        assert_int_equal(text_hex_value(c), want);
    }
}

static void object_id_is_exactly_24_hex_digits(void **state)
{
    (void)state;
    const char *id = "64b0ac10c2c3ce0012dd1001";
    assert_true(text_is_object_id(id, 24));
    assert_true(text_is_object_id("64B0AC10C2C3CE0012DD1001", 24));
    assert_false(text_is_object_id(id, 23));
    assert_false(text_is_object_id("64b0ac10c2c3ce0012dd100g", 24));
    assert_false(text_is_object_id("ObjectId(64b0ac10c2c3ce0", 24));
    assert_false(text_is_object_id("", 0));
}

static void utf8_encoding_at_every_length_boundary(void **state)
{
    (void)state;
    static const struct {
        uint32_t cp;
        const char *bytes;
    } cases[] = {
        {0x00, "\x00"},
        {0x7F, "\x7F"},
        {0x80, "\xC2\x80"},
        {0x7FF, "\xDF\xBF"},
        {0x800, "\xE0\xA0\x80"},
        {0xFFFD, "\xEF\xBF\xBD"},
        {0xFFFF, "\xEF\xBF\xBF"},
        {0x10000, "\xF0\x90\x80\x80"},
        {0x1F600, "\xF0\x9F\x98\x80"},
        {0x10FFFF, "\xF4\x8F\xBF\xBF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[4];
        size_t want = cases[i].cp == 0 ? 1 : strlen(cases[i].bytes);
        assert_int_equal(text_utf8_encode(cases[i].cp, out), want);
        assert_memory_equal(out, cases[i].bytes, want);
    }
}

static void object_id_unwrap_only_the_ejson_form(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"ObjectId(64b0ac10c2c3ce0012dd1001)", "64b0ac10c2c3ce0012dd1001"},
        {"ObjectId(ABC)", "ABC"},
        {"64b0ac10c2c3ce0012dd1001", "64b0ac10c2c3ce0012dd1001"},
        {"ObjectId()", "ObjectId()"},
        {"ObjectId(xyz)", "ObjectId(xyz)"},
        {"ObjectId(abc", "ObjectId(abc"},
        {"objectid(abc)", "objectid(abc)"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].in);
        const char *hex = text_object_id_unwrap(cases[i].in, &len);
        assert_int_equal(len, strlen(cases[i].out));
        assert_memory_equal(hex, cases[i].out, len);
    }
    assert_int_equal(sizeof(text_object_id), 25);
}

static void decimal_integers_are_strict(void **state)
{
    (void)state;
    uint64_t u = 7;
    int64_t v = 7;
    assert_true(text_parse_u64("0", 1, &u) && u == 0);
    assert_true(text_parse_u64("18446744073709551615", 20, &u) && u == UINT64_MAX);
    assert_false(text_parse_u64("18446744073709551616", 20, &u)); /* overflow */
    assert_false(text_parse_u64("", 0, &u));
    assert_false(text_parse_u64("-1", 2, &u));
    assert_false(text_parse_u64("+1", 2, &u));
    assert_false(text_parse_u64("1 ", 2, &u));
    assert_false(text_parse_u64("1.0", 3, &u));
    assert_true(text_parse_u64("123x", 3, &u) && u == 123); /* only len bytes */
    assert_true(text_parse_i64("-9223372036854775808", 20, &v) && v == INT64_MIN);
    assert_true(text_parse_i64("9223372036854775807", 19, &v) && v == INT64_MAX);
    assert_false(text_parse_i64("9223372036854775808", 19, &v));
    assert_false(text_parse_i64("-9223372036854775809", 20, &v));
    assert_false(text_parse_i64("-", 1, &v));
    assert_false(text_parse_i64("--1", 3, &v));
    assert_true(text_parse_i64("-0", 2, &v) && v == 0);
}

static void json_number_integer_parts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ok, negative, digits;
        uint64_t magnitude;
        int fraction;
    } cases[] = {
        {"1717650000", 1, 0, 10, 1717650000u, 0},
        {"1717650000.000", 1, 0, 10, 1717650000u, 0},
        {"1717650000.5", 1, 0, 10, 1717650000u, 1},
        {"-0.5", 1, 1, 0, 0, 1},
        {"1.7e9", 1, 0, 10, 1700000000u, 0},
        {"17e-1", 1, 0, 1, 1, 1},
        {"1e-400", 1, 0, 0, 0, 1},
        {"0", 1, 0, 0, 0, 0},
        {"9223372036854775807", 1, 0, 19, 9223372036854775807u, 0},
        {"12345678901234567890", 1, 0, 20, 0, 0},
        {"1e300", 1, 0, 20, 0, 0},
        /* digits alone (1 to 19) take the short path; the same values
         * spelled otherwise take the full one and must agree */
        {"7", 1, 0, 1, 7, 0},
        {"0012", 1, 0, 2, 12, 0},
        {"0012.0", 1, 0, 2, 12, 0},
        {"0000000000000000000", 1, 0, 0, 0, 0},
        {"00000000000000000000", 1, 0, 0, 0, 0},
        {"9999999999999999999", 1, 0, 19, 9999999999999999999u, 0},
        {"9999999999999999999.0", 1, 0, 19, 9999999999999999999u, 0},
        {"00000000000000000001", 1, 0, 1, 1, 0},
        {"18446744073709551616", 1, 0, 20, 0, 0},
        {"-12", 1, 1, 2, 12, 0},
        {"12a", 0, 0, 0, 0, 0},
        {"1:", 0, 0, 0, 0, 0},
        {"1.", 0, 0, 0, 0, 0},
        {".5", 0, 0, 0, 0, 0},
        {"1e", 0, 0, 0, 0, 0},
        {"abc", 0, 0, 0, 0, 0},
        {"", 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        text_integer t;
        int ok = text_json_integer(cases[i].text, strlen(cases[i].text), &t);
        assert_int_equal(ok, cases[i].ok);
        if (!ok)
            continue;
        assert_int_equal(t.negative, cases[i].negative);
        assert_int_equal(t.digits, cases[i].digits);
        if (t.digits <= 19)
            assert_int_equal(t.magnitude, cases[i].magnitude);
        assert_int_equal(t.fraction, cases[i].fraction);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_value_of_every_byte),
        cmocka_unit_test(object_id_is_exactly_24_hex_digits),
        cmocka_unit_test(utf8_encoding_at_every_length_boundary),
        cmocka_unit_test(object_id_unwrap_only_the_ejson_form),
        cmocka_unit_test(decimal_integers_are_strict),
        cmocka_unit_test(json_number_integer_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
