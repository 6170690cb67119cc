/*
 * proxy.c - the HTTP CONNECT proxy as policy and text (see proxy.h).
 *
 * Decisions SPEC leaves open:
 *   - A proxy URL must name its port (http://host:port): no default port,
 *     since proxies listen anywhere (3128, 8080, ...) and a guess would
 *     fail late and obscurely. A bare host:port (curl's habit in
 *     HTTPS_PROXY) is read as http://host:port; a trailing '/' is allowed,
 *     any other path, query or fragment is not.
 *   - The user info is split at the last '@' and its first ':', and each
 *     part is percent-decoded (a '@', ':' or '/' in a password is written
 *     %40, %3A, %2F).
 *   - Environment: HTTPS_PROXY before https_proxy (HTTP_PROXY before
 *     http_proxy for http:// servers), NO_PROXY before no_proxy; an empty
 *     variable counts as unset. NO_PROXY applies to a proxy from the
 *     environment only: a configured `proxy` is used as written.
 *   - The reply head may end its lines with CRLF or a bare LF; a header
 *     line must be "name: value" in visible ASCII (tabs allowed in values).
 */
#include "proxy.h"

#include <stdio.h>
#include <string.h>

#include "mbedtls/base64.h"
#include "text.h"

const char *proxy_strerror(proxy_status status)
{
    switch (status) {
    case PROXY_OK:
        return "ok";
    case PROXY_NEED_MORE:
        return "the proxy's answer is incomplete";
    case PROXY_ERR_SCHEME:
        return "only http:// proxies (HTTP CONNECT) are supported: give http://host:port";
    case PROXY_ERR_SYNTAX:
        return "not http://[user:password@]host:port (a path, query, space or bad %-escape; "
               "write '@', ':' and '/' in a password as %40, %3A, %2F)";
    case PROXY_ERR_HOST:
        return "the proxy's host is empty, malformed or longer than URL_HOST_MAX";
    case PROXY_ERR_PORT:
        return "the proxy's port is missing or not a number from 1 to 65535 (give "
               "http://host:port)";
    case PROXY_ERR_CREDENTIALS_LONG:
        return "the proxy's user or password is longer than PROXY_CREDENTIAL_MAX "
               "(" OPTIONS_TEXT(PROXY_CREDENTIAL_MAX) " bytes)";
    case PROXY_ERR_REQUEST_LONG:
        return "the CONNECT request is longer than PROXY_REQUEST_MAX";
    case PROXY_ERR_HEAD_LONG:
        return "the proxy's answer head is longer than PROXY_REPLY_MAX "
               "(" OPTIONS_TEXT(PROXY_REPLY_MAX) " bytes)";
    case PROXY_ERR_REPLY:
        return "the proxy's answer is not an HTTP/1.x response";
    }
    return "unknown proxy status";
}

/* ---- proxy URLs -------------------------------------------------------------------- */

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* 1 when text starts with word (lowercase), case-insensitively. */
static int starts_with(const char *text, const char *word)
{
    for (; *word != '\0'; text++, word++)
        if (lower(*text) != *word)
            return 0;
    return 1;
}

