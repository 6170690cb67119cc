/*
 * map.c - one record to one CSV row (contract in map.h).
 *
 * A record is mapped in three steps:
 *   scan    walk the top-level keys once: a key that is a column's source
 *           sets that column's value token (a later one wins), a secret is
 *           dropped, anything else joins the metadata list (a repeated key
 *           keeps only its last occurrence, at that position);
 *   check   (pass 1) render every column without writing: numbers are
 *           parsed, sizes are bounded; the first error ends the record;
 *   write   (pass 2) render each column again and hand it to the sink.
 * So a bad value never leaves half a row behind.
 *
 * Sizes. A string value re-serialized (decoded, then minimally escaped) is
 * never longer than its source text: a raw byte stays one byte, "\X" (2)
 * becomes at most 2, "\uXXXX" (6) at most 6 ("\u00XX" again), a surrogate
 * pair (12) 4 and an HTML entity (4..6) at most 2 ("\""). Whitespace is only
 * dropped. Hence any text, JSON or metadata value is at most as long as the
 * record text it comes from, and pass 1 renders a value into the scratch
 * only when that bound exceeds MAP_FIELD_MAX (never with the defaults).
 * This relies on jstream's validation (no raw control characters in
 * strings); for text that breaks it, pass 2 still stops at MAP_FIELD_MAX.
 *
 * Speed. A record's escape bytes (backslash, and '&' where entities are
 * decoded) are found once, 8 bytes at a time, and kept as a short list of
 * offsets (a plain record from jstream has none to look for unless
 * entities are decoded); with more than DIRTY_MAX of them each string is
 * tested by its own bytes instead. A compact record's text is its own
 * re-serialization wherever no escape byte lies, so such strings, JSON
 * values and metadata members are used or copied as they stand (clean
 * members next to each other as one run) and only the rest is decoded and
 * re-escaped. Keys are looked up by hash in the mapper's table of the
 * sources, fallbacks and secrets (map_init builds it); an earlier metadata
 * key of the same text is looked for only when the key's filter bit was
 * seen. Values pass 1 renders exactly and outside the scratch (numbers,
 * timestamps, plain strings, clean JSON) are reused by pass 2.
 *
 * Decisions the README's tables leave open:
 *   - APPS_MINE uses the APPS_DB column table: /o/apps/all and mine never send
 *     created_at or edited_at, so those columns are NULL; were a server to
 *     send them they would be read, not pushed into metadata.
 *   - Secrets (salt, checksum_salt, api_key) are dropped as top-level keys
 *     of a record. A nested key of that name (custom.api_key, a user's
 *     custom property) is data, not a server secret, and is kept.
 *   - Keys are compared after decoding (with HTML entities where the table
 *     decodes them), so "\u005fid" is "_id".
 *   - A number in a text column is written as its JSON text ("1e3" stays
 *     "1e3"); integers and timestamps are exact decimal truncations.
 *   - icon is NULL when app_id is NULL or no server_url was given.
 *   - After an error, the scratch `field` holds the description of the
 *     offending value that map_describe prints.
 */
#include "map.h"

#include <stdio.h>
#include <string.h>

#include "civil_time.h"
#include "json_string.h"
#include "text.h"

/* Longest value excerpt shown by map_describe (then "..."). */
#define EXCERPT_MAX 40

#define ICON_PREFIX     "/appimages/"
#define ICON_PREFIX_LEN 11
#define ICON_SUFFIX     ".png"
#define ICON_SUFFIX_LEN 4

/* ---- column tables -------------------------------------------------------------- */

typedef enum {
    KIND_ID,           /* text; "ObjectId(<hex>)" -> "<hex>" */
    KIND_TEXT,         /* decoded string, or another value's compact JSON */
    KIND_INTEGER,      /* JSON number truncated toward zero */
    KIND_TIMESTAMP,    /* unix seconds (10 digits) or ms (13) -> ISO 8601 */
    KIND_JSON,         /* compact JSON */
    KIND_METADATA,     /* every other top-level key, as one JSON object */
    KIND_PROCESSED_AT, /* the run start */
    KIND_ICON,         /* server_url + "/appimages/" + column 0 + ".png" */
    KIND_APP_ID,       /* the context's app id */
    KIND_COUNT         /* integer from source, else the length of the fallback array */
} column_kind;

typedef struct {
    const char *source; /* top-level key read, NULL if none */
    size_t source_len;
    column_kind kind;
    const char *fallback; /* KIND_COUNT: array counted when source is absent */
    size_t fallback_len;
} map_column;

typedef struct {
    const char *name; /* for messages */
    const char *const *header;
    const map_column *columns;
    size_t count;
    unsigned flags; /* json_string decode flags */
} map_table_def;

static const char *const apps_header[] = {"app_id",   "name",       "key",
                                          "timezone", "created_at", "updated_at",
                                          "icon",     "metadata",   "processed_at"};
static const map_column apps_columns[] = {
    {"_id", 3, KIND_ID, NULL, 0},
    {"name", 4, KIND_TEXT, NULL, 0},
    {"key", 3, KIND_TEXT, NULL, 0},
    {"timezone", 8, KIND_TEXT, NULL, 0},
    {"created_at", 10, KIND_TIMESTAMP, NULL, 0},
    {"edited_at", 9, KIND_TIMESTAMP, NULL, 0},
    {NULL, 0, KIND_ICON, NULL, 0},
    {NULL, 0, KIND_METADATA, NULL, 0},
    {NULL, 0, KIND_PROCESSED_AT, NULL, 0},
};

static const char *const groups_header[] = {"group_id",   "name",        "description",
                                            "user_count", "created_at",  "updated_at",
                                            "metadata",   "processed_at"};
