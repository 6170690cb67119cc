/*
 * civil_time.c - proleptic Gregorian dates and unix seconds (UTC).
 *
 * Days since 1970-01-01 are counted as 365 per year plus the leap days in
 * between; a year from a day count is estimated with the mean Gregorian
 * year (146097 days per 400 years) and corrected by at most one.
 */
#include "civil_time.h"

#define SECONDS_PER_DAY 86400
#define YEAR_MIN        1970
#define YEAR_MAX        9999

/* Days before the first of each month in a common year. */
static const int days_before_month[13] = {0,   31,  59,  90,  120, 151, 181,
                                          212, 243, 273, 304, 334, 365};

static int is_leap_year(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Leap years in 1..year. */
static int64_t leap_years_through(int64_t year)
{
    return year / 4 - year / 100 + year / 400;
}

/* Days from 1970-01-01 to January 1st of year (year >= 1970). */
static int64_t days_before_year(int64_t year)
{
    return 365 * (year - YEAR_MIN) + leap_years_through(year - 1) -
           leap_years_through(YEAR_MIN - 1);
}

static int days_in_month(int year, int month)
{
    int days = days_before_month[month] - days_before_month[month - 1];
    return days + (month == 2 && is_leap_year(year));
}

int64_t civil_time_to_unix(int year, int month, int day, int hour, int minute, int second)
{
    if (year < YEAR_MIN || year > YEAR_MAX || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 60)
        return -1;
    int64_t days = days_before_year(year) + days_before_month[month - 1] +
                   (month > 2 && is_leap_year(year)) + day - 1;
    return days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
}

/* The year that day number `days` (since 1970-01-01) falls in. */
static int64_t year_of_day(int64_t days)
{
    int64_t year = YEAR_MIN + days * 400 / 146097;
    while (days_before_year(year) > days)
        year--;
    while (days_before_year(year + 1) <= days)
        year++;
    return year;
}

int civil_time_from_unix(int64_t secs, civil_time *out)
{
    if (secs < 0 || secs > CIVIL_TIME_UNIX_MAX)
        return -1;
    int64_t days = secs / SECONDS_PER_DAY;
    int64_t clock = secs % SECONDS_PER_DAY;
    int64_t year = year_of_day(days);
    int yday = (int)(days - days_before_year(year)); /* 0..365 */
    int leap = is_leap_year(year);
    int month = 1;
    while (month < 12 && yday >= days_before_month[month] + (leap && month >= 2))
        month++;
    out->year = (int)year;
    out->month = month;
    out->day = yday - days_before_month[month - 1] - (leap && month > 2) + 1;
    out->hour = (int)(clock / 3600);
    out->minute = (int)(clock / 60 % 60);
    out->second = (int)(clock % 60);
    return 0;
}

/* Writes value (0..10^width - 1) as width decimal digits at out. */
static void put_digits(char *out, int value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
}

size_t civil_time_format_iso8601(int64_t secs, char out[21])
{
    civil_time t;
    out[0] = '\0';
    if (civil_time_from_unix(secs, &t) != 0)
        return 0;
    /* "YYYY-MM-DDTHH:MM:SSZ" */
    put_digits(out, t.year, 4);
    out[4] = '-';
    put_digits(out + 5, t.month, 2);
    out[7] = '-';
    put_digits(out + 8, t.day, 2);
    out[10] = 'T';
    put_digits(out + 11, t.hour, 2);
    out[13] = ':';
    put_digits(out + 14, t.minute, 2);
    out[16] = ':';
    put_digits(out + 17, t.second, 2);
    out[19] = 'Z';
    out[20] = '\0';
    return CIVIL_TIME_ISO8601_LEN;
}
