/*
 * chacha20_alt.c - ChaCha20 (RFC 8439) behind mbedTLS's ChaCha20 API.
 *
 * Selected by MBEDTLS_CHACHA20_ALT in countly_sync_mbedtls_config.h and
 * added to each profile's libmbedcrypto.a by the Makefile, so mbedTLS's
 * ChaCha20-Poly1305 (its chachapoly module, the cipher layer and PSA) calls
 * these functions instead of its own. Where it differs from mbedTLS's: on
 * x86_64, whole groups of four blocks are computed together, one block per
 * lane of an SSE2 register (GCC/Clang vector extensions), and XORed
 * straight into the output, a word at a time elsewhere. A single block, the
 * tail and other targets use the scalar block. (Four NEON lanes on aarch64
 * compile too, but ran slower than the scalar block under qemu-user, and no
 * ARM machine was at hand to measure them: measured first, enabled then.)
 * The block counter is 32 bits and wraps, as in mbedTLS.
 *
 * tests/unit/test_chacha20.c checks RFC 8439's vectors, a stream against
 * OpenSSL's, and every split of a stream (each path and their mixes).
 */
#include <string.h>

#include "mbedtls/chacha20.h"
#include "mbedtls/platform_util.h"

#if defined(MBEDTLS_CHACHA20_ALT)

#define CHACHA_BLOCK   64u
#define CHACHA_COUNTER 12 /* index of the block counter in the state */

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector) && defined(__SSE2__)
#define CHACHA_VECTORS 1
#endif
#endif
#if defined(CHACHA_VECTORS)
typedef uint32_t chacha_vec __attribute__((vector_size(16))); /* a word of four blocks */
typedef uint16_t chacha_halves __attribute__((vector_size(16)));
#endif

static uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t rotl32(uint32_t v, int n)
{
    return v << n | v >> (32 - n);
}

/* RFC 8439 2.1 on words a, b, c, d of one state. */
static inline void quarter_round(uint32_t x[16], int a, int b, int c, int d)
{
    x[a] += x[b];
    x[d] = rotl32(x[d] ^ x[a], 16);
    x[c] += x[d];
    x[b] = rotl32(x[b] ^ x[c], 12);
    x[a] += x[b];
    x[d] = rotl32(x[d] ^ x[a], 8);
    x[c] += x[d];
    x[b] = rotl32(x[b] ^ x[c], 7);
}

/* x = the keystream words of the block for the state's counter (2.3). */
static void block_words(const uint32_t state[16], uint32_t x[16])
{
    memcpy(x, state, 16 * sizeof x[0]);
    for (int i = 0; i < 10; i++) {
        quarter_round(x, 0, 4, 8, 12);
        quarter_round(x, 1, 5, 9, 13);
        quarter_round(x, 2, 6, 10, 14);
        quarter_round(x, 3, 7, 11, 15);
        quarter_round(x, 0, 5, 10, 15);
        quarter_round(x, 1, 6, 11, 12);
        quarter_round(x, 2, 7, 8, 13);
        quarter_round(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i++)
        x[i] += state[i];
}

/* One block of keystream bytes; the counter moves on. */
static void next_keystream(uint32_t state[16], uint8_t out[CHACHA_BLOCK])
{
    uint32_t x[16];
    block_words(state, x);
    state[CHACHA_COUNTER]++;
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, x[i]);
    mbedtls_platform_zeroize(x, sizeof x);
}

/* out = in XOR the next block's keystream, a word at a time; the counter
 * moves on. */
static void xor_block_scalar(uint32_t state[16], const uint8_t *in, uint8_t *out)
{
    uint32_t x[16];
    block_words(state, x);
    state[CHACHA_COUNTER]++;
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, load32_le(in + 4 * i) ^ x[i]);
    mbedtls_platform_zeroize(x, sizeof x);
}

#if defined(CHACHA_VECTORS)

static inline chacha_vec rotl_vec(chacha_vec v, int n)
{
    return v << n | v >> (32 - n);
}

/* rotl_vec(v, 16): the two halves of each word swapped, one shuffle. */
static inline chacha_vec rotl16_vec(chacha_vec v)
{
    chacha_halves h = (chacha_halves)v;
    return (chacha_vec)__builtin_shufflevector(h, h, 1, 0, 3, 2, 5, 4, 7, 6);
}

/* quarter_round on four states at once, one per lane. */
static inline void quarter_round_vec(chacha_vec x[16], int a, int b, int c, int d)
{
    x[a] += x[b];
    x[d] = rotl16_vec(x[d] ^ x[a]);
    x[c] += x[d];
    x[b] = rotl_vec(x[b] ^ x[c], 12);
    x[a] += x[b];
    x[d] = rotl_vec(x[d] ^ x[a], 8);
    x[c] += x[d];
    x[b] = rotl_vec(x[b] ^ x[c], 7);
}

/* Lanes 0-1 of a and b interleaved, then lanes 2-3 (4x4 transpose steps). */
static chacha_vec zip_low(chacha_vec a, chacha_vec b)
{
    return __builtin_shufflevector(a, b, 0, 4, 1, 5);
}

static chacha_vec zip_high(chacha_vec a, chacha_vec b)
{
    return __builtin_shufflevector(a, b, 2, 6, 3, 7);
}

/* out = in XOR v, 16 bytes (v's lanes are little-endian words). */
static void xor16(const uint8_t *in, uint8_t *out, chacha_vec v)
{
    chacha_vec w;
    memcpy(&w, in, sizeof w);
    w ^= v;
    memcpy(out, &w, sizeof w);
}

