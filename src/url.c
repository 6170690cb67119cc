/*
 * url.c - server URLs and query strings (contract in url.h).
 *
 * url_parse accepts "http[s]://host[:port][/path]" where host is a DNS
 * name (letters, digits, '-', '_', '.'; stored lowercase, no empty labels),
 * a dotted-quad IPv4 address or a bracketed IPv6 literal without zone id.
 * A host made only of digits and dots must be a valid IPv4 address. The
 * path may hold RFC 3986 pchars and '/'; trailing '/' are removed. User
 * info, query, fragment, spaces, control and non-ASCII bytes are rejected.
 */
#include "url.h"
#include "text.h"

#include <string.h>

#define IPV6_GROUPS 8

const char *url_strerror(url_status status)
{
    switch (status) {
    case URL_OK:
        return "ok";
    case URL_ERR_SCHEME:
        return "server URL must start with http:// or https://";
    case URL_ERR_HOST:
        return "server URL has an empty or malformed host (name, IPv4 address or [IPv6])";
    case URL_ERR_HOST_LONG:
        return "server URL host longer than URL_HOST_MAX (" OPTIONS_TEXT(URL_HOST_MAX) " bytes)";
    case URL_ERR_PORT:
        return "server URL port is not a number from 1 to 65535";
    case URL_ERR_PATH_LONG:
        return "server URL path longer than URL_PATH_MAX (" OPTIONS_TEXT(URL_PATH_MAX) " bytes)";
    case URL_ERR_SYNTAX:
        return "server URL must not contain user info ('@'), a query ('?'), a fragment ('#'), "
               "spaces or other invalid characters";
    case URL_ERR_NO_ROOM:
        return "output buffer too small for the URL text";
    }
    return "unknown URL status";
}

/* ---- character classes ---------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(char c)
{
    return text_hex_value((unsigned char)c) >= 0;
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* RFC 3986 unreserved: passes percent-encoding unchanged. */
static int is_unreserved(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* A byte never allowed anywhere in a base URL. */
static int is_forbidden(char c)
{
    unsigned char u = (unsigned char)c;
    return u <= 0x20 || u >= 0x7f || c == '?' || c == '#' || c == '@';
}

/* A path byte other than '%': unreserved, sub-delims, ':' or '/'. */
static int is_path_char(char c)
{
    return is_unreserved(c) || (c != 0 && strchr("!$&'()*+,;=:/", c) != NULL);
}

/* ---- hosts ---------------------------------------------------------------- */

/* Dotted-quad IPv4, each part 0..255 without leading zeros. */
static int valid_ipv4(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0 && (i >= n || s[i++] != '.'))
            return 0;
        size_t start = i;
        int value = 0;
        while (i < n && is_digit(s[i]) && i - start < 3) {
            value = value * 10 + (s[i] - '0');
            i++;
        }
        if (i == start || value > 255 || (s[start] == '0' && i - start > 1))
            return 0;
    }
    return i == n;
}

/* Parses 1..4 hex digits at s[*i]; 0 when there are none or too many. */
static int ipv6_group(const char *s, size_t n, size_t *i)
{
    size_t start = *i;
    while (*i < n && is_hex(s[*i]) && *i - start < 4)
        (*i)++;
    return *i > start && (*i == n || !is_hex(s[*i]));
}

/* 1 when the piece starting at s[i] is an IPv4 tail (has a '.' before any ':'). */
static int ipv6_piece_is_ipv4(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] != ':') {
        if (s[i] == '.')
            return 1;
        i++;
    }
    return 0;
}

/* RFC 4291 2.2 text forms: 8 hex groups, one "::" for a run of zero
 * groups, optionally an IPv4 address as the last two groups. */
