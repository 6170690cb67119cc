/*
 * text.h - small character helpers shared by the parsers and loaders.
 *
 * Pure functions on bytes: hex digits, Countly object ids (24 hex digits),
 * UTF-8 encoding of one code point, decimal integers, and the integer part
 * of a JSON number. No state, no allocation.
 */
#ifndef COUNTLY_SYNC_TEXT_H
#define COUNTLY_SYNC_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A Countly object id as text: 24 hex digits and the NUL. */
#define TEXT_OBJECT_ID_LEN 24
typedef char text_object_id[TEXT_OBJECT_ID_LEN + 1];

/* Value 0..15 of a hex digit (either case), or -1. */
int text_hex_value(int c);

/* 1 when text holds exactly 24 hex digits in its first len bytes. */
int text_is_object_id(const char *text, size_t len);

/* relaxed EJSON's "ObjectId(<hex>)" for a top-level ObjectId: the hex
 * digits inside (*len updated), or text itself when it is not that form. */
const char *text_object_id_unwrap(const char *text, size_t *len);

/* Writes code point cp (at most U+10FFFF) as UTF-8 into out; returns 1..4. */
size_t text_utf8_encode(uint32_t cp, uint8_t out[4]);

/* Parses len bytes of decimal digits (no sign, no space) into *value; 0
 * when there are none, anything else is there, or the value overflows. */
int text_parse_u64(const char *text, size_t len, uint64_t *value);

/* The same with an optional leading '-', into an int64_t. */
int text_parse_i64(const char *text, size_t len, int64_t *value);

/* The integer part of a JSON number, exactly. */
typedef struct {
    int negative;
    int digits;         /* significant digits of the integer part, 20 meaning "20 or more" */
    uint64_t magnitude; /* the integer part, when digits <= 19 */
    int fraction;       /* a non-zero digit follows the point */
} text_integer;

/* Parses the JSON number text s (n bytes: -?int(.frac)?(e[+-]?exp)?) into
 * *out; 0 when s is not a JSON number. */
int text_json_integer(const char *s, size_t n, text_integer *out);

#endif /* COUNTLY_SYNC_TEXT_H */
