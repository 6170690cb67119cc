/*
 * test_state.c - unit tests of the sync state file (state.h).
 *
 * Files: everything happens inside a mkdtemp() folder removed at the end.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_tmpdir.h"
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define APP_A "5f0c1d2e3a4b5c6d7e8f9a0b"
#define APP_B "0123456789abcdef01234567"
#define APP_C "aaaaaaaaaaaaaaaaaaaaaaaa"
#define RECOVER                                                                                    \
    "Restore it from a backup, or delete it together with users.csv to start a full re-sync."

static char state_path[512];
static char tmp_path[520];
static sync_state st;
static sync_state loaded;
static jstream scratch;
static char buf[STATE_FILE_MAX + 1024];
static char text[STATE_FILE_MAX * 2];

/* ---- fixture -------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (tmpdir_create("test_state") != 0)
        return -1;
    (void)snprintf(state_path, sizeof state_path, "%s/state.json", tmp_dir);
    (void)snprintf(tmp_path, sizeof tmp_path, "%s.tmp", state_path);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* Each test starts without a state file or a leftover temporary. */
static int test_setup(void **state)
{
    (void)state;
    (void)remove(state_path);
    (void)remove(tmp_path);
    memset(&st, 0, sizeof st);
    return 0;
}

static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
}

/* Reads path into text (NUL-terminated); returns its length. */
static size_t read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    assert_int_equal(fclose(f), 0);
    text[n] = '\0';
    return n;
}

static state_status load_text(const char *data)
{
    write_file(state_path, data);
    return state_load(&loaded, state_path, &scratch);
}

/* A state with three apps and a window in progress. */
static void fill_state(sync_state *s)
{
    memset(s, 0, sizeof *s);
    s->users_csv_bytes = 1099511627776ull;
    assert_int_equal(state_set_cursor(s, APP_A, 1717650000), STATE_OK);
    assert_int_equal(state_set_cursor(s, APP_B, 0), STATE_OK);
    assert_int_equal(state_set_cursor(s, APP_C, INT64_MAX), STATE_OK);
    s->run.active = 1;
    memcpy(s->run.app_id, APP_B, 25);
    s->run.from = 1700000000;
    s->run.to = 1717650000;
    s->run.all_history = 0;
    s->run.pos.range = WINDOW_RANGE_SECONDS;
    s->run.pos.has_lo = 1;
    s->run.pos.lo = 1717649999;
    s->run.pos.sub_hi = 1717650000;
    s->run.pos.span = 3600;
    s->run.pos.tie = 1;
    s->run.pos.has_after = 1;
    (void)snprintf(s->run.pos.after_id, sizeof s->run.pos.after_id,
                   "id \"quoted\" \\ \x01 \xc3\xa9nd");
}

static void assert_same_state(const sync_state *a, const sync_state *b)
{
    assert_int_equal(a->users_csv_bytes, b->users_csv_bytes);
    assert_int_equal(a->app_count, b->app_count);
    for (unsigned i = 0; i < a->app_count; i++) {
        assert_string_equal(a->apps[i].app_id, b->apps[i].app_id);
        assert_int_equal(a->apps[i].cursor, b->apps[i].cursor);
    }
    assert_int_equal(a->run.active, b->run.active);
    assert_string_equal(a->run.app_id, b->run.app_id);
    assert_int_equal(a->run.from, b->run.from);
    assert_int_equal(a->run.to, b->run.to);
    assert_int_equal(a->run.all_history, b->run.all_history);
    assert_int_equal(a->run.pos.range, b->run.pos.range);
    assert_int_equal(a->run.pos.has_lo, b->run.pos.has_lo);
    if (a->run.pos.has_lo)
        assert_int_equal(a->run.pos.lo, b->run.pos.lo);
    assert_int_equal(a->run.pos.sub_hi, b->run.pos.sub_hi);
    assert_int_equal(a->run.pos.span, b->run.pos.span);
    assert_int_equal(a->run.pos.tie, b->run.pos.tie);
    assert_int_equal(a->run.pos.has_after, b->run.pos.has_after);
    if (a->run.pos.has_after)
        assert_string_equal(a->run.pos.after_id, b->run.pos.after_id);
    assert_int_equal(b->run.legacy, 0);
}

/* ---- loading -------------------------------------------------------------------------------- */

static void missing_file_is_a_first_run(void **state)
{
    (void)state;
    memset(&loaded, 0x55, sizeof loaded);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_int_equal(loaded.exists, 0);
    assert_int_equal(loaded.users_csv_bytes, 0);
    assert_int_equal(loaded.app_count, 0);
    assert_int_equal(loaded.run.active, 0);
    assert_int_equal(state_cursor(&loaded, APP_A), -1);
}

static void minimal_document_loads(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"version\":1,\"users_csv_bytes\":0,\"apps\":{}}"), STATE_OK);
    assert_int_equal(loaded.exists, 1);
    assert_int_equal(loaded.app_count, 0);
    assert_int_equal(loaded.run.active, 0);
}

