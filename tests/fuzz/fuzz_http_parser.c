/*
 * fuzz_http_parser.c - libFuzzer target: how a response is cut into
 * fragments must never change what the parser reports.
 *
 * Input layout: byte 0 = number of split points n (mod 9), then n 16-bit
 * little-endian split offsets (mod the response length + 1; zero-length
 * fragments are allowed), then the response bytes. The response is fed
 * whole, in those fragments (each copied into its own exact-size heap
 * buffer so ASan sees any read past a fragment), and one byte at a time.
 * Status, consumed bytes, every result field and the body bytes (length
 * and FNV-1a hash) must agree, or the target aborts.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       src/http_parser.c tests/fuzz/fuzz_http_parser.c -o fuzz_http_parser
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_date.h"
#include "http_parser.h"

#define SPLITS_MAX 8
#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME  1099511628211ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    http_parser parser;
    http_parser_status status; /* last feed, or finish() after NEED_MORE */
    size_t consumed;
    uint64_t body_len;
    uint64_t body_hash;
    const uint8_t *piece; /* the fragment being fed: body bytes must lie in it */
    size_t piece_len;
} run_result;

static void check(int ok)
{
    if (!ok)
        abort();
}

static int on_body(void *user, const uint8_t *bytes, size_t len)
{
    run_result *r = user;
    check(len > 0);
    check(bytes >= r->piece && bytes + len <= r->piece + r->piece_len);
    for (size_t i = 0; i < len; i++)
        r->body_hash = (r->body_hash ^ bytes[i]) * FNV_PRIME;
    r->body_len += len;
    return 0;
}

static void run_start(run_result *r)
{
    memset(r, 0, sizeof(*r));
    http_parser_init(&r->parser);
    r->status = HTTP_PARSER_NEED_MORE;
    r->body_hash = FNV_OFFSET;
}

/* Feeds one fragment; returns 0 once the parser has stopped. */
static int run_piece(run_result *r, const uint8_t *piece, size_t len)
{
    size_t used = (size_t)-1;
    r->piece = piece;
    r->piece_len = len;
    r->status = http_parser_feed(&r->parser, piece, len, &used, on_body, r);
    check(used <= len);
    check(r->status != HTTP_PARSER_NEED_MORE || used == len);
    r->consumed += used;
    return r->status == HTTP_PARSER_NEED_MORE;
}

/* After the feeds: finish an open response, then check that the outcome
 * is sticky. */
static void run_end(run_result *r, const uint8_t *msg, size_t len)
{
    if (r->status == HTTP_PARSER_NEED_MORE) {
        r->status = http_parser_finish(&r->parser);
        check(r->status == HTTP_PARSER_DONE || r->status == HTTP_PARSER_ERR_TRUNCATED);
    }
    size_t used = 1;
    r->piece = msg;
    r->piece_len = len;
    check(http_parser_feed(&r->parser, msg, len, &used, on_body, r) == r->status);
    check(used == 0);
    check(http_parser_finish(&r->parser) == r->status);
}

static void run_whole(const uint8_t *msg, size_t len, run_result *r)
{
    run_start(r);
    run_piece(r, msg, len);
    run_end(r, msg, len);
}

static void run_bytes(const uint8_t *msg, size_t len, run_result *r)
{
    run_start(r);
    for (size_t i = 0; i < len && run_piece(r, msg + i, 1); i++) {
    }
    run_end(r, msg, len);
}

/* Fragments [0, cuts[0]), [cuts[0], cuts[1]), ..., [cuts[n-1], len). */
static void run_cuts(const uint8_t *msg, size_t len, const size_t *cuts, size_t n, run_result *r)
{
    size_t start = 0;
    run_start(r);
    for (size_t k = 0; k <= n; k++) {
        size_t end = k < n ? cuts[k] : len;
        size_t piece_len = end - start;
        uint8_t *copy = malloc(piece_len > 0 ? piece_len : 1);
        check(copy != NULL);
        memcpy(copy, msg + start, piece_len);
        int more = run_piece(r, copy, piece_len);
        free(copy);
        if (!more)
            break;
        start = end;
    }
    run_end(r, msg, len);
}

static void check_same(const run_result *a, const run_result *b)
{
    check(a->status == b->status);
    check(a->consumed == b->consumed);
    check(a->body_len == b->body_len && a->body_hash == b->body_hash);
    check(a->parser.version_minor == b->parser.version_minor);
    check(a->parser.status_code == b->parser.status_code);
    check(a->parser.framing == b->parser.framing);
    check(a->parser.content_length == b->parser.content_length);
    check(a->parser.keep_alive == b->parser.keep_alive);
    check(a->parser.date == b->parser.date);
    check(a->parser.retry_after == b->parser.retry_after);
    check(a->parser.headers_done == b->parser.headers_done);
    check(a->parser.body_bytes == b->parser.body_bytes);
}

/* Properties of a single run that hold whatever the input. */
static void check_invariants(const run_result *r, size_t len)
{
    const http_parser *p = &r->parser;
    check(r->consumed <= len);
    check(p->body_bytes == r->body_len);
    check(p->body_bytes == 0 || p->headers_done);
    if (r->status == HTTP_PARSER_DONE) {
        check(p->headers_done);
        check(p->status_code >= 200 && p->status_code <= 999);
        check(p->framing != HTTP_FRAMING_LENGTH || p->body_bytes == (uint64_t)p->content_length);
        check(p->framing != HTTP_FRAMING_NONE || p->body_bytes == 0);
        check(p->framing != HTTP_FRAMING_CLOSE || (r->consumed == len && !p->keep_alive));
    }
    check(p->retry_after >= -1);
}

static void sort_cuts(size_t *cuts, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_result whole, cut, bytes; /* large; kept off the stack */
    size_t cuts[SPLITS_MAX];
    if (size < 1)
        return 0;
    size_t n = data[0] % (SPLITS_MAX + 1);
    size_t head = 1 + 2 * n;
    if (size < head)
        return 0;
    const uint8_t *msg = data + head;
    size_t len = size - head;
    for (size_t k = 0; k < n; k++)
        cuts[k] = ((size_t)data[1 + 2 * k] | (size_t)data[2 + 2 * k] << 8) % (len + 1);
    sort_cuts(cuts, n);

    run_whole(msg, len, &whole);
    run_cuts(msg, len, cuts, n, &cut);
    run_bytes(msg, len, &bytes);
    check_invariants(&whole, len);
    check_same(&whole, &cut);
    check_same(&whole, &bytes);

    /* the date parser sees raw bytes too */
    (void)http_date_parse((const char *)msg, len < 40 ? len : 40);
    return 0;
}
