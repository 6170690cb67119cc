/*
 * test_json_string.c - unit tests of JSON string body decoding and escaping.
 *
 * Every decode case is also run with an output buffer of exactly the
 * decoded size (must succeed) and one byte short (must say NO_ROOM), and
 * its decoded length is checked against the input length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "json_string.h"

#define OUT_CAP 256

typedef struct {
    const char *in;
    unsigned flags;
    const char *out;
    unsigned long replaced;
} decode_case;

#define HTML JSON_STRING_HTML

static const decode_case decode_cases[] = {
    /* plain text, raw UTF-8 unchanged */
    {"", 0, "", 0},
    {"hello", 0, "hello", 0},
    {"Zo\xc3\xab M\xc3\xbcller \xf0\x9f\x98\x80", 0, "Zo\xc3\xab M\xc3\xbcller \xf0\x9f\x98\x80",
     0},
    /* every two-character escape */
    {"\\\"", 0, "\"", 0},
    {"\\\\", 0, "\\", 0},
    {"\\/", 0, "/", 0},
    {"\\b\\f\\n\\r\\t", 0, "\b\f\n\r\t", 0},
    {"a\\\"b\\\\c\\/d", 0, "a\"b\\c/d", 0},
    /* \u escapes: 1, 2 and 3 UTF-8 bytes, both hex cases */
    {"\\u0041", 0, "A", 0},
    {"\\u00e9\\u00E9", 0, "\xc3\xa9\xc3\xa9", 0},
    {"\\u07ff", 0, "\xdf\xbf", 0},
    {"\\u0800", 0, "\xe0\xa0\x80", 0},
    {"\\u20ac", 0, "\xe2\x82\xac", 0},
    {"\\uffff", 0, "\xef\xbf\xbf", 0},
    {"Zo\\u00eb M\\u00fcller", 0, "Zo\xc3\xab M\xc3\xbcller", 0},
    /* surrogate pairs: 4 UTF-8 bytes */
    {"\\ud83d\\ude00", 0, "\xf0\x9f\x98\x80", 0},
    {"\\uD800\\uDC00", 0, "\xf0\x90\x80\x80", 0},
    {"\\udbff\\udfff", 0, "\xf4\x8f\xbf\xbf", 0},
    /* lone surrogates and U+0000 become U+FFFD, counted */
    {"\\ud83d", 0, "\xef\xbf\xbd", 1},
    {"\\ud83dx", 0, "\xef\xbf\xbdx", 1},
    {"\\ude00", 0, "\xef\xbf\xbd", 1},
    {"\\ud83d\\ud83d\\ude00", 0, "\xef\xbf\xbd\xf0\x9f\x98\x80", 1},
    {"\\ud83d\\u0041", 0,
     "\xef\xbf\xbd"
     "A",
     1},
    {"\\ude00\\ud83d", 0, "\xef\xbf\xbd\xef\xbf\xbd", 2},
    {"a\\u0000b", 0,
     "a\xef\xbf\xbd"
     "b",
     1},
    {"\\ufffd", 0, "\xef\xbf\xbd", 0}, /* a real U+FFFD is not a substitution */
    /* HTML entities: decoded only with the flag */
    {"Acme Web &amp; Mobile", 0, "Acme Web &amp; Mobile", 0},
    {"Acme Web &amp; Mobile", HTML, "Acme Web & Mobile", 0},
    {"&quot;&#39;&lt;&gt;&amp;", HTML, "\"'<>&", 0},
    {"&quot;&#39;&lt;&gt;&amp;", 0, "&quot;&#39;&lt;&gt;&amp;", 0},
    {"&amp;lt;", HTML, "&lt;", 0}, /* never decoded twice */
    {"&amp;amp;", HTML, "&amp;", 0},
    {"&&amp;", HTML, "&&", 0},
    {"&am&amp;", HTML, "&am&", 0},
    {"&ampx&lt", HTML, "&ampx&lt", 0}, /* incomplete entities stay literal */
    {"&nbsp;&#60;&AMP;&apos;", HTML, "&nbsp;&#60;&AMP;&apos;", 0},
    {"&", HTML, "&", 0},
    {"x&", HTML, "x&", 0},
    {"&lt", HTML, "&lt", 0},
    /* HTML decoding applies after JSON unescaping */
    {"\\u0026amp;", HTML, "&", 0},
    {"&\\u0061mp;", HTML, "&", 0},
    {"&amp\\u003b", HTML, "&", 0},
    {"\\u0026amp;", 0, "&amp;", 0},
    {"&lt;b&gt; \\\"x\\\" &#39;y&#39;", HTML, "<b> \"x\" 'y'", 0},
};

