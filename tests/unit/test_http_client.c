/*
 * test_http_client.c - unit tests of the HTTP/1.1 keep-alive client over a
 * scripted fake transport.
 *
 * The fake "server" follows a script: one entry per connection the client
 * opens (or fails to open), each holding the exchanges of that connection.
 * An exchange says how sending the request goes, which bytes the server
 * answers, in which fragment size, and what then ends the stream (CLOSED,
 * TIMEOUT, ERR_IO, or nothing: the connection stays open, idle). The fake
 * records every request the client sent and counts connects and closes;
 * anything the script did not foresee is flagged and fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "http_client.h"

/* ---- the scripted fake transport ------------------------------------------------- */

#define MAX_EXCHANGES 4
#define MAX_CONNS     4
#define MAX_REQUESTS  8

/* What recv reports once the reply's bytes are used up. IDLE: nothing, the
 * connection stays open (a further recv is a test failure). */
#define END_IDLE TRANSPORT_OK

typedef struct {
    transport_status send_status; /* TRANSPORT_OK: the request is accepted */
    const char *reply;            /* bytes the server answers (NULL: none) */
    size_t fragment;              /* bytes per recv; 0: as many as fit */
    transport_status end;         /* after the reply: END_IDLE, CLOSED, TIMEOUT, ERR_IO */
} exchange;

/* The one binary reply (a gzip body, built by gzip_reply) and its length:
 * every other reply is text. */
static char gz_reply[4096];
static size_t gz_reply_len;

static size_t reply_length(const char *reply)
{
    return reply == NULL ? 0 : reply == gz_reply ? gz_reply_len : strlen(reply);
}

typedef struct {
    transport_status connect_status; /* TRANSPORT_OK: the connect succeeds */
    const char *connect_detail;      /* the transport's words on a failed connect */
    exchange ex[MAX_EXCHANGES];
} conn_script;

typedef struct {
    const conn_script *script;
    size_t script_len;
    /* state */
    size_t conn;      /* index of the current (or next) connection */
    int open;         /* a connection is open */
    size_t ex_count;  /* complete requests received on this connection */
    size_t reply_pos; /* bytes of the current reply already returned */
    char partial[HTTP_REQUEST_MAX + 1];
    size_t partial_len;
    char detail[128];
    /* records */
    unsigned connect_calls;
    unsigned connects; /* successful */
    unsigned closes;
    unsigned misuse; /* calls the script did not foresee */
    char last_host[URL_HOST_MAX + 1];
    uint16_t last_port;
    uint32_t last_timeout;
    char requests[MAX_REQUESTS][HTTP_REQUEST_MAX + 1];
    size_t request_len[MAX_REQUESTS];
    size_t request_conn[MAX_REQUESTS]; /* connection index each request went on */
    unsigned n_requests;
    size_t send_max; /* most bytes accepted per send call; 0: all */
} fake_server;

static transport_status fake_connect(void *ctx, const char *host, uint16_t port,
                                     uint32_t timeout_ms)
{
    fake_server *f = ctx;
    f->connect_calls++;
    (void)snprintf(f->last_host, sizeof f->last_host, "%s", host);
    f->last_port = port;
    f->last_timeout = timeout_ms;
    f->detail[0] = '\0';
    if (f->open || f->conn >= f->script_len) {
        f->misuse++;
        return TRANSPORT_ERR_CONNECT;
    }
    const conn_script *cs = &f->script[f->conn];
    if (cs->connect_status != TRANSPORT_OK) {
        (void)snprintf(f->detail, sizeof f->detail, "%s",
                       cs->connect_detail ? cs->connect_detail : "");
        f->conn++;
        return cs->connect_status;
    }
    f->open = 1;
    f->connects++;
    f->ex_count = 0;
    f->reply_pos = 0;
    f->partial_len = 0;
    return TRANSPORT_OK;
}

static transport_result fake_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fake_server *f = ctx;
    transport_result r = {TRANSPORT_ERR_IO, 0};
    (void)timeout_ms;
    if (!f->open || f->ex_count >= MAX_EXCHANGES || len == 0) {
        f->misuse++;
        return r;
    }
    const exchange *ex = &f->script[f->conn].ex[f->ex_count];
    if (ex->send_status != TRANSPORT_OK) {
        r.status = ex->send_status;
        return r;
    }
    size_t n = len;
    if (f->send_max != 0 && n > f->send_max)
        n = f->send_max;
    if (f->partial_len + n > HTTP_REQUEST_MAX) {
        f->misuse++;
        return r;
    }
    memcpy(f->partial + f->partial_len, buf, n);
    f->partial_len += n;
    f->partial[f->partial_len] = '\0';
    if (f->partial_len >= 4 && memcmp(f->partial + f->partial_len - 4, "\r\n\r\n", 4) == 0) {
        if (f->n_requests < MAX_REQUESTS) {
            memcpy(f->requests[f->n_requests], f->partial, f->partial_len + 1);
            f->request_len[f->n_requests] = f->partial_len;
            f->request_conn[f->n_requests] = f->conn;
            f->n_requests++;
        }
        f->partial_len = 0;
        f->ex_count++;
        f->reply_pos = 0;
    }
    r.status = TRANSPORT_OK;
    r.n = n;
    return r;
}

