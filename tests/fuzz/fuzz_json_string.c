/*
 * fuzz_json_string.c - libFuzzer target: JSON string body decoding and
 * escaping never write past their buffers and keep UTF-8 valid.
 *
 * Input layout: byte 0 selects the flags (bit 0: JSON_STRING_HTML), the
 * rest is a string body. Checks, each aborting on failure:
 *   - decode into an exact-size heap buffer of the input's length always
 *     fits (the decoded text is never longer), and into a buffer of half
 *     that size either fits or says NO_ROOM (ASan sees any write past it);
 *   - a successful decode fits a buffer of exactly its length again, with
 *     the same bytes, and NO_ROOM one byte short;
 *   - when the body is valid UTF-8 and decodes, the output is valid UTF-8;
 *   - for a body that is valid UTF-8 without U+0000, decode(escape(x)) == x.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       src/json_string.c tests/fuzz/fuzz_json_string.c -o fuzz_json_string
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_string.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Length of the UTF-8 sequence at s (strict: no overlongs, surrogates or
 * code points past U+10FFFF), or 0 when invalid. */
static size_t utf8_sequence(const uint8_t *s, size_t n)
{
    uint8_t b = s[0];
    size_t len;
    uint32_t cp;
    if (b < 0x80) {
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        cp = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        cp = b & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* 1 when s is valid UTF-8; *has_nul tells whether it holds U+0000. */
static int utf8_valid(const uint8_t *s, size_t n, int *has_nul)
{
    *has_nul = 0;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_sequence(s + i, n - i);
        if (len == 0)
            return 0;
        *has_nul |= s[i] == 0;
        i += len;
    }
    return 1;
}

/* Decodes into an exact-size heap buffer of cap bytes; returns the status. */
static json_string_status decode_into(const char *in, size_t len, unsigned flags, size_t cap,
                                      char **out, size_t *out_len)
{
    unsigned long replaced = 0;
    *out = malloc(cap > 0 ? cap : 1);
    check(*out != NULL);
    return json_string_decode(in, len, flags, *out, cap, out_len, &replaced);
}

static void check_exact_fit(const char *in, size_t len, unsigned flags, const char *want,
                            size_t want_len)
{
    char *out = NULL;
    size_t n = 0;
    check(decode_into(in, len, flags, want_len, &out, &n) == JSON_STRING_OK);
    check(n == want_len && memcmp(out, want, n) == 0);
    free(out);
    if (want_len > 0) {
        check(decode_into(in, len, flags, want_len - 1, &out, &n) == JSON_STRING_ERR_NO_ROOM);
        free(out);
    }
}

static void check_round_trip(const char *text, size_t len)
{
    size_t cap = len * 6;
    char *escaped = malloc(cap > 0 ? cap : 1);
    char *back = malloc(len > 0 ? len : 1);
    size_t n = 0;
    size_t m = 0;
    unsigned long replaced = 0;
    check(escaped != NULL && back != NULL);
    check(json_string_escape(text, len, escaped, cap, &n) == JSON_STRING_OK);
    check(json_string_decode(escaped, n, 0, back, len, &m, &replaced) == JSON_STRING_OK);
    check(m == len && memcmp(back, text, len) == 0 && replaced == 0);
    free(escaped);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = (data[0] & 1u) ? JSON_STRING_HTML : 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    int has_nul = 0;
    int valid = utf8_valid(data + 1, len, &has_nul);

    char *half = NULL;
    size_t half_len = 0;
    json_string_status half_status = decode_into(in, len, flags, len / 2, &half, &half_len);
    char *out = NULL;
    size_t out_len = 0;
    json_string_status status = decode_into(in, len, flags, len, &out, &out_len);
    check(status != JSON_STRING_ERR_NO_ROOM);
    if (status == JSON_STRING_OK) {
        check(out_len <= len);
        check(half_status == (out_len <= len / 2 ? JSON_STRING_OK : JSON_STRING_ERR_NO_ROOM));
        check_exact_fit(in, len, flags, out, out_len);
        if (valid) {
            int out_nul = 0;
            check(utf8_valid((const uint8_t *)out, out_len, &out_nul));
        }
    } else {
        check(half_status == JSON_STRING_ERR_ESCAPE || half_status == JSON_STRING_ERR_NO_ROOM);
    }
    free(half);
    free(out);
    if (valid && !has_nul)
        check_round_trip(in, len);
    return 0;
}