static void hand_written_document_with_spaces_loads(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\n  \"apps\": {\"5F0C1D2E3A4B5C6D7E8F9A0B\": 12},\n"
                               "  \"run\": {\"skip\": 0, \"to\": 20, \"from\": 10,"
                               " \"all_history\": true, \"app\": \"" APP_A "\"},\n"
                               "  \"users_csv_bytes\": 77, \"version\": 1\n}\n"),
                     STATE_OK);
    assert_int_equal(loaded.users_csv_bytes, 77);
    assert_int_equal(state_cursor(&loaded, APP_A), 12);
    assert_string_equal(loaded.apps[0].app_id, APP_A); /* lowercased */
    assert_int_equal(loaded.run.active, 1);
    assert_int_equal(loaded.run.all_history, 1);
    assert_int_equal(loaded.run.legacy, 1); /* version 1: nothing committed, the window's start */
    assert_int_equal(loaded.run.pos.range, WINDOW_RANGE_NULL);
    assert_int_equal(loaded.run.pos.has_after, 0);
    assert_int_equal(loaded.run.from, 10);
    assert_int_equal(loaded.run.to, 20);
}

/* A version 1 state (release 0.1) resumes after its last committed record. */
static void version_1_run_becomes_a_position(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"version\":1,\"users_csv_bytes\":9,\"apps\":{},\"run\":{"
                               "\"app\":\"" APP_A "\",\"from\":10,\"to\":20,\"all_history\":"
                               "false,\"skip\":7,\"last_lac\":15,\"last_id\":\"abc\"}}"),
                     STATE_OK);
    assert_int_equal(loaded.run.legacy, 1);
    assert_int_equal(loaded.run.pos.range, WINDOW_RANGE_SECONDS);
    assert_int_equal(loaded.run.pos.tie, 1);
    assert_int_equal(loaded.run.pos.lo, 15);
    assert_string_equal(loaded.run.pos.after_id, "abc");
    assert_int_equal(load_text("{\"version\":1,\"users_csv_bytes\":9,\"apps\":{},\"run\":{"
                               "\"app\":\"" APP_A "\",\"from\":0,\"to\":20,\"all_history\":"
                               "true,\"skip\":7,\"last_lac\":null,\"last_id\":\"abc\"}}"),
                     STATE_OK);
    assert_int_equal(loaded.run.pos.range, WINDOW_RANGE_NULL);
    assert_int_equal(loaded.run.pos.has_after, 1);
    assert_string_equal(loaded.run.pos.after_id, "abc");
    assert_int_equal(load_text("{\"version\":1,\"users_csv_bytes\":9,\"apps\":{},\"run\":{"
                               "\"app\":\"" APP_A "\",\"from\":0,\"to\":20,\"all_history\":"
                               "true,\"skip\":7,\"last_lac\":1700000000123,\"last_id\":\"z\"}}"),
                     STATE_OK);
    assert_int_equal(loaded.run.pos.range, WINDOW_RANGE_MILLIS);
    assert_int_equal(loaded.run.pos.lo, 1700000000123LL);
}

typedef struct {
    const char *doc;
    const char *problem; /* inside "is corrupt (...)" */
} corrupt_case;

#define OK_HEAD  "\"version\":1,\"users_csv_bytes\":0"
#define RUN_HEAD "{" OK_HEAD ",\"apps\":{},\"run\":{\"app\":\"" APP_A "\",\"from\":1,\"to\":2,"
#define RUN2(fields)                                                                               \
    "{\"version\":2,\"users_csv_bytes\":0,\"apps\":{},\"run\":{\"app\":\"" APP_A                   \
    "\",\"from\":1,\"to\":2," fields "}}"
#define POS2 "\"range\":\"seconds\",\"lo\":1,\"sub_hi\":0,\"span\":0,\"tie\":false,\"after\":null"

