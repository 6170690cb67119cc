/*
 * test_proxy.c - unit tests of the HTTP CONNECT proxy policy (proxy.h):
 * proxy URLs, NO_PROXY, the choice between configuration and environment,
 * the CONNECT request, and the answer parser fed byte by byte and whole;
 * and how proxy_tunnel.h judges a proxy's answer, against a one-answer
 * proxy on the loopback (a thread).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"
#include "proxy_tunnel.h"

static proxy_server ps; /* large: keep it off the stack */

/* ---- proxy_parse ---------------------------------------------------------------------- */

static void parse_host_and_port(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://proxy.corp.example:3128", &ps), PROXY_OK);
    assert_true(ps.enabled);
    assert_string_equal(ps.host, "proxy.corp.example");
    assert_int_equal(ps.port, 3128);
    assert_false(ps.has_credentials);
    assert_string_equal(ps.shown, "http://proxy.corp.example:3128");
}

static void parse_scheme_case_and_trailing_slash(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("HTTP://Proxy:8080/", &ps), PROXY_OK);
    assert_string_equal(ps.host, "proxy");
    assert_int_equal(ps.port, 8080);
}

static void parse_bare_host_port_is_http(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("10.0.0.1:3128", &ps), PROXY_OK);
    assert_string_equal(ps.host, "10.0.0.1");
    assert_string_equal(ps.shown, "http://10.0.0.1:3128");
}

static void parse_ipv6_literal(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://[2001:db8::1]:3128", &ps), PROXY_OK);
    assert_string_equal(ps.host, "2001:db8::1");
    assert_string_equal(ps.shown, "http://[2001:db8::1]:3128");
}

static void parse_credentials_percent_decoded_and_hidden(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://al%69ce:p%40ss%3Aw%2Fd@proxy:3128", &ps), PROXY_OK);
    assert_true(ps.has_credentials);
    assert_string_equal(ps.user, "alice");
    assert_string_equal(ps.password, "p@ss:w/d");
    assert_string_equal(ps.shown, "http://al%69ce:***@proxy:3128");
    assert_null(strstr(ps.shown, "p%40ss"));
}

static void parse_password_with_raw_at_sign_splits_at_last(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://bob:a@b@proxy:3128", &ps), PROXY_OK);
    assert_string_equal(ps.user, "bob");
    assert_string_equal(ps.password, "a@b");
    assert_string_equal(ps.shown, "http://bob:***@proxy:3128");
}

static void parse_user_without_password(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://bob@proxy:3128", &ps), PROXY_OK);
    assert_true(ps.has_credentials);
    assert_string_equal(ps.user, "bob");
    assert_string_equal(ps.password, "");
    assert_string_equal(ps.shown, "http://bob:***@proxy:3128");
}

static void parse_empty_is_no_proxy(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("", &ps), PROXY_OK);
    assert_false(ps.enabled);
}

static void parse_missing_port_refused(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://proxy", &ps), PROXY_ERR_PORT);
    assert_int_equal(proxy_parse("http://proxy:", &ps), PROXY_ERR_PORT);
    assert_int_equal(proxy_parse("http://[::1]", &ps), PROXY_ERR_PORT);
    assert_int_equal(proxy_parse("http://proxy:0", &ps), PROXY_ERR_PORT);
    assert_int_equal(proxy_parse("http://proxy:65536", &ps), PROXY_ERR_PORT);
    assert_int_equal(proxy_parse("http://proxy:http", &ps), PROXY_ERR_PORT);
    assert_false(ps.enabled);
    assert_non_null(strstr(proxy_strerror(PROXY_ERR_PORT), "http://host:port"));
}

static void parse_https_proxy_refused_clearly(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("https://proxy:3128", &ps), PROXY_ERR_SCHEME);
    assert_int_equal(proxy_parse("socks5://proxy:1080", &ps), PROXY_ERR_SCHEME);
    assert_string_equal(proxy_strerror(PROXY_ERR_SCHEME),
                        "only http:// proxies (HTTP CONNECT) are supported: give http://host:port");
}

