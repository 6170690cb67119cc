/*
 * test_port_posix.c - unit tests of the POSIX port (port/posix/).
 *
 * Files: everything happens inside a mkdtemp() folder removed at the end.
 * Network: only 127.0.0.1 and ::1, against sockets the test itself opens
 * (port 0, then getsockname). Timing bounds are loose on the upper side
 * (timeout + 500 ms) so that a loaded machine does not fail them.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "test_tmpdir.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "port.h"

static const char *tmp_path(const char *name)
{
    return tmpdir_path_n(0, name);
}

static int group_setup(void **state)
{
    (void)state;
    return tmpdir_create("test_port_posix");
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* ---- files -------------------------------------------------------------------------------- */

static void write_text(const char *path, unsigned flags, const char *text)
{
    port_file f;
    port_file_init(&f);
    assert_int_equal(port_file_open(&f, path, PORT_FILE_WRITE | flags), PORT_OK);
    assert_int_equal(port_file_write(&f, text, strlen(text)), PORT_OK);
    assert_int_equal(port_file_close(&f), PORT_OK);
}

/* Reads the whole file at path into out (NUL-terminated); returns its length. */
static size_t read_text(const char *path, char *out, size_t cap)
{
    port_file f;
    port_file_init(&f);
    assert_int_equal(port_file_open(&f, path, PORT_FILE_READ), PORT_OK);
    size_t len = 0;
    for (;;) {
        size_t got = 0;
        assert_int_equal(port_file_read(&f, out + len, cap - 1 - len, &got), PORT_OK);
        if (got == 0)
            break;
        len += got;
        assert_true(len < cap);
    }
    out[len] = '\0';
    assert_int_equal(port_file_close(&f), PORT_OK);
    return len;
}

static void file_write_read_size_sync_truncate_round_trip(void **state)
{
    (void)state;
    const char *path = tmp_path("data.bin");
    port_file f;
    port_file_init(&f);
    assert_int_equal(f.fd, -1);
    assert_int_equal(port_file_open(&f, path, PORT_FILE_READ | PORT_FILE_WRITE | PORT_FILE_CREATE),
                     PORT_OK);
    uint64_t size = 99;
    assert_int_equal(port_file_size(&f, &size), PORT_OK);
    assert_int_equal(size, 0);

    static uint8_t big[300000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7u + (i >> 9));
    assert_int_equal(port_file_write(&f, big, sizeof big), PORT_OK);
    assert_int_equal(port_file_sync(&f), PORT_OK);
    assert_int_equal(port_file_size(&f, &size), PORT_OK);
    assert_int_equal(size, sizeof big);

    assert_int_equal(port_file_truncate(&f, 1000), PORT_OK);
    assert_int_equal(port_file_size(&f, &size), PORT_OK);
    assert_int_equal(size, 1000);
    assert_int_equal(port_file_close(&f), PORT_OK);
    assert_int_equal(f.fd, -1);
    assert_int_equal(port_file_close(&f), PORT_OK); /* closing twice is safe */

    static uint8_t back[2000];
    assert_int_equal(port_file_open(&f, path, PORT_FILE_READ), PORT_OK);
    size_t got = 0, total = 0;
    do {
        assert_int_equal(port_file_read(&f, back + total, sizeof back - total, &got), PORT_OK);
        total += got;
    } while (got > 0 && total < sizeof back);
    assert_int_equal(total, 1000);
    assert_memory_equal(back, big, 1000);
    assert_int_equal(port_file_read(&f, back, sizeof back, &got), PORT_OK);
    assert_int_equal(got, 0); /* end of file */
    assert_int_equal(port_file_close(&f), PORT_OK);

    int is_dir = -1;
    assert_int_equal(port_path_stat(path, &is_dir, &size), PORT_OK);
    assert_int_equal(is_dir, 0);
    assert_int_equal(size, 1000);
    assert_int_equal(port_path_stat(path, NULL, NULL), PORT_OK);
    assert_int_equal(port_file_remove(path), PORT_OK);
    assert_int_equal(port_path_stat(path, &is_dir, &size), PORT_ERR_NOENT);
}

static void truncate_flag_empties_and_append_flag_appends(void **state)
{
    (void)state;
    const char *path = tmp_path("log.txt");
    char text[64];
    write_text(path, PORT_FILE_CREATE | PORT_FILE_TRUNC, "first line\n");
    write_text(path, PORT_FILE_APPEND, "second line\n");
    assert_int_equal(read_text(path, text, sizeof text), 23);
    assert_string_equal(text, "first line\nsecond line\n");
    /* without TRUNC or APPEND a write starts at offset 0 and keeps the rest */
    write_text(path, 0, "FIRST");
    assert_int_equal(read_text(path, text, sizeof text), 23);
    assert_string_equal(text, "FIRST line\nsecond line\n");
    write_text(path, PORT_FILE_TRUNC, "x");
    assert_int_equal(read_text(path, text, sizeof text), 1);
    assert_string_equal(text, "x");
    assert_int_equal(port_file_remove(path), PORT_OK);
}

