/*
 * http_client.c - HTTP/1.1 GET with keep-alive over a transport (see
 * http_client.h). One request at a time, no pipelining.
 */
#include "http_client.h"

#include <stdio.h>
#include <string.h>

const char *http_client_strerror(http_client_status status)
{
    switch (status) {
    case HTTP_CLIENT_OK:
        return "ok";
    case HTTP_CLIENT_ERR_REQUEST_LONG:
        return "request longer than HTTP_REQUEST_MAX";
    case HTTP_CLIENT_ERR_TARGET:
        return "invalid request target";
    case HTTP_CLIENT_ERR_DECODE:
        return "compressed body cannot be decoded";
    case HTTP_CLIENT_ERR_CONNECT:
        return "could not connect";
    case HTTP_CLIENT_ERR_SEND:
        return "could not send the request";
    case HTTP_CLIENT_ERR_TIMEOUT:
        return "timed out waiting for the server";
    case HTTP_CLIENT_ERR_RECV:
        return "connection failed while receiving";
    case HTTP_CLIENT_ERR_NO_RESPONSE:
        return "server closed the connection without answering";
    case HTTP_CLIENT_ERR_PROTOCOL:
        return "malformed HTTP response";
    case HTTP_CLIENT_ERR_TRUNCATED:
        return "response truncated";
    case HTTP_CLIENT_ERR_ABORTED:
        return "transfer stopped by the receiver";
    }
    return "unknown http client status";
}

http_client_status http_client_init(http_client *c, transport tr, const url_parts *server,
                                    uint32_t timeout_ms)
{
    c->tr = tr;
    c->server = *server;
    c->timeout_ms = timeout_ms;
    c->connected = 0;
    c->connections = 0;
    c->requests = 0;
    c->gz = NULL;
    c->detail[0] = '\0';
    if (url_host_header(server, c->host_header, sizeof c->host_header) != URL_OK)
        return HTTP_CLIENT_ERR_REQUEST_LONG;
    return HTTP_CLIENT_OK;
}

void http_client_set_gzip(http_client *c, gunzip *gz)
{
    c->gz = gz;
}

int http_client_status_code(const http_client *c)
{
    return c->parser.status_code;
}

const char *http_client_detail(const http_client *c)
{
    return c->detail;
}

void http_client_close(http_client *c)
{
    if (c->connected)
        c->tr.ops->close(c->tr.ctx);
    c->connected = 0;
}

/* A target is an origin-form path: '/' then visible ASCII only. */
static int target_ok(const char *target)
{
    if (target[0] != '/')
        return 0;
    for (const char *p = target; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch >= 0x7f)
            return 0;
    }
    return 1;
}