static void parse_malformed_refused_and_wiped(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse("http://u:secret@proxy:3128/path", &ps), PROXY_ERR_SYNTAX);
    assert_int_equal(proxy_parse("http://u:sec%zzret@proxy:3128", &ps), PROXY_ERR_SYNTAX);
    assert_int_equal(proxy_parse("http://u:sec%00@proxy:3128", &ps), PROXY_ERR_SYNTAX);
    assert_int_equal(proxy_parse("http://u:sec ret@proxy:3128", &ps), PROXY_ERR_SYNTAX);
    assert_int_equal(proxy_parse("http://u:secret@:3128", &ps), PROXY_ERR_HOST);
    assert_int_equal(proxy_parse("http://u:secret@pro xy:3128", &ps), PROXY_ERR_SYNTAX);
    assert_int_equal(proxy_parse("http://proxy:3128?x=1", &ps), PROXY_ERR_SYNTAX);
    assert_null(memchr(&ps, 's', sizeof ps)); /* no byte of "secret" left */
}

static void parse_credentials_too_long(void **state)
{
    (void)state;
    char url[PROXY_CREDENTIAL_MAX + 64];
    char user[PROXY_CREDENTIAL_MAX + 2];
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    (void)snprintf(url, sizeof url, "http://%s:pw@proxy:1", user);
    assert_int_equal(proxy_parse(url, &ps), PROXY_ERR_CREDENTIALS_LONG);
    user[PROXY_CREDENTIAL_MAX] = '\0';
    (void)snprintf(url, sizeof url, "http://%s:pw@proxy:1", user);
    assert_int_equal(proxy_parse(url, &ps), PROXY_OK);
}

/* ---- NO_PROXY -------------------------------------------------------------------------- */

static void no_proxy_star_matches_everything(void **state)
{
    (void)state;
    assert_true(proxy_no_proxy_matches("*", "countly.example.com", 443));
    assert_true(proxy_no_proxy_matches("a.b, *", "10.1.2.3", 443));
}

static void no_proxy_domain_matches_itself_and_subdomains(void **state)
{
    (void)state;
    assert_true(proxy_no_proxy_matches("example.com", "example.com", 443));
    assert_true(proxy_no_proxy_matches("example.com", "countly.example.com", 443));
    assert_true(proxy_no_proxy_matches(".example.com", "example.com", 443));
    assert_true(proxy_no_proxy_matches(".example.com", "a.b.example.com", 443));
    assert_true(proxy_no_proxy_matches("*.example.com", "a.example.com", 443));
    assert_true(proxy_no_proxy_matches("EXAMPLE.com", "Countly.Example.COM", 443));
    assert_true(proxy_no_proxy_matches("example.com", "countly.example.com.", 443));
    assert_false(proxy_no_proxy_matches("example.com", "badexample.com", 443));
    assert_false(proxy_no_proxy_matches(".example.com", "example.org", 443));
    assert_false(proxy_no_proxy_matches("countly.example.com", "example.com", 443));
}

static void no_proxy_list_spaces_and_empty_entries(void **state)
{
    (void)state;
    assert_true(proxy_no_proxy_matches(" localhost , ,\tcountly.test ", "countly.test", 443));
    assert_false(proxy_no_proxy_matches(",, ,", "countly.test", 443));
    assert_false(proxy_no_proxy_matches("", "countly.test", 443));
}

static void no_proxy_port_must_match_when_given(void **state)
{
    (void)state;
    assert_true(proxy_no_proxy_matches("example.com:8443", "countly.example.com", 8443));
    assert_false(proxy_no_proxy_matches("example.com:8443", "countly.example.com", 443));
    assert_false(proxy_no_proxy_matches("example.com:x", "countly.example.com", 443));
    assert_true(proxy_no_proxy_matches("[2001:db8::1]:443", "2001:db8::1", 443));
    assert_false(proxy_no_proxy_matches("[2001:db8::1]:443", "2001:db8::1", 8443));
}