static const corrupt_case corrupt_cases[] = {
    {"{\"version\":1,", "invalid JSON"},
    {"{" OK_HEAD ",\"apps\":{\"" APP_A "\":17176", "invalid JSON"},
    {"{" OK_HEAD ",\"apps\":{},}", "trailing comma"},
    {"{" OK_HEAD ",\"apps\":{}} {}", "invalid JSON"},
    {"", "the file is empty"},
    {"[1]", "not a JSON object"},
    {"42", "not a JSON object"},
    {"{\"version\":3,\"users_csv_bytes\":0,\"apps\":{}}", "key 'version' is 3, not 1 or 2"},
    {"{\"version\":\"1\",\"users_csv_bytes\":0,\"apps\":{}}", "key 'version' is \"1\", not 1"},
    {"{\"version\":1.0,\"users_csv_bytes\":0,\"apps\":{}}", "key 'version' is 1.0, not 1"},
    {"{\"users_csv_bytes\":0,\"apps\":{}}", "is missing"},
    {"{\"version\":1,\"apps\":{}}", "is missing"},
    {"{" OK_HEAD "}", "is missing"},
    {"{\"version\":1,\"users_csv_bytes\":-1,\"apps\":{}}",
     "key 'users_csv_bytes': -1 is not a non-negative integer"},
    {"{\"version\":1,\"users_csv_bytes\":\"10\",\"apps\":{}}",
     "key 'users_csv_bytes': \"10\" is not a non-negative integer"},
    {"{\"version\":1,\"users_csv_bytes\":18446744073709551616,\"apps\":{}}",
     "not a non-negative integer"},
    {"{" OK_HEAD ",\"apps\":{\"" APP_A "\":-5}}",
     "key 'apps': cursor -5 of app " APP_A " is not a non-negative integer"},
    {"{" OK_HEAD ",\"apps\":{\"" APP_A "\":\"1717650000\"}}", "is not a non-negative integer"},
    {"{" OK_HEAD ",\"apps\":{\"" APP_A "\":1.5}}", "is not a non-negative integer"},
    {"{" OK_HEAD ",\"apps\":{\"" APP_A "\":9223372036854775808}}", "is not a non-negative integer"},
    {"{" OK_HEAD ",\"apps\":{\"xyz\":1}}", "key 'apps': \"xyz\" is not an app id"},
    {"{" OK_HEAD ",\"apps\":{\"" APP_A "\":1,\"5F0C1D2E3A4B5C6D7E8F9A0B\":2}}",
     "app " APP_A " is listed twice"},
    {"{" OK_HEAD ",\"apps\":[]}", "key 'apps' is not an object"},
    {"{" OK_HEAD ",\"apps\":{},\"extra\":1}", "unknown key \"extra\""},
    {"{" OK_HEAD ",\"apps\":{},\"version\":1}", "key 'version' given twice"},
    {"{" OK_HEAD ",\"apps\":{},\"run\":[]}", "key 'run' is not an object"},
    {"{" OK_HEAD ",\"apps\":{},\"run\":null}", "key 'run' is not an object"},
    {RUN_HEAD "\"all_history\":false}}", "needs exactly app, from, to, all_history, skip"},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"tie\":false}}", "needs exactly app, from"},
    {RUN2("\"all_history\":false,\"skip\":0"), "needs exactly app, from, to, all_history, range"},
    {RUN2("\"all_history\":false," POS2 ",\"skip\":0"), "needs exactly app, from, to"},
    {RUN2("\"all_history\":false"), "needs exactly app, from, to, all_history, range"},
    {RUN2("\"all_history\":false,\"range\":\"nulls\",\"lo\":1,\"sub_hi\":0,\"span\":0,"
          "\"tie\":false,\"after\":null"),
     "field 'range' has the wrong value \"nulls\""},
    {RUN2("\"all_history\":false,\"range\":\"null\",\"lo\":null,\"sub_hi\":0,\"span\":0,"
          "\"tie\":false,\"after\":null"),
     "only an all-history window"},
    {RUN2("\"all_history\":true,\"range\":\"seconds\",\"lo\":null,\"sub_hi\":0,\"span\":0,"
          "\"tie\":true,\"after\":null"),
     "'tie' needs a second 'lo'"},
    {RUN2("\"all_history\":true,\"range\":\"seconds\",\"lo\":null,\"sub_hi\":-1,\"span\":0,"
          "\"tie\":false,\"after\":null"),
     "field 'sub_hi' has the wrong value -1"},
    {RUN2("\"all_history\":true,\"range\":\"seconds\",\"lo\":\"5\",\"sub_hi\":0,\"span\":0,"
          "\"tie\":false,\"after\":null"),
     "field 'lo' has the wrong value \"5\""},
    {RUN2("\"all_history\":true,\"range\":\"seconds\",\"lo\":null,\"sub_hi\":0,\"span\":0,"
          "\"tie\":false,\"after\":\"\""),
     "field 'after' has the wrong value \"\""},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"x\":1}}", "unknown field \"x\""},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"skip\":1}}", "field 'skip' given twice"},
    {RUN_HEAD "\"all_history\":0,\"skip\":0}}", "field 'all_history' has the wrong value 0"},
    {RUN_HEAD "\"all_history\":false,\"skip\":-1}}", "field 'skip' has the wrong value -1"},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"last_lac\":5}}", "only one of last_lac"},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"last_id\":\"a\"}}", "only one of last_lac"},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"last_lac\":\"5\",\"last_id\":\"a\"}}",
     "field 'last_lac' has the wrong value \"5\""},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"last_lac\":5,\"last_id\":7}}",
     "field 'last_id' has the wrong value 7"},
    {RUN_HEAD "\"all_history\":false,\"skip\":0,\"last_lac\":5,\"last_id\":"
              "\"12345678901234567890123456789012345678901234567890123456789012345\"}}",
     "field 'last_id' has the wrong value"},
    {"{" OK_HEAD ",\"apps\":{},\"run\":{\"app\":\"" APP_A "\",\"from\":3,\"to\":2,"
     "\"all_history\":false,\"skip\":0}}",
     "the window needs 0 <= from <= to"},
    {"{" OK_HEAD ",\"apps\":{},\"run\":{\"app\":\"" APP_A "\",\"from\":-3,\"to\":2,"
     "\"all_history\":false,\"skip\":0}}",
     "field 'from' has the wrong value -3"},
    {"{" OK_HEAD ",\"apps\":{},\"run\":{\"app\":\"nope\",\"from\":1,\"to\":2,"
     "\"all_history\":false,\"skip\":0}}",
     "field 'app' has the wrong value \"nope\""},
};

