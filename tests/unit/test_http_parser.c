/*
 * test_http_parser.c - unit tests of the sans-I/O HTTP response parser.
 *
 * Every response is fed four ways: whole, one byte at a time, split into
 * two at every possible point, and in random fragments from fixed seeds.
 * All four must give the same status, fields, consumed byte count and body
 * bytes; then the expected values are asserted on top.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http_date.h"
#include "http_parser.h"

#define BODY_CAP     4096
#define RANDOM_SEEDS 16
/* Responses longer than this are split at every STRIDE-th point only. */
#define EVERY_SPLIT_MAX  2048
#define BIG_SPLIT_STRIDE 97

/* ---- harness ---------------------------------------------------------------- */

/* What one run of the parser produced. */
typedef struct {
    http_parser_status status; /* of the last feed, or of finish() after NEED_MORE */
    size_t consumed;           /* bytes consumed over all feed calls */
    http_parser fields;        /* the parser at the end */
    size_t body_len;
    char body[BODY_CAP];
    size_t abort_after; /* the callback aborts once this many bytes arrived; 0: never */
} outcome;

static int collect_body(void *user, const uint8_t *data, size_t len)
{
    outcome *out = user;
    assert_true(len > 0);
    assert_true(out->body_len + len <= BODY_CAP);
    memcpy(out->body + out->body_len, data, len);
    out->body_len += len;
    return out->abort_after != 0 && out->body_len >= out->abort_after;
}

/* How a run cuts the input. */
typedef enum { CUT_WHOLE, CUT_BYTES, CUT_SPLIT, CUT_RANDOM } cut_mode;

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Size of the next fragment at offset pos. */
static size_t next_piece(cut_mode mode, size_t param, uint32_t *rng, size_t pos, size_t left)
{
    size_t n = left;
    if (mode == CUT_BYTES)
        n = 1;
    else if (mode == CUT_SPLIT && pos < param)
        n = param - pos;
    else if (mode == CUT_RANDOM)
        n = 1 + xorshift32(rng) % 23;
    return n < left ? n : left;
}

static void run(const char *text, size_t len, cut_mode mode, size_t param, size_t abort_after,
                outcome *out)
{
    uint32_t rng = (uint32_t)param * 2654435761u + 1u;
    size_t pos = 0;
    memset(out, 0, sizeof(*out));
    out->abort_after = abort_after;
    http_parser_init(&out->fields);
    out->status = HTTP_PARSER_NEED_MORE;
    while (pos < len) {
        size_t n = next_piece(mode, param, &rng, pos, len - pos);
        size_t used = (size_t)-1;
        out->status = http_parser_feed(&out->fields, (const uint8_t *)text + pos, n, &used,
                                       collect_body, out);
        assert_true(used <= n);
        if (out->status == HTTP_PARSER_NEED_MORE)
            assert_int_equal(used, n);
        pos += used;
        if (out->status != HTTP_PARSER_NEED_MORE)
            break;
    }
    out->consumed = pos;
    if (out->status == HTTP_PARSER_NEED_MORE)
        out->status = http_parser_finish(&out->fields);
}

static void assert_same(const outcome *a, const outcome *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->consumed, b->consumed);
    assert_int_equal(a->fields.version_minor, b->fields.version_minor);
    assert_int_equal(a->fields.status_code, b->fields.status_code);
    assert_int_equal(a->fields.framing, b->fields.framing);
    assert_int_equal(a->fields.content_length, b->fields.content_length);
    assert_int_equal(a->fields.keep_alive, b->fields.keep_alive);
    assert_int_equal(a->fields.date, b->fields.date);
    assert_int_equal(a->fields.retry_after, b->fields.retry_after);
    assert_int_equal(a->fields.headers_done, b->fields.headers_done);
    assert_int_equal(a->fields.body_bytes, b->fields.body_bytes);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
}

/* Runs text every way into *whole and checks all runs agree with it. */
static void run_all_ways_n(const char *text, size_t len, outcome *whole)
{
    static outcome other; /* large; keeps the stack small under ASan */
    run(text, len, CUT_WHOLE, 0, 0, whole);
    run(text, len, CUT_BYTES, 0, 0, &other);
    assert_same(whole, &other);
    size_t stride = len > EVERY_SPLIT_MAX ? BIG_SPLIT_STRIDE : 1;
    for (size_t k = 1; k < len; k += stride) {
        run(text, len, CUT_SPLIT, k, 0, &other);
        assert_same(whole, &other);
    }
    for (size_t seed = 1; seed <= RANDOM_SEEDS; seed++) {
        run(text, len, CUT_RANDOM, seed, 0, &other);
        assert_same(whole, &other);
    }
}

static void run_all_ways(const char *text, outcome *whole)
{
    run_all_ways_n(text, strlen(text), whole);
}

/* The response must fail with exactly `expected`, however it is cut. */
static void assert_error_all_ways(const char *text, http_parser_status expected)
{
    static outcome whole;
    run_all_ways(text, &whole);
    assert_int_equal(whole.status, expected);
}

/* ---- well-formed responses -------------------------------------------------- */