static void missing_files_are_noent(void **state)
{
    (void)state;
    port_file f;
    port_file_init(&f);
    const char *missing = tmp_path("missing.txt");
    assert_int_equal(port_file_open(&f, missing, PORT_FILE_READ), PORT_ERR_NOENT);
    assert_int_equal(f.fd, -1);
    assert_int_equal(port_file_open(&f, missing, PORT_FILE_WRITE), PORT_ERR_NOENT);
    assert_int_equal(port_file_remove(missing), PORT_ERR_NOENT);
    assert_int_equal(port_path_stat(missing, NULL, NULL), PORT_ERR_NOENT);
    assert_int_equal(port_file_rename(missing, tmpdir_path_n(1, "to.txt")), PORT_ERR_NOENT);
    assert_int_equal(port_dir_sync(missing), PORT_ERR_NOENT);
    port_dir d;
    assert_int_equal(port_dir_open(&d, missing), PORT_ERR_NOENT);
    /* creating in a folder that does not exist */
    assert_int_equal(
        port_file_open(&f, tmp_path("no-dir/new.txt"), PORT_FILE_WRITE | PORT_FILE_CREATE),
        PORT_ERR_NOENT);
    assert_int_equal(port_dir_create(tmp_path("no-dir/sub")), PORT_ERR_NOENT);
}

/* A path that runs through a regular file fails with ENOTDIR, which the port
 * reports as PORT_ERR_NOENT: that file or folder does not exist. */
static void path_under_a_regular_file_is_noent(void **state)
{
    (void)state;
    write_text(tmp_path("plain"), PORT_FILE_CREATE, "x");
    port_file f;
    port_file_init(&f);
    assert_int_equal(port_file_open(&f, tmp_path("plain/child"), PORT_FILE_READ), PORT_ERR_NOENT);
    assert_int_equal(
        port_file_open(&f, tmp_path("plain/child"), PORT_FILE_WRITE | PORT_FILE_CREATE),
        PORT_ERR_NOENT);
    assert_int_equal(port_path_stat(tmp_path("plain/child"), NULL, NULL), PORT_ERR_NOENT);
    assert_int_equal(port_file_remove(tmp_path("plain")), PORT_OK);
}

/* Writing through a handle opened for reading only: the OS says EBADF, the
 * port PORT_ERR_IO (it is a misuse, not a permission the user could fix). */
/* The folder of a file path, as the durable replace syncs it. */
static void folder_of_a_path(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(port_path_folder("users.csv", out, sizeof out), PORT_OK);
    assert_string_equal(out, ".");
    assert_int_equal(port_path_folder("/users.csv", out, sizeof out), PORT_OK);
    assert_string_equal(out, "/");
    assert_int_equal(port_path_folder("out/sub/users.csv", out, sizeof out), PORT_OK);
    assert_string_equal(out, "out/sub");
    assert_int_equal(port_path_folder("out/", out, sizeof out), PORT_OK);
    assert_string_equal(out, "out");
    assert_int_equal(port_path_folder("0123456789abcdef/x", out, sizeof out), PORT_ERR_IO);
    assert_int_equal(port_path_folder("0123456789abcde/x", out, sizeof out), PORT_OK);
}

/* A durable replace: the new content under the old name, the temporary
 * gone; a missing temporary leaves the old file alone. */
static void replace_moves_the_new_file_over_the_old(void **state)
{
    (void)state;
    char buf[32];
    size_t got = 0;
    port_file f;
    const char *old_path = tmpdir_path_n(1, "replace.txt");
    const char *new_path = tmpdir_path_n(2, "replace.txt.tmp");
    write_text(old_path, PORT_FILE_CREATE | PORT_FILE_TRUNC, "old");
    write_text(new_path, PORT_FILE_CREATE | PORT_FILE_TRUNC, "new");
    assert_int_equal(port_file_replace(new_path, old_path), PORT_OK);
    assert_int_equal(port_path_stat(new_path, NULL, NULL), PORT_ERR_NOENT);
    port_file_init(&f);
    assert_int_equal(port_file_open(&f, old_path, 0), PORT_OK);
    assert_int_equal(port_file_read(&f, buf, sizeof buf, &got), PORT_OK);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "new", 3);
    assert_int_equal(port_file_close(&f), PORT_OK);
    assert_int_equal(port_file_replace(new_path, old_path), PORT_ERR_NOENT);
    assert_int_equal(port_path_stat(old_path, NULL, NULL), PORT_OK);
}

static void write_to_read_only_handle_is_io_error(void **state)
{
    (void)state;
    const char *path = tmp_path("ro-handle.txt");
    write_text(path, PORT_FILE_CREATE, "keep");
    port_file f;
    port_file_init(&f);
    assert_int_equal(port_file_open(&f, path, PORT_FILE_READ), PORT_OK);
    assert_int_equal(port_file_write(&f, "zz", 2), PORT_ERR_IO);
    assert_true(port_last_os_error()[0] != '\0');
    assert_int_equal(port_file_close(&f), PORT_OK);
    char text[16];
    assert_int_equal(read_text(path, text, sizeof text), 4);
    assert_string_equal(text, "keep");
    assert_int_equal(port_file_remove(path), PORT_OK);
}

/* Creating in, and removing from, a read-only folder (0555). Root ignores
 * the mode bits, so when running as root the attempts are made by a child
 * process that has dropped to uid/gid 65534 (nobody) and reports the
 * statuses through a pipe; the child first checks that it can see the
 * folder, so the refusal really comes from the folder's missing write bit. */
typedef struct {
    int dropped;        /* 1 when the attempts ran without root's override */
    port_status seen;   /* port_path_stat of the folder */
    port_status create; /* port_file_open(CREATE) of a new file in it */
    port_status mkdir;  /* port_dir_create of a sub-folder */
    port_status remove; /* port_file_remove of a file in it */
} ro_attempt;

