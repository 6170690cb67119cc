/*
 * jstream.c - strict streaming scanner that cuts Countly bodies into records.
 *
 * One state machine, resumable at any byte: `state` says what the next byte
 * may be, `stack` holds the open containers. Plain string bytes, digits and
 * whitespace runs are consumed by tight loops; a record's bytes are copied
 * into record[] as runs (memcpy), interrupted only by whitespace outside
 * strings, which is dropped. The record's tokens are written as the scanner
 * meets its values (one pass: nothing is read twice), and when the record
 * value ends it is handed to the callback. Inside a record's containers the
 * tokens of compact JSON are taken by a fast path (fast_record) that keeps
 * the state in locals and hands anything else back to the state machine,
 * unconsumed, in the state the machine would have reached.
 *
 * Tokens in the same pass. The run not yet copied starts at copy_from in
 * the fragment, and every byte before it is already in record[], so the
 * record offset of a scanned byte at p is record_len + (p - copy_from):
 * exact across fragments (a feed copies its pending run at its end and the
 * next one starts its run at its first byte) and across dropped whitespace
 * (skip_space copies the run before it and starts the next after it). A
 * value opens its token where it starts (a string after its quote) and its
 * end is set where it ends: the closing quote, the byte after a closing
 * bracket, a number's or literal's delimiter (which is not part of the
 * record when the record is that bare value). Links as jsmn's with parent
 * links: nothing is written between a key and its value, so a member
 * value's parent (the key) is the last token; token_open is the innermost
 * open container, and closing it goes back to the container above (through
 * the key when it was a member value). More tokens than JSTREAM_TOKENS_MAX
 * only mark the record, which validation finishes before the error is
 * reported at its end, as before.
 *
 * Choices the header leaves open:
 * - error_offset is the byte at which the error was detected: the closing
 *   bracket of "[1,]", the byte after "tru" or "1." that cannot continue
 *   it, the closing quote of a bad app id, the first byte of a value of the
 *   wrong type (SHAPE), the body length for TRUNCATED. RECORD_TOO_LARGE
 *   points at the first byte that did not fit (reported when the record
 *   ends, so its _id is known even when it comes late); TOO_MANY_TOKENS and
 *   ABORTED point at the record's last byte.
 * - DB "total", "end" and "limit" must be integers that fit int64_t;
 *   anything else (1.5, 1e3, "3", null) is SHAPE: pagination must not guess.
 * - record->index counts every record value in the body, so for APPS a
 *   skipped duplicate still takes an index ("record 17" is the 18th record
 *   of the body); `records` counts the records delivered.
 * - In captured strings (message, _id) escapes are decoded; a control
 *   character becomes a space and a lone surrogate U+FFFD (display only).
 * - LIST also accepts an object, but only an error body with a "result"
 *   string; VALUE delivers an object, array or string as record 0 (a bare
 *   top-level number or literal is SHAPE: it only ends at finish, which has
 *   no callback).
 */
#define JSTREAM_COMPILES_JSMN
/* jsmn (third-party, libjsmn-dev) is compiled here once, as json_tokens.h
 * says, but this file no longer calls it: jsmn_parse stays linkable for the
 * tests, which tokenize records of their own with it and use it as the
 * oracle of the tokens written here (tests/unit/test_jstream.c,
 * tests/fuzz/fuzz_jstream.c); a static link drops it (--gc-sections).
 * Its definitions assign its unsigned parser positions to int token fields
 * and back, which -Wsign-conversion rejects (17 places); only that warning
 * is silenced, only for jsmn.h. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
#include "jstream.h"
#include "text.h"
#pragma GCC diagnostic pop

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum {
    ST_VALUE,          /* a value (top, after ':' or after ',' in an array) */
    ST_VALUE_OR_CLOSE, /* after '[': a value or ']' */
    ST_KEY,            /* after ',' in an object: a key */
    ST_KEY_OR_CLOSE,   /* after '{': a key or '}' */
    ST_COLON,
    ST_AFTER_VALUE, /* ',' or the closing bracket */
    ST_DONE,        /* top-level value complete: whitespace only */
    ST_STRING,
    ST_ESCAPE,
    ST_UNICODE,
    ST_UTF8,
    ST_NUMBER,
    ST_LITERAL
};

enum { CONTAINER_OBJECT = 1, CONTAINER_ARRAY = 2 };

enum { V_BAD, V_OBJECT, V_ARRAY, V_STRING, V_NUMBER, V_LITERAL };

/* Number grammar positions; N_END and N_BAD are transition results. */
enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_EXP, N_EXP_SIGN, N_EXP_DIGITS, N_END, N_BAD };
enum { C_OTHER, C_ZERO, C_DIGIT, C_DOT, C_EXP, C_SIGN, C_WORD, C_COUNT };

static const uint8_t number_next[N_END][C_COUNT] = {
    [N_MINUS] = {N_BAD, N_ZERO, N_INT, N_BAD, N_BAD, N_BAD, N_BAD},
    [N_ZERO] = {N_END, N_BAD, N_BAD, N_DOT, N_EXP, N_BAD, N_BAD},
    [N_INT] = {N_END, N_INT, N_INT, N_DOT, N_EXP, N_BAD, N_BAD},
    [N_DOT] = {N_BAD, N_FRAC, N_FRAC, N_BAD, N_BAD, N_BAD, N_BAD},
    [N_FRAC] = {N_END, N_FRAC, N_FRAC, N_BAD, N_EXP, N_BAD, N_BAD},
    [N_EXP] = {N_BAD, N_EXP_DIGITS, N_EXP_DIGITS, N_BAD, N_BAD, N_EXP_SIGN, N_BAD},
    [N_EXP_SIGN] = {N_BAD, N_EXP_DIGITS, N_EXP_DIGITS, N_BAD, N_BAD, N_BAD, N_BAD},
    [N_EXP_DIGITS] = {N_END, N_EXP_DIGITS, N_EXP_DIGITS, N_BAD, N_BAD, N_BAD, N_BAD},
};

/* Byte classes of the number grammar; letters, digits and '_' that cannot
 * continue a number make it invalid ("0x1", "1a") instead of ending it. */
static const uint8_t number_class[256] = {
    ['0'] = C_ZERO,  ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT, ['4'] = C_DIGIT,
    ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT, ['8'] = C_DIGIT, ['9'] = C_DIGIT,
    ['.'] = C_DOT,   ['e'] = C_EXP,   ['E'] = C_EXP,   ['+'] = C_SIGN,  ['-'] = C_SIGN,
    ['_'] = C_WORD,  ['A'] = C_WORD,  ['B'] = C_WORD,  ['C'] = C_WORD,  ['D'] = C_WORD,
    ['F'] = C_WORD,  ['G'] = C_WORD,  ['H'] = C_WORD,  ['I'] = C_WORD,  ['J'] = C_WORD,
    ['K'] = C_WORD,  ['L'] = C_WORD,  ['M'] = C_WORD,  ['N'] = C_WORD,  ['O'] = C_WORD,
    ['P'] = C_WORD,  ['Q'] = C_WORD,  ['R'] = C_WORD,  ['S'] = C_WORD,  ['T'] = C_WORD,
    ['U'] = C_WORD,  ['V'] = C_WORD,  ['W'] = C_WORD,  ['X'] = C_WORD,  ['Y'] = C_WORD,
    ['Z'] = C_WORD,  ['a'] = C_WORD,  ['b'] = C_WORD,  ['c'] = C_WORD,  ['d'] = C_WORD,
    ['f'] = C_WORD,  ['g'] = C_WORD,  ['h'] = C_WORD,  ['i'] = C_WORD,  ['j'] = C_WORD,
    ['k'] = C_WORD,  ['l'] = C_WORD,  ['m'] = C_WORD,  ['n'] = C_WORD,  ['o'] = C_WORD,
    ['p'] = C_WORD,  ['q'] = C_WORD,  ['r'] = C_WORD,  ['s'] = C_WORD,  ['t'] = C_WORD,
    ['u'] = C_WORD,  ['v'] = C_WORD,  ['w'] = C_WORD,  ['x'] = C_WORD,  ['y'] = C_WORD,
    ['z'] = C_WORD,
};

