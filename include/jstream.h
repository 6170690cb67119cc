/*
 * jstream.h - strict streaming splitter of Countly response bodies into records.
 *
 * A sans-I/O push scanner: feed it the body in fragments of any size (one
 * byte at a time or all at once gives identical records and errors). It
 * validates the whole body as strict RFC 8259 JSON (what jsmn does not:
 * literals, numbers, commas, control characters and escapes in strings,
 * UTF-8, nesting depth), finds the records inside the envelope, copies one
 * record at a time - compacted, whitespace outside strings dropped - into
 * its record buffer, writes the record's tokens into its token array in the
 * same pass, and hands it to the caller's callback. The tokens are exactly
 * those jsmn (JSMN_PARENT_LINKS, JSMN_STRICT) gives for the copied record:
 * offsets into `json`, a string without its quotes, a key a string of size
 * 1 whose parent is its object, a member value's parent its key, an array
 * element's parent the array, an object's size its keys, an array's its
 * elements, the record's own token (tokens[0]) parent -1. State is
 * O(depth); nothing else is kept.
 *
 * Envelopes (docs/countly-api.md):
 *   DB      /o/db: {"limit":L, "start":S, "end":E, "total":T, "pages":P,
 *           "curPage":C, "collections":[record, ...]}; total, end and limit
 *           are reported; "pages":Infinity (sent for limit=0) is tolerated.
 *   GROUPS  /o/groups: {"result":[record, ...]}, or {"result":"message"}.
 *   APPS    /o/apps/all|mine: {"admin_of":{id:record,...},"user_of":{...}}:
 *           each app is reported once (ids are 24-hex ObjectIds).
 *   LIST    a top-level array; every element is a record, of any type
 *           (/o/system/plugins answers ["dbviewer","groups",...]).
 *   VALUE   the whole top-level value is the one record (configuration
 *           and state files: strict JSON with jsmn tokens).
 * In every envelope a top-level "result" string is the server's message
 * (error bodies are {"result":"..."}); it is kept in `message`.
 * Records of DB, GROUPS and APPS must be objects; other top-level keys are
 * validated and ignored.
 *
 * Errors carry the byte offset in the body and the record index; a record
 * larger than JSTREAM_RECORD_MAX or with more than JSTREAM_TOKENS_MAX tokens
 * is an error naming the record's _id when it was seen. Nothing is ever
 * truncated. After an error the scanner stays in it.
 */
#ifndef COUNTLY_SYNC_JSTREAM_H
#define COUNTLY_SYNC_JSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "json_tokens.h"
#include "options.h"

typedef enum {
    JSTREAM_ENVELOPE_DB = 0,
    JSTREAM_ENVELOPE_GROUPS,
    JSTREAM_ENVELOPE_APPS,
    JSTREAM_ENVELOPE_LIST,
    JSTREAM_ENVELOPE_VALUE
} jstream_envelope;

typedef enum {
    JSTREAM_OK = 0,               /* bytes consumed; body complete after finish */
    JSTREAM_ERR_UNEXPECTED,       /* a byte that cannot come here */
    JSTREAM_ERR_TRAILING_COMMA,   /* "[1,]" or "{"a":1,}" */
    JSTREAM_ERR_LITERAL,          /* "tru", "nul", "falsey" */
    JSTREAM_ERR_NUMBER,           /* leading zero, "1.", "-", "1e" */
    JSTREAM_ERR_CONTROL_CHAR,     /* raw byte < 0x20 inside a string */
    JSTREAM_ERR_ESCAPE,           /* bad backslash escape or \u digits */
    JSTREAM_ERR_UTF8,             /* invalid UTF-8 (overlong, surrogate, > U+10FFFF) */
    JSTREAM_ERR_DEPTH,            /* nesting deeper than JSTREAM_DEPTH_MAX */
    JSTREAM_ERR_TRAILING_DATA,    /* non-space bytes after the top-level value */
    JSTREAM_ERR_TRUNCATED,        /* the body ended inside the JSON (at finish) */
    JSTREAM_ERR_SHAPE,            /* valid JSON, but not the expected envelope */
    JSTREAM_ERR_RECORD_TOO_LARGE, /* record exceeds JSTREAM_RECORD_MAX */
    JSTREAM_ERR_TOO_MANY_TOKENS,  /* record exceeds JSTREAM_TOKENS_MAX tokens */
    JSTREAM_ERR_TOO_MANY_APPS,    /* more than JSTREAM_APPS_MAX distinct apps */
    JSTREAM_ERR_ABORTED           /* the record callback asked to stop */
} jstream_status;

