/*
 * test_commit_policy.c - when the users stream commits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "commit_policy.h"

static void pages_are_grouped_by_time(void **state)
{
    (void)state;
    commit_policy p;
    commit_policy_init(&p, 1000, 1u << 20, 5000);
    assert_false(commit_policy_pending(&p));
    assert_false(commit_policy_page_done(&p, 5100, 10));
    assert_false(commit_policy_page_done(&p, 5999, 20));
    assert_true(commit_policy_pending(&p));
    assert_int_equal(p.pages, 2);
    assert_true(commit_policy_page_done(&p, 6000, 30)); /* a second after the last commit */
    commit_policy_committed(&p, 6000);
    assert_false(commit_policy_pending(&p));
    assert_false(commit_policy_page_done(&p, 6999, 0));
    assert_true(commit_policy_page_done(&p, 7000, 0));
}

static void pages_are_grouped_by_size(void **state)
{
    (void)state;
    commit_policy p;
    commit_policy_init(&p, 1000, 4096, 0);
    assert_false(commit_policy_page_done(&p, 1, 4095));
    assert_true(commit_policy_page_done(&p, 2, 4096));
    commit_policy_committed(&p, 2);
    assert_false(commit_policy_page_done(&p, 3, 100));
}

static void every_page_commits_with_a_zero_interval(void **state)
{
    (void)state;
    commit_policy p;
    commit_policy_init(&p, 0, UINT64_MAX, 0);
    assert_true(commit_policy_page_done(&p, 0, 0));
    commit_policy_committed(&p, 0);
    assert_true(commit_policy_page_done(&p, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pages_are_grouped_by_time),
        cmocka_unit_test(pages_are_grouped_by_size),
        cmocka_unit_test(every_page_commits_with_a_zero_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
