/*
 * chacha20_alt.h - the ChaCha20 context of countly-sync's own ChaCha20
 * (MBEDTLS_CHACHA20_ALT), included by <mbedtls/chacha20.h>.
 *
 * mbedTLS 3.6's ChaCha20 computes one 64-byte block at a time in portable
 * C; on the gateway's receiving thread it was three quarters of the work of
 * a TLS download. chacha20_alt.c computes four blocks at once in SSE2
 * registers on x86_64 (one block at a time elsewhere), behind the same API, so mbedTLS's
 * ChaCha20-Poly1305 (TLS 1.2 and 1.3) uses it unchanged. The algorithm is RFC 8439's; nothing else
 * differs.
 */
#ifndef COUNTLY_SYNC_CHACHA20_ALT_H
#define COUNTLY_SYNC_CHACHA20_ALT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mbedtls_chacha20_context {
    uint32_t state[16];    /* constants, key, block counter, nonce (RFC 8439 2.3) */
    uint8_t keystream[64]; /* the last block's keystream */
    size_t keystream_used; /* bytes of it already used: 64 when none is left */
} mbedtls_chacha20_context;

#endif /* COUNTLY_SYNC_CHACHA20_ALT_H */
