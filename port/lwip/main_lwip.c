/*
 * main_lwip.c - the lwIP port's port_start (port.h): brings the stack up on
 * a tap device before src/main.c runs the agent.
 *
 * The interface comes from the environment (defaults in brackets):
 *   COUNTLY_LWIP_TAP      existing tap device to attach to      [tap0]
 *   COUNTLY_LWIP_ADDRESS  this host's IPv4 address              [192.0.2.2]
 *   COUNTLY_LWIP_NETMASK                                        [255.255.255.0]
 *   COUNTLY_LWIP_GATEWAY  default route                         [192.0.2.1]
 *   COUNTLY_LWIP_DNS      DNS server (builds with LWIP_DNS)     [the gateway]
 */
#include <string.h>

#include "exit_codes.h"
#include "port.h"
#include "port_lwip.h"

/* The environment variable name's value, or fallback when unset or empty. */
static const char *setting(const char *name, const char *fallback)
{
    const char *value = port_getenv(name);
    return (value != NULL && value[0] != '\0') ? value : fallback;
}

static void say(const char *text)
{
    port_console_err(text, strlen(text));
}

int port_start(void)
{
    port_lwip_config net;
    net.tap_name = setting("COUNTLY_LWIP_TAP", "tap0");
    net.address = setting("COUNTLY_LWIP_ADDRESS", "192.0.2.2");
    net.netmask = setting("COUNTLY_LWIP_NETMASK", "255.255.255.0");
    net.gateway = setting("COUNTLY_LWIP_GATEWAY", "192.0.2.1");
    net.dns = setting("COUNTLY_LWIP_DNS", net.gateway);

    port_status st = port_lwip_start(&net);
    if (st == PORT_OK)
        return 0;
    say("countly-sync: lwIP: ");
    if (port_lwip_bad_setting() != NULL) {
        say(port_lwip_bad_setting());
        say(" is not an IPv4 address (COUNTLY_LWIP_* variables)\n");
        return AGENT_EXIT_CONFIG;
    }
    say("cannot start the stack on ");
    say(net.tap_name);
    say(": /dev/net/tun: ");
    say(port_last_os_error());
    say(" (the lwIP build needs a tap device: root or CAP_NET_ADMIN)\n");
    return AGENT_EXIT_UNAVAILABLE;
}