/* Percent-decodes len bytes of userinfo into out (cap bytes with the NUL). */
static proxy_status decode_part(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#')
            return PROXY_ERR_SYNTAX;
        if (c == '%') {
            int hi = i + 2 < len ? text_hex_value((unsigned char)s[i + 1]) : -1;
            int lo = hi >= 0 ? text_hex_value((unsigned char)s[i + 2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                return PROXY_ERR_SYNTAX; /* bad escape, or %00 */
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= cap)
            return PROXY_ERR_CREDENTIALS_LONG;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return PROXY_OK;
}

/* The user info (len bytes at s): user[:password]. */
static proxy_status parse_userinfo(const char *s, size_t len, proxy_server *out)
{
    const char *colon = memchr(s, ':', len);
    size_t ulen = colon != NULL ? (size_t)(colon - s) : len;
    proxy_status st = decode_part(s, ulen, out->user, sizeof out->user);
    if (st == PROXY_OK && colon != NULL)
        st = decode_part(colon + 1, len - ulen - 1, out->password, sizeof out->password);
    out->has_credentials = st == PROXY_OK;
    return st;
}

/* host:port (len bytes at s), the port required, checked by url_parse. */
static proxy_status parse_hostport(const char *s, size_t len, proxy_server *out)
{
    char url[URL_HOST_MAX + 32];
    url_parts parts;
    const char *after_host = s;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return PROXY_ERR_HOST;
        after_host = close + 1;
    }
    const char *colon = memchr(after_host, ':', len - (size_t)(after_host - s));
    if (colon == NULL || colon + 1 == s + len)
        return PROXY_ERR_PORT;
    if (len + sizeof "http://" > sizeof url)
        return PROXY_ERR_HOST;
    (void)snprintf(url, sizeof url, "http://%.*s", (int)len, s);
    switch (url_parse(url, &parts)) {
    case URL_OK:
        break;
    case URL_ERR_PORT:
        return PROXY_ERR_PORT;
    case URL_ERR_HOST:
    case URL_ERR_HOST_LONG:
        return PROXY_ERR_HOST;
    default:
        return PROXY_ERR_SYNTAX;
    }
    memcpy(out->host, parts.host, sizeof out->host);
    out->port = parts.port;
    return PROXY_OK;
}

/* The proxy as messages show it: the password replaced by "***". */
static void make_shown(proxy_server *p, const char *userinfo, size_t ulen)
{
    const char *colon = memchr(userinfo, ':', ulen);
    size_t user_len = colon != NULL ? (size_t)(colon - userinfo) : ulen;
    int v6 = strchr(p->host, ':') != NULL;
    if (p->has_credentials && user_len > PROXY_CREDENTIAL_MAX)
        user_len = PROXY_CREDENTIAL_MAX;
    (void)snprintf(p->shown, sizeof p->shown, "http://%.*s%s%s%s%s:%u",
                   p->has_credentials ? (int)user_len : 0, userinfo,
                   p->has_credentials ? ":***@" : "", v6 ? "[" : "", p->host, v6 ? "]" : "",
                   (unsigned)p->port);
}

proxy_status proxy_parse(const char *text, proxy_server *out)
{
    memset(out, 0, sizeof *out);
    if (text[0] == '\0')
        return PROXY_OK;
    const char *rest = text;
    const char *scheme_end = strstr(text, "://");
    if (starts_with(text, "http://"))
        rest = text + 7;
    else if (scheme_end != NULL)
        return PROXY_ERR_SCHEME;
    size_t len = strcspn(rest, "/");
    if (rest[len] == '/' && rest[len + 1] != '\0')
        return PROXY_ERR_SYNTAX;
    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (rest[i] == '@')
            at = rest + i;
    size_t ulen = at != NULL ? (size_t)(at - rest) : 0;
    proxy_status st = at != NULL ? parse_userinfo(rest, ulen, out) : PROXY_OK;
    const char *hostport = at != NULL ? at + 1 : rest;
    if (st == PROXY_OK)
        st = parse_hostport(hostport, len - (size_t)(hostport - rest), out);
    if (st != PROXY_OK) {
        memset(out, 0, sizeof *out); /* no half of a password left behind */
        return st;
    }
    out->enabled = 1;
    make_shown(out, rest, ulen);
    return PROXY_OK;
}

/* ---- NO_PROXY ---------------------------------------------------------------------- */

/* An IP literal: holds ':' (IPv6) or only digits and dots (IPv4). */
static int is_ip_literal(const char *s, size_t len)
{
    if (memchr(s, ':', len) != NULL)
        return 1;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return len > 0;
}

static int same_text(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

/* Splits an entry's ":port" off (not the colons of a bare IPv6 literal);
 * *port is 0 when none is given, -1 when it is not a number. */
static size_t entry_port(const char *s, size_t len, long *port)
{
    const char *colon = NULL;
    size_t colons = 0;
    *port = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ':') {
            colon = s + i;
            colons++;
        }
    int bracketed = len > 0 && s[0] == '[';
    if (colon == NULL || (colons > 1 && !(bracketed && colon > s && colon[-1] == ']')))
        return len;
    uint64_t value = 0;
    size_t plen = len - (size_t)(colon - s) - 1;
    *port =
        text_parse_u64(colon + 1, plen, &value) && value >= 1 && value <= 65535 ? (long)value : -1;
    return (size_t)(colon - s);
}

/* One NO_PROXY entry (trimmed, len > 0) against host:port. */
static int entry_matches(const char *s, size_t len, const char *host, uint16_t port)
{
    long want_port = 0;
    size_t hlen = strlen(host);
    if (len == 1 && s[0] == '*')
        return 1;
    len = entry_port(s, len, &want_port);
    if (want_port < 0 || (want_port > 0 && want_port != port))
        return 0;
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    if (is_ip_literal(s, len) || is_ip_literal(host, hlen))
        return same_text(s, len, host, hlen);
    if (len >= 2 && s[0] == '*' && s[1] == '.') {
        s++;
        len--;
    }
    if (len > 0 && s[0] == '.') {
        s++;
        len--;
    }
    if (hlen > 0 && host[hlen - 1] == '.')
        hlen--; /* "example.com." is example.com */
    if (len == 0)
        return 0;
    if (same_text(s, len, host, hlen))
        return 1;
    return hlen > len && host[hlen - len - 1] == '.' && same_text(s, len, host + hlen - len, len);
}

int proxy_no_proxy_matches(const char *list, const char *host, uint16_t port)
{
    const char *p = list;
    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, ",");
        const char *s = p;
        size_t n = len;
        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n > 0 && entry_matches(s, n, host, port))
            return 1;
        p = p[len] == ',' ? p + len + 1 : NULL;
    }
    return 0;
}

