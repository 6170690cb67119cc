/*
 * test_report.c - the run report (JSON) and the metrics (Prometheus text
 * format): exact text for a given run, escaping, a small buffer flushed in
 * pieces, last_success read back, sha256 of a file, atomic save.
 */
#define _XOPEN_SOURCE 700 /* nftw, for test_tmpdir.h */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "report.h"
#include "test_tmpdir.h"

/* A run with every field set: 2024-06-05T15:11:40Z = 1717600300. */
static void sample_run(report_run *r)
{
    report_init(r, "sync", 1717600300);
    r->exit_code = 0;
    r->server_url = "https://countly.example.com";
    r->run_start = 1717600301;
    r->finished_at = 1717600312;
    r->duration_seconds = 12.25;
    r->streams[REPORT_APPS] = (report_stream){1, 1, 3, 1, 900, 300, 0.5};
    r->streams[REPORT_GROUPS] = (report_stream){1, 1, 0, 1, 20, 20, 0.125};
    r->streams[REPORT_USERS] = (report_stream){1, 0, 250, 3, 100000, 25000, 10};
    assert_int_equal(report_app_add(r, "0123456789abcdef01234567", 1717600301, 200), REPORT_OK);
    assert_int_equal(report_app_add(r, "0123456789abcdef01234567", 1717600301, 50), REPORT_OK);
    assert_int_equal(report_app_add(r, "89abcdef0123456789abcdef", -1, 0), REPORT_OK);
    report_file *f = report_file_add(r, "apps.csv", 3, 612, 1);
    assert_non_null(f);
    memcpy(f->sha256, "ab", 3);
    assert_non_null(report_file_add(r, "users.csv", 250, 98765, 0));
}

static const char SAMPLE_JSON[] =
    "{\"version\":\"" COUNTLY_SYNC_VERSION "\",\"command\":\"sync\",\"exit_code\":0,"
    "\"outcome\":\"ok\",\"server_url\":\"https://countly.example.com\","
    "\"run_start\":\"2024-06-05T15:11:41Z\",\"started_at\":\"2024-06-05T15:11:40Z\","
    "\"finished_at\":\"2024-06-05T15:11:52Z\",\"duration_seconds\":12.250,"
    "\"streams\":{"
    "\"apps\":{\"enabled\":true,\"completed\":true,\"rows\":3,\"pages\":1,"
    "\"bytes_received\":900,\"bytes_on_wire\":300,\"seconds\":0.500},"
    "\"groups\":{\"enabled\":true,\"completed\":true,\"rows\":0,\"pages\":1,"
    "\"bytes_received\":20,\"bytes_on_wire\":20,\"seconds\":0.125},"
    "\"users\":{\"enabled\":true,\"completed\":false,\"rows\":250,\"pages\":3,"
    "\"bytes_received\":100000,\"bytes_on_wire\":25000,\"seconds\":10.000}},"
    "\"apps\":[{\"app_id\":\"0123456789abcdef01234567\",\"cursor\":\"2024-06-05T15:11:41Z\","
    "\"rows\":250},{\"app_id\":\"89abcdef0123456789abcdef\",\"cursor\":null,\"rows\":0}],"
    "\"files\":[{\"path\":\"apps.csv\",\"rows\":3,\"bytes\":612,\"complete\":true,"
    "\"sha256\":\"ab\"},{\"path\":\"users.csv\",\"rows\":250,\"bytes\":98765,"
    "\"complete\":false}]}\n";

static report_run run; /* large: not on the stack */

static void json_report_of_a_run_is_exact(void **state)
{
    (void)state;
    char buf[4096];
    report_out o;
    sample_run(&run);
    report_out_init(&o, buf, sizeof buf, NULL, NULL);
    assert_int_equal(report_json(&run, &o), REPORT_OK);
    assert_int_equal(report_out_end(&o), REPORT_OK);
    assert_int_equal(o.used, strlen(SAMPLE_JSON));
    assert_memory_equal(buf, SAMPLE_JSON, o.used);
}

static void json_report_escapes_the_outcome_and_says_null(void **state)
{
    (void)state;
    char buf[4096];
    report_out o;
    report_init(&run, "sync", 0);
    run.exit_code = 75;
    (void)snprintf(run.outcome, sizeof run.outcome, "a \"quoted\" \\ line\n\ttab \x01 é");
    report_out_init(&o, buf, sizeof buf, NULL, NULL);
    assert_int_equal(report_json(&run, &o), REPORT_OK);
    buf[o.used] = '\0';
    assert_non_null(strstr(
        buf, "\"exit_code\":75,\"outcome\":\"a \\\"quoted\\\" \\\\ line\\n\\ttab \\u0001 é\""));
    assert_non_null(strstr(buf, "\"server_url\":null,\"run_start\":null,"));
    assert_non_null(strstr(buf, "\"apps\":[],\"files\":[]}\n"));
}