#define COUNTLY_HEADERS                                                                            \
    "HTTP/1.1 200 OK\r\n"                                                                          \
    "Content-Type: application/json; charset=utf-8\r\n"                                            \
    "X-Frame-Options: deny\r\n"                                                                    \
    "X-XSS-Protection: 1; mode=block\r\n"                                                          \
    "Strict-Transport-Security: max-age=31536000 ; includeSubDomains\r\n"                          \
    "Access-Control-Allow-Origin: *\r\n"                                                           \
    "Date: Wed, 05 Jun 2024 15:11:40 GMT\r\n"                                                      \
    "Connection: keep-alive\r\n"                                                                   \
    "Keep-Alive: timeout=5\r\n"                                                                    \
    "Transfer-Encoding: chunked\r\n"                                                               \
    "\r\n"

/* Wed, 05 Jun 2024 15:11:40 GMT */
#define COUNTLY_DATE 1717600300

typedef struct {
    const char *name;
    const char *text;
    http_parser_status status; /* after all bytes (and finish() if they were not enough) */
    size_t consumed;           /* 0: the whole text */
    int version_minor;
    int status_code;
    http_framing framing;
    int64_t content_length;
    int keep_alive;
    int64_t date;
    int64_t retry_after;
    const char *body;
} response_case;