static const map_column groups_columns[] = {
    {"_id", 3, KIND_ID, NULL, 0},
    {"name", 4, KIND_TEXT, NULL, 0},
    {"description", 11, KIND_TEXT, NULL, 0},
    {"matched_users_count", 19, KIND_COUNT, "users", 5},
    {"created_at", 10, KIND_TIMESTAMP, NULL, 0},
    {"updated_at", 10, KIND_TIMESTAMP, NULL, 0},
    {NULL, 0, KIND_METADATA, NULL, 0},
    {NULL, 0, KIND_PROCESSED_AT, NULL, 0},
};

static const char *const users_header[] = {
    "user_id",      "app_id",        "device_id", "username",      "email",
    "organization", "phone",         "picture",   "gender",        "byear",
    "custom_data",  "first_seen",    "last_seen", "session_count", "total_session_duration",
    "processed_at", "last_activity", "metadata"};
static const map_column users_columns[] = {
    {"_id", 3, KIND_ID, NULL, 0},        {NULL, 0, KIND_APP_ID, NULL, 0},
    {"did", 3, KIND_TEXT, NULL, 0},      {"name", 4, KIND_TEXT, NULL, 0},
    {"email", 5, KIND_TEXT, NULL, 0},    {"organization", 12, KIND_TEXT, NULL, 0},
    {"phone", 5, KIND_TEXT, NULL, 0},    {"picture", 7, KIND_TEXT, NULL, 0},
    {"gender", 6, KIND_TEXT, NULL, 0},   {"byear", 5, KIND_INTEGER, NULL, 0},
    {"custom", 6, KIND_JSON, NULL, 0},   {"fs", 2, KIND_TIMESTAMP, NULL, 0},
    {"ls", 2, KIND_TIMESTAMP, NULL, 0},  {"sc", 2, KIND_INTEGER, NULL, 0},
    {"tsd", 3, KIND_INTEGER, NULL, 0},   {NULL, 0, KIND_PROCESSED_AT, NULL, 0},
    {"lac", 3, KIND_TIMESTAMP, NULL, 0}, {NULL, 0, KIND_METADATA, NULL, 0},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const map_table_def table_defs[] = {
    {"apps", apps_header, apps_columns, COUNT_OF(apps_columns), 0},
    {"apps", apps_header, apps_columns, COUNT_OF(apps_columns), JSON_STRING_HTML},
    {"groups", groups_header, groups_columns, COUNT_OF(groups_columns), JSON_STRING_HTML},
    {"users", users_header, users_columns, COUNT_OF(users_columns), 0},
};

/* Top-level keys never written anywhere. */
typedef struct {
    const char *text;
    size_t len;
} map_key;

static const map_key secret_keys[] = {{"salt", 4}, {"checksum_salt", 13}, {"api_key", 7}};

static const map_table_def *table_def(map_table table)
{
    size_t i = (size_t)table;
    return i < COUNT_OF(table_defs) ? &table_defs[i] : &table_defs[MAP_TABLE_USERS];
}

const char *map_strerror(map_status status)
{
    switch (status) {
    case MAP_OK:
        return "ok";
    case MAP_ERR_NOT_OBJECT:
        return "record is not a JSON object";
    case MAP_ERR_TYPE:
        return "value has the wrong type for its column";
    case MAP_ERR_TIMESTAMP:
        return "value is not a unix timestamp in seconds (10 digits) or milliseconds (13 digits)";
    case MAP_ERR_RANGE:
        return "integer outside the 64-bit range";
    case MAP_ERR_NO_ROOM:
        return "value longer than MAP_FIELD_MAX (" OPTIONS_TEXT(
            MAP_FIELD_MAX) " bytes) once decoded";
    case MAP_ERR_SINK:
        return "the CSV sink failed";
    case MAP_ERR_GATE:
        return "the row was refused by its gate";
    }
    return "unknown map status";
}

const char *const *map_header(map_table table, size_t *count)
{
    const map_table_def *def = table_def(table);
    *count = def->count;
    return def->header;
}

static void key_table_init(map_mapper *m, const map_table_def *def);

void map_init(map_mapper *mapper, map_table table, const map_context *ctx)
{
    mapper->table = table;
    mapper->ctx = *ctx;
    mapper->replaced = 0;
    mapper->sink_status = CSV_OK;
    mapper->error_column = NULL;
    mapper->error_id[0] = '\0';
    mapper->metadata_count = 0;
    mapper->field[0] = '\0';
    mapper->processed_len = 0;
    key_table_init(mapper, table_def(table));
}

/* ---- one record's state ------------------------------------------------------------ */

/* Positions of escape bytes a record lists at most; a record with more
 * tests each string's bytes when it is used. */
#define DIRTY_MAX 32

/* Bits of the filter of metadata key hashes seen in a record. */
#define METADATA_SEEN_WORDS 8

/* A rendered value: text == NULL is a NULL field. */
typedef struct {
    const char *text;
    size_t len;
    int final; /* pass 1 rendered it exactly, outside the scratch: pass 2 reuses it */
    int bare;  /* a number or a timestamp: the CSV sink need not look for quotes */
} map_value;

typedef struct {
    map_mapper *m;
    const map_table_def *def;
    const char *json;
    const jsmntok_t *tok;
    int count;
    int fallback_token[MAP_COLUMNS_MAX];
    uint32_t *metadata_sig;                      /* key_hash of each metadata key */
    uint64_t metadata_seen[METADATA_SEEN_WORDS]; /* bits of the hashes seen so far */
    int compact;                                 /* no whitespace outside strings */
    int dirty_count;                             /* escape bytes listed in dirty[], -1: too many */
    int dirty[DIRTY_MAX];               /* offsets of '\\' (and '&' where decoded), ascending */
    int dry;                            /* pass 1: check, write nothing */
    unsigned long replaced;             /* U+FFFD substitutions of this pass */
    int error_token;                    /* token behind the error, -1 if none */
    char *number;                       /* the current column's numbers[] */
    char numbers[MAP_COLUMNS_MAX][24];  /* integer and timestamp text per column */
    map_value checked[MAP_COLUMNS_MAX]; /* pass 1's values */
} map_view;

/* Output into the scratch field. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    const map_view *v;
    unsigned long *replaced;
} map_out;

static const char *token_text(const map_view *v, int t)
{
    return v->json + v->tok[t].start;
}

static size_t token_len(const map_view *v, int t)
{
    return (size_t)(v->tok[t].end - v->tok[t].start);
}

/* Offset of the start of token t's JSON text (a string's opening quote). */
static int token_first(const map_view *v, int t)
{
    return v->tok[t].start - (v->tok[t].type == JSMN_STRING ? 1 : 0);
}

/* Offset just past token t's JSON text (after a string's closing quote). */
static int token_last(const map_view *v, int t)
{
    return v->tok[t].end + (v->tok[t].type == JSMN_STRING ? 1 : 0);
}

/* Start of token t's JSON text (a string's opening quote). */
static const char *token_begin(const map_view *v, int t)
{
    return v->json + token_first(v, t);
}

/* Bytes of token t's JSON text (a string with its quotes). */
static size_t token_span(const map_view *v, int t)
{
    return (size_t)(token_last(v, t) - token_first(v, t));
}

static int token_is_null(const map_view *v, int t)
{
    return v->tok[t].type == JSMN_PRIMITIVE && v->json[v->tok[t].start] == 'n';
}

/* The token after the whole value at t. */
static int token_skip(const map_view *v, int t)
{
    int end = v->tok[t].end;
    int next = t + 1;
    while (next < v->count && v->tok[next].start < end)
        next++;
    return next;
}

/* A string body that decodes to itself (no escapes, no entities to decode). */
static int body_is_plain(const char *body, size_t len, unsigned flags)
{
    if (len < 16) {
        for (size_t i = 0; i < len; i++)
            if (body[i] == '\\' || (body[i] == '&' && (flags & JSON_STRING_HTML) != 0))
                return 0;
        return 1;
    }
    if (memchr(body, '\\', len) != NULL)
        return 0;
    return (flags & JSON_STRING_HTML) == 0 || memchr(body, '&', len) == NULL;
}

/* Length of the record's compact JSON text, from its tokens alone: leaves
 * (strings with quotes, numbers, literals), brackets, and the separators
 * (object of k pairs: k colons and k - 1 commas; array of k: k - 1 commas). */
static size_t compact_length(const map_view *v)
{
    size_t len = 0;
    for (int t = 0; t < v->count; t++) {
        const jsmntok_t *tok = &v->tok[t];
        size_t k = (size_t)tok->size;
        if (tok->type == JSMN_OBJECT)
            len += 2 + (k > 0 ? 2 * k - 1 : 0);
        else if (tok->type == JSMN_ARRAY)
            len += 2 + (k > 0 ? k - 1 : 0);
        else
            len += token_span(v, t);
    }
    return len;
}

/* Nonzero when one of the 8 bytes of word is byte (the "has zero byte"
 * test on word ^ byte repeated: exact about whether there is one). */
static uint64_t word_has_byte(uint64_t word, unsigned char byte)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t x = word ^ (ones * byte);
    return (x - ones) & ~x & (ones * 0x80);
}