static transport_result fake_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    fake_server *f = ctx;
    transport_result r = {TRANSPORT_ERR_IO, 0};
    (void)timeout_ms;
    if (!f->open || f->ex_count == 0 || cap == 0) {
        f->misuse++;
        return r;
    }
    const exchange *ex = &f->script[f->conn].ex[f->ex_count - 1];
    size_t total = reply_length(ex->reply);
    if (f->reply_pos < total) {
        size_t n = total - f->reply_pos;
        if (ex->fragment != 0 && n > ex->fragment)
            n = ex->fragment;
        if (n > cap)
            n = cap;
        memcpy(buf, ex->reply + f->reply_pos, n);
        f->reply_pos += n;
        r.status = TRANSPORT_OK;
        r.n = n;
        return r;
    }
    if (ex->end == END_IDLE) {
        f->misuse++; /* the client read past a complete, kept-alive response */
        r.status = TRANSPORT_TIMEOUT;
        return r;
    }
    r.status = ex->end;
    return r;
}

static void fake_close(void *ctx)
{
    fake_server *f = ctx;
    if (!f->open)
        f->misuse++;
    f->open = 0;
    f->closes++;
    f->conn++;
}

static const char *fake_detail(void *ctx)
{
    fake_server *f = ctx;
    return f->detail;
}

static const transport_ops fake_ops = {fake_connect, fake_send, fake_recv, fake_close, fake_detail};

/* ---- fixtures ------------------------------------------------------------------------ */

typedef struct {
    uint8_t data[8192];
    size_t len;
    unsigned calls;
    size_t abort_after; /* abort once this many bytes arrived; 0: never */
} body_sink;

static int collect_body(void *user, const uint8_t *data, size_t len)
{
    body_sink *b = user;
    b->calls++;
    if (b->len + len > sizeof b->data)
        return 1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return (b->abort_after != 0 && b->len >= b->abort_after) ? 1 : 0;
}

typedef struct {
    fake_server fake;
    http_client client;
    body_sink body;
    http_response resp;
} fixture;

static fixture *fixture_new(const char *server_url, const conn_script *script, size_t script_len)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->fake.script = script;
    fx->fake.script_len = script_len;
    url_parts parts;
    assert_int_equal(url_parse(server_url, &parts), URL_OK);
    transport tr = {&fake_ops, &fx->fake};
    assert_int_equal(http_client_init(&fx->client, tr, &parts, 5000), HTTP_CLIENT_OK);
    return fx;
}

/* Checks that the client did nothing the script did not foresee, then frees. */
static void fixture_done(fixture *fx)
{
    assert_int_equal(fx->fake.misuse, 0);
    http_client_close(&fx->client);
    assert_int_equal(fx->fake.misuse, 0);
    assert_int_equal(fx->fake.open, 0);
    free(fx);
}

static http_client_status get(fixture *fx, const char *target)
{
    fx->body.len = 0;
    fx->body.calls = 0;
    return http_client_get(&fx->client, target, collect_body, &fx->body, &fx->resp);
}

static void assert_body(const fixture *fx, const char *expected)
{
    size_t len = strlen(expected);
    assert_int_equal(fx->body.len, len);
    assert_memory_equal(fx->body.data, expected, len);
    assert_int_equal(fx->resp.body_bytes, len);
}