static const response_case good_responses[] = {
    {"content_length_body",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 5, 1, -1, -1, "hello"},
    {"content_length_zero_is_done_after_headers", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 0, 1, -1, -1, ""},
    {"content_length_repeated_equal_values",
     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 003\r\n\r\nabc", HTTP_PARSER_DONE, 0,
     1, 200, HTTP_FRAMING_LENGTH, 3, 1, -1, -1, "abc"},
    {"content_length_stops_before_next_response",
     "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbodyHTTP/1.1 200 OK\r\n", HTTP_PARSER_DONE, 42, 1,
     200, HTTP_FRAMING_LENGTH, 4, 1, -1, -1, "body"},
    {"chunked_with_extensions_and_trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5;name=value;q=\"a b\"\r\nhello\r\n6 ; ext\r\n world\r\n0;last\r\n"
     "X-Checksum: abc\r\nX-Other: 1\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_CHUNKED, -1, 1, -1, -1, "hello world"},
    {"chunked_one_byte_chunks",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_CHUNKED, -1, 1, -1, -1, "abc"},
    {"chunked_uppercase_and_lowercase_hex",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
     "A\r\n0123456789\r\n1f\r\nabcdefghijklmnopqrstuvwxyz01234\r\n"
     "0000000000000001\r\n!\r\n000\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_CHUNKED, -1, 1, -1, -1,
     "0123456789abcdefghijklmnopqrstuvwxyz01234!"},
    {"chunked_stops_before_next_response",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1",
     HTTP_PARSER_DONE, 59, 1, 200, HTTP_FRAMING_CHUNKED, -1, 1, -1, -1, "ok"},
    {"close_delimited_body_ends_at_finish",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall until close", HTTP_PARSER_DONE, 0, 1,
     200, HTTP_FRAMING_CLOSE, -1, 0, -1, -1, "all until close"},
    {"no_content_204", "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 204, HTTP_FRAMING_NONE, -1, 1, -1, -1, ""},
    {"not_modified_304_ignores_content_length",
     "HTTP/1.1 304 Not Modified\r\nContent-Length: 123\r\n\r\nHTTP", HTTP_PARSER_DONE, 50, 1, 304,
     HTTP_FRAMING_NONE, 123, 1, -1, -1, ""},
    {"continue_100_then_200",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 2, 1, -1, -1, "ok"},
    {"early_hints_103_headers_not_interpreted",
     "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nContent-Length: 99\r\n"
     "Connection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 2, 1, -1, -1, "ok"},
    {"http10_keep_alive_with_length",
     "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nabc", HTTP_PARSER_DONE,
     0, 0, 200, HTTP_FRAMING_LENGTH, 3, 1, -1, -1, "abc"},
    {"http10_without_keep_alive_closes", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
     HTTP_PARSER_DONE, 0, 0, 200, HTTP_FRAMING_LENGTH, 3, 0, -1, -1, "abc"},
    {"http10_keep_alive_close_delimited_closes",
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil close", HTTP_PARSER_DONE, 0, 0, 200,
     HTTP_FRAMING_CLOSE, -1, 0, -1, -1, "until close"},
    {"http11_connection_close_in_list",
     "HTTP/1.1 200 OK\r\nConnection: Upgrade, , CLOSE\r\nContent-Length: 1\r\n\r\nx",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 1, 0, -1, -1, "x"},
    {"header_names_and_values_in_odd_case",
     "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 2\r\nCONNECTION: KEEP-ALIVE\r\n"
     "dAtE: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nhi",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 2, 1, 784111777, -1, "hi"},
    {"header_values_with_ows_and_empty_value",
     "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Spaces: \t  \t\r\nContent-Length:\t 2 \t\r\n\r\nhi",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 2, 1, -1, -1, "hi"},
    {"bare_lf_line_endings", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\nX-T: 1\n\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_CHUNKED, -1, 1, -1, -1, "abc"},
    {"status_line_empty_reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", HTTP_PARSER_DONE, 0,
     1, 200, HTTP_FRAMING_LENGTH, 0, 1, -1, -1, ""},
    {"status_line_no_space_before_empty_reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 404, HTTP_FRAMING_LENGTH, 0, 1, -1, -1, ""},
    {"date_imf_fixdate",
     "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 0, 1, 784111777, -1, ""},
    {"date_rfc850",
     "HTTP/1.1 200 OK\r\nDate: Sunday, 06-Nov-94 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 0, 1, 784111777, -1, ""},
    {"date_asctime",
     "HTTP/1.1 200 OK\r\nDate: Sun Nov  6 08:49:37 1994\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 0, 1, 784111777, -1, ""},
    {"date_invalid_is_minus_one", "HTTP/1.1 200 OK\r\nDate: yesterday\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_LENGTH, 0, 1, -1, -1, ""},
    {"retry_after_delta_seconds",
     "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 503, HTTP_FRAMING_LENGTH, 0, 1, -1, 120, ""},
    {"retry_after_huge_delta_capped_at_2_pow_31",
     "HTTP/1.1 429 Too Many\r\nRetry-After: 99999999999999999999999\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 429, HTTP_FRAMING_LENGTH, 0, 1, -1, 2147483648LL, ""},
    {"retry_after_imf_date_relative_to_date",
     "HTTP/1.1 503 Busy\r\nRetry-After: Sun, 06 Nov 1994 08:51:07 GMT\r\n"
     "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 503, HTTP_FRAMING_LENGTH, 0, 1, 784111777, 90, ""},
    {"retry_after_rfc850_date_relative_to_date",
     "HTTP/1.1 503 Busy\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "Retry-After: Sunday, 06-Nov-94 09:49:37 GMT\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 503, HTTP_FRAMING_LENGTH, 0, 1, 784111777, 3600, ""},
    {"retry_after_asctime_date_relative_to_date",
     "HTTP/1.1 503 Busy\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "Retry-After: Mon Nov  7 08:49:37 1994\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 503, HTTP_FRAMING_LENGTH, 0, 1, 784111777, 86400, ""},
    {"retry_after_date_in_past_clamps_to_zero",
     "HTTP/1.1 503 Busy\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "Retry-After: Sun, 06 Nov 1994 08:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 503, HTTP_FRAMING_LENGTH, 0, 1, 784111777, 0, ""},
    {"retry_after_date_without_date_header_is_unknown",
     "HTTP/1.1 503 Busy\r\nRetry-After: Sun, 06 Nov 1994 08:51:07 GMT\r\n"
     "Content-Length: 0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 503, HTTP_FRAMING_LENGTH, 0, 1, -1, -1, ""},
    {"retry_after_garbage_is_unknown",
     "HTTP/1.1 503 Busy\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n", HTTP_PARSER_DONE, 0, 1,
     503, HTTP_FRAMING_LENGTH, 0, 1, -1, -1, ""},
    {"countly_node_chunked_json",
     COUNTLY_HEADERS "1f\r\n[{\"_id\":\"a1\",\"lac\":1716000001},\r\n"
                     "1E\r\n{\"_id\":\"b2\",\"lac\":1716000002}]\r\n0\r\n\r\n",
     HTTP_PARSER_DONE, 0, 1, 200, HTTP_FRAMING_CHUNKED, -1, 1, COUNTLY_DATE, -1,
     "[{\"_id\":\"a1\",\"lac\":1716000001},{\"_id\":\"b2\",\"lac\":1716000002}]"},
};

/* One row of good_responses, fed every way; registered under the row's name. */
static void well_formed_response_parses_identically_however_cut(void **state)
{
    const response_case *c = *state;
    static outcome whole;
    size_t len = strlen(c->text);
    run_all_ways(c->text, &whole);
    assert_int_equal(whole.status, c->status);
    assert_int_equal(whole.consumed, c->consumed != 0 ? c->consumed : len);
    assert_int_equal(whole.fields.version_minor, c->version_minor);
    assert_int_equal(whole.fields.status_code, c->status_code);
    assert_int_equal(whole.fields.framing, c->framing);
    assert_int_equal(whole.fields.content_length, c->content_length);
    assert_int_equal(whole.fields.keep_alive, c->keep_alive);
    assert_int_equal(whole.fields.date, c->date);
    assert_int_equal(whole.fields.retry_after, c->retry_after);
    assert_int_equal(whole.fields.headers_done, 1);
    assert_int_equal(whole.fields.body_bytes, strlen(c->body));
    assert_int_equal(whole.body_len, strlen(c->body));
    assert_memory_equal(whole.body, c->body, whole.body_len);
}

static void countly_date_header_is_unix_1717600300(void **state)
{
    (void)state;
    const char *d = "Wed, 05 Jun 2024 15:11:40 GMT";
    assert_int_equal(http_date_parse(d, strlen(d)), 1717600300);
}

static void content_length_done_stops_consuming_at_body_end(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n";
    size_t head = strlen("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    http_parser p;
    size_t used = 0;
    outcome *out = test_malloc(sizeof(*out));
    memset(out, 0, sizeof(*out));
    http_parser_init(&p);
    assert_int_equal(
        http_parser_feed(&p, (const uint8_t *)text, strlen(text), &used, collect_body, out),
        HTTP_PARSER_DONE);
    assert_int_equal(used, head + 3);
    assert_int_equal(out->body_len, 3);
    /* DONE is sticky and consumes nothing more */
    assert_int_equal(
        http_parser_feed(&p, (const uint8_t *)text + used, 5, &used, collect_body, out),
        HTTP_PARSER_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(http_parser_finish(&p), HTTP_PARSER_DONE);
    test_free(out);
}

static void headers_done_only_after_final_response_headers(void **state)
{
    (void)state;
    const char *interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n";
    http_parser p;
    size_t used = 0;
    http_parser_init(&p);
    assert_int_equal(
        http_parser_feed(&p, (const uint8_t *)interim, strlen(interim), &used, NULL, NULL),
        HTTP_PARSER_NEED_MORE);
    assert_int_equal(p.headers_done, 0);
    assert_int_equal(p.status_code, 200);
    assert_int_equal(
        http_parser_feed(&p, (const uint8_t *)"Content-Length: 1\r\n\r\n", 21, &used, NULL, NULL),
        HTTP_PARSER_NEED_MORE);
    assert_int_equal(p.headers_done, 1);
    assert_int_equal(p.body_bytes, 0);
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)"x", 1, &used, NULL, NULL),
                     HTTP_PARSER_DONE);
    assert_int_equal(p.body_bytes, 1);
}

static void chunk_data_passed_from_input_buffer_without_copy(void **state)
{
    (void)state;
    static const char text[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "a\r\n0123456789\r\n0\r\n\r\n";
    const char *data = strstr(text, "0123456789");
    http_parser p;
    size_t used = 0;
    outcome *out = test_malloc(sizeof(*out));
    memset(out, 0, sizeof(*out));
    http_parser_init(&p);
    assert_int_equal(
        http_parser_feed(&p, (const uint8_t *)text, sizeof(text) - 1, &used, collect_body, out),
        HTTP_PARSER_DONE);
    /* one callback for the whole chunk, and it saw the caller's bytes */
    assert_int_equal(out->body_len, 10);
    assert_memory_equal(out->body, data, 10);
    test_free(out);
}

/* ---- status line errors ------------------------------------------------------- */

static void status_line_http2_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/2.0 200 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways("HTTP/1.2 200 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways("HTTP/2 200\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_line_missing_code_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways("HTTP/1.1\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_line_two_digit_code_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 20 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_line_four_digit_code_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 2000 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_code_below_100_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 099 Odd\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_line_garbage_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("<html>hello</html>\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways("http/1.1 200 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways(" HTTP/1.1 200 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways("\r\nHTTP/1.1 200 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
    assert_error_all_ways("HTTP/1.1  200 OK\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_line_control_char_in_reason_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_PARSER_ERR_STATUS_LINE);
}

static void status_line_cr_without_lf_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
                          HTTP_PARSER_ERR_STATUS_LINE);
}

/* ---- header errors ------------------------------------------------------------ */

static void header_folded_line_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\n\r\n",
                          HTTP_PARSER_ERR_HEADER_FOLDED);
    assert_error_all_ways("HTTP/1.1 200 OK\r\n\tX-A: one\r\n\r\n", HTTP_PARSER_ERR_HEADER_FOLDED);
}

static void header_without_colon_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello",
                          HTTP_PARSER_ERR_HEADER);
}

static void header_space_before_colon_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
                          HTTP_PARSER_ERR_HEADER);
}

static void header_empty_name_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\n: 5\r\n\r\n", HTTP_PARSER_ERR_HEADER);
}

static void header_name_with_separator_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nX(A): 5\r\n\r\n", HTTP_PARSER_ERR_HEADER);
}

static void header_control_char_in_value_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nX-A: a\x7f"
                          "b\r\n\r\n",
                          HTTP_PARSER_ERR_HEADER);
}

static void header_cr_without_lf_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nX-A: a\rX-B: b\r\n\r\n", HTTP_PARSER_ERR_HEADER);
}

/* "X-Long: aaa..." whose line (CRLF excluded) is exactly line_len bytes. */
static void build_long_header_response(char *buf, size_t cap, size_t line_len)
{
    const char *head = "HTTP/1.1 200 OK\r\n";
    const char *tail = "\r\nContent-Length: 0\r\n\r\n";
    size_t pos = strlen(head);
    assert_true(pos + line_len + strlen(tail) + 1 <= cap);
    memcpy(buf, head, pos);
    memcpy(buf + pos, "X-Long: ", 8);
    memset(buf + pos + 8, 'a', line_len - 8);
    pos += line_len;
    strcpy(buf + pos, tail);
}

static void header_line_exactly_at_limit_accepted(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_LINE_MAX + 128];
    static outcome whole;
    build_long_header_response(text, sizeof(text), HTTP_HEADER_LINE_MAX);
    run_all_ways(text, &whole);
    assert_int_equal(whole.status, HTTP_PARSER_DONE);
}

static void header_line_one_over_limit_rejected(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_LINE_MAX + 128];
    build_long_header_response(text, sizeof(text), HTTP_HEADER_LINE_MAX + 1);
    assert_error_all_ways(text, HTTP_PARSER_ERR_HEADER_LINE_LONG);
}

static void status_line_over_limit_rejected(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_LINE_MAX + 128];
    memcpy(text, "HTTP/1.1 200 ", 13);
    memset(text + 13, 'R', HTTP_HEADER_LINE_MAX - 12);
    strcpy(text + HTTP_HEADER_LINE_MAX + 1, "\r\n\r\n");
    assert_error_all_ways(text, HTTP_PARSER_ERR_HEADER_LINE_LONG);
}

