/*
 * http_date.h - the HTTP Date and Retry-After date forms (RFC 9110 5.6.7).
 *
 * Pure functions, beside civil_time: text in, unix seconds out.
 */
#ifndef COUNTLY_SYNC_HTTP_DATE_H
#define COUNTLY_SYNC_HTTP_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Unix seconds of an HTTP date (IMF-fixdate, RFC 850 or asctime; len
 * bytes of text), or -1 when it is none of them or out of range. */
int64_t http_date_parse(const char *text, size_t len);

#endif /* COUNTLY_SYNC_HTTP_DATE_H */