static void no_proxy_ip_literals_exact(void **state)
{
    (void)state;
    assert_true(proxy_no_proxy_matches("10.0.0.5", "10.0.0.5", 443));
    assert_false(proxy_no_proxy_matches("0.0.5", "10.0.0.5", 443));
    assert_false(proxy_no_proxy_matches("10.0.0.5", "110.0.0.5", 443));
    assert_true(proxy_no_proxy_matches("2001:db8::1", "2001:db8::1", 443));
    assert_true(proxy_no_proxy_matches("[2001:db8::1]", "2001:db8::1", 443));
    assert_false(proxy_no_proxy_matches("db8::1", "2001:db8::1", 443));
    assert_false(proxy_no_proxy_matches("example.com", "10.0.0.5", 443));
}

/* ---- proxy_choose ---------------------------------------------------------------------- */

/* A fake environment: NAME=value pairs. */
static const char *const *fake_env;

static const char *env_lookup(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = fake_env; *e != NULL; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static url_parts server(const char *url)
{
    url_parts u;
    assert_int_equal(url_parse(url, &u), URL_OK);
    return u;
}

static void choose_env_https_proxy(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=http://p:3128", "HTTP_PROXY=http://q:1", NULL};
    const char *from = NULL;
    url_parts u = server("https://countly.test:8443");
    fake_env = env;
    assert_int_equal(proxy_choose(&ps, NULL, &u, 0, env_lookup, &from), PROXY_OK);
    assert_true(ps.enabled);
    assert_string_equal(ps.host, "p");
    assert_string_equal(from, "HTTPS_PROXY");
}

static void choose_env_lowercase_and_empty_uppercase(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=", "https_proxy=http://low:3128", NULL};
    const char *from = NULL;
    url_parts u = server("https://countly.test");
    fake_env = env;
    assert_int_equal(proxy_choose(&ps, NULL, &u, 0, env_lookup, &from), PROXY_OK);
    assert_string_equal(ps.host, "low");
    assert_string_equal(from, "https_proxy");
}

static void choose_env_http_proxy_for_http_servers(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=http://p:3128", "http_proxy=http://q:8080",
                                      NULL};
    const char *from = NULL;
    url_parts u = server("http://countly.test");
    fake_env = env;
    assert_int_equal(proxy_choose(&ps, NULL, &u, 0, env_lookup, &from), PROXY_OK);
    assert_string_equal(ps.host, "q");
    assert_string_equal(from, "http_proxy");
}

static void choose_no_proxy_wins_over_env(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=http://p:3128", "no_proxy=.test", NULL};
    const char *from = NULL;
    url_parts u = server("https://countly.test");
    fake_env = env;
    assert_int_equal(proxy_choose(&ps, NULL, &u, 0, env_lookup, &from), PROXY_OK);
    assert_false(ps.enabled);
    assert_string_equal(from, "no_proxy");
}

static void choose_configured_wins_and_ignores_no_proxy(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=http://p:3128", "NO_PROXY=*", NULL};
    proxy_server configured;
    const char *from = NULL;
    url_parts u = server("https://countly.test");
    fake_env = env;
    assert_int_equal(proxy_parse("http://conf:1", &configured), PROXY_OK);
    assert_int_equal(proxy_choose(&ps, &configured, &u, 0, env_lookup, &from), PROXY_OK);
    assert_string_equal(ps.host, "conf");
    assert_string_equal(from, "proxy");
    assert_int_equal(proxy_parse("", &configured), PROXY_OK);
    assert_int_equal(proxy_choose(&ps, &configured, &u, 0, env_lookup, &from), PROXY_OK);
    assert_false(ps.enabled); /* proxy "" overrides HTTPS_PROXY */
}

