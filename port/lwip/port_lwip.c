/*
 * port_lwip.c - the network half of the port contract (include/port.h) and
 * its time base on lwIP: lwip_socket with a non-blocking connect bounded by
 * lwip_poll, blocking send/recv bounded by SO_SNDTIMEO/SO_RCVTIMEO, names
 * through lwIP's DNS client (IPv4 literals only without LWIP_DNS), sys_now
 * and sys_msleep. Files, entropy, the wall clock and the console come from
 * port/posix/port_posix_sys.c. No second thread (port_worker_start says
 * so). The stack must be running: port_lwip_start.
 *
 * lwIP reports errors in the C library's errno with its values
 * (LWIP_ERRNO_STDINCLUDE), so port_last_os_error and the errno mapping are
 * shared with the POSIX port.
 */
#include "port.h"
#include "port_posix_errno.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lwip/api.h"
#include "lwip/inet.h"
#include "lwip/ip_addr.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"

/* ---- time and randomness ------------------------------------------------- */

/* sys_now() is 32 bits of milliseconds and wraps after 49.7 days: count the
 * wraps. Called from the agent's thread only (lwIP keeps its own clock). */
uint64_t port_clock_ms(void)
{
    static uint32_t last;
    static uint64_t wraps;
    uint32_t now = sys_now();
    if (now < last)
        wraps += (uint64_t)1 << 32;
    last = now;
    return wraps + now;
}

/* Sleeps in steps of at most 100 ms, so that a stop signal ends the wait. */
void port_sleep_ms(uint32_t ms)
{
    while (ms > 0 && port_interrupted() == 0) {
        uint32_t step = ms > 100u ? 100u : ms;
        sys_msleep(step);
        ms -= step;
    }
}

