/*
 * fuzz_jstream.c - libFuzzer target: how a body is cut into fragments must
 * never change the records or the outcome of the jstream scanner.
 *
 * Input layout: byte 0 chooses the envelope (mod 5) and a record after
 * which the callback stops the scan ((byte 0 / 5) mod 4; 0 = never); byte 1
 * the number of split points n (mod 9), then n 16-bit little-endian split
 * offsets (mod the body length + 1; zero-length fragments allowed), then
 * the body. The body is fed whole, in those fragments (each copied into its
 * own exact-size heap buffer so ASan sees any read past a fragment) and one
 * byte at a time. Records (text, tokens, index, key: count and FNV-1a
 * hash), status, offsets, error record, scalars, message, _id and the
 * description must agree, or the target aborts.
 *
 * jstream writes a record's tokens while it copies it; jsmn (compiled in
 * jstream.c, configured by json_tokens.h) is the oracle: each record
 * delivered is parsed again with jsmn and every token must be identical
 * (type, start, end, size, parent, count), and a record refused with
 * TOO_MANY_TOKENS must make jsmn run out of tokens too, or the target aborts.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       -Ibuild/deps/include src/jstream.c tests/fuzz/fuzz_jstream.c -o fuzz_jstream
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jstream.h"

#define SPLITS_MAX 8
#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME  1099511628211ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    jstream_status status;
    uint64_t offset;
    uint64_t error_offset;
    unsigned long error_record;
    int error_in_record;
    unsigned long records;
    unsigned long calls;
    unsigned long abort_after;
    uint64_t hash;
    int has_total, has_end, has_limit, has_message;
    int64_t total, end, limit;
    char message[JSTREAM_MESSAGE_MAX + 1];
    char record_id[JSTREAM_ID_MAX + 4];
    char describe[512];
} run_result;

static void check(int ok)
{
    if (!ok)
        abort();
}

static void hash_bytes(run_result *r, const void *bytes, size_t len)
{
    const uint8_t *b = bytes;
    for (size_t i = 0; i < len; i++)
        r->hash = (r->hash ^ b[i]) * FNV_PRIME;
}

/* jsmn on a record's text (a trailing space lets strict jsmn end a bare number). */
static int jsmn_tokens(const char *json, size_t len, jsmntok_t *tokens)
{
    static char text[JSTREAM_RECORD_MAX + 2];
    jsmn_parser parser;
    check(len <= JSTREAM_RECORD_MAX);
    memcpy(text, json, len);
    text[len] = ' ';
    jsmn_init(&parser);
    return jsmn_parse(&parser, text, len + 1, tokens, JSTREAM_TOKENS_MAX);
}

static void check_tokens_are_jsmns(const jstream_record *record)
{
    static jsmntok_t want[JSTREAM_TOKENS_MAX];
    int count = jsmn_tokens(record->json, record->len, want);
    check(count == record->token_count);
    for (int i = 0; i < count; i++) {
        const jsmntok_t *a = &record->tokens[i];
        const jsmntok_t *b = &want[i];
        check(a->type == b->type && a->start == b->start && a->end == b->end &&
              a->size == b->size && a->parent == b->parent);
    }
}

static int on_record(void *user, const jstream_record *record)
{
    run_result *r = user;
    const jsmntok_t *t = &record->tokens[0];
    int quoted = t->type == JSMN_STRING;
    check(record->len <= JSTREAM_RECORD_MAX);
    check(record->json[record->len] == '\0');
    check(record->token_count >= 1 && record->token_count <= JSTREAM_TOKENS_MAX);
    check(t->start == quoted && t->end == (int)record->len - quoted && t->parent == -1);
    for (int i = 1; i < record->token_count; i++) {
        const jsmntok_t *k = &record->tokens[i];
        check(k->start >= 0 && k->end >= k->start && k->end <= (int)record->len);
        check(k->parent >= 0 && k->parent < i);
    }
    check_tokens_are_jsmns(record);
    hash_bytes(r, record->json, record->len + 1);
    hash_bytes(r, record->tokens, (size_t)record->token_count * sizeof(record->tokens[0]));
    hash_bytes(r, &record->index, sizeof(record->index));
    if (record->key != NULL)
        hash_bytes(r, record->key, strlen(record->key) + 1);
    r->calls++;
    return r->abort_after != 0 && r->calls == r->abort_after;
}

