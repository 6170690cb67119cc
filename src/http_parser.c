/*
 * http_parser.c - sans-I/O HTTP/1.1 response parser (contract in http_parser.h).
 *
 * A byte-at-a-time state machine, so the way the input is cut into
 * fragments never changes a result. The status line, header fields and
 * trailer fields are collected into parser->line (at most
 * HTTP_HEADER_LINE_MAX bytes, line ending excluded) and interpreted when
 * their LF arrives. Chunk-size lines are parsed as they stream by, without
 * buffering. Body bytes are never copied: each run of body bytes in the
 * input goes to the callback straight from the caller's buffer.
 *
 * Choices made here:
 * - Lines end in CRLF; a bare LF is accepted (also after chunk data). A CR
 *   that is not followed by LF is an error.
 * - A status line may lack the SP before an empty reason ("HTTP/1.1 200").
 * - HTTP_HEADER_SECTION_MAX and HTTP_HEADER_COUNT_MAX count every field
 *   line of the message: interim (1xx) responses, the final header section
 *   and chunked trailers together, so no part can grow without bound.
 * - Headers of 1xx responses are checked for syntax but not interpreted.
 * - Transfer-Encoding in an HTTP/1.0 response is treated as faulty framing
 *   (RFC 9112 6.1) and rejected; so is chunked applied twice.
 * - A chunk size has at most 16 hex digits (leading zeros included), which
 *   always fits in 64 bits.
 */
#include "http_parser.h"

#include "http_date.h"
#include "text.h"

#include <string.h>

enum {
    ST_STATUS_LINE = 0,  /* collecting the status line */
    ST_HEADER_LINE,      /* collecting a header field line */
    ST_BODY_LENGTH,      /* Content-Length body, `remaining` bytes left */
    ST_BODY_CLOSE,       /* body runs until http_parser_finish */
    ST_CHUNK_SIZE_START, /* first hex digit of a chunk-size line */
    ST_CHUNK_SIZE,       /* more hex digits */
    ST_CHUNK_SIZE_WS,    /* whitespace after the size */
    ST_CHUNK_EXT,        /* chunk extensions: skipped up to the line end */
    ST_CHUNK_DATA,       /* chunk data, `remaining` bytes left */
    ST_CHUNK_DATA_END,   /* the CRLF after chunk data */
    ST_TRAILER_LINE      /* collecting a trailer field line */
};

/* Retry-After delta-seconds too large to represent count as 2^31
 * (RFC 9111 1.2.2). */
#define DELTA_SECONDS_CAP 2147483648LL

/* Longest chunk size in hex digits: 16 always fits in uint64_t. */
#define CHUNK_SIZE_DIGITS_MAX 16u

const char *http_parser_strerror(http_parser_status status)
{
    switch (status) {
    case HTTP_PARSER_NEED_MORE:
        return "response incomplete, more bytes needed";
    case HTTP_PARSER_DONE:
        return "response complete";
    case HTTP_PARSER_ERR_STATUS_LINE:
        return "malformed status line (expected \"HTTP/1.0 or HTTP/1.1, 3-digit code, reason\")";
    case HTTP_PARSER_ERR_HEADER:
        return "malformed response header line (bad name, missing colon or bad character)";
    case HTTP_PARSER_ERR_HEADER_FOLDED:
        return "response header line starts with whitespace (obsolete line folding, RFC 9112 "
               "5.2)";
    case HTTP_PARSER_ERR_HEADER_LINE_LONG:
        return "response header line longer than HTTP_HEADER_LINE_MAX (" OPTIONS_TEXT(
            HTTP_HEADER_LINE_MAX) " bytes)";
    case HTTP_PARSER_ERR_HEADER_SECTION_LONG:
        return "response headers longer than HTTP_HEADER_SECTION_MAX (" OPTIONS_TEXT(
            HTTP_HEADER_SECTION_MAX) " bytes)";
    case HTTP_PARSER_ERR_HEADER_COUNT:
        return "more response header lines than HTTP_HEADER_COUNT_MAX (" OPTIONS_TEXT(
            HTTP_HEADER_COUNT_MAX) ")";
    case HTTP_PARSER_ERR_CONTENT_LENGTH:
        return "invalid Content-Length, conflicting values, or Content-Length with chunked";
    case HTTP_PARSER_ERR_TRANSFER_ENCODING:
        return "unsupported Transfer-Encoding (only a single \"chunked\" in HTTP/1.1 is "
               "supported)";
    case HTTP_PARSER_ERR_CHUNK_SIZE:
        return "malformed chunk-size line (not 1 to 16 hex digits)";
    case HTTP_PARSER_ERR_CHUNK_LINE_LONG:
        return "chunk-size line longer than HTTP_CHUNK_LINE_MAX (" OPTIONS_TEXT(
            HTTP_CHUNK_LINE_MAX) " bytes)";
    case HTTP_PARSER_ERR_CHUNK_DATA:
        return "chunk data not followed by CRLF";
    case HTTP_PARSER_ERR_TRUNCATED:
        return "connection closed before the response was complete (truncated headers or "
               "body)";
    case HTTP_PARSER_ERR_ABORTED:
        return "body callback aborted the response";
    }
    return "unknown HTTP parser status";
}

