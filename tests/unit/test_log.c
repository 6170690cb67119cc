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
 *
 * Issue 14 (operations): the styles of a line - an RFC 3339 timestamp off
 * a terminal, the sd-daemon "<N>" priority for the journal, none on a
 * terminal, JSON lines parsed back with jsmn and decoded (quotes,
 * backslashes, control characters, UTF-8 valid and not, the key scrubbed,
 * the context) - and the progress line fitted to a terminal width.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civil_time.h"
#include "json_tokens.h"
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
    static log_ctx log;
    log_init(&log, LOG_NORMAL, LOG_STYLE_TERMINAL, 80);
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

/* ---- styles (issue 14) ------------------------------------------------------------ */

static FILE *capture_file;
static int capture_saved = -1;

/* Sends stderr to a temporary file until capture_end. */
static void capture_begin(void)
{
    capture_file = tmpfile();
    assert_non_null(capture_file);
    capture_saved = dup(STDERR_FILENO);
    assert_true(capture_saved >= 0);
    assert_int_equal(dup2(fileno(capture_file), STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr; out gets what was written (cap bytes, NUL-terminated). */
static size_t capture_end(char *out, size_t cap)
{
    assert_int_equal(dup2(capture_saved, STDERR_FILENO), STDERR_FILENO);
    close(capture_saved);
    rewind(capture_file);
    size_t n = fread(out, 1, cap - 1, capture_file);
    out[n] = '\0';
    fclose(capture_file);
    return n;
}

static log_ctx ctx; /* large: not on the stack */

/* 1 when text starts with an RFC 3339 UTC time within 5 s of now. */
static int starts_with_now(const char *text)
{
    civil_time t;
    char want[CIVIL_TIME_ISO8601_LEN + 1];
    int64_t now = (int64_t)time(NULL);
    for (int64_t d = -5; d <= 5; d++) {
        (void)civil_time_format_iso8601(now + d, want);
        if (strncmp(text, want, CIVIL_TIME_ISO8601_LEN) == 0)
            return civil_time_from_unix(now + d, &t) == 0;
    }
    return 0;
}

static void style_follows_json_then_journal_then_terminal(void **state)
{
    (void)state;
    assert_int_equal(log_style_for(1, 1, 1), LOG_STYLE_JSON);
    assert_int_equal(log_style_for(0, 1, 1), LOG_STYLE_JOURNAL);
    assert_int_equal(log_style_for(0, 1, 0), LOG_STYLE_TERMINAL);
    assert_int_equal(log_style_for(0, 0, 0), LOG_STYLE_TEXT);
}

static void text_lines_start_with_an_rfc3339_utc_timestamp(void **state)
{
    (void)state;
    char out[1024];
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_TEXT, 80);
    capture_begin();
    log_error(&ctx, "disk %s", "full");
    log_info(&ctx, "users: 3 rows");
    capture_end(out, sizeof out);
    assert_true(starts_with_now(out));
    /* "2026-12-06T16:20:37Z": digits, dashes, T, colons, Z */
    const char *shape = "dddd-dd-ddTdd:dd:ddZ ";
    for (size_t i = 0; shape[i] != '\0'; i++)
        if (shape[i] == 'd')
            assert_true(out[i] >= '0' && out[i] <= '9');
        else
            assert_int_equal(out[i], shape[i]);
    assert_int_equal(strncmp(out + 21, "countly-sync: error: disk full\n", 31), 0);
    assert_true(starts_with_now(out + 52));
    assert_string_equal(out + 52 + 21, "countly-sync: users: 3 rows\n");
}

static void terminal_lines_carry_no_timestamp(void **state)
{
    (void)state;
    char out[256];
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_TERMINAL, 80);
    capture_begin();
    log_warn(&ctx, "careful");
    capture_end(out, sizeof out);
    assert_string_equal(out, "countly-sync: warning: careful\n");
}

static void journal_lines_start_with_their_sd_daemon_priority(void **state)
{
    (void)state;
    char out[1024];
    log_progress_info p = {"users", "0123456789abcdef01234567", 1, 2, 5, 7, 3.0, -1};
    log_init(&ctx, LOG_VERBOSE, LOG_STYLE_JOURNAL, 80);
    capture_begin();
    log_error(&ctx, "e");
    log_warn(&ctx, "w");
    log_notice(&ctx, "n");
    log_info(&ctx, "i");
    log_debug(&ctx, "d");
    log_progress(&ctx, 1, &p);
    capture_end(out, sizeof out);
    assert_string_equal(out, "<3>countly-sync: error: e\n"
                             "<4>countly-sync: warning: w\n"
                             "<5>countly-sync: n\n"
                             "<6>countly-sync: i\n"
                             "<7>countly-sync: debug: d\n"
                             "<6>countly-sync: users: app 1 of 2 (0123456789abcdef01234567): 5 "
                             "rows of its window, 7 in all, 3 rows/s\n");
}

static void each_level_lets_through_its_lines_and_those_above(void **state)
{
    (void)state;
    static const char *const expected[] = {
        /* LOG_QUIET */ "<3>countly-sync: error: e\n",
        /* LOG_NORMAL */
        "<3>countly-sync: error: e\n<4>countly-sync: warning: w\n"
        "<6>countly-sync: i\n",
        /* LOG_VERBOSE */
        "<3>countly-sync: error: e\n<4>countly-sync: warning: w\n"
        "<6>countly-sync: i\n<7>countly-sync: debug: d\n",
        /* LOG_TRACE */
        "<3>countly-sync: error: e\n<4>countly-sync: warning: w\n"
        "<6>countly-sync: i\n<7>countly-sync: debug: d\n"
        "<7>countly-sync: debug: t\n",
    };
    const log_level levels[] = {LOG_QUIET, LOG_NORMAL, LOG_VERBOSE, LOG_TRACE};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        char out[1024];
        log_init(&ctx, levels[i], LOG_STYLE_JOURNAL, 80);
        capture_begin();
        log_error(&ctx, "e");
        log_warn(&ctx, "w");
        log_info(&ctx, "i");
        log_debug(&ctx, "d");
        log_trace(&ctx, "t");
        capture_end(out, sizeof out);
        assert_string_equal(out, expected[i]);
    }
}