static void every_corruption_is_refused_with_recovery_advice(void **state)
{
    (void)state;
    char expected[1024];
    for (size_t i = 0; i < sizeof corrupt_cases / sizeof corrupt_cases[0]; i++) {
        print_message("case %zu: %s\n", i, corrupt_cases[i].doc);
        assert_int_equal(load_text(corrupt_cases[i].doc), STATE_ERR_CORRUPT);
        (void)snprintf(expected, sizeof expected, "state file %s is corrupt (", state_path);
        assert_int_equal(strncmp(loaded.detail, expected, strlen(expected)), 0);
        assert_non_null(strstr(loaded.detail, corrupt_cases[i].problem));
        (void)snprintf(expected, sizeof expected, "). %s", RECOVER);
        assert_non_null(strstr(loaded.detail, expected));
        assert_int_equal(loaded.exists, 1);
        assert_int_equal(loaded.app_count, 0); /* nothing half-loaded */
        assert_int_equal(loaded.run.active, 0);
    }
}

static void corrupt_message_reads_in_full(void **state)
{
    (void)state;
    char expected[1024];
    assert_int_equal(load_text("{" OK_HEAD ",\"apps\":{\"" APP_A "\":-1}}"), STATE_ERR_CORRUPT);
    (void)snprintf(expected, sizeof expected,
                   "state file %s is corrupt (key 'apps': cursor -1 of app " APP_A
                   " is not a non-negative integer). " RECOVER,
                   state_path);
    assert_string_equal(loaded.detail, expected);
}

/* A document listing n distinct apps. */
static const char *many_apps_doc(unsigned n)
{
    size_t len = (size_t)snprintf(text, sizeof text, "{" OK_HEAD ",\"apps\":{");
    for (unsigned i = 0; i < n; i++)
        len +=
            (size_t)snprintf(text + len, sizeof text - len, "%s\"%024x\":%u", i ? "," : "", i, i);
    (void)snprintf(text + len, sizeof text - len, "}}");
    return text;
}

static void app_limit_when_loading(void **state)
{
    (void)state;
    assert_int_equal(load_text(many_apps_doc(CONFIG_APPS_MAX)), STATE_OK);
    assert_int_equal(loaded.app_count, CONFIG_APPS_MAX);
    char last[25];
    (void)snprintf(last, sizeof last, "%024x", (unsigned)CONFIG_APPS_MAX - 1u);
    assert_int_equal(state_cursor(&loaded, last), CONFIG_APPS_MAX - 1);
    assert_int_equal(load_text(many_apps_doc(CONFIG_APPS_MAX + 1)), STATE_ERR_TOO_MANY);
    char limit[32];
    (void)snprintf(limit, sizeof limit, "CONFIG_APPS_MAX (%u)", (unsigned)CONFIG_APPS_MAX);
    assert_non_null(strstr(loaded.detail, limit));
    assert_non_null(strstr(loaded.detail, state_path));
}

static void file_larger_than_limit_is_refused(void **state)
{
    (void)state;
    int n = snprintf(text, sizeof text, "{" OK_HEAD ",\"apps\":{}}");
    memset(text + n, ' ', STATE_FILE_MAX + 1 - (size_t)n);
    text[STATE_FILE_MAX + 1] = '\0';
    assert_int_equal(load_text(text), STATE_ERR_TOO_LARGE);
    char limit[64];
    (void)snprintf(limit, sizeof limit, "STATE_FILE_MAX (%u bytes)", (unsigned)STATE_FILE_MAX);
    assert_non_null(strstr(loaded.detail, limit));
    assert_non_null(strstr(loaded.detail, RECOVER));
}

static void unreadable_file_is_a_read_error(void **state)
{
    (void)state;
    char path[600];
    (void)snprintf(path, sizeof path, "%s/a-folder", tmp_dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(state_load(&loaded, path, &scratch), STATE_ERR_READ);
    assert_non_null(strstr(loaded.detail, path));
    assert_int_equal(rmdir(path), 0);
}

/* ---- saving --------------------------------------------------------------------------------- */

static void save_then_load_gives_the_same_state(void **state)
{
    (void)state;
    fill_state(&st);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_int_equal(loaded.exists, 1);
    assert_same_state(&st, &loaded);
}

static void round_trip_of_every_kind_of_position(void **state)
{
    (void)state;
    fill_state(&st);
    st.run.all_history = 1;
    st.run.pos.range = WINDOW_RANGE_NULL; /* users without lac, after an _id */
    st.run.pos.has_lo = 0;
    st.run.pos.tie = 0;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_same_state(&st, &loaded);
    st.run.pos.range = WINDOW_RANGE_SECONDS; /* the open start of all history */
    st.run.pos.has_after = 0;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_same_state(&st, &loaded);
    st.run.pos.range = WINDOW_RANGE_MILLIS; /* a millisecond tie second */
    st.run.pos.has_lo = 1;
    st.run.pos.lo = 1700000000123LL;
    st.run.pos.tie = 1;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_same_state(&st, &loaded);
    st.run.pos.range = WINDOW_RANGE_DONE; /* the last page committed, the cursor not yet */
    st.run.pos.tie = 0;
    st.run.pos.lo = -5;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_same_state(&st, &loaded);
    st.run.pos.has_after = 1; /* an _id the loader would refuse is never saved */
    st.run.pos.after_id[0] = '\0';
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_ERR_CORRUPT);
}

