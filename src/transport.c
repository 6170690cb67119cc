/*
 * transport.c - words for transport statuses (see transport.h).
 */
#include "transport.h"

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
    }
    return "unknown transport status";
}