static void choose_loopback_never_proxied(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=http://p:3128", NULL};
    proxy_server configured;
    const char *from = NULL;
    url_parts u = server("https://localhost:8443");
    fake_env = env;
    assert_int_equal(proxy_parse("http://conf:1", &configured), PROXY_OK);
    assert_int_equal(proxy_choose(&ps, &configured, &u, 1, env_lookup, &from), PROXY_OK);
    assert_false(ps.enabled);
    assert_int_equal(proxy_choose(&ps, NULL, &u, 1, env_lookup, &from), PROXY_OK);
    assert_false(ps.enabled);
    assert_string_equal(from, "loopback");
}

static void choose_no_env_no_proxy(void **state)
{
    (void)state;
    static const char *const env[] = {NULL};
    const char *from = NULL;
    url_parts u = server("https://countly.test");
    fake_env = env;
    assert_int_equal(proxy_choose(&ps, NULL, &u, 0, env_lookup, &from), PROXY_OK);
    assert_false(ps.enabled);
}

static void choose_malformed_env_names_variable(void **state)
{
    (void)state;
    static const char *const env[] = {"HTTPS_PROXY=https://p:3128", NULL};
    const char *from = NULL;
    url_parts u = server("https://countly.test");
    fake_env = env;
    assert_int_equal(proxy_choose(&ps, NULL, &u, 0, env_lookup, &from), PROXY_ERR_SCHEME);
    assert_string_equal(from, "HTTPS_PROXY");
}

/* ---- the CONNECT request --------------------------------------------------------------- */

static void request_without_credentials(void **state)
{
    (void)state;
    char out[PROXY_REQUEST_MAX + 1];
    size_t len = 0;
    assert_int_equal(proxy_parse("http://proxy:3128", &ps), PROXY_OK);
    assert_int_equal(proxy_connect_request(&ps, "countly.test", 8443, out, sizeof out, &len),
                     PROXY_OK);
    assert_string_equal(out, "CONNECT countly.test:8443 HTTP/1.1\r\n"
                             "Host: countly.test:8443\r\n"
                             "User-Agent: countly-sync/" COUNTLY_SYNC_VERSION "\r\n"
                             "\r\n");
    assert_int_equal(len, strlen(out));
}

static void request_basic_credentials(void **state)
{
    (void)state;
    char out[PROXY_REQUEST_MAX + 1];
    size_t len = 0;
    /* RFC 7617's example: Aladdin / open sesame */
    assert_int_equal(proxy_parse("http://Aladdin:open%20sesame@proxy:3128", &ps), PROXY_OK);
    assert_int_equal(proxy_connect_request(&ps, "countly.test", 443, out, sizeof out, &len),
                     PROXY_OK);
    assert_non_null(strstr(out, "\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"));
    assert_int_equal(memcmp(out, "CONNECT countly.test:443 HTTP/1.1\r\n", 35), 0);
}

static void request_brackets_ipv6_target(void **state)
{
    (void)state;
    char out[PROXY_REQUEST_MAX + 1];
    size_t len = 0;
    assert_int_equal(proxy_parse("http://proxy:3128", &ps), PROXY_OK);
    assert_int_equal(proxy_connect_request(&ps, "2001:db8::1", 443, out, sizeof out, &len),
                     PROXY_OK);
    assert_int_equal(
        memcmp(out, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n", 61), 0);
}

static void request_too_long_refused(void **state)
{
    (void)state;
    char out[64];
    size_t len = 0;
    assert_int_equal(proxy_parse("http://user:password@proxy:3128", &ps), PROXY_OK);
    assert_int_equal(proxy_connect_request(&ps, "countly.test", 443, out, sizeof out, &len),
                     PROXY_ERR_REQUEST_LONG);
}

/* ---- the answer ----------------------------------------------------------------------- */

static proxy_reply reply;

/* Feeds text whole, or one byte at a time; returns the final status and
 * the bytes taken in *used. */
static proxy_status feed(const char *text, int bytewise, size_t *used)
{
    size_t len = strlen(text);
    proxy_reply_init(&reply);
    *used = 0;
    if (!bytewise)
        return proxy_reply_feed(&reply, (const uint8_t *)text, len, used);
    proxy_status st = PROXY_NEED_MORE;
    for (size_t i = 0; i < len && st == PROXY_NEED_MORE; i++) {
        size_t one = 0;
        st = proxy_reply_feed(&reply, (const uint8_t *)text + i, 1, &one);
        *used += one;
    }
    return st;
}

/* Both ways give the same status, code and reason. */
static void expect_reply(const char *text, proxy_status want, int code, const char *reason)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        size_t used = 0;
        proxy_status st = feed(text, bytewise, &used);
        assert_int_equal(st, want);
        if (want == PROXY_OK) {
            assert_int_equal(reply.status_code, code);
            assert_string_equal(reply.reason, reason);
        }
    }
}