/* The request the client must send for server path prefix + target. */
static size_t expected_request(char *out, size_t cap, const char *prefix, const char *target,
                               const char *host)
{
    int n = snprintf(out, cap,
                     "GET %s%s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: countly-sync/" COUNTLY_SYNC_VERSION "\r\n"
                     "Accept: application/json\r\n"
                     "Connection: keep-alive\r\n"
                     "\r\n",
                     prefix, target, host);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

#define OK_HELLO  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
#define OK_EMPTY  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define JSON_BODY "{\"result\":[1,2,3],\"name\":\"countly\"}"
#define JSON_LEN  "35"

/* ---- the request bytes ---------------------------------------------------------------- */

static void sends_exact_request_with_path_prefix_and_query(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_EMPTY, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443/countly", script, 1);
    assert_int_equal(get(fx, "/o/db?x=1"), HTTP_CLIENT_OK);
    assert_int_equal(fx->fake.n_requests, 1);
    assert_string_equal(fx->fake.requests[0],
                        "GET /countly/o/db?x=1 HTTP/1.1\r\n"
                        "Host: h:8443\r\n"
                        "User-Agent: countly-sync/" COUNTLY_SYNC_VERSION "\r\n"
                        "Accept: application/json\r\n"
                        "Connection: keep-alive\r\n"
                        "\r\n");
    assert_string_equal(fx->fake.last_host, "h");
    assert_int_equal(fx->fake.last_port, 8443);
    assert_int_equal(fx->fake.last_timeout, 5000);
    fixture_done(fx);
}

static void sends_bracketed_ipv6_host_header(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_EMPTY, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://[::1]:8443", script, 1);
    assert_int_equal(get(fx, "/i?a=b"), HTTP_CLIENT_OK);
    char want[512];
    size_t len = expected_request(want, sizeof want, "", "/i?a=b", "[::1]:8443");
    assert_int_equal(fx->fake.request_len[0], len);
    assert_string_equal(fx->fake.requests[0], want);
    assert_string_equal(fx->fake.last_host, "::1"); /* connect gets the bare literal */
    fixture_done(fx);
}

static void omits_default_port_from_host_header(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_EMPTY, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://countly.example.com/", script, 1);
    assert_int_equal(get(fx, "/o"), HTTP_CLIENT_OK);
    char want[512];
    (void)expected_request(want, sizeof want, "", "/o", "countly.example.com");
    assert_string_equal(fx->fake.requests[0], want);
    assert_int_equal(fx->fake.last_port, 443);
    fixture_done(fx);
}

static void continues_request_after_short_sends(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443/countly", script, 1);
    fx->fake.send_max = 7;
    assert_int_equal(get(fx, "/o/db?x=1"), HTTP_CLIENT_OK);
    char want[512];
    (void)expected_request(want, sizeof want, "/countly", "/o/db?x=1", "h:8443");
    assert_string_equal(fx->fake.requests[0], want);
    assert_body(fx, "hello");
    fixture_done(fx);
}

/* ---- invalid targets and the request size limit ------------------------------------ */

static void rejects_invalid_targets_without_connecting(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      "o/db",   "?x=1",         "/o db",     "/o\r\nHost: evil", "/o\nX: y", "/o\rX",
        "/o\tx", "/o\x7f", "/caf\xc3\xa9", "/o?q=\xff", "http://h/o",       " /o",
    };
    fixture *fx = fixture_new("https://h:8443", NULL, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(get(fx, bad[i]), HTTP_CLIENT_ERR_TARGET);
        assert_true(http_client_detail(&fx->client)[0] != '\0');
    }
    assert_int_equal(fx->fake.connect_calls, 0);
    assert_int_equal(fx->fake.n_requests, 0);
    fixture_done(fx);
}

/* A target of target_len bytes: "/" then 'a's. */
static char *long_target(size_t target_len)
{
    char *t = malloc(target_len + 1);
    assert_non_null(t);
    memset(t, 'a', target_len);
    t[0] = '/';
    t[target_len] = '\0';
    return t;
}

/* Bytes of the request for the fixture's server other than the target. */
static size_t request_overhead(void)
{
    char buf[512];
    return expected_request(buf, sizeof buf, "/countly", "", "h:8443");
}

static void rejects_request_longer_than_limit_without_connecting(void **state)
{
    (void)state;
    fixture *fx = fixture_new("https://h:8443/countly", NULL, 0);
    char *target = long_target(HTTP_REQUEST_MAX + 1 - request_overhead());
    assert_int_equal(get(fx, target), HTTP_CLIENT_ERR_REQUEST_LONG);
    assert_int_equal(fx->fake.connect_calls, 0);
    free(target);
    target = long_target(HTTP_REQUEST_MAX * 2);
    assert_int_equal(get(fx, target), HTTP_CLIENT_ERR_REQUEST_LONG);
    assert_int_equal(fx->fake.connect_calls, 0);
    free(target);
    fixture_done(fx);
}

/* A request of HTTP_REQUEST_MAX - 1 bytes (the request buffer also holds the
 * NUL that snprintf writes) is sent whole. */
static void sends_request_one_byte_under_the_limit(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_EMPTY, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443/countly", script, 1);
    size_t target_len = HTTP_REQUEST_MAX - 1 - request_overhead();
    char *target = long_target(target_len);
    assert_int_equal(get(fx, target), HTTP_CLIENT_OK);
    assert_int_equal(fx->fake.n_requests, 1);
    assert_int_equal(fx->fake.request_len[0], HTTP_REQUEST_MAX - 1);
    assert_memory_equal(fx->fake.requests[0] + 4 + strlen("/countly"), target, target_len);
    free(target);
    fixture_done(fx);
}

/* ---- keep-alive and framings ----------------------------------------------------------- */

static void reuses_one_connection_for_three_gets(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", 0, END_IDLE},
          {TRANSPORT_OK,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n", 0,
           END_IDLE},
          {TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree", 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    static const char *const bodies[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get(fx, "/o"), HTTP_CLIENT_OK);
        assert_int_equal(fx->resp.reused, i == 0 ? 0 : 1);
        assert_int_equal(fx->resp.status_code, 200);
        assert_body(fx, bodies[i]);
    }
    assert_int_equal(fx->fake.connects, 1);
    assert_int_equal(fx->fake.closes, 0);
    assert_int_equal(fx->fake.n_requests, 3);
    assert_int_equal(fx->client.connections, 1);
    assert_int_equal(fx->client.requests, 3);
    fixture_done(fx);
    /* fixture_done closed the connection once */
}