/* Parses one JSON line: an object whose keys are known; the string value
 * of key into out ("" when absent); returns the number of keys. */
static int json_value(const char *line, const char *key, char *out, size_t cap)
{
    jsmn_parser parser;
    jsmntok_t tokens[32];
    unsigned long replaced = 0;
    size_t len = strcspn(line, "\n");
    jsmn_init(&parser);
    int n = jsmn_parse(&parser, line, len, tokens, 32);
    assert_true(n > 0);
    assert_int_equal(tokens[0].type, JSMN_OBJECT);
    assert_int_equal(tokens[0].end, (int)len); /* the whole line is the object */
    out[0] = '\0';
    int at = json_token_find(line, tokens, n, key);
    if (at >= 0 && tokens[at].type == JSMN_STRING)
        assert_int_equal(json_token_string(line, &tokens[at], out, cap, &replaced), JSON_STRING_OK);
    else if (at >= 0)
        (void)snprintf(out, cap, "%.*s", tokens[at].end - tokens[at].start,
                       line + tokens[at].start);
    return tokens[0].size;
}

static void json_lines_escape_quotes_backslashes_controls_and_keep_utf8(void **state)
{
    (void)state;
    char out[4096];
    char v[1024];
    const char *msg = "say \"hi\" C:\\dir\ttab\nnew\x01 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_JSON, 80);
    capture_begin();
    log_warn(&ctx, "%s", msg);
    capture_end(out, sizeof out);
    assert_non_null(strstr(out, "say \\\"hi\\\" C:\\\\dir\\ttab\\nnew\\u0001 caf\xc3\xa9"));
    assert_int_equal(out[strlen(out) - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    assert_int_equal(json_value(out, "msg", v, sizeof v), 3);   /* ts, level, msg: no context */
    assert_string_equal(v, msg);
    json_value(out, "level", v, sizeof v);
    assert_string_equal(v, "warning");
    json_value(out, "ts", v, sizeof v);
    assert_true(starts_with_now(v));
    assert_int_equal(strlen(v), CIVIL_TIME_ISO8601_LEN);
}

static void json_lines_replace_invalid_utf8_and_scrub_the_key(void **state)
{
    (void)state;
    char out[4096];
    char v[1024];
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_JSON, 80);
    log_set_secret(&ctx, "SECRET42");
    capture_begin();
    /* overlong, surrogate, above U+10FFFF, stray continuation, cut short */
    log_error(&ctx,
              "a\xc0\x80 b\xed\xa0\x80 c\xf5\x80\x80\x80 d\x80 e\xe2\x82 GET /?api_key=SECRET42");
    capture_end(out, sizeof out);
    assert_null(strstr(out, "SECRET42"));
    json_value(out, "msg", v, sizeof v);
    assert_string_equal(v, "a\xef\xbf\xbd\xef\xbf\xbd b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                           "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd d\xef\xbf\xbd "
                           "e\xef\xbf\xbd\xef\xbf\xbd GET /?api_key=***");
    json_value(out, "level", v, sizeof v);
    assert_string_equal(v, "error");
}

static void json_lines_carry_the_context_where_known(void **state)
{
    (void)state;
    char out[4096];
    char v[256];
    log_init(&ctx, LOG_VERBOSE, LOG_STYLE_JSON, 80);
    capture_begin();
    log_set_context(&ctx, "users", "0123456789abcdef01234567", 3);
    log_debug(&ctx, "GET /o/db");
    log_set_context(&ctx, "apps", NULL, 0);
    log_info(&ctx, "apps: 2 rows");
    capture_end(out, sizeof out);
    char *second = strchr(out, '\n') + 1;
    assert_int_equal(json_value(out, "stream", v, sizeof v), 6);
    assert_string_equal(v, "users");
    json_value(out, "app_id", v, sizeof v);
    assert_string_equal(v, "0123456789abcdef01234567");
    json_value(out, "page", v, sizeof v);
    assert_string_equal(v, "3");
    json_value(out, "level", v, sizeof v);
    assert_string_equal(v, "debug");
    assert_int_equal(json_value(second, "stream", v, sizeof v), 4);
    assert_string_equal(v, "apps");
    json_value(second, "level", v, sizeof v);
    assert_string_equal(v, "info");
}

static void json_line_of_a_long_message_is_cut_and_stays_valid(void **state)
{
    (void)state;
    static char out[3 * LOG_JSON_LINE_MAX];
    static char v[LOG_JSON_LINE_MAX];
    char *controls = repeat("\x01", LOG_LINE_MAX); /* each escaped to 6 bytes */
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_JSON, 80);
    log_set_context(&ctx, "users", "0123456789abcdef01234567", 9);
    capture_begin();
    log_error(&ctx, "%s", controls);
    capture_end(out, sizeof out);
    free(controls);
    assert_true(strlen(out) <= LOG_JSON_LINE_MAX);
    assert_int_equal(json_value(out, "msg", v, sizeof v), 6);
    assert_string_equal(v + strlen(v) - 3, "...");
    json_value(out, "page", v, sizeof v);
    assert_string_equal(v, "9");
}