/* An escape byte: '\\', or '&' where entities are decoded. */
static int is_dirty(char c, int html)
{
    return c == '\\' || (html && c == '&');
}

/* Lists the escape bytes of json[a, b); 0 (count -1) when DIRTY_MAX overflows. */
static int dirty_list(map_view *v, int a, int b, int html)
{
    for (int i = a; i < b; i++) {
        if (!is_dirty(v->json[i], html))
            continue;
        if (v->dirty_count >= DIRTY_MAX) {
            v->dirty_count = -1;
            return 0;
        }
        v->dirty[v->dirty_count++] = i;
    }
    return 1;
}

/* Nonzero when one of the 16 bytes at p is an escape byte. */
static uint64_t dirty_in_16(const char *p, int html)
{
    uint64_t w0;
    uint64_t w1;
    memcpy(&w0, p, sizeof w0);
    memcpy(&w1, p + 8, sizeof w1);
    uint64_t hit = word_has_byte(w0, '\\') | word_has_byte(w1, '\\');
    if (html)
        hit |= word_has_byte(w0, '&') | word_has_byte(w1, '&');
    return hit;
}

/* Finds the record's escape bytes once, 16 bytes at a time, so that each
 * string's or value's test is a look at a short list (dirty_count -1 when
 * there are too many to list: each is then tested by its bytes). */
static void dirty_scan(map_view *v, int html)
{
    int a = v->tok[0].start;
    int b = v->tok[0].end;
    int i = a;
    v->dirty_count = 0;
    for (; i + 16 <= b; i += 16)
        if (dirty_in_16(v->json + i, html) != 0 && !dirty_list(v, i, i + 16, html))
            return;
    (void)dirty_list(v, i, b, html);
}

/* Sorts out what the record needs: whether it is compact (a plain record,
 * jstream's, is; another is when its length is that of its tokens) and
 * where its escape bytes are (none in a plain record when no entities are
 * decoded). */
static void record_classify(map_view *v, int plain)
{
    int html = (v->def->flags & JSON_STRING_HTML) != 0;
    v->compact = plain || compact_length(v) == (size_t)(v->tok[0].end - v->tok[0].start);
    v->dirty_count = 0;
    if (!plain || html)
        dirty_scan(v, html);
}

/* 1 when json[a, b) holds no escape byte. */
static int span_plain(const map_view *v, int a, int b)
{
    if (v->dirty_count < 0)
        return body_is_plain(v->json + a, (size_t)(b - a), v->def->flags);
    for (int i = 0; i < v->dirty_count && v->dirty[i] < b; i++)
        if (v->dirty[i] >= a)
            return 0;
    return 1;
}