static const char SAMPLE_METRICS[] =
    "# HELP countly_sync_last_run_timestamp_seconds When the last sync finished (unix seconds).\n"
    "# TYPE countly_sync_last_run_timestamp_seconds gauge\n"
    "countly_sync_last_run_timestamp_seconds 1717600312\n"
    "# HELP countly_sync_last_success_timestamp_seconds When a sync last finished with exit code "
    "0 (unix seconds).\n"
    "# TYPE countly_sync_last_success_timestamp_seconds gauge\n"
    "countly_sync_last_success_timestamp_seconds 1717600000\n"
    "# HELP countly_sync_last_exit_code Exit code of the last sync.\n"
    "# TYPE countly_sync_last_exit_code gauge\n"
    "countly_sync_last_exit_code 0\n"
    "# HELP countly_sync_last_duration_seconds How long the last sync took.\n"
    "# TYPE countly_sync_last_duration_seconds gauge\n"
    "countly_sync_last_duration_seconds 12.250\n"
    "# HELP countly_sync_rows Rows the last sync committed, per stream.\n"
    "# TYPE countly_sync_rows gauge\n"
    "countly_sync_rows{stream=\"apps\"} 3\n"
    "countly_sync_rows{stream=\"groups\"} 0\n"
    "countly_sync_rows{stream=\"users\"} 250\n"
    "# HELP countly_sync_bytes_received Response body bytes the last sync received (decoded), "
    "per stream.\n"
    "# TYPE countly_sync_bytes_received gauge\n"
    "countly_sync_bytes_received{stream=\"apps\"} 900\n"
    "countly_sync_bytes_received{stream=\"groups\"} 20\n"
    "countly_sync_bytes_received{stream=\"users\"} 100000\n"
    "# HELP countly_sync_cursor_timestamp_seconds Each app's users cursor: the next window's "
    "start (server clock).\n"
    "# TYPE countly_sync_cursor_timestamp_seconds gauge\n"
    "countly_sync_cursor_timestamp_seconds{app_id=\"0123456789abcdef01234567\"} 1717600301\n";

static void metrics_of_a_run_are_exact(void **state)
{
    (void)state;
    char buf[4096];
    report_out o;
    sample_run(&run);
    report_out_init(&o, buf, sizeof buf, NULL, NULL);
    assert_int_equal(report_metrics(&run, 1717600000, &o), REPORT_OK);
    assert_int_equal(o.used, strlen(SAMPLE_METRICS));
    assert_memory_equal(buf, SAMPLE_METRICS, o.used);
}

static void metrics_leave_out_an_unknown_last_success(void **state)
{
    (void)state;
    char buf[4096];
    report_out o;
    sample_run(&run);
    report_out_init(&o, buf, sizeof buf, NULL, NULL);
    assert_int_equal(report_metrics(&run, -1, &o), REPORT_OK);
    buf[o.used] = '\0';
    assert_null(strstr(buf, "last_success"));
    assert_non_null(strstr(buf, "countly_sync_last_exit_code 0\n"));
}

static void last_success_is_read_back_from_metrics(void **state)
{
    (void)state;
    assert_int_equal(report_metrics_last_success(SAMPLE_METRICS, strlen(SAMPLE_METRICS)),
                     1717600000);
    static const char none[] = "# HELP countly_sync_last_success_timestamp_seconds x\n"
                               "countly_sync_last_run_timestamp_seconds 5\n";
    assert_int_equal(report_metrics_last_success(none, strlen(none)), -1);
    static const char cut[] = "countly_sync_last_success_timestamp_seconds 17";
    assert_int_equal(report_metrics_last_success(cut, strlen(cut)), 17);
    assert_int_equal(report_metrics_last_success("", 0), -1);
}

/* A flush function that collects into a test buffer. */
static char collected[8192];
static size_t collected_len;
static int collect(void *user, const char *data, size_t len)
{
    (void)user;
    if (collected_len + len > sizeof collected)
        return 1;
    memcpy(collected + collected_len, data, len);
    collected_len += len;
    return 0;
}

static void a_small_buffer_is_flushed_in_pieces(void **state)
{
    (void)state;
    char small[7];
    report_out o;
    sample_run(&run);
    collected_len = 0;
    report_out_init(&o, small, sizeof small, collect, NULL);
    assert_int_equal(report_json(&run, &o), REPORT_OK);
    assert_int_equal(report_out_end(&o), REPORT_OK);
    assert_int_equal(collected_len, strlen(SAMPLE_JSON));
    assert_memory_equal(collected, SAMPLE_JSON, collected_len);
}