static void reply_200_with_headers(void **state)
{
    (void)state;
    expect_reply("HTTP/1.1 200 Connection established\r\nProxy-Agent: squid/6\r\n"
                 "Via: 1.1 proxy\r\n\r\n",
                 PROXY_OK, 200, "Connection established");
}

static void reply_200_without_reason(void **state)
{
    (void)state;
    expect_reply("HTTP/1.0 200\r\n\r\n", PROXY_OK, 200, "");
    expect_reply("HTTP/1.1 200 \n\n", PROXY_OK, 200, "");
}

static void reply_stops_at_end_of_head(void **state)
{
    (void)state;
    size_t used = 0;
    const char *text = "HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03";
    assert_int_equal(feed(text, 0, &used), PROXY_OK);
    assert_int_equal(used, 19);
    size_t again = 1;
    assert_int_equal(proxy_reply_feed(&reply, (const uint8_t *)"x", 1, &again), PROXY_OK);
    assert_int_equal(again, 0);
}

static void reply_407(void **state)
{
    (void)state;
    expect_reply("HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n",
                 PROXY_OK, 407, "Proxy Authentication Required");
}

static void reply_403_and_5xx(void **state)
{
    (void)state;
    expect_reply("HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n\r\n", PROXY_OK, 403,
                 "Forbidden");
    expect_reply("HTTP/1.1 502 Bad Gateway\r\n\r\n", PROXY_OK, 502, "Bad Gateway");
    expect_reply("HTTP/1.1 503 Service Unavailable\r\n\r\n", PROXY_OK, 503, "Service Unavailable");
}

static void reply_long_reason_cut(void **state)
{
    (void)state;
    char text[PROXY_REASON_MAX * 2 + 64];
    char reason[PROXY_REASON_MAX * 2 + 1];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    (void)snprintf(text, sizeof text, "HTTP/1.1 403 %s\r\n\r\n", reason);
    reason[PROXY_REASON_MAX] = '\0';
    expect_reply(text, PROXY_OK, 403, reason);
}

static void reply_too_long_head_is_clear_error(void **state)
{
    (void)state;
    static char text[PROXY_REPLY_MAX + 64];
    size_t n = (size_t)snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\n");
    while (n + 20 < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "X-Padding: %06zu\r\n", n);
    expect_reply(text, PROXY_ERR_HEAD_LONG, 0, NULL);
    assert_non_null(strstr(proxy_strerror(PROXY_ERR_HEAD_LONG), "PROXY_REPLY_MAX"));
}