enum { LIT_TRUE, LIT_FALSE, LIT_NULL, LIT_INFINITY, LIT_NAN };

typedef struct {
    const char *text;
    int len;
} literal_word;

static const literal_word literal_words[] = {
    {"true", 4}, {"false", 5}, {"null", 4}, {"Infinity", 8}, {"NaN", 3},
};

/* Where the current string goes. */
enum { CAP_NONE, CAP_KEY, CAP_APP_KEY, CAP_MESSAGE, CAP_ID };

/* Kinds of top-level members. */
enum {
    K_OTHER,
    K_COLLECTIONS,    /* DB records array */
    K_RESULT,         /* message if a string */
    K_RESULT_RECORDS, /* GROUPS: the "result" array being read */
    K_ADMIN_OF,
    K_USER_OF,
    K_TOTAL,
    K_END,
    K_LIMIT,
    K_PAGES
};

typedef struct {
    jstream_envelope envelope;
    const char *name;
    int kind;
} envelope_key;

static const envelope_key envelope_keys[] = {
    {JSTREAM_ENVELOPE_DB, "collections", K_COLLECTIONS},
    {JSTREAM_ENVELOPE_DB, "total", K_TOTAL},
    {JSTREAM_ENVELOPE_DB, "end", K_END},
    {JSTREAM_ENVELOPE_DB, "limit", K_LIMIT},
    {JSTREAM_ENVELOPE_DB, "pages", K_PAGES},
    {JSTREAM_ENVELOPE_DB, "result", K_RESULT},
    {JSTREAM_ENVELOPE_GROUPS, "result", K_RESULT},
    {JSTREAM_ENVELOPE_APPS, "admin_of", K_ADMIN_OF},
    {JSTREAM_ENVELOPE_APPS, "user_of", K_USER_OF},
    {JSTREAM_ENVELOPE_APPS, "result", K_RESULT},
    {JSTREAM_ENVELOPE_LIST, "result", K_RESULT},
};

/* 1 for string bytes that need no attention: 0x20..0x7f except '"' and '\'. */
static const uint8_t string_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
};

/* One feed call: the fragment and the record bytes not yet copied. */
typedef struct {
    const uint8_t *data;      /* first byte of the fragment */
    const uint8_t *p;         /* next byte to scan */
    const uint8_t *end;       /* one past the fragment */
    const uint8_t *copy_from; /* record bytes from here on are not copied yet */
    uint64_t base;            /* body offset of data[0] */
    jstream_record_fn on_record;
    void *user;
} scan;

/* ---- small helpers ------------------------------------------------------------ */

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int is_word_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static uint64_t scan_offset(const scan *s, const uint8_t *at)
{
    return s->base + (uint64_t)(at - s->data);
}

static void fail_at(jstream *js, jstream_status status, uint64_t offset)
{
    js->error = status;
    js->error_offset = offset;
    js->error_record = js->record_seen;
    js->error_in_record = js->in_record;
}

static void fail(jstream *js, const scan *s, jstream_status status, const uint8_t *at)
{
    fail_at(js, status, scan_offset(s, at));
}

static void fail_shape(jstream *js, const scan *s, const uint8_t *at, const char *reason)
{
    js->reason = reason;
    fail(js, s, JSTREAM_ERR_SHAPE, at);
}

static int top_container(const jstream *js)
{
    return js->stack[js->depth];
}

/* ---- captured strings (keys, app ids, the message, a record's _id) ------------ */

static char *capture_buffer(jstream *js, size_t *cap)
{
    switch (js->capture) {
    case CAP_APP_KEY:
        *cap = JSTREAM_KEY_MAX;
        return js->app_key;
    case CAP_MESSAGE:
        *cap = JSTREAM_MESSAGE_MAX;
        return js->message;
    case CAP_ID:
        *cap = JSTREAM_ID_MAX;
        return js->record_id;
    default:
        *cap = JSTREAM_KEY_MAX;
        return js->key;
    }
}

static void capture_begin(jstream *js, int target)
{
    js->capture = target;
    js->capture_len = 0;
    js->capture_full = 0;
    js->capture_bad = 0;
    js->capture_high = 0;
}

/* Appends whole characters; n > room marks the capture full (cut there). */
static void capture_append(jstream *js, const uint8_t *bytes, size_t n, int divisible)
{
    size_t cap;
    char *buf = capture_buffer(js, &cap);
    size_t room = cap - js->capture_len;
    if (js->capture_full)
        return;
    if (n > room) {
        js->capture_full = 1;
        n = divisible ? room : 0;
    }
    memcpy(buf + js->capture_len, bytes, n);
    js->capture_len += n;
}

static void capture_code_point(jstream *js, uint32_t cp)
{
    uint8_t b[4];
    if (cp < 0x20)
        cp = ' ';
    capture_append(js, b, text_utf8_encode(cp, b), 0);
}

/* A high surrogate not followed by a low one is shown as U+FFFD. */
static void capture_flush_high(jstream *js)
{
    if (js->capture_high != 0) {
        js->capture_high = 0;
        capture_code_point(js, 0xFFFD);
    }
}

static void capture_text(jstream *js, const uint8_t *bytes, size_t n, int divisible)
{
    capture_flush_high(js);
    capture_append(js, bytes, n, divisible);
}

/* A decoded escape: keys never match once escaped; display text decodes. */
static void capture_escape(jstream *js, uint32_t cp)
{
    if (js->capture == CAP_KEY || js->capture == CAP_APP_KEY) {
        js->capture_bad = 1;
        return;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        capture_flush_high(js);
        js->capture_high = cp;
        return;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        uint32_t high = js->capture_high;
        js->capture_high = 0;
        cp = high != 0 ? 0x10000 + ((high - 0xD800) << 10) + (cp - 0xDC00) : 0xFFFD;
        capture_code_point(js, cp);
        return;
    }
    capture_flush_high(js);
    capture_code_point(js, cp == 0 ? 0xFFFD : cp);
}

static void capture_end(jstream *js)
{
    size_t cap;
    char *buf;
    capture_flush_high(js);
    buf = capture_buffer(js, &cap);
    if (js->capture == CAP_ID && js->capture_full) {
        memcpy(buf + js->capture_len, "...", 3);
        js->capture_len += 3;
    }
    buf[js->capture_len] = '\0';
    if (js->capture == CAP_MESSAGE)
        js->has_message = 1;
}

/* ---- records ------------------------------------------------------------------- */

static void record_copy(jstream *js, const scan *s, const uint8_t *from, const uint8_t *to)
{
    size_t n = (size_t)(to - from);
    size_t room = JSTREAM_RECORD_MAX - js->record_len;
    if (js->record_overflow || n == 0)
        return;
    if (n > room) {
        js->record_overflow = 1;
        js->overflow_offset = scan_offset(s, from) + room;
        n = room;
    }
    memcpy(js->record + js->record_len, from, n);
    js->record_len += n;
}

/* ---- the record's tokens --------------------------------------------------------- */

/* Offset in record[] of the scanned record byte at `at` (see the top of the
 * file); past JSTREAM_RECORD_MAX it no longer matters (the record fails). */
