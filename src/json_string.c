/*
 * json_string.c - JSON string bodies to UTF-8 and back.
 *
 * Decoding is one left-to-right pass. Plain runs (no backslash, and no '&'
 * when HTML entities are decoded) are copied with memcpy. HTML decoding
 * applies to the text after JSON unescaping (Countly HTML-escaped the raw
 * string, then JSON-serialized it): decoded bytes that may begin an entity
 * are held in a few-byte `pending` window until they either complete one
 * of the five entities or cannot, so "\u0026amp;" decodes to "&" and
 * "&amp;lt;" to "&lt;" (an entity's replacement is never re-examined).
 *
 * Why the decoded text is never longer than the input: every input unit
 * maps to at most as many output bytes as it has -
 *   a raw byte                 1 -> 1
 *   \" \\ \/ \b \f \n \r \t    2 -> 1
 *   \uXXXX (BMP, or U+FFFD)    6 -> 1..3
 *   \uD8xx\uDCxx (a pair)     12 -> 4
 * and an HTML entity (4..6 bytes) becomes 1 byte. Bytes held in `pending`
 * are written unchanged or replaced by fewer, so the bound holds at the end.
 */
#include "json_string.h"
#include "text.h"

#include <stdint.h>
#include <string.h>

/* Longest entity: "&quot;". */
#define ENTITY_MAX 6

typedef struct {
    const char *text;
    size_t len;
    char replacement;
} html_entity;

static const html_entity html_entities[] = {
    {"&amp;", 5, '&'}, {"&quot;", 6, '"'}, {"&#39;", 5, '\''}, {"&lt;", 4, '<'}, {"&gt;", 4, '>'},
};

#define HTML_ENTITY_COUNT (sizeof(html_entities) / sizeof(html_entities[0]))

/* The output side of one decode. */
typedef struct {
    char *out;
    size_t cap;
    size_t len;
    int html;
    char pending[ENTITY_MAX];
    size_t pending_len;
    unsigned long replaced;
} decoder;

const char *json_string_strerror(json_string_status status)
{
    switch (status) {
    case JSON_STRING_OK:
        return "ok";
    case JSON_STRING_ERR_ESCAPE:
        return "malformed escape in a JSON string";
    case JSON_STRING_ERR_NO_ROOM:
        return "decoded string does not fit its buffer";
    }
    return "unknown json_string status";
}

/* ---- decoding: output ------------------------------------------------------- */

static int decoder_append(decoder *d, const char *bytes, size_t n)
{
    if (n > d->cap - d->len)
        return 0;
    memcpy(d->out + d->len, bytes, n);
    d->len += n;
    return 1;
}

/* 2: pending is a whole entity (*replacement set), 1: a prefix of one, 0: neither. */
static int entity_match(const char *s, size_t n, char *replacement)
{
    int prefix = 0;
    for (size_t i = 0; i < HTML_ENTITY_COUNT; i++) {
        const html_entity *e = &html_entities[i];
        if (n <= e->len && memcmp(s, e->text, n) == 0) {
            if (n == e->len) {
                *replacement = e->replacement;
                return 2;
            }
            prefix = 1;
        }
    }
    return prefix;
}

/* Writes out what can no longer become an entity; keeps a possible prefix. */
static int decoder_resolve(decoder *d)
{
    while (d->pending_len > 0) {
        char replacement = 0;
        int match = entity_match(d->pending, d->pending_len, &replacement);
        if (match == 2) {
            d->pending_len = 0;
            return decoder_append(d, &replacement, 1);
        }
        if (match == 1)
            return 1;
        /* pending[0] is a '&' that starts nothing: write it and what follows
         * up to the next '&', which may start an entity of its own. */
        size_t keep = 1;
        while (keep < d->pending_len && d->pending[keep] != '&')
            keep++;
        if (!decoder_append(d, d->pending, keep))
            return 0;
        d->pending_len -= keep;
        memmove(d->pending, d->pending + keep, d->pending_len);
    }
    return 1;
}

/* One decoded byte, through the entity window when HTML decoding is on. */
static int decoder_byte(decoder *d, char c)
{
    if (!d->html || (d->pending_len == 0 && c != '&'))
        return decoder_append(d, &c, 1);
    d->pending[d->pending_len++] = c;
    return decoder_resolve(d);
}

/* A plain run of input (no '&' in it when HTML decoding is on). */
static int decoder_run(decoder *d, const char *bytes, size_t n)
{
    size_t i = 0;
    while (i < n && d->pending_len > 0)
        if (!decoder_byte(d, bytes[i++]))
            return 0;
    return decoder_append(d, bytes + i, n - i);
}

/* Ends the decode: a pending prefix that never completed is literal text. */
static int decoder_flush(decoder *d)
{
    size_t n = d->pending_len;
    d->pending_len = 0;
    return decoder_append(d, d->pending, n);
}

/* ---- decoding: escapes ------------------------------------------------------- */

/* The code unit of "\uXXXX" at s (6 bytes available), or -1. */
static long unicode_unit(const char *s)
{
    if (s[0] != '\\' || s[1] != 'u')
        return -1;
    long unit = 0;
    for (int i = 2; i < 6; i++) {
        int v = text_hex_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        unit = unit * 16 + v;
    }
    return unit;
}

