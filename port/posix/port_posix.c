/*
 * port_posix.c - the port contract (include/port.h) on POSIX: BSD sockets
 * with non-blocking connect and poll() timeouts, clock_gettime, getrandom,
 * and plain file descriptors.
 */
#include "port.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

const char *port_strerror(port_status status)
{
    switch (status) {
    case PORT_OK:
        return "ok";
    case PORT_ERR_RESOLVE:
        return "host name did not resolve";
    case PORT_ERR_REFUSED:
        return "connection refused";
    case PORT_ERR_TIMEOUT:
        return "timed out";
    case PORT_ERR_NOENT:
        return "no such file or folder";
    case PORT_ERR_ACCESS:
        return "permission denied";
    case PORT_ERR_NOSPC:
        return "no space left on device";
    case PORT_ERR_EOF:
        return "end of file";
    case PORT_ERR_IO:
        return "input/output error";
    }
    return "unknown port status";
}

const char *port_last_os_error(void)
{
    return strerror(errno);
}

static port_status status_from_errno(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return PORT_ERR_NOENT;
    case EACCES:
    case EPERM:
    case EROFS:
        return PORT_ERR_ACCESS;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return PORT_ERR_NOSPC;
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
        return PORT_ERR_REFUSED;
    case ETIMEDOUT:
        return PORT_ERR_TIMEOUT;
    default:
        return PORT_ERR_IO;
    }
}

/* ---- network ---------------------------------------------------------------- */

void port_socket_init(port_socket *sock)
{
    sock->fd = -1;
}

/* Waits until fd is ready for events or timeout_ms passes: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd pfd;
    uint64_t deadline = port_clock_ms() + timeout_ms;
    for (;;) {
        uint64_t now = port_clock_ms();
        int wait_ms = now >= deadline ? 0 : (int)(deadline - now);
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        int n = poll(&pfd, 1, wait_ms);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Connects one resolved address without blocking longer than timeout_ms. */
static port_status connect_one(const struct addrinfo *ai, uint32_t timeout_ms, int *out_fd)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return status_from_errno(errno);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        port_status st = status_from_errno(errno);
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
        return status_from_errno(err);
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
    port_io io = {PORT_IO_ERROR, 0};
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
            if (ready <= 0)
                return io;
            continue;
        }
        io.kind = (n < 0 && errno == EPIPE) ? PORT_IO_CLOSED : PORT_IO_ERROR;
        return io;
    }
}

port_io port_net_recv(port_socket *sock, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    port_io io = {PORT_IO_ERROR, 0};
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
            if (ready <= 0)
                return io;
            continue;
        }
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

/* ---- time and randomness ------------------------------------------------------- */

uint64_t port_clock_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t port_time_utc(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

void port_sleep_ms(uint32_t ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

port_status port_entropy(uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PORT_ERR_IO;
        done += (size_t)n;
    }
    return PORT_OK;
}

/* ---- files -------------------------------------------------------------------------- */

void port_file_init(port_file *file)
{
    file->fd = -1;
}

port_status port_file_open(port_file *file, const char *path, unsigned flags)
{
    int oflags = O_CLOEXEC;
    if ((flags & PORT_FILE_READ) && (flags & PORT_FILE_WRITE))
        oflags |= O_RDWR;
    else if (flags & PORT_FILE_WRITE)
        oflags |= O_WRONLY;
    else
        oflags |= O_RDONLY;
    if (flags & PORT_FILE_CREATE)
        oflags |= O_CREAT;
    if (flags & PORT_FILE_TRUNC)
        oflags |= O_TRUNC;
    if (flags & PORT_FILE_APPEND)
        oflags |= O_APPEND;
    mode_t mode = (flags & PORT_FILE_PRIVATE) ? 0600 : 0644;
    int fd;
    do {
        fd = open(path, oflags, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return status_from_errno(errno);
    file->fd = fd;
    return PORT_OK;
}

port_status port_file_read(port_file *file, void *buf, size_t cap, size_t *got)
{
    for (;;) {
        ssize_t n = read(file->fd, buf, cap);
        if (n >= 0) {
            *got = (size_t)n;
            return PORT_OK;
        }
        if (errno != EINTR)
            return status_from_errno(errno);
    }
}

port_status port_file_write(port_file *file, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(file->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return status_from_errno(errno);
        if (n == 0)
            return PORT_ERR_NOSPC;
        p += n;
        len -= (size_t)n;
    }
    return PORT_OK;
}

port_status port_file_sync(port_file *file)
{
    return fsync(file->fd) == 0 ? PORT_OK : status_from_errno(errno);
}

port_status port_file_truncate(port_file *file, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return PORT_ERR_IO;
    return ftruncate(file->fd, (off_t)size) == 0 ? PORT_OK : status_from_errno(errno);
}

port_status port_file_size(port_file *file, uint64_t *size)
{
    struct stat st;
    if (fstat(file->fd, &st) != 0)
        return status_from_errno(errno);
    *size = (uint64_t)st.st_size;
    return PORT_OK;
}

port_status port_file_close(port_file *file)
{
    port_status st = PORT_OK;
    if (file->fd >= 0 && close(file->fd) != 0)
        st = status_from_errno(errno);
    file->fd = -1;
    return st;
}

port_status port_file_rename(const char *from, const char *to)
{
    return rename(from, to) == 0 ? PORT_OK : status_from_errno(errno);
}

port_status port_file_remove(const char *path)
{
    return unlink(path) == 0 ? PORT_OK : status_from_errno(errno);
}

port_status port_path_stat(const char *path, int *is_dir, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return status_from_errno(errno);
    if (is_dir != NULL)
        *is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    if (size != NULL)
        *size = (uint64_t)st.st_size;
    return PORT_OK;
}

port_status port_dir_create(const char *path)
{
    if (mkdir(path, 0755) == 0)
        return PORT_OK;
    if (errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return PORT_OK;
        errno = EEXIST;
        return PORT_ERR_IO; /* something else has the name */
    }
    return status_from_errno(errno);
}

port_status port_dir_sync(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return status_from_errno(errno);
    port_status st = fsync(fd) == 0 ? PORT_OK : status_from_errno(errno);
    (void)close(fd);
    return st;
}

port_status port_dir_open(port_dir *dir, const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return status_from_errno(errno);
    dir->handle = d;
    return PORT_OK;
}

port_status port_dir_next(port_dir *dir, char *name, size_t cap)
{
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir((DIR *)dir->handle);
        if (e == NULL)
            return errno == 0 ? PORT_ERR_EOF : status_from_errno(errno);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(e->d_name);
        if (len + 1 > cap)
            continue; /* a name we could not open anyway */
        memcpy(name, e->d_name, len + 1);
        return PORT_OK;
    }
}

void port_dir_close(port_dir *dir)
{
    if (dir->handle != NULL)
        (void)closedir((DIR *)dir->handle);
    dir->handle = NULL;
}

port_status port_path_readable_by_others(const char *path, int *readable)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return status_from_errno(errno);
    *readable = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
    return PORT_OK;
}

/* ---- process ------------------------------------------------------------------------------ */

const char *port_getenv(const char *name)
{
    return getenv(name);
}

int port_console_is_terminal(void)
{
    return isatty(STDERR_FILENO);
}

/* ---- console ----------------------------------------------------------------------------- */

static void write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

void port_console_err(const char *text, size_t len)
{
    write_all(STDERR_FILENO, text, len);
}

void port_console_out(const char *text, size_t len)
{
    write_all(STDOUT_FILENO, text, len);
}