/* ---- choosing ------------------------------------------------------------------------ */

/* The first of two variables that is set and not empty; its name in *name. */
static const char *first_set(proxy_getenv_fn env, const char *a, const char *b, const char **name)
{
    const char *v = env(a);
    *name = a;
    if (v != NULL && v[0] != '\0')
        return v;
    v = env(b);
    *name = b;
    return v != NULL && v[0] != '\0' ? v : NULL;
}

proxy_status proxy_choose(proxy_server *out, const proxy_server *configured,
                          const url_parts *server, int loopback, proxy_getenv_fn env,
                          const char **source)
{
    const char *name = NULL;
    memset(out, 0, sizeof *out);
    if (loopback) {
        *source = "loopback";
        return PROXY_OK;
    }
    if (configured != NULL) {
        *out = *configured;
        *source = "proxy";
        return PROXY_OK;
    }
    const char *value = server->tls ? first_set(env, "HTTPS_PROXY", "https_proxy", &name)
                                    : first_set(env, "HTTP_PROXY", "http_proxy", &name);
    *source = "environment";
    if (value == NULL)
        return PROXY_OK;
    const char *no_name = NULL;
    const char *no_proxy = first_set(env, "NO_PROXY", "no_proxy", &no_name);
    if (no_proxy != NULL && proxy_no_proxy_matches(no_proxy, server->host, server->port)) {
        *source = no_name;
        return PROXY_OK;
    }
    *source = name;
    return proxy_parse(value, out);
}

/* ---- the CONNECT request --------------------------------------------------------------- */

/* "Proxy-Authorization: Basic base64(user:password)\r\n" into out. */
static proxy_status credentials_header(const proxy_server *p, char *out, size_t cap)
{
    unsigned char pair[2 * PROXY_CREDENTIAL_MAX + 2];
    size_t ulen = strlen(p->user);
    size_t plen = strlen(p->password);
    size_t b64_len = 0;
    static const char head[] = "Proxy-Authorization: Basic ";
    memcpy(pair, p->user, ulen);
    pair[ulen] = ':';
    memcpy(pair + ulen + 1, p->password, plen);
    if (cap < sizeof head + 2)
        return PROXY_ERR_REQUEST_LONG;
    memcpy(out, head, sizeof head - 1);
    int rc = mbedtls_base64_encode((unsigned char *)out + sizeof head - 1, cap - sizeof head - 2,
                                   &b64_len, pair, ulen + 1 + plen);
    memset(pair, 0, sizeof pair);
    if (rc != 0)
        return PROXY_ERR_REQUEST_LONG;
    memcpy(out + sizeof head - 1 + b64_len, "\r\n", 3);
    return PROXY_OK;
}