void http_parser_init(http_parser *parser)
{
    memset(parser, 0, sizeof(*parser));
    parser->state = ST_STATUS_LINE;
    parser->error = HTTP_PARSER_NEED_MORE;
    parser->framing = HTTP_FRAMING_NONE;
    parser->content_length = -1;
    parser->date = -1;
    parser->retry_after = -1;
    parser->retry_after_date = -1;
}

/* ---- character classes ---------------------------------------------------- */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Value of a hex digit, or -1. */

/* tchar of RFC 9110 5.6.2: the characters of a header name. */
static int is_tchar(unsigned char c)
{
    if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a field value or reason phrase: HTAB, SP, VCHAR, obs-text. */
static int is_text_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int all_text_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_text_char((unsigned char)s[i]))
            return 0;
    return 1;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* 1 when s[0..n) equals the lowercase word, ignoring case. */
static int equals_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)word[i])
            return 0;
    return 1;
}

/* Next non-empty element of a comma-separated list, OWS trimmed. Returns 0
 * when the list is exhausted. */
static int next_list_item(const char *v, size_t n, size_t *pos, const char **item, size_t *len)
{
    while (*pos < n) {
        size_t start = *pos;
        size_t end = start;
        while (end < n && v[end] != ',')
            end++;
        *pos = end < n ? end + 1 : end;
        while (start < end && is_ows((unsigned char)v[start]))
            start++;
        while (end > start && is_ows((unsigned char)v[end - 1]))
            end--;
        if (end > start) {
            *item = v + start;
            *len = end - start;
            return 1;
        }
    }
    return 0;
}

/* ---- header interpretation ------------------------------------------------ */

static void fail(http_parser *p, http_parser_status status)
{
    p->error = status;
}

static void on_content_length(http_parser *p, const char *v, size_t n)
{
    int64_t value = 0;
    if (n == 0 || v[0] == '-' || !text_parse_i64(v, n, &value)) {
        fail(p, HTTP_PARSER_ERR_CONTENT_LENGTH);
        return;
    }
    if (p->has_content_length && value != p->content_length) {
        fail(p, HTTP_PARSER_ERR_CONTENT_LENGTH);
        return;
    }
    p->has_content_length = 1;
    p->content_length = value;
}

/* Only "chunked", once per message, and not in HTTP/1.0 responses. */
static void on_transfer_encoding(http_parser *p, const char *v, size_t n)
{
    size_t pos = 0;
    const char *item = NULL;
    size_t len = 0;
    int any = 0;
    while (next_list_item(v, n, &pos, &item, &len)) {
        if (!equals_nocase(item, len, "chunked") || p->has_chunked) {
            fail(p, HTTP_PARSER_ERR_TRANSFER_ENCODING);
            return;
        }
        p->has_chunked = 1;
        any = 1;
    }
    if (!any || p->version_minor == 0)
        fail(p, HTTP_PARSER_ERR_TRANSFER_ENCODING);
}

static void on_connection(http_parser *p, const char *v, size_t n)
{
    size_t pos = 0;
    const char *item = NULL;
    size_t len = 0;
    while (next_list_item(v, n, &pos, &item, &len))
        if (equals_nocase(item, len, "close"))
            p->connection_close = 1;
        else if (equals_nocase(item, len, "keep-alive"))
            p->connection_keep_alive = 1;
}

