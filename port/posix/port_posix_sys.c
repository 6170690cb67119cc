/*
 * port_posix_sys.c - the operating-system half of the port contract
 * (include/port.h) on POSIX: error words, the wall clock, getrandom, plain
 * file descriptors, folders, the environment and the console. Every port
 * that runs on a POSIX-like system links it; the network half and the
 * monotonic clock come from port_posix_net.c + port_posix_clock.c or from
 * another network stack (port/lwip/).
 */
#include "options.h"
#include "port.h"
#include "port_posix_errno.h"
#include "port_posix_hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
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
    case PORT_ERR_LOCKED:
        return "locked by another process";
    }
    return "unknown port status";
}

const char *port_os_error_text(int os_error)
{
    return strerror(os_error);
}

const char *port_last_os_error(void)
{
    return strerror(errno);
}

port_status port_posix_status_from_errno(int err)
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

/* ---- time and randomness ------------------------------------------------------- */

int64_t port_time_utc(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
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

/* open(2) flags for PORT_FILE_* flags. */
static int open_flags(unsigned flags)
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
    return oflags;
}

/* open(2), again after a signal; -1 with errno on failure. */
static int open_retry(const char *path, int oflags, mode_t mode)
{
    int fd;
    do {
        fd = open(path, oflags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

port_status port_file_open(port_file *file, const char *path, unsigned flags)
{
    /* Past a file size limit (ulimit -f) write() must fail with EFBIG,
     * reported as no space, instead of SIGXFSZ ending the process. */
    (void)signal(SIGXFSZ, SIG_IGN);
    mode_t mode = (flags & PORT_FILE_PRIVATE) ? 0600 : 0644;
    int fd = open_retry(path, open_flags(flags), mode);
    if (fd < 0)
        return port_posix_status_from_errno(errno);
    file->fd = fd;
    return PORT_OK;
}

/* Opens an existing file for writing that its mode keeps from its owner
 * (0400, 0440, 0444) when that mode is the one we create files with: we
 * are the owner, so the owner's write bit is lifted for the open and the
 * mode put back on the open descriptor. -1 with errno when not. */
static int open_own_read_only(const char *path, int oflags, mode_t mode)
{
    struct stat st;
    if ((mode & S_IWUSR) != 0 || (oflags & (O_WRONLY | O_RDWR)) == 0 || stat(path, &st) != 0 ||
        st.st_uid != geteuid() || (st.st_mode & 07777) != mode) {
        errno = EACCES;
        return -1;
    }
    if (chmod(path, mode | S_IWUSR) != 0)
        return -1;
    int fd = open_retry(path, oflags, mode);
    int err = errno;
    if (fd >= 0 ? fchmod(fd, mode) != 0 : chmod(path, mode) != 0)
        err = errno;
    errno = err;
    return fd;
}

/* Opens a file that exists (no O_CREAT); ENOENT when it is gone. */
static int open_existing(const char *path, int oflags, mode_t mode)
{
    int fd = open_retry(path, oflags & ~O_CREAT, mode);
    if (fd < 0 && errno == EACCES)
        fd = open_own_read_only(path, oflags & ~O_CREAT, mode);
    return fd;
}

port_status port_file_open_mode(port_file *file, const char *path, unsigned flags, unsigned mode)
{
    (void)signal(SIGXFSZ, SIG_IGN);
    int oflags = open_flags(flags);
    mode_t m = (mode_t)(mode & 07777u);
    int fd = -1;
    int made = (flags & PORT_FILE_TRUNC) != 0; /* rewritten whole: a new file */
    if ((flags & PORT_FILE_CREATE) == 0) {
        fd = open_existing(path, oflags, m);
    } else {
        /* Created here (O_EXCL), or there already; a file removed in between is
         * created on the next turn. */
        for (int tries = 0; fd < 0 && tries < 4; tries++) {
            fd = open_retry(path, oflags | O_EXCL, m);
            if (fd >= 0)
                made = 1;
            else if (errno == EEXIST)
                fd = open_existing(path, oflags, m);
            if (fd < 0 && errno != EEXIST && errno != ENOENT)
                break;
        }
    }
    if (fd < 0)
        return port_posix_status_from_errno(errno);
    if (made && fchmod(fd, m) != 0) { /* exactly mode, whatever the umask */
        int err = errno;
        (void)close(fd);
        return port_posix_status_from_errno(err);
    }
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
            return port_posix_status_from_errno(errno);
    }
}

port_status port_file_write(port_file *file, const void *buf, size_t len)
{
    PORT_HOOK_WRITE(file->fd, buf, len);
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(file->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return port_posix_status_from_errno(errno);
        if (n == 0)
            return PORT_ERR_NOSPC;
        p += n;
        len -= (size_t)n;
    }
    return PORT_OK;
}

port_status port_file_sync(port_file *file)
{
    PORT_HOOK_DURABLE("fsync", file->fd, NULL, 0);
    port_status st = !PORT_HOOK_FAIL("fsync", file->fd, NULL) && fsync(file->fd) == 0
                         ? PORT_OK
                         : port_posix_status_from_errno(errno);
    PORT_HOOK_DURABLE("fsync", file->fd, NULL, 1);
    return st;
}

port_status port_file_truncate(port_file *file, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return PORT_ERR_IO;
    PORT_HOOK_DURABLE("truncate", file->fd, NULL, 0);
    port_status st =
        !PORT_HOOK_FAIL("truncate", file->fd, NULL) && ftruncate(file->fd, (off_t)size) == 0
            ? PORT_OK
            : port_posix_status_from_errno(errno);
    PORT_HOOK_DURABLE("truncate", file->fd, NULL, 1);
    return st;
}

port_status port_file_size(port_file *file, uint64_t *size)
{
    struct stat st;
    if (fstat(file->fd, &st) != 0)
        return port_posix_status_from_errno(errno);
    *size = (uint64_t)st.st_size;
    return PORT_OK;
}

port_status port_file_close(port_file *file)
{
    port_status st = PORT_OK;
    if (file->fd >= 0 && close(file->fd) != 0)
        st = port_posix_status_from_errno(errno);
    file->fd = -1;
    return st;
}

port_status port_file_lock(port_file *file)
{
    for (;;) {
        if (flock(file->fd, LOCK_EX | LOCK_NB) == 0)
            return PORT_OK;
        if (errno == EWOULDBLOCK)
            return PORT_ERR_LOCKED;
        if (errno != EINTR)
            return port_posix_status_from_errno(errno);
    }
}

port_status port_file_rename(const char *from, const char *to)
{
    PORT_HOOK_DURABLE("rename", -1, to, 0);
    port_status st = !PORT_HOOK_FAIL("rename", -1, to) && rename(from, to) == 0
                         ? PORT_OK
                         : port_posix_status_from_errno(errno);
    PORT_HOOK_DURABLE("rename", -1, to, 1);
    return st;
}

port_status port_path_folder(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    if (len >= cap)
        return PORT_ERR_IO;
    memcpy(out, slash == NULL ? "." : path, len);
    out[len] = '\0';
    return PORT_OK;
}

port_status port_file_replace(const char *from, const char *to)
{
    char folder[PORT_PATH_MAX];
    port_status st = port_path_folder(to, folder, sizeof folder);
    if (st != PORT_OK)
        return st;
    st = port_file_rename(from, to);
    return st == PORT_OK ? port_dir_sync(folder) : st;
}

port_status port_file_remove(const char *path)
{
    return unlink(path) == 0 ? PORT_OK : port_posix_status_from_errno(errno);
}

port_status port_path_stat(const char *path, int *is_dir, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return port_posix_status_from_errno(errno);
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
        if (stat(path, &st) != 0) /* a dangling link: stat's own errno */
            return port_posix_status_from_errno(errno);
        if (S_ISDIR(st.st_mode))
            return PORT_OK;
        errno = ENOTDIR; /* a file has the name: it is not a folder */
    }
    return port_posix_status_from_errno(errno);
}

port_status port_dir_sync(const char *path)
{
    PORT_HOOK_DURABLE("dirsync", -1, path, 0);
    port_status st = PORT_OK;
    int fd =
        PORT_HOOK_FAIL("dirsync", -1, path) ? -1 : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        st = port_posix_status_from_errno(errno);
    } else {
        st = fsync(fd) == 0 ? PORT_OK : port_posix_status_from_errno(errno);
        (void)close(fd);
    }
    PORT_HOOK_DURABLE("dirsync", -1, path, 1);
    return st;
}