proxy_status proxy_connect_request(const proxy_server *p, const char *host, uint16_t port,
                                   char *out, size_t cap, size_t *len)
{
    char auth[4 * PROXY_CREDENTIAL_MAX + 48];
    int v6 = strchr(host, ':') != NULL;
    auth[0] = '\0';
    if (p->has_credentials && credentials_header(p, auth, sizeof auth) != PROXY_OK)
        return PROXY_ERR_REQUEST_LONG;
    int n = snprintf(out, cap,
                     "CONNECT %s%s%s:%u HTTP/1.1\r\n"
                     "Host: %s%s%s:%u\r\n"
                     "%s"
                     "User-Agent: countly-sync/" COUNTLY_SYNC_VERSION "\r\n"
                     "\r\n",
                     v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port, v6 ? "[" : "", host,
                     v6 ? "]" : "", (unsigned)port, auth);
    memset(auth, 0, sizeof auth);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            memset(out, 0, cap);
        return PROXY_ERR_REQUEST_LONG;
    }
    *len = (size_t)n;
    return PROXY_OK;
}

/* ---- the answer ----------------------------------------------------------------------- */

void proxy_reply_init(proxy_reply *reply)
{
    reply->len = 0;
    reply->done = 0;
    reply->status_code = 0;
    reply->reason[0] = '\0';
}

/* The end of the line starting at s (its '\n'), or NULL. */
static const char *line_end(const char *s, const char *end)
{
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    return nl;
}

/* Length of a line without its CR (a CR elsewhere is refused later). */
static size_t line_length(const char *s, const char *nl)
{
    size_t n = (size_t)(nl - s);
    return n > 0 && s[n - 1] == '\r' ? n - 1 : n;
}

/* "HTTP/1.x NNN[ reason]". */
static proxy_status parse_status_line(proxy_reply *r, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
        return PROXY_ERR_REPLY;
    for (size_t i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return PROXY_ERR_REPLY;
    if (s[9] == '0' || (n > 12 && s[12] != ' '))
        return PROXY_ERR_REPLY;
    for (size_t i = 13; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return PROXY_ERR_REPLY;
    }
    r->status_code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    size_t rlen = n > 13 ? n - 13 : 0;
    if (rlen > PROXY_REASON_MAX)
        rlen = PROXY_REASON_MAX;
    memcpy(r->reason, s + 13, rlen);
    r->reason[rlen] = '\0';
    return PROXY_OK;
}

/* "name: value": a token name, visible ASCII, spaces and tabs. */
static int header_line_ok(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (colon == NULL || colon == s)
        return 0;
    for (const char *p = s; p < colon; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/;<=>?@[\\]{}", *p) != NULL)
            return 0;
    for (const char *p = colon + 1; p < s + n; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Judges the whole head (it ends with an empty line). */
static proxy_status parse_head(proxy_reply *r)
{
    const char *s = r->head;
    const char *end = r->head + r->len;
    const char *nl = line_end(s, end);
    if (parse_status_line(r, s, line_length(s, nl)) != PROXY_OK)
        return PROXY_ERR_REPLY;
    for (s = nl + 1; s < end; s = nl + 1) {
        nl = line_end(s, end);
        size_t n = line_length(s, nl);
        if (n == 0)
            break;
        if (!header_line_ok(s, n))
            return PROXY_ERR_REPLY;
    }
    r->done = 1;
    return PROXY_OK;
}

/* 1 once the gathered head ends with an empty line. */
static int head_complete(const proxy_reply *r)
{
    const char *h = r->head;
    size_t n = r->len;
    if (n < 2 || h[n - 1] != '\n')
        return 0;
    return h[n - 2] == '\n' || (n >= 3 && h[n - 2] == '\r' && h[n - 3] == '\n');
}

proxy_status proxy_reply_feed(proxy_reply *r, const uint8_t *data, size_t len, size_t *used)
{
    static const char prefix[] = "HTTP/";
    *used = 0;
    if (r->done)
        return PROXY_OK;
    while (*used < len) {
        if (r->len >= sizeof r->head)
            return PROXY_ERR_HEAD_LONG;
        char c = (char)data[(*used)++];
        if ((r->len < sizeof prefix - 1 && c != prefix[r->len]) || c == '\0')
            return PROXY_ERR_REPLY; /* not HTTP at all: no need to wait for more */
        r->head[r->len++] = c;
        if (head_complete(r))
            return parse_head(r);
    }
    return PROXY_NEED_MORE;
}
