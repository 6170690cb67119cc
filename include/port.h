/*
 * port.h - the operating-system contract of countly-sync.
 *
 * Everything in src/ reaches the OS through these functions and nothing
 * else, in the manner of lwIP's sys_arch: port/posix/ implements them on
 * BSD sockets and POSIX files, port/lwip/ on lwIP's socket API. Handles are
 * small structs the caller owns; the port allocates nothing.
 *
 * Network I/O never returns a bare 0 with two meanings: every send/recv
 * result says DATA (n > 0 bytes moved), CLOSED (orderly end of stream),
 * TIMEOUT (nothing happened within the time given) or ERROR.
 */
#ifndef COUNTLY_SYNC_PORT_H
#define COUNTLY_SYNC_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Result of a port operation that is not a network transfer. */
typedef enum {
    PORT_OK = 0,
    PORT_ERR_RESOLVE, /* host name did not resolve */
    PORT_ERR_REFUSED, /* connection refused / unreachable */
    PORT_ERR_TIMEOUT, /* the operation did not finish in time */
    PORT_ERR_NOENT,   /* file or folder does not exist */
    PORT_ERR_ACCESS,  /* permission denied or read-only file system */
    PORT_ERR_NOSPC,   /* no space left on device (or file size limit) */
    PORT_ERR_EOF,     /* end of file / directory reached */
    PORT_ERR_IO,      /* any other failure; see port_last_os_error */
    PORT_ERR_LOCKED   /* the file is locked by another process (port_file_lock) */
} port_status;

/* Kind of a network transfer result. */
typedef enum {
    PORT_IO_DATA = 0, /* n bytes moved, n > 0 */
    PORT_IO_CLOSED,   /* the peer closed the stream in order */
    PORT_IO_TIMEOUT,  /* nothing moved within the timeout */
    PORT_IO_ERROR     /* reset or other failure */
} port_io_kind;

typedef struct {
    port_io_kind kind;
    size_t n;
    int os_error; /* PORT_IO_ERROR: the system's error number, taken when it failed */
} port_io;

/* A connected stream socket. fd < 0 means not connected. */
typedef struct {
    int fd;
} port_socket;

/* An open file. fd < 0 means closed. */
typedef struct {
    int fd;
} port_file;

/* An open directory listing. */
typedef struct {
    void *handle;
} port_dir;

/* Flags for port_file_open. */
#define PORT_FILE_READ    0x1u  /* open for reading */
#define PORT_FILE_WRITE   0x2u  /* open for writing */
#define PORT_FILE_CREATE  0x4u  /* create if missing (mode 0644, or 0600 with PRIVATE) */
#define PORT_FILE_TRUNC   0x8u  /* truncate to zero on open */
#define PORT_FILE_APPEND  0x10u /* every write goes to the end */
#define PORT_FILE_PRIVATE 0x20u /* create readable by the owner only */

/* Words for a port_status. */
const char *port_strerror(port_status status);

/* Text of the OS error behind the last PORT_ERR_IO / PORT_IO_ERROR. */
const char *port_last_os_error(void);

/* Words for a system error number a port call recorded (port_io.os_error). */
const char *port_os_error_text(int os_error);

/* ---- network ---- */

/* Marks a socket handle as not connected. */
void port_socket_init(port_socket *sock);

/* Connects to host (a DNS name or an IPv4/IPv6 literal) within timeout_ms,
 * trying each resolved address in turn. */
port_status port_net_connect(port_socket *sock, const char *host, uint16_t port,
                             uint32_t timeout_ms);

/* Sends up to len bytes, waiting at most timeout_ms for room. */
port_io port_net_send(port_socket *sock, const uint8_t *buf, size_t len, uint32_t timeout_ms);

/* Receives up to cap bytes, waiting at most timeout_ms for the first byte. */
port_io port_net_recv(port_socket *sock, uint8_t *buf, size_t cap, uint32_t timeout_ms);

/* Closes the socket (safe on a closed handle). */
void port_net_close(port_socket *sock);

/* True when host is a loopback literal (127.0.0.0/8, ::1) or "localhost". */
int port_host_is_loopback(const char *host);

/* ---- time and randomness ---- */

/* Monotonic milliseconds since an arbitrary start; never goes back. */
uint64_t port_clock_ms(void);

/* UTC wall clock, seconds since 1970-01-01. */
int64_t port_time_utc(void);

/* Sleeps for ms milliseconds. */
void port_sleep_ms(uint32_t ms);

/* Fills buf with len bytes from the OS's cryptographic random source. */
port_status port_entropy(uint8_t *buf, size_t len);

/* ---- files ---- */

/* Marks a file handle as closed. */
void port_file_init(port_file *file);

/* Opens path with PORT_FILE_* flags (a file created gets 0644, or 0600
 * with PRIVATE, less the process's umask). */
port_status port_file_open(port_file *file, const char *path, unsigned flags);

/* Opens path with PORT_FILE_* flags; a file this call creates, and one it
 * truncates (TRUNC: rewritten whole), gets exactly the permission bits
 * mode (0600, 0640, ...) whatever the umask. A file opened without TRUNC
 * that exists keeps its mode; one its mode keeps from its owner's writes
 * (0400, 0440, 0444) is still opened for writing when that mode is mode
 * and the process owns it. */
port_status port_file_open_mode(port_file *file, const char *path, unsigned flags, unsigned mode);

/* Reads up to cap bytes; *got = 0 at end of file. */
port_status port_file_read(port_file *file, void *buf, size_t cap, size_t *got);