port_status port_dir_open(port_dir *dir, const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return port_posix_status_from_errno(errno);
    dir->handle = d;
    return PORT_OK;
}

port_status port_dir_next(port_dir *dir, char *name, size_t cap)
{
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir((DIR *)dir->handle);
        if (e == NULL)
            return errno == 0 ? PORT_ERR_EOF : port_posix_status_from_errno(errno);
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
        return port_posix_status_from_errno(errno);
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

int port_console_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    struct stat st;
    if (env == NULL || fstat(STDERR_FILENO, &st) != 0)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long dev = strtoull(env, &end, 10);
    if (errno != 0 || end == env || *end != ':')
        return 0;
    const char *ino_text = end + 1;
    unsigned long long ino = strtoull(ino_text, &end, 10);
    if (errno != 0 || end == ino_text || *end != '\0')
        return 0;
    return dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino;
}

unsigned port_console_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return 80;
    return ws.ws_col;
}

unsigned long port_process_id(void)
{
    return (unsigned long)getpid();
}

/* ---- signals ------------------------------------------------------------------------------ */

/* The one mutable global of the program: what a signal handler may touch. */
static volatile sig_atomic_t caught_signal;

/* Records the first stop signal; the agent stops at its next safe point. */
static void on_stop_signal(int sig)
{
    if (caught_signal == 0)
        caught_signal = sig;
}

void port_signals_catch(void)
{
    static const int stops[] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = 0; /* no SA_RESTART: a blocking wait ends with EINTR */
    (void)sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        (void)sigaction(stops[i], &sa, NULL);
}

int port_interrupted(void)
{
    return (int)caught_signal;
}

const char *port_signal_name(int sig)
{
    switch (sig) {
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "signal";
    }
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
