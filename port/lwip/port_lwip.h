/*
 * port_lwip.h - starting the lwIP port (port/lwip/): what the POSIX port
 * does not need. The network functions of include/port.h work once
 * port_lwip_start has returned PORT_OK; the stack then runs until the
 * process ends.
 */
#ifndef COUNTLY_SYNC_PORT_LWIP_H
#define COUNTLY_SYNC_PORT_LWIP_H

#include "port.h"

/* The interface: a tap device that already exists (`ip tuntap add`) and a
 * static IPv4 configuration, all as dotted-quad text. */
typedef struct {
    const char *tap_name; /* e.g. "tap0" */
    const char *address;  /* this host, e.g. "192.0.2.2" */
    const char *netmask;  /* e.g. "255.255.255.0" */
    const char *gateway;  /* default route, e.g. "192.0.2.1" */
    const char *dns;      /* DNS server (ignored without LWIP_DNS) */
} port_lwip_config;

/* Which setting port_lwip_start refused (NULL when it did not). */
const char *port_lwip_bad_setting(void);

/* Starts tcpip_thread and brings the tap interface up with config.
 * PORT_ERR_IO: a setting is not an IPv4 address (port_lwip_bad_setting);
 * PORT_ERR_NOENT/PORT_ERR_ACCESS: /dev/net/tun is missing or not ours. */
port_status port_lwip_start(const port_lwip_config *config);

/* 32 random bits from port_entropy (lwIP's LWIP_RAND and TCP ISN hook). */
uint32_t port_lwip_rand32(void);

#endif /* COUNTLY_SYNC_PORT_LWIP_H */