static ro_attempt try_read_only_folder(void)
{
    ro_attempt a;
    a.dropped = geteuid() != 0;
    a.seen = port_path_stat(tmpdir_path_n(1, "ro"), NULL, NULL);
    port_file f;
    port_file_init(&f);
    a.create =
        port_file_open(&f, tmpdir_path_n(2, "ro/new.txt"), PORT_FILE_WRITE | PORT_FILE_CREATE);
    (void)port_file_close(&f);
    a.mkdir = port_dir_create(tmpdir_path_n(2, "ro/sub"));
    a.remove = port_file_remove(tmpdir_path_n(3, "ro/existing"));
    return a;
}

static void read_only_folder_refuses_with_access_error(void **state)
{
    (void)state;
    const char *ro = tmpdir_path_n(1, "ro");
    assert_int_equal(port_dir_create(ro), PORT_OK);
    write_text(tmpdir_path_n(3, "ro/existing"), PORT_FILE_CREATE, "x");
    assert_int_equal(chmod(ro, 0555), 0);
    ro_attempt a;
    if (geteuid() != 0) {
        a = try_read_only_folder();
    } else {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(chmod(tmp_dir, 0755), 0); /* let nobody reach ro */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            memset(&a, 0, sizeof a);
            if (setgid(65534) == 0 && setuid(65534) == 0)
                a = try_read_only_folder();
            _exit(write(fds[1], &a, sizeof a) == (ssize_t)sizeof a ? 0 : 1);
        }
        close(fds[1]);
        memset(&a, 0, sizeof a);
        ssize_t n = read(fds[0], &a, sizeof a);
        close(fds[0]);
        int wstatus = 0;
        assert_int_equal(waitpid(pid, &wstatus, 0), pid);
        assert_int_equal(chmod(tmp_dir, 0700), 0);
        assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
        assert_int_equal(n, sizeof a);
    }
    assert_int_equal(chmod(ro, 0755), 0);
    assert_true(a.dropped);
    assert_int_equal(a.seen, PORT_OK);
    assert_int_equal(a.create, PORT_ERR_ACCESS);
    assert_int_equal(a.mkdir, PORT_ERR_ACCESS);
    assert_int_equal(a.remove, PORT_ERR_ACCESS);
    assert_int_equal(port_path_stat(tmpdir_path_n(3, "ro/existing"), NULL, NULL), PORT_OK);
    assert_int_equal(port_path_stat(tmpdir_path_n(2, "ro/new.txt"), NULL, NULL), PORT_ERR_NOENT);
}

