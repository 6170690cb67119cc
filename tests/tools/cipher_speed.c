/*
 * cipher_speed - the ceiling our TLS stack can reach: mbedTLS's own AEAD
 * throughput (this build, this config) over 16 KiB records, as TLS uses
 * them. Prints MB/s for ChaCha20-Poly1305, AES-128-GCM and AES-256-GCM.
 *
 *   cipher_speed [MB]   (default 100)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mbedtls/chachapoly.h"
#include "mbedtls/gcm.h"
#include "mbedtls/memory_buffer_alloc.h"

#define RECORD 16384

static unsigned char arena[16384];
static unsigned char record[RECORD];
static unsigned char sealed[RECORD];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned long mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    unsigned long records = mb * 1048576ul / RECORD;
    unsigned char key[32] = {1};
    unsigned char iv[12] = {2};
    unsigned char tag[16];

    mbedtls_memory_buffer_alloc_init(arena, sizeof arena);

    mbedtls_chachapoly_context cp;
    mbedtls_chachapoly_init(&cp);
    mbedtls_chachapoly_setkey(&cp, key);
    double t0 = now_s();
    for (unsigned long i = 0; i < records; i++) {
        iv[0] = (unsigned char)i;
        mbedtls_chachapoly_encrypt_and_tag(&cp, RECORD, iv, NULL, 0, record, sealed, tag);
    }
    double t1 = now_s();
    mbedtls_chachapoly_free(&cp);

    double gcm_mb_s[2];
    for (int k = 0; k < 2; k++) {
        mbedtls_gcm_context gcm;
        mbedtls_gcm_init(&gcm);
        mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, k == 0 ? 128 : 256);
        double t2 = now_s();
        for (unsigned long i = 0; i < records; i++) {
            iv[0] = (unsigned char)i;
            mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, RECORD, iv, sizeof iv, NULL, 0,
                                      record, sealed, sizeof tag, tag);
        }
        double t3 = now_s();
        mbedtls_gcm_free(&gcm);
        gcm_mb_s[k] = (double)mb / (t3 - t2);
    }

    printf("mbedtls chacha20-poly1305: %.0f MB/s\n", (double)mb / (t1 - t0));
    printf("mbedtls aes-128-gcm: %.0f MB/s\n", gcm_mb_s[0]);
    printf("mbedtls aes-256-gcm: %.0f MB/s\n", gcm_mb_s[1]);
    return 0;
}
