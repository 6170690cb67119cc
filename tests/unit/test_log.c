/*
 * test_log.c - unit tests of the API-key scrub of log lines (issue 12).
 *
 * log_scrub is tested directly on buffers of exact sizes followed by guard
 * bytes (ASan sees any write past the buffer, the guard any write into it):
 * keys of 1 and 2 bytes (whose "***" is longer than the key), keys made of
 * or holding '*', keys at both ends, next to themselves, longer than the
 * line, and lines cut by the buffer, which must never end in the start of
 * the key. The end-to-end tests run log_error with stderr redirected to a
 * temporary file and read the line back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define GUARD 8

/* Scrubs line in a buffer of cap bytes; checks the result, the cut flag and
 * that nothing past the buffer was touched. */
static void scrub_of(const char *line, size_t cap, const char *secret, const char *expected,
                     int expect_cut)
{
    char *buf = malloc(cap + GUARD);
    assert_non_null(buf);
    memset(buf, '#', cap + GUARD);
    memcpy(buf, line, strlen(line) + 1);
    assert_int_equal(log_scrub(buf, cap, secret), expect_cut);
    assert_true(memchr(buf, '\0', cap) != NULL);
    assert_string_equal(buf, expected);
    for (size_t i = cap; i < cap + GUARD; i++)
        assert_int_equal(buf[i], '#');
    free(buf);
}

/* Runs log_error("%s", message) with the secret set; out gets what it wrote. */
static void logged(const char *secret, const char *message, char *out, size_t cap)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
    log_ctx log;
    log_init(&log, LOG_NORMAL, 0);
    log_set_secret(&log, secret);
    log_error(&log, "%s", message);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* n copies of text, NUL-terminated, in a fresh heap buffer. */
static char *repeat(const char *text, size_t n)
{
    size_t len = strlen(text);
    char *s = malloc(len * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, text, len);
    s[len * n] = '\0';
    return s;
}

static void line_without_the_secret_is_unchanged(void **state)
{
    (void)state;
    scrub_of("GET /o/apps/mine failed", 64, "0123456789abcdef", "GET /o/apps/mine failed", 0);
    scrub_of("no secret set", 64, NULL, "no secret set", 0);
    scrub_of("empty secret", 64, "", "empty secret", 0);
    scrub_of("", 1, "k", "", 1); /* a full buffer counts as cut */
}

static void secret_at_start_middle_and_end_becomes_stars(void **state)
{
    (void)state;
    scrub_of("0123456789abcdef", 64, "0123456789abcdef", "***", 0);
    scrub_of("0123456789abcdef: refused", 64, "0123456789abcdef", "***: refused", 0);
    scrub_of("GET /o?api_key=0123456789abcdef&app_id=1 failed", 64, "0123456789abcdef",
             "GET /o?api_key=***&app_id=1 failed", 0);
    scrub_of("the key is 0123456789abcdef", 64, "0123456789abcdef", "the key is ***", 0);
}

static void one_byte_secret_grows_the_line_within_the_buffer(void **state)
{
    (void)state;
    scrub_of("banana", 64, "a", "b***n***n***", 0);
    scrub_of("xaxax", 10, "a", "x***x***x", 0); /* exactly fills the buffer */
    scrub_of("xaxaxa", 10, "a", "x***x***x", 1);
    scrub_of("aaaa", 8, "a", "******", 1); /* a whole "***" or none */
}

static void two_byte_secret_grows_the_line_within_the_buffer(void **state)
{
    (void)state;
    scrub_of("xabyab", 64, "ab", "x***y***", 0);
    scrub_of("abababab", 9, "ab", "******", 1);
    /* Cut before a lone 'a': the start of the secret is not left at the end. */
    scrub_of("abac", 5, "ab", "***", 1);
}

static void secret_of_stars_is_replaced_once(void **state)
{
    (void)state;
    scrub_of("a*b", 64, "*", "a***b", 0);
    scrub_of("**", 64, "*", "******", 0);
    scrub_of("****", 64, "**", "******", 0);
    scrub_of("*****", 64, "**", "*******", 0);
    scrub_of("x***y***", 64, "***", "x***y***", 0);
    scrub_of("****", 64, "***", "****", 0);
}

static void secret_holding_stars_is_replaced_once(void **state)
{
    (void)state;
    scrub_of("a*a*", 64, "a*", "******", 0);
    scrub_of("*aa", 64, "*a", "***a", 0);
    scrub_of("k=ab*cd;", 64, "ab*cd", "k=***;", 0);
    scrub_of("ab*ab*cd", 64, "ab*cd", "ab****", 0);
}

static void secret_next_to_itself_is_replaced_each_time(void **state)
{
    (void)state;
    scrub_of("KEYKEY", 64, "KEY", "******", 0);
    scrub_of("[KEYKEYKEY]", 64, "KEY", "[*********]", 0);
    scrub_of("KK", 64, "K", "******", 0);
    /* Occurrences do not overlap: left to right. */
    scrub_of("aaa", 64, "aa", "***a", 0);
    scrub_of("abababa", 64, "aba", "***b***", 0);
}

