/*
 * test_chacha20.c - countly-sync's ChaCha20 behind mbedTLS's API
 * (port/mbedtls/chacha20_alt.c, MBEDTLS_CHACHA20_ALT).
 *
 * Known answers: RFC 8439 section 2.4.2 (encryption) and 2.8.2 (the AEAD,
 * through mbedTLS's chachapoly module on top of ours), and a 4099-byte
 * stream whose SHA-256 came from another implementation:
 *   openssl enc -chacha20 -K <key> -iv 05000000<nonce> -in <plain> | sha256sum
 * (OpenSSL's 16-byte IV is the little-endian counter, then the nonce; the
 * key, nonce and plain bytes are the patterns below).
 * Then the paths against each other: a stream cut anywhere, fed in pieces
 * of every size from 1 to 300 bytes (the scalar block, the four-block
 * vector path and the kept keystream in every mix) is the same stream; the
 * 32-bit block counter wraps to 0 as in mbedTLS; in-place works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "mbedtls/chacha20.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/sha256.h"

static const char SUNSCREEN[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                                "only one tip for the future, sunscreen would be it.";

static size_t hex_decode(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void fill(uint8_t *p, size_t n, unsigned mul, unsigned add)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * mul + add);
}

/* RFC 8439 2.4.2: key 00..1f, nonce 00 00 00 00 00 00 00 4a 00 00 00 00, counter 1. */
static void rfc8439_encryption(void **state)
{
    (void)state;
    static const char expect_hex[] =
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
        "5af90bbf74a35be6b40b8eedf2785e42874d";
    uint8_t key[32];
    uint8_t nonce[12] = {0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0};
    uint8_t expect[114];
    uint8_t out[114];
    fill(key, sizeof key, 1, 0);
    assert_int_equal(hex_decode(expect_hex, expect), sizeof SUNSCREEN - 1);
    assert_int_equal(mbedtls_chacha20_crypt(key, nonce, 1, sizeof SUNSCREEN - 1,
                                            (const uint8_t *)SUNSCREEN, out),
                     0);
    assert_memory_equal(out, expect, sizeof out);
}