/* A header line of HTTP_HEADER_LINE_MAX bytes with its CRLF. */
#define LONGEST_LINE ((size_t)HTTP_HEADER_LINE_MAX + 2)

/* A response whose status line and headers total exactly `section` bytes. */
static void build_section_response(char *buf, size_t cap, size_t section)
{
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
    size_t pos = strlen(head);
    size_t left = section - pos - 2; /* the final empty line */
    memcpy(buf, head, pos);
    while (left > 0) {
        /* "X: " value CRLF: the longest allowed line, leaving 0 or at least 6 */
        size_t line = left;
        if (left > LONGEST_LINE)
            line = left - LONGEST_LINE >= 6 ? LONGEST_LINE : left - 6;
        assert_true(line >= 6 && pos + line + 3 <= cap);
        memcpy(buf + pos, "X: ", 3);
        memset(buf + pos + 3, 'v', line - 5);
        memcpy(buf + pos + line - 2, "\r\n", 2);
        pos += line;
        left -= line;
    }
    strcpy(buf + pos, "\r\n");
}

static void header_section_exactly_at_limit_accepted(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_SECTION_MAX + 64];
    static outcome whole;
    build_section_response(text, sizeof(text), HTTP_HEADER_SECTION_MAX);
    assert_int_equal(strlen(text), HTTP_HEADER_SECTION_MAX);
    run_all_ways(text, &whole);
    assert_int_equal(whole.status, HTTP_PARSER_DONE);
}

