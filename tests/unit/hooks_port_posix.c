/*
 * hooks_port_posix.c - unit tests of the POSIX port's test hooks
 * (port/posix/port_posix_hooks.h), built only against the test-hooks
 * objects: `make hooks` links it as $(OUT)/tests/test_port_hooks.
 *
 * The hooks read their environment once per process, so every case runs
 * in a child (fork) that sets its variables first; the parent checks how
 * the child ended and what it left in the case's folder.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_tmpdir.h"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "port.h"

static int group_setup(void **state)
{
    (void)state;
    return tmpdir_create("test_port_hooks");
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

static uint64_t real_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void read_all(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    (void)fclose(f);
}

/* Runs child() in a child process with stderr to err_path; its wait status. */
static int run_child(void (*child)(void), const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
            _exit(90);
        child();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void write_file(const char *path, const char *text)
{
    port_file f;
    port_file_init(&f);
    if (port_file_open(&f, path, PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_TRUNC) != PORT_OK)
        _exit(91);
    if (port_file_write(&f, text, strlen(text)) != PORT_OK)
        _exit(92);
    if (port_file_sync(&f) != PORT_OK) /* operation 1: crash points 1 and 2 */
        _exit(93);
    (void)port_file_close(&f);
}

/* ---- fake sleep ----------------------------------------------------------------------------- */

static void child_fake_sleep(void)
{
    if (setenv("COUNTLY_SYNC_FAKE_SLEEP", "1", 1) != 0 ||
        setenv("COUNTLY_SYNC_SLEEP_LOG", tmpdir_path_n(0, "sleeps"), 1) != 0)
        _exit(80);
    uint64_t clock0 = port_clock_ms();
    uint64_t real0 = real_ms();
    port_sleep_ms(1500);
    port_sleep_ms(250);
    uint64_t clock1 = port_clock_ms();
    uint64_t real1 = real_ms();
    if (clock1 - clock0 < 1750)
        _exit(81); /* the clock did not move on by the sleeps */
    if (clock1 - clock0 > 1750 + (real1 - real0) + 5)
        _exit(82); /* ... or by more */
    if (real1 - real0 > 1000)
        _exit(83); /* it waited */
    _exit(0);
}

static void fake_sleep_returns_at_once_and_moves_the_clock_on(void **state)
{
    (void)state;
    int status = run_child(child_fake_sleep, tmpdir_path_n(1, "fake.err"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char log[64];
    read_all(tmpdir_path_n(0, "sleeps"), log, sizeof log);
    assert_string_equal(log, "1500\n250\n");
}

static void child_real_sleep(void)
{
    if (setenv("COUNTLY_SYNC_SLEEP_LOG", tmpdir_path_n(0, "sleeps-real"), 1) != 0)
        _exit(80);
    uint64_t real0 = real_ms();
    uint64_t clock0 = port_clock_ms();
    port_sleep_ms(120);
    if (real_ms() - real0 < 120 || port_clock_ms() - clock0 < 120)
        _exit(81);
    _exit(0);
}

static void without_fake_sleep_the_wait_is_real_and_logged(void **state)
{
    (void)state;
    int status = run_child(child_real_sleep, tmpdir_path_n(1, "real.err"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char log[64];
    read_all(tmpdir_path_n(0, "sleeps-real"), log, sizeof log);
    assert_string_equal(log, "120\n");
}

/* ---- clock step ------------------------------------------------------------------------------ */

static void child_clock_step(void)
{
    int sv[2];
    if (setenv("COUNTLY_SYNC_CLOCK_STEP", "1000", 1) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        _exit(80);
    port_socket sock = {sv[0]};
    uint64_t clock0 = port_clock_ms();
    uint64_t real0 = real_ms();
    for (int i = 0; i < 3; i++) {
        port_io io = port_net_send(&sock, (const uint8_t *)"x", 1, 1000);
        if (io.kind != PORT_IO_DATA)
            _exit(81);
    }
    uint64_t moved = port_clock_ms() - clock0;
    if (moved < 3000 || moved > 3000 + (real_ms() - real0) + 5)
        _exit(82);
    _exit(0);
}

static void clock_step_moves_the_clock_on_at_every_send(void **state)
{
    (void)state;
    int status = run_child(child_clock_step, tmpdir_path_n(1, "step.err"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- crash points ------------------------------------------------------------------------------
 */

static const char *crash_at;

/* fsync (operation 1: points 1-2), rename (2: 3-4), folder fsync (3: 5-6). */
static void child_crash(void)
{
    if (setenv("COUNTLY_SYNC_CRASH_AT", crash_at, 1) != 0)
        _exit(80);
    write_file(tmpdir_path_n(0, "c.tmp"), "one\n");
    if (port_file_rename(tmpdir_path_n(0, "c.tmp"), tmpdir_path_n(1, "c.csv")) != PORT_OK)
        _exit(81);
    if (port_dir_sync(tmp_dir) != PORT_OK)
        _exit(82);
    _exit(0);
}

/* Runs child_crash with COUNTLY_SYNC_CRASH_AT=at; its wait status, stderr in err. */
static int crash_case(const char *at, char *err, size_t cap)
{
    (void)remove(tmpdir_path_n(0, "c.tmp"));
    (void)remove(tmpdir_path_n(0, "c.csv"));
    crash_at = at;
    int status = run_child(child_crash, tmpdir_path_n(1, "crash.err"));
    read_all(tmpdir_path_n(1, "crash.err"), err, cap);
    return status;
}

static int exists(const char *name)
{
    struct stat st;
    return stat(tmpdir_path_n(2, name), &st) == 0;
}

static void crash_points_count_before_and_after_each_durable_operation(void **state)
{
    (void)state;
    char err[512];

    int status = crash_case("1", err, sizeof err);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_non_null(strstr(err, "countly-sync-hooks: crash point 1: before fsync #1 ("));
    assert_non_null(strstr(err, "c.tmp)"));

    status = crash_case("3", err, sizeof err);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_non_null(strstr(err, "crash point 3: before rename #2 ("));
    assert_true(exists("c.tmp") && !exists("c.csv")); /* not renamed yet */

    status = crash_case("4", err, sizeof err);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_non_null(strstr(err, "crash point 4: after rename #2 ("));
    assert_true(!exists("c.tmp") && exists("c.csv")); /* renamed */

    status = crash_case("6", err, sizeof err);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_non_null(strstr(err, "crash point 6: after dirsync #3 ("));

    status = crash_case("7", err, sizeof err); /* past the last point: the run ends */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_null(strstr(err, "countly-sync-hooks:"));

    status = crash_case("", err, sizeof err); /* unset: no crash point */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void child_torn(void)
{
    if (setenv("COUNTLY_SYNC_CRASH_WRITE", "2", 1) != 0)
        _exit(80);
    port_file f;
    port_file_init(&f);
    if (port_file_open(&f, tmpdir_path_n(0, "torn.csv"),
                       PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_TRUNC) != PORT_OK)
        _exit(81);
    if (port_file_write(&f, "0123456789", 10) != PORT_OK) /* write 1: whole */
        _exit(82);
    (void)port_file_write(&f, "abcdefghij", 10); /* write 2: half, then SIGKILL */
    _exit(0);
}

static void crash_write_tears_the_nth_write_in_half(void **state)
{
    (void)state;
    int status = run_child(child_torn, tmpdir_path_n(1, "torn.err"));
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char text[64];
    read_all(tmpdir_path_n(0, "torn.csv"), text, sizeof text);
    assert_string_equal(text, "0123456789abcde");
    read_all(tmpdir_path_n(1, "torn.err"), text, sizeof text);
    assert_non_null(strstr(text, "countly-sync-hooks: torn write #2: 5 of 10 bytes ("));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fake_sleep_returns_at_once_and_moves_the_clock_on),
        cmocka_unit_test(without_fake_sleep_the_wait_is_real_and_logged),
        cmocka_unit_test(clock_step_moves_the_clock_on_at_every_send),
        cmocka_unit_test(crash_points_count_before_and_after_each_durable_operation),
        cmocka_unit_test(crash_write_tears_the_nth_write_in_half),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
