/*
 * fuzz_scrub.c - libFuzzer target: log_scrub replaces the API key in a log
 * line without writing past the buffer, looping, or leaving the key (or its
 * start at a cut) visible.
 *
 * Input layout: byte 0 chooses the key length (bits 0-4: 1 to 32 bytes) and
 * the room left in the buffer after the line (bits 5-7: 0 to 56 bytes, so 0
 * is a full buffer, taken as cut); then the key bytes, then the line (each
 * ends at its first NUL). The line is scrubbed in a heap buffer of exactly
 * its capacity (ASan sees any write past it) and compared with a plain
 * model that writes every key, left to right, as "***" into a large buffer.
 * Checks, each aborting on failure:
 *   - the result is NUL-terminated within the buffer;
 *   - it is the model's result or, when cut (a full line, or a result that
 *     does not fit), the longest start of it that is made of whole pieces
 *     (bytes and "***") that fit and does not end in a start of the key;
 *   - the key appears in it only over stars of a "***" (keys holding '*').
 *
 *   make PROFILE=native fuzz-build && build/fuzz/fuzz_scrub corpus-folder
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* The model: every key as "***"; star[i] is 1 for a byte of a "***", and
 * *fit_len is the longest run of whole pieces that fits in room bytes. */
static size_t model_scrub(const char *line, size_t len, const char *key, size_t klen, size_t room,
                          char *out, char *star, size_t *fit_len)
{
    size_t w = 0;
    size_t r = 0;
    *fit_len = 0;
    while (r < len) {
        int hit = len - r >= klen && memcmp(line + r, key, klen) == 0;
        size_t n = hit ? 3 : 1;
        memcpy(out + w, hit ? "***" : line + r, n);
        memset(star + w, hit, n);
        w += n;
        r += hit ? klen : 1;
        if (w <= room)
            *fit_len = w;
    }
    return w;
}

/* 1 when the key occurs in text[0..len) without covering a star of a "***". */
static int key_visible(const char *text, size_t len, const char *key, size_t klen, const char *star)
{
    for (size_t i = 0; i + klen <= len; i++)
        if (memcmp(text + i, key, klen) == 0 && memchr(star + i, 1, klen) == NULL)
            return 1;
    return 0;
}

/* 1 when text[0..len) ends in a start of the key, shorter than the key. */
static int ends_in_key_start(const char *text, size_t len, const char *key, size_t klen)
{
    for (size_t n = 1; n < klen && n <= len; n++)
        if (memcmp(text + len - n, key, n) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t want = (size_t)(data[0] & 31u) + 1;
    size_t slack = (size_t)(data[0] >> 5) * 8;
    const char *rest = (const char *)data + 1;
    size_t skip = want < size - 1 ? want : size - 1;
    size_t klen = strnlen(rest, skip);
    const char *line = rest + skip;
    size_t len = strnlen(line, size - 1 - skip);
    if (klen == 0)
        return 0;
    char key[33];
    memcpy(key, rest, klen);
    key[klen] = '\0';

    size_t cap = len + 1 + slack;
    char *buf = malloc(cap);
    char *want_out = malloc(3 * len + 1);
    char *star = malloc(3 * len + 1);
    check(buf != NULL && want_out != NULL && star != NULL);
    memcpy(buf, line, len);
    buf[len] = '\0';
    size_t fit_len = 0;
    size_t want_len = model_scrub(line, len, key, klen, cap - 1, want_out, star, &fit_len);

    int cut = log_scrub(buf, cap, key);
    check(memchr(buf, '\0', cap) != NULL);
    size_t out_len = strlen(buf);
    check(cut == (len + 1 == cap || want_len > cap - 1));
    check(memcmp(buf, want_out, out_len) == 0);
    if (cut) {
        check(out_len <= fit_len && !ends_in_key_start(buf, out_len, key, klen));
        for (size_t m = out_len + 1; m <= fit_len; m++)
            check(ends_in_key_start(want_out, m, key, klen)); /* kept all it could */
    } else {
        check(out_len == want_len);
    }
    check(!key_visible(buf, out_len, key, klen, star));
    free(buf);
    free(want_out);
    free(star);
    return 0;
}
