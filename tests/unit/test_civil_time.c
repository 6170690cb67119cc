/*
 * test_civil_time.c - unit tests of calendar dates <-> unix seconds.
 *
 * Known values come from RFC 3339 / POSIX date arithmetic; the round-trip
 * test walks every day from 1970 to 9999 and checks that the conversions
 * agree in both directions and that days follow each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "civil_time.h"

static void format_of(int64_t secs, const char *expected)
{
    char out[21];
    size_t n = civil_time_format_iso8601(secs, out);
    assert_string_equal(out, expected);
    assert_int_equal(n, strlen(expected));
}

static void epoch_is_1970_01_01(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(1970, 1, 1, 0, 0, 0), 0);
    format_of(0, "1970-01-01T00:00:00Z");
}

static void leap_day_2000_is_951782400(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(2000, 2, 29, 0, 0, 0), 951782400);
    format_of(951782400, "2000-02-29T00:00:00Z");
    format_of(951782400 + 86400, "2000-03-01T00:00:00Z");
    format_of(951782400 - 1, "2000-02-28T23:59:59Z");
}

static void countly_lac_1717600300_is_2024_06_05(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(2024, 6, 5, 15, 11, 40), 1717600300);
    format_of(1717600300, "2024-06-05T15:11:40Z");
}

static void year_2100_start_is_4102444800(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(2100, 1, 1, 0, 0, 0), 4102444800LL);
    format_of(4102444800LL, "2100-01-01T00:00:00Z");
    /* 2100 is not a leap year: Feb 28 is followed by Mar 1. */
    format_of(4102444800LL + 59 * 86400LL, "2100-03-01T00:00:00Z");
    assert_int_equal(civil_time_to_unix(2100, 2, 29, 0, 0, 0), -1);
}

static void after_2038_and_last_second_of_9999(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(2038, 1, 19, 3, 14, 8), 2147483648LL);
    format_of(2147483648LL, "2038-01-19T03:14:08Z");
    assert_int_equal(civil_time_to_unix(9999, 12, 31, 23, 59, 59), CIVIL_TIME_UNIX_MAX);
    format_of(CIVIL_TIME_UNIX_MAX, "9999-12-31T23:59:59Z");
}

static void negative_and_too_large_times_are_rejected(void **state)
{
    (void)state;
    char out[21] = "x";
    civil_time t = {1, 2, 3, 4, 5, 6};
    assert_int_equal(civil_time_format_iso8601(-1, out), 0);
    assert_string_equal(out, "");
    assert_int_equal(civil_time_format_iso8601(CIVIL_TIME_UNIX_MAX + 1, out), 0);
    assert_int_equal(civil_time_format_iso8601(INT64_MIN, out), 0);
    assert_int_equal(civil_time_format_iso8601(INT64_MAX, out), 0);
    assert_int_equal(civil_time_from_unix(-86400, &t), -1);
    assert_int_equal(t.year, 1); /* left alone */
}

static void dates_before_1970_or_after_9999_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(1969, 12, 31, 23, 59, 59), -1);
    assert_int_equal(civil_time_to_unix(10000, 1, 1, 0, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(0, 1, 1, 0, 0, 0), -1);
}

static void out_of_range_fields_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(2024, 0, 1, 0, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 13, 1, 0, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 1, 0, 0, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 4, 31, 0, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2023, 2, 29, 0, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 1, 1, 24, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 1, 1, -1, 0, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 1, 1, 0, 60, 0), -1);
    assert_int_equal(civil_time_to_unix(2024, 1, 1, 0, 0, 61), -1);
    assert_int_equal(civil_time_to_unix(2024, 1, 1, 0, 0, -1), -1);
}

static void leap_second_counts_as_next_minute(void **state)
{
    (void)state;
    assert_int_equal(civil_time_to_unix(2016, 12, 31, 23, 59, 60),
                     civil_time_to_unix(2017, 1, 1, 0, 0, 0));
}

static void every_day_from_1970_to_9999_round_trips(void **state)
{
    (void)state;
    int64_t expected = 0;
    for (int year = 1970; year <= 9999; year++) {
        for (int month = 1; month <= 12; month++) {
            for (int day = 1; day <= 31; day++) {
                int64_t secs = civil_time_to_unix(year, month, day, 12, 34, 56);
                if (secs < 0)
                    continue; /* no such day */
                assert_int_equal(secs, expected + 45296);
                civil_time t;
                assert_int_equal(civil_time_from_unix(secs, &t), 0);
                if (t.year != year || t.month != month || t.day != day || t.hour != 12 ||
                    t.minute != 34 || t.second != 56) {
                    fail_msg("%d-%d-%d came back as %d-%d-%d", year, month, day, t.year, t.month,
                             t.day);
                }
                expected += 86400;
            }
        }
    }
    assert_int_equal(expected, CIVIL_TIME_UNIX_MAX + 1);
}

/* Every second of a day, in a year of four distinct digits, prints as snprintf would. */
static void every_second_of_a_day_formats_its_digits(void **state)
{
    (void)state;
    int64_t day = civil_time_to_unix(2987, 10, 29, 0, 0, 0);
    for (int64_t s = 0; s < 86400; s++) {
        char expected[32];
        char out[21];
        snprintf(expected, sizeof expected, "2987-10-29T%02d:%02d:%02dZ", (int)(s / 3600),
                 (int)(s / 60 % 60), (int)(s % 60));
        assert_int_equal(civil_time_format_iso8601(day + s, out), CIVIL_TIME_ISO8601_LEN);
        assert_string_equal(out, expected);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(epoch_is_1970_01_01),
        cmocka_unit_test(leap_day_2000_is_951782400),
        cmocka_unit_test(countly_lac_1717600300_is_2024_06_05),
        cmocka_unit_test(year_2100_start_is_4102444800),
        cmocka_unit_test(after_2038_and_last_second_of_9999),
        cmocka_unit_test(negative_and_too_large_times_are_rejected),
        cmocka_unit_test(dates_before_1970_or_after_9999_are_rejected),
        cmocka_unit_test(out_of_range_fields_are_rejected),
        cmocka_unit_test(leap_second_counts_as_next_minute),
        cmocka_unit_test(every_day_from_1970_to_9999_round_trips),
        cmocka_unit_test(every_second_of_a_day_formats_its_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
