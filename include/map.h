/*
 * map.h - one record to one CSV row, by a static column table per table.
 *
 * The tables and their columns are the README's ("The tables"), in its order:
 *   MAP_TABLE_APPS_DB    apps from /o/db?collection=apps (full documents)
 *   MAP_TABLE_APPS_MINE  apps from /o/apps/all|mine (HTML-escaped strings;
 *                        created_at/updated_at are NULL)
 *   MAP_TABLE_GROUPS     groups from /o/groups (HTML-escaped strings)
 *   MAP_TABLE_USERS      app users from /o/db?collection=app_users<id>
 * Column kinds: text (a JSON string decoded to UTF-8; any other value as
 * its compact JSON text), id (text with "ObjectId(<hex>)" -> "<hex>"),
 * integer (a fraction truncates toward zero; anything but a number is an
 * error), timestamp (unix seconds, or milliseconds when 13 digits, as
 * YYYY-MM-DDTHH:MM:SSZ; anything else is an error), JSON (compact), and
 * metadata: every field that is not the source of another column, as one
 * compact JSON object in source order. Missing keys and JSON null are NULL.
 * A key that repeats counts once, with its last value. The secrets salt,
 * checksum_salt and api_key are dropped everywhere.
 *
 * JSON output (JSON columns, metadata) is re-serialized from the tokens:
 * strings are decoded and minimally re-escaped, so lone surrogates and
 * U+0000 become U+FFFD (counted in `replaced`) and the text loads into
 * PostgreSQL jsonb. A row is checked completely before any byte of it is
 * written, so a bad value never leaves half a row in the sink.
 */
#ifndef COUNTLY_SYNC_MAP_H
#define COUNTLY_SYNC_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "jstream.h"
#include "options.h"

/* Slots of a mapper's key table: a power of two, more than its entries. */
#define MAP_KEY_SLOTS 64

typedef enum {
    MAP_TABLE_APPS_DB = 0,
    MAP_TABLE_APPS_MINE,
    MAP_TABLE_GROUPS,
    MAP_TABLE_USERS
} map_table;

typedef enum {
    MAP_OK = 0,
    MAP_ERR_NOT_OBJECT, /* the record is not a JSON object */
    MAP_ERR_TYPE,       /* a value cannot be what its column needs */
    MAP_ERR_TIMESTAMP,  /* a timestamp that is neither 10 nor 13 digits */
    MAP_ERR_RANGE,      /* an integer outside the 64-bit range */
    MAP_ERR_NO_ROOM,    /* a value larger than MAP_FIELD_MAX once decoded */
    MAP_ERR_SINK,       /* the CSV sink failed; see the sink's status */
    MAP_ERR_GATE        /* the caller's gate refused the row (its own reason) */
} map_status;

/* What a row needs besides its record. */
typedef struct {
    const char *server_url; /* configured, without a trailing '/': icon URLs */
    const char *app_id;     /* USERS: the app being read */
    int64_t processed_at;   /* run start (server clock), unix seconds */
} map_context;

typedef struct {
    map_table table;
    map_context ctx;
    unsigned long replaced;            /* U+FFFD substitutions so far */
    csv_status sink_status;            /* behind MAP_ERR_SINK */
    const char *error_column;          /* column of the last error */
    char error_id[JSTREAM_ID_MAX + 4]; /* _id of the record that failed, "" if none */
    /* the table's source, fallback and secret keys by hash (map_init) */
    uint32_t key_hash[MAP_KEY_SLOTS];
    uint8_t key_entry[MAP_KEY_SLOTS]; /* 0: empty slot, else 1 + entry (see map.c) */
    /* ctx.processed_at as text, kept from record to record */
    int64_t processed_secs;  /* the time processed_text shows */
    size_t processed_len;    /* 0: not formatted (or outside the calendar) */
    char processed_text[24]; /* "YYYY-MM-DDTHH:MM:SSZ" */
    /* per-record scratch */
    int column_token[MAP_COLUMNS_MAX];
    int metadata_token[JSTREAM_TOKENS_MAX / 2];
    int metadata_count;
    char field[MAP_FIELD_MAX];
} map_mapper;

/* Words for a status. */
const char *map_strerror(map_status status);

/* Column names of a table in file order; *count gets their number. */
const char *const *map_header(map_table table, size_t *count);

/* Prepares a mapper for table with ctx (the strings must outlive it). */
void map_init(map_mapper *mapper, map_table table, const map_context *ctx);

/* Writes record as one row of the mapper's table into sink. */
map_status map_record(map_mapper *mapper, const jstream_record *record, csv_sink *sink);

/* Asked by map_record_gated once every column of the record rendered,
 * before its row is written: 0 writes it; non-zero writes nothing and
 * map_record_gated returns MAP_ERR_GATE. map_source_token may be used. */
typedef int (*map_gate_fn)(void *user, const map_mapper *mapper, const jstream_record *record);

/* map_record with a gate (the users stream's window check reads _id and
 * lac from the tokens the mapper found, instead of looking them up again). */
map_status map_record_gated(map_mapper *mapper, const jstream_record *record, csv_sink *sink,
                            map_gate_fn gate, void *user);

/* Inside a gate: the token of the value of the record's member `key`
 * (decoded name; the last one when repeated) if key is one the table's
 * columns come from, else -1. */
int map_source_token(const map_mapper *mapper, const char *key);

/* One line on the last error: "column byear of record _id \"abc\": \"x\"
 * is not a number". Returns the length written. */
size_t map_describe(const map_mapper *mapper, map_status status, char *out, size_t cap);

#endif /* COUNTLY_SYNC_MAP_H */