/* out = in XOR the keystream of the next four blocks (256 bytes): lane k
 * computes the block with counter + k, so words i..i+3 of the four blocks
 * are a 4x4 transpose of x[i..i+3]. The counter moves on by four. */
static void xor_blocks_vec(uint32_t state[16], const uint8_t *in, uint8_t *out)
{
    chacha_vec s[16];
    chacha_vec x[16];
    for (int i = 0; i < 16; i++)
        s[i] = (chacha_vec){state[i], state[i], state[i], state[i]};
    s[CHACHA_COUNTER] += (chacha_vec){0, 1, 2, 3};
    memcpy(x, s, sizeof x);
    for (int i = 0; i < 10; i++) {
        quarter_round_vec(x, 0, 4, 8, 12);
        quarter_round_vec(x, 1, 5, 9, 13);
        quarter_round_vec(x, 2, 6, 10, 14);
        quarter_round_vec(x, 3, 7, 11, 15);
        quarter_round_vec(x, 0, 5, 10, 15);
        quarter_round_vec(x, 1, 6, 11, 12);
        quarter_round_vec(x, 2, 7, 8, 13);
        quarter_round_vec(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i += 4) {
        chacha_vec ab_low = zip_low(x[i] + s[i], x[i + 1] + s[i + 1]);
        chacha_vec cd_low = zip_low(x[i + 2] + s[i + 2], x[i + 3] + s[i + 3]);
        chacha_vec ab_high = zip_high(x[i] + s[i], x[i + 1] + s[i + 1]);
        chacha_vec cd_high = zip_high(x[i + 2] + s[i + 2], x[i + 3] + s[i + 3]);
        size_t at = 4 * (size_t)i;
        xor16(in + at, out + at, __builtin_shufflevector(ab_low, cd_low, 0, 1, 4, 5));
        xor16(in + at + 64, out + at + 64, __builtin_shufflevector(ab_low, cd_low, 2, 3, 6, 7));
        xor16(in + at + 128, out + at + 128, __builtin_shufflevector(ab_high, cd_high, 0, 1, 4, 5));
        xor16(in + at + 192, out + at + 192, __builtin_shufflevector(ab_high, cd_high, 2, 3, 6, 7));
    }
    state[CHACHA_COUNTER] += 4;
}

#endif /* CHACHA_VECTORS */

void mbedtls_chacha20_init(mbedtls_chacha20_context *ctx)
{
    mbedtls_platform_zeroize(ctx, sizeof *ctx);
    ctx->keystream_used = CHACHA_BLOCK;
}

void mbedtls_chacha20_free(mbedtls_chacha20_context *ctx)
{
    if (ctx != NULL)
        mbedtls_platform_zeroize(ctx, sizeof *ctx);
}

int mbedtls_chacha20_setkey(mbedtls_chacha20_context *ctx, const unsigned char key[32])
{
    /* "expand 32-byte k" */
    ctx->state[0] = 0x61707865u;
    ctx->state[1] = 0x3320646eu;
    ctx->state[2] = 0x79622d32u;
    ctx->state[3] = 0x6b206574u;
    for (int i = 0; i < 8; i++)
        ctx->state[4 + i] = load32_le(key + 4 * i);
    return 0;
}

int mbedtls_chacha20_starts(mbedtls_chacha20_context *ctx, const unsigned char nonce[12],
                            uint32_t counter)
{
    ctx->state[CHACHA_COUNTER] = counter;
    for (int i = 0; i < 3; i++)
        ctx->state[13 + i] = load32_le(nonce + 4 * i);
    mbedtls_platform_zeroize(ctx->keystream, sizeof ctx->keystream);
    ctx->keystream_used = CHACHA_BLOCK;
    return 0;
}

int mbedtls_chacha20_update(mbedtls_chacha20_context *ctx, size_t size, const unsigned char *input,
                            unsigned char *output)
{
    size_t done = 0;
    /* what is left of the last block's keystream */
    while (done < size && ctx->keystream_used < CHACHA_BLOCK) {
        output[done] = (unsigned char)(input[done] ^ ctx->keystream[ctx->keystream_used++]);
        done++;
    }
#if defined(CHACHA_VECTORS)
    for (; size - done >= 4 * CHACHA_BLOCK; done += 4 * CHACHA_BLOCK)
        xor_blocks_vec(ctx->state, input + done, output + done);
#endif
    for (; size - done >= CHACHA_BLOCK; done += CHACHA_BLOCK)
        xor_block_scalar(ctx->state, input + done, output + done);
    if (done < size) { /* a part of one more block: keep the rest of its keystream */
        next_keystream(ctx->state, ctx->keystream);
        ctx->keystream_used = 0;
        while (done < size) {
            output[done] = (unsigned char)(input[done] ^ ctx->keystream[ctx->keystream_used++]);
            done++;
        }
    }
    return 0;
}

int mbedtls_chacha20_crypt(const unsigned char key[32], const unsigned char nonce[12],
                           uint32_t counter, size_t size, const unsigned char *input,
                           unsigned char *output)
{
    mbedtls_chacha20_context ctx;
    mbedtls_chacha20_init(&ctx);
    int ret = mbedtls_chacha20_setkey(&ctx, key);
    if (ret == 0)
        ret = mbedtls_chacha20_starts(&ctx, nonce, counter);
    if (ret == 0)
        ret = mbedtls_chacha20_update(&ctx, size, input, output);
    mbedtls_chacha20_free(&ctx);
    return ret;
}

#endif /* MBEDTLS_CHACHA20_ALT */
