/*
 * json_string.h - JSON string bodies to UTF-8 and back.
 *
 * Decoding turns the text between a JSON string's quotes into UTF-8: every
 * escape, \uXXXX with surrogate pairs; a lone surrogate and U+0000 (which
 * neither PostgreSQL text nor jsonb can hold) become U+FFFD and are counted.
 * With JSON_STRING_HTML, the five entities Countly's HTML-escaping
 * serializer produces (&amp; &quot; &#39; &lt; &gt;) are decoded as well.
 * The input must be a valid JSON string body (jstream checked it); the
 * decoded text is never longer than the input.
 *
 * Escaping writes a JSON string body with the minimal escapes (quote,
 * backslash, control characters), as compact JSON columns need.
 */
#ifndef COUNTLY_SYNC_JSON_STRING_H
#define COUNTLY_SYNC_JSON_STRING_H

#include <stddef.h>

typedef enum {
    JSON_STRING_OK = 0,
    JSON_STRING_ERR_ESCAPE, /* malformed escape (not from a validated body) */
    JSON_STRING_ERR_NO_ROOM /* output buffer too small */
} json_string_status;

/* Decode flags. */
#define JSON_STRING_HTML 0x1u /* also decode &amp; &quot; &#39; &lt; &gt; */

/* Words for a status. */
const char *json_string_strerror(json_string_status status);

/* Decodes len bytes of a string body into out; *out_len gets the decoded
 * length and *replaced is increased by the U+FFFD substitutions made. */
json_string_status json_string_decode(const char *in, size_t len, unsigned flags, char *out,
                                      size_t cap, size_t *out_len, unsigned long *replaced);

/* Escapes len bytes of UTF-8 as a JSON string body (no quotes) into out.
 * In place is allowed: in may lie at the very end of out's buffer
 * (in + len == out + cap); each byte is read before its escape is written,
 * and the output only overtakes unread input when it would not fit anyway
 * (then the result is JSON_STRING_ERR_NO_ROOM). */
json_string_status json_string_escape(const char *in, size_t len, char *out, size_t cap,
                                      size_t *out_len);

#endif /* COUNTLY_SYNC_JSON_STRING_H */