static void private_flag_creates_owner_only_file(void **state)
{
    (void)state;
    mode_t old = umask(022);
    const char *priv = tmpdir_path_n(0, "secret.key");
    const char *pub = tmpdir_path_n(1, "public.txt");
    write_text(priv, PORT_FILE_CREATE | PORT_FILE_PRIVATE, "s");
    write_text(pub, PORT_FILE_CREATE, "p");
    (void)umask(old);
    struct stat st;
    assert_int_equal(stat(priv, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(port_file_remove(priv), PORT_OK);
    assert_int_equal(port_file_remove(pub), PORT_OK);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Opens path with port_file_open_mode, writes text, closes. */
static void write_mode(const char *path, unsigned flags, unsigned mode, const char *text)
{
    port_file f;
    port_file_init(&f);
    assert_int_equal(port_file_open_mode(&f, path, PORT_FILE_WRITE | flags, mode), PORT_OK);
    assert_int_equal(port_file_write(&f, text, strlen(text)), PORT_OK);
    assert_int_equal(port_file_close(&f), PORT_OK);
}

static void open_mode_creates_exactly_the_mode_whatever_the_umask(void **state)
{
    (void)state;
    static const mode_t umasks[] = {0, 022, 077};
    static const unsigned modes[] = {0600, 0640, 0644, 0666, 0400};
    for (size_t u = 0; u < 3; u++) {
        mode_t old = umask(umasks[u]);
        for (size_t m = 0; m < 5; m++) {
            const char *path = tmpdir_path_n(0, "moded.csv");
            write_mode(path, PORT_FILE_CREATE | PORT_FILE_APPEND, modes[m], "x");
            assert_int_equal(mode_of(path), modes[m]);
            assert_int_equal(port_file_remove(path), PORT_OK);
        }
        (void)umask(old);
    }
}

static void open_mode_keeps_an_appended_file_mode_and_sets_a_truncated_one(void **state)
{
    (void)state;
    char text[16];
    const char *path = tmpdir_path_n(0, "kept.csv");
    write_mode(path, PORT_FILE_CREATE | PORT_FILE_APPEND, 0600, "a");
    assert_int_equal(chmod(path, 0644), 0); /* the user's choice */
    write_mode(path, PORT_FILE_CREATE | PORT_FILE_APPEND, 0600, "b");
    assert_int_equal(mode_of(path), 0644);
    assert_int_equal(read_text(path, text, sizeof text), 2);
    assert_string_equal(text, "ab");
    write_mode(path, PORT_FILE_CREATE | PORT_FILE_TRUNC, 0640, "c"); /* rewritten whole */
    assert_int_equal(mode_of(path), 0640);
    assert_int_equal(read_text(path, text, sizeof text), 1);
    /* a file created owner-read-only is still appended to by its owner */
    write_mode(path, PORT_FILE_CREATE | PORT_FILE_TRUNC, 0400, "d");
    assert_int_equal(mode_of(path), 0400);
    write_mode(path, PORT_FILE_CREATE | PORT_FILE_APPEND, 0400, "e");
    assert_int_equal(mode_of(path), 0400);
    assert_int_equal(read_text(path, text, sizeof text), 2);
    assert_string_equal(text, "de");
    /* ... but not one the user made read-only with another mode */
    if (geteuid() != 0) {
        port_file f;
        port_file_init(&f);
        assert_int_equal(port_file_open_mode(&f, path, PORT_FILE_WRITE | PORT_FILE_APPEND, 0600),
                         PORT_ERR_ACCESS);
        assert_int_equal(mode_of(path), 0400);
    }
    assert_int_equal(port_file_remove(path), PORT_OK);
    port_file f;
    port_file_init(&f);
    assert_int_equal(port_file_open_mode(&f, path, PORT_FILE_WRITE, 0600), PORT_ERR_NOENT);
}

static void readable_by_others_follows_group_and_other_read_bits(void **state)
{
    (void)state;
    static const struct {
        mode_t mode;
        int readable;
    } modes[] = {{0600, 0}, {0700, 0}, {0622, 0}, {0640, 1}, {0604, 1}, {0644, 1}, {0000, 0}};
    const char *path = tmp_path("perm.txt");
    write_text(path, PORT_FILE_CREATE, "x");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(path, modes[i].mode), 0);
        int readable = -1;
        assert_int_equal(port_path_readable_by_others(path, &readable), PORT_OK);
        if (readable != modes[i].readable)
            fail_msg("mode %04o: readable_by_others %d", (unsigned)modes[i].mode, readable);
    }
    int readable = -1;
    assert_int_equal(port_path_readable_by_others(tmp_path("missing"), &readable), PORT_ERR_NOENT);
    assert_int_equal(port_file_remove(tmp_path("perm.txt")), PORT_OK);
}

static void getenv_reads_the_environment(void **state)
{
    (void)state;
    assert_int_equal(setenv("COUNTLY_SYNC_TEST_VAR", "value 1", 1), 0);
    assert_string_equal(port_getenv("COUNTLY_SYNC_TEST_VAR"), "value 1");
    assert_int_equal(unsetenv("COUNTLY_SYNC_TEST_VAR"), 0);
    assert_null(port_getenv("COUNTLY_SYNC_TEST_VAR"));
}

static void console_is_terminal_tells_whether_stderr_is_a_tty(void **state)
{
    (void)state;
    assert_int_equal(port_console_is_terminal() != 0, isatty(STDERR_FILENO) != 0);
}

static void rename_replaces_target_atomically(void **state)
{
    (void)state;
    const char *from = tmpdir_path_n(0, "state.json.tmp");
    const char *to = tmpdir_path_n(1, "state.json");
    char text[64];
    write_text(to, PORT_FILE_CREATE, "old state");
    write_text(from, PORT_FILE_CREATE, "new state");
    assert_int_equal(port_file_rename(from, to), PORT_OK);
    assert_int_equal(port_dir_sync(tmp_dir), PORT_OK);
    assert_int_equal(read_text(to, text, sizeof text), 9);
    assert_string_equal(text, "new state");
    assert_int_equal(port_path_stat(from, NULL, NULL), PORT_ERR_NOENT);
    assert_int_equal(port_file_remove(to), PORT_OK);
}

static void dir_create_is_ok_when_folder_exists(void **state)
{
    (void)state;
    const char *dir = tmpdir_path_n(1, "made");
    assert_int_equal(port_dir_create(dir), PORT_OK);
    assert_int_equal(port_dir_create(dir), PORT_OK);
    int is_dir = 0;
    assert_int_equal(port_path_stat(dir, &is_dir, NULL), PORT_OK);
    assert_int_equal(is_dir, 1);
    struct stat st;
    mode_t old = umask(022);
    assert_int_equal(port_dir_create(tmp_path("made2")), PORT_OK);
    (void)umask(old);
    assert_int_equal(stat(tmp_path("made2"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    assert_int_equal(port_dir_sync(dir), PORT_OK);
    assert_int_equal(rmdir(tmp_path("made2")), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void dir_listing_gives_every_name_but_dot_entries(void **state)
{
    (void)state;
    const char *dir = tmpdir_path_n(1, "list");
    assert_int_equal(port_dir_create(dir), PORT_OK);
    static const char *const names[] = {"a.pem", "b.txt", ".hidden", "sub"};
    char path[1100];
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        write_text(path, PORT_FILE_CREATE, "x");
    }
    (void)snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(port_dir_create(path), PORT_OK);

    port_dir d;
    assert_int_equal(port_dir_open(&d, dir), PORT_OK);
    int seen[4] = {0, 0, 0, 0};
    char name[256];
    size_t count = 0;
    port_status st;
    while ((st = port_dir_next(&d, name, sizeof name)) == PORT_OK) {
        count++;
        assert_string_not_equal(name, ".");
        assert_string_not_equal(name, "..");
        int known = 0;
        for (size_t i = 0; i < 4; i++) {
            if (strcmp(name, names[i]) == 0) {
                seen[i]++;
                known = 1;
            }
        }
        assert_true(known);
    }
    assert_int_equal(st, PORT_ERR_EOF);
    assert_int_equal(port_dir_next(&d, name, sizeof name), PORT_ERR_EOF);
    port_dir_close(&d);
    assert_null(d.handle);
    port_dir_close(&d); /* closing twice is safe */
    assert_int_equal(count, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(seen[i], 1);

    /* names that do not fit the caller's buffer are passed over */
    assert_int_equal(port_dir_open(&d, dir), PORT_OK);
    char small[6]; /* fits "a.pem", "b.txt", "sub"; not ".hidden" */
    count = 0;
    while (port_dir_next(&d, small, sizeof small) == PORT_OK) {
        assert_true(strlen(small) < sizeof small);
        assert_string_not_equal(small, ".hidden");
        count++;
    }
    port_dir_close(&d);
    assert_int_equal(count, 3);
}

static void listing_an_empty_folder_ends_at_once(void **state)
{
    (void)state;
    const char *dir = tmp_path("empty");
    assert_int_equal(port_dir_create(dir), PORT_OK);
    port_dir d;
    char name[64];
    assert_int_equal(port_dir_open(&d, dir), PORT_OK);
    assert_int_equal(port_dir_next(&d, name, sizeof name), PORT_ERR_EOF);
    port_dir_close(&d);
    assert_int_equal(rmdir(dir), 0);
}

static void strerror_has_words_for_every_status(void **state)
{
    (void)state;
    for (int s = PORT_OK; s <= PORT_ERR_LOCKED; s++)
        assert_string_not_equal(port_strerror((port_status)s), "unknown port status");
    assert_string_equal(port_strerror(PORT_ERR_NOENT), "no such file or folder");
    assert_string_equal(port_strerror((port_status)77), "unknown port status");
}

/* ---- network ------------------------------------------------------------------------------ */

/* A listening socket on addr (127.0.0.1 or ::1), any free port. */
static int listen_on(int family, uint16_t *port, int backlog)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

typedef struct {
    int listener;
    int peer; /* the accepted server side */
    uint16_t port;
    port_socket sock;
} conn_pair;

static void connect_pair(conn_pair *p, int family, const char *host)
{
    p->listener = listen_on(family, &p->port, 8);
    assert_true(p->listener >= 0);
    port_socket_init(&p->sock);
    assert_int_equal(p->sock.fd, -1);
    assert_int_equal(port_net_connect(&p->sock, host, p->port, 2000), PORT_OK);
    assert_true(p->sock.fd >= 0);
    p->peer = accept(p->listener, NULL, NULL);
    assert_true(p->peer >= 0);
}

static void close_pair(conn_pair *p)
{
    port_net_close(&p->sock);
    assert_int_equal(p->sock.fd, -1);
    port_net_close(&p->sock); /* closing twice is safe */
    if (p->peer >= 0)
        close(p->peer);
    close(p->listener);
}

static void round_trip(conn_pair *p)
{
    port_io io = port_net_send(&p->sock, (const uint8_t *)"ping", 4, 1000);
    assert_int_equal(io.kind, PORT_IO_DATA);
    assert_int_equal(io.n, 4);
    char buf[16];
    size_t got = 0;
    while (got < 4) {
        ssize_t n = read(p->peer, buf + got, 4 - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write(p->peer, "pong!", 5), 5);
    uint8_t in[16];
    got = 0;
    while (got < 5) {
        io = port_net_recv(&p->sock, in + got, sizeof in - got, 1000);
        assert_int_equal(io.kind, PORT_IO_DATA);
        assert_true(io.n > 0);
        got += io.n;
    }
    assert_memory_equal(in, "pong!", 5);
}

static void send_and_receive_over_ipv4_loopback(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "127.0.0.1");
    round_trip(&p);
    close_pair(&p);
}

/* "localhost" resolves to one or more loopback addresses; the port tries
 * each until one answers (the listener is IPv4 only). */
static void connects_to_localhost_name(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "localhost");
    round_trip(&p);
    close_pair(&p);
}

static int ipv6_loopback_available(void)
{
    uint16_t port = 0;
    int fd = listen_on(AF_INET6, &port, 1);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static void send_and_receive_over_ipv6_loopback(void **state)
{
    (void)state;
    if (!ipv6_loopback_available()) {
        /* no ::1 on this machine: connecting to it must fail, not hang or succeed */
        port_socket s;
        port_socket_init(&s);
        assert_int_not_equal(port_net_connect(&s, "::1", 9, 1000), PORT_OK);
        assert_int_equal(s.fd, -1);
        return;
    }
    conn_pair p;
    connect_pair(&p, AF_INET6, "::1");
    round_trip(&p);
    close_pair(&p);
}

static void recv_without_data_times_out_after_the_timeout(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "127.0.0.1");
    static const uint32_t timeouts[] = {0, 50, 300};
    for (size_t i = 0; i < 3; i++) {
        uint8_t buf[8];
        uint64_t start = port_clock_ms();
        port_io io = port_net_recv(&p.sock, buf, sizeof buf, timeouts[i]);
        uint64_t elapsed = port_clock_ms() - start;
        assert_int_equal(io.kind, PORT_IO_TIMEOUT);
        assert_int_equal(io.n, 0);
        assert_in_range(elapsed, timeouts[i], timeouts[i] + 500);
    }
    /* the connection is still usable */
    round_trip(&p);
    close_pair(&p);
}

static void recv_reports_closed_when_peer_closes(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "127.0.0.1");
    assert_int_equal(write(p.peer, "last", 4), 4);
    close(p.peer);
    p.peer = -1;
    uint8_t buf[16];
    size_t got = 0;
    port_io io;
    for (;;) {
        io = port_net_recv(&p.sock, buf + got, sizeof buf - got, 1000);
        if (io.kind != PORT_IO_DATA)
            break;
        assert_true(io.n > 0);
        got += io.n;
    }
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "last", 4);
    assert_int_equal(io.kind, PORT_IO_CLOSED);
    assert_int_equal(io.n, 0);
    /* and again: still closed, at once */
    uint64_t start = port_clock_ms();
    io = port_net_recv(&p.sock, buf, sizeof buf, 1000);
    assert_int_equal(io.kind, PORT_IO_CLOSED);
    assert_true(port_clock_ms() - start < 500);
    close_pair(&p);
}

static void recv_waits_for_data_that_arrives_later(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "127.0.0.1");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        port_sleep_ms(100);
        _exit(write(p.peer, "late", 4) == 4 ? 0 : 1);
    }
    uint8_t buf[8];
    uint64_t start = port_clock_ms();
    port_io io = port_net_recv(&p.sock, buf, sizeof buf, 3000);
    uint64_t elapsed = port_clock_ms() - start;
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    assert_int_equal(io.kind, PORT_IO_DATA);
    assert_true(io.n >= 1 && io.n <= 4);
    assert_memory_equal(buf, "late", io.n);
    assert_in_range(elapsed, 50, 2500);
    close_pair(&p);
}

static void send_times_out_when_peer_does_not_read(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "127.0.0.1");
    int small = 4096;
    (void)setsockopt(p.peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    (void)setsockopt(p.sock.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    static uint8_t chunk[65536];
    port_io io = {PORT_IO_DATA, 0, 0};
    uint64_t elapsed = 0;
    size_t total = 0;
    for (int i = 0; i < 4096 && io.kind == PORT_IO_DATA; i++) {
        uint64_t start = port_clock_ms();
        io = port_net_send(&p.sock, chunk, sizeof chunk, 100);
        elapsed = port_clock_ms() - start;
        if (io.kind == PORT_IO_DATA) {
            assert_true(io.n > 0 && io.n <= sizeof chunk);
            total += io.n;
        }
    }
    assert_int_equal(io.kind, PORT_IO_TIMEOUT);
    assert_int_equal(io.n, 0);
    assert_true(total > 0);
    assert_in_range(elapsed, 100, 600);
    close_pair(&p);
}

/* A failed transfer carries its own system error number, so that the
 * caller words it later without reading errno again. */
static void failed_transfer_carries_its_os_error(void **state)
{
    (void)state;
    port_file f;
    port_file_init(&f);
    write_text(tmpdir_path_n(1, "not-a-socket"), PORT_FILE_CREATE | PORT_FILE_TRUNC, "x");
    assert_int_equal(port_file_open(&f, tmpdir_path_n(1, "not-a-socket"), 0), PORT_OK);
    port_socket s = {f.fd};
    uint8_t buf[4];
    port_io io = port_net_recv(&s, buf, sizeof buf, 100);
    assert_int_equal(io.kind, PORT_IO_ERROR);
    assert_int_equal(io.os_error, ENOTSOCK);
    io = port_net_send(&s, buf, sizeof buf, 100);
    assert_int_equal(io.kind, PORT_IO_ERROR);
    assert_int_equal(io.os_error, ENOTSOCK);
    errno = 0; /* what errno says later does not matter */
    assert_string_equal(port_os_error_text(io.os_error), strerror(ENOTSOCK));
    assert_int_equal(port_file_close(&f), PORT_OK);
}

/* Sending to a peer that has gone: no SIGPIPE kills the process, the port
 * reports CLOSED (EPIPE) or ERROR (reset), never DATA for ever. */
static void send_to_closed_peer_fails_without_sigpipe(void **state)
{
    (void)state;
    conn_pair p;
    connect_pair(&p, AF_INET, "127.0.0.1");
    close(p.peer);
    p.peer = -1;
    port_io io = {PORT_IO_DATA, 0, 0};
    for (int i = 0; i < 100 && io.kind == PORT_IO_DATA; i++) {
        io = port_net_send(&p.sock, (const uint8_t *)"data", 4, 500);
        if (io.kind == PORT_IO_DATA)
            port_sleep_ms(5);
    }
    assert_true(io.kind == PORT_IO_CLOSED || io.kind == PORT_IO_ERROR);
    close_pair(&p);
}

static void connect_to_closed_port_is_refused(void **state)
{
    (void)state;
    uint16_t port = 0;
    int fd = listen_on(AF_INET, &port, 1);
    assert_true(fd >= 0);
    close(fd); /* nobody listens there now */
    port_socket s;
    port_socket_init(&s);
    uint64_t start = port_clock_ms();
    assert_int_equal(port_net_connect(&s, "127.0.0.1", port, 2000), PORT_ERR_REFUSED);
    assert_true(port_clock_ms() - start < 1500);
    assert_int_equal(s.fd, -1);
}

static void connect_to_unresolvable_name_is_resolve_error(void **state)
{
    (void)state;
    port_socket s;
    port_socket_init(&s);
    assert_int_equal(port_net_connect(&s, "no-such-host.invalid", 443, 2000), PORT_ERR_RESOLVE);
    assert_int_equal(s.fd, -1);
    assert_int_equal(port_net_connect(&s, "", 443, 2000), PORT_ERR_RESOLVE);
    assert_int_equal(port_net_connect(&s, "[::1]", 443, 2000), PORT_ERR_RESOLVE);
    assert_int_equal(s.fd, -1);
}

/* A listener whose accept queue is full (backlog 0, nobody accepts) drops
 * further SYNs, so a connect to it waits and must give up at the timeout. */
static void connect_times_out_when_listener_does_not_answer(void **state)
{
    (void)state;
    uint16_t port = 0;
    int fd = listen_on(AF_INET, &port, 0);
    assert_true(fd >= 0);
    port_socket socks[8];
    port_status st = PORT_OK;
    uint64_t elapsed = 0;
    size_t used = 0;
    for (; used < 8 && st == PORT_OK; used++) {
        port_socket_init(&socks[used]);
        uint64_t start = port_clock_ms();
        st = port_net_connect(&socks[used], "127.0.0.1", port, 200);
        elapsed = port_clock_ms() - start;
    }
    assert_int_equal(st, PORT_ERR_TIMEOUT);
    assert_in_range(elapsed, 200, 700);
    assert_int_equal(socks[used - 1].fd, -1);
    for (size_t i = 0; i < used; i++)
        port_net_close(&socks[i]);
    close(fd);
}

typedef struct {
    const char *host;
    int loopback;
} loopback_case;

static void host_is_loopback_only_for_loopback_literals_and_localhost(void **state)
{
    (void)state;
    static const loopback_case cases[] = {
        {"127.0.0.1", 1},
        {"127.8.9.10", 1},
        {"127.255.255.255", 1},
        {"::1", 1},
        {"0:0:0:0:0:0:0:1", 1},
        {"localhost", 1},
        {"128.0.0.1", 0},
        {"126.255.255.255", 0},
        {"10.0.0.1", 0},
        {"0.0.0.0", 0},
        {"::2", 0},
        {"::", 0},
        {"example.com", 0},
        {"localhost.evil.com", 0},
        {"evil-localhost", 0},
        {"127.0.0.1.evil.com", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (port_host_is_loopback(cases[i].host) != cases[i].loopback)
            fail_msg("port_host_is_loopback(\"%s\") should be %d", cases[i].host,
                     cases[i].loopback);
    }
}

/* ---- time and randomness ------------------------------------------------------------- */

static void clock_is_monotonic_and_counts_milliseconds(void **state)
{
    (void)state;
    uint64_t prev = port_clock_ms();
    for (int i = 0; i < 100000; i++) {
        uint64_t now = port_clock_ms();
        assert_true(now >= prev);
        prev = now;
    }
    uint64_t start = port_clock_ms();
    port_sleep_ms(60);
    uint64_t slept = port_clock_ms() - start;
    assert_in_range(slept, 59, 560);
    start = port_clock_ms();
    port_sleep_ms(0);
    assert_true(port_clock_ms() - start < 100);
}

static void utc_time_is_close_to_time(void **state)
{
    (void)state;
    int64_t before = (int64_t)time(NULL);
    int64_t utc = port_time_utc();
    int64_t after = (int64_t)time(NULL);
    assert_true(utc >= before - 1);
    assert_true(utc <= after + 1);
    assert_true(utc > 1700000000); /* after November 2023 */
}

static void entropy_fills_buffer_with_fresh_bytes(void **state)
{
    (void)state;
    uint8_t a[64], b[64], zero[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(zero, 0, sizeof zero);
    assert_int_equal(port_entropy(a, sizeof a), PORT_OK);
    assert_int_equal(port_entropy(b, sizeof b), PORT_OK);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_memory_not_equal(b, zero, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    /* the last bytes are filled too */
    uint8_t big[1000];
    memset(big, 0, sizeof big);
    assert_int_equal(port_entropy(big, sizeof big), PORT_OK);
    assert_memory_not_equal(big + 936, zero, 64);
    assert_int_equal(port_entropy(big, 0), PORT_OK);
}

/* port.h: "Creates a folder (mode 0755); PORT_OK when it already exists."
 * A regular file in the way is not a folder that exists: the OS error is
 * ENOTDIR ("Not a directory", as mkdir -p says), the status that of a path
 * through a file (PORT_ERR_NOENT), not "File exists". */
static void dir_create_fails_when_a_file_has_the_name(void **state)
{
    (void)state;
    const char *path = tmp_path("not-a-dir");
    write_text(path, PORT_FILE_CREATE, "x");
    assert_int_equal(port_dir_create(path), PORT_ERR_NOENT);
    assert_string_equal(port_last_os_error(), strerror(ENOTDIR));
    assert_int_equal(port_dir_create(tmpdir_path_n(1, "not-a-dir/sub")), PORT_ERR_NOENT);
    assert_string_equal(port_last_os_error(), strerror(ENOTDIR));
    assert_int_equal(port_file_remove(path), PORT_OK);
}

/* port.h: an exclusive lock without waiting; a second holder is refused
 * (flock locks belong to the open file, so two opens in one process
 * contend as two processes would), and closing releases it. */
static void file_lock_is_exclusive_and_released_on_close(void **state)
{
    (void)state;
    const char *path = tmp_path("run.lock");
    port_file a, b;
    port_file_init(&a);
    port_file_init(&b);
    assert_int_equal(port_file_open(&a, path, PORT_FILE_READ | PORT_FILE_WRITE | PORT_FILE_CREATE),
                     PORT_OK);
    assert_int_equal(port_file_open(&b, path, PORT_FILE_READ | PORT_FILE_WRITE), PORT_OK);
    assert_int_equal(port_file_lock(&a), PORT_OK);
    assert_int_equal(port_file_lock(&b), PORT_ERR_LOCKED);
    assert_int_equal(port_file_close(&a), PORT_OK);
    assert_int_equal(port_file_lock(&b), PORT_OK);
    assert_int_equal(port_file_close(&b), PORT_OK);
    assert_true(port_process_id() == (unsigned long)getpid());
}

/* Sends SIGTERM to the process after 200 ms (from another thread). */
static void *term_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200 * 1000000L};
    (void)nanosleep(&ts, NULL);
    (void)kill(getpid(), SIGTERM);
    return NULL;
}

/* port.h: once caught, a stop signal ends a long network wait within about
 * a second (EINTR), and later waits and sleeps end at once. Last: the flag
 * stays set for the rest of the process. */
static void stop_signal_ends_waits(void **state)
{
    (void)state;
    conn_pair p;
    pthread_t t;
    uint8_t buf[8];
    connect_pair(&p, AF_INET, "127.0.0.1");
    assert_int_equal(port_interrupted(), 0);
    port_signals_catch();
    assert_int_equal(pthread_create(&t, NULL, term_later, NULL), 0);
    uint64_t start = port_clock_ms();
    port_io io = port_net_recv(&p.sock, buf, sizeof buf, 10000);
    uint64_t elapsed = port_clock_ms() - start;
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(io.kind, PORT_IO_ERROR);
    assert_int_equal(io.os_error, EINTR);
    assert_in_range(elapsed, 150, 1500);
    assert_int_equal(port_interrupted(), SIGTERM);
    assert_string_equal(port_signal_name(port_interrupted()), "SIGTERM");
    assert_string_equal(port_signal_name(SIGHUP), "SIGHUP");
    start = port_clock_ms();
    port_sleep_ms(5000);
    io = port_net_recv(&p.sock, buf, sizeof buf, 5000);
    assert_int_equal(io.kind, PORT_IO_ERROR);
    assert_in_range(port_clock_ms() - start, 0, 500);
    close_pair(&p);
}

int main(void)
{
    (void)signal(SIGPIPE, SIG_DFL); /* the port must not rely on SIGPIPE being ignored */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dir_create_fails_when_a_file_has_the_name),
        cmocka_unit_test(file_write_read_size_sync_truncate_round_trip),
        cmocka_unit_test(folder_of_a_path),
        cmocka_unit_test(failed_transfer_carries_its_os_error),
        cmocka_unit_test(replace_moves_the_new_file_over_the_old),
        cmocka_unit_test(truncate_flag_empties_and_append_flag_appends),
        cmocka_unit_test(missing_files_are_noent),
        cmocka_unit_test(path_under_a_regular_file_is_noent),
        cmocka_unit_test(write_to_read_only_handle_is_io_error),
        cmocka_unit_test(read_only_folder_refuses_with_access_error),
        cmocka_unit_test(private_flag_creates_owner_only_file),
        cmocka_unit_test(readable_by_others_follows_group_and_other_read_bits),
        cmocka_unit_test(open_mode_creates_exactly_the_mode_whatever_the_umask),
        cmocka_unit_test(open_mode_keeps_an_appended_file_mode_and_sets_a_truncated_one),
        cmocka_unit_test(getenv_reads_the_environment),
        cmocka_unit_test(console_is_terminal_tells_whether_stderr_is_a_tty),
        cmocka_unit_test(rename_replaces_target_atomically),
        cmocka_unit_test(dir_create_is_ok_when_folder_exists),
        cmocka_unit_test(dir_listing_gives_every_name_but_dot_entries),
        cmocka_unit_test(listing_an_empty_folder_ends_at_once),
        cmocka_unit_test(strerror_has_words_for_every_status),
        cmocka_unit_test(send_and_receive_over_ipv4_loopback),
        cmocka_unit_test(connects_to_localhost_name),
        cmocka_unit_test(send_and_receive_over_ipv6_loopback),
        cmocka_unit_test(recv_without_data_times_out_after_the_timeout),
        cmocka_unit_test(recv_reports_closed_when_peer_closes),
        cmocka_unit_test(recv_waits_for_data_that_arrives_later),
        cmocka_unit_test(send_times_out_when_peer_does_not_read),
        cmocka_unit_test(send_to_closed_peer_fails_without_sigpipe),
        cmocka_unit_test(connect_to_closed_port_is_refused),
        cmocka_unit_test(connect_to_unresolvable_name_is_resolve_error),
        cmocka_unit_test(connect_times_out_when_listener_does_not_answer),
        cmocka_unit_test(host_is_loopback_only_for_loopback_literals_and_localhost),
        cmocka_unit_test(clock_is_monotonic_and_counts_milliseconds),
        cmocka_unit_test(utc_time_is_close_to_time),
        cmocka_unit_test(entropy_fills_buffer_with_fresh_bytes),
        cmocka_unit_test(file_lock_is_exclusive_and_released_on_close),
        cmocka_unit_test(stop_signal_ends_waits), /* last: the flag stays set */
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