static int valid_ipv6(const char *s, size_t n)
{
    size_t i = 0;
    int groups = 0;
    int compressed = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = 1;
        i = 2;
    }
    while (i < n) {
        if (ipv6_piece_is_ipv4(s, n, i)) {
            if (!valid_ipv4(s + i, n - i))
                return 0;
            groups += 2;
            break;
        }
        if (!ipv6_group(s, n, &i) || ++groups > IPV6_GROUPS)
            return 0;
        if (i == n)
            break;
        if (s[i++] != ':' || i == n)
            return 0; /* junk, or a single trailing ':' */
        if (s[i] == ':') {
            if (compressed)
                return 0;
            compressed = 1;
            i++;
        }
    }
    return compressed ? groups < IPV6_GROUPS : groups == IPV6_GROUPS;
}

/* Letters, digits, '-', '_' in non-empty labels separated by '.'. */
static int valid_reg_name(const char *s, size_t n)
{
    int only_digits_dots = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.' && (i == 0 || i + 1 == n || s[i - 1] == '.'))
            return 0;
        if (c != '.' && !is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
            return 0;
        if (is_alpha(c) || c == '-' || c == '_')
            only_digits_dots = 0;
    }
    return n > 0 && (!only_digits_dots || valid_ipv4(s, n));
}

static void copy_lower(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = to_lower(src[i]);
    dst[n] = '\0';
}

/* Host at s (up to ':', '/' or the end); *i is left after it. */
static url_status parse_host(const char *s, size_t *i, url_parts *out)
{
    size_t start = *i;
    size_t end = start;
    if (s[start] == '[') {
        const char *close = strchr(s + start, ']');
        if (close == NULL)
            return URL_ERR_HOST;
        start++;
        end = (size_t)(close - s);
        *i = end + 1;
        out->host_is_ipv6 = 1;
    } else {
        while (s[end] != '\0' && s[end] != ':' && s[end] != '/')
            end++;
        *i = end;
    }
    if (end - start > URL_HOST_MAX)
        return URL_ERR_HOST_LONG;
    if (out->host_is_ipv6 ? !valid_ipv6(s + start, end - start)
                          : !valid_reg_name(s + start, end - start))
        return URL_ERR_HOST;
    copy_lower(out->host, s + start, end - start);
    return URL_OK;
}

/* Optional ":port" at s[*i], then a '/' or the end must follow. */
static url_status parse_port(const char *s, size_t *i, url_parts *out)
{
    unsigned long value = 0;
    size_t start = 0;
    if (s[*i] != ':')
        return (s[*i] == '\0' || s[*i] == '/') ? URL_OK : URL_ERR_HOST;
    start = ++(*i);
    while (is_digit(s[*i]) && value <= 65535) {
        value = value * 10 + (unsigned long)(s[*i] - '0');
        (*i)++;
    }
    if (*i == start || value < 1 || value > 65535 || (s[*i] != '\0' && s[*i] != '/'))
        return URL_ERR_PORT;
    out->port = (uint16_t)value;
    return URL_OK;
}

/* The path prefix from s (at '/' or the end), without trailing '/'. */
static url_status parse_path(const char *s, url_parts *out)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '%' ? !(is_hex(s[i + 1]) && is_hex(s[i + 2])) : !is_path_char(s[i]))
            return URL_ERR_SYNTAX;
    if (n > URL_PATH_MAX)
        return URL_ERR_PATH_LONG;
    memcpy(out->path, s, n);
    out->path[n] = '\0';
    return URL_OK;
}

/* Length of a case-insensitive scheme prefix of text, 0 if none. */
static size_t scheme_length(const char *text, int *tls)
{
    static const char *const schemes[2] = {"http://", "https://"};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(schemes[k]);
        size_t i = 0;
        while (i < n && to_lower(text[i]) == schemes[k][i])
            i++;
        if (i == n) {
            *tls = k;
            return n;
        }
    }
    return 0;
}

url_status url_parse(const char *text, url_parts *out)
{
    size_t i = 0;
    url_status st;
    if (text == NULL || out == NULL)
        return URL_ERR_SYNTAX;
    memset(out, 0, sizeof(*out));
    i = scheme_length(text, &out->tls);
    if (i == 0)
        return URL_ERR_SCHEME;
    for (size_t k = i; text[k] != '\0'; k++)
        if (is_forbidden(text[k]))
            return URL_ERR_SYNTAX;
    out->port = out->tls ? 443 : 80;
    st = parse_host(text, &i, out);
    if (st == URL_OK)
        st = parse_port(text, &i, out);
    if (st == URL_OK)
        st = parse_path(text + i, out);
    return st;
}

