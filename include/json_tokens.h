/*
 * json_tokens.h - the jsmn token view of one record, shared by jstream and map.
 *
 * jsmn (Debian's libjsmn-dev, header-only) is compiled exactly once, in
 * src/jstream.c, with parent links (without them every closing bracket
 * rescans all tokens) and strict mode. Every other file sees only the
 * token type through this header, configured identically.
 *
 * The readers of records (config, state, agent) share the small helpers
 * below: each takes the record's JSON text and a token of it.
 */
#ifndef COUNTLY_SYNC_JSON_TOKENS_H
#define COUNTLY_SYNC_JSON_TOKENS_H

#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#ifndef JSTREAM_COMPILES_JSMN
#define JSMN_HEADER
#endif
#include "jsmn.h"

#include <stddef.h>
#include <stdint.h>

#include "json_string.h"

/* Token t's text as written (a string without its quotes); *len its bytes. */
const char *json_token_text(const char *json, const jsmntok_t *t, size_t *len);

/* 1 when t is a primitive written exactly as literal ("true", "null", ...). */
int json_token_is(const char *json, const jsmntok_t *t, const char *literal);

/* A JSON integer (not a string, no fraction) that fits uint64_t / int64_t. */
int json_token_u64(const char *json, const jsmntok_t *t, uint64_t *value);
int json_token_i64(const char *json, const jsmntok_t *t, int64_t *value);

/* Decodes string token t into out (cap bytes, NUL-terminated; "" on
 * failure): JSON_STRING_ERR_NO_ROOM when it does not fit, and a string
 * status for bad escapes. *replaced counts U+FFFD written. */
json_string_status json_token_string(const char *json, const jsmntok_t *t, char *out, size_t cap,
                                     unsigned long *replaced);

/* Token t as written, for a message: strings quoted, cut after max bytes
 * (at a UTF-8 character boundary) with "...". */
void json_token_show(const char *json, const jsmntok_t *t, size_t max, char *out, size_t cap);

/* Index of the value of key in the object tokens[0] (count tokens, parent
 * links), the last one when it is repeated; -1 when absent. */
int json_token_find(const char *json, const jsmntok_t *tokens, int count, const char *key);

#endif /* COUNTLY_SYNC_JSON_TOKENS_H */