static void text_that_does_not_fit_is_an_error(void **state)
{
    (void)state;
    char small[64];
    report_out o;
    sample_run(&run);
    report_out_init(&o, small, sizeof small, NULL, NULL);
    assert_int_equal(report_json(&run, &o), REPORT_ERR_FULL);
    assert_int_equal(report_out_end(&o), REPORT_ERR_FULL);
}

static void app_and_file_lists_are_bounded(void **state)
{
    (void)state;
    report_init(&run, "sync", 0);
    for (int i = 0; i < REPORT_FILES_MAX; i++)
        assert_non_null(report_file_add(&run, "users.csv", 0, 0, 0));
    assert_null(report_file_add(&run, "one-too-many.csv", 0, 0, 0));
    char id[32];
    for (int i = 0; i < CONFIG_APPS_MAX; i++) {
        (void)snprintf(id, sizeof id, "%024x", i);
        assert_int_equal(report_app_add(&run, id, 1, 1), REPORT_OK);
    }
    assert_int_equal(report_app_add(&run, "ffffffffffffffffffffffff", 1, 1), REPORT_ERR_FULL);
}

static void sha256_of_a_file(void **state)
{
    (void)state;
    uint8_t buf[3];
    char hex[65];
    const char *path = tmpdir_path_n(0, "abc.csv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("abc", f);
    fclose(f);
    assert_int_equal(report_sha256_file(path, hex, buf, 2), REPORT_OK); /* read in pieces */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(report_sha256_file(tmpdir_path_n(1, "missing"), hex, buf, 2), REPORT_ERR_READ);
}

static void save_replaces_the_file_and_leaves_no_temporary(void **state)
{
    (void)state;
    char buf[16];
    char text[8192];
    const char *path = tmpdir_path_n(0, "countly.prom");
    sample_run(&run);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    assert_int_equal(report_save(path, REPORT_METRICS, &run, 1717600000, buf, sizeof buf, 0640),
                     REPORT_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* exactly the mode asked for */
    f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    assert_int_equal(n, strlen(SAMPLE_METRICS));
    assert_memory_equal(text, SAMPLE_METRICS, n);
    f = fopen(tmpdir_path_n(1, ".countly.prom.tmp"), "r");
    assert_null(f);
    assert_int_equal(report_read_last_success(path, text, sizeof text), 1717600000);
    assert_int_equal(report_read_last_success(tmpdir_path_n(1, "none.prom"), text, sizeof text),
                     -1);
    assert_int_equal(report_save(tmpdir_path_n(1, "no/such/folder.json"), REPORT_JSON, &run, -1,
                                 buf, sizeof buf, 0600),
                     REPORT_ERR_WRITE);
}

/* A report that cannot be written says why in the system's words (the
 * warning reads "cannot write the run report PATH: No such file or
 * directory"), not only that it cannot be. */
static void save_failure_carries_the_os_reason(void **state)
{
    (void)state;
    char buf[64];
    sample_run(&run);
    assert_int_equal(report_save(tmpdir_path_n(0, "no/such/folder.json"), REPORT_JSON, &run, -1,
                                 buf, sizeof buf, 0600),
                     REPORT_ERR_WRITE);
    assert_string_equal(buf, strerror(ENOENT));
    assert_string_equal(report_strerror(REPORT_ERR_WRITE), "cannot be written");
    FILE *f = fopen(tmpdir_path_n(0, "plain"), "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(report_save(tmpdir_path_n(0, "plain/countly.prom"), REPORT_METRICS, &run, -1,
                                 buf, sizeof buf, 0600),
                     REPORT_ERR_WRITE);
    assert_string_equal(buf, strerror(ENOTDIR));
    assert_int_equal(remove(tmpdir_path_n(0, "plain")), 0);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_create("test_report");
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_report_of_a_run_is_exact),
        cmocka_unit_test(json_report_escapes_the_outcome_and_says_null),
        cmocka_unit_test(metrics_of_a_run_are_exact),
        cmocka_unit_test(metrics_leave_out_an_unknown_last_success),
        cmocka_unit_test(last_success_is_read_back_from_metrics),
        cmocka_unit_test(a_small_buffer_is_flushed_in_pieces),
        cmocka_unit_test(text_that_does_not_fit_is_an_error),
        cmocka_unit_test(app_and_file_lists_are_bounded),
        cmocka_unit_test(sha256_of_a_file),
        cmocka_unit_test(save_replaces_the_file_and_leaves_no_temporary),
        cmocka_unit_test(save_failure_carries_the_os_reason),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
