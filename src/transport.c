/*
 * transport.c - words for transport statuses (see transport.h).
 */
#include "transport.h"

#include <stdio.h>

const char *transport_strerror(transport_status status)
{
    switch (status) {
    case TRANSPORT_OK:
        return "ok";
    case TRANSPORT_CLOSED:
        return "connection closed by the server";
    case TRANSPORT_TIMEOUT:
        return "timed out";
    case TRANSPORT_ERR_RESOLVE:
        return "host name did not resolve";
    case TRANSPORT_ERR_CONNECT:
        return "connection refused or unreachable";
    case TRANSPORT_ERR_CERT:
        return "server certificate refused";
    case TRANSPORT_ERR_TLS:
        return "TLS failure";
    case TRANSPORT_ERR_IO:
        return "connection failed";
    case TRANSPORT_ERR_PROXY:
        return "the proxy refused the tunnel";
    }
    return "unknown transport status";
}

transport_status transport_connect_socket(port_socket *sock, const char *host, uint16_t port,
                                          uint32_t timeout_ms, char *detail, size_t cap)
{
    port_status st = port_net_connect(sock, host, port, timeout_ms);
    detail[0] = '\0';
    if (st == PORT_OK)
        return TRANSPORT_OK;
    if (st == PORT_ERR_TIMEOUT)
        (void)snprintf(detail, cap, "connect to %s:%u timed out after %lu ms", host, (unsigned)port,
                       (unsigned long)timeout_ms);
    else
        (void)snprintf(detail, cap, "connect to %s:%u: %s", host, (unsigned)port,
                       port_strerror(st));
    if (st == PORT_ERR_RESOLVE)
        return TRANSPORT_ERR_RESOLVE;
    return st == PORT_ERR_TIMEOUT ? TRANSPORT_TIMEOUT : TRANSPORT_ERR_CONNECT;
}
