/*
 * mbedTLS 3.6 configuration for countly-sync.
 *
 * A TLS client and nothing else: TLS 1.2 and 1.3, ECDHE key exchange on
 * X25519, P-256 and P-384, RSA and ECDSA server certificates, AES-GCM and
 * ChaCha20-Poly1305. Sockets come from the project's port layer (no
 * MBEDTLS_NET_C), randomness from the port's entropy (getrandom on POSIX)
 * through PSA's external RNG hook, and every allocation from a static arena
 * (MBEDTLS_MEMORY_BUFFER_ALLOC_C) owned by the tls module.
 *
 * Each choice carries one line saying why. Selected with
 * -DMBEDTLS_CONFIG_FILE='"countly_sync_mbedtls_config.h"'.
 */
#ifndef COUNTLY_SYNC_MBEDTLS_CONFIG_H
#define COUNTLY_SYNC_MBEDTLS_CONFIG_H

/* ---- System support ---------------------------------------------------- */
#define MBEDTLS_HAVE_ASM            /* faster bignum on x86_64 and ARM */
#define MBEDTLS_HAVE_TIME           /* certificate validity needs a clock */
#define MBEDTLS_HAVE_TIME_DATE      /* ... and calendar time to compare to */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY     /* route calloc/free to the static arena */
#define MBEDTLS_NO_PLATFORM_ENTROPY /* never guess /dev/urandom; the port supplies it */
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG /* PSA draws from the port's entropy */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C   /* the static arena allocator */
#define MBEDTLS_MEMORY_DEBUG        /* arena peak statistics for the footprint report */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8 /* the default 4 misaligns 64-bit fields (UBSan) */

/* ---- Crypto primitives --------------------------------------------------- */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES      /* tables in .rodata, not 8 KiB of RAM */
#define MBEDTLS_AESNI_C             /* AES-NI + PCLMUL on x86_64 (runtime-detected; no-op elsewhere) */
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_CHACHA20_ALT        /* four blocks at a time: port/mbedtls/chacha20_alt.c */
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C            /* required alongside SHA-256 */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C            /* P-384 chains and *_SHA384 suites */
#define MBEDTLS_SHA512_C            /* SHA-384 is computed by the SHA-512 code */
#define MBEDTLS_SHA1_C              /* some CA roots are still SHA-1 self-signed */
#define MBEDTLS_HKDF_C              /* TLS 1.3 key schedule */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM      /* fast NIST reductions, a little ROM */
#define MBEDTLS_ECP_WINDOW_SIZE 4   /* RAM vs. speed; 4 keeps handshakes quick */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0 /* no large precomputed tables in RAM */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15           /* RSA PKCS#1 v1.5 signatures (TLS 1.2, certificates) */
#define MBEDTLS_PKCS1_V21           /* RSA-PSS (mandatory in TLS 1.3) */
#define MBEDTLS_MPI_MAX_SIZE 512    /* up to RSA-4096 roots */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_BASE64_C            /* PEM CA bundles */
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PSA_CRYPTO_C        /* TLS 1.3 runs on PSA */
#define MBEDTLS_USE_PSA_CRYPTO
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS /* one process, no shared memory: skip the
                                              * 16 KiB per-record input/output copies */

/* ---- X.509 ----------------------------------------------------------------- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK /* look CAs up on demand, not all in RAM */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* ---- TLS ------------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C           /* client only: no server code linked */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE /* middleboxes */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE     /* required by TLS 1.3 in 3.6 */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION    /* SNI, always sent */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH       /* lets small profiles shrink the input buffer */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC

/* Record buffers. The input side must hold a full 16 KiB record unless the
 * server honours max_fragment_length; the output side only carries small GET
 * requests. Overridable by the build (see include/options.h). */
#ifndef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#endif
#ifndef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#endif

/* The suites we offer, fastest first for mbedTLS on our targets (measured
 * end to end from nginx, CPU seconds per 100 MB, docs/tls-suites.md):
 * ChaCha20-Poly1305 leads even on x86_64 with AES-NI (0.31 s against 0.34 s
 * for AES-128-GCM and 0.37 s for AES-256-GCM) and by far more on ARM cores
 * without crypto extensions; AES-128 before AES-256 (fewer rounds). All
 * are AEAD with forward secrecy. */
#define MBEDTLS_SSL_CIPHERSUITES                                 \
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,                     \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,                           \
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,                           \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,       \
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,         \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,             \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,               \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,             \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384

/* Error strings are short and useful in user-facing messages. */
#define MBEDTLS_ERROR_C
/* Debug traces are compiled only into debug builds of the library. */
#ifdef COUNTLY_SYNC_MBEDTLS_DEBUG
#define MBEDTLS_DEBUG_C
#endif

#endif /* COUNTLY_SYNC_MBEDTLS_CONFIG_H */
