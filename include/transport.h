/*
 * transport.h - the byte stream under the HTTP client.
 *
 * As in coreHTTP's transport interface, a transport is a table of functions
 * plus an opaque context the caller owns. Two implementations exist: TLS
 * over the port (tls.h) and, for loopback http:// only, plain TCP over the
 * port (tcp_transport.h). Results are explicit: a transfer either moved
 * n > 0 bytes or says CLOSED, TIMEOUT or ERROR.
 */
#ifndef COUNTLY_SYNC_TRANSPORT_H
#define COUNTLY_SYNC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"

typedef enum {
    TRANSPORT_OK = 0,      /* connected / n > 0 bytes moved */
    TRANSPORT_CLOSED,      /* the peer ended the stream */
    TRANSPORT_TIMEOUT,     /* nothing happened within the timeout */
    TRANSPORT_ERR_RESOLVE, /* the host name did not resolve */
    TRANSPORT_ERR_CONNECT, /* TCP connection refused or unreachable (or a proxy's 5xx) */
    TRANSPORT_ERR_CERT,    /* the server's certificate was refused */
    TRANSPORT_ERR_TLS,     /* TLS handshake or record failure */
    TRANSPORT_ERR_IO,      /* reset or other I/O failure */
    TRANSPORT_ERR_PROXY    /* the HTTP proxy refused the tunnel (proxy_tunnel.h) */
} transport_status;

typedef struct {
    transport_status status;
    size_t n; /* bytes moved when status is TRANSPORT_OK */
} transport_result;

typedef struct {
    /* Opens the stream to host:port within timeout_ms. */
    transport_status (*connect)(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms);
    /* Sends up to len bytes. */
    transport_result (*send)(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
    /* Receives up to cap bytes, waiting at most timeout_ms. */
    transport_result (*recv)(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms);
    /* Closes the stream; the transport can connect again afterwards. */
    void (*close)(void *ctx);
    /* Words on the last failure ("" when there is nothing to add). */
    const char *(*detail)(void *ctx);
} transport_ops;

typedef struct {
    const transport_ops *ops;
    void *ctx;
} transport;

/* Words for a transport_status. */
const char *transport_strerror(transport_status status);

/* Opens the TCP stream under a transport through the port; on failure
 * writes one line into detail ("connect to h:p: connection refused"). */
transport_status transport_connect_socket(port_socket *sock, const char *host, uint16_t port,
                                          uint32_t timeout_ms, char *detail, size_t cap);

#endif /* COUNTLY_SYNC_TRANSPORT_H */