typedef struct {
    const char *name;
    const char *reply;
    transport_status end;
    int keeps_connection;
} framing_case;

static const framing_case framings[] = {
    {"content_length",
     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " JSON_LEN
     "\r\n\r\n" JSON_BODY,
     END_IDLE, 1},
    {"chunked",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "a\r\n{\"result\":\r\n"
     "19;ext=1\r\n[1,2,3],\"name\":\"countly\"}\r\n"
     "0\r\nTrailer: x\r\n\r\n",
     END_IDLE, 1},
    {"close_delimited", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" JSON_BODY, TRANSPORT_CLOSED,
     0},
    {"http10_close_delimited", "HTTP/1.0 200 OK\r\n\r\n" JSON_BODY, TRANSPORT_CLOSED, 0},
};

static void delivers_body_in_fragments_for_every_framing(void **state)
{
    (void)state;
    static const size_t fragments[] = {1, 2, 3, 7, 16, 64, 0};
    for (size_t i = 0; i < sizeof framings / sizeof framings[0]; i++) {
        for (size_t j = 0; j < sizeof fragments / sizeof fragments[0]; j++) {
            conn_script script[1] = {{TRANSPORT_OK, NULL, {{0}}}};
            script[0].ex[0].reply = framings[i].reply;
            script[0].ex[0].fragment = fragments[j];
            script[0].ex[0].end = framings[i].end;
            fixture *fx = fixture_new("https://h:8443", script, 1);
            print_message("%s, fragment %zu\n", framings[i].name, fragments[j]);
            assert_int_equal(get(fx, "/o/db"), HTTP_CLIENT_OK);
            assert_int_equal(fx->resp.status_code, 200);
            assert_body(fx, JSON_BODY);
            assert_int_equal(fx->client.connected, framings[i].keeps_connection);
            assert_int_equal(fx->fake.closes, framings[i].keeps_connection ? 0 : 1);
            fixture_done(fx);
        }
    }
}

static void opens_new_connection_after_connection_close_response(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0,
           END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_body(fx, "ok");
    assert_int_equal(fx->fake.closes, 1);
    assert_int_equal(fx->client.connected, 0);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_body(fx, "hello");
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 2);
    assert_int_equal(fx->fake.request_conn[1], 1);
    fixture_done(fx);
}

static void http10_close_delimited_response_is_ok_and_not_reused(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, "HTTP/1.0 200 OK\r\n\r\nold", 2, TRANSPORT_CLOSED}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_body(fx, "old");
    assert_int_equal(fx->resp.status_code, 200);
    assert_int_equal(fx->resp.parser_status, HTTP_PARSER_DONE);
    assert_int_equal(fx->client.connected, 0);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 2);
    fixture_done(fx);
}

static void http10_keep_alive_response_is_reused(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
           0, END_IDLE},
          {TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 1);
    assert_int_equal(fx->fake.connects, 1);
    fixture_done(fx);
}

/* ---- transparent reconnect ------------------------------------------------------------- */

static void reconnects_once_when_kept_alive_connection_was_closed(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_OK, NULL, 0, TRANSPORT_CLOSED}}},
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew", 1, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443/countly", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b?x=1"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->resp.status_code, 200);
    assert_body(fx, "new");
    assert_int_equal(fx->fake.connects, 2);
    assert_int_equal(fx->fake.closes, 1);
    /* the same request went out twice: on the stale and on the new connection */
    assert_int_equal(fx->fake.n_requests, 3);
    assert_string_equal(fx->fake.requests[1], fx->fake.requests[2]);
    assert_int_equal(fx->fake.request_conn[1], 0);
    assert_int_equal(fx->fake.request_conn[2], 1);
    assert_int_equal(fx->client.requests, 2); /* the resend is not a new GET */
    assert_int_equal(fx->client.connections, 2);
    assert_int_equal(fx->client.connected, 1); /* the new connection is kept */
    fixture_done(fx);
}

static void reconnects_once_when_send_on_kept_alive_connection_reports_closed(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_CLOSED, NULL, 0, END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_body(fx, "hello");
    assert_int_equal(fx->fake.connects, 2);
    assert_int_equal(fx->fake.n_requests, 2);
    assert_int_equal(fx->fake.request_conn[1], 1);
    fixture_done(fx);
}

static void reconnects_once_when_kept_alive_connection_was_reset_before_any_byte(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_OK, NULL, 0, TRANSPORT_ERR_IO}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 2);
    fixture_done(fx);
}

