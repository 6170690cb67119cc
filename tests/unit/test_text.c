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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_value_of_every_byte),
        cmocka_unit_test(object_id_is_exactly_24_hex_digits),
        cmocka_unit_test(utf8_encoding_at_every_length_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