/* 1 when string token t decodes to its own bytes. */
static int string_plain(const map_view *v, int t)
{
    return v->dirty_count == 0 || span_plain(v, v->tok[t].start, v->tok[t].end);
}

/* 1 when json[a, b) is its own compact re-serialization: a compact record
 * and no escape byte in it. */
static int span_clean(const map_view *v, int a, int b)
{
    if (v->dirty_count == 0) /* the common case, without a call */
        return v->compact;
    return v->compact && span_plain(v, a, b);
}

/* 1 when the value at token t is its own re-serialization. */
static int token_clean(const map_view *v, int t)
{
    return span_clean(v, token_first(v, t), token_last(v, t));
}

/* ---- JSON output ------------------------------------------------------------------ */

/* Copies n bytes; short copies in 8-byte words (a fixed-size memcpy is one
 * load and one store), long ones by memcpy: a call per short copy costs. */
static void copy_bytes(char *out, const char *in, size_t n)
{
    if (n > 64) {
        memcpy(out, in, n);
        return;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        memcpy(out + i, in + i, 8);
    for (; i < n; i++)
        out[i] = in[i];
}

static int out_put(map_out *o, const char *s, size_t n)
{
    if (n > o->cap - o->len)
        return 0;
    copy_bytes(o->buf + o->len, s, n);
    o->len += n;
    return 1;
}

static int out_byte(map_out *o, char c)
{
    if (o->len >= o->cap)
        return 0;
    o->buf[o->len++] = c;
    return 1;
}

/* Structural text between strings, whitespace dropped. */
static int out_gap(map_out *o, const char *s, size_t n)
{
    if (o->v->compact)
        return out_put(o, s, n);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!out_put(o, s + start, i - start))
                return 0;
            start = i + 1;
        }
    }
    return out_put(o, s + start, n - start);
}

/* String token t, decoded and minimally re-escaped, in quotes. The decoded
 * text is moved to the end of the scratch and escaped in place from there
 * (json_string_escape allows it), so no second buffer is needed. */
static int out_string(map_out *o, int t)
{
    const char *body = token_text(o->v, t);
    size_t n = token_len(o->v, t);
    if (!out_byte(o, '"'))
        return 0;
    if (string_plain(o->v, t))
        return out_put(o, body, n) && out_byte(o, '"');
    size_t decoded = 0;
    size_t escaped = 0;
    char *at = o->buf + o->len;
    size_t room = o->cap - o->len;
    if (json_string_decode(body, n, o->v->def->flags, at, room, &decoded, o->replaced) !=
        JSON_STRING_OK)
        return 0;
    memmove(at + room - decoded, at, decoded);
    if (json_string_escape(at + room - decoded, decoded, at, room, &escaped) != JSON_STRING_OK)
        return 0;
    o->len += escaped;
    return out_byte(o, '"');
}

/* The value at token t as compact JSON: its own text where clean, else
 * strings re-serialized and whitespace dropped (in a compact record the
 * strings that decode to themselves stay in the runs copied as they are). */
static int out_value(map_out *o, int t)
{
    const map_view *v = o->v;
    const jsmntok_t *tok = &v->tok[t];
    if (tok->type == JSMN_STRING)
        return out_string(o, t);
    if ((tok->type != JSMN_OBJECT && tok->type != JSMN_ARRAY) || token_clean(v, t))
        return out_put(o, token_text(v, t), token_len(v, t));
    int pos = tok->start;
    int next = t + 1;
    for (; next < v->count && v->tok[next].start < tok->end; next++) {
        const jsmntok_t *s = &v->tok[next];
        if (s->type != JSMN_STRING || (v->compact && string_plain(v, next)))
            continue; /* numbers, literals and such strings are part of the gaps */
        if (!out_gap(o, v->json + pos, (size_t)(s->start - 1 - pos)) || !out_string(o, next))
            return 0;
        pos = s->end + 1;
    }
    return out_gap(o, v->json + pos, (size_t)(tok->end - pos));
}

static map_out scratch_out(map_view *v)
{
    map_out o = {v->m->field, MAP_FIELD_MAX, 0, v, &v->replaced};
    return o;
}

/* ---- keys ----------------------------------------------------------------------------- */

/* Key token t decoded into the scratch at offset at; 0 when it does not fit. */
static int key_decode(map_view *v, int t, size_t at, map_value *key)
{
    unsigned long ignored = 0;
    char *out = v->m->field + at;
    if (json_string_decode(token_text(v, t), token_len(v, t), v->def->flags, out,
                           MAP_FIELD_MAX - at, &key->len, &ignored) != JSON_STRING_OK)
        return 0;
    key->text = out;
    return 1;
}

/* Decoded text of key token t: its own bytes when plain, else decoded into
 * the scratch at offset at. Returns 0 when it does not fit. */
static int key_text(map_view *v, int t, size_t at, map_value *key)
{
    key->text = token_text(v, t);
    key->len = token_len(v, t);
    return string_plain(v, t) || key_decode(v, t, at, key);
}

/* 1 when key is name: a byte loop, as keys are short and a call costs more. */
static int key_is(const map_value *key, const char *name, size_t name_len)
{
    if (key->len != name_len)
        return 0;
    for (size_t i = 0; i < name_len; i++)
        if (key->text[i] != name[i])
            return 0;
    return 1;
}

/* FNV-1a of a decoded key: its slot in the key table, its metadata bit. */
static uint32_t key_hash(const char *text, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    return h;
}

/* First slot of the key table to probe for hash h. */
static size_t key_slot(uint32_t h)
{
    return (h ^ h >> 16) & (MAP_KEY_SLOTS - 1);
}

/* Key table entries: e < count is column e's source, count <= e < 2 * count
 * column (e - count)'s fallback, 2 * count + i secret key i. */