static void reply_garbage_refused_early(void **state)
{
    (void)state;
    size_t used = 0;
    /* a TLS alert from a proxy port that speaks TLS: refused on its first byte */
    assert_int_equal(feed("\x15\x03\x01\x00\x02\x02\x50", 0, &used), PROXY_ERR_REPLY);
    assert_int_equal(used, 1);
    expect_reply("SSH-2.0-OpenSSH\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/2 200\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 20 OK\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 2000 OK\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 099 Odd\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
    expect_reply("HTTP/1.1 200 O\x01K\r\n\r\n", PROXY_ERR_REPLY, 0, NULL);
}

static void reply_incomplete_needs_more(void **state)
{
    (void)state;
    expect_reply("HTTP/1.1 200 OK\r\nVia: x\r\n", PROXY_NEED_MORE, 0, NULL);
    expect_reply("HTTP/1.1 200 OK\r\n\r", PROXY_NEED_MORE, 0, NULL);
}

static void strerror_names_every_status(void **state)
{
    (void)state;
    for (int s = PROXY_OK; s <= PROXY_ERR_REPLY; s++)
        assert_null(strstr(proxy_strerror((proxy_status)s), "unknown"));
    assert_string_equal(proxy_strerror((proxy_status)99), "unknown proxy status");
}

/* ---- proxy_tunnel_connect ----------------------------------------------------------- */

/* A proxy that takes one connection, reads the CONNECT head and sends
 * answer; listener is bound to 127.0.0.1:port. */
typedef struct {
    int listener;
    uint16_t port;
    const char *answer;
} fake_proxy;

static void *fake_proxy_serve(void *arg)
{
    fake_proxy *p = arg;
    char head[1024];
    size_t got = 0;
    int fd = accept(p->listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    while (got < sizeof head - 1) {
        ssize_t n = read(fd, head + got, sizeof head - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        head[got] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL)
            break;
    }
    (void)write(fd, p->answer, strlen(p->answer));
    (void)close(fd);
    return NULL;
}

/* proxy_tunnel_connect to countly.test:443 through a proxy that answers
 * answer; the status, with the detail line in detail. */
static transport_status tunnel_with_answer(const char *answer, char *detail, size_t cap)
{
    static proxy_tunnel t; /* large: keep it off the stack */
    fake_proxy p = {-1, 0, answer};
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p.listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p.listener >= 0);
    assert_int_equal(bind(p.listener, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(p.listener, 1), 0);
    assert_int_equal(getsockname(p.listener, (struct sockaddr *)&sa, &len), 0);
    p.port = ntohs(sa.sin_port);
    char url[64];
    (void)snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)p.port);
    memset(&t, 0, sizeof t);
    assert_int_equal(proxy_parse(url, &t.server), PROXY_OK);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, fake_proxy_serve, &p), 0);
    port_socket sock;
    port_socket_init(&sock);
    transport_status ts = proxy_tunnel_connect(&t, &sock, "countly.test", 443, 5000, detail, cap);
    assert_int_equal(pthread_join(thread, NULL), 0);
    port_net_close(&sock);
    (void)close(p.listener);
    return ts;
}

/* 502/503/504 (and 500): the proxy could not reach the server just now, a
 * connection failure the caller retries, named with the proxy's answer. */
static void tunnel_5xx_is_a_connection_failure(void **state)
{
    (void)state;
    char detail[256];
    assert_int_equal(tunnel_with_answer("HTTP/1.1 502 Bad Gateway\r\n\r\n", detail, sizeof detail),
                     TRANSPORT_ERR_CONNECT);
    assert_non_null(strstr(detail, "could not reach countly.test:443 (502 Bad Gateway)"));
    assert_int_equal(strncmp(detail, "the proxy http://127.0.0.1:", 27), 0);
    assert_int_equal(tunnel_with_answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
                                        "0\r\n\r\n",
                                        detail, sizeof detail),
                     TRANSPORT_ERR_CONNECT);
    assert_non_null(strstr(detail, "(503 Service Unavailable)"));
    assert_int_equal(
        tunnel_with_answer("HTTP/1.0 504 Gateway Timeout\r\n\r\n", detail, sizeof detail),
        TRANSPORT_ERR_CONNECT);
    assert_int_equal(tunnel_with_answer("HTTP/1.1 500\r\n\r\n", detail, sizeof detail),
                     TRANSPORT_ERR_CONNECT);
    assert_non_null(strstr(detail, "could not reach countly.test:443 (500)"));
}

