/*
 * tcp_transport.h - plain TCP transport over the port layer.
 *
 * Used only for http:// URLs, which countly-sync accepts for loopback
 * addresses alone (a local simulator or an SSH tunnel); everything else
 * goes through tls.h.
 */
#ifndef COUNTLY_SYNC_TCP_TRANSPORT_H
#define COUNTLY_SYNC_TCP_TRANSPORT_H

#include "options.h"
#include "port.h"
#include "proxy_tunnel.h"
#include "transport.h"

typedef struct {
    port_socket sock;
    proxy_tunnel *tunnel; /* NULL (the default): connect directly */
    char detail[URL_HOST_MAX + 96];
} tcp_transport_ctx;

/* Prepares ctx (not connected) and returns its transport table. */
transport tcp_transport(tcp_transport_ctx *ctx);

#endif /* COUNTLY_SYNC_TCP_TRANSPORT_H */