static map_key entry_key(const map_table_def *def, size_t e)
{
    map_key key = {NULL, 0};
    if (e < def->count) {
        key.text = def->columns[e].source;
        key.len = def->columns[e].source_len;
    } else if (e < 2 * def->count) {
        key.text = def->columns[e - def->count].fallback;
        key.len = def->columns[e - def->count].fallback_len;
    } else {
        key = secret_keys[e - 2 * def->count];
    }
    return key;
}

/* The entry of a decoded key (hash h) in the key table, -1 when none. */
static int key_entry(const map_mapper *m, const map_table_def *def, const map_value *key,
                     uint32_t h)
{
    for (size_t i = key_slot(h); m->key_entry[i] != 0; i = (i + 1) & (MAP_KEY_SLOTS - 1)) {
        if (m->key_hash[i] != h)
            continue;
        size_t e = (size_t)m->key_entry[i] - 1;
        map_key name = entry_key(def, e);
        if (key_is(key, name.text, name.len))
            return (int)e;
    }
    return -1;
}

/* Puts entry e (when it has a key) into the key table; a key already there
 * keeps its first entry (sources before fallbacks before secrets). */
static void key_table_put(map_mapper *m, const map_table_def *def, size_t e)
{
    map_key name = entry_key(def, e);
    if (name.text == NULL)
        return;
    uint32_t h = key_hash(name.text, name.len);
    size_t i = key_slot(h);
    for (; m->key_entry[i] != 0; i = (i + 1) & (MAP_KEY_SLOTS - 1)) {
        map_key other = entry_key(def, (size_t)m->key_entry[i] - 1);
        if (other.len == name.len && memcmp(other.text, name.text, name.len) == 0)
            return;
    }
    m->key_hash[i] = h;
    m->key_entry[i] = (uint8_t)(e + 1);
}

_Static_assert(2 * MAP_COLUMNS_MAX + COUNT_OF(secret_keys) < MAP_KEY_SLOTS,
               "the key table always has an empty slot");
_Static_assert(2 * MAP_COLUMNS_MAX + COUNT_OF(secret_keys) < 255, "entries fit a byte");

/* Fills the mapper's key table with the table's sources, fallbacks and secrets. */
static void key_table_init(map_mapper *m, const map_table_def *def)
{
    memset(m->key_entry, 0, sizeof m->key_entry);
    for (size_t e = 0; e < 2 * def->count + COUNT_OF(secret_keys); e++)
        key_table_put(m, def, e);
}

/* 1 when keys a and b decode to the same text; -1 when they do not fit the scratch. */
static int keys_equal(map_view *v, int a, int b)
{
    map_value ka;
    map_value kb;
    if (!key_text(v, a, 0, &ka))
        return -1;
    size_t used = ka.text == v->m->field ? ka.len : 0;
    if (!key_text(v, b, used, &kb))
        return -1;
    return ka.len == kb.len && memcmp(ka.text, kb.text, ka.len) == 0;
}

/* Appends key token t (decoded hash sig) to metadata, dropping an earlier
 * occurrence: only a key whose filter bit was seen is looked for. */
static map_status metadata_add(map_view *v, int t, uint32_t sig)
{
    map_mapper *m = v->m;
    uint32_t bit = sig >> 23; /* 0..511 */
    uint64_t mask = (uint64_t)1 << (bit & 63);
    int may_repeat = (v->metadata_seen[bit >> 6] & mask) != 0;
    v->metadata_seen[bit >> 6] |= mask;
    for (int i = 0; may_repeat && i < m->metadata_count; i++) {
        if (v->metadata_sig[i] != sig)
            continue;
        int same = keys_equal(v, m->metadata_token[i], t);
        if (same < 0)
            return MAP_ERR_NO_ROOM;
        if (same) {
            size_t rest = (size_t)(m->metadata_count - i - 1);
            memmove(&m->metadata_token[i], &m->metadata_token[i + 1], rest * sizeof(int));
            memmove(&v->metadata_sig[i], &v->metadata_sig[i + 1], rest * sizeof(uint32_t));
            m->metadata_count--;
            break;
        }
    }
    if ((size_t)m->metadata_count >= COUNT_OF(m->metadata_token))
        return MAP_ERR_NO_ROOM; /* cannot happen within JSTREAM_TOKENS_MAX tokens */
    m->metadata_token[m->metadata_count] = t;
    v->metadata_sig[m->metadata_count] = sig;
    m->metadata_count++;
    return MAP_OK;
}

static int key_is_secret(const map_value *key)
{
    for (size_t i = 0; i < COUNT_OF(secret_keys); i++)
        if (key_is(key, secret_keys[i].text, secret_keys[i].len))
            return 1;
    return 0;
}

/* A fallback key: it is every column's with that fallback. Returns 1 when
 * it stays in metadata (unless it is a secret too). */
static int scan_fallback(map_view *v, int t, const map_value *key)
{
    for (size_t c = 0; c < v->def->count; c++) {
        const map_column *col = &v->def->columns[c];
        if (col->fallback != NULL && key_is(key, col->fallback, col->fallback_len))
            v->fallback_token[c] = t + 1;
    }
    return !key_is_secret(key);
}

/* Sorts key token t: column source, fallback, secret or metadata. */
static map_status scan_key(map_view *v, int t)
{
    map_value key = {token_text(v, t), token_len(v, t), 0, 0};
    if (!string_plain(v, t) && !key_decode(v, t, 0, &key))
        return MAP_ERR_NO_ROOM;
    uint32_t h = key_hash(key.text, key.len);
    int e = key_entry(v->m, v->def, &key, h);
    size_t count = v->def->count;
    if (e >= 0 && (size_t)e < count) {
        v->m->column_token[e] = t + 1; /* sources are never fallbacks or secrets */
        return MAP_OK;
    }
    if (e >= 0 && ((size_t)e >= 2 * count || !scan_fallback(v, t, &key)))
        return MAP_OK; /* a secret */
    return metadata_add(v, t, h);
}

