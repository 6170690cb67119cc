/*
 * arch/cc.h - lwIP's compiler and platform definitions for countly-sync on
 * a POSIX C library (Linux/glibc or musl: lwIP's unix port runs the stack).
 * Replaces contrib/ports/unix/port/include/arch/cc.h, which comes later on
 * the include path; sys_arch.h and the tap driver still come from there.
 */
#ifndef COUNTLY_SYNC_LWIP_ARCH_CC_H
#define COUNTLY_SYNC_LWIP_ARCH_CC_H

#include <stdint.h>
/* struct timeval for SO_RCVTIMEO/SO_SNDTIMEO is the C library's. */
#include <sys/time.h>

/* The unix port's tap driver and sys_arch select their Linux code with this. */
#if defined(__linux__)
#define LWIP_UNIX_LINUX
#endif

#define LWIP_TIMEVAL_PRIVATE 0

/* lwIP sets the C library's errno with the C library's values, so the port
 * maps errno the same way on both network stacks. */
#define LWIP_ERRNO_INCLUDE    <errno.h>
#define LWIP_ERRNO_STDINCLUDE 1

/* Critical-section state of sys_arch_protect (the unix port: a mutex depth). */
typedef unsigned int sys_prot_t;

/* Random numbers for local ports, DNS ids and TCP sequence numbers: from the
 * OS's cryptographic source (port_entropy), not rand(). */
uint32_t port_lwip_rand32(void);
#define LWIP_RAND() (port_lwip_rand32())

#endif /* COUNTLY_SYNC_LWIP_ARCH_CC_H */
