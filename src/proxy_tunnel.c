/*
 * proxy_tunnel.c - a socket through an HTTP CONNECT proxy (see
 * proxy_tunnel.h).
 */
#include "proxy_tunnel.h"

#include <stdio.h>
#include <string.h>

/* Sends the whole CONNECT request. */
static port_io send_all(port_socket *sock, const char *buf, size_t len, uint32_t timeout_ms)
{
    port_io io = {PORT_IO_DATA, 0, 0};
    size_t sent = 0;
    while (sent < len) {
        io = port_net_send(sock, (const uint8_t *)buf + sent, len - sent, timeout_ms);
        if (io.kind != PORT_IO_DATA)
            return io;
        sent += io.n;
    }
    return io;
}

/* A transfer with the proxy that did not move bytes: why, in words. */
static transport_status io_failed(const proxy_tunnel *t, port_io io, const char *during,
                                  uint32_t timeout_ms, char *detail, size_t cap)
{
    const char *who = t->server.shown;
    switch (io.kind) {
    case PORT_IO_CLOSED:
        (void)snprintf(detail, cap, "the proxy %s closed the connection %s", who, during);
        return TRANSPORT_CLOSED;
    case PORT_IO_TIMEOUT:
        (void)snprintf(detail, cap, "the proxy %s did not answer within %lu ms %s", who,
                       (unsigned long)timeout_ms, during);
        return TRANSPORT_TIMEOUT;
    case PORT_IO_DATA:
    case PORT_IO_ERROR:
        break;
    }
    (void)snprintf(detail, cap, "connection to the proxy %s failed %s: %s", who, during,
                   port_os_error_text(io.os_error));
    return TRANSPORT_ERR_IO;
}

/* 1 for an answer that says the proxy could not reach the server just now
 * (500, 502 Bad Gateway, 503, 504 Gateway Timeout): a later try may get
 * through, as with a server that refused the connection. 501 (no CONNECT)
 * and the 4xx refusals will not change. */
static int proxy_unreachable_now(int status_code)
{
    return status_code == 500 || status_code == 502 || status_code == 503 || status_code == 504;
}

/* The proxy's answer to CONNECT, judged: 2xx opens the tunnel; a 5xx that
 * may heal is a connection failure (retried), any other a refusal. */
static transport_status judge_reply(const proxy_tunnel *t, const char *host, uint16_t port,
                                    char *detail, size_t cap)
{
    const proxy_reply *r = &t->reply;
    int v6 = strchr(host, ':') != NULL;
    if (r->status_code >= 200 && r->status_code <= 299)
        return TRANSPORT_OK;
    if (proxy_unreachable_now(r->status_code)) {
        (void)snprintf(detail, cap, "the proxy %s could not reach %s%s%s:%u (%d%s%s)",
                       t->server.shown, v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port,
                       r->status_code, r->reason[0] != '\0' ? " " : "", r->reason);
        return TRANSPORT_ERR_CONNECT;
    }
    const char *advice = "";
    if (r->status_code == 407)
        advice = t->server.has_credentials ? ": check the proxy credentials"
                                           : ": check the proxy credentials (none were given: "
                                             "http://user:password@host:port)";
    (void)snprintf(detail, cap, "the proxy %s refused the tunnel to %s%s%s:%u (%d%s%s)%s",
                   t->server.shown, v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port,
                   r->status_code, r->reason[0] != '\0' ? " " : "", r->reason, advice);
    return TRANSPORT_ERR_PROXY;
}

/* Reads the answer head; bytes after it on a 2xx would belong to the
 * server, which never speaks first in TLS: a proxy that sends them is
 * refused rather than losing them. */
static transport_status read_reply(proxy_tunnel *t, port_socket *sock, uint32_t timeout_ms,
                                   char *detail, size_t cap)
{
    uint8_t buf[256];
    proxy_reply_init(&t->reply);
    for (;;) {
        port_io io = port_net_recv(sock, buf, sizeof buf, timeout_ms);
        if (io.kind != PORT_IO_DATA)
            return io_failed(t, io, "before answering CONNECT", timeout_ms, detail, cap);
        size_t used = 0;
        proxy_status ps = proxy_reply_feed(&t->reply, buf, io.n, &used);
        if (ps == PROXY_NEED_MORE)
            continue;
        if (ps != PROXY_OK) {
            (void)snprintf(detail, cap, "the proxy %s answered CONNECT with something else: %s",
                           t->server.shown, proxy_strerror(ps));
            return TRANSPORT_ERR_PROXY;
        }
        if (used < io.n && t->reply.status_code / 100 == 2) {
            (void)snprintf(detail, cap, "the proxy %s sent data of its own after accepting CONNECT",
                           t->server.shown);
            return TRANSPORT_ERR_PROXY;
        }
        return TRANSPORT_OK;
    }
}

/* Connects to the proxy itself; its words name it as the proxy. */
static transport_status reach_proxy(proxy_tunnel *t, port_socket *sock, uint32_t timeout_ms,
                                    char *detail, size_t cap)
{
    char why[URL_HOST_MAX + 96];
    transport_status ts =
        transport_connect_socket(sock, t->server.host, t->server.port, timeout_ms, why, sizeof why);
    if (ts != TRANSPORT_OK)
        (void)snprintf(detail, cap, "cannot reach the proxy %s: %s", t->server.shown, why);
    return ts;
}

transport_status proxy_tunnel_connect(proxy_tunnel *t, port_socket *sock, const char *host,
                                      uint16_t port, uint32_t timeout_ms, char *detail, size_t cap)
{
    size_t len = 0;
    if (t == NULL || !t->server.enabled)
        return transport_connect_socket(sock, host, port, timeout_ms, detail, cap);
    detail[0] = '\0';
    if (proxy_connect_request(&t->server, host, port, t->request, sizeof t->request, &len) !=
        PROXY_OK) {
        (void)snprintf(detail, cap, "%s", proxy_strerror(PROXY_ERR_REQUEST_LONG));
        return TRANSPORT_ERR_PROXY;
    }
    transport_status ts = reach_proxy(t, sock, timeout_ms, detail, cap);
    if (ts == TRANSPORT_OK) {
        port_io io = send_all(sock, t->request, len, timeout_ms);
        ts = io.kind == PORT_IO_DATA
                 ? read_reply(t, sock, timeout_ms, detail, cap)
                 : io_failed(t, io, "while CONNECT was sent", timeout_ms, detail, cap);
    }
    memset(t->request, 0, len); /* it held the credentials */
    if (ts == TRANSPORT_OK)
        ts = judge_reply(t, host, port, detail, cap);
    if (ts != TRANSPORT_OK)
        port_net_close(sock);
    return ts;
}