/* delta-seconds (digits only), capped at 2^31; -1 when not all digits. */
static int64_t parse_delta_seconds(const char *v, size_t n)
{
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)v[i]))
            return -1;
    if (n == 0)
        return -1;
    if (!text_parse_u64(v, n, &value) || value > DELTA_SECONDS_CAP)
        return DELTA_SECONDS_CAP; /* digits, but more than anyone should wait */
    return (int64_t)value;
}

/* Content-Encoding: one coding we know, or OTHER. */
static void on_content_encoding(http_parser *p, const char *v, size_t n)
{
    size_t pos = 0, len = 0, items = 0;
    const char *item = NULL;
    http_encoding enc = HTTP_ENCODING_IDENTITY;
    while (next_list_item(v, n, &pos, &item, &len)) {
        items++;
        if (equals_nocase(item, len, "gzip") || equals_nocase(item, len, "x-gzip"))
            enc = HTTP_ENCODING_GZIP;
        else if (!equals_nocase(item, len, "identity"))
            enc = HTTP_ENCODING_OTHER;
    }
    p->content_encoding = items > 1 && enc == HTTP_ENCODING_GZIP ? HTTP_ENCODING_OTHER : enc;
}

/* The date form is resolved against Date once all headers are in. */
static void on_retry_after(http_parser *p, const char *v, size_t n)
{
    p->retry_after = parse_delta_seconds(v, n);
    p->retry_after_date = p->retry_after < 0 ? http_date_parse(v, n) : -1;
}

static void interpret_field(http_parser *p, const char *name, size_t name_len, const char *v,
                            size_t n)
{
    if (equals_nocase(name, name_len, "content-length"))
        on_content_length(p, v, n);
    else if (equals_nocase(name, name_len, "transfer-encoding"))
        on_transfer_encoding(p, v, n);
    else if (equals_nocase(name, name_len, "connection"))
        on_connection(p, v, n);
    else if (equals_nocase(name, name_len, "date"))
        p->date = http_date_parse(v, n);
    else if (equals_nocase(name, name_len, "retry-after"))
        on_retry_after(p, v, n);
    else if (equals_nocase(name, name_len, "content-encoding"))
        on_content_encoding(p, v, n);
}

/* ---- lines ---------------------------------------------------------------- */

static int is_interim(const http_parser *p)
{
    return p->status_code >= 100 && p->status_code <= 199;
}

/* "HTTP/1.x NNN reason"; the SP before an empty reason may be missing. */
static void parse_status_line(http_parser *p, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
        s[9] < '1' || s[9] > '9' || !is_digit((unsigned char)s[10]) ||
        !is_digit((unsigned char)s[11]) || (n > 12 && s[12] != ' ') ||
        (n > 13 && !all_text_chars(s + 13, n - 13))) {
        fail(p, HTTP_PARSER_ERR_STATUS_LINE);
        return;
    }
    p->version_minor = s[7] - '0';
    p->status_code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    p->state = ST_HEADER_LINE;
}

/* name ":" OWS value OWS, for header and trailer lines. */
static void parse_field_line(http_parser *p, const char *s, size_t n)
{
    size_t colon = 0;
    if (is_ows((unsigned char)s[0])) {
        fail(p, HTTP_PARSER_ERR_HEADER_FOLDED);
        return;
    }
    if (++p->header_count > HTTP_HEADER_COUNT_MAX) {
        fail(p, HTTP_PARSER_ERR_HEADER_COUNT);
        return;
    }
    while (colon < n && is_tchar((unsigned char)s[colon]))
        colon++;
    if (colon == 0 || colon == n || s[colon] != ':') {
        fail(p, HTTP_PARSER_ERR_HEADER);
        return;
    }
    size_t start = colon + 1;
    size_t end = n;
    while (start < end && is_ows((unsigned char)s[start]))
        start++;
    while (end > start && is_ows((unsigned char)s[end - 1]))
        end--;
    if (!all_text_chars(s + start, end - start)) {
        fail(p, HTTP_PARSER_ERR_HEADER);
        return;
    }
    if (p->state == ST_HEADER_LINE && !is_interim(p))
        interpret_field(p, s, colon, s + start, end - start);
}