#define DECODE_CASES (sizeof(decode_cases) / sizeof(decode_cases[0]))

static json_string_status decode(const char *in, unsigned flags, char *out, size_t cap,
                                 size_t *out_len, unsigned long *replaced)
{
    return json_string_decode(in, strlen(in), flags, out, cap, out_len, replaced);
}

static void decode_table_gives_expected_text_and_counts(void **state)
{
    (void)state;
    for (size_t i = 0; i < DECODE_CASES; i++) {
        const decode_case *c = &decode_cases[i];
        char out[OUT_CAP];
        size_t n = 0;
        unsigned long replaced = 7; /* increased, never reset */
        json_string_status status = decode(c->in, c->flags, out, sizeof(out), &n, &replaced);
        if (status != JSON_STRING_OK || n != strlen(c->out) || memcmp(out, c->out, n) != 0 ||
            replaced != 7 + c->replaced) {
            fail_msg("case %zu \"%s\": status %d, %zu bytes \"%.*s\", replaced %lu", i, c->in,
                     (int)status, n, (int)n, out, replaced - 7);
        }
        assert_true(n <= strlen(c->in));
    }
}

static void decode_fits_exactly_and_fails_one_byte_short(void **state)
{
    (void)state;
    for (size_t i = 0; i < DECODE_CASES; i++) {
        const decode_case *c = &decode_cases[i];
        size_t want = strlen(c->out);
        char out[OUT_CAP];
        size_t n = 99;
        unsigned long replaced = 0;
        memset(out, 'Z', sizeof(out));
        assert_int_equal(decode(c->in, c->flags, out, want, &n, &replaced), JSON_STRING_OK);
        assert_int_equal(n, want);
        assert_memory_equal(out, c->out, want);
        assert_int_equal(out[want], 'Z'); /* nothing written past cap */
        if (want == 0)
            continue;
        memset(out, 'Z', sizeof(out));
        replaced = 0;
        assert_int_equal(decode(c->in, c->flags, out, want - 1, &n, &replaced),
                         JSON_STRING_ERR_NO_ROOM);
        assert_int_equal(out[want - 1], 'Z');
        assert_int_equal(n, 0);
        assert_int_equal(replaced, 0); /* counted only on success */
    }
}

static void malformed_escapes_are_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"\\",     "abc\\",   "\\x",     "\\u",     "\\u12",
                                      "\\u123", "\\u12g4", "\\uZZZZ", "\\U0041", "\\'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[OUT_CAP];
        size_t n = 5;
        unsigned long replaced = 0;
        if (decode(bad[i], 0, out, sizeof(out), &n, &replaced) != JSON_STRING_ERR_ESCAPE)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(n, 0);
    }
}

static void high_surrogate_then_truncated_escape_is_an_error(void **state)
{
    (void)state;
    char out[OUT_CAP];
    size_t n = 0;
    unsigned long replaced = 0;
    assert_int_equal(decode("\\ud83d\\u12", 0, out, sizeof(out), &n, &replaced),
                     JSON_STRING_ERR_ESCAPE);
}

/* ---- escaping ------------------------------------------------------------------- */

typedef struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *out;
} escape_case;

static const escape_case escape_cases[] = {
    {"", 0, ""},
    {"plain text", 0, "plain text"},
    {"say \"hi\"", 0, "say \\\"hi\\\""},
    {"C:\\dir", 0, "C:\\\\dir"},
    {"\b\f\n\r\t", 0, "\\b\\f\\n\\r\\t"},
    {"\x01\x1f\x0b", 0, "\\u0001\\u001f\\u000b"},
    {"\x00", 1, "\\u0000"},
    {"/ < > & ' \x7f", 0, "/ < > & ' \x7f"}, /* no escape needed */
    {"\xf0\x9f\x98\x80 Zo\xc3\xab", 0, "\xf0\x9f\x98\x80 Zo\xc3\xab"},
};

