/*
 * http_date.c - HTTP dates (RFC 9110 5.6.7) to unix seconds (http_date.h).
 *
 * The three forms a recipient must accept: IMF-fixdate, the obsolete
 * RFC 850 form (two-digit years 70..99 are 19xx, 00..69 20xx) and asctime.
 * Names are case-sensitive; every field is range-checked by civil_time.
 */
#include "http_date.h"

#include <string.h>

#include "civil_time.h"
#include "text.h"

static const char *const short_days[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_days[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
/* Index of s[0..n) in names (case-sensitive, RFC 9110 5.6.7), or -1. */
static int find_name(const char *s, size_t n, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
            return i;
    return -1;
}

/* n (at most 4) decimal digits as a number, or -1. */
static int parse_number(const char *s, size_t n)
{
    uint64_t value = 0;
    return n <= 4 && text_parse_u64(s, n, &value) ? (int)value : -1;
}

/* Date fields gathered by the three parsers. */
typedef struct {
    int year, month, day, hour, minute, second; /* month 1..12 */
} date_fields;

/* Unix seconds of d; -1 when a field is out of range or before 1970. */
static int64_t date_to_unix(const date_fields *d)
{
    return civil_time_to_unix(d->year, d->month, d->day, d->hour, d->minute, d->second);
}

/* "HH:MM:SS" into d; 0 when malformed. */
static int parse_clock(const char *s, date_fields *d)
{
    if (s[2] != ':' || s[5] != ':')
        return 0;
    d->hour = parse_number(s, 2);
    d->minute = parse_number(s + 3, 2);
    d->second = parse_number(s + 6, 2);
    return d->hour >= 0 && d->minute >= 0 && d->second >= 0;
}

/* Month name at s into d; 0 when unknown. */
static int parse_month(const char *s, date_fields *d)
{
    d->month = find_name(s, 3, months, 12) + 1;
    return d->month > 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int64_t parse_imf_fixdate(const char *s, size_t n, date_fields *d)
{
    if (n != 29 || find_name(s, 3, short_days, 7) < 0 || memcmp(s + 3, ", ", 2) != 0 ||
        s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
        return -1;
    d->day = parse_number(s + 5, 2);
    d->year = parse_number(s + 12, 4);
    if (!parse_month(s + 8, d) || !parse_clock(s + 17, d))
        return -1;
    return date_to_unix(d);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT"; years 70..99 are 19xx, 00..69 20xx. */
static int64_t parse_rfc850(const char *s, size_t n, date_fields *d)
{
    const char *comma = memchr(s, ',', n);
    if (comma == NULL || find_name(s, (size_t)(comma - s), long_days, 7) < 0)
        return -1;
    const char *t = comma + 1; /* " 06-Nov-94 08:49:37 GMT" */
    if (n - (size_t)(t - s) != 23 || t[0] != ' ' || t[3] != '-' || t[7] != '-' || t[10] != ' ' ||
        memcmp(t + 19, " GMT", 4) != 0)
        return -1;
    d->day = parse_number(t + 1, 2);
    d->year = parse_number(t + 8, 2);
    if (d->year < 0 || !parse_month(t + 4, d) || !parse_clock(t + 11, d))
        return -1;
    d->year += d->year < 70 ? 2000 : 1900;
    return date_to_unix(d);
}

/* "Sun Nov  6 08:49:37 1994" */
static int64_t parse_asctime(const char *s, size_t n, date_fields *d)
{
    if (n != 24 || find_name(s, 3, short_days, 7) < 0 || s[3] != ' ' || s[7] != ' ' ||
        s[10] != ' ' || s[19] != ' ')
        return -1;
    d->day = s[8] == ' ' ? parse_number(s + 9, 1) : parse_number(s + 8, 2);
    d->year = parse_number(s + 20, 4);
    if (!parse_month(s + 4, d) || !parse_clock(s + 11, d))
        return -1;
    return date_to_unix(d);
}

int64_t http_date_parse(const char *text, size_t len)
{
    date_fields d = {-1, -1, -1, -1, -1, -1};
    if (text == NULL || len < 4)
        return -1;
    if (text[3] == ',')
        return parse_imf_fixdate(text, len, &d);
    if (text[3] == ' ')
        return parse_asctime(text, len, &d);
    return parse_rfc850(text, len, &d);
}