/* Writes all len bytes (short writes are continued or reported). */
port_status port_file_write(port_file *file, const void *buf, size_t len);

/* Flushes the file's data to stable storage. */
port_status port_file_sync(port_file *file);

/* Sets the file's size to size bytes. */
port_status port_file_truncate(port_file *file, uint64_t size);

/* Current size of the open file. */
port_status port_file_size(port_file *file, uint64_t *size);

/* Closes the file (safe on a closed handle). */
port_status port_file_close(port_file *file);

/* Takes an exclusive lock on the open file without waiting (POSIX flock):
 * PORT_ERR_LOCKED when another process holds it. The lock lasts until the
 * file is closed or the process ends, however it ends. */
port_status port_file_lock(port_file *file);

/* Atomically replaces to with from. */
port_status port_file_rename(const char *from, const char *to);

/* The last step of a durable replace (write from, fsync it, then this):
 * renames from over to and fsyncs the folder holding to, so that after a
 * crash `to` holds either its old or its new content. */
port_status port_file_replace(const char *from, const char *to);

/* The folder holding the file path into out (cap bytes): "." when path has
 * no '/', "/" for a file in the root. PORT_ERR_IO when it does not fit. */
port_status port_path_folder(const char *path, char *out, size_t cap);

/* Removes a file; PORT_ERR_NOENT when it was not there. */
port_status port_file_remove(const char *path);

/* PORT_OK when path exists; PORT_ERR_NOENT otherwise. *is_dir tells which. */
port_status port_path_stat(const char *path, int *is_dir, uint64_t *size);

/* Creates a folder (mode 0755); PORT_OK when it already exists. A file
 * that has the name is no folder: PORT_ERR_NOENT, the OS error ENOTDIR. */
port_status port_dir_create(const char *path);

/* Flushes a folder's entries (after a rename) to stable storage. */
port_status port_dir_sync(const char *path);

/* Opens a folder for listing. */
port_status port_dir_open(port_dir *dir, const char *path);

/* Next entry name (not "." or ".."), copied into name; PORT_ERR_EOF at end. */
port_status port_dir_next(port_dir *dir, char *name, size_t cap);

/* Closes a folder listing. */
void port_dir_close(port_dir *dir);

/* 1 when others than the owner may read path (mode & 044), else 0. */
port_status port_path_readable_by_others(const char *path, int *readable);

/* ---- process ---- */

/* Brings up what the platform needs before a run (POSIX: nothing; lwIP:
 * the stack on its tap device). 0, or an exit code (exit_codes.h) after
 * one line on the console saying why. */
int port_start(void);

/* Value of an environment variable, or NULL when unset. */
const char *port_getenv(const char *name);

/* 1 when the diagnostics stream (stderr) is a terminal. */
int port_console_is_terminal(void);

/* 1 when the diagnostics stream is the systemd journal: JOURNAL_STREAM
 * ("DEV:INODE", decimal) names the file stderr is (sd-daemon(3) prefixes
 * then replace timestamps). 0 elsewhere, and on a port without it. */
int port_console_is_journal(void);

/* Columns of the terminal on the diagnostics stream; 80 when not known. */
unsigned port_console_width(void);

/* This process's id (written into a lock file for the next run's message). */
unsigned long port_process_id(void);

/* ---- signals: stopping a run at a safe point ---- */

/* From now on SIGTERM, SIGINT and SIGHUP only record their number, which
 * port_interrupted returns. Blocking waits end early: port_sleep_ms returns,
 * and a network wait returns PORT_IO_ERROR (os_error EINTR) within a second
 * (POSIX; lwIP: within a second of its receive timeout slice). */
void port_signals_catch(void);

/* The number of the first of those signals caught, or 0. */
int port_interrupted(void);

/* The name of a signal number ("SIGTERM"), "signal" when not known. */
const char *port_signal_name(int sig);

/* ---- a second thread (optional: a port without threads says so) ---- */

/* Room for a port's thread handle, lock and condition variable; each port
 * checks with _Static_assert that its own fit. The caller owns it, as
 * every port handle. */
#define PORT_WORKER_SIZE 192

typedef struct {
    _Alignas(16) unsigned char opaque[PORT_WORKER_SIZE];
} port_worker;

/* Processors this process may run on at once (1 when not known, and on a
 * port without threads). */
unsigned port_cpu_count(void);

/* Prepares the lock and condition, and starts fn(arg) on a new thread with
 * a stack of stack_size bytes. PORT_ERR_IO when the port has no threads or
 * the system refused one; the worker is then unused. */
port_status port_worker_start(port_worker *w, void (*fn)(void *arg), void *arg, size_t stack_size);

/* Waits for the thread to return, then releases the lock and condition. */
void port_worker_join(port_worker *w);

/* Takes the worker's lock. */
void port_worker_lock(port_worker *w);

/* Releases the worker's lock. */
void port_worker_unlock(port_worker *w);

/* With the lock held: releases it, sleeps until port_worker_wake, takes it
 * again. May return without a wake: callers wait in a loop on their own
 * condition. */
void port_worker_wait(port_worker *w);

/* Wakes every thread sleeping in port_worker_wait (lock held or not). */
void port_worker_wake(port_worker *w);

/* ---- console ---- */

/* Writes len bytes to the diagnostics stream (stderr on POSIX). */
void port_console_err(const char *text, size_t len);

/* Writes len bytes to the report stream (stdout on POSIX). */
void port_console_out(const char *text, size_t len);

#endif /* COUNTLY_SYNC_PORT_H */