static void saved_document_is_compact_json(void **state)
{
    (void)state;
    st.users_csv_bytes = 12345;
    assert_int_equal(state_set_cursor(&st, APP_A, 1717650000), STATE_OK);
    st.run.active = 1;
    memcpy(st.run.app_id, APP_A, 25);
    st.run.from = 1;
    st.run.to = 2;
    st.run.all_history = 1;
    st.run.pos.range = WINDOW_RANGE_NULL;
    st.run.pos.has_after = 1;
    memcpy(st.run.pos.after_id, "a\"b", 4);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    read_file(state_path);
    assert_string_equal(text, "{\"version\":2,\"users_csv_bytes\":12345,\"apps\":{\"" APP_A
                              "\":1717650000},\"run\":{\"app\":\"" APP_A "\",\"from\":1,"
                              "\"to\":2,\"all_history\":true,\"range\":\"null\",\"lo\":null,"
                              "\"sub_hi\":0,\"span\":0,\"tie\":false,\"after\":\"a\\\"b\"}}\n");
    st.run.active = 0;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    read_file(state_path);
    assert_string_equal(text, "{\"version\":2,\"users_csv_bytes\":12345,\"apps\":{\"" APP_A
                              "\":1717650000}}\n");
}

static void stale_temporary_from_a_crash_is_ignored_and_replaced(void **state)
{
    (void)state;
    write_file(tmp_path, "{\"half-written");
    fill_state(&st);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(access(tmp_path, F_OK), -1); /* renamed away */
    write_file(tmp_path, "garbage");
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_same_state(&st, &loaded);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(access(tmp_path, F_OK), -1);
}

static void failed_save_leaves_the_old_file_intact(void **state)
{
    (void)state;
    char before[STATE_FILE_MAX];
    fill_state(&st);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    size_t len = read_file(state_path);
    memcpy(before, text, len + 1);
    assert_int_equal(mkdir(tmp_path, 0700), 0); /* the temporary cannot be opened */
    assert_int_equal(state_set_cursor(&st, APP_A, 1800000000), STATE_OK);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_ERR_WRITE);
    assert_non_null(strstr(st.detail, tmp_path));
    assert_int_equal(read_file(state_path), len);
    assert_string_equal(text, before);
    assert_int_equal(rmdir(tmp_path), 0);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_int_equal(state_cursor(&loaded, APP_A), 1717650000);
}

/* A file size limit makes writes fail like a full disk (EFBIG). */
static void full_disk_is_nospc_and_leaves_the_old_file_intact(void **state)
{
    (void)state;
    struct rlimit old_limit;
    struct rlimit small;
    fill_state(&st);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    size_t len = read_file(state_path);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    small = old_limit;
    small.rlim_cur = 16;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    state_status s = state_save(&st, state_path, buf, sizeof buf);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    (void)signal(SIGXFSZ, old_handler);
    assert_int_equal(s, STATE_ERR_NOSPC);
    assert_int_equal(access(tmp_path, F_OK), -1); /* removed */
    assert_int_equal(read_file(state_path), len);
}

static void buffer_too_small_is_an_error_and_writes_nothing(void **state)
{
    (void)state;
    fill_state(&st);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    size_t len = read_file(state_path);
    assert_int_equal(remove(state_path), 0);
    assert_int_equal(state_save(&st, state_path, buf, len - 1), STATE_ERR_TOO_LARGE);
    assert_int_equal(access(state_path, F_OK), -1);
    assert_int_equal(access(tmp_path, F_OK), -1);
    assert_int_equal(state_save(&st, state_path, buf, len), STATE_OK);
    assert_int_equal(read_file(state_path), len);
}

static void save_into_a_missing_folder_fails(void **state)
{
    (void)state;
    char path[600];
    (void)snprintf(path, sizeof path, "%s/no/such/state.json", tmp_dir);
    fill_state(&st);
    assert_int_equal(state_save(&st, path, buf, sizeof buf), STATE_ERR_WRITE);
    assert_non_null(strstr(st.detail, "no/such/state.json.tmp"));
}

static void save_with_a_path_without_folder_uses_the_current_folder(void **state)
{
    (void)state;
    char cwd[600];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp_dir), 0);
    fill_state(&st);
    state_status s = state_save(&st, "plain.json", buf, sizeof buf);
    state_status l = state_load(&loaded, "plain.json", &scratch);
    int removed = remove("plain.json");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(s, STATE_OK);
    assert_int_equal(l, STATE_OK);
    assert_int_equal(removed, 0);
    assert_same_state(&st, &loaded);
}

static void save_refuses_a_state_load_would_refuse(void **state)
{
    (void)state;
    fill_state(&st);
    memcpy(st.run.app_id, "not-an-app-id", 14);
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_ERR_CORRUPT);
    assert_int_equal(access(state_path, F_OK), -1);
    fill_state(&st);
    st.run.from = st.run.to + 1;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_ERR_CORRUPT);
    fill_state(&st);
    st.apps[1].cursor = -1;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_ERR_CORRUPT);
    assert_int_equal(access(state_path, F_OK), -1);
}

