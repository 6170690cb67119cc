/*
 * test_runs.c - the runs layout's names and part policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runs.h"

/* 2026-12-06T16:58:13Z */
#define T INT64_C(1796576293)

static void stamp_is_the_utc_time_in_basic_iso8601(void **state)
{
    (void)state;
    char s[RUNS_STAMP_SIZE];
    assert_int_equal(runs_stamp(T, s), RUNS_OK);
    assert_string_equal(s, "20261206T165813Z");
    assert_int_equal(runs_stamp(0, s), RUNS_OK);
    assert_string_equal(s, "19700101T000000Z");
    assert_int_equal(runs_stamp(-1, s), RUNS_ERR_LONG);
    assert_string_equal(s, "");
}

static void names_of_every_file_plain_gzip_and_temporary(void **state)
{
    (void)state;
    static const struct {
        runs_name name;
        const char *expected;
    } cases[] = {
        {{RUNS_FILE_APPS, T, 0, 0, 0}, "apps/20261206T165813Z.csv"},
        {{RUNS_FILE_GROUPS, T, 0, 0, 0}, "groups/20261206T165813Z.csv"},
        {{RUNS_FILE_USERS, T, 1, 0, 0}, "users/20261206T165813Z-0001.csv"},
        {{RUNS_FILE_USERS, T, 42, 0, 0}, "users/20261206T165813Z-0042.csv"},
        {{RUNS_FILE_USERS, T, 9999, 0, 0}, "users/20261206T165813Z-9999.csv"},
        {{RUNS_FILE_MANIFEST, T, 0, 0, 0}, "runs/20261206T165813Z.json"},
        {{RUNS_FILE_APPS, T, 0, 1, 0}, "apps/20261206T165813Z.csv.gz"},
        {{RUNS_FILE_USERS, T, 3, 1, 0}, "users/20261206T165813Z-0003.csv.gz"},
        {{RUNS_FILE_MANIFEST, T, 0, 1, 0}, "runs/20261206T165813Z.json"},
        {{RUNS_FILE_USERS, T, 1, 0, 1}, "users/.20261206T165813Z-0001.csv.tmp"},
        {{RUNS_FILE_USERS, T, 1, 1, 1}, "users/.20261206T165813Z-0001.csv.gz.tmp"},
        {{RUNS_FILE_GROUPS, T, 0, 0, 1}, "groups/.20261206T165813Z.csv.tmp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        print_message("case %zu\n", i);
        assert_int_equal(runs_file_name(&cases[i].name, out, sizeof out), RUNS_OK);
        assert_string_equal(out, cases[i].expected);
    }
}

static void names_refuse_bad_parts_and_small_buffers(void **state)
{
    (void)state;
    char out[64];
    runs_name n = {RUNS_FILE_USERS, T, 0, 0, 0};
    assert_int_equal(runs_file_name(&n, out, sizeof out), RUNS_ERR_LONG);
    n.part = RUNS_PART_MAX + 1;
    assert_int_equal(runs_file_name(&n, out, sizeof out), RUNS_ERR_LONG);
    n.part = 1;
    assert_int_equal(runs_file_name(&n, out, strlen("users/20261206T165813Z-0001.csv")),
                     RUNS_ERR_LONG);
    assert_string_equal(out, "");
    assert_int_equal(runs_file_name(&n, out, strlen("users/20261206T165813Z-0001.csv") + 1),
                     RUNS_OK);
    n.stamp = -5;
    assert_int_equal(runs_file_name(&n, out, sizeof out), RUNS_ERR_LONG);
    assert_string_equal(runs_folder(RUNS_FILE_USERS), "users");
    assert_string_equal(runs_folder(RUNS_FILE_MANIFEST), "runs");
}

static void a_run_never_takes_an_earlier_runs_stamp(void **state)
{
    (void)state;
    assert_int_equal(runs_stamp_for(T, -1), T);
    assert_int_equal(runs_stamp_for(T, T - 60), T);
    assert_int_equal(runs_stamp_for(T, T), T + 1);       /* two runs in one second */
    assert_int_equal(runs_stamp_for(T, T + 10), T + 11); /* a server clock set back */
}

static void parts_are_numbered_per_run(void **state)
{
    (void)state;
    assert_int_equal(runs_next_part(T, -1, 0), 1);
    assert_int_equal(runs_next_part(T, T, 3), 4);
    assert_int_equal(runs_next_part(T, T - 100, 7), 1); /* an earlier run's part */
}

static void a_page_moves_to_a_new_part_only_when_it_would_pass_the_limit(void **state)
{
    (void)state;
    const uint64_t limit = 1000;
    assert_false(runs_page_needs_new_part(0, 900, limit));
    assert_false(runs_page_needs_new_part(7, 1000, limit)); /* exactly full */
    assert_true(runs_page_needs_new_part(7, 1001, limit));
    assert_true(runs_page_needs_new_part(1, 5000, limit));
    /* the part's first page alone is larger: it stays, the part is bigger than the limit */
    assert_false(runs_page_needs_new_part(0, 5000, limit));
}

static void stale_temporaries_are_hidden_tmp_files_but_the_open_part(void **state)
{
    (void)state;
    const char *keep = ".20261206T165813Z-0002.csv.tmp";
    assert_true(runs_is_stale_temporary(".20261206T165813Z.csv.tmp", keep));
    assert_true(runs_is_stale_temporary(".20261206T165813Z-0001.csv.tmp", keep));
    assert_true(runs_is_stale_temporary(".20261206T165813Z.json.tmp", NULL));
    assert_false(runs_is_stale_temporary(keep, keep));
    assert_false(runs_is_stale_temporary("20261206T165813Z.csv", keep));
    assert_false(runs_is_stale_temporary("notes.tmp", keep));
    assert_false(runs_is_stale_temporary(".tmp", keep));
    assert_false(runs_is_stale_temporary(".hidden", keep));
}

static void strerror_has_words(void **state)
{
    (void)state;
    assert_string_equal(runs_strerror(RUNS_OK), "ok");
    assert_non_null(strstr(runs_strerror(RUNS_ERR_LONG), "too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stamp_is_the_utc_time_in_basic_iso8601),
        cmocka_unit_test(names_of_every_file_plain_gzip_and_temporary),
        cmocka_unit_test(names_refuse_bad_parts_and_small_buffers),
        cmocka_unit_test(a_run_never_takes_an_earlier_runs_stamp),
        cmocka_unit_test(parts_are_numbered_per_run),
        cmocka_unit_test(a_page_moves_to_a_new_part_only_when_it_would_pass_the_limit),
        cmocka_unit_test(stale_temporaries_are_hidden_tmp_files_but_the_open_part),
        cmocka_unit_test(strerror_has_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
