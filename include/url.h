/*
 * url.h - server URLs and query strings.
 *
 * Parses the configured server_url (scheme, host, IPv6 literal, port, path
 * prefix) into a caller-owned struct, and appends percent-encoded query
 * parameters to a caller-owned buffer. No allocation; every overflow is an
 * error, never a shortened string.
 */
#ifndef COUNTLY_SYNC_URL_H
#define COUNTLY_SYNC_URL_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

typedef enum {
    URL_OK = 0,
    URL_ERR_SCHEME,    /* not http:// or https:// */
    URL_ERR_HOST,      /* empty or malformed host, bad IPv6 literal */
    URL_ERR_HOST_LONG, /* host longer than URL_HOST_MAX */
    URL_ERR_PORT,      /* port not a number in 1..65535 */
    URL_ERR_PATH_LONG, /* path prefix longer than URL_PATH_MAX */
    URL_ERR_SYNTAX,    /* user info, query or fragment in a base URL, bad characters */
    URL_ERR_NO_ROOM    /* output buffer too small */
} url_status;

typedef struct {
    int tls;                     /* 1 for https, 0 for http */
    char host[URL_HOST_MAX + 1]; /* without brackets for IPv6 literals */
    int host_is_ipv6;            /* 1 when host was written [v6] */
    uint16_t port;               /* explicit or the scheme's default */
    char path[URL_PATH_MAX + 1]; /* prefix without trailing '/'; "" for none */
} url_parts;

/* Words for a url_status. */
const char *url_strerror(url_status status);

/* Parses an absolute http(s) base URL into *out. */
url_status url_parse(const char *text, url_parts *out);

/* Writes the Host header value for parts (brackets for IPv6, port when
 * not the default) into out. */
url_status url_host_header(const url_parts *parts, char *out, size_t cap);

/* Writes the server's identity into out: the scheme, the host (lowercase,
 * brackets for IPv6), ":port" only when not the scheme's default, and the
 * path prefix without trailing '/' ("https://countly.example.com:8443/c").
 * Two URLs that name the same server this way are the same text. */
url_status url_normalize(const url_parts *parts, char *out, size_t cap);

/* Appends "sep" key "=" percent-encoded value to the NUL-terminated string
 * in buf (sep is '?' when buf holds no '?' yet, else '&'). Unreserved
 * characters (RFC 3986) pass; everything else becomes %XX. */
url_status url_append_query(char *buf, size_t cap, const char *key, const char *value);

#endif /* COUNTLY_SYNC_URL_H */