uint32_t port_lwip_rand32(void)
{
    uint8_t b[4];
    if (port_entropy(b, sizeof b) != PORT_OK)
        return sys_now() * 2654435761u; /* only if getrandom fails: still varies per start */
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- network ----------------------------------------------------------------- */

void port_socket_init(port_socket *sock)
{
    sock->fd = -1;
}

/* A connect error in port terms. lwIP reports a reset answering the SYN as
 * ECONNRESET and exhausted SYN retries as ECONNABORTED. */
static port_status connect_status(int err)
{
    if (err == ECONNRESET || err == ECONNREFUSED)
        return PORT_ERR_REFUSED;
    if (err == ECONNABORTED)
        return PORT_ERR_TIMEOUT;
    return port_posix_status_from_errno(err);
}

/* Closes fd keeping errno (the reason the caller reports). */
static void close_keep_errno(int fd)
{
    int err = errno;
    (void)lwip_close(fd);
    errno = err;
}

static int set_nonblocking(int fd, int on)
{
    return lwip_ioctl(fd, (long)FIONBIO, &on);
}

/* Waits up to timeout_ms for the connect to finish: PORT_OK or why not. */
static port_status wait_connected(int fd, uint32_t timeout_ms)
{
    struct pollfd pfd = {fd, POLLOUT, 0};
    int n = lwip_poll(&pfd, 1, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
    if (n == 0)
        return PORT_ERR_TIMEOUT;
    if (n < 0)
        return port_posix_status_from_errno(errno);
    int err = 0;
    socklen_t len = sizeof err;
    if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return port_posix_status_from_errno(errno);
    if (err != 0) {
        errno = err;
        return connect_status(err);
    }
    return PORT_OK;
}

/* Connects to addr:port within timeout_ms; the socket is left blocking. */
static port_status connect_addr(const ip_addr_t *addr, uint16_t port, uint32_t timeout_ms,
                                int *out_fd)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_len = (u8_t)sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_port = lwip_htons(port);
    inet_addr_from_ip4addr(&sa.sin_addr, ip_2_ip4(addr));

    int fd = lwip_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return port_posix_status_from_errno(errno);
    port_status st = PORT_OK;
    if (set_nonblocking(fd, 1) != 0)
        st = port_posix_status_from_errno(errno);
    else if (lwip_connect(fd, (const struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
        st = connect_status(errno);
    else
        st = wait_connected(fd, timeout_ms);
    if (st == PORT_OK && set_nonblocking(fd, 0) != 0)
        st = port_posix_status_from_errno(errno);
    if (st != PORT_OK) {
        close_keep_errno(fd);
        return st;
    }
    int one = 1;
    (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out_fd = fd;
    return PORT_OK;
}

/* An IPv4 literal, or a name through lwIP's DNS client (when built in). */
static port_status resolve(const char *host, ip_addr_t *addr)
{
    if (ipaddr_aton(host, addr))
        return PORT_OK;
#if LWIP_DNS
    if (netconn_gethostbyname(host, addr) == ERR_OK)
        return PORT_OK;
#endif
    return PORT_ERR_RESOLVE;
}

port_status port_net_connect(port_socket *sock, const char *host, uint16_t port,
                             uint32_t timeout_ms)
{
    ip_addr_t addr;
    port_net_close(sock);
    uint64_t deadline = port_clock_ms() + timeout_ms;
    port_status st = resolve(host, &addr);
    if (st != PORT_OK)
        return st;
    uint64_t now = port_clock_ms();
    if (now >= deadline)
        return PORT_ERR_TIMEOUT;
    return connect_addr(&addr, port, (uint32_t)(deadline - now), &sock->fd);
}

/* Sets SO_RCVTIMEO or SO_SNDTIMEO to timeout_ms (> 0; 0 would mean forever). */
static int set_timeout(int fd, int option, uint32_t timeout_ms)
{
    struct timeval tv;
    tv.tv_sec = (time_t)(timeout_ms / 1000u);
    tv.tv_usec = (suseconds_t)((timeout_ms % 1000u) * 1000u);
    return lwip_setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

/* The port_io for a transfer that returned n (errno set when n < 0). */
static port_io io_result(ssize_t n)
{
    port_io io = {PORT_IO_ERROR, 0, 0};
    if (n > 0) {
        io.kind = PORT_IO_DATA;
        io.n = (size_t)n;
    } else if (n == 0) {
        io.kind = PORT_IO_CLOSED;
    } else if (errno == EWOULDBLOCK || errno == EAGAIN) {
        io.kind = PORT_IO_TIMEOUT;
    } else if (errno == ENOTCONN || errno == EPIPE) {
        io.kind = PORT_IO_CLOSED;
    } else {
        io.os_error = errno;
    }
    return io;
}

port_io port_net_send(port_socket *sock, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    int flags = 0;
    if (timeout_ms == 0)
        flags = MSG_DONTWAIT;
    else if (set_timeout(sock->fd, SO_SNDTIMEO, timeout_ms) != 0)
        return io_result(-1);
    ssize_t n = lwip_send(sock->fd, buf, len, flags);
    if (n == 0) { /* nothing sent is never an orderly close on the sending side */
        port_io io = {PORT_IO_ERROR, 0, 0};
        return io;
    }
    return io_result(n);
}

/* Waits in slices of at most a second, so that a stop signal (which only
 * sets port_interrupted here) ends a long wait within about a second. */
port_io port_net_recv(port_socket *sock, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    for (;;) {
        if (port_interrupted() != 0) {
            port_io io = {PORT_IO_ERROR, 0, EINTR};
            return io;
        }
        int flags = 0;
        uint32_t slice = timeout_ms > 1000u ? 1000u : timeout_ms;
        if (timeout_ms == 0)
            flags = MSG_DONTWAIT;
        else if (set_timeout(sock->fd, SO_RCVTIMEO, slice) != 0)
            return io_result(-1);
        port_io io = io_result(lwip_recv(sock->fd, buf, cap, flags));
        if (io.kind != PORT_IO_TIMEOUT || timeout_ms <= slice)
            return io;
        timeout_ms -= slice;
    }
}

void port_net_close(port_socket *sock)
{
    if (sock->fd >= 0)
        (void)lwip_close(sock->fd);
    sock->fd = -1;
}

/* "localhost" or 127.0.0.0/8. The stack is IPv4 only: "::1" is no address
 * it could reach, so it is not a loopback host here. */
int port_host_is_loopback(const char *host)
{
    ip4_addr_t v4;
    if (strcmp(host, "localhost") == 0)
        return 1;
    return ip4addr_aton(host, &v4) && ip4_addr_isloopback(&v4);
}

/* ---- a second thread ------------------------------------------------------ */

/* lwIP targets are single-core devices: the agent reads bodies on its own
 * thread, and this port offers no second one. */
unsigned port_cpu_count(void)
{
    return 1;
}

port_status port_worker_start(port_worker *w, void (*fn)(void *arg), void *arg, size_t stack_size)
{
    (void)w;
    (void)fn;
    (void)arg;
    (void)stack_size;
    return PORT_ERR_IO;
}

/* Never called: port_worker_start never succeeds here. */
void port_worker_join(port_worker *w)
{
    (void)w;
}

void port_worker_lock(port_worker *w)
{
    (void)w;
}

void port_worker_unlock(port_worker *w)
{
    (void)w;
}

void port_worker_wait(port_worker *w)
{
    (void)w;
}

void port_worker_wake(port_worker *w)
{
    (void)w;
}
