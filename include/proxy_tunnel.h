/*
 * proxy_tunnel.h - a socket to the server, directly or through an HTTP
 * CONNECT proxy.
 *
 * The transports (tls.h, tcp_transport.h) open their socket here. Without
 * a proxy this is transport_connect_socket. With one, it connects to the
 * proxy, sends "CONNECT host:port" (with Basic credentials when the proxy
 * URL has them), reads the proxy's answer head (proxy.h's parser) and, on
 * 2xx, leaves the socket open as a byte stream to the server: TLS then
 * runs inside it exactly as on a direct connection, checking the server's
 * name and certificate, never the proxy's. Every reconnect of the HTTP
 * client comes through here, so it crosses the proxy again.
 *
 * Failures, as transport statuses with one line of detail:
 *   TRANSPORT_ERR_RESOLVE, _CONNECT, TIMEOUT  the proxy cannot be reached
 *                                             (as for a server: retried)
 *   TRANSPORT_ERR_CONNECT                     it answered CONNECT with 500,
 *                                             502, 503 or 504: it could not
 *                                             reach the server just now
 *                                             (retried)
 *   TRANSPORT_CLOSED, TIMEOUT                 it hung up or went quiet
 *                                             before answering CONNECT
 *   TRANSPORT_ERR_PROXY                       it refused the tunnel (407,
 *                                             403, 501, ...) or its answer
 *                                             is not HTTP: not retried
 * The detail shows the proxy as proxy_server.shown: never its password.
 *
 * The caller owns a proxy_tunnel (the request and answer buffers) and sets
 * its server once; one tunnel serves one transport at a time.
 */
#ifndef COUNTLY_SYNC_PROXY_TUNNEL_H
#define COUNTLY_SYNC_PROXY_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "port.h"
#include "proxy.h"
#include "transport.h"

typedef struct {
    proxy_server server; /* server.enabled 0: connect directly */
    proxy_reply reply;
    char request[PROXY_REQUEST_MAX + 1];
} proxy_tunnel;

/* Opens sock to host:port within timeout_ms, through tunnel's proxy when
 * tunnel is not NULL and its server is enabled; on failure writes one line
 * into detail (cap bytes). */
transport_status proxy_tunnel_connect(proxy_tunnel *tunnel, port_socket *sock, const char *host,
                                      uint16_t port, uint32_t timeout_ms, char *detail, size_t cap);

#endif /* COUNTLY_SYNC_PROXY_TUNNEL_H */