static map_status scan_record(map_view *v)
{
    map_mapper *m = v->m;
    for (size_t c = 0; c < MAP_COLUMNS_MAX; c++) {
        m->column_token[c] = -1;
        v->fallback_token[c] = -1;
    }
    m->metadata_count = 0;
    if (v->count < 1 || v->tok[0].type != JSMN_OBJECT)
        return MAP_ERR_NOT_OBJECT;
    int t = 1;
    for (int k = 0; k < v->tok[0].size && t + 1 < v->count; k++) {
        map_status status = scan_key(v, t);
        if (status != MAP_OK)
            return status;
        t = token_skip(v, t + 1);
    }
    return MAP_OK;
}

/* ---- numbers -------------------------------------------------------------------------- */

/* Writes value as decimal into out (24 bytes); returns the length. */
static size_t format_int64(int64_t value, char *out)
{
    char tmp[24];
    size_t n = 0;
    uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag != 0);
    size_t len = 0;
    if (value < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    return len;
}

/* Integer value of number token t. */
static map_status token_integer(const map_view *v, int t, int64_t *value)
{
    text_integer p;
    if (v->tok[t].type != JSMN_PRIMITIVE ||
        !text_json_integer(token_text(v, t), token_len(v, t), &p))
        return MAP_ERR_TYPE;
    uint64_t limit = p.negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (p.digits > 19 || p.magnitude > limit)
        return MAP_ERR_RANGE;
    if (p.negative)
        *value = p.magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)p.magnitude;
    else
        *value = (int64_t)p.magnitude;
    return MAP_OK;
}

/* Unix seconds of timestamp token t (10 digits, or 13 digits of ms). */
static map_status token_timestamp(const map_view *v, int t, int64_t *secs)
{
    text_integer p;
    if (v->tok[t].type != JSMN_PRIMITIVE ||
        !text_json_integer(token_text(v, t), token_len(v, t), &p))
        return MAP_ERR_TYPE;
    if (p.negative && p.magnitude != 0)
        return MAP_ERR_TIMESTAMP;
    if (p.digits == 10)
        *secs = (int64_t)p.magnitude;
    else if (p.digits == 13)
        *secs = (int64_t)(p.magnitude / 1000);
    else
        return MAP_ERR_TIMESTAMP;
    return MAP_OK;
}

/* ---- rendering one column --------------------------------------------------------------- */

static int token_missing(const map_view *v, int t)
{
    return t < 0 || token_is_null(v, t);
}

/* Pass 1 renders a value only when its size bound does not fit the scratch. */
static int need_exact(const map_view *v, size_t bound)
{
    return !v->dry || bound > MAP_FIELD_MAX;
}

/* Any value as compact JSON into the scratch (or its bound in pass 1). */
static map_status render_json(map_view *v, int t, map_value *val)
{
    int clean = token_clean(v, t);
    if (clean || !need_exact(v, token_span(v, t))) {
        val->text = token_begin(v, t);
        val->len = token_span(v, t);
        val->final = clean; /* else only a bound */
        return MAP_OK;
    }
    map_out o = scratch_out(v);
    if (!out_value(&o, t))
        return MAP_ERR_NO_ROOM;
    val->text = o.buf;
    val->len = o.len;
    return MAP_OK;
}

/* A string decoded; another value as its compact JSON. */
static map_status render_text(map_view *v, int t, int is_id, map_value *val)
{
    if (v->tok[t].type != JSMN_STRING)
        return render_json(v, t, val);
    const char *raw = token_text(v, t);
    size_t len = token_len(v, t);
    val->text = raw;
    val->len = len;
    val->final = string_plain(v, t);
    if (!val->final && need_exact(v, len)) {
        if (json_string_decode(raw, len, v->def->flags, v->m->field, MAP_FIELD_MAX, &val->len,
                               &v->replaced) != JSON_STRING_OK)
            return MAP_ERR_NO_ROOM;
        val->text = v->m->field;
    }
    if (is_id)
        val->text = text_object_id_unwrap(val->text, &val->len);
    return MAP_OK;
}

static map_status render_integer(map_view *v, int t, map_value *val)
{
    int64_t n = 0;
    map_status status = token_integer(v, t, &n);
    if (status != MAP_OK) {
        v->error_token = t;
        return status;
    }
    val->text = v->number;
    val->len = format_int64(n, v->number);
    val->final = 1;
    val->bare = 1;
    return MAP_OK;
}

static map_status render_timestamp(map_view *v, int t, map_value *val)
{
    int64_t secs = 0;
    map_status status = token_timestamp(v, t, &secs);
    if (status != MAP_OK) {
        v->error_token = t;
        return status;
    }
    val->text = v->number;
    val->len = civil_time_format_iso8601(secs, v->number);
    val->final = 1;
    val->bare = 1;
    return MAP_OK;
}

/* KIND_COUNT: the source integer, else the length of the fallback array. */
static map_status render_count(map_view *v, size_t c, map_value *val)
{
    int t = v->m->column_token[c];
    if (!token_missing(v, t))
        return render_integer(v, t, val);
    int fallback = v->fallback_token[c];
    val->final = 1;
    if (fallback >= 0 && v->tok[fallback].type == JSMN_ARRAY) {
        val->text = v->number;
        val->len = format_int64(v->tok[fallback].size, v->number);
        val->bare = 1;
    }
    return MAP_OK;
}