static void full_state_round_trips_within_the_limits(void **state)
{
    (void)state;
    char id[25];
    for (unsigned i = 0; i < CONFIG_APPS_MAX; i++) {
        (void)snprintf(id, sizeof id, "%024x", i + 0xabc000u);
        assert_int_equal(state_set_cursor(&st, id, INT64_MAX - i), STATE_OK);
    }
    st.users_csv_bytes = UINT64_MAX;
    st.run.active = 1;
    memcpy(st.run.app_id, id, 25);
    st.run.to = INT64_MAX;
    st.run.pos.range = WINDOW_RANGE_SECONDS;
    st.run.pos.has_lo = 1;
    st.run.pos.lo = INT64_MIN;
    st.run.pos.sub_hi = INT64_MAX;
    st.run.pos.span = INT64_MAX;
    st.run.pos.tie = 1;
    st.run.pos.has_after = 1;
    memset(st.run.pos.after_id, '"', WINDOW_ID_MAX); /* every byte escaped */
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_same_state(&st, &loaded);
}

/* ---- cursors -------------------------------------------------------------------------------- */

static void cursor_of_unknown_app_is_minus_one(void **state)
{
    (void)state;
    assert_int_equal(state_cursor(&st, APP_A), -1);
    assert_int_equal(state_set_cursor(&st, APP_B, 5), STATE_OK);
    assert_int_equal(state_cursor(&st, APP_A), -1);
}

static void set_cursor_adds_then_updates(void **state)
{
    (void)state;
    assert_int_equal(state_set_cursor(&st, APP_A, 100), STATE_OK);
    assert_int_equal(st.app_count, 1);
    assert_int_equal(state_cursor(&st, APP_A), 100);
    assert_int_equal(state_set_cursor(&st, "5F0C1D2E3A4B5C6D7E8F9A0B", 200), STATE_OK);
    assert_int_equal(st.app_count, 1);
    assert_int_equal(state_cursor(&st, APP_A), 200);
    assert_int_equal(state_cursor(&st, "5F0C1D2E3A4B5C6D7E8F9A0B"), 200);
    assert_string_equal(st.apps[0].app_id, APP_A);
}

static void set_cursor_refuses_bad_ids_and_negative_cursors(void **state)
{
    (void)state;
    assert_int_equal(state_set_cursor(&st, "abc", 1), STATE_ERR_CORRUPT);
    assert_int_equal(state_set_cursor(&st, APP_A "0", 1), STATE_ERR_CORRUPT);
    assert_int_equal(state_set_cursor(&st, APP_A, -1), STATE_ERR_CORRUPT);
    assert_int_equal(st.app_count, 0);
}

static void set_cursor_beyond_the_app_limit_fails(void **state)
{
    (void)state;
    char id[25];
    for (unsigned i = 0; i < CONFIG_APPS_MAX; i++) {
        (void)snprintf(id, sizeof id, "%024x", i);
        assert_int_equal(state_set_cursor(&st, id, i), STATE_OK);
    }
    assert_int_equal(state_set_cursor(&st, APP_A, 1), STATE_ERR_TOO_MANY);
    assert_int_equal(st.app_count, CONFIG_APPS_MAX);
    assert_int_equal(state_set_cursor(&st, id, 9), STATE_OK); /* updating still works */
    assert_int_equal(state_cursor(&st, id), 9);
}

/* ---- the server the state belongs to ----------------------------------------------------------
 */

#define SERVER "https://countly.example.com:8443/c"

static void server_identity_is_saved_and_loaded(void **state)
{
    (void)state;
    assert_int_equal(state_claim_server(&st, state_path, SERVER), STATE_OK); /* a first run */
    assert_string_equal(st.server_url, SERVER);
    st.users_csv_bytes = 7;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    read_file(state_path);
    assert_string_equal(text, "{\"version\":2,\"server_url\":\"" SERVER
                              "\",\"users_csv_bytes\":7,\"apps\":{}}\n");
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_string_equal(loaded.server_url, SERVER);
    assert_int_equal(state_claim_server(&loaded, state_path, SERVER), STATE_OK);
}