static http_client_status build_request(http_client *c, const char *target, size_t *len)
{
    if (!target_ok(target))
        return HTTP_CLIENT_ERR_TARGET;
    int n = snprintf(c->request, sizeof c->request,
                     "GET %s%s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: countly-sync/" COUNTLY_SYNC_VERSION "\r\n"
                     "Accept: application/json\r\n"
                     "%s"
                     "Connection: keep-alive\r\n"
                     "\r\n",
                     c->server.path, target, c->host_header,
                     c->gz != NULL ? "Accept-Encoding: gzip\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof c->request)
        return HTTP_CLIENT_ERR_REQUEST_LONG;
    *len = (size_t)n;
    return HTTP_CLIENT_OK;
}

/* Records the transport's own words on a failure. */
static void note_transport(http_client *c, transport_status ts)
{
    const char *words = c->tr.ops->detail(c->tr.ctx);
    (void)snprintf(c->detail, sizeof c->detail, "%s",
                   words[0] != '\0' ? words : transport_strerror(ts));
}

static http_client_status open_connection(http_client *c, http_response *resp)
{
    transport_status ts =
        c->tr.ops->connect(c->tr.ctx, c->server.host, c->server.port, c->timeout_ms);
    resp->transport_status = ts;
    if (ts != TRANSPORT_OK) {
        note_transport(c, ts);
        return HTTP_CLIENT_ERR_CONNECT;
    }
    c->connected = 1;
    c->connections++;
    return HTTP_CLIENT_OK;
}

static http_client_status send_request(http_client *c, size_t len, http_response *resp)
{
    size_t sent = 0;
    while (sent < len) {
        transport_result r = c->tr.ops->send(c->tr.ctx, (const uint8_t *)c->request + sent,
                                             len - sent, c->timeout_ms);
        resp->transport_status = r.status;
        if (r.status != TRANSPORT_OK) {
            note_transport(c, r.status);
            return HTTP_CLIENT_ERR_SEND;
        }
        sent += r.n;
    }
    return HTTP_CLIENT_OK;
}

static http_client_status body_complete(http_client *c);

/* The stream ended (or failed) before the parser said DONE. */
static http_client_status end_of_stream(http_client *c, transport_status ts, uint64_t received,
                                        http_response *resp)
{
    if (ts == TRANSPORT_TIMEOUT) {
        (void)snprintf(c->detail, sizeof c->detail, "timed out after %lu ms waiting for %s",
                       (unsigned long)c->timeout_ms,
                       received ? "the rest of the response" : "the response");
        return HTTP_CLIENT_ERR_TIMEOUT;
    }
    if (ts == TRANSPORT_CLOSED) {
        http_parser_status ps = http_parser_finish(&c->parser);
        resp->parser_status = ps;
        if (ps == HTTP_PARSER_DONE)
            return body_complete(c);
        if (received == 0) {
            (void)snprintf(c->detail, sizeof c->detail,
                           "%s closed the connection without "
                           "answering",
                           c->server.host);
            return HTTP_CLIENT_ERR_NO_RESPONSE;
        }
        (void)snprintf(c->detail, sizeof c->detail, "response truncated: %s",
                       http_parser_strerror(ps));
        return HTTP_CLIENT_ERR_TRUNCATED;
    }
    note_transport(c, ts);
    return received == 0 ? HTTP_CLIENT_ERR_NO_RESPONSE : HTTP_CLIENT_ERR_RECV;
}

/* Inflated bytes (or identity ones) on their way to the caller. */
static int deliver(void *user, const uint8_t *data, size_t len)
{
    http_client *c = user;
    c->decoded_bytes += len;
    return c->user_body(c->user, data, len);
}

/* The parser's body callback: identity bytes go straight on, gzip bytes
 * through the inflater, any other coding is refused. */
static int client_body(void *user, const uint8_t *data, size_t len)
{
    http_client *c = user;
    http_encoding enc = c->parser.content_encoding;
    if (enc == HTTP_ENCODING_IDENTITY)
        return deliver(c, data, len);
#if HTTP_GZIP
    if (enc == HTTP_ENCODING_GZIP && c->gz != NULL) {
        gunzip_status gs = gunzip_feed(c->gz, data, len, deliver, c);
        if (gs == GUNZIP_OK || gs == GUNZIP_ERR_ABORTED)
            return gs != GUNZIP_OK;
        (void)snprintf(c->detail, sizeof c->detail, "gzip body: %s", gunzip_strerror(gs));
    } else
#endif
    {
        (void)snprintf(c->detail, sizeof c->detail, "a body in a Content-Encoding not asked for");
    }
    c->decode_failed = 1;
    return 1;
}

/* A complete gzip body must also be a complete gzip stream. */
static http_client_status body_complete(http_client *c)
{
    if (c->parser.content_encoding != HTTP_ENCODING_GZIP || c->gz == NULL)
        return HTTP_CLIENT_OK;
#if HTTP_GZIP
    gunzip_status gs = gunzip_finish(c->gz);
    if (gs == GUNZIP_OK)
        return HTTP_CLIENT_OK;
    (void)snprintf(c->detail, sizeof c->detail, "gzip body: %s", gunzip_strerror(gs));
#endif
    c->decode_failed = 1;
    return HTTP_CLIENT_ERR_DECODE;
}

/* A parser error: protocol violation, truncation or the receiver's stop. */
static http_client_status parser_failed(http_client *c, http_parser_status ps)
{
    if (c->decode_failed)
        return HTTP_CLIENT_ERR_DECODE;
    (void)snprintf(c->detail, sizeof c->detail, "%s", http_parser_strerror(ps));
    if (ps == HTTP_PARSER_ERR_ABORTED)
        return HTTP_CLIENT_ERR_ABORTED;
    return ps == HTTP_PARSER_ERR_TRUNCATED ? HTTP_CLIENT_ERR_TRUNCATED : HTTP_CLIENT_ERR_PROTOCOL;
}

/* Receives and parses one response. *clean is set when the connection
 * ended exactly at the end of the response and may be reused. */
static http_client_status receive_response(http_client *c, http_body_fn on_body, void *user,
                                           http_response *resp, int *clean)
{
    uint64_t received = 0;
    *clean = 0;
    http_parser_init(&c->parser);
    c->user_body = on_body;
    c->user = user;
    c->decoded_bytes = 0;
    c->decode_failed = 0;
#if HTTP_GZIP
    if (c->gz != NULL)
        gunzip_init(c->gz);
#endif
    for (;;) {
        transport_result r =
            c->tr.ops->recv(c->tr.ctx, c->recv_buf, sizeof c->recv_buf, c->timeout_ms);
        resp->transport_status = r.status;
        if (r.status != TRANSPORT_OK)
            return end_of_stream(c, r.status, received, resp);
        received += r.n;
        size_t used = 0;
        http_parser_status ps =
            http_parser_feed(&c->parser, c->recv_buf, r.n, &used, client_body, c);
        resp->parser_status = ps;
        if (ps == HTTP_PARSER_NEED_MORE)
            continue;
        if (ps != HTTP_PARSER_DONE)
            return parser_failed(c, ps);
        *clean = (used == r.n) && c->parser.keep_alive;
        return body_complete(c);
    }
}

static void fill_response(const http_client *c, http_response *resp)
{
    resp->status_code = c->parser.headers_done ? c->parser.status_code : 0;
    resp->date = c->parser.date;
    resp->retry_after = c->parser.retry_after;
    resp->body_bytes = c->parser.body_bytes;
    resp->decoded_bytes = c->decoded_bytes;
}

/* One try on the current (or a new) connection. */
static http_client_status attempt(http_client *c, size_t len, http_body_fn on_body, void *user,
                                  http_response *resp)
{
    http_client_status st = HTTP_CLIENT_OK;
    int clean = 0;
    resp->reused = c->connected;
    http_parser_init(&c->parser); /* report nothing of the previous response */
    if (!c->connected)
        st = open_connection(c, resp);
    if (st == HTTP_CLIENT_OK)
        st = send_request(c, len, resp);
    if (st == HTTP_CLIENT_OK)
        st = receive_response(c, on_body, user, resp, &clean);
    fill_response(c, resp);
    if (st != HTTP_CLIENT_OK || !clean)
        http_client_close(c);
    return st;
}

http_client_status http_client_get(http_client *c, const char *target, http_body_fn on_body,
                                   void *user, http_response *resp)
{
    size_t len = 0;
    memset(resp, 0, sizeof *resp);
    resp->date = -1;
    resp->retry_after = -1;
    c->detail[0] = '\0';
    http_client_status st = build_request(c, target, &len);
    if (st != HTTP_CLIENT_OK) {
        (void)snprintf(c->detail, sizeof c->detail, "%s", http_client_strerror(st));
        return st;
    }
    c->requests++;
    st = attempt(c, len, on_body, user, resp);
    /* A kept-alive connection the server closed meanwhile fails before any
     * response byte: reconnect once and send again (GET is idempotent). */
    if (resp->reused && resp->transport_status != TRANSPORT_TIMEOUT &&
        (st == HTTP_CLIENT_ERR_SEND || st == HTTP_CLIENT_ERR_NO_RESPONSE))
        st = attempt(c, len, on_body, user, resp);
    return st;
}