/* Appends code point cp (at most U+10FFFF, not a surrogate) as UTF-8. */
static int decoder_code_point(decoder *d, uint32_t cp)
{
    uint8_t b[4];
    size_t n = text_utf8_encode(cp, b);
    for (size_t i = 0; i < n; i++)
        if (!decoder_byte(d, (char)b[i]))
            return 0;
    return 1;
}

/* "\uXXXX" (and its low half when it is a high surrogate) at in[*i]. */
static json_string_status decode_unicode(decoder *d, const char *in, size_t len, size_t *i)
{
    long unit = len - *i >= 6 ? unicode_unit(in + *i) : -1;
    if (unit < 0)
        return JSON_STRING_ERR_ESCAPE;
    *i += 6;
    uint32_t cp = (uint32_t)unit;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        long low = len - *i >= 6 ? unicode_unit(in + *i) : -1;
        if (low >= 0xDC00 && low <= 0xDFFF) {
            *i += 6;
            cp = 0x10000 + (((uint32_t)unit - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
        } else {
            cp = 0xFFFD; /* lone high surrogate */
        }
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
        cp = 0xFFFD; /* lone low surrogate, or U+0000 */
    if (cp == 0xFFFD && unit != 0xFFFD)
        d->replaced++;
    return decoder_code_point(d, cp) ? JSON_STRING_OK : JSON_STRING_ERR_NO_ROOM;
}

static char simple_escape(char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '/':
        return '/';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return 0;
    }
}

/* The escape starting at in[*i] (a backslash). */
static json_string_status decode_escape(decoder *d, const char *in, size_t len, size_t *i)
{
    if (len - *i < 2)
        return JSON_STRING_ERR_ESCAPE;
    if (in[*i + 1] == 'u')
        return decode_unicode(d, in, len, i);
    char c = simple_escape(in[*i + 1]);
    if (c == 0)
        return JSON_STRING_ERR_ESCAPE;
    *i += 2;
    return decoder_byte(d, c) ? JSON_STRING_OK : JSON_STRING_ERR_NO_ROOM;
}

/* End of the plain run starting at in[i]: the next '\\' (or '&' with html). */
static size_t plain_run_end(const char *in, size_t len, size_t i, int html)
{
    const char *backslash = memchr(in + i, '\\', len - i);
    size_t end = backslash != NULL ? (size_t)(backslash - in) : len;
    if (html) {
        const char *amp = memchr(in + i, '&', end - i);
        if (amp != NULL)
            end = (size_t)(amp - in);
    }
    return end;
}

json_string_status json_string_decode(const char *in, size_t len, unsigned flags, char *out,
                                      size_t cap, size_t *out_len, unsigned long *replaced)
{
    decoder d = {out, cap, 0, (flags & JSON_STRING_HTML) != 0, {0}, 0, 0};
    size_t i = 0;
    *out_len = 0;
    while (i < len) {
        size_t end = plain_run_end(in, len, i, d.html);
        if (end > i && !decoder_run(&d, in + i, end - i))
            return JSON_STRING_ERR_NO_ROOM;
        i = end;
        if (i == len)
            break;
        json_string_status status = JSON_STRING_OK;
        if (in[i] == '&')
            status = decoder_byte(&d, in[i++]) ? JSON_STRING_OK : JSON_STRING_ERR_NO_ROOM;
        else
            status = decode_escape(&d, in, len, &i);
        if (status != JSON_STRING_OK)
            return status;
    }
    if (!decoder_flush(&d))
        return JSON_STRING_ERR_NO_ROOM;
    *out_len = d.len;
    *replaced += d.replaced;
    return JSON_STRING_OK;
}

/* ---- escaping ------------------------------------------------------------------ */

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* The escape of one byte that needs it, into e; returns its length. */
static size_t escape_byte(unsigned char c, char e[6])
{
    static const char hex[] = "0123456789abcdef";
    static const char short_forms[0x20] = {
        0, 0, 0, 0, 0, 0, 0, 0, 'b', 't', 'n', 0, 'f', 'r', 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0, 0,   0,   0, 0,
    };
    e[0] = '\\';
    if (c == '"' || c == '\\') {
        e[1] = (char)c;
        return 2;
    }
    if (short_forms[c] != 0) {
        e[1] = short_forms[c];
        return 2;
    }
    memcpy(e + 1, "u00", 3);
    e[4] = hex[c >> 4];
    e[5] = hex[c & 0xF];
    return 6;
}

json_string_status json_string_escape(const char *in, size_t len, char *out, size_t cap,
                                      size_t *out_len)
{
    size_t o = 0;
    size_t i = 0;
    *out_len = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && !needs_escape((unsigned char)in[i]))
            i++;
        if (i - start > cap - o)
            return JSON_STRING_ERR_NO_ROOM;
        memmove(out + o, in + start, i - start); /* in and out may overlap: see header */
        o += i - start;
        if (i == len)
            break;
        char e[6];
        size_t n = escape_byte((unsigned char)in[i], e);
        i++;
        if (n > cap - o)
            return JSON_STRING_ERR_NO_ROOM;
        memcpy(out + o, e, n);
        o += n;
    }
    *out_len = o;
    return JSON_STRING_OK;
}