/* server_url + "/appimages/" + <column 0> + ".png". */
static map_status render_icon(map_view *v, map_value *val)
{
    int t = v->m->column_token[0];
    const char *url = v->m->ctx.server_url;
    if (token_missing(v, t) || url == NULL)
        return MAP_OK;
    size_t url_len = strlen(url);
    size_t fixed = url_len + ICON_PREFIX_LEN + ICON_SUFFIX_LEN;
    int dry = v->dry;
    if (fixed + token_span(v, t) > MAP_FIELD_MAX)
        v->dry = 0; /* the id's exact length decides */
    map_value id = {NULL, 0, 0, 0};
    map_status status = render_text(v, t, 1, &id);
    int exact = !v->dry;
    v->dry = dry;
    if (status != MAP_OK || !exact) {
        val->text = url; /* pass 1: fits, content not needed */
        return status;
    }
    if (id.len > MAP_FIELD_MAX - fixed)
        return MAP_ERR_NO_ROOM;
    char *f = v->m->field;
    memmove(f + url_len + ICON_PREFIX_LEN, id.text, id.len);
    memcpy(f, url, url_len);
    memcpy(f + url_len, ICON_PREFIX, ICON_PREFIX_LEN);
    memcpy(f + url_len + ICON_PREFIX_LEN + id.len, ICON_SUFFIX, ICON_SUFFIX_LEN);
    val->text = f;
    val->len = fixed + id.len;
    return MAP_OK;
}

/* A run of clean metadata members, json[a, b): copied as it stands. */
static int out_run(map_out *o, int a, int b)
{
    return a >= b || out_put(o, o->v->json + a, (size_t)(b - a));
}

/* Every metadata key with its value, as one JSON object. A clean member
 * ("key":value with no escape in a compact record) is its own text, and
 * clean members next to each other in the record are one run with the
 * commas between them: each run is copied at once. */
static map_status render_metadata(map_view *v, map_value *val)
{
    const map_mapper *m = v->m;
    val->text = "{}";
    val->len = 2;
    if (!need_exact(v, token_span(v, 0)))
        return MAP_OK;
    map_out o = scratch_out(v);
    int ok = out_byte(&o, '{');
    int run_a = 0; /* the pending run json[run_a, run_b) */
    int run_b = 0;
    for (int i = 0; ok && i < m->metadata_count; i++) {
        int key = m->metadata_token[i];
        int a = token_first(v, key);
        int b = token_last(v, key + 1);
        int clean = span_clean(v, a, b);
        if (clean && run_b > run_a && a == run_b + 1) {
            run_b = b; /* json[a - 1] is the comma between them */
            continue;
        }
        ok = out_run(&o, run_a, run_b) && (i == 0 || out_byte(&o, ','));
        run_a = run_b = 0;
        if (clean) {
            run_a = a;
            run_b = b;
            continue;
        }
        ok = ok && out_string(&o, key) && out_byte(&o, ':') && out_value(&o, key + 1);
    }
    if (!ok || !out_run(&o, run_a, run_b) || !out_byte(&o, '}'))
        return MAP_ERR_NO_ROOM;
    val->text = o.buf;
    val->len = o.len;
    return MAP_OK;
}

/* The run start, formatted once per value of ctx.processed_at. */
static map_status render_processed_at(map_view *v, map_value *val)
{
    map_mapper *m = v->m;
    if (m->processed_len == 0 || m->processed_secs != m->ctx.processed_at) {
        m->processed_secs = m->ctx.processed_at;
        m->processed_len = civil_time_format_iso8601(m->processed_secs, m->processed_text);
    }
    val->len = m->processed_len;
    val->text = m->processed_text;
    val->final = 1;
    val->bare = 1;
    return val->len > 0 ? MAP_OK : MAP_ERR_TIMESTAMP;
}

static map_status render_column(map_view *v, size_t c, map_value *val)
{
    int t = v->m->column_token[c];
    val->text = NULL;
    val->len = 0;
    val->final = 0;
    val->bare = 0;
    v->error_token = -1;
    v->number = v->numbers[c];
    switch (v->def->columns[c].kind) {
    case KIND_PROCESSED_AT:
        return render_processed_at(v, val);
    case KIND_ICON:
        return render_icon(v, val);
    case KIND_METADATA:
        return render_metadata(v, val);
    case KIND_COUNT:
        return render_count(v, c, val);
    case KIND_APP_ID:
        val->text = v->m->ctx.app_id;
        val->len = val->text != NULL ? strlen(val->text) : 0;
        val->final = 1;
        return MAP_OK;
    default:
        break;
    }
    if (token_missing(v, t)) {
        val->final = 1;
        return MAP_OK;
    }
    switch (v->def->columns[c].kind) {
    case KIND_INTEGER:
        return render_integer(v, t, val);
    case KIND_TIMESTAMP:
        return render_timestamp(v, t, val);
    case KIND_JSON:
        return render_json(v, t, val);
    default:
        return render_text(v, t, v->def->columns[c].kind == KIND_ID, val);
    }
}

/* ---- errors ------------------------------------------------------------------------------- */

/* Length of s[0..n) cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* Copies s (n bytes) into out as text of at most max bytes plus "..." if cut. */
static void copy_excerpt(const char *s, size_t n, size_t max, char *out)
{
    size_t len = utf8_cut(s, n, max);
    memcpy(out, s, len);
    if (len < n) {
        memcpy(out + len, "...", 3);
        len += 3;
    }
    out[len] = '\0';
}

/* The record's _id, decoded, into mapper->error_id ("" unless a string). */
static void record_error_id(map_view *v)
{
    map_mapper *m = v->m;
    int t = m->column_token[0];
    m->error_id[0] = '\0';
    if (t < 0 || v->tok[t].type != JSMN_STRING)
        return;
    const char *text = token_text(v, t);
    size_t len = token_len(v, t);
    unsigned long ignored = 0;
    if (json_string_decode(text, len, v->def->flags, m->field, MAP_FIELD_MAX, &len, &ignored) ==
        JSON_STRING_OK)
        text = m->field;
    copy_excerpt(text, len, JSTREAM_ID_MAX, m->error_id);
}