/* RFC 8439 2.8.2: the AEAD's ciphertext and tag. */
static void rfc8439_aead(void **state)
{
    (void)state;
    static const char cipher_hex[] =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116";
    static const char tag_hex[] = "1ae10b594f09e26a7e902ecbd0600691";
    uint8_t key[32];
    uint8_t nonce[12] = {0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
    uint8_t aad[12] = {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
    uint8_t expect[114];
    uint8_t expect_tag[16];
    uint8_t out[114];
    uint8_t back[114];
    uint8_t tag[16];
    fill(key, sizeof key, 1, 0x80);
    hex_decode(cipher_hex, expect);
    hex_decode(tag_hex, expect_tag);
    mbedtls_chachapoly_context ctx;
    mbedtls_chachapoly_init(&ctx);
    assert_int_equal(mbedtls_chachapoly_setkey(&ctx, key), 0);
    assert_int_equal(mbedtls_chachapoly_encrypt_and_tag(&ctx, sizeof out, nonce, aad, sizeof aad,
                                                        (const uint8_t *)SUNSCREEN, out, tag),
                     0);
    assert_memory_equal(out, expect, sizeof out);
    assert_memory_equal(tag, expect_tag, sizeof tag);
    assert_int_equal(
        mbedtls_chachapoly_auth_decrypt(&ctx, sizeof out, nonce, aad, sizeof aad, tag, out, back),
        0);
    assert_memory_equal(back, SUNSCREEN, sizeof back);
    out[57] ^= 1; /* one bit changed: refused */
    assert_int_equal(
        mbedtls_chachapoly_auth_decrypt(&ctx, sizeof out, nonce, aad, sizeof aad, tag, out, back),
        MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED);
    mbedtls_chachapoly_free(&ctx);
}

#define LONG_LEN 4099

static uint8_t long_plain[LONG_LEN];
static uint8_t long_whole[LONG_LEN];
static uint8_t long_parts[LONG_LEN];

static void long_setup(uint8_t key[32], uint8_t nonce[12])
{
    fill(key, 32, 3, 1);
    fill(nonce, 12, 1, 0xa0);
    fill(long_plain, LONG_LEN, 7, 3);
}

/* The whole stream in one call (mostly the vector path) against OpenSSL's. */
static void a_long_stream_matches_openssl(void **state)
{
    (void)state;
    static const char digest_hex[] =
        "2ca7233dab315fbd2ca136d2f07e8353c64e57f9ce7909eccc29175c4c34b202";
    uint8_t key[32];
    uint8_t nonce[12];
    uint8_t expect[32];
    uint8_t digest[32];
    long_setup(key, nonce);
    hex_decode(digest_hex, expect);
    assert_int_equal(mbedtls_chacha20_crypt(key, nonce, 5, LONG_LEN, long_plain, long_whole), 0);
    assert_int_equal(mbedtls_sha256(long_whole, LONG_LEN, digest, 0), 0);
    assert_memory_equal(digest, expect, sizeof digest);
}

/* Pieces of every size 1..300 (all the same size, then a cycling mix): the
 * same stream as the whole, in place too. */
static void any_split_gives_the_same_stream(void **state)
{
    (void)state;
    uint8_t key[32];
    uint8_t nonce[12];
    long_setup(key, nonce);
    assert_int_equal(mbedtls_chacha20_crypt(key, nonce, 5, LONG_LEN, long_plain, long_whole), 0);
    mbedtls_chacha20_context ctx;
    mbedtls_chacha20_init(&ctx);
    assert_int_equal(mbedtls_chacha20_setkey(&ctx, key), 0);
    for (size_t piece = 1; piece <= 300; piece++) {
        for (int in_place = 0; in_place < 2; in_place++) {
            assert_int_equal(mbedtls_chacha20_starts(&ctx, nonce, 5), 0);
            memcpy(long_parts, long_plain, LONG_LEN);
            const uint8_t *in = in_place ? long_parts : long_plain;
            size_t step = piece;
            for (size_t at = 0; at < LONG_LEN;) {
                size_t n = step < LONG_LEN - at ? step : LONG_LEN - at;
                assert_int_equal(mbedtls_chacha20_update(&ctx, n, in + at, long_parts + at), 0);
                at += n;
                if (in_place) /* a mix of sizes: 1, 2, ... up to piece */
                    step = step % piece + 1;
            }
            assert_memory_equal(long_parts, long_whole, LONG_LEN);
        }
    }
    assert_int_equal(mbedtls_chacha20_update(&ctx, 0, NULL, NULL), 0);
    mbedtls_chacha20_free(&ctx);
}

/* Counter 0xffffffff, then 0 (the nonce unchanged): five blocks and a part
 * from 0xfffffffe equal the pieces started at each counter. */
static void the_block_counter_wraps(void **state)
{
    (void)state;
    uint8_t key[32];
    uint8_t nonce[12];
    uint8_t whole[5 * 64 + 9];
    uint8_t piece[64];
    long_setup(key, nonce);
    assert_int_equal(
        mbedtls_chacha20_crypt(key, nonce, 0xfffffffeu, sizeof whole, long_plain, whole), 0);
    const uint32_t counters[6] = {0xfffffffeu, 0xffffffffu, 0, 1, 2, 3};
    for (size_t b = 0; b < 6; b++) {
        size_t n = b < 5 ? 64 : 9;
        assert_int_equal(
            mbedtls_chacha20_crypt(key, nonce, counters[b], n, long_plain + 64 * b, piece), 0);
        assert_memory_equal(piece, whole + 64 * b, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc8439_encryption),
        cmocka_unit_test(rfc8439_aead),
        cmocka_unit_test(a_long_stream_matches_openssl),
        cmocka_unit_test(any_split_gives_the_same_stream),
        cmocka_unit_test(the_block_counter_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
