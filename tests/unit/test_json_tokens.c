/*
 * test_json_tokens.c - the token helpers shared by config, state and agent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json_tokens.h"

static jsmntok_t tok[64];
static int count;

static const char *parse(const char *json)
{
    jsmn_parser p;
    jsmn_init(&p);
    count = jsmn_parse(&p, json, strlen(json), tok, 64);
    assert_true(count > 0);
    return json;
}

static void find_takes_top_level_keys_last_one_wins(void **state)
{
    (void)state;
    const char *j = parse("{\"a\":1,\"b\":{\"a\":2,\"c\":3},\"a\":4,\"c\":[\"a\"]}");
    int v = json_token_find(j, tok, count, "a");
    size_t len;
    assert_true(v > 0);
    assert_memory_equal(json_token_text(j, &tok[v], &len), "4", 1);
    assert_int_equal(len, 1);
    assert_int_equal(json_token_find(j, tok, count, "missing"), -1);
    v = json_token_find(j, tok, count, "c");
    assert_int_equal(tok[v].type, JSMN_ARRAY); /* the top-level c, not b.c */
    j = parse("[\"a\",1]");
    assert_int_equal(json_token_find(j, tok, count, "a"), -1);
    /* values stepped over whole: empty ones, and containers holding the key */
    j = parse("{\"x\":{},\"y\":\"\",\"a\":[{\"a\":1}],\"a\":{\"k\":{\"a\":0}},\"z\":5}");
    v = json_token_find(j, tok, count, "a");
    assert_int_equal(tok[v].type, JSMN_OBJECT);
    assert_int_equal(tok[v].start, (int)(strstr(j, "{\"k\"") - j));
    v = json_token_find(j, tok, count, "z");
    assert_memory_equal(json_token_text(j, &tok[v], &len), "5", 1);
    v = json_token_find(j, tok, count, "y");
    assert_int_equal(tok[v].type, JSMN_STRING);
    assert_int_equal(json_token_find(j, tok, count, "k"), -1);
}

static void literals_and_integers(void **state)
{
    (void)state;
    const char *j = parse("[true,null,\"null\",18446744073709551615,-9223372036854775808,1.5,1e3]");
    uint64_t u = 0;
    int64_t i = 0;
    assert_true(json_token_is(j, &tok[1], "true"));
    assert_false(json_token_is(j, &tok[1], "tru"));
    assert_true(json_token_is(j, &tok[2], "null"));
    assert_false(json_token_is(j, &tok[3], "null")); /* a string */
    assert_true(json_token_u64(j, &tok[4], &u) && u == UINT64_MAX);
    assert_false(json_token_i64(j, &tok[4], &i));
    assert_true(json_token_i64(j, &tok[5], &i) && i == INT64_MIN);
    assert_false(json_token_u64(j, &tok[6], &u));
    assert_false(json_token_u64(j, &tok[7], &u));
    assert_false(json_token_u64(j, &tok[3], &u));
}

static void strings_decode_into_bounded_buffers(void **state)
{
    (void)state;
    const char *j = parse("[\"caf\\u00e9\",\"\\ud800x\",\"abcd\",5]");
    char out[8];
    unsigned long replaced = 9;
    assert_int_equal(json_token_string(j, &tok[1], out, 5, &replaced), JSON_STRING_ERR_NO_ROOM);
    assert_int_equal(json_token_string(j, &tok[1], out, 6, &replaced), JSON_STRING_OK);
    assert_string_equal(out, "caf\xc3\xa9");
    assert_int_equal(replaced, 0);
    assert_int_equal(json_token_string(j, &tok[2], out, sizeof out, &replaced), JSON_STRING_OK);
    assert_int_equal(replaced, 1); /* a lone surrogate */
    assert_int_equal(json_token_string(j, &tok[3], out, 4, &replaced), JSON_STRING_ERR_NO_ROOM);
    assert_string_equal(out, "");
    assert_int_equal(json_token_string(j, &tok[3], out, 5, &replaced), JSON_STRING_OK);
    assert_int_equal(json_token_string(j, &tok[4], out, 5, &replaced), JSON_STRING_ERR_ESCAPE);
}

static void show_quotes_strings_and_cuts_at_a_character(void **state)
{
    (void)state;
    const char *j = parse("[\"ab\xc3\xa9\xc3\xa9\",12345678]");
    char out[32];
    json_token_show(j, &tok[1], 3, out, sizeof out);
    assert_string_equal(out, "\"ab...\""); /* not half of the é */
    json_token_show(j, &tok[1], 40, out, sizeof out);
    assert_string_equal(out, "\"ab\xc3\xa9\xc3\xa9\"");
    json_token_show(j, &tok[2], 4, out, sizeof out);
    assert_string_equal(out, "1234...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find_takes_top_level_keys_last_one_wins),
        cmocka_unit_test(literals_and_integers),
        cmocka_unit_test(strings_decode_into_bounded_buffers),
        cmocka_unit_test(show_quotes_strings_and_cuts_at_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