static void state_without_server_is_adopted(void **state)
{
    (void)state;
    assert_int_equal(
        load_text("{\"version\":2,\"users_csv_bytes\":5,\"apps\":{\"" APP_A "\":1717650000}}"),
        STATE_OK);
    assert_string_equal(loaded.server_url, "");
    assert_int_equal(state_claim_server(&loaded, state_path, SERVER), STATE_OK);
    assert_string_equal(loaded.server_url, SERVER);
    assert_int_equal(state_save(&loaded, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_string_equal(loaded.server_url, SERVER);
    assert_int_equal(state_cursor(&loaded, APP_A), 1717650000);
    assert_int_equal(loaded.users_csv_bytes, 5);
    /* a version 1 state (release 0.1) is adopted the same way */
    assert_int_equal(load_text("{\"version\":1,\"users_csv_bytes\":0,\"apps\":{}}"), STATE_OK);
    assert_int_equal(state_claim_server(&loaded, state_path, SERVER), STATE_OK);
}

static void state_of_another_server_is_refused_naming_both(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"version\":2,\"server_url\":\"https://127.0.0.1:8443\","
                               "\"users_csv_bytes\":5,\"apps\":{}}"),
                     STATE_OK);
    assert_int_equal(state_claim_server(&loaded, state_path, "https://localhost:8443"),
                     STATE_ERR_SERVER);
    char expected[CONFIG_DETAIL_MAX + 600];
    (void)snprintf(expected, sizeof expected,
                   "state file %s belongs to server https://127.0.0.1:8443, but server_url is "
                   "https://localhost:8443: use another output_dir or state_file for "
                   "https://localhost:8443 (or set server_url back)",
                   state_path);
    assert_string_equal(loaded.detail, expected);
    assert_string_equal(loaded.server_url, "https://127.0.0.1:8443"); /* unchanged */
}

static void bad_server_url_values_are_corrupt(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"version\":2,\"server_url\":\"\",\"users_csv_bytes\":0,\"apps\":{}}",
        "{\"version\":2,\"server_url\":1,\"users_csv_bytes\":0,\"apps\":{}}",
        "{\"version\":2,\"server_url\":null,\"users_csv_bytes\":0,\"apps\":{}}",
        "{\"version\":2,\"server_url\":\"a\",\"server_url\":\"a\",\"users_csv_bytes\":0,"
        "\"apps\":{}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_equal(load_text(docs[i]), STATE_ERR_CORRUPT);
        assert_non_null(strstr(loaded.detail, "server_url"));
        assert_non_null(strstr(loaded.detail, RECOVER));
    }
}

/* ---- the file's permission ----------------------------------------------------------------- */

static mode_t saved_mode(unsigned file_mode)
{
    struct stat sb;
    st.file_mode = file_mode;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(stat(state_path, &sb), 0);
    return sb.st_mode & 07777;
}

static void saved_file_has_exactly_the_mode_whatever_the_umask(void **state)
{
    (void)state;
    mode_t old = umask(0);
    assert_int_equal(saved_mode(0), 0600); /* FILE_MODE_DEFAULT */
    assert_int_equal(saved_mode(0640), 0640);
    (void)umask(077);
    assert_int_equal(saved_mode(0644), 0644);
    assert_int_equal(saved_mode(0400), 0400);
    assert_int_equal(saved_mode(0600), 0600);
    write_file(tmp_path, "stale"); /* a leftover temporary gets the mode too */
    assert_int_equal(chmod(tmp_path, 0666), 0);
    assert_int_equal(saved_mode(0640), 0640);
    (void)umask(old);
}

/* ---- the runs layout's users part ----------------------------------------------------------- */

static void users_part_is_saved_and_loaded(void **state)
{
    (void)state;
    st.users_csv_bytes = 7;
    st.part.known = 1;
    st.part.open = 1;
    st.part.stamp = 1796576293;
    st.part.number = 3;
    st.part.bytes = 12345;
    st.part.rows = 40;
    st.part.gzip = 1;
    st.part.text = 54321;
    st.last_stamp = 1796576294;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    read_file(state_path);
    assert_string_equal(
        text, "{\"version\":2,\"users_csv_bytes\":7,\"apps\":{},\"part\":{"
              "\"stamp\":1796576293,\"number\":3,\"bytes\":12345,\"rows\":40,\"open\":true,"
              "\"gzip\":true,\"text\":54321},\"last_stamp\":1796576294}\n");
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_int_equal(loaded.part.gzip, 1);
    assert_int_equal(loaded.part.text, 54321);
    assert_int_equal(loaded.last_stamp, 1796576294);
    assert_int_equal(loaded.part.known, 1);
    assert_int_equal(loaded.part.open, 1);
    assert_int_equal(loaded.part.stamp, 1796576293);
    assert_int_equal(loaded.part.number, 3);
    assert_int_equal(loaded.part.bytes, 12345);
    assert_int_equal(loaded.part.rows, 40);
    assert_int_equal(loaded.users_csv_bytes, 7); /* users.csv's size is kept apart */
    st.part.open = 0;
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_OK);
    assert_int_equal(state_load(&loaded, state_path, &scratch), STATE_OK);
    assert_int_equal(loaded.part.known, 1);
    assert_int_equal(loaded.part.open, 0);
    assert_int_equal(load_text("{\"version\":2,\"users_csv_bytes\":0,\"apps\":{}}"), STATE_OK);
    assert_int_equal(loaded.part.known, 0);
    st.part.number = 0; /* a part the loader would refuse is never saved */
    assert_int_equal(state_save(&st, state_path, buf, sizeof buf), STATE_ERR_CORRUPT);
}

/* A part saved before "gzip" and "text" existed: plain, its text its size;
 * a gzip one without "text": its text unknown (0). */