static void reports_no_response_when_fresh_connection_also_closes(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_OK, NULL, 0, TRANSPORT_CLOSED}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, NULL, 0, TRANSPORT_CLOSED}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 3);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_ERR_NO_RESPONSE);
    assert_int_equal(fx->fake.connects, 2); /* no third connect */
    assert_int_equal(fx->fake.closes, 2);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->resp.status_code, 0);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_CLOSED);
    assert_int_equal(fx->client.connected, 0);
    assert_non_null(strstr(http_client_detail(&fx->client), "without answering"));
    fixture_done(fx);
}

static void reports_no_response_without_retry_on_fresh_connection(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, NULL, 0, TRANSPORT_CLOSED}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_NO_RESPONSE);
    assert_int_equal(fx->fake.connects, 1);
    assert_int_equal(fx->resp.reused, 0);
    fixture_done(fx);
}

static void does_not_retry_when_kept_alive_connection_closes_after_partial_response(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE},
          {TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Le", 0, TRANSPORT_CLOSED}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_ERR_TRUNCATED);
    assert_int_equal(fx->resp.reused, 1);
    assert_int_equal(fx->fake.connects, 1);
    assert_int_equal(fx->client.connected, 0);
    fixture_done(fx);
}

/* ---- never reuse after an error ------------------------------------------------------------ */

static void truncated_body_is_reported_and_next_get_connects_anew(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", 3,
           TRANSPORT_CLOSED}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_TRUNCATED);
    assert_int_equal(fx->resp.status_code, 200);
    assert_int_equal(fx->resp.body_bytes, 4);
    assert_int_equal(fx->resp.parser_status, HTTP_PARSER_ERR_TRUNCATED);
    assert_int_equal(fx->client.connected, 0);
    assert_int_equal(fx->fake.closes, 1);
    assert_non_null(strstr(http_client_detail(&fx->client), "truncated"));
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 2);
    fixture_done(fx);
}

static void truncated_chunked_body_is_reported(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0,
           TRANSPORT_CLOSED}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_TRUNCATED);
    assert_body(fx, "ab");
    assert_int_equal(fx->client.connected, 0);
    fixture_done(fx);
}

static void reset_mid_body_is_a_receive_error(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", 0,
           TRANSPORT_ERR_IO}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_RECV);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_ERR_IO);
    assert_int_equal(fx->client.connected, 0);
    assert_true(http_client_detail(&fx->client)[0] != '\0');
    fixture_done(fx);
}

static void parser_error_is_protocol_error_and_connection_closed(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, "HTTP/1.1 2x0 OK\r\n\r\n", 0, END_IDLE}}},
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0,
           END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 3);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_PROTOCOL);
    assert_int_equal(fx->resp.parser_status, HTTP_PARSER_ERR_STATUS_LINE);
    assert_int_equal(fx->client.connected, 0);
    assert_string_equal(http_client_detail(&fx->client),
                        http_parser_strerror(HTTP_PARSER_ERR_STATUS_LINE));
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_ERR_PROTOCOL);
    assert_int_equal(fx->resp.parser_status, HTTP_PARSER_ERR_CONTENT_LENGTH);
    assert_int_equal(fx->client.connected, 0);
    assert_int_equal(get(fx, "/c"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 3);
    assert_int_equal(fx->fake.closes, 2);
    fixture_done(fx);
}

static void body_callback_abort_is_reported_and_connection_closed(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 1, END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    fx->body.abort_after = 4;
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_ABORTED);
    assert_int_equal(fx->resp.parser_status, HTTP_PARSER_ERR_ABORTED);
    assert_int_equal(fx->body.len, 4);
    assert_int_equal(fx->client.connected, 0);
    assert_int_equal(fx->fake.closes, 1);
    fx->body.abort_after = 0;
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 2);
    fixture_done(fx);
}

static void extra_bytes_after_content_length_body_close_connection(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO "HTTP/1.1 200 OK\r\n", 0, END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_body(fx, "hello");
    assert_int_equal(fx->client.connected, 0);
    assert_int_equal(fx->fake.closes, 1);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.reused, 0);
    assert_int_equal(fx->fake.connects, 2);
    fixture_done(fx);
}

/* ---- timeouts ----------------------------------------------------------------------------- */

static void timeout_mid_response_is_reported(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal", 5,
           TRANSPORT_TIMEOUT}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_TIMEOUT);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_TIMEOUT);
    assert_int_equal(fx->resp.status_code, 200);
    assert_int_equal(fx->resp.body_bytes, 3);
    assert_non_null(strstr(http_client_detail(&fx->client), "timed out"));
    assert_non_null(strstr(http_client_detail(&fx->client), "5000 ms"));
    assert_int_equal(fx->client.connected, 0);
    fixture_done(fx);
}

static void timeout_on_kept_alive_connection_is_not_retried(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_OK, NULL, 0, TRANSPORT_TIMEOUT}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_ERR_TIMEOUT);
    assert_int_equal(fx->resp.reused, 1);
    assert_int_equal(fx->fake.connects, 1);
    assert_int_equal(fx->fake.n_requests, 2);
    assert_non_null(strstr(http_client_detail(&fx->client), "timed out"));
    assert_int_equal(fx->client.connected, 0);
    fixture_done(fx);
}