/* Writes what went wrong with the value into the scratch, for map_describe. */
static void record_error_what(map_view *v, map_status status)
{
    char excerpt[EXCERPT_MAX + 4] = "";
    int t = status == MAP_ERR_NOT_OBJECT ? 0 : v->error_token;
    if (t >= 0 && t < v->count) {
        size_t quote = v->tok[t].type == JSMN_STRING ? 1 : 0;
        copy_excerpt(token_text(v, t) - quote, token_span(v, t), EXCERPT_MAX, excerpt);
    }
    char *what = v->m->field;
    size_t cap = MAP_FIELD_MAX;
    switch (status) {
    case MAP_ERR_NOT_OBJECT:
        (void)snprintf(what, cap, "%s is not a JSON object", v->count > 0 ? excerpt : "(empty)");
        break;
    case MAP_ERR_TYPE:
        (void)snprintf(what, cap, "%s is not a number", excerpt);
        break;
    case MAP_ERR_RANGE:
        (void)snprintf(what, cap, "%s is outside the 64-bit integer range", excerpt);
        break;
    case MAP_ERR_TIMESTAMP:
        if (t < 0) {
            (void)snprintf(what, cap, "the run start %lld is not a time from 1970 to 9999",
                           (long long)v->m->ctx.processed_at);
        } else {
            (void)snprintf(what, cap,
                           "%s is not a unix timestamp in seconds (10 digits) or milliseconds "
                           "(13 digits)",
                           excerpt);
        }
        break;
    default:
        (void)snprintf(what, cap, "%s", map_strerror(status));
        break;
    }
}

static map_status record_error(map_view *v, map_status status, const char *column)
{
    v->m->error_column = column;
    record_error_id(v);
    record_error_what(v, status);
    return status;
}

static map_status sink_error(map_view *v, csv_status status, const char *column)
{
    v->m->sink_status = status;
    return record_error(v, MAP_ERR_SINK, column);
}

/* ---- records ------------------------------------------------------------------------------- */

/* Pass 1: every column renders without error. */
static map_status check_row(map_view *v)
{
    v->dry = 1;
    for (size_t c = 0; c < v->def->count; c++) {
        map_status status = render_column(v, c, &v->checked[c]);
        if (status != MAP_OK)
            return record_error(v, status, v->def->header[c]);
    }
    return MAP_OK;
}

/* Pass 2: the row, column by column, into the sink. */
static map_status write_row(map_view *v, csv_sink *sink)
{
    v->dry = 0;
    v->replaced = 0;
    csv_status cs = csv_row_begin(sink);
    if (cs != CSV_OK)
        return sink_error(v, cs, NULL);
    for (size_t c = 0; c < v->def->count; c++) {
        map_value val = v->checked[c];
        map_status status = val.final ? MAP_OK : render_column(v, c, &val);
        if (status != MAP_OK)
            return record_error(v, status, v->def->header[c]);
        if (val.text == NULL)
            cs = csv_field_null(sink);
        else if (val.bare)
            cs = csv_field_bare(sink, val.text, val.len);
        else
            cs = csv_field(sink, val.text, val.len);
        if (cs != CSV_OK)
            return sink_error(v, cs, v->def->header[c]);
    }
    cs = csv_row_end(sink);
    return cs == CSV_OK ? MAP_OK : sink_error(v, cs, NULL);
}

map_status map_record(map_mapper *mapper, const jstream_record *record, csv_sink *sink)
{
    return map_record_gated(mapper, record, sink, NULL, NULL);
}

map_status map_record_gated(map_mapper *mapper, const jstream_record *record, csv_sink *sink,
                            map_gate_fn gate, void *user)
{
    uint32_t metadata_sig[JSTREAM_TOKENS_MAX / 2];
    map_view v = {.m = mapper,
                  .metadata_sig = metadata_sig,
                  .def = table_def(mapper->table),
                  .json = record->json,
                  .tok = record->tokens,
                  .count = record->token_count,
                  .error_token = -1};
    mapper->error_column = NULL;
    mapper->error_id[0] = '\0';
    mapper->sink_status = CSV_OK;
    if (v.count > 0)
        record_classify(&v, record->plain);
    map_status status = scan_record(&v);
    if (status != MAP_OK)
        return record_error(&v, status, NULL);
    status = check_row(&v);
    if (status == MAP_OK && gate != NULL && gate(user, mapper, record) != 0)
        status = MAP_ERR_GATE;
    if (status == MAP_OK)
        status = write_row(&v, sink);
    if (status == MAP_OK)
        mapper->replaced += v.replaced;
    return status;
}

int map_source_token(const map_mapper *mapper, const char *key)
{
    const map_table_def *def = table_def(mapper->table);
    map_value name = {key, strlen(key), 0, 0};
    int e = key_entry(mapper, def, &name, key_hash(name.text, name.len));
    return e >= 0 && (size_t)e < def->count ? mapper->column_token[e] : -1;
}

size_t map_describe(const map_mapper *mapper, map_status status, char *out, size_t cap)
{
    const char *table = table_def(mapper->table)->name;
    const char *what = status == MAP_ERR_SINK ? csv_strerror(mapper->sink_status) : mapper->field;
    const char *sep = status == MAP_ERR_SINK ? "writing the row failed: " : "";
    int n;
    if (cap == 0)
        return 0;
    if (status == MAP_OK) {
        n = snprintf(out, cap, "%s", map_strerror(status));
    } else if (status == MAP_ERR_NOT_OBJECT) {
        n = snprintf(out, cap, "record (%s): %s", table, what);
    } else if (mapper->error_id[0] != '\0') {
        n = snprintf(out, cap, "%s%s%srecord _id \"%s\" (%s): %s%s",
                     mapper->error_column != NULL ? "column " : "",
                     mapper->error_column != NULL ? mapper->error_column : "",
                     mapper->error_column != NULL ? " of " : "", mapper->error_id, table, sep,
                     what);
    } else {
        n = snprintf(out, cap, "%s%s%sa record without a string _id (%s): %s%s",
                     mapper->error_column != NULL ? "column " : "",
                     mapper->error_column != NULL ? mapper->error_column : "",
                     mapper->error_column != NULL ? " of " : "", table, sep, what);
    }
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
