/*
 * port_lwip_start.c - brings lwIP up for countly-sync: tcpip_thread, then
 * one Ethernet interface on a tap device (the unix port's tapif driver,
 * which reads frames in its own thread) with a static IPv4 address.
 */
#include "port_lwip.h"
#include "port_posix_errno.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lwip/dns.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

/* The one interface; lwIP keeps a pointer to it for the process's life. */
static struct netif tap_netif;
static const char *bad_setting;

const char *port_lwip_bad_setting(void)
{
    return bad_setting;
}

/* Parses text as an IPv4 address; on failure remembers which setting. */
static int parse_ip4(const char *text, const char *name, ip4_addr_t *addr)
{
    if (text != NULL && ip4addr_aton(text, addr))
        return 1;
    bad_setting = name;
    return 0;
}

/* tapif exits the process when it cannot open the device: ask first. */
static port_status tun_usable(void)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return port_posix_status_from_errno(errno);
    (void)close(fd);
    return PORT_OK;
}

static void set_dns_server(const ip4_addr_t *server)
{
#if LWIP_DNS
    ip_addr_t addr;
    ip_addr_copy_from_ip4(addr, *server);
    dns_setserver(0, &addr);
#else
    (void)server;
#endif
}

port_status port_lwip_start(const port_lwip_config *config)
{
    ip4_addr_t addr, netmask, gateway, dns;
    bad_setting = NULL;
    if (!parse_ip4(config->address, "address", &addr) ||
        !parse_ip4(config->netmask, "netmask", &netmask) ||
        !parse_ip4(config->gateway, "gateway", &gateway) || !parse_ip4(config->dns, "dns", &dns))
        return PORT_ERR_IO;
    port_status st = tun_usable();
    if (st != PORT_OK)
        return st;
    /* tapif attaches to this existing device instead of creating tap0 and
     * configuring it with ifconfig. */
    if (setenv("PRECONFIGURED_TAPIF", config->tap_name, 1) != 0)
        return PORT_ERR_IO;

    tcpip_init(NULL, NULL);
    LOCK_TCPIP_CORE();
    struct netif *up =
        netif_add(&tap_netif, &addr, &netmask, &gateway, NULL, tapif_init, tcpip_input);
    if (up != NULL) {
        netif_set_default(&tap_netif);
        netif_set_up(&tap_netif);
        set_dns_server(&dns);
    }
    UNLOCK_TCPIP_CORE();
    return up != NULL ? PORT_OK : PORT_ERR_IO;
}
