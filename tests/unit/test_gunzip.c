/*
 * test_gunzip.c - gzip bodies inflated in fixed memory.
 *
 * Streams are made here with zlib's deflate (gzip wrapper, several levels
 * and members), then fed whole, byte by byte and at every split point; the
 * output must be the original bytes each time. Corrupt, truncated and
 * non-gzip input are errors, never output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gunzip.h"

#define MAX_PLAIN (300 * 1024)

static gunzip g;
static uint8_t plain[MAX_PLAIN];
static uint8_t packed[MAX_PLAIN + 1024];
static uint8_t got[MAX_PLAIN * 2];
static size_t got_len;

static int collect(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    assert_true(len <= GUNZIP_OUT_CHUNK);
    assert_true(got_len + len <= sizeof got);
    memcpy(got + got_len, data, len);
    got_len += len;
    return 0;
}

/* zlib is built with Z_SOLO (no allocator of its own): tests give deflate one. */
static voidpf test_zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return calloc(items, size);
}

static void test_zfree(voidpf opaque, voidpf address)
{
    (void)opaque;
    free(address);
}

/* gzip of in (one member) appended at out; returns its length. */
static size_t deflate_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = test_zalloc;
    z.zfree = test_zfree;
    assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

/* JSON-like text that compresses like Countly's pages. */
static size_t make_plain(size_t len, unsigned seed)
{
    size_t n = 0;
    while (n < len) {
        char rec[128];
        int w = snprintf(rec, sizeof rec, "{\"_id\":\"%08x%08x\",\"lac\":%u,\"name\":\"user %u\"},",
                         seed * 2654435761u, (unsigned)n, 1717650000u + seed, (unsigned)n % 977);
        for (int i = 0; i < w && n < len; i++)
            plain[n++] = (uint8_t)rec[i];
        seed = seed * 1103515245u + 12345u;
    }
    return n;
}

static gunzip_status feed_in_pieces(const uint8_t *data, size_t len, size_t piece)
{
    gunzip_init(&g);
    got_len = 0;
    for (size_t off = 0; off < len; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        gunzip_status st = gunzip_feed(&g, data + off, n, collect, NULL);
        if (st != GUNZIP_OK)
            return st;
    }
    return gunzip_finish(&g);
}

static void whole_and_byte_by_byte_give_the_original(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 65536, 300 * 1024};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = make_plain(sizes[s], (unsigned)s + 1);
        for (int level = 1; level <= 9; level += 8) {
            size_t z = deflate_gzip(plain, n, packed, sizeof packed, level);
            static const size_t pieces[] = {1, 7, 1000, SIZE_MAX};
            for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
                if (pieces[p] == 1 && n > 70000)
                    continue; /* byte by byte is covered by the smaller sizes */
                assert_int_equal(feed_in_pieces(packed, z, pieces[p] == SIZE_MAX ? z : pieces[p]),
                                 GUNZIP_OK);
                assert_int_equal(got_len, n);
                assert_memory_equal(got, plain, n);
                assert_true(g.za.peak <= GUNZIP_ARENA_SIZE);
            }
        }
    }
}

static void every_split_point_gives_the_original(void **state)
{
    (void)state;
    size_t n = make_plain(5000, 9);
    size_t z = deflate_gzip(plain, n, packed, sizeof packed, 6);
    for (size_t cut = 0; cut <= z; cut++) {
        gunzip_init(&g);
        got_len = 0;
        assert_int_equal(gunzip_feed(&g, packed, cut, collect, NULL), GUNZIP_OK);
        assert_int_equal(gunzip_feed(&g, packed + cut, z - cut, collect, NULL), GUNZIP_OK);
        assert_int_equal(gunzip_finish(&g), GUNZIP_OK);
        assert_int_equal(got_len, n);
        assert_memory_equal(got, plain, n);
    }
}

static void concatenated_members_are_one_stream(void **state)
{
    (void)state;
    size_t n = make_plain(20000, 3);
    size_t z1 = deflate_gzip(plain, 8000, packed, sizeof packed, 6);
    size_t z2 = deflate_gzip(plain + 8000, n - 8000, packed + z1, sizeof packed - z1, 1);
    assert_int_equal(feed_in_pieces(packed, z1 + z2, 13), GUNZIP_OK);
    assert_int_equal(got_len, n);
    assert_memory_equal(got, plain, n);
}

static void truncated_corrupt_and_plain_input_are_errors(void **state)
{
    (void)state;
    size_t n = make_plain(50000, 5);
    size_t z = deflate_gzip(plain, n, packed, sizeof packed, 6);
    for (size_t cut = 1; cut < z; cut += z / 17)
        assert_int_equal(feed_in_pieces(packed, cut, 4096), GUNZIP_ERR_TRUNCATED);
    assert_int_equal(feed_in_pieces(packed, 0, 1), GUNZIP_ERR_TRUNCATED); /* nothing at all */
    packed[z / 2] ^= 0x55;
    gunzip_status st = feed_in_pieces(packed, z, 4096);
    assert_true(st == GUNZIP_ERR_DATA);
    packed[z / 2] ^= 0x55;
    packed[z - 5] ^= 0x01; /* the CRC32 trailer */
    assert_int_equal(feed_in_pieces(packed, z, 4096), GUNZIP_ERR_DATA);
    packed[z - 5] ^= 0x01;
    const char *json = "{\"result\":\"not gzip\"}";
    assert_int_equal(feed_in_pieces((const uint8_t *)json, strlen(json), 4096), GUNZIP_ERR_DATA);
    assert_int_equal(gunzip_feed(&g, packed, 1, collect, NULL), GUNZIP_ERR_DATA); /* sticky */
    memcpy(packed + z, "junk", 4); /* trailing bytes that are no member */
    assert_int_equal(feed_in_pieces(packed, z + 4, 4096), GUNZIP_ERR_DATA);
}

static int stop_at_once(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
    return 1;
}

static void the_receiver_may_stop(void **state)
{
    (void)state;
    size_t n = make_plain(10000, 7);
    size_t z = deflate_gzip(plain, n, packed, sizeof packed, 6);
    gunzip_init(&g);
    assert_int_equal(gunzip_feed(&g, packed, z, stop_at_once, NULL), GUNZIP_ERR_ABORTED);
    assert_string_equal(gunzip_strerror(GUNZIP_ERR_ABORTED), "stopped by the receiver");
    assert_non_null(strstr(gunzip_strerror(GUNZIP_ERR_MEMORY), "GUNZIP_ARENA_SIZE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_and_byte_by_byte_give_the_original),
        cmocka_unit_test(every_split_point_gives_the_original),
        cmocka_unit_test(concatenated_members_are_one_stream),
        cmocka_unit_test(truncated_corrupt_and_plain_input_are_errors),
        cmocka_unit_test(the_receiver_may_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