/* ---- connect failures -------------------------------------------------------------------- */

static void connect_failure_reports_transport_words(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_ERR_CONNECT, "connect to h:1: connection refused", {{0}}}};
    fixture *fx = fixture_new("https://h:1", script, 1);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_CONNECT);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_ERR_CONNECT);
    assert_int_equal(fx->resp.status_code, 0);
    assert_non_null(strstr(http_client_detail(&fx->client), "connect to h:1: connection refused"));
    assert_int_equal(fx->fake.connects, 0);
    assert_int_equal(fx->fake.closes, 0);
    assert_int_equal(fx->fake.n_requests, 0);
    assert_int_equal(fx->client.connected, 0);
    fixture_done(fx);
}

static void connect_failure_without_detail_uses_status_words(void **state)
{
    (void)state;
    static const conn_script script[] = {{TRANSPORT_ERR_RESOLVE, NULL, {{0}}}};
    fixture *fx = fixture_new("https://nowhere.invalid", script, 1);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_CONNECT);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_ERR_RESOLVE);
    assert_string_equal(http_client_detail(&fx->client), transport_strerror(TRANSPORT_ERR_RESOLVE));
    fixture_done(fx);
}

static void send_failure_on_fresh_connection_is_not_retried(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_ERR_IO, NULL, 0, END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_ERR_SEND);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_ERR_IO);
    assert_int_equal(fx->fake.connects, 1);
    assert_int_equal(fx->client.connected, 0);
    fixture_done(fx);
}

/* ---- response fields ----------------------------------------------------------------------- */

static void reports_status_date_retry_after_and_body_bytes(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK,
           "HTTP/1.1 401 Unauthorized\r\n"
           "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
           "Retry-After: 120\r\n"
           "Content-Length: 14\r\n"
           "\r\n"
           "{\"err\":\"auth\"}",
           4, END_IDLE},
          {TRANSPORT_OK, "HTTP/1.1 204 No Content\r\n\r\n", 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/o"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.status_code, 401);
    assert_int_equal(fx->resp.date, 784111777);
    assert_int_equal(fx->resp.retry_after, 120);
    assert_body(fx, "{\"err\":\"auth\"}");
    assert_int_equal(fx->resp.parser_status, HTTP_PARSER_DONE);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_OK);
    assert_int_equal(fx->client.connected, 1);
    /* the next response has none of them */
    assert_int_equal(get(fx, "/o"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.status_code, 204);
    assert_int_equal(fx->resp.date, -1);
    assert_int_equal(fx->resp.retry_after, -1);
    assert_int_equal(fx->resp.body_bytes, 0);
    assert_int_equal(fx->body.calls, 0);
    assert_int_equal(fx->resp.reused, 1);
    fixture_done(fx);
}