static void escape_table_gives_minimal_escapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
        const escape_case *c = &escape_cases[i];
        size_t len = c->len != 0 ? c->len : strlen(c->in);
        size_t want = strlen(c->out);
        char out[OUT_CAP];
        size_t n = 0;
        assert_int_equal(json_string_escape(c->in, len, out, sizeof(out), &n), JSON_STRING_OK);
        assert_int_equal(n, want);
        assert_memory_equal(out, c->out, want);
        /* exact fit, then one byte short */
        assert_int_equal(json_string_escape(c->in, len, out, want, &n), JSON_STRING_OK);
        if (want > 0) {
            assert_int_equal(json_string_escape(c->in, len, out, want - 1, &n),
                             JSON_STRING_ERR_NO_ROOM);
            assert_int_equal(n, 0);
        }
    }
}

static void escape_works_in_place_from_the_buffer_end(void **state)
{
    (void)state;
    const char *text = "a\"b\\c\n\x01 end";
    const char *want = "a\\\"b\\\\c\\n\\u0001 end";
    size_t len = strlen(text);
    char buf[32];
    size_t n = 0;
    /* exactly the room the escaped text needs, text at the end */
    size_t cap = strlen(want);
    memcpy(buf + cap - len, text, len);
    assert_int_equal(json_string_escape(buf + cap - len, len, buf, cap, &n), JSON_STRING_OK);
    assert_int_equal(n, cap);
    assert_memory_equal(buf, want, n);
    /* one byte less: NO_ROOM, never a wrong result */
    cap--;
    memcpy(buf + cap - len, text, len);
    assert_int_equal(json_string_escape(buf + cap - len, len, buf, cap, &n),
                     JSON_STRING_ERR_NO_ROOM);
}

/* ---- round trips ------------------------------------------------------------------- */

static void round_trip(const char *text, size_t len, unsigned flags)
{
    char escaped[OUT_CAP * 6];
    char back[OUT_CAP * 6];
    size_t n = 0;
    size_t m = 0;
    unsigned long replaced = 0;
    assert_int_equal(json_string_escape(text, len, escaped, sizeof(escaped), &n), JSON_STRING_OK);
    assert_int_equal(json_string_decode(escaped, n, flags, back, sizeof(back), &m, &replaced),
                     JSON_STRING_OK);
    assert_int_equal(m, len);
    assert_memory_equal(back, text, len);
    assert_int_equal(replaced, 0);
}

static void decode_of_escape_gives_back_the_text(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        "plain",
        "\"quoted\"",
        "back\\slash",
        "line\nbreak\r\n",
        "\ttab",
        "\x01\x02\x1e\x1f",
        "Zo\xc3\xab M\xc3\xbcller",
        "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d",
        "=+-@ formula",
        "a,b;c",
        "\\u0041 is not an escape here",
        "/\\/\\",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        round_trip(texts[i], strlen(texts[i]), 0);
}

static void every_ascii_byte_but_nul_round_trips(void **state)
{
    (void)state;
    char text[127];
    for (int i = 0; i < 127; i++)
        text[i] = (char)(i + 1);
    round_trip(text, sizeof(text), 0);
}

static void status_words_exist(void **state)
{
    (void)state;
    assert_string_equal(json_string_strerror(JSON_STRING_OK), "ok");
    assert_non_null(strstr(json_string_strerror(JSON_STRING_ERR_ESCAPE), "escape"));
    assert_non_null(strstr(json_string_strerror(JSON_STRING_ERR_NO_ROOM), "fit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_table_gives_expected_text_and_counts),
        cmocka_unit_test(decode_fits_exactly_and_fails_one_byte_short),
        cmocka_unit_test(malformed_escapes_are_errors),
        cmocka_unit_test(high_surrogate_then_truncated_escape_is_an_error),
        cmocka_unit_test(escape_table_gives_minimal_escapes),
        cmocka_unit_test(escape_works_in_place_from_the_buffer_end),
        cmocka_unit_test(decode_of_escape_gives_back_the_text),
        cmocka_unit_test(every_ascii_byte_but_nul_round_trips),
        cmocka_unit_test(status_words_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