static void header_section_one_over_limit_rejected(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_SECTION_MAX + 64];
    build_section_response(text, sizeof(text), HTTP_HEADER_SECTION_MAX + 1);
    assert_error_all_ways(text, HTTP_PARSER_ERR_HEADER_SECTION_LONG);
}

static void build_many_headers_response(char *buf, size_t cap, unsigned count)
{
    size_t pos = (size_t)snprintf(buf, cap, "HTTP/1.1 200 OK\r\n");
    for (unsigned i = 0; i < count; i++)
        pos += (size_t)snprintf(buf + pos, cap - pos, "X-H%u: %u\r\n", i, i);
    pos += (size_t)snprintf(buf + pos, cap - pos, "\r\n");
    assert_true(pos < cap);
}

static void header_count_exactly_at_limit_accepted(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_COUNT_MAX * 24 + 64];
    static outcome whole;
    build_many_headers_response(text, sizeof(text), HTTP_HEADER_COUNT_MAX);
    run_all_ways(text, &whole);
    assert_int_equal(whole.status, HTTP_PARSER_DONE); /* close-delimited, empty body */
    assert_int_equal(whole.fields.headers_done, 1);
}

static void header_count_one_over_limit_rejected(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_COUNT_MAX * 24 + 64];
    build_many_headers_response(text, sizeof(text), HTTP_HEADER_COUNT_MAX + 1);
    assert_error_all_ways(text, HTTP_PARSER_ERR_HEADER_COUNT);
}

static void trailer_without_colon_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "0\r\nbad trailer\r\n\r\n",
                          HTTP_PARSER_ERR_HEADER);
}

static void trailers_count_toward_header_count(void **state)
{
    (void)state;
    static char text[HTTP_HEADER_COUNT_MAX * 24 + 128];
    size_t pos = (size_t)snprintf(text, sizeof(text),
                                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (unsigned i = 0; i < HTTP_HEADER_COUNT_MAX; i++)
        pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "T%u: x\r\n", i);
    snprintf(text + pos, sizeof(text) - pos, "\r\n");
    assert_error_all_ways(text, HTTP_PARSER_ERR_HEADER_COUNT);
}

/* ---- framing errors ----------------------------------------------------------- */

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

static void chunk_size_non_hex_rejected(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "g\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
    assert_error_all_ways(CHUNKED_HEAD "-1\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
    assert_error_all_ways(CHUNKED_HEAD "0x1\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
    assert_error_all_ways(CHUNKED_HEAD "1 2\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
}

static void chunk_size_empty_rejected(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
    assert_error_all_ways(CHUNKED_HEAD ";ext\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
}

static void chunk_size_17_hex_digits_rejected(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "10000000000000000\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
    assert_error_all_ways(CHUNKED_HEAD "00000000000000001\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
}

static void chunk_size_16_hex_digits_accepted(void **state)
{
    (void)state;
    static outcome whole;
    /* the largest size parses; the stream then ends inside the chunk */
    run_all_ways(CHUNKED_HEAD "FFFFFFFFFFFFFFFF\r\nabc", &whole);
    assert_int_equal(whole.status, HTTP_PARSER_ERR_TRUNCATED);
    assert_int_equal(whole.body_len, 3);
}

static void chunk_size_cr_without_lf_rejected(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "1\rx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
}

static void chunk_extension_control_char_rejected(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "1;a\x01\r\nx\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_SIZE);
}

static void chunk_data_without_crlf_rejected(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "5\r\nhelloX\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_DATA);
    assert_error_all_ways(CHUNKED_HEAD "5\r\nhello\rX0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_DATA);
    assert_error_all_ways(CHUNKED_HEAD "5\r\nhello\r\r\n0\r\n\r\n", HTTP_PARSER_ERR_CHUNK_DATA);
}

/* Chunk "1" with extensions making its line exactly line_len bytes. */
static void build_long_chunk_line(char *buf, size_t cap, size_t line_len)
{
    size_t pos = (size_t)snprintf(buf, cap, "%s1;", CHUNKED_HEAD);
    assert_true(pos + line_len + 16 <= cap);
    memset(buf + pos, 'e', line_len - 2);
    pos += line_len - 2;
    strcpy(buf + pos, "\r\nx\r\n0\r\n\r\n");
}

static void chunk_line_exactly_at_limit_accepted(void **state)
{
    (void)state;
    static char text[HTTP_CHUNK_LINE_MAX + 128];
    static outcome whole;
    build_long_chunk_line(text, sizeof(text), HTTP_CHUNK_LINE_MAX);
    run_all_ways(text, &whole);
    assert_int_equal(whole.status, HTTP_PARSER_DONE);
    assert_int_equal(whole.body_len, 1);
}

static void chunk_line_one_over_limit_rejected(void **state)
{
    (void)state;
    static char text[HTTP_CHUNK_LINE_MAX + 128];
    build_long_chunk_line(text, sizeof(text), HTTP_CHUNK_LINE_MAX + 1);
    assert_error_all_ways(text, HTTP_PARSER_ERR_CHUNK_LINE_LONG);
}

static void content_length_two_different_values_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                          "hello!",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
}

static void content_length_non_digits_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
}

static void content_length_overflow_rejected(void **state)
{
    (void)state;
    static outcome whole;
    /* INT64_MAX itself is a valid length */
    run_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nab", &whole);
    assert_int_equal(whole.status, HTTP_PARSER_ERR_TRUNCATED);
    assert_int_equal(whole.fields.content_length, INT64_MAX);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
}

static void content_length_with_chunked_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
                          "\r\n5\r\nhello\r\n0\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
                          "\r\n5\r\nhello\r\n0\r\n\r\n",
                          HTTP_PARSER_ERR_CONTENT_LENGTH);
}

static void transfer_encoding_gzip_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
}

static void transfer_encoding_chunked_twice_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
}