static int record_pos(const jstream *js, const scan *s, const uint8_t *at)
{
    size_t pos = js->record_len + (size_t)(at - s->copy_from);
    return pos <= JSTREAM_RECORD_MAX ? (int)pos : JSTREAM_RECORD_MAX + 1;
}

static void token_add(jstream *js, jsmntype_t type, int start, int parent)
{
    jsmntok_t *t = &js->tokens[js->token_count++];
    t->type = type;
    t->start = start;
    t->end = -1;
    t->size = 0;
    t->parent = parent;
}

/* A key's opening quote is at s->p (inside an object of the record). */
static void token_key(jstream *js, const scan *s)
{
    if (js->token_count == JSTREAM_TOKENS_MAX) {
        js->token_overflow = 1;
        return;
    }
    js->tokens[js->token_open].size++;
    token_add(js, JSMN_STRING, record_pos(js, s, s->p) + 1, js->token_open);
}

/* A value of the record begins at s->p, before push() for a container. */
static void token_value(jstream *js, const scan *s, jsmntype_t type)
{
    int parent = -1;
    if (js->token_count == JSTREAM_TOKENS_MAX) {
        js->token_overflow = 1;
        return;
    }
    if (js->token_count > 0) {
        if (top_container(js) == CONTAINER_OBJECT) {
            parent = js->token_count - 1; /* its key */
            js->tokens[parent].size = 1;
        } else {
            parent = js->token_open;
            js->tokens[parent].size++;
        }
    }
    if (type == JSMN_OBJECT || type == JSMN_ARRAY)
        js->token_open = js->token_count;
    token_add(js, type, record_pos(js, s, s->p) + (type == JSMN_STRING), parent);
}

/* The string, number or literal just read (the last token) ends at `at`:
 * its closing quote or its delimiter. */
static void token_end(jstream *js, const scan *s, const uint8_t *at)
{
    if (s->copy_from != NULL && !js->token_overflow)
        js->tokens[js->token_count - 1].end = record_pos(js, s, at);
}

/* The innermost open container closed; its bracket is just before s->p. */
static void token_close(jstream *js, const scan *s)
{
    jsmntok_t *t;
    int up;
    if (s->copy_from == NULL || js->token_overflow)
        return;
    t = &js->tokens[js->token_open];
    t->end = record_pos(js, s, s->p);
    up = t->parent;
    if (up >= 0 && js->tokens[up].type == JSMN_STRING)
        up = js->tokens[up].parent; /* it was a member value: its key's object */
    js->token_open = up;
}

static void record_begin(jstream *js, scan *s, int skip)
{
    js->in_record = 1;
    js->record_depth = js->depth;
    js->record_skip = skip;
    js->record_len = 0;
    js->record_overflow = 0;
    js->record_escaped = 0;
    js->token_count = 0;
    js->token_open = -1;
    js->token_overflow = 0;
    js->record_id[0] = '\0';
    js->id_pending = 0;
    s->copy_from = skip ? NULL : s->p;
}

static void record_close(jstream *js)
{
    js->in_record = 0;
    js->record_seen++;
}

/* The record value ended just before `after`. */
static void record_finish(jstream *js, scan *s, const uint8_t *after)
{
    uint64_t last = scan_offset(s, after) - 1;
    jstream_record record;
    if (s->copy_from != NULL) {
        record_copy(js, s, s->copy_from, after);
        s->copy_from = NULL;
    }
    if (js->record_skip) {
        record_close(js);
        return;
    }
    if (js->record_overflow) {
        fail_at(js, JSTREAM_ERR_RECORD_TOO_LARGE, js->overflow_offset);
        return;
    }
    if (js->token_overflow) {
        fail_at(js, JSTREAM_ERR_TOO_MANY_TOKENS, last);
        return;
    }
    js->record[js->record_len] = '\0';
    record.json = js->record;
    record.len = js->record_len;
    record.tokens = js->tokens;
    record.token_count = js->token_count;
    record.index = js->record_seen;
    record.key = js->envelope == JSTREAM_ENVELOPE_APPS ? js->app_key : NULL;
    record.plain = !js->record_escaped;
    js->records++;
    if (s->on_record != NULL && s->on_record(s->user, &record) != 0) {
        fail_at(js, JSTREAM_ERR_ABORTED, last);
        return;
    }
    record_close(js);
}

/* ---- the envelope ---------------------------------------------------------------- */

static int classify_key(const jstream *js)
{
    size_t i;
    if (js->capture_bad || js->capture_full)
        return K_OTHER;
    for (i = 0; i < sizeof(envelope_keys) / sizeof(envelope_keys[0]); i++)
        if (envelope_keys[i].envelope == js->envelope &&
            strcmp(envelope_keys[i].name, js->key) == 0)
            return envelope_keys[i].kind;
    return K_OTHER;
}