static void users_part_of_an_earlier_release_loads(void **state)
{
    (void)state;
    assert_int_equal(load_text("{\"version\":2,\"users_csv_bytes\":0,\"apps\":{},\"part\":{"
                               "\"stamp\":5,\"number\":1,\"bytes\":900,\"rows\":9,\"open\":true}}"),
                     STATE_OK);
    assert_int_equal(loaded.part.gzip, 0);
    assert_int_equal(loaded.part.text, 900);
    assert_int_equal(loaded.last_stamp, 0);
    assert_int_equal(load_text("{\"version\":2,\"users_csv_bytes\":0,\"apps\":{},\"part\":{"
                               "\"stamp\":5,\"number\":1,\"bytes\":900,\"rows\":9,\"open\":true,"
                               "\"gzip\":true}}"),
                     STATE_OK);
    assert_int_equal(loaded.part.gzip, 1);
    assert_int_equal(loaded.part.text, 0);
    assert_int_equal(
        load_text("{\"version\":2,\"users_csv_bytes\":0,\"apps\":{},\"last_stamp\":0}"),
        STATE_ERR_CORRUPT);
    assert_non_null(strstr(loaded.detail, "key 'last_stamp'"));
}

static void bad_users_parts_are_corrupt(void **state)
{
    (void)state;
    static const struct {
        const char *part;
        const char *problem;
    } cases[] = {
        {"[]", "key 'part' is not an object"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":0}",
         "needs exactly stamp, number, bytes, rows, open"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":0,\"open\":true,\"x\":1}", "unknown or repeated"},
        {"{\"stamp\":1,\"stamp\":1,\"number\":1,\"bytes\":0,\"open\":true}", "unknown or repeated"},
        {"{\"stamp\":-1,\"number\":1,\"bytes\":0,\"open\":true}", "field 'stamp'"},
        {"{\"stamp\":1,\"number\":0,\"bytes\":0,\"open\":true}", "field 'number'"},
        {"{\"stamp\":1,\"number\":10000,\"bytes\":0,\"open\":true}", "field 'number'"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":\"5\",\"open\":true}", "field 'bytes'"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":5,\"open\":1}", "field 'open'"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":5,\"rows\":-2,\"open\":true}", "field 'rows'"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":5,\"rows\":2,\"open\":true,\"gzip\":1}",
         "field 'gzip'"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":5,\"rows\":2,\"open\":true,\"text\":-1}",
         "field 'text'"},
        {"{\"stamp\":1,\"number\":1,\"bytes\":5,\"rows\":2,\"open\":true,\"gzip\":true,"
         "\"gzip\":true}",
         "unknown or repeated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[256];
        print_message("case %zu: %s\n", i, cases[i].part);
        (void)snprintf(doc, sizeof doc,
                       "{\"version\":2,\"users_csv_bytes\":0,\"apps\":{},\"part\":%s}",
                       cases[i].part);
        assert_int_equal(load_text(doc), STATE_ERR_CORRUPT);
        assert_non_null(strstr(loaded.detail, cases[i].problem));
        assert_int_equal(loaded.part.known, 0);
    }
}

static void strerror_has_words_for_every_status(void **state)
{
    (void)state;
    for (int s = STATE_OK; s <= STATE_ERR_SERVER; s++)
        assert_null(strstr(state_strerror((state_status)s), "unknown state status"));
    char limit[16];
    (void)snprintf(limit, sizeof limit, "%u", (unsigned)CONFIG_APPS_MAX);
    assert_non_null(strstr(state_strerror(STATE_ERR_TOO_MANY), limit));
    assert_string_equal(state_strerror((state_status)99), "unknown state status");
}

#define T(name) cmocka_unit_test_setup(name, test_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(missing_file_is_a_first_run),
        T(minimal_document_loads),
        T(hand_written_document_with_spaces_loads),
        T(version_1_run_becomes_a_position),
        T(every_corruption_is_refused_with_recovery_advice),
        T(corrupt_message_reads_in_full),
        T(app_limit_when_loading),
        T(file_larger_than_limit_is_refused),
        T(unreadable_file_is_a_read_error),
        T(save_then_load_gives_the_same_state),
        T(round_trip_of_every_kind_of_position),
        T(users_part_is_saved_and_loaded),
        T(users_part_of_an_earlier_release_loads),
        T(bad_users_parts_are_corrupt),
        T(saved_document_is_compact_json),
        T(stale_temporary_from_a_crash_is_ignored_and_replaced),
        T(failed_save_leaves_the_old_file_intact),
        T(full_disk_is_nospc_and_leaves_the_old_file_intact),
        T(buffer_too_small_is_an_error_and_writes_nothing),
        T(save_into_a_missing_folder_fails),
        T(save_with_a_path_without_folder_uses_the_current_folder),
        T(save_refuses_a_state_load_would_refuse),
        T(full_state_round_trips_within_the_limits),
        T(cursor_of_unknown_app_is_minus_one),
        T(set_cursor_adds_then_updates),
        T(set_cursor_refuses_bad_ids_and_negative_cursors),
        T(set_cursor_beyond_the_app_limit_fails),
        T(server_identity_is_saved_and_loaded),
        T(state_without_server_is_adopted),
        T(state_of_another_server_is_refused_naming_both),
        T(bad_server_url_values_are_corrupt),
        T(saved_file_has_exactly_the_mode_whatever_the_umask),
        T(strerror_has_words_for_every_status),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