static void json_escape_stops_before_a_character_that_does_not_fit(void **state)
{
    (void)state;
    char out[8];
    int cut = 0;
    assert_int_equal(log_json_escape("ab\"c", 4, out, sizeof out, &cut), 5);
    assert_string_equal(out, "ab\\\"c");
    assert_int_equal(cut, 0);
    assert_int_equal(log_json_escape("abc\xe2\x82\xac", 6, out, 6, &cut), 3);
    assert_string_equal(out, "abc"); /* the euro sign does not fit whole */
    assert_int_equal(cut, 1);
    assert_int_equal(log_json_escape("\x7f\x1f", 2, out, sizeof out, &cut), 7);
    assert_string_equal(out, "\x7f\\u001f");
}

/* ---- progress --------------------------------------------------------------------- */

static const log_progress_info PROGRESS = {
    "users", "0123456789abcdef01234567", 2, 5, 1234, 98765, 4321.4, 65};

static void progress_fits_every_width_and_drops_fields_from_the_end(void **state)
{
    (void)state;
    char out[512];
    const char *full = "countly-sync: users: app 2 of 5 (0123456789abcdef01234567): 1234 rows of "
                       "its window, 98765 in all, 4321 rows/s, ETA 1m05s";
    assert_int_equal(log_progress_format(&PROGRESS, 0, out, sizeof out), strlen(full));
    assert_string_equal(out, full);
    log_progress_format(&PROGRESS, 200, out, sizeof out);
    assert_string_equal(out, full);
    log_progress_format(&PROGRESS, 80, out, sizeof out);
    assert_string_equal(out, "countly-sync: users: app 2 of 5: 98765 rows, 4321 rows/s, ETA 1m05s");
    log_progress_format(&PROGRESS, 60, out, sizeof out);
    assert_string_equal(out, "users: app 2 of 5: 98765 rows, 4321 rows/s, ETA 1m05s");
    log_progress_format(&PROGRESS, 40, out, sizeof out);
    assert_string_equal(out, "app 2/5: 98765 rows, 4321/s, ETA 1m05s");
    log_progress_format(&PROGRESS, 31, out, sizeof out);
    assert_string_equal(out, "app 2/5: 98765 rows, ETA 1m05s");
    log_progress_format(&PROGRESS, 20, out, sizeof out);
    assert_string_equal(out, "2/5 98765 rows");
    log_progress_format(&PROGRESS, 12, out, sizeof out);
    assert_string_equal(out, "98765 rows");
    log_progress_format(&PROGRESS, 6, out, sizeof out);
    assert_string_equal(out, "98765");
    assert_int_equal(log_progress_format(&PROGRESS, 1, out, sizeof out), 0);
    for (unsigned w = 1; w < 200; w++)
        assert_true(log_progress_format(&PROGRESS, w, out, sizeof out) + 1 <= w);
}

