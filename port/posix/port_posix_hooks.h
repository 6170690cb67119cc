/*
 * port_posix_hooks.h - test hooks of the POSIX port, compiled only with
 * -DPORT_TEST_HOOKS (the test binary build/asan/bin/countly-sync-hooks,
 * `make hooks`); without it every hook is an empty macro and the shipped
 * binary holds none. Each hook does nothing unless its environment
 * variable is set.
 *
 * COUNTLY_SYNC_CRASH_AT=N   crash point N raises SIGKILL. The durable
 *     operations of the process - port_file_sync, port_file_truncate,
 *     port_file_rename and port_dir_sync (port_file_replace is a rename and
 *     a folder sync: two operations) - are numbered 1, 2, 3, ... in the
 *     order they are called; operation k has two crash points: 2k-1 just
 *     before it and 2k just after it (whether or not it succeeded). Before
 *     dying the process writes one line to stderr:
 *     "countly-sync-hooks: crash point N: before|after OP #k (PATH)",
 *     OP being fsync, truncate, rename or dirsync.
 * COUNTLY_SYNC_FAIL_AT=K   durable operation K (numbered as above) fails
 *     with EIO instead of running, as a full or broken disk would make it:
 *     every failure path of the durable operations can be reached, one
 *     run each. Stderr: "countly-sync-hooks: failing OP #K (PATH)".
 * COUNTLY_SYNC_CRASH_WRITE=N   the N-th port_file_write of the process
 *     writes the first half of its bytes (rounded down), then the process
 *     raises SIGKILL: a write torn in the middle (a partial row). Stderr:
 *     "countly-sync-hooks: torn write #N: B of L bytes (PATH)".
 * COUNTLY_SYNC_FAKE_SLEEP=1 port_sleep_ms returns at once and
 *     port_clock_ms moves on by the time that was asked for (timeouts and
 *     the run's elapsed time stay consistent); the network waits for real.
 * COUNTLY_SYNC_CLOCK_STEP=MS   every port_net_send moves port_clock_ms on
 *     by MS: each request seems to take that long (a slow server, without
 *     the wait). With MS >= AGENT_COMMIT_INTERVAL_MS every page of users is
 *     committed on its own, as on a server that answers a page a second.
 * COUNTLY_SYNC_SLEEP_LOG=FILE   every port_sleep_ms(ms) appends "ms\n" to
 *     FILE (with or without the fake sleep): the waits the program asked for.
 * COUNTLY_SYNC_CPUS=N   port_cpu_count says N: 1 makes the agent read
 *     bodies on one thread on any machine, 2 or more lets it use two.
 */
#ifndef COUNTLY_SYNC_PORT_POSIX_HOOKS_H
#define COUNTLY_SYNC_PORT_POSIX_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef PORT_TEST_HOOKS

/* A crash point around durable operation op on path, or on the open file
 * fd when path is NULL (after: 0 just before the operation, 1 just after it). */
void port_hook_durable(const char *op, int fd, const char *path, int after);

/* Called just after the "before" crash point of a durable operation: 1
 * when this operation is to fail (errno is then EIO). */
int port_hook_fail(const char *op, int fd, const char *path);

/* Called by port_file_write before it writes: may write part of buf to fd and die. */
void port_hook_write(int fd, const void *buf, size_t len);

/* Called by port_sleep_ms: 1 when the sleep is faked (nothing to wait). */
int port_hook_sleep(uint32_t ms);

/* Called by port_net_send: the clock step. */
void port_hook_net_send(void);

/* What port_clock_ms adds to the monotonic clock: the faked sleeps and steps. */
uint64_t port_hook_clock_offset(void);

/* The processor count port_cpu_count is to say; 0 when not forced. */
unsigned port_hook_cpus(void);

#define PORT_HOOK_DURABLE(op, fd, path, after) port_hook_durable((op), (fd), (path), (after))
#define PORT_HOOK_FAIL(op, fd, path)           port_hook_fail((op), (fd), (path))
#define PORT_HOOK_WRITE(fd, buf, len)          port_hook_write((fd), (buf), (len))
#define PORT_HOOK_SLEEP(ms)                    port_hook_sleep(ms)
#define PORT_HOOK_NET_SEND()                   port_hook_net_send()
#define PORT_HOOK_CLOCK_OFFSET()               port_hook_clock_offset()
#define PORT_HOOK_CPUS()                       port_hook_cpus()

#else

#define PORT_HOOK_DURABLE(op, fd, path, after) ((void)0)
#define PORT_HOOK_FAIL(op, fd, path)           0
#define PORT_HOOK_WRITE(fd, buf, len)          ((void)0)
#define PORT_HOOK_SLEEP(ms)                    0
#define PORT_HOOK_NET_SEND()                   ((void)0)
#define PORT_HOOK_CLOCK_OFFSET()               0u
#define PORT_HOOK_CPUS()                       0u

#endif /* PORT_TEST_HOOKS */

#endif /* COUNTLY_SYNC_PORT_POSIX_HOOKS_H */
