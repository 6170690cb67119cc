/*
 * port_posix_clock.c - the port's time base on POSIX: the monotonic clock
 * and sleeping (clock_gettime, nanosleep). A network stack with its own
 * time base (port/lwip/, sys_now) replaces this file.
 */
#include "port.h"
#include "port_posix_hooks.h"

#include <errno.h>
#include <time.h>

uint64_t port_clock_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + PORT_HOOK_CLOCK_OFFSET();
}

void port_sleep_ms(uint32_t ms)
{
    if (PORT_HOOK_SLEEP(ms))
        return; /* a test build's fake sleep (port_posix_hooks.h) */
    /* in steps of at most a second: a stop signal that another thread took
     * (or that came just before a step) still ends the wait soon */
    while (ms > 0 && port_interrupted() == 0) {
        uint32_t step = ms > 1000u ? 1000u : ms;
        struct timespec ts;
        ts.tv_sec = (time_t)(step / 1000u);
        ts.tv_nsec = (long)(step % 1000u) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR && port_interrupted() == 0) {
        }
        ms -= step;
    }
}