static void retry_after_http_date_is_relative_to_date(void **state)
{
    (void)state;
    static const conn_script script[] = {{TRANSPORT_OK,
                                          NULL,
                                          {{TRANSPORT_OK,
                                            "HTTP/1.1 503 Service Unavailable\r\n"
                                            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                            "Retry-After: Sun, 06 Nov 1994 08:50:07 GMT\r\n"
                                            "Content-Length: 0\r\n"
                                            "\r\n",
                                            0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/o"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.status_code, 503);
    assert_int_equal(fx->resp.retry_after, 30);
    fixture_done(fx);
}

static void skips_interim_100_continue_response(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, "HTTP/1.1 100 Continue\r\n\r\n" OK_HELLO, 3, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 1);
    assert_int_equal(get(fx, "/o"), HTTP_CLIENT_OK);
    assert_int_equal(fx->resp.status_code, 200);
    assert_body(fx, "hello");
    assert_int_equal(fx->client.connected, 1);
    fixture_done(fx);
}

static void strerror_has_words_for_every_status(void **state)
{
    (void)state;
    for (int s = HTTP_CLIENT_OK; s <= HTTP_CLIENT_ERR_ABORTED; s++) {
        const char *w = http_client_strerror((http_client_status)s);
        assert_non_null(w);
        assert_string_not_equal(w, "unknown http client status");
    }
    assert_string_equal(http_client_strerror((http_client_status)99), "unknown http client status");
}

/* After a response, a GET whose connect fails must not report the previous
 * response's status/date/body_bytes (http_client.h: "0 until a status line
 * was parsed", "filled as far as the exchange got"). */
static void connect_failure_after_a_response_reports_no_stale_status(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK,
           "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n"
           "Content-Length: 5\r\n\r\nhello",
           0, END_IDLE}}},
        {TRANSPORT_ERR_CONNECT, "connect to h:8443: connection refused", {{0}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_ERR_CONNECT);
    assert_int_equal(fx->resp.status_code, 0);
    assert_int_equal(fx->resp.date, -1);
    assert_int_equal(fx->resp.body_bytes, 0);
    fixture_done(fx);
}

/* Same through the reconnect path: stale connection, then connect refused. */
static void failed_reconnect_reports_no_stale_status(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_OK, NULL, 0, TRANSPORT_CLOSED}}},
        {TRANSPORT_ERR_CONNECT, "connect to h:8443: connection refused", {{0}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    assert_int_equal(get(fx, "/b"), HTTP_CLIENT_ERR_CONNECT);
    assert_int_equal(fx->resp.status_code, 0);
    assert_int_equal(fx->resp.body_bytes, 0);
    fixture_done(fx);
}

/* A request of exactly HTTP_REQUEST_MAX bytes does not "exceed" it. */
static void request_of_exactly_request_max_bytes_is_sent(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_EMPTY, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443/countly", script, 1);
    char *target = long_target(HTTP_REQUEST_MAX - request_overhead());
    assert_int_equal(get(fx, target), HTTP_CLIENT_OK);
    free(target);
    fixture_done(fx);
}

/* A send that times out on a kept-alive connection is not retried. */
static void send_timeout_on_kept_alive_connection_is_not_retried(void **state)
{
    (void)state;
    static const conn_script script[] = {
        {TRANSPORT_OK,
         NULL,
         {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}, {TRANSPORT_TIMEOUT, NULL, 0, END_IDLE}}},
        {TRANSPORT_OK, NULL, {{TRANSPORT_OK, OK_HELLO, 0, END_IDLE}}}};
    fixture *fx = fixture_new("https://h:8443", script, 2);
    assert_int_equal(get(fx, "/a"), HTTP_CLIENT_OK);
    http_client_status st = get(fx, "/b");
    assert_int_equal(fx->fake.connects, 1);
    assert_int_equal(fx->resp.transport_status, TRANSPORT_TIMEOUT);
    assert_int_not_equal(st, HTTP_CLIENT_OK);
    fixture_done(fx);
}

/* ---- gzip bodies ------------------------------------------------------------------- */

static gunzip gz;

/* zlib is built with Z_SOLO (no allocator of its own): tests give deflate one. */
static voidpf test_zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return calloc(items, size);
}

static void test_zfree(voidpf opaque, voidpf address)
{
    (void)opaque;
    free(address);
}

/* "HTTP/1.1 200 OK" + Content-Encoding: enc + chunked framing of the gzip of
 * text (cut to keep bytes of it when keep > 0; one byte flipped at flip >= 0)
 * into gz_reply; returns its length. */
static size_t gzip_reply(const char *enc, const char *text, size_t keep, long flip)
{
    uint8_t packed[2048];
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = test_zalloc;
    z.zfree = test_zfree;
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = packed;
    z.avail_out = sizeof packed;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof packed - z.avail_out;
    deflateEnd(&z);
    if (keep > 0 && keep < n)
        n = keep;
    if (flip >= 0)
        packed[flip] ^= 0x40;
    int h = snprintf(gz_reply, sizeof gz_reply,
                     "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nTransfer-Encoding: chunked\r\n"
                     "\r\n%zx\r\n",
                     enc, n);
    memcpy(gz_reply + h, packed, n);
    memcpy(gz_reply + (size_t)h + n, "\r\n0\r\n\r\n", 7);
    gz_reply_len = (size_t)h + n + 7;
    return gz_reply_len;
}

#define GZ_TEXT "{\"collections\":[{\"_id\":\"a\",\"lac\":1717650000},{\"_id\":\"b\"}]}"

static http_client_status gzip_get(const char *enc, size_t keep, long flip, size_t fragment,
                                   fixture **out)
{
    static conn_script script[1];
    memset(script, 0, sizeof script);
    script[0].ex[0].reply = gz_reply;
    (void)gzip_reply(enc, GZ_TEXT, keep, flip);
    script[0].ex[0].fragment = fragment;
    script[0].ex[0].end = END_IDLE;
    fixture *fx = fixture_new("https://h.example", script, 1);
    http_client_set_gzip(&fx->client, &gz);
    *out = fx;
    return get(fx, "/o/db");
}

static void gzip_body_is_inflated_in_any_fragments(void **state)
{
    (void)state;
    for (size_t fragment = 0; fragment <= 7; fragment += 1) {
        fixture *fx;
        assert_int_equal(gzip_get("gzip", 0, -1, fragment, &fx), HTTP_CLIENT_OK);
        assert_int_equal(fx->body.len, strlen(GZ_TEXT));
        assert_memory_equal(fx->body.data, GZ_TEXT, strlen(GZ_TEXT));
        assert_int_equal(fx->resp.decoded_bytes, strlen(GZ_TEXT));
        assert_true(fx->resp.body_bytes > 0 && fx->resp.body_bytes != strlen(GZ_TEXT));
        assert_non_null(strstr(fx->fake.requests[0], "\r\nAccept-Encoding: gzip\r\n"));
        fixture_done(fx);
    }
}

