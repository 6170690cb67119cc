/*
 * http_parser.h - sans-I/O HTTP/1.1 response parser.
 *
 * Feed it the bytes of one response in fragments of any size (one byte at a
 * time or all at once gives identical results); it parses the status line
 * and headers into fixed fields and passes the body to a callback in
 * fragments, decoding chunked framing in place. It never reads a socket and
 * never holds the whole body. The parser struct is owned by the caller.
 *
 * Framing follows RFC 9112 section 6: 1xx interim responses are skipped;
 * 204 and 304 have no body; Transfer-Encoding: chunked wins (Content-Length
 * with chunked is an error); then Content-Length; else the body runs until
 * the connection closes, which the caller reports with http_parser_finish.
 *
 * Results: HTTP_PARSER_NEED_MORE (all bytes consumed, response not over),
 * HTTP_PARSER_DONE (response complete; *consumed tells where it ended) or
 * an error, after which the parser stays in that error.
 */
#ifndef COUNTLY_SYNC_HTTP_PARSER_H
#define COUNTLY_SYNC_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

typedef enum {
    HTTP_PARSER_NEED_MORE = 0,
    HTTP_PARSER_DONE,
    HTTP_PARSER_ERR_STATUS_LINE,         /* not "HTTP/1.x NNN reason" */
    HTTP_PARSER_ERR_HEADER,              /* malformed header line */
    HTTP_PARSER_ERR_HEADER_FOLDED,       /* obsolete line folding (RFC 9112 5.2) */
    HTTP_PARSER_ERR_HEADER_LINE_LONG,    /* a line exceeds HTTP_HEADER_LINE_MAX */
    HTTP_PARSER_ERR_HEADER_SECTION_LONG, /* headers exceed HTTP_HEADER_SECTION_MAX */
    HTTP_PARSER_ERR_HEADER_COUNT,        /* more than HTTP_HEADER_COUNT_MAX headers */
    HTTP_PARSER_ERR_CONTENT_LENGTH,      /* invalid or conflicting Content-Length */
    HTTP_PARSER_ERR_TRANSFER_ENCODING,   /* a coding other than chunked */
    HTTP_PARSER_ERR_CHUNK_SIZE,          /* bad chunk-size line */
    HTTP_PARSER_ERR_CHUNK_LINE_LONG,     /* chunk line exceeds HTTP_CHUNK_LINE_MAX */
    HTTP_PARSER_ERR_CHUNK_DATA,          /* chunk data not followed by CRLF */
    HTTP_PARSER_ERR_TRUNCATED,           /* the stream ended before the body did */
    HTTP_PARSER_ERR_ABORTED              /* the body callback asked to stop */
} http_parser_status;

/* How the body is delimited. */
typedef enum {
    HTTP_FRAMING_NONE = 0, /* no body (204, 304) */
    HTTP_FRAMING_LENGTH,   /* Content-Length */
    HTTP_FRAMING_CHUNKED,  /* Transfer-Encoding: chunked */
    HTTP_FRAMING_CLOSE     /* until the connection closes */
} http_framing;

/* Content-Encoding of the body. */
typedef enum {
    HTTP_ENCODING_IDENTITY = 0, /* none, or "identity" */
    HTTP_ENCODING_GZIP,         /* "gzip" (or "x-gzip") */
    HTTP_ENCODING_OTHER         /* anything else (br, deflate, several): not decoded here */
} http_encoding;

/* Receives body bytes in order; returns 0 to go on, non-zero to abort. */
typedef int (*http_body_fn)(void *user, const uint8_t *data, size_t len);

typedef struct {
    /* ---- results, valid once headers are complete ---- */
    int version_minor; /* 0 or 1 */
    int status_code;   /* 100..999 of the final response */
    http_framing framing;
    int64_t content_length; /* -1 when absent */
    int keep_alive;         /* 1 when the connection may be reused afterwards */
    int64_t date;           /* Date header as unix seconds, -1 when absent or invalid */
    int64_t retry_after;    /* Retry-After: delta seconds, or HTTP-date as unix
                               seconds minus date (when both known); -1 when absent */
    http_encoding content_encoding;
    int headers_done;    /* 1 once the header section has been parsed */
    uint64_t body_bytes; /* body bytes delivered so far */

    /* ---- private state ---- */
    int state;
    http_parser_status error;
    size_t line_len;
    size_t section_bytes;
    unsigned header_count;
    uint64_t remaining; /* bytes left in the current chunk or body */
    int has_content_length;
    int has_chunked;
    int connection_close;
    int connection_keep_alive;
    int line_cr;              /* a CR ended the current line; LF must follow */
    int64_t retry_after_date; /* Retry-After as an HTTP-date (unix seconds), -1 if not */
    char line[HTTP_HEADER_LINE_MAX + 1];
} http_parser;

/* Words for a status; limits are named ("... HTTP_HEADER_LINE_MAX (1024)"). */
const char *http_parser_strerror(http_parser_status status);

/* Prepares the parser for one response. */
void http_parser_init(http_parser *parser);

/* Parses len bytes; body bytes go to on_body(user, ...). *consumed is set to
 * the bytes used (all of them unless DONE or an error). */
http_parser_status http_parser_feed(http_parser *parser, const uint8_t *data, size_t len,
                                    size_t *consumed, http_body_fn on_body, void *user);

/* Tells the parser the stream ended: DONE for a close-delimited body,
 * HTTP_PARSER_ERR_TRUNCATED for anything else unfinished. */
http_parser_status http_parser_finish(http_parser *parser);

#endif /* COUNTLY_SYNC_HTTP_PARSER_H */