static void progress_without_eta_or_app_position_leaves_them_out(void **state)
{
    (void)state;
    char out[512];
    log_progress_info p = PROGRESS;
    p.eta_seconds = -1;
    p.app_index = 0;
    log_progress_format(&p, 0, out, sizeof out);
    assert_string_equal(out, "countly-sync: users: app 0123456789abcdef01234567: 1234 rows of its "
                             "window, 98765 in all, 4321 rows/s");
    p.eta_seconds = 7322;
    log_progress_format(&p, 40, out, sizeof out);
    assert_string_equal(out, "98765 rows, 4321/s, ETA 2h02m");
}

static void terminal_progress_is_redrawn_in_place_within_the_width(void **state)
{
    (void)state;
    char out[1024];
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_TERMINAL, 42);
    capture_begin();
    log_progress(&ctx, 0, &PROGRESS);
    log_progress(&ctx, 0, &PROGRESS);
    log_notice(&ctx, "done");
    capture_end(out, sizeof out);
    assert_string_equal(out, "\r\033[Kapp 2/5: 98765 rows, 4321/s, ETA 1m05s"
                             "\r\033[Kapp 2/5: 98765 rows, 4321/s, ETA 1m05s"
                             "\ncountly-sync: done\n");
}

static void progress_off_a_terminal_is_never_redrawn(void **state)
{
    (void)state;
    char out[2048];
    char v[512];
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_JSON, 42);
    capture_begin();
    log_progress(&ctx, 1, &PROGRESS);
    log_progress(&ctx, 0, &PROGRESS); /* within the interval: nothing */
    capture_end(out, sizeof out);
    assert_null(strchr(out, '\r'));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
    json_value(out, "msg", v, sizeof v);
    assert_string_equal(v, "users: app 2 of 5 (0123456789abcdef01234567): 1234 rows of its "
                           "window, 98765 in all, 4321 rows/s, ETA 1m05s");
    log_init(&ctx, LOG_NORMAL, LOG_STYLE_TEXT, 42);
    capture_begin();
    log_progress(&ctx, 1, &PROGRESS);
    capture_end(out, sizeof out);
    assert_null(strchr(out, '\r'));
    assert_true(starts_with_now(out));
    assert_string_equal(out + 21, "countly-sync: users: app 2 of 5 (0123456789abcdef01234567): "
                                  "1234 rows of its window, 98765 in all, 4321 rows/s, ETA "
                                  "1m05s\n");
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
        cmocka_unit_test(style_follows_json_then_journal_then_terminal),
        cmocka_unit_test(text_lines_start_with_an_rfc3339_utc_timestamp),
        cmocka_unit_test(terminal_lines_carry_no_timestamp),
        cmocka_unit_test(journal_lines_start_with_their_sd_daemon_priority),
        cmocka_unit_test(each_level_lets_through_its_lines_and_those_above),
        cmocka_unit_test(json_lines_escape_quotes_backslashes_controls_and_keep_utf8),
        cmocka_unit_test(json_lines_replace_invalid_utf8_and_scrub_the_key),
        cmocka_unit_test(json_lines_carry_the_context_where_known),
        cmocka_unit_test(json_line_of_a_long_message_is_cut_and_stays_valid),
        cmocka_unit_test(json_escape_stops_before_a_character_that_does_not_fit),
        cmocka_unit_test(progress_fits_every_width_and_drops_fields_from_the_end),
        cmocka_unit_test(progress_without_eta_or_app_position_leaves_them_out),
        cmocka_unit_test(terminal_progress_is_redrawn_in_place_within_the_width),
        cmocka_unit_test(progress_off_a_terminal_is_never_redrawn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