static int app_id_decode(const jstream *js, uint8_t id[12])
{
    size_t i;
    if (js->capture_bad || js->capture_full || js->capture_len != 24)
        return 0;
    for (i = 0; i < 12; i++) {
        int hi = text_hex_value((uint8_t)js->app_key[2 * i]);
        int lo = text_hex_value((uint8_t)js->app_key[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

/* An app id key closed (its quote is s->p - 1): new, repeated or refused. */
static void app_key_end(jstream *js, const scan *s)
{
    uint8_t id[12];
    unsigned i;
    if (!app_id_decode(js, id)) {
        fail_shape(js, s, s->p - 1, "an app id key is not a 24-digit hex ObjectId");
        return;
    }
    for (i = 0; i < js->app_count; i++) {
        if (memcmp(js->apps[i], id, sizeof(id)) == 0) {
            js->app_skip = 1;
            return;
        }
    }
    if (js->app_count == JSTREAM_APPS_MAX) {
        fail(js, s, JSTREAM_ERR_TOO_MANY_APPS, s->p - 1);
        return;
    }
    memcpy(js->apps[js->app_count++], id, sizeof(id));
    js->app_skip = 0;
}

/* A key closed; `capture` says what it was captured for. */
static void key_end(jstream *js, const scan *s, int capture)
{
    if (capture == CAP_APP_KEY) {
        app_key_end(js, s);
    } else if (capture == CAP_KEY && js->in_record) {
        js->id_pending = !js->capture_bad && js->capture_len == 3 && js->key[0] == '_' &&
                         js->key[1] == 'i' && js->key[2] == 'd';
    } else if (capture == CAP_KEY) {
        js->top_key = classify_key(js);
    }
}

static int key_capture_target(const jstream *js)
{
    if (js->in_record)
        return js->depth == js->record_depth + 1 ? CAP_KEY : CAP_NONE;
    if (js->depth == 1)
        return CAP_KEY;
    if (js->depth == 2 && (js->top_key == K_ADMIN_OF || js->top_key == K_USER_OF))
        return CAP_APP_KEY;
    return CAP_NONE;
}

static int top_value(jstream *js, scan *s, int kind)
{
    if (js->envelope == JSTREAM_ENVELOPE_VALUE) {
        if (kind == V_NUMBER || kind == V_LITERAL) {
            fail_shape(js, s, s->p, "the document is a bare number or literal");
            return 0;
        }
        record_begin(js, s, 0);
        return 1;
    }
    if (kind == V_OBJECT) {
        js->top_is_object = 1;
        return 1;
    }
    if (kind == V_ARRAY && js->envelope == JSTREAM_ENVELOPE_LIST)
        return 1;
    fail_shape(js, s, s->p,
               js->envelope == JSTREAM_ENVELOPE_LIST ? "the top level is not an array"
                                                     : "the top level is not an object");
    return 0;
}

static const char *scalar_reason(int top_key)
{
    if (top_key == K_TOTAL)
        return "\"total\" is not an integer";
    return top_key == K_END ? "\"end\" is not an integer" : "\"limit\" is not an integer";
}

static int scalar_begin(jstream *js, scan *s, int kind)
{
    if (kind != V_NUMBER) {
        fail_shape(js, s, s->p, scalar_reason(js->top_key));
        return 0;
    }
    js->scalar_active = 1;
    js->scalar_len = 0;
    js->scalar_offset = scan_offset(s, s->p);
    return 1;
}

static int result_value(jstream *js, scan *s, int kind)
{
    if (kind == V_STRING) {
        capture_begin(js, CAP_MESSAGE);
        return 1;
    }
    if (js->envelope != JSTREAM_ENVELOPE_GROUPS)
        return 1;
    if (kind != V_ARRAY) {
        fail_shape(js, s, s->p, "\"result\" is neither an array nor a string");
        return 0;
    }
    js->top_key = K_RESULT_RECORDS;
    return 1;
}

/* The value of a top-level member begins. */
static int member_value(jstream *js, scan *s, int kind)
{
    switch (js->top_key) {
    case K_COLLECTIONS:
        if (kind != V_ARRAY) {
            fail_shape(js, s, s->p, "\"collections\" is not an array");
            return 0;
        }
        return 1;
    case K_RESULT:
        return result_value(js, s, kind);
    case K_ADMIN_OF:
    case K_USER_OF:
        if (kind != V_OBJECT) {
            fail_shape(js, s, s->p,
                       js->top_key == K_ADMIN_OF ? "\"admin_of\" is not an object"
                                                 : "\"user_of\" is not an object");
            return 0;
        }
        return 1;
    case K_TOTAL:
    case K_END:
    case K_LIMIT:
        return scalar_begin(js, s, kind);
    default:
        return 1;
    }
}

/* A record of DB, GROUPS or APPS begins at depth 2. */
static int listed_record(jstream *js, scan *s, int kind)
{
    static const char *const reasons[] = {
        "a record in \"collections\" is not an object",
        "a record in \"result\" is not an object",
        "an app in \"admin_of\" or \"user_of\" is not an object",
    };
    int apps = js->top_key == K_ADMIN_OF || js->top_key == K_USER_OF;
    if (kind != V_OBJECT) {
        fail_shape(js, s, s->p, reasons[apps ? 2 : js->top_key == K_RESULT_RECORDS]);
        return 0;
    }
    record_begin(js, s, apps ? js->app_skip : 0);
    return 1;
}

/* Envelope bookkeeping as a value of `kind` begins at s->p; 0 on error. */
static int envelope_value(jstream *js, scan *s, int kind)
{
    if (js->in_record) {
        if (js->id_pending && kind == V_STRING)
            capture_begin(js, CAP_ID);
        js->id_pending = 0;
        return 1;
    }
    if (js->depth == 0)
        return top_value(js, s, kind);
    if (js->depth == 1) {
        if (top_container(js) == CONTAINER_ARRAY) {
            record_begin(js, s, 0);
            return 1;
        }
        return member_value(js, s, kind);
    }
    if (js->depth == 2 && (js->top_key == K_COLLECTIONS || js->top_key == K_RESULT_RECORDS ||
                           js->top_key == K_ADMIN_OF || js->top_key == K_USER_OF))
        return listed_record(js, s, kind);
    return 1;
}

/* Infinity, -Infinity and NaN: only as the value of DB's "pages". */
static int specials_allowed(const jstream *js)
{
    return js->envelope == JSTREAM_ENVELOPE_DB && js->depth == 1 && !js->in_record &&
           js->top_is_object && js->top_key == K_PAGES;
}

/* Parses the kept digits: an integer that fits int64_t, or SHAPE. */
static int scalar_parse(const jstream *js, int64_t *value)
{
    if (js->scalar_len >= (int)sizeof(js->scalar))
        return 0; /* cut: too long to be an integer that fits */
    return text_parse_i64(js->scalar, (size_t)js->scalar_len, value);
}

static void scalar_finish(jstream *js)
{
    int64_t value = 0;
    js->scalar_active = 0;
    if (!scalar_parse(js, &value)) {
        js->reason = scalar_reason(js->top_key);
        fail_at(js, JSTREAM_ERR_SHAPE, js->scalar_offset);
    } else if (js->top_key == K_TOTAL) {
        js->has_total = 1;
        js->total = value;
    } else if (js->top_key == K_END) {
        js->has_end = 1;
        js->end = value;
    } else {
        js->has_limit = 1;
        js->limit = value;
    }
}

/* Keeps a DB scalar's characters; a longer one is marked by a full buffer. */
static void scalar_keep(jstream *js, const uint8_t *from, const uint8_t *to)
{
    size_t n = (size_t)(to - from);
    size_t room = sizeof(js->scalar) - (size_t)js->scalar_len;
    if (n > room)
        n = room;
    memcpy(js->scalar + js->scalar_len, from, n);
    js->scalar_len += (int)n;
}

/* ---- values -------------------------------------------------------------------- */

static int key_capture_target(const jstream *js);
static void capture_begin(jstream *js, int target);

/* The record fast path (fast_record) can take the next token: inside a
 * container of a record being copied whose tokens and bytes still fit, with
 * no _id value awaited (its string is captured by the general path). */
static int fast_ready(const jstream *js, const scan *s)
{
    return s->copy_from != NULL && js->depth > js->record_depth && !js->id_pending &&
           !js->token_overflow && !js->record_overflow;
}

static void key_begin(jstream *js, scan *s)
{
    if (s->copy_from != NULL)
        token_key(js, s);
    js->string_is_key = 1;
    capture_begin(js, key_capture_target(js));
    js->state = ST_STRING;
    s->p++;
}

/* Consumes a ',' after a value; in an object a key's quote right after it too. */
static void after_comma(jstream *js, scan *s)
{
    s->p++;
    if (js->stack[js->depth] == CONTAINER_ARRAY) {
        js->state = ST_VALUE;
        return;
    }
    js->state = ST_KEY;
    if (s->p < s->end && *s->p == '"' && !fast_ready(js, s))
        key_begin(js, s);
}

/* A value ended just before `after` (its last byte consumed, or a number's
 * delimiter not yet). */
static void value_end(jstream *js, scan *s, const uint8_t *after)
{
    if (js->in_record && js->depth == js->record_depth) {
        record_finish(js, s, after);
        if (js->error != JSTREAM_OK)
            return;
    }
    js->state = js->depth == 0 ? ST_DONE : ST_AFTER_VALUE;
    if (js->depth > 0 && s->p < s->end && *s->p == ',')
        after_comma(js, s); /* the common case, without a trip through scan_step */
}

static void skip_space(jstream *js, scan *s)
{
    const uint8_t *q = s->p;
    while (q < s->end && is_space(*q))
        q++;
    if (s->copy_from != NULL) {
        record_copy(js, s, s->copy_from, s->p);
        s->copy_from = q;
    }
    s->p = q;
}

static int value_kind(const jstream *js, uint8_t c)
{
    switch (c) {
    case '{':
        return V_OBJECT;
    case '[':
        return V_ARRAY;
    case '"':
        return V_STRING;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return V_NUMBER;
    case 't':
    case 'f':
    case 'n':
        return V_LITERAL;
    case 'I':
    case 'N':
        return specials_allowed(js) ? V_LITERAL : V_BAD;
    default:
        return V_BAD;
    }
}

static void push(jstream *js, scan *s, int container)
{
    if (js->depth == JSTREAM_DEPTH_MAX) {
        fail(js, s, JSTREAM_ERR_DEPTH, s->p);
        return;
    }
    js->depth++;
    js->stack[js->depth] = (uint8_t)container;
    js->state = container == CONTAINER_OBJECT ? ST_KEY_OR_CLOSE : ST_VALUE_OR_CLOSE;
    s->p++;
}

static void start_literal(jstream *js, uint8_t c)
{
    js->literal_word = c == 't'   ? LIT_TRUE
                       : c == 'f' ? LIT_FALSE
                       : c == 'n' ? LIT_NULL
                       : c == 'I' ? LIT_INFINITY
                                  : LIT_NAN;
    js->literal_len = 1;
    js->state = ST_LITERAL;
}

static void start_value(jstream *js, scan *s, int kind)
{
    static const jsmntype_t token_type[] = {
        [V_OBJECT] = JSMN_OBJECT,    [V_ARRAY] = JSMN_ARRAY,       [V_STRING] = JSMN_STRING,
        [V_NUMBER] = JSMN_PRIMITIVE, [V_LITERAL] = JSMN_PRIMITIVE,
    };
    uint8_t c = *s->p;
    if (s->copy_from != NULL)
        token_value(js, s, token_type[kind]);
    if (kind == V_OBJECT || kind == V_ARRAY) {
        push(js, s, kind == V_OBJECT ? CONTAINER_OBJECT : CONTAINER_ARRAY);
        return;
    }
    if (kind == V_STRING) {
        js->string_is_key = 0;
        js->state = ST_STRING;
    } else if (kind == V_NUMBER) {
        js->number_state = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
        js->state = ST_NUMBER;
        if (js->scalar_active)
            scalar_keep(js, s->p, s->p + 1);
    } else {
        start_literal(js, c);
    }
    s->p++;
}

static void close_container(jstream *js, scan *s, int container)
{
    if (js->depth == 0 || top_container(js) != container) {
        fail(js, s, JSTREAM_ERR_UNEXPECTED, s->p);
        return;
    }
    js->depth--;
    if (js->depth == 0 && js->envelope == JSTREAM_ENVELOPE_LIST && js->top_is_object &&
        !js->has_message) {
        fail_shape(js, s, s->p, "the top level is an object without a \"result\" message");
        return;
    }
    s->p++;
    token_close(js, s);
    value_end(js, s, s->p);
}

static void scan_value(jstream *js, scan *s)
{
    uint8_t c = *s->p;
    int kind;
    if (is_space(c)) {
        skip_space(js, s);
        return;
    }
    if (c == ']' && js->depth > 0 && top_container(js) == CONTAINER_ARRAY) {
        if (js->state == ST_VALUE) {
            fail(js, s, JSTREAM_ERR_TRAILING_COMMA, s->p);
            return;
        }
        close_container(js, s, CONTAINER_ARRAY);
        return;
    }
    kind = value_kind(js, c);
    if (kind == V_BAD) {
        fail(js, s, c == '+' || c == '.' ? JSTREAM_ERR_NUMBER : JSTREAM_ERR_UNEXPECTED, s->p);
        return;
    }
    if (envelope_value(js, s, kind))
        start_value(js, s, kind);
}

static void scan_key(jstream *js, scan *s)
{
    uint8_t c = *s->p;
    if (is_space(c))
        skip_space(js, s);
    else if (c == '"')
        key_begin(js, s);
    else if (c == '}' && js->state == ST_KEY_OR_CLOSE)
        close_container(js, s, CONTAINER_OBJECT);
    else
        fail(js, s, c == '}' ? JSTREAM_ERR_TRAILING_COMMA : JSTREAM_ERR_UNEXPECTED, s->p);
}

static void scan_colon(jstream *js, scan *s)
{
    uint8_t c = *s->p;
    if (is_space(c)) {
        skip_space(js, s);
    } else if (c == ':') {
        js->state = ST_VALUE;
        s->p++;
    } else {
        fail(js, s, JSTREAM_ERR_UNEXPECTED, s->p);
    }
}

static void scan_after_value(jstream *js, scan *s)
{
    uint8_t c = *s->p;
    if (is_space(c))
        skip_space(js, s);
    else if (c == ',')
        after_comma(js, s);
    else if (c == '}' || c == ']')
        close_container(js, s, c == '}' ? CONTAINER_OBJECT : CONTAINER_ARRAY);
    else
        fail(js, s, JSTREAM_ERR_UNEXPECTED, s->p);
}

static void scan_done(jstream *js, scan *s)
{
    if (is_space(*s->p)) {
        skip_space(js, s);
        return;
    }
    fail(js, s, JSTREAM_ERR_TRAILING_DATA, s->p);
}

/* ---- strings ---------------------------------------------------------------------- */

static void string_end(jstream *js, scan *s)
{
    int capture = js->capture;
    token_end(js, s, s->p - 1);
    if (capture != CAP_NONE) {
        capture_end(js);
        js->capture = CAP_NONE;
    }
    if (!js->string_is_key) {
        value_end(js, s, s->p);
        return;
    }
    key_end(js, s, capture);
    js->state = ST_COLON;
    if (js->error == JSTREAM_OK && s->p + 1 < s->end && *s->p == ':') {
        s->p++; /* the common case, without a trip through scan_step */
        js->state = ST_VALUE;
        scan_value(js, s);
    }
}

static void utf8_lead(jstream *js, scan *s, uint8_t c)
{
    if (c < 0xC2 || c > 0xF4) {
        fail(js, s, JSTREAM_ERR_UTF8, s->p);
        return;
    }
    js->utf8_need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    js->utf8_lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    js->utf8_hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    js->utf8_seq[0] = c;
    js->utf8_len = 1;
    js->state = ST_UTF8;
    s->p++;
}

/* Marks (0x80 in its byte) the bytes of w that end a plain run: '"', '\\',
 * < 0x20 or >= 0x80. A borrow can only mark a byte above a marked one, so
 * the lowest mark is exact. */
static uint64_t plain_stops(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    uint64_t quote = w ^ (ones * '"');
    uint64_t backslash = w ^ (ones * '\\');
    return (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
            ((w - ones * 0x20) & ~w) | w) &
           highs;
}

#if defined(__SSE2__)
/* The first byte of the 16 at q that ends a plain run ('"', '\\', < 0x20 or
 * >= 0x80: below 0x20 as a signed byte), or NULL when all are plain. */
static const uint8_t *plain_stop_16(const uint8_t *q)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i low_or_high = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    unsigned stops =
        (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low_or_high));
    return stops != 0 ? q + __builtin_ctz(stops) : NULL;
}
#endif

/* End of the run of plain string bytes at q: sixteen at a time with SSE2,
 * then eight at a time while no byte in the word stops it (the first stop
 * found from its mark on a little-endian machine), then one at a time. */
static const uint8_t *plain_run_end(const uint8_t *q, const uint8_t *end)
{
#if defined(__SSE2__)
    while (end - q >= 16) {
        const uint8_t *stop = plain_stop_16(q);
        if (stop != NULL)
            return stop;
        q += 16;
    }
#endif
    while (end - q >= 8) {
        uint64_t w;
        uint64_t stops;
        memcpy(&w, q, sizeof(w));
        stops = plain_stops(w);
        if (stops != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return q + (unsigned)__builtin_ctzll(stops) / 8;
#else
            break;
#endif
        }
        q += 8;
    }
    while (q < end && string_plain[*q])
        q++;
    return q;
}

static void scan_string(jstream *js, scan *s)
{
    const uint8_t *q = plain_run_end(s->p, s->end);
    uint8_t c;
    if (js->capture != CAP_NONE && q > s->p)
        capture_text(js, s->p, (size_t)(q - s->p), 1);
    s->p = q;
    if (q == s->end)
        return;
    c = *q;
    if (c == '"') {
        s->p++;
        string_end(js, s);
    } else if (c == '\\') {
        s->p++;
        js->record_escaped = 1; /* outside a record it does not matter */
        js->state = ST_ESCAPE;
    } else if (c < 0x20) {
        fail(js, s, JSTREAM_ERR_CONTROL_CHAR, q);
    } else {
        utf8_lead(js, s, c);
    }
}

static void scan_utf8(jstream *js, scan *s)
{
    uint8_t c = *s->p;
    if (c < js->utf8_lo || c > js->utf8_hi) {
        fail(js, s, JSTREAM_ERR_UTF8, s->p);
        return;
    }
    js->utf8_lo = 0x80;
    js->utf8_hi = 0xBF;
    js->utf8_seq[js->utf8_len++] = c;
    s->p++;
    if (--js->utf8_need == 0) {
        if (js->capture != CAP_NONE)
            capture_text(js, js->utf8_seq, (size_t)js->utf8_len, 0);
        js->state = ST_STRING;
    }
}

static void scan_escape(jstream *js, scan *s)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    uint8_t c = *s->p;
    const char *hit = c != 0 ? strchr(from, c) : NULL;
    if (c == 'u') {
        js->escape_digits = 0;
        js->escape_cp = 0;
        js->state = ST_UNICODE;
    } else if (hit != NULL) {
        if (js->capture != CAP_NONE)
            capture_escape(js, (uint8_t)to[hit - from]);
        js->state = ST_STRING;
    } else {
        fail(js, s, JSTREAM_ERR_ESCAPE, s->p);
        return;
    }
    s->p++;
}

static void scan_unicode(jstream *js, scan *s)
{
    int digit = text_hex_value(*s->p);
    if (digit < 0) {
        fail(js, s, JSTREAM_ERR_ESCAPE, s->p);
        return;
    }
    js->escape_cp = js->escape_cp << 4 | (uint32_t)digit;
    s->p++;
    if (++js->escape_digits == 4) {
        if (js->capture != CAP_NONE)
            capture_escape(js, js->escape_cp);
        js->state = ST_STRING;
    }
}

/* ---- numbers and literals ------------------------------------------------------------ */

static void number_end(jstream *js, scan *s)
{
    if (js->scalar_active) {
        scalar_finish(js);
        if (js->error != JSTREAM_OK)
            return;
    }
    token_end(js, s, s->p);
    value_end(js, s, s->p);
}

static void scan_number(jstream *js, scan *s)
{
    const uint8_t *q = s->p;
    int state = js->number_state;
    int next = N_END;
    while (q < s->end) {
        if (state == N_MINUS && *q == 'I' && specials_allowed(js)) {
            js->scalar_active = 0;
            js->literal_word = LIT_INFINITY;
            js->literal_len = 0;
            js->state = ST_LITERAL;
            s->p = q;
            return;
        }
        if (state == N_INT || state == N_FRAC || state == N_EXP_DIGITS) {
            while (q < s->end && (uint8_t)(*q - '0') < 10)
                q++;
            if (q == s->end)
                break;
        }
        next = number_next[state][number_class[*q]];
        if (next >= N_END)
            break;
        state = next;
        q++;
    }
    if (js->scalar_active)
        scalar_keep(js, s->p, q);
    js->number_state = state;
    s->p = q;
    if (q == s->end)
        return;
    if (next == N_BAD) {
        fail(js, s, JSTREAM_ERR_NUMBER, q);
        return;
    }
    number_end(js, s);
}

static void scan_literal(jstream *js, scan *s)
{
    const literal_word *word = &literal_words[js->literal_word];
    while (s->p < s->end) {
        uint8_t c = *s->p;
        if (js->literal_len == word->len) {
            if (is_word_char(c)) {
                fail(js, s, JSTREAM_ERR_LITERAL, s->p);
                return;
            }
            token_end(js, s, s->p);
            value_end(js, s, s->p);
            return;
        }
        if (c != (uint8_t)word->text[js->literal_len]) {
            fail(js, s, JSTREAM_ERR_LITERAL, s->p);
            return;
        }
        js->literal_len++;
        s->p++;
    }
}

/* ---- the record fast path ---------------------------------------------------------------- */

/* The common tokens inside a record - keys, ':', plain strings, numbers,
 * literals, brackets and ',' of compact JSON - are taken by one loop, with
 * the scanner's state in locals, instead of a trip through scan_step per
 * token. It takes a token only when the token and the byte that ends it lie
 * before fast.limit, and leaves the first one it does not take (whitespace,
 * an escape, a split or invalid token, the record's own closing bracket, an
 * "_id" member's value, a full tokens[]) to the general state machine,
 * unconsumed: the state it leaves is the one the general path would have
 * reached, so results do not depend on which path took a token. */
typedef struct {
    jstream *js;
    const uint8_t *p;     /* next byte */
    const uint8_t *limit; /* bytes from here on are left to the general path */
    uintptr_t origin;     /* the address a record offset is counted from */
    int state;
    int depth;
    int count; /* token_count */
    int open;  /* token_open */
} fast;

/* Bytes below the limit have record offsets below JSTREAM_RECORD_MAX, so
 * the fast path's positions never need record_pos()'s clamp. */
static const uint8_t *fast_limit(const jstream *js, const scan *s)
{
    size_t room = JSTREAM_RECORD_MAX - js->record_len;
    if ((size_t)(s->end - s->copy_from) > room)
        return s->copy_from + room;
    return s->end;
}

/* Offset in record[] of the byte at `at` (below the limit): record_pos()
 * without its clamp, as one subtraction from copy_from - record_len. */
static int fast_pos(const fast *f, const uint8_t *at)
{
    return (int)((uintptr_t)at - f->origin);
}

/* Length of the valid UTF-8 character at q (lead byte >= 0x80) when it is
 * whole before limit; 0 otherwise (the general path reports or resumes). */
static size_t fast_utf8(const uint8_t *q, const uint8_t *limit)
{
    uint8_t c = q[0];
    size_t need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    uint8_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    uint8_t hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    size_t i;
    if (c < 0xC2 || c > 0xF4 || (size_t)(limit - q) <= need)
        return 0;
    for (i = 1; i <= need; i++) {
        if (q[i] < lo || q[i] > hi)
            return 0;
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

/* The closing quote of the string whose text starts at q, if the string
 * has no escape or control character, is valid UTF-8 and closes before
 * limit; NULL otherwise. */
static const uint8_t *fast_string_close(const uint8_t *q, const uint8_t *limit)
{
    for (;;) {
        size_t n;
        q = plain_run_end(q, limit);
        if (q == limit || *q == '"')
            return q == limit ? NULL : q;
        if (*q < 0x80)
            return NULL; /* a backslash or a control character */
        n = fast_utf8(q, limit);
        if (n == 0)
            return NULL;
        q += n;
    }
}

/* The delimiter after the valid number at p, if it is before limit; NULL
 * for an invalid or unfinished number (and "-Infinity"). */
static const uint8_t *fast_number_end(const uint8_t *p, const uint8_t *limit)
{
    const uint8_t *q = p + 1;
    int state = *p == '-' ? N_MINUS : *p == '0' ? N_ZERO : N_INT;
    while (q < limit) {
        int next;
        if (state == N_INT || state == N_FRAC || state == N_EXP_DIGITS) {
            while (q < limit && (uint8_t)(*q - '0') < 10)
                q++;
            if (q == limit)
                return NULL;
        }
        next = number_next[state][number_class[*q]];
        if (next == N_END)
            return q;
        if (next == N_BAD)
            return NULL;
        state = next;
        q++;
    }
    return NULL;
}

/* The byte after the literal true, false or null at p, if it is whole and
 * delimited before limit; NULL otherwise. */
static const uint8_t *fast_literal_end(const uint8_t *p, const uint8_t *limit)
{
    const literal_word *word = &literal_words[*p == 't'   ? LIT_TRUE
                                              : *p == 'f' ? LIT_FALSE
                                                          : LIT_NULL];
    size_t len = (size_t)word->len;
    if ((size_t)(limit - p) <= len || memcmp(p, word->text, len) != 0 || is_word_char(p[len]))
        return NULL;
    return p + len;
}

/* Writes token f->count (end -1 while a container is open); token_add()
 * with the fast path's count. */
static void fast_token(fast *f, jsmntype_t type, int start, int end, int parent)
{
    jsmntok_t *t = &f->js->tokens[f->count++];
    t->type = type;
    t->start = start;
    t->end = end;
    t->size = 0;
    t->parent = parent;
}

/* A key whose quote is at f->p; 0 when left to the general path. A member
 * "_id" of the record itself is taken, but sets id_pending and returns 0:
 * its value is the general path's. */
static int fast_key(fast *f)
{
    const uint8_t *q = fast_string_close(f->p + 1, f->limit);
    const uint8_t *text = f->p + 1;
    if (q == NULL || f->count == JSTREAM_TOKENS_MAX)
        return 0;
    f->js->tokens[f->open].size++;
    fast_token(f, JSMN_STRING, fast_pos(f, text), fast_pos(f, q), f->open);
    f->p = q + 1;
    f->state = ST_COLON;
    if (q - text == 3 && text[0] == '_' && text[1] == 'i' && text[2] == 'd' &&
        f->depth == f->js->record_depth + 1) {
        f->js->id_pending = 1;
        return 0;
    }
    return 1;
}

/* The token of a value (token_value()): its parent is its key in an
 * object, else the array. */
static inline void fast_value_token(fast *f, jsmntype_t type, int start, int end)
{
    jstream *js = f->js;
    int parent;
    if (js->stack[f->depth] == CONTAINER_OBJECT) {
        parent = f->count - 1;
        js->tokens[parent].size = 1;
    } else {
        parent = f->open;
        js->tokens[parent].size++;
    }
    fast_token(f, type, start, end, parent);
}

/* '{' or '[' at f->p; 0 when left to the general path (too deep). */
static int fast_open(fast *f, int container)
{
    jstream *js = f->js;
    if (f->depth == JSTREAM_DEPTH_MAX)
        return 0;
    fast_value_token(f, container == CONTAINER_OBJECT ? JSMN_OBJECT : JSMN_ARRAY, fast_pos(f, f->p),
                     -1);
    f->open = f->count - 1;
    js->stack[++f->depth] = (uint8_t)container;
    f->state = container == CONTAINER_OBJECT ? ST_KEY_OR_CLOSE : ST_VALUE_OR_CLOSE;
    f->p++;
    return 1;
}

/* A string, number or literal at f->p; 0 when left to the general path. */
static int fast_scalar(fast *f)
{
    uint8_t c = *f->p;
    const uint8_t *end;
    int start = fast_pos(f, f->p);
    if (c == '"') {
        end = fast_string_close(f->p + 1, f->limit);
        start++;
    } else if (c == '-' || (uint8_t)(c - '0') < 10) {
        end = fast_number_end(f->p, f->limit);
    } else if (c == 't' || c == 'f' || c == 'n') {
        end = fast_literal_end(f->p, f->limit);
    } else {
        return 0;
    }
    if (end == NULL)
        return 0;
    fast_value_token(f, c == '"' ? JSMN_STRING : JSMN_PRIMITIVE, start, fast_pos(f, end));
    f->p = c == '"' ? end + 1 : end;
    f->state = ST_AFTER_VALUE;
    return 1;
}

/* A value at f->p (state ST_VALUE or ST_VALUE_OR_CLOSE). */
static int fast_value(fast *f)
{
    uint8_t c = *f->p;
    if (f->count == JSTREAM_TOKENS_MAX)
        return 0;
    if (c == '{' || c == '[')
        return fast_open(f, c == '{' ? CONTAINER_OBJECT : CONTAINER_ARRAY);
    return fast_scalar(f);
}

/* The closing bracket at f->p of the innermost container (token_close());
 * 0 when left to the general path: a mismatch, or the record's own end. */
static int fast_close(fast *f, int container)
{
    jstream *js = f->js;
    jsmntok_t *t;
    int up;
    if (js->stack[f->depth] != container || f->depth - 1 == js->record_depth)
        return 0;
    f->p++;
    t = &js->tokens[f->open];
    t->end = fast_pos(f, f->p);
    up = t->parent; /* not the record's own token: >= 0 */
    if (js->tokens[up].type == JSMN_STRING)
        up = js->tokens[up].parent;
    f->open = up;
    f->depth--;
    f->state = ST_AFTER_VALUE;
    return 1;
}

/* ',' or a closing bracket after a value. */
static inline int fast_after_value(fast *f)
{
    uint8_t c = *f->p;
    if (c == ',') {
        f->p++;
        f->state = f->js->stack[f->depth] == CONTAINER_OBJECT ? ST_KEY : ST_VALUE;
        return 1;
    }
    if (c == '}' || c == ']')
        return fast_close(f, c == '}' ? CONTAINER_OBJECT : CONTAINER_ARRAY);
    return 0;
}

/* A value at f->p and the ',' or bracket after it; 0 when something is
 * left to the general path (or the limit is reached). */
static int fast_element(fast *f)
{
    if (!fast_value(f))
        return 0;
    if (f->state != ST_AFTER_VALUE)
        return 1; /* a container opened */
    return f->p < f->limit && fast_after_value(f);
}

/* A ':' at f->p, then the value and what follows it. */
static int fast_colon(fast *f)
{
    if (*f->p != ':')
        return 0;
    f->p++;
    f->state = ST_VALUE;
    return f->p < f->limit && fast_element(f);
}

/* A member from its key's quote at f->p: the key, ':', the value and the
 * ',' or bracket after it, without a return to the loop between them. */
static int fast_member(fast *f)
{
    return fast_key(f) && f->p < f->limit && fast_colon(f);
}

/* Members from a key's quote at f->p, one after another while a ',' leads
 * to the next key. */
static int fast_members(fast *f)
{
    while (fast_member(f))
        if (f->state != ST_KEY || f->p == f->limit || *f->p != '"')
            return 1;
    return 0;
}

/* What the fast path's state allows at f->p, as far as it goes; 0 when the
 * rest is left to the general path. */
static int fast_step(fast *f)
{
    uint8_t c = *f->p;
    switch (f->state) {
    case ST_AFTER_VALUE:
        return fast_after_value(f);
    case ST_KEY:
    case ST_KEY_OR_CLOSE:
        if (c == '"')
            return fast_members(f);
        return c == '}' && f->state == ST_KEY_OR_CLOSE && fast_close(f, CONTAINER_OBJECT);
    case ST_COLON:
        return fast_colon(f);
    case ST_VALUE_OR_CLOSE:
        if (c == ']')
            return fast_close(f, CONTAINER_ARRAY);
        return fast_element(f);
    default: /* ST_VALUE */
        return fast_element(f);
    }
}

/* Takes the tokens it can from s->p on (fast_ready() holds), then hands
 * the scanner back to the general path in the state reached. */
static void fast_record(jstream *js, scan *s)
{
    fast f;
    f.js = js;
    f.p = s->p;
    f.limit = fast_limit(js, s);
    f.origin = (uintptr_t)s->copy_from - js->record_len;
    f.state = js->state;
    f.depth = js->depth;
    f.count = js->token_count;
    f.open = js->token_open;
    while (f.p < f.limit && fast_step(&f))
        ;
    s->p = f.p;
    js->state = f.state;
    js->depth = f.depth;
    js->token_count = f.count;
    js->token_open = f.open;
}

/* ---- the public functions --------------------------------------------------------------- */

static void scan_step(jstream *js, scan *s)
{
    if (js->state <= ST_AFTER_VALUE && fast_ready(js, s)) {
        fast_record(js, s);
        if (s->p == s->end)
            return;
    }
    switch (js->state) {
    case ST_STRING:
        scan_string(js, s);
        break;
    case ST_VALUE:
    case ST_VALUE_OR_CLOSE:
        scan_value(js, s);
        break;
    case ST_AFTER_VALUE:
        scan_after_value(js, s);
        break;
    case ST_KEY:
    case ST_KEY_OR_CLOSE:
        scan_key(js, s);
        break;
    case ST_COLON:
        scan_colon(js, s);
        break;
    case ST_NUMBER:
        scan_number(js, s);
        break;
    case ST_LITERAL:
        scan_literal(js, s);
        break;
    case ST_ESCAPE:
        scan_escape(js, s);
        break;
    case ST_UNICODE:
        scan_unicode(js, s);
        break;
    case ST_UTF8:
        scan_utf8(js, s);
        break;
    default:
        scan_done(js, s);
        break;
    }
}

const char *jstream_strerror(jstream_status status)
{
    switch (status) {
    case JSTREAM_OK:
        return "no error";
    case JSTREAM_ERR_UNEXPECTED:
        return "unexpected character";
    case JSTREAM_ERR_TRAILING_COMMA:
        return "trailing comma";
    case JSTREAM_ERR_LITERAL:
        return "invalid literal (true, false or null expected)";
    case JSTREAM_ERR_NUMBER:
        return "invalid number";
    case JSTREAM_ERR_CONTROL_CHAR:
        return "raw control character in a string";
    case JSTREAM_ERR_ESCAPE:
        return "invalid escape sequence in a string";
    case JSTREAM_ERR_UTF8:
        return "invalid UTF-8";
    case JSTREAM_ERR_DEPTH:
        return "nested deeper than JSTREAM_DEPTH_MAX";
    case JSTREAM_ERR_TRAILING_DATA:
        return "data after the end of the JSON value";
    case JSTREAM_ERR_TRUNCATED:
        return "the body ended inside the JSON value";
    case JSTREAM_ERR_SHAPE:
        return "unexpected response shape";
    case JSTREAM_ERR_RECORD_TOO_LARGE:
        return "record larger than JSTREAM_RECORD_MAX";
    case JSTREAM_ERR_TOO_MANY_TOKENS:
        return "record with more than JSTREAM_TOKENS_MAX JSON tokens";
    case JSTREAM_ERR_TOO_MANY_APPS:
        return "more than JSTREAM_APPS_MAX apps";
    case JSTREAM_ERR_ABORTED:
        return "stopped by the record callback";
    }
    return "unknown jstream status";
}

void jstream_init(jstream *js, jstream_envelope envelope)
{
    memset(js, 0, offsetof(jstream, apps));
    js->envelope = envelope;
    js->state = ST_VALUE;
    js->record[0] = '\0';
}

jstream_status jstream_feed(jstream *js, const uint8_t *data, size_t len,
                            jstream_record_fn on_record, void *user)
{
    scan s;
    if (js->error != JSTREAM_OK || len == 0)
        return js->error;
    s.data = data;
    s.p = data;
    s.end = data + len;
    s.base = js->offset;
    s.on_record = on_record;
    s.user = user;
    s.copy_from = js->in_record && !js->record_skip ? data : NULL;
    while (s.p < s.end && js->error == JSTREAM_OK)
        scan_step(js, &s);
    if (js->error == JSTREAM_OK && s.copy_from != NULL)
        record_copy(js, &s, s.copy_from, s.end);
    js->offset = scan_offset(&s, s.p);
    return js->error;
}

jstream_status jstream_finish(jstream *js)
{
    if (js->error == JSTREAM_OK && js->state != ST_DONE)
        fail_at(js, JSTREAM_ERR_TRUNCATED, js->offset);
    return js->error;
}

/* " (record N, _id \"X\")" for an error inside a record, else "". */
static void describe_context(const jstream *js, char *out, size_t cap)
{
    if (!js->error_in_record)
        out[0] = '\0';
    else if (js->record_id[0] != '\0')
        snprintf(out, cap, " (record %lu, _id \"%s\")", js->error_record, js->record_id);
    else
        snprintf(out, cap, " (record %lu)", js->error_record);
}

/* "record N (_id \"X\")", or "record N" when its _id was not seen. */
static void describe_record(const jstream *js, char *out, size_t cap)
{
    if (js->record_id[0] != '\0')
        snprintf(out, cap, "record %lu (_id \"%s\")", js->error_record, js->record_id);
    else
        snprintf(out, cap, "record %lu", js->error_record);
}

static int describe_limit(const jstream *js, char *out, size_t cap)
{
    char name[JSTREAM_ID_MAX + 64];
    describe_record(js, name, sizeof(name));
    switch (js->error) {
    case JSTREAM_ERR_RECORD_TOO_LARGE:
        return snprintf(out, cap, "%s is larger than JSTREAM_RECORD_MAX (%d bytes)", name,
                        JSTREAM_RECORD_MAX);
    case JSTREAM_ERR_TOO_MANY_TOKENS:
        return snprintf(out, cap, "%s has more than JSTREAM_TOKENS_MAX (%d) JSON tokens", name,
                        JSTREAM_TOKENS_MAX);
    default:
        return snprintf(out, cap, "%s: stopped by the record callback", name);
    }
}

size_t jstream_describe(const jstream *js, char *out, size_t cap)
{
    char where[JSTREAM_ID_MAX + 64];
    const char *what = js->reason != NULL ? js->reason : jstream_strerror(js->error);
    int n;
    if (cap == 0)
        return 0;
    describe_context(js, where, sizeof(where));
    switch (js->error) {
    case JSTREAM_OK:
        n = snprintf(out, cap, "%s", "no error");
        break;
    case JSTREAM_ERR_SHAPE:
        n = snprintf(out, cap, "unexpected response shape at byte %" PRIu64 ": %s",
                     js->error_offset, what);
        break;
    case JSTREAM_ERR_RECORD_TOO_LARGE:
    case JSTREAM_ERR_TOO_MANY_TOKENS:
    case JSTREAM_ERR_ABORTED:
        n = describe_limit(js, out, cap);
        break;
    case JSTREAM_ERR_TOO_MANY_APPS:
        n = snprintf(out, cap, "more than JSTREAM_APPS_MAX (%d) apps, at byte %" PRIu64,
                     JSTREAM_APPS_MAX, js->error_offset);
        break;
    default:
        n = snprintf(out, cap, "invalid JSON at byte %" PRIu64 "%s: %s", js->error_offset, where,
                     what);
        break;
    }
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

int jstream_token_next(const jstream_record *record, int t)
{
    int end = record->tokens[t].end;
    int next = t + 1;
    while (next < record->token_count && record->tokens[next].start < end)
        next++;
    return next;
}
