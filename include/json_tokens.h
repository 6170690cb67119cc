/*
 * json_tokens.h - the jsmn token view of one record, shared by jstream and map.
 *
 * jsmn (Debian's libjsmn-dev, header-only) is compiled exactly once, in
 * src/jstream.c, with parent links (without them every closing bracket
 * rescans all tokens) and strict mode. Every other file sees only the
 * token type through this header, configured identically.
 */
#ifndef COUNTLY_SYNC_JSON_TOKENS_H
#define COUNTLY_SYNC_JSON_TOKENS_H

#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#ifndef JSTREAM_COMPILES_JSMN
#define JSMN_HEADER
#endif
#include "jsmn.h"

#endif /* COUNTLY_SYNC_JSON_TOKENS_H */
