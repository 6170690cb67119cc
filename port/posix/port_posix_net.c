/*
 * port_posix_net.c - the network half of the port contract (include/port.h)
 * on BSD sockets: getaddrinfo, non-blocking connect and poll() timeouts.
 */
#include "port.h"
#include "port_posix_errno.h"
#include "port_posix_hooks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

void port_socket_init(port_socket *sock)
{
    sock->fd = -1;
}

/* The longest single poll(): a stop signal that reaches another thread
 * (or arrives just before poll) is still noticed within this time. */
#define WAIT_SLICE_MS 1000

/* Waits until fd is ready for events or timeout_ms passes: 1 ready, 0
 * timeout, -1 error (errno EINTR once a stop signal was caught). */
static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd pfd;
    uint64_t deadline = port_clock_ms() + timeout_ms;
    for (;;) {
        if (port_interrupted() != 0) {
            errno = EINTR;
            return -1;
        }
        uint64_t now = port_clock_ms();
        if (now >= deadline && timeout_ms > 0)
            return 0;
        int wait_ms = now >= deadline ? 0 : (int)(deadline - now);
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        int n = poll(&pfd, 1, wait_ms > WAIT_SLICE_MS ? WAIT_SLICE_MS : wait_ms);
        if (n > 0)
            return 1;
        if (n == 0 && wait_ms <= WAIT_SLICE_MS)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* Connects one resolved address without blocking longer than timeout_ms. */
static port_status connect_one(const struct addrinfo *ai, uint32_t timeout_ms, int *out_fd)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return port_posix_status_from_errno(errno);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        port_status st = port_posix_status_from_errno(errno);
        close(fd);
        return st;
    }
    int ready = wait_fd(fd, POLLOUT, timeout_ms);
    if (ready <= 0) {
        close(fd);
        return ready == 0 ? PORT_ERR_TIMEOUT : PORT_ERR_IO;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        close(fd);
        errno = err;
        return port_posix_status_from_errno(err);
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out_fd = fd;
    return PORT_OK;
}

port_status port_net_connect(port_socket *sock, const char *host, uint16_t port,
                             uint32_t timeout_ms)
{
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    char service[8];

    port_net_close(sock);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV; /* no AI_ADDRCONFIG: it hides loopback-only hosts */
    (void)snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &list) != 0)
        return PORT_ERR_RESOLVE;

    uint64_t deadline = port_clock_ms() + timeout_ms;
    port_status st = PORT_ERR_RESOLVE;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        uint64_t now = port_clock_ms();
        if (now >= deadline) {
            st = PORT_ERR_TIMEOUT;
            break;
        }
        st = connect_one(ai, (uint32_t)(deadline - now), &sock->fd);
        if (st == PORT_OK)
            break;
    }
    freeaddrinfo(list);
    return st;
}

port_io port_net_send(port_socket *sock, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    PORT_HOOK_NET_SEND(); /* a test build's clock step (port_posix_hooks.h) */
    port_io io = {PORT_IO_ERROR, 0, 0};
    for (;;) {
        ssize_t n = send(sock->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            io.kind = PORT_IO_DATA;
            io.n = (size_t)n;
            return io;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ready = wait_fd(sock->fd, POLLOUT, timeout_ms);
            if (ready == 0)
                io.kind = PORT_IO_TIMEOUT;
            io.os_error = ready < 0 ? errno : 0;
            if (ready <= 0)
                return io;
            continue;
        }
        io.kind = (n < 0 && errno == EPIPE) ? PORT_IO_CLOSED : PORT_IO_ERROR;
        io.os_error = n < 0 ? errno : 0;
        return io;
    }
}

port_io port_net_recv(port_socket *sock, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    port_io io = {PORT_IO_ERROR, 0, 0};
    if (port_interrupted() != 0) { /* a stop signal: the run ends at its next safe point */
        io.os_error = EINTR;
        return io;
    }
    for (;;) {
        ssize_t n = recv(sock->fd, buf, cap, 0);
        if (n > 0) {
            io.kind = PORT_IO_DATA;
            io.n = (size_t)n;
            return io;
        }
        if (n == 0) {
            io.kind = PORT_IO_CLOSED;
            return io;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ready = wait_fd(sock->fd, POLLIN, timeout_ms);
            if (ready == 0)
                io.kind = PORT_IO_TIMEOUT;
            io.os_error = ready < 0 ? errno : 0;
            if (ready <= 0)
                return io;
            continue;
        }
        io.os_error = errno;
        return io;
    }
}

void port_net_close(port_socket *sock)
{
    if (sock->fd >= 0)
        (void)close(sock->fd);
    sock->fd = -1;
}

int port_host_is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return 0;
}

int port_start(void)
{
    return 0; /* the kernel's network stack is already up */
}