static void run_start(run_result *r, jstream *js, jstream_envelope envelope,
                      unsigned long abort_after)
{
    memset(r, 0, sizeof(*r));
    r->hash = FNV_OFFSET;
    r->abort_after = abort_after;
    jstream_init(js, envelope);
}

static void run_piece(run_result *r, jstream *js, const uint8_t *bytes, size_t len)
{
    uint8_t *piece = malloc(len > 0 ? len : 1);
    check(piece != NULL);
    memcpy(piece, bytes, len);
    jstream_status status = jstream_feed(js, piece, len, on_record, r);
    free(piece);
    check(status == js->error);
}

static void run_end(run_result *r, jstream *js)
{
    r->status = jstream_finish(js);
    check(jstream_finish(js) == r->status);
    if (r->status == JSTREAM_ERR_TOO_MANY_TOKENS) {
        static jsmntok_t tokens[JSTREAM_TOKENS_MAX];
        check(jsmn_tokens(js->record, js->record_len, tokens) == JSMN_ERROR_NOMEM);
    }
    r->offset = js->offset;
    r->error_offset = js->error_offset;
    r->error_record = js->error_record;
    r->error_in_record = js->error_in_record;
    r->records = js->records;
    check(r->records == r->calls);
    r->has_total = js->has_total;
    r->has_end = js->has_end;
    r->has_limit = js->has_limit;
    r->has_message = js->has_message;
    r->total = js->total;
    r->end = js->end;
    r->limit = js->limit;
    memcpy(r->message, js->message, sizeof(r->message));
    memcpy(r->record_id, js->record_id, sizeof(r->record_id));
    size_t n = jstream_describe(js, r->describe, sizeof(r->describe));
    check(n == strlen(r->describe));
}

static void check_same(const run_result *a, const run_result *b)
{
    check(a->status == b->status && a->offset == b->offset);
    check(a->error_offset == b->error_offset && a->error_record == b->error_record);
    check(a->error_in_record == b->error_in_record);
    check(a->records == b->records && a->hash == b->hash);
    check(a->has_total == b->has_total && a->has_end == b->has_end);
    check(a->has_limit == b->has_limit && a->has_message == b->has_message);
    check(a->total == b->total && a->end == b->end && a->limit == b->limit);
    check(strcmp(a->message, b->message) == 0);
    check(strcmp(a->record_id, b->record_id) == 0);
    check(strcmp(a->describe, b->describe) == 0);
}

static int compare_offsets(const void *a, const void *b)
{
    size_t x = *(const size_t *)a;
    size_t y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_result whole, split, bytes;
    size_t cuts[SPLITS_MAX];
    jstream *js;
    if (size < 2)
        return 0;
    jstream_envelope envelope = (jstream_envelope)(data[0] % 5);
    unsigned long abort_after = (unsigned long)(data[0] / 5 % 4);
    size_t n = data[1] % (SPLITS_MAX + 1);
    if (size < 2 + 2 * n)
        return 0;
    const uint8_t *body = data + 2 + 2 * n;
    size_t len = size - 2 - 2 * n;
    for (size_t i = 0; i < n; i++)
        cuts[i] = (size_t)(data[2 + 2 * i] | data[3 + 2 * i] << 8) % (len + 1);
    qsort(cuts, n, sizeof(cuts[0]), compare_offsets);
    js = malloc(sizeof(*js));
    check(js != NULL);

    run_start(&whole, js, envelope, abort_after);
    run_piece(&whole, js, body, len);
    run_end(&whole, js);

    run_start(&split, js, envelope, abort_after);
    for (size_t i = 0, from = 0; i <= n; i++) {
        size_t to = i < n ? cuts[i] : len;
        run_piece(&split, js, body + from, to - from);
        from = to;
    }
    run_end(&split, js);
    check_same(&whole, &split);

    run_start(&bytes, js, envelope, abort_after);
    for (size_t i = 0; i < len; i++)
        run_piece(&bytes, js, body + i, 1);
    run_end(&bytes, js);
    check_same(&whole, &bytes);
    free(js);
    return 0;
}
