/*
 * port_posix_hooks.c - the POSIX port's test hooks (port_posix_hooks.h).
 * Empty unless compiled with -DPORT_TEST_HOOKS.
 */
#include "port_posix_hooks.h"

#ifdef PORT_TEST_HOOKS

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int env_read;
static unsigned long crash_at;    /* 0: never */
static unsigned long crash_write; /* 0: never */
static unsigned long fail_at;     /* 0: never */
static int fake_sleep;
static unsigned long clock_step; /* ms per port_net_send */
static const char *sleep_log;
static unsigned long ops;     /* durable operations begun */
static unsigned long writes;  /* port_file_write calls */
static uint64_t clock_offset; /* ms of faked sleep and clock steps */
static unsigned long cpus;    /* 0: as the system says */

/* A decimal environment variable; 0 when unset or not a number. */
static unsigned long env_number(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return 0;
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    return (end != NULL && *end == '\0') ? n : 0;
}

static void read_env(void)
{
    if (env_read)
        return;
    env_read = 1;
    crash_at = env_number("COUNTLY_SYNC_CRASH_AT");
    crash_write = env_number("COUNTLY_SYNC_CRASH_WRITE");
    fail_at = env_number("COUNTLY_SYNC_FAIL_AT");
    clock_step = env_number("COUNTLY_SYNC_CLOCK_STEP");
    cpus = env_number("COUNTLY_SYNC_CPUS");
    const char *v = getenv("COUNTLY_SYNC_FAKE_SLEEP");
    fake_sleep = v != NULL && strcmp(v, "1") == 0;
    v = getenv("COUNTLY_SYNC_SLEEP_LOG");
    sleep_log = (v != NULL && *v != '\0') ? v : NULL;
}

static void write_fd(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void say(const char *text)
{
    write_fd(STDERR_FILENO, text, strlen(text));
}

/* The name of the open file fd ("-" when unknown), for the reports. */
static void fd_name(int fd, char *name, size_t cap)
{
    char link[64];
    char got[256];
    (void)snprintf(name, cap, "-");
    (void)snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, got, sizeof got - 1);
    if (n > 0) {
        got[n] = '\0';
        (void)snprintf(name, cap, "%s", got);
    }
}

void port_hook_durable(const char *op, int fd, const char *path, int after)
{
    read_env();
    if (!after)
        ops++;
    unsigned long point = 2 * ops - (after ? 0u : 1u);
    if (crash_at == 0 || point != crash_at)
        return;
    char name[256] = "-";
    if (path == NULL && fd >= 0)
        fd_name(fd, name, sizeof name);
    char line[512];
    (void)snprintf(line, sizeof line, "countly-sync-hooks: crash point %lu: %s %s #%lu (%s)\n",
                   point, after ? "after" : "before", op, ops, path != NULL ? path : name);
    say(line);
    (void)raise(SIGKILL);
}

int port_hook_fail(const char *op, int fd, const char *path)
{
    read_env();
    if (fail_at == 0 || ops != fail_at)
        return 0;
    char name[256] = "-";
    if (path == NULL && fd >= 0)
        fd_name(fd, name, sizeof name);
    char line[512];
    (void)snprintf(line, sizeof line, "countly-sync-hooks: failing %s #%lu (%s)\n", op, ops,
                   path != NULL ? path : name);
    say(line);
    errno = EIO;
    return 1;
}

void port_hook_write(int fd, const void *buf, size_t len)
{
    read_env();
    writes++;
    if (crash_write == 0 || writes != crash_write)
        return;
    char name[256];
    fd_name(fd, name, sizeof name);
    write_fd(fd, buf, len / 2);
    char line[512];
    (void)snprintf(line, sizeof line,
                   "countly-sync-hooks: torn write #%lu: %lu of %lu bytes (%s)\n", writes,
                   (unsigned long)(len / 2), (unsigned long)len, name);
    say(line);
    (void)raise(SIGKILL);
}

int port_hook_sleep(uint32_t ms)
{
    read_env();
    if (sleep_log != NULL) {
        int fd = open(sleep_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char line[32];
            int n = snprintf(line, sizeof line, "%lu\n", (unsigned long)ms);
            if (n > 0)
                (void)!write(fd, line, (size_t)n);
            (void)close(fd);
        }
    }
    if (!fake_sleep)
        return 0;
    clock_offset += ms;
    return 1;
}

void port_hook_net_send(void)
{
    read_env();
    clock_offset += clock_step;
}

uint64_t port_hook_clock_offset(void)
{
    read_env();
    return clock_offset;
}

unsigned port_hook_cpus(void)
{
    read_env();
    return (unsigned)cpus;
}

#else

/* ISO C wants a declaration in every translation unit. */
typedef int port_posix_hooks_none;

#endif /* PORT_TEST_HOOKS */
