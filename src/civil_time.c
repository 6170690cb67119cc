/*
 * civil_time.c - proleptic Gregorian dates and unix seconds (UTC).
 *
 * Days since 1970-01-01 are counted as 365 per year plus the leap days in
 * between; the date of a day count is found in constant time, counting
 * from March in 400-year eras (date_of_day), with no loop or table.
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

/* The date of day number days (0 = 1970-01-01, days >= 0), in constant
 * time (H. Hinnant's civil_from_days): days are counted from 0000-03-01 in
 * eras of 400 years (146097 days), years from March so that the leap day
 * ends a year, and months of 153 days per 5 give the day of the month. */
static void date_of_day(uint64_t days, civil_time *out)
{
    uint64_t z = days + 719468; /* days from 0000-03-01 */
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;                                      /* 0..146096 */
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365, from March */
    uint64_t mp = (5 * doy + 2) / 153;                                    /* 0 = March .. 11 */
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(era * 400 + yoe) + (out->month <= 2);
}

int civil_time_from_unix(int64_t secs, civil_time *out)
{
    if (secs < 0 || secs > CIVIL_TIME_UNIX_MAX)
        return -1;
    uint64_t s = (uint64_t)secs;
    uint64_t clock = s % SECONDS_PER_DAY;
    date_of_day(s / SECONDS_PER_DAY, out);
    out->hour = (int)(clock / 3600);
    out->minute = (int)(clock / 60 % 60);
    out->second = (int)(clock % 60);
    return 0;
}

/* "00" to "99", two characters each. */
static const char two_digits[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes value (0..99) as two decimal digits at out. */
static void put_two_digits(char *out, int value)
{
    out[0] = two_digits[2 * value];
    out[1] = two_digits[2 * value + 1];
}

size_t civil_time_format_iso8601(int64_t secs, char out[21])
{
    civil_time t;
    out[0] = '\0';
    if (civil_time_from_unix(secs, &t) != 0)
        return 0;
    /* "YYYY-MM-DDTHH:MM:SSZ" */
    put_two_digits(out, t.year / 100);
    put_two_digits(out + 2, t.year % 100);
    out[4] = '-';
    put_two_digits(out + 5, t.month);
    out[7] = '-';
    put_two_digits(out + 8, t.day);
    out[10] = 'T';
    put_two_digits(out + 11, t.hour);
    out[13] = ':';
    put_two_digits(out + 14, t.minute);
    out[16] = ':';
    put_two_digits(out + 17, t.second);
    out[19] = 'Z';
    out[20] = '\0';
    return CIVIL_TIME_ISO8601_LEN;
}
