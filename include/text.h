/*
 * text.h - small character helpers shared by the parsers and loaders.
 *
 * Pure functions on bytes: hex digits, Countly object ids (24 hex digits)
 * and UTF-8 encoding of one code point. No state, no allocation.
 */
#ifndef COUNTLY_SYNC_TEXT_H
#define COUNTLY_SYNC_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Value 0..15 of a hex digit (either case), or -1. */
int text_hex_value(int c);

/* 1 when text holds exactly 24 hex digits in its first len bytes. */
int text_is_object_id(const char *text, size_t len);

/* Writes code point cp (at most U+10FFFF) as UTF-8 into out; returns 1..4. */
size_t text_utf8_encode(uint32_t cp, uint8_t out[4]);

#endif /* COUNTLY_SYNC_TEXT_H */