/* A refusal a retry will not fix (407, 403, 501 no CONNECT): the proxy
 * refused the tunnel. 2xx opens it. */
static void tunnel_refusals_and_success(void **state)
{
    (void)state;
    char detail[256];
    assert_int_equal(tunnel_with_answer("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
                                        detail, sizeof detail),
                     TRANSPORT_ERR_PROXY);
    assert_non_null(strstr(detail, "refused the tunnel to countly.test:443 (407 Proxy "
                                   "Authentication Required): check the proxy credentials"));
    assert_int_equal(tunnel_with_answer("HTTP/1.1 403 Forbidden\r\n\r\n", detail, sizeof detail),
                     TRANSPORT_ERR_PROXY);
    assert_non_null(strstr(detail, "refused the tunnel to countly.test:443 (403 Forbidden)"));
    assert_int_equal(
        tunnel_with_answer("HTTP/1.1 501 Not Implemented\r\n\r\n", detail, sizeof detail),
        TRANSPORT_ERR_PROXY);
    assert_int_equal(
        tunnel_with_answer("HTTP/1.1 200 Connection established\r\n\r\n", detail, sizeof detail),
        TRANSPORT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_host_and_port),
        cmocka_unit_test(parse_scheme_case_and_trailing_slash),
        cmocka_unit_test(parse_bare_host_port_is_http),
        cmocka_unit_test(parse_ipv6_literal),
        cmocka_unit_test(parse_credentials_percent_decoded_and_hidden),
        cmocka_unit_test(parse_password_with_raw_at_sign_splits_at_last),
        cmocka_unit_test(parse_user_without_password),
        cmocka_unit_test(parse_empty_is_no_proxy),
        cmocka_unit_test(parse_missing_port_refused),
        cmocka_unit_test(parse_https_proxy_refused_clearly),
        cmocka_unit_test(parse_malformed_refused_and_wiped),
        cmocka_unit_test(parse_credentials_too_long),
        cmocka_unit_test(no_proxy_star_matches_everything),
        cmocka_unit_test(no_proxy_domain_matches_itself_and_subdomains),
        cmocka_unit_test(no_proxy_list_spaces_and_empty_entries),
        cmocka_unit_test(no_proxy_port_must_match_when_given),
        cmocka_unit_test(no_proxy_ip_literals_exact),
        cmocka_unit_test(choose_env_https_proxy),
        cmocka_unit_test(choose_env_lowercase_and_empty_uppercase),
        cmocka_unit_test(choose_env_http_proxy_for_http_servers),
        cmocka_unit_test(choose_no_proxy_wins_over_env),
        cmocka_unit_test(choose_configured_wins_and_ignores_no_proxy),
        cmocka_unit_test(choose_loopback_never_proxied),
        cmocka_unit_test(choose_no_env_no_proxy),
        cmocka_unit_test(choose_malformed_env_names_variable),
        cmocka_unit_test(request_without_credentials),
        cmocka_unit_test(request_basic_credentials),
        cmocka_unit_test(request_brackets_ipv6_target),
        cmocka_unit_test(request_too_long_refused),
        cmocka_unit_test(reply_200_with_headers),
        cmocka_unit_test(reply_200_without_reason),
        cmocka_unit_test(reply_stops_at_end_of_head),
        cmocka_unit_test(reply_407),
        cmocka_unit_test(reply_403_and_5xx),
        cmocka_unit_test(reply_long_reason_cut),
        cmocka_unit_test(reply_too_long_head_is_clear_error),
        cmocka_unit_test(reply_garbage_refused_early),
        cmocka_unit_test(reply_incomplete_needs_more),
        cmocka_unit_test(strerror_names_every_status),
        cmocka_unit_test(tunnel_5xx_is_a_connection_failure),
        cmocka_unit_test(tunnel_refusals_and_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
