/*
 * tcp_transport.c - plain TCP transport over the port (see tcp_transport.h).
 */
#include "tcp_transport.h"

#include <stdio.h>

static transport_status tcp_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    tcp_transport_ctx *c = ctx;
    return proxy_tunnel_connect(c->tunnel, &c->sock, host, port, timeout_ms, c->detail,
                                sizeof c->detail);
}

/* Maps a port transfer onto a transport result. */
static transport_result from_io(tcp_transport_ctx *c, port_io io, const char *during)
{
    transport_result r = {TRANSPORT_OK, io.n};
    switch (io.kind) {
    case PORT_IO_DATA:
        return r;
    case PORT_IO_CLOSED:
        r.status = TRANSPORT_CLOSED;
        return r;
    case PORT_IO_TIMEOUT:
        r.status = TRANSPORT_TIMEOUT;
        (void)snprintf(c->detail, sizeof c->detail, "timed out %s", during);
        return r;
    case PORT_IO_ERROR:
        break;
    }
    r.status = TRANSPORT_ERR_IO;
    (void)snprintf(c->detail, sizeof c->detail, "connection failed %s: %s", during,
                   port_os_error_text(io.os_error));
    return r;
}

static transport_result tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    tcp_transport_ctx *c = ctx;
    return from_io(c, port_net_send(&c->sock, buf, len, timeout_ms), "while sending");
}

static transport_result tcp_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    tcp_transport_ctx *c = ctx;
    return from_io(c, port_net_recv(&c->sock, buf, cap, timeout_ms), "while receiving");
}

static void tcp_close(void *ctx)
{
    tcp_transport_ctx *c = ctx;
    port_net_close(&c->sock);
}

static const char *tcp_detail(void *ctx)
{
    const tcp_transport_ctx *c = ctx;
    return c->detail;
}

static const transport_ops TCP_OPS = {tcp_connect, tcp_send, tcp_recv, tcp_close, tcp_detail};

transport tcp_transport(tcp_transport_ctx *ctx)
{
    transport t;
    port_socket_init(&ctx->sock);
    ctx->tunnel = NULL;
    ctx->detail[0] = '\0';
    t.ops = &TCP_OPS;
    t.ctx = ctx;
    return t;
}