static void decide_keep_alive(http_parser *p)
{
    if (p->framing == HTTP_FRAMING_CLOSE || p->connection_close)
        p->keep_alive = 0;
    else if (p->version_minor == 1)
        p->keep_alive = 1;
    else
        p->keep_alive = p->connection_keep_alive;
}

/* Picks the framing (RFC 9112 6.3) and the first body state. */
static void start_body(http_parser *p)
{
    p->remaining = 0;
    p->line_len = 0;
    if (p->status_code == 204 || p->status_code == 304) {
        p->framing = HTTP_FRAMING_NONE;
        p->error = HTTP_PARSER_DONE;
    } else if (p->has_chunked) {
        p->framing = HTTP_FRAMING_CHUNKED;
        p->state = ST_CHUNK_SIZE_START;
    } else if (p->has_content_length) {
        p->framing = HTTP_FRAMING_LENGTH;
        p->remaining = (uint64_t)p->content_length;
        p->state = ST_BODY_LENGTH;
        if (p->remaining == 0)
            p->error = HTTP_PARSER_DONE;
    } else {
        p->framing = HTTP_FRAMING_CLOSE;
        p->state = ST_BODY_CLOSE;
    }
}

/* The empty line after the headers. */
static void end_headers(http_parser *p)
{
    if (is_interim(p)) {
        p->state = ST_STATUS_LINE; /* the final response follows */
        return;
    }
    if (p->has_chunked && p->has_content_length) {
        fail(p, HTTP_PARSER_ERR_CONTENT_LENGTH);
        return;
    }
    if (p->retry_after_date >= 0 && p->date >= 0) {
        int64_t delta = p->retry_after_date - p->date;
        p->retry_after = delta > 0 ? delta : 0;
    }
    p->headers_done = 1;
    start_body(p);
    decide_keep_alive(p);
}

/* A complete line (line ending excluded) is in p->line. */
static void end_line(http_parser *p)
{
    size_t n = p->line_len;
    p->line_len = 0;
    if (p->state == ST_STATUS_LINE)
        parse_status_line(p, p->line, n);
    else if (n == 0 && p->state == ST_HEADER_LINE)
        end_headers(p);
    else if (n == 0)
        p->error = HTTP_PARSER_DONE; /* end of the trailer section */
    else
        parse_field_line(p, p->line, n);
}

/* One byte of the status line, a header line or a trailer line. */
static void step_line(http_parser *p, unsigned char c)
{
    if (++p->section_bytes > HTTP_HEADER_SECTION_MAX) {
        fail(p, HTTP_PARSER_ERR_HEADER_SECTION_LONG);
        return;
    }
    if (p->line_cr) {
        p->line_cr = 0;
        if (c != '\n') {
            fail(p,
                 p->state == ST_STATUS_LINE ? HTTP_PARSER_ERR_STATUS_LINE : HTTP_PARSER_ERR_HEADER);
            return;
        }
    }
    if (c == '\n')
        end_line(p);
    else if (c == '\r')
        p->line_cr = 1;
    else if (p->line_len == HTTP_HEADER_LINE_MAX)
        fail(p, HTTP_PARSER_ERR_HEADER_LINE_LONG);
    else
        p->line[p->line_len++] = (char)c;
}

/* ---- chunked framing ------------------------------------------------------ */

/* The chunk-size line ended: data follows, or the trailers after "0". */
static void end_chunk_line(http_parser *p)
{
    p->line_len = 0;
    p->state = p->remaining == 0 ? ST_TRAILER_LINE : ST_CHUNK_DATA;
}

/* A byte of the chunk-size line other than CR and LF. */
static void chunk_line_char(http_parser *p, unsigned char c)
{
    int hex = text_hex_value(c);
    if (p->state == ST_CHUNK_SIZE_START || p->state == ST_CHUNK_SIZE) {
        if (hex >= 0 && p->line_len <= CHUNK_SIZE_DIGITS_MAX) {
            /* line_len counts the hex digits so far, so this cannot overflow */
            p->remaining = (p->remaining << 4) | (uint64_t)hex;
            p->state = ST_CHUNK_SIZE;
            return;
        }
        if (p->state == ST_CHUNK_SIZE_START || hex >= 0) {
            fail(p, HTTP_PARSER_ERR_CHUNK_SIZE);
            return;
        }
        p->state = ST_CHUNK_SIZE_WS;
    }
    if (p->state == ST_CHUNK_SIZE_WS && is_ows(c))
        return;
    if (p->state == ST_CHUNK_SIZE_WS && c == ';') {
        p->state = ST_CHUNK_EXT;
        return;
    }
    if (p->state != ST_CHUNK_EXT || !is_text_char(c))
        fail(p, HTTP_PARSER_ERR_CHUNK_SIZE);
}