static void transfer_encoding_empty_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
}

static void transfer_encoding_in_http10_rejected(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                          HTTP_PARSER_ERR_TRANSFER_ENCODING);
}

/* ---- premature end, abort, stickiness ------------------------------------------ */

static void finish_mid_content_length_body_truncated(void **state)
{
    (void)state;
    static outcome whole;
    run_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", &whole);
    assert_int_equal(whole.status, HTTP_PARSER_ERR_TRUNCATED);
    assert_int_equal(whole.fields.body_bytes, 5);
}

static void finish_mid_chunked_body_truncated(void **state)
{
    (void)state;
    assert_error_all_ways(CHUNKED_HEAD "5\r\nhel", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways(CHUNKED_HEAD "5\r\nhello\r\n", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways(CHUNKED_HEAD "5\r\nhello", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways(CHUNKED_HEAD "5", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways(CHUNKED_HEAD "0\r\n", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways(CHUNKED_HEAD "0\r\nX-T: 1\r\n", HTTP_PARSER_ERR_TRUNCATED);
}

static void finish_in_headers_truncated(void **state)
{
    (void)state;
    assert_error_all_ways("HTTP/1.1 200 OK\r\nContent-Le", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways("HTTP/1.1 200 OK\r\n", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways("HTTP/1.1 2", HTTP_PARSER_ERR_TRUNCATED);
    assert_error_all_ways("HTTP/1.1 100 Continue\r\n\r\n", HTTP_PARSER_ERR_TRUNCATED);
}

static void finish_before_any_byte_truncated(void **state)
{
    (void)state;
    http_parser p;
    http_parser_init(&p);
    assert_int_equal(http_parser_finish(&p), HTTP_PARSER_ERR_TRUNCATED);
    assert_int_equal(http_parser_finish(&p), HTTP_PARSER_ERR_TRUNCATED);
}

static void body_callback_abort_reported_as_aborted(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    size_t len = strlen(text);
    outcome *out = test_malloc(sizeof(*out));
    run(text, len, CUT_WHOLE, 0, 1, out);
    assert_int_equal(out->status, HTTP_PARSER_ERR_ABORTED);
    assert_int_equal(out->fields.body_bytes, 10);
    run(text, len, CUT_BYTES, 0, 1, out);
    assert_int_equal(out->status, HTTP_PARSER_ERR_ABORTED);
    assert_int_equal(out->fields.body_bytes, 1);
    for (size_t seed = 1; seed <= RANDOM_SEEDS; seed++) {
        run(CHUNKED_HEAD "3\r\nabc\r\n0\r\n\r\n", strlen(CHUNKED_HEAD) + 13, CUT_RANDOM, seed, 2,
            out);
        assert_int_equal(out->status, HTTP_PARSER_ERR_ABORTED);
    }
    test_free(out);
}

static void error_is_sticky(void **state)
{
    (void)state;
    const char *bad = "HTTP/1.1 200 OK\r\nBad Header\r\n";
    const char *good = "HTTP/1.1 200 OK\r\n\r\n";
    http_parser p;
    size_t used = 99;
    http_parser_init(&p);
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)bad, strlen(bad), &used, NULL, NULL),
                     HTTP_PARSER_ERR_HEADER);
    assert_int_equal(used, strlen(bad));
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)good, strlen(good), &used, NULL, NULL),
                     HTTP_PARSER_ERR_HEADER);
    assert_int_equal(used, 0);
    assert_int_equal(http_parser_finish(&p), HTTP_PARSER_ERR_HEADER);
    assert_int_equal(http_parser_feed(&p, NULL, 0, &used, NULL, NULL), HTTP_PARSER_ERR_HEADER);
}

static void aborted_is_sticky(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab";
    outcome *out = test_malloc(sizeof(*out));
    size_t used = 0;
    run(text, strlen(text), CUT_WHOLE, 0, 1, out);
    assert_int_equal(out->status, HTTP_PARSER_ERR_ABORTED);
    assert_int_equal(
        http_parser_feed(&out->fields, (const uint8_t *)"cd", 2, &used, collect_body, out),
        HTTP_PARSER_ERR_ABORTED);
    assert_int_equal(used, 0);
    assert_int_equal(http_parser_finish(&out->fields), HTTP_PARSER_ERR_ABORTED);
    test_free(out);
}

static void strerror_names_limits(void **state)
{
    (void)state;
    char expect[128];
    snprintf(expect, sizeof(expect), "HTTP_HEADER_LINE_MAX (%d bytes)", HTTP_HEADER_LINE_MAX);
    assert_non_null(strstr(http_parser_strerror(HTTP_PARSER_ERR_HEADER_LINE_LONG), expect));
    snprintf(expect, sizeof(expect), "HTTP_HEADER_SECTION_MAX (%d bytes)", HTTP_HEADER_SECTION_MAX);
    assert_non_null(strstr(http_parser_strerror(HTTP_PARSER_ERR_HEADER_SECTION_LONG), expect));
    snprintf(expect, sizeof(expect), "HTTP_HEADER_COUNT_MAX (%d)", HTTP_HEADER_COUNT_MAX);
    assert_non_null(strstr(http_parser_strerror(HTTP_PARSER_ERR_HEADER_COUNT), expect));
    snprintf(expect, sizeof(expect), "HTTP_CHUNK_LINE_MAX (%d bytes)", HTTP_CHUNK_LINE_MAX);
    assert_non_null(strstr(http_parser_strerror(HTTP_PARSER_ERR_CHUNK_LINE_LONG), expect));
    assert_non_null(strstr(http_parser_strerror(HTTP_PARSER_ERR_TRUNCATED), "truncated"));
    for (int s = HTTP_PARSER_NEED_MORE; s <= HTTP_PARSER_ERR_ABORTED; s++) {
        const char *text = http_parser_strerror((http_parser_status)s);
        assert_non_null(text);
        assert_string_not_equal(text, "unknown HTTP parser status");
    }
    assert_string_equal(http_parser_strerror((http_parser_status)99), "unknown HTTP parser status");
}

/* ---- dates -------------------------------------------------------------------- */

static int64_t date_of(const char *text)
{
    return http_date_parse(text, strlen(text));
}

static void date_three_formats_agree(void **state)
{
    (void)state;
    assert_int_equal(date_of("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    assert_int_equal(date_of("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    assert_int_equal(date_of("Sun Nov  6 08:49:37 1994"), 784111777);
    assert_int_equal(date_of("Sun Nov 06 08:49:37 1994"), 784111777);
}

static void date_epoch_is_zero(void **state)
{
    (void)state;
    assert_int_equal(date_of("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    assert_int_equal(date_of("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    assert_int_equal(date_of("Thu Jan  1 00:00:00 1970"), 0);
    assert_int_equal(date_of("Wed, 31 Dec 1969 23:59:59 GMT"), -1); /* before the epoch */
}

static void date_after_2038(void **state)
{
    (void)state;
    assert_int_equal(date_of("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648LL);
    assert_int_equal(date_of("Mon, 01 Mar 2100 00:00:00 GMT"), 4107542400LL);
    assert_int_equal(date_of("Friday, 31-Dec-49 23:59:59 GMT"), 2524607999LL);
    assert_int_equal(date_of("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799LL);
}

static void date_leap_years(void **state)
{
    (void)state;
    assert_int_equal(date_of("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
    assert_int_equal(date_of("Thu, 29 Feb 2024 00:00:00 GMT"), 1709164800);
    assert_int_equal(date_of("Thu, 29 Feb 2001 00:00:00 GMT"), -1);
    assert_int_equal(date_of("Mon, 29 Feb 2100 00:00:00 GMT"), -1);
    assert_int_equal(date_of("Sun Feb 29 00:00:00 2023"), -1);
}

static void date_invalid_day_rejected(void **state)
{
    (void)state;
    assert_int_equal(date_of("Sun, 00 Nov 1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun, 32 Jan 1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun, 31 Apr 1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun Nov 31 08:49:37 1994"), -1);
    assert_int_equal(date_of("Sunday, 31-Jun-94 08:49:37 GMT"), -1);
}

static void date_invalid_month_rejected(void **state)
{
    (void)state;
    assert_int_equal(date_of("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun, 06 nov 1994 08:49:37 GMT"), -1); /* case-sensitive */
    assert_int_equal(date_of("Sunday, 06-NOV-94 08:49:37 GMT"), -1);
}

static void date_invalid_time_rejected(void **state)
{
    (void)state;
    assert_int_equal(date_of("Sun, 06 Nov 1994 24:00:00 GMT"), -1);
    assert_int_equal(date_of("Sun, 06 Nov 1994 08:60:00 GMT"), -1);
    assert_int_equal(date_of("Sun, 06 Nov 1994 08:49:61 GMT"), -1);
    assert_int_equal(date_of("Sun, 06 Nov 1994 8:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun, 06 Nov 1994 08-49-37 GMT"), -1);
}

static void date_bad_shape_rejected(void **state)
{
    (void)state;
    assert_int_equal(date_of("Sun, 06 Nov 1994 08:49:37 UTC"), -1);
    assert_int_equal(date_of("Sun, 06 Nov 1994 08:49:37 GMT "), -1);
    assert_int_equal(date_of("Sun, 6 Nov 1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Fun, 06 Nov 1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun, 06 Nov 94 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sundae, 06-Nov-94 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sunday, 06-Nov-1994 08:49:37 GMT"), -1);
    assert_int_equal(date_of("Sun Nov  6 08:49:37 94"), -1);
    assert_int_equal(date_of("1717600300"), -1);
    assert_int_equal(date_of(""), -1);
    assert_int_equal(http_date_parse(NULL, 0), -1);
}

static void date_rfc850_two_digit_year_pivot(void **state)
{
    (void)state;
    assert_int_equal(date_of("Wednesday, 31-Dec-69 00:00:00 GMT"), 3155673600LL); /* 2069 */
    assert_int_equal(date_of("Thursday, 01-Jan-70 00:00:01 GMT"), 1);             /* 1970 */
}

#define GOOD_COUNT (sizeof(good_responses) / sizeof(good_responses[0]))

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(countly_date_header_is_unix_1717600300),
        cmocka_unit_test(content_length_done_stops_consuming_at_body_end),
        cmocka_unit_test(headers_done_only_after_final_response_headers),
        cmocka_unit_test(chunk_data_passed_from_input_buffer_without_copy),
        cmocka_unit_test(status_line_http2_rejected),
        cmocka_unit_test(status_line_missing_code_rejected),
        cmocka_unit_test(status_line_two_digit_code_rejected),
        cmocka_unit_test(status_line_four_digit_code_rejected),
        cmocka_unit_test(status_code_below_100_rejected),
        cmocka_unit_test(status_line_garbage_rejected),
        cmocka_unit_test(status_line_control_char_in_reason_rejected),
        cmocka_unit_test(status_line_cr_without_lf_rejected),
        cmocka_unit_test(header_folded_line_rejected),
        cmocka_unit_test(header_without_colon_rejected),
        cmocka_unit_test(header_space_before_colon_rejected),
        cmocka_unit_test(header_empty_name_rejected),
        cmocka_unit_test(header_name_with_separator_rejected),
        cmocka_unit_test(header_control_char_in_value_rejected),
        cmocka_unit_test(header_cr_without_lf_rejected),
        cmocka_unit_test(header_line_exactly_at_limit_accepted),
        cmocka_unit_test(header_line_one_over_limit_rejected),
        cmocka_unit_test(status_line_over_limit_rejected),
        cmocka_unit_test(header_section_exactly_at_limit_accepted),
        cmocka_unit_test(header_section_one_over_limit_rejected),
        cmocka_unit_test(header_count_exactly_at_limit_accepted),
        cmocka_unit_test(header_count_one_over_limit_rejected),
        cmocka_unit_test(trailer_without_colon_rejected),
        cmocka_unit_test(trailers_count_toward_header_count),
        cmocka_unit_test(chunk_size_non_hex_rejected),
        cmocka_unit_test(chunk_size_empty_rejected),
        cmocka_unit_test(chunk_size_17_hex_digits_rejected),
        cmocka_unit_test(chunk_size_16_hex_digits_accepted),
        cmocka_unit_test(chunk_size_cr_without_lf_rejected),
        cmocka_unit_test(chunk_extension_control_char_rejected),
        cmocka_unit_test(chunk_data_without_crlf_rejected),
        cmocka_unit_test(chunk_line_exactly_at_limit_accepted),
        cmocka_unit_test(chunk_line_one_over_limit_rejected),
        cmocka_unit_test(content_length_two_different_values_rejected),
        cmocka_unit_test(content_length_non_digits_rejected),
        cmocka_unit_test(content_length_overflow_rejected),
        cmocka_unit_test(content_length_with_chunked_rejected),
        cmocka_unit_test(transfer_encoding_gzip_rejected),
        cmocka_unit_test(transfer_encoding_chunked_twice_rejected),
        cmocka_unit_test(transfer_encoding_empty_rejected),
        cmocka_unit_test(transfer_encoding_in_http10_rejected),
        cmocka_unit_test(finish_mid_content_length_body_truncated),
        cmocka_unit_test(finish_mid_chunked_body_truncated),
        cmocka_unit_test(finish_in_headers_truncated),
        cmocka_unit_test(finish_before_any_byte_truncated),
        cmocka_unit_test(body_callback_abort_reported_as_aborted),
        cmocka_unit_test(error_is_sticky),
        cmocka_unit_test(aborted_is_sticky),
        cmocka_unit_test(strerror_names_limits),
        cmocka_unit_test(date_three_formats_agree),
        cmocka_unit_test(date_epoch_is_zero),
        cmocka_unit_test(date_after_2038),
        cmocka_unit_test(date_leap_years),
        cmocka_unit_test(date_invalid_day_rejected),
        cmocka_unit_test(date_invalid_month_rejected),
        cmocka_unit_test(date_invalid_time_rejected),
        cmocka_unit_test(date_bad_shape_rejected),
        cmocka_unit_test(date_rfc850_two_digit_year_pivot),
    };
    /* one named test per well-formed response, then the fixed tests */
    static struct CMUnitTest tests[GOOD_COUNT + sizeof(fixed) / sizeof(fixed[0])];
    for (size_t i = 0; i < GOOD_COUNT; i++) {
        tests[i] = (struct CMUnitTest){good_responses[i].name,
                                       well_formed_response_parses_identically_however_cut, NULL,
                                       NULL, (void *)&good_responses[i]};
    }
    memcpy(tests + GOOD_COUNT, fixed, sizeof(fixed));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