/* One record, valid only during the callback. */
typedef struct {
    const char *json;        /* compact JSON text, NUL-terminated */
    size_t len;              /* bytes of json */
    const jsmntok_t *tokens; /* tokens[0] is the record value itself */
    int token_count;
    unsigned long index; /* 0-based position in the envelope's list */
    const char *key;     /* APPS: the map key (app id); NULL otherwise */
    int plain;           /* 1: no backslash escape in any string (the text is always
                          * compact); 0 from other producers means "not known" */
} jstream_record;

/* Receives each record; returns 0 to go on, non-zero to stop (ABORTED). */
typedef int (*jstream_record_fn)(void *user, const jstream_record *record);

typedef struct {
    /* ---- results ---- */
    int has_total, has_end, has_limit;
    int64_t total, end, limit; /* DB envelope scalars */
    int has_message;
    char message[JSTREAM_MESSAGE_MAX + 1]; /* top-level "result" string, decoded */
    unsigned long records;                 /* records delivered so far */
    uint64_t offset;                       /* body bytes consumed so far */
    jstream_status error;                  /* sticky error, JSTREAM_OK if none */
    uint64_t error_offset;                 /* body offset of the byte that failed */
    unsigned long error_record;            /* record index the error belongs to */
    int error_in_record;                   /* 1 when the error happened inside a record */
    char record_id[JSTREAM_ID_MAX + 4];    /* the current record's _id ("" if not seen) */

    /* ---- private state (see jstream.c); init clears everything before
     * apps[], the large buffers after it are not cleared ---- */
    jstream_envelope envelope;
    int state;                            /* what the next byte may be */
    int depth;                            /* open objects and arrays */
    uint8_t stack[JSTREAM_DEPTH_MAX + 1]; /* container kind per depth (1..) */
    int string_is_key;                    /* the open string is an object key */
    int number_state;                     /* position in the number grammar */
    int literal_word;                     /* which literal is being matched */
    int literal_len;                      /* its characters matched so far */
    int utf8_need;                        /* continuation bytes still expected */
    uint8_t utf8_lo, utf8_hi;             /* allowed range of the next one */
    uint8_t utf8_seq[4];                  /* the character being read (for captures) */
    int utf8_len;
    int escape_digits; /* \u hex digits read */
    uint32_t escape_cp;
    int capture; /* where the current string is being captured */
    size_t capture_len;
    int capture_full;              /* the capture ran out of room */
    int capture_bad;               /* a key with an escape (never an envelope key) */
    uint32_t capture_high;         /* pending high surrogate of a capture */
    char key[JSTREAM_KEY_MAX + 1]; /* last envelope key, or record key */
    int top_key;                   /* kind of the open depth-1 member */
    int top_is_object;             /* the top-level value is an object */
    int scalar_active;             /* a DB scalar's digits are being kept */
    char scalar[24];               /* digits of a top-level number being read */
    int scalar_len;
    uint64_t scalar_offset; /* where that value started */
    int id_pending;         /* the record key just read was "_id" */
    int in_record;
    int record_depth; /* depth at which the record value sits */
    int record_skip;  /* APPS: already delivered, only validate */
    size_t record_len;
    int record_overflow;               /* the record outgrew record[] */
    int record_escaped;                /* a string of the record has an escape */
    uint64_t overflow_offset;          /* first byte that did not fit */
    int token_count;                   /* tokens[] written for the record */
    int token_open;                    /* innermost open container token, -1 */
    int token_overflow;                /* the record outgrew tokens[] */
    unsigned long record_seen;         /* record values seen (index of the next) */
    const char *reason;                /* detail of a SHAPE error */
    char app_key[JSTREAM_KEY_MAX + 1]; /* APPS: the id of the record */
    int app_skip;                      /* that id was delivered before */
    unsigned app_count;
    uint8_t apps[JSTREAM_APPS_MAX][12]; /* ids delivered, binary */
    jsmntok_t tokens[JSTREAM_TOKENS_MAX];
    char record[JSTREAM_RECORD_MAX + 1];
} jstream;

/* Words for a status. */
const char *jstream_strerror(jstream_status status);

/* Prepares a scanner for one body of the given envelope. */
void jstream_init(jstream *js, jstream_envelope envelope);

/* Scans len bytes, calling on_record for each complete record. */
jstream_status jstream_feed(jstream *js, const uint8_t *data, size_t len,
                            jstream_record_fn on_record, void *user);

/* Ends the body: JSTREAM_OK only if it was one complete, valid envelope. */
jstream_status jstream_finish(jstream *js);

/* Index of the token after token t and everything inside it. */
int jstream_token_next(const jstream_record *record, int t);

/* One line on the sticky error: "invalid JSON at byte 1234 (record 17,
 * _id \"abc\"): trailing comma". Returns the length written. */
size_t jstream_describe(const jstream *js, char *out, size_t cap);

#endif /* COUNTLY_SYNC_JSTREAM_H */
