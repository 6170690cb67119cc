/*
 * port_posix_errno.h - shared by the ports that run on a POSIX C library
 * (port/posix, port/lwip with LWIP_ERRNO_STDINCLUDE): errno to port_status.
 */
#ifndef COUNTLY_SYNC_PORT_POSIX_ERRNO_H
#define COUNTLY_SYNC_PORT_POSIX_ERRNO_H

#include "port.h"

/* The port_status for an errno value (PORT_ERR_IO when none fits). */
port_status port_posix_status_from_errno(int err);

#endif /* COUNTLY_SYNC_PORT_POSIX_ERRNO_H */