static void corrupt_or_cut_gzip_is_a_decode_error(void **state)
{
    (void)state;
    fixture *fx;
    assert_int_equal(gzip_get("gzip", 0, 12, 0, &fx), HTTP_CLIENT_ERR_DECODE);
    assert_non_null(strstr(http_client_detail(&fx->client), "gzip body: corrupt gzip data"));
    fixture_done(fx);
    assert_int_equal(gzip_get("gzip", 20, -1, 0, &fx), HTTP_CLIENT_ERR_DECODE);
    assert_non_null(strstr(http_client_detail(&fx->client), "ended early"));
    fixture_done(fx);
    assert_int_equal(gzip_get("br", 0, -1, 0, &fx), HTTP_CLIENT_ERR_DECODE);
    assert_non_null(strstr(http_client_detail(&fx->client), "not asked for"));
    fixture_done(fx);
    assert_int_equal(gzip_get("gzip, br", 0, -1, 0, &fx), HTTP_CLIENT_ERR_DECODE);
    fixture_done(fx);
}

static void without_gzip_nothing_is_asked_or_accepted(void **state)
{
    (void)state;
    static conn_script script[1];
    memset(script, 0, sizeof script);
    script[0].ex[0].reply = gz_reply;
    (void)gzip_reply("gzip", GZ_TEXT, 0, -1);
    script[0].ex[0].end = END_IDLE;
    fixture *fx = fixture_new("https://h.example", script, 1);
    assert_int_equal(get(fx, "/o/db"), HTTP_CLIENT_ERR_DECODE); /* a server that ignored us */
    assert_null(strstr(fx->fake.requests[0], "Accept-Encoding"));
    fixture_done(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gzip_body_is_inflated_in_any_fragments),
        cmocka_unit_test(corrupt_or_cut_gzip_is_a_decode_error),
        cmocka_unit_test(without_gzip_nothing_is_asked_or_accepted),
        cmocka_unit_test(connect_failure_after_a_response_reports_no_stale_status),
        cmocka_unit_test(failed_reconnect_reports_no_stale_status),
        cmocka_unit_test(request_of_exactly_request_max_bytes_is_sent),
        cmocka_unit_test(send_timeout_on_kept_alive_connection_is_not_retried),
        cmocka_unit_test(sends_exact_request_with_path_prefix_and_query),
        cmocka_unit_test(sends_bracketed_ipv6_host_header),
        cmocka_unit_test(omits_default_port_from_host_header),
        cmocka_unit_test(continues_request_after_short_sends),
        cmocka_unit_test(rejects_invalid_targets_without_connecting),
        cmocka_unit_test(rejects_request_longer_than_limit_without_connecting),
        cmocka_unit_test(sends_request_one_byte_under_the_limit),
        cmocka_unit_test(reuses_one_connection_for_three_gets),
        cmocka_unit_test(delivers_body_in_fragments_for_every_framing),
        cmocka_unit_test(opens_new_connection_after_connection_close_response),
        cmocka_unit_test(http10_close_delimited_response_is_ok_and_not_reused),
        cmocka_unit_test(http10_keep_alive_response_is_reused),
        cmocka_unit_test(reconnects_once_when_kept_alive_connection_was_closed),
        cmocka_unit_test(reconnects_once_when_send_on_kept_alive_connection_reports_closed),
        cmocka_unit_test(reconnects_once_when_kept_alive_connection_was_reset_before_any_byte),
        cmocka_unit_test(reports_no_response_when_fresh_connection_also_closes),
        cmocka_unit_test(reports_no_response_without_retry_on_fresh_connection),
        cmocka_unit_test(does_not_retry_when_kept_alive_connection_closes_after_partial_response),
        cmocka_unit_test(truncated_body_is_reported_and_next_get_connects_anew),
        cmocka_unit_test(truncated_chunked_body_is_reported),
        cmocka_unit_test(reset_mid_body_is_a_receive_error),
        cmocka_unit_test(parser_error_is_protocol_error_and_connection_closed),
        cmocka_unit_test(body_callback_abort_is_reported_and_connection_closed),
        cmocka_unit_test(extra_bytes_after_content_length_body_close_connection),
        cmocka_unit_test(timeout_mid_response_is_reported),
        cmocka_unit_test(timeout_on_kept_alive_connection_is_not_retried),
        cmocka_unit_test(connect_failure_reports_transport_words),
        cmocka_unit_test(connect_failure_without_detail_uses_status_words),
        cmocka_unit_test(send_failure_on_fresh_connection_is_not_retried),
        cmocka_unit_test(reports_status_date_retry_after_and_body_bytes),
        cmocka_unit_test(retry_after_http_date_is_relative_to_date),
        cmocka_unit_test(skips_interim_100_continue_response),
        cmocka_unit_test(strerror_has_words_for_every_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