/* One byte of a chunk-size line: 1*HEXDIG [ BWS ";" extensions ] CRLF. */
static void step_chunk_line(http_parser *p, unsigned char c)
{
    if (p->line_cr) {
        p->line_cr = 0;
        if (c == '\n')
            end_chunk_line(p);
        else
            fail(p, HTTP_PARSER_ERR_CHUNK_SIZE);
        return;
    }
    if (c == '\r' || c == '\n') {
        if (p->state == ST_CHUNK_SIZE_START)
            fail(p, HTTP_PARSER_ERR_CHUNK_SIZE); /* no digits */
        else if (c == '\r')
            p->line_cr = 1;
        else
            end_chunk_line(p);
        return;
    }
    if (++p->line_len > HTTP_CHUNK_LINE_MAX) {
        fail(p, HTTP_PARSER_ERR_CHUNK_LINE_LONG);
        return;
    }
    chunk_line_char(p, c);
}

/* The CRLF (or bare LF) that must follow chunk data. */
static void step_chunk_data_end(http_parser *p, unsigned char c)
{
    if (c == '\n') {
        p->line_cr = 0;
        p->line_len = 0;
        p->state = ST_CHUNK_SIZE_START;
    } else if (c == '\r' && !p->line_cr) {
        p->line_cr = 1;
    } else {
        fail(p, HTTP_PARSER_ERR_CHUNK_DATA);
    }
}

/* ---- feeding -------------------------------------------------------------- */

static int in_body_data(const http_parser *p)
{
    return p->state == ST_BODY_LENGTH || p->state == ST_BODY_CLOSE || p->state == ST_CHUNK_DATA;
}

/* Hands the body bytes at the front of data to on_body; returns how many. */
static size_t deliver_body(http_parser *p, const uint8_t *data, size_t avail, http_body_fn on_body,
                           void *user)
{
    size_t n = avail;
    if (p->state != ST_BODY_CLOSE && p->remaining < (uint64_t)n)
        n = (size_t)p->remaining;
    p->body_bytes += n;
    if (on_body != NULL && on_body(user, data, n) != 0) {
        fail(p, HTTP_PARSER_ERR_ABORTED);
        return n;
    }
    if (p->state == ST_BODY_CLOSE)
        return n;
    p->remaining -= n;
    if (p->remaining == 0 && p->state == ST_BODY_LENGTH)
        p->error = HTTP_PARSER_DONE;
    else if (p->remaining == 0)
        p->state = ST_CHUNK_DATA_END;
    return n;
}

static void step(http_parser *p, unsigned char c)
{
    switch (p->state) {
    case ST_STATUS_LINE:
    case ST_HEADER_LINE:
    case ST_TRAILER_LINE:
        step_line(p, c);
        break;
    case ST_CHUNK_DATA_END:
        step_chunk_data_end(p, c);
        break;
    default:
        step_chunk_line(p, c);
        break;
    }
}

http_parser_status http_parser_feed(http_parser *parser, const uint8_t *data, size_t len,
                                    size_t *consumed, http_body_fn on_body, void *user)
{
    size_t pos = 0;
    while (pos < len && parser->error == HTTP_PARSER_NEED_MORE) {
        if (in_body_data(parser)) {
            pos += deliver_body(parser, data + pos, len - pos, on_body, user);
        } else {
            step(parser, data[pos]);
            pos++;
        }
    }
    if (consumed != NULL)
        *consumed = pos;
    return parser->error;
}

http_parser_status http_parser_finish(http_parser *parser)
{
    if (parser->error != HTTP_PARSER_NEED_MORE)
        return parser->error;
    parser->error = parser->state == ST_BODY_CLOSE ? HTTP_PARSER_DONE : HTTP_PARSER_ERR_TRUNCATED;
    return parser->error;
}
