/*
 * http_client.h - HTTP/1.1 GET over a transport, with keep-alive.
 *
 * The client owns its fixed request and receive buffers (inside the struct
 * the caller allocates) and one connection at a time. A GET builds the
 * request line and headers into the request buffer, sends them, and feeds
 * the received bytes through http_parser, which hands the body to the
 * caller's callback in fragments.
 *
 * Connection reuse: after a complete response that allows keep-alive the
 * connection stays open for the next request. If a reused connection turns
 * out to be closed by the server before any byte of the response arrives,
 * the client reconnects once and sends again (GET is idempotent). After an
 * error, an aborted or unread body, or "Connection: close", the connection
 * is closed and never reused.
 */
#ifndef COUNTLY_SYNC_HTTP_CLIENT_H
#define COUNTLY_SYNC_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "gunzip.h"
#include "http_parser.h"
#include "options.h"
#include "transport.h"
#include "url.h"

typedef enum {
    HTTP_CLIENT_OK = 0,
    HTTP_CLIENT_ERR_REQUEST_LONG, /* request exceeds HTTP_REQUEST_MAX */
    HTTP_CLIENT_ERR_TARGET,       /* target not "/..." or holds spaces/control bytes */
    HTTP_CLIENT_ERR_CONNECT,      /* could not connect; transport status says why */
    HTTP_CLIENT_ERR_SEND,         /* the request could not be sent */
    HTTP_CLIENT_ERR_TIMEOUT,      /* no data within the request timeout */
    HTTP_CLIENT_ERR_RECV,         /* the connection failed while receiving */
    HTTP_CLIENT_ERR_NO_RESPONSE,  /* the server closed without answering */
    HTTP_CLIENT_ERR_PROTOCOL,     /* malformed response; parser status says how */
    HTTP_CLIENT_ERR_TRUNCATED,    /* the body ended early */
    HTTP_CLIENT_ERR_ABORTED,      /* the body callback stopped the transfer */
    HTTP_CLIENT_ERR_DECODE        /* a compressed body that cannot be decoded */
} http_client_status;

/* What a GET learned; filled as far as the exchange got. */
typedef struct {
    int status_code;        /* 0 until a status line was parsed */
    int64_t date;           /* server Date, unix seconds; -1 if none */
    int64_t retry_after;    /* seconds; -1 if none */
    uint64_t body_bytes;    /* body bytes as they came over the wire */
    uint64_t decoded_bytes; /* body bytes handed to the callback (after gunzip) */
    http_parser_status parser_status;
    transport_status transport_status;
    int reused; /* 1 when sent on an already open connection */
} http_response;

typedef struct {
    transport tr;
    url_parts server;
    char host_header[URL_HOST_MAX + 16];
    uint32_t timeout_ms;
    int connected;
    unsigned long connections; /* connections opened so far */
    unsigned long requests;    /* GETs made so far (a transparent resend is not counted) */
    http_parser parser;
    gunzip *gz;             /* asks for gzip bodies and inflates them; NULL: never */
    http_body_fn user_body; /* the caller's body callback of the request */
    void *user;
    uint64_t decoded_bytes;
    int decode_failed;                  /* the body could not be decoded (detail says why) */
    char detail[HTTP_DETAIL_MAX];       /* one line on the last failure */
    char request[HTTP_REQUEST_MAX + 1]; /* + the NUL snprintf writes */
    uint8_t recv_buf[HTTP_RECV_BUFFER_SIZE];
} http_client;

/* Words for a status. */
const char *http_client_strerror(http_client_status status);

/* Prepares a client for server over tr; timeout_ms bounds the connect and
 * every wait for data. Does not connect yet. */
http_client_status http_client_init(http_client *client, transport tr, const url_parts *server,
                                    uint32_t timeout_ms);

/* With gz, requests carry Accept-Encoding: gzip and gzip bodies are
 * inflated (in gz's fixed memory) before they reach the body callback;
 * NULL asks for and accepts identity bodies only. */
void http_client_set_gzip(http_client *client, gunzip *gz);

/* GETs server path prefix + target (a path with its query, starting '/').
 * The body goes to on_body; *resp tells what happened. A non-2xx status is
 * still HTTP_CLIENT_OK: the caller judges status codes. */
http_client_status http_client_get(http_client *client, const char *target, http_body_fn on_body,
                                   void *user, http_response *resp);

/* The status code of the response being received (0 before its status
 * line): for a body callback, which must judge the bytes it is handed. */
int http_client_status_code(const http_client *client);

/* One line on the last failure: the transport's or parser's words. */
const char *http_client_detail(const http_client *client);

/* Closes the connection, if any. */
void http_client_close(http_client *client);

#endif /* COUNTLY_SYNC_HTTP_CLIENT_H */