static void line_made_of_secrets_is_cut_at_the_buffer_end(void **state)
{
    (void)state;
    char buf[LOG_LINE_MAX];
    char *keys = repeat("a", LOG_LINE_MAX - 1);
    char *stars = repeat("***", (LOG_LINE_MAX - 1) / 3);
    scrub_of(keys, LOG_LINE_MAX, "a", stars, 1);
    free(keys);
    keys = repeat("ab", (LOG_LINE_MAX - 1) / 2);
    scrub_of(keys, LOG_LINE_MAX, "ab", stars, 1);
    free(keys);
    keys = repeat("abc", (LOG_LINE_MAX - 1) / 3);
    scrub_of(keys, LOG_LINE_MAX, "abc", stars, 1);
    free(keys);
    free(stars);
    /* 60 hits of a 16-byte key shrink the line. */
    keys = repeat("0123456789abcdef", 60);
    stars = repeat("***", 60);
    memcpy(buf, keys, strlen(keys) + 1);
    assert_int_equal(log_scrub(buf, sizeof buf, "0123456789abcdef"), 0);
    assert_string_equal(buf, stars);
    free(keys);
    free(stars);
}

static void secret_cut_by_the_line_limit_leaves_no_start_of_it(void **state)
{
    (void)state;
    /* The line fills its 12-byte buffer: the text was cut inside the key. */
    scrub_of("hello KEYPR", 12, "KEYPREFIX", "hello ", 1);
    scrub_of("hello KEYPREFIX", 16, "KEYPREFIX", "hello ***", 1);
    scrub_of("KEYKEYK", 8, "KEYK", "***EY", 1);
    scrub_of("x KKKK", 7, "KKKKK", "x ", 1);
    /* Once a start of the key is dropped, what is left may end in another. */
    scrub_of("x0123456789ab0123456789", 24, "0123456789abcdef", "x", 1);
    /* A "***" that does not fit is left out whole. */
    scrub_of("hello k", 8, "k", "hello ", 1);
}

static void secret_longer_than_the_line(void **state)
{
    (void)state;
    scrub_of("0123", 64, "0123456789abcdef", "0123", 0); /* complete: not the key */
    scrub_of("0123", 5, "0123456789abcdef", "", 1);      /* cut: maybe the key */
    scrub_of("x", 2, "0123456789abcdef", "x", 1);
}

static void log_error_scrubs_a_one_byte_secret(void **state)
{
    (void)state;
    char out[2 * LOG_LINE_MAX];
    char *ks = repeat("k", 2 * LOG_LINE_MAX);
    logged("k", "api_key=k failed", out, sizeof out);
    assert_string_equal(out, "countly-sync: error: api_***ey=*** failed\n");
    logged("k", ks, out, sizeof out);
    assert_true(strlen(out) <= LOG_LINE_MAX);
    assert_null(strchr(out, 'k'));
    assert_int_equal(strncmp(out, "countly-sync: error: ***", 24), 0);
    assert_string_equal(out + strlen(out) - 5, "*...\n");
    free(ks);
}

static void log_error_scrubs_a_secret_of_stars(void **state)
{
    (void)state;
    char out[2 * LOG_LINE_MAX];
    logged("*", "a*b", out, sizeof out);
    assert_string_equal(out, "countly-sync: error: a***b\n");
    logged("**", "[****]", out, sizeof out);
    assert_string_equal(out, "countly-sync: error: [******]\n");
}

static void log_error_hides_a_secret_cut_by_the_line_limit(void **state)
{
    (void)state;
    const char *prefix = "countly-sync: error: ";
    const char *key = "SECRETKEY0123456789";
    size_t pad = LOG_LINE_MAX - strlen(prefix) - 10; /* the cut falls inside the key */
    char message[LOG_LINE_MAX + 32];
    char out[2 * LOG_LINE_MAX];
    char expected[LOG_LINE_MAX + 8];
    memset(message, 'x', pad);
    memcpy(message + pad, key, strlen(key) + 1);
    logged(key, message, out, sizeof out);
    assert_true(strlen(out) <= LOG_LINE_MAX);
    (void)snprintf(expected, sizeof expected, "%s%.*s...\n", prefix, (int)pad, message);
    assert_string_equal(out, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_without_the_secret_is_unchanged),
        cmocka_unit_test(secret_at_start_middle_and_end_becomes_stars),
        cmocka_unit_test(one_byte_secret_grows_the_line_within_the_buffer),
        cmocka_unit_test(two_byte_secret_grows_the_line_within_the_buffer),
        cmocka_unit_test(secret_of_stars_is_replaced_once),
        cmocka_unit_test(secret_holding_stars_is_replaced_once),
        cmocka_unit_test(secret_next_to_itself_is_replaced_each_time),
        cmocka_unit_test(line_made_of_secrets_is_cut_at_the_buffer_end),
        cmocka_unit_test(secret_cut_by_the_line_limit_leaves_no_start_of_it),
        cmocka_unit_test(secret_longer_than_the_line),
        cmocka_unit_test(log_error_scrubs_a_one_byte_secret),
        cmocka_unit_test(log_error_scrubs_a_secret_of_stars),
        cmocka_unit_test(log_error_hides_a_secret_cut_by_the_line_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
