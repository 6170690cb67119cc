/*
 * tls.h - TLS client over the port layer (mbedTLS 3.6).
 *
 * The caller allocates a tls_client (it holds every mbedTLS context and the
 * socket) and calls tls_init once; tls_transport() then gives the
 * transport table that the HTTP client uses. Certificates are always
 * verified against the trusted CAs, with SNI and host-name checks on,
 * TLS 1.2 minimum, unless the options say verify = 0 in so many words.
 *
 * Trusted CAs are looked up on demand while a chain is verified: the PEM
 * bundle (or every file of a CA folder) is read through the port in a
 * fixed buffer and only certificates whose subject matches the issuer
 * being looked for are parsed into memory. A 200 KB system bundle thus
 * costs a few KiB of arena, not hundreds.
 *
 * mbedTLS allocates only from an arena the caller owns (a static buffer of
 * TLS_ARENA_SIZE bytes in the agent struct), handed over once per process
 * by tls_platform_init (MBEDTLS_MEMORY_BUFFER_ALLOC_C).
 */
#ifndef COUNTLY_SYNC_TLS_H
#define COUNTLY_SYNC_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ssl.h"
#include "options.h"
#include "port.h"
#include "proxy_tunnel.h"
#include "tls_ca.h"
#include "transport.h"

typedef enum {
    TLS_OK = 0,
    TLS_ERR_PLATFORM, /* PSA crypto or RNG could not start */
    TLS_ERR_CONFIG,   /* mbedTLS refused the configuration */
    TLS_ERR_CA_PATH,  /* the CA file or folder cannot be used; detail says why */
    TLS_ERR_VERSION   /* unknown min/max TLS version */
} tls_status;

typedef struct {
    const char *ca_path;  /* PEM file or folder of PEM files; NULL = found by tls_ca_find */
    proxy_tunnel *tunnel; /* connect through its proxy; NULL = directly */
    int verify;           /* 1 = verify chain and host name (the default) */
    int min_minor;        /* lowest TLS 1.x accepted: 2 or 3 (default 2) */
    int max_minor;        /* highest TLS 1.x offered: 2 or 3 (default 3) */
} tls_options;

typedef struct {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    port_socket sock;
    proxy_tunnel *tunnel; /* NULL: connect directly */
    uint32_t timeout_ms;  /* current wait bound for the bio callbacks */
    int handshake_done;
    int verify;
    char host[URL_HOST_MAX + 1];
    uint32_t verify_flags;            /* mbedTLS verification flags of the last handshake */
    char peer_name[URL_HOST_MAX + 1]; /* first DNS name of the server's certificate */
    transport_status bio_status;      /* why the last socket call under mbedTLS failed */
    int bio_os_error;                 /* and the system's error number it recorded */
    int last_mbedtls_error;           /* mbedTLS code of the last failed handshake */
    int tls12_only;                   /* the server needed the TLS 1.2 retry (see tls.c) */
    char detail[TLS_DETAIL_MAX];
    const char *ca_source; /* where ca.path came from: "ca_file", "SSL_CERT_FILE", ... */
    tls_ca_store ca;       /* trusted CAs, looked up on demand */
} tls_client;

/* Words for a status. */
const char *tls_strerror(tls_status status);

/* Gives mbedTLS its arena and starts PSA crypto. Once per process; the
 * arena must be 16-byte aligned (_Alignas(16)) and outlive every tls_client. */
tls_status tls_platform_init(unsigned char *arena, size_t len);

/* Peak and current bytes in use in the mbedTLS arena. */
void tls_arena_stats(size_t *peak, size_t *current);

/* Options with every default filled in. */
tls_options tls_default_options(void);

/* Sets a client up with opts; no network yet. */
tls_status tls_init(tls_client *client, const tls_options *opts);

/* Frees the client's mbedTLS state. */
void tls_free(tls_client *client);

/* The transport table over this client. */
transport tls_transport(tls_client *client);

/* Negotiated protocol and suite of the open connection, e.g. "TLSv1.3",
 * "TLS1-3-AES-256-GCM-SHA384"; "" when not connected. */
const char *tls_version(const tls_client *client);
const char *tls_suite(const tls_client *client);

#endif /* COUNTLY_SYNC_TLS_H */