/* ---- output --------------------------------------------------------------- */

/* Bounded string builder: once out of room it stays so. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    int full;
} text_out;

static void put_text(text_out *t, const char *s, size_t n)
{
    if (t->full || n >= t->cap - t->len) {
        t->full = 1;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* Decimal digits of v into buf (no NUL); returns the count. */
static size_t format_port(uint16_t v, char *buf)
{
    char tmp[5];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v = (uint16_t)(v / 10);
    } while (v > 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

url_status url_host_header(const url_parts *parts, char *out, size_t cap)
{
    text_out t = {out, cap, 0, 0};
    if (out == NULL || cap == 0)
        return URL_ERR_NO_ROOM;
    out[0] = '\0';
    if (parts->host_is_ipv6)
        put_text(&t, "[", 1);
    put_text(&t, parts->host, strlen(parts->host));
    if (parts->host_is_ipv6)
        put_text(&t, "]", 1);
    if (parts->port != (parts->tls ? 443 : 80)) {
        char digits[5];
        size_t n = format_port(parts->port, digits);
        put_text(&t, ":", 1);
        put_text(&t, digits, n);
    }
    if (t.full) {
        out[0] = '\0';
        return URL_ERR_NO_ROOM;
    }
    return URL_OK;
}

url_status url_normalize(const url_parts *parts, char *out, size_t cap)
{
    const char *scheme = parts->tls ? "https://" : "http://";
    size_t len = strlen(scheme);
    if (out == NULL || cap <= len)
        return URL_ERR_NO_ROOM;
    memcpy(out, scheme, len);
    url_status st = url_host_header(parts, out + len, cap - len);
    if (st != URL_OK) {
        out[0] = '\0';
        return st;
    }
    len += strlen(out + len);
    size_t path = strlen(parts->path);
    if (path >= cap - len) {
        out[0] = '\0';
        return URL_ERR_NO_ROOM;
    }
    memcpy(out + len, parts->path, path + 1);
    return URL_OK;
}

/* n plus the length of the percent-encoding of in[0..len), or limit as
 * soon as the sum reaches limit (so it never overflows). */
static size_t add_encoded_length(size_t n, const char *in, size_t len, size_t limit)
{
    for (size_t i = 0; i < len && n < limit; i++) {
        size_t width = is_unreserved(in[i]) ? 1 : 3;
        n = width < limit - n ? n + width : limit;
    }
    return n;
}

/* Writes the encoding of in[0..len) at out; the caller checked the room. */
static size_t encode_into(const char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_unreserved(in[i])) {
            out[n++] = in[i];
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    return n;
}

url_status url_append_query(char *buf, size_t cap, const char *key, const char *value)
{
    if (buf == NULL || key == NULL || value == NULL)
        return URL_ERR_SYNTAX;
    const char *end = memchr(buf, '\0', cap);
    if (end == NULL)
        return URL_ERR_NO_ROOM; /* buf is not even terminated within cap */
    size_t used = (size_t)(end - buf);
    size_t room = cap - used; /* includes the byte of the NUL */
    size_t key_len = strlen(key);
    size_t value_len = strlen(value);
    /* separator and '=' first, then both encodings; the NUL needs the rest */
    size_t need = add_encoded_length(2, key, key_len, room);
    need = add_encoded_length(need, value, value_len, room);
    if (need >= room)
        return URL_ERR_NO_ROOM;
    char *p = buf + used;
    *p++ = memchr(buf, '?', used) != NULL ? '&' : '?';
    p += encode_into(key, key_len, p);
    *p++ = '=';
    p += encode_into(value, value_len, p);
    *p = '\0';
    return URL_OK;
}
