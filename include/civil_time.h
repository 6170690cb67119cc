/*
 * civil_time.h - calendar dates and unix seconds, the one implementation.
 *
 * Proleptic Gregorian calendar, UTC, no time zones. The range is the years
 * 1970 to 9999: every valid date maps to a unix time >= 0, so -1 can mean
 * "invalid" without ambiguity, and every result prints as four-digit
 * ISO 8601. Dates before the epoch and negative unix times are rejected.
 */
#ifndef COUNTLY_SYNC_CIVIL_TIME_H
#define COUNTLY_SYNC_CIVIL_TIME_H

#include <stddef.h>
#include <stdint.h>

/* A moment in UTC: month 1..12, day 1..31, hour 0..23, minute and second 0..59. */
typedef struct civil_time {
    int year, month, day, hour, minute, second;
} civil_time;

/* Length of "YYYY-MM-DDTHH:MM:SSZ". */
#define CIVIL_TIME_ISO8601_LEN 20

/* Largest unix time handled: 9999-12-31T23:59:59Z. */
#define CIVIL_TIME_UNIX_MAX INT64_C(253402300799)

/* Unix seconds of a UTC date and time; -1 when a field is out of range or
 * the year is outside 1970..9999. second may be 60 (a leap second, as in
 * HTTP dates), which counts as second 0 of the next minute, as POSIX does. */
int64_t civil_time_to_unix(int year, int month, int day, int hour, int minute, int second);

/* Date and time of unix seconds 0..CIVIL_TIME_UNIX_MAX into *out; returns 0,
 * or -1 (and leaves *out alone) when secs is outside that range. */
int civil_time_from_unix(int64_t secs, civil_time *out);

/* Writes "2024-06-05T15:11:40Z" and a NUL into out; returns 20, or 0 (out
 * holds "") when secs is outside 0..CIVIL_TIME_UNIX_MAX. */
size_t civil_time_format_iso8601(int64_t secs, char out[21]);

#endif /* COUNTLY_SYNC_CIVIL_TIME_H */
