/*
 * state.c - the sync state file (contract and document format in state.h).
 *
 * Loading reads the file in small chunks into the caller's jstream (VALUE
 * envelope) and checks the document strictly in the record callback:
 * "version" must be 1 or 2; "users_csv_bytes" and every cursor are
 * non-negative integers; "apps" maps 24-hex app ids to cursors; "run",
 * when present, is an object holding every field with its type. Unknown
 * and repeated keys are refused too: a state written by another version
 * or edited by hand is never half-understood. Every violation is
 * STATE_ERR_CORRUPT with a message that says how to recover.
 *
 * Run fields: version 2 holds the window position (every field required);
 * version 1 (release 0.1) held "skip" and, when a record of the window was
 * committed, "last_lac" (null: that record had no lac) with "last_id".
 * The version is known only at the end of the document, so run fields are
 * collected first and checked against it there.
 *
 * Saving serializes compactly into the caller's buffer and replaces the
 * file atomically (state.h); a document that load would refuse (bad app
 * id, negative cursor, too large for STATE_FILE_MAX or one jstream record)
 * is never written.
 */
#include "state.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_file.h"
#include "json_string.h"
#include "port.h"
#include "text.h"

/* Room for a decoded key name: longer keys are unknown keys anyway. */
#define STATE_KEY_TEXT 32

/* Longest value quoted in a message; longer ones end in "...". */
#define STATE_SHOW_MAX 40

/* The recovery advice that ends every message on a damaged file. */
#define STATE_RECOVER                                                                              \
    "Restore it from a backup, or delete it together with users.csv to start a full re-sync."

/* Top-level keys, as bits of state_ctx.seen. */
enum {
    TOP_VERSION = 1,
    TOP_USERS_CSV_BYTES = 2,
    TOP_APPS = 4,
    TOP_RUN = 8,
    TOP_SERVER_URL = 16,
    TOP_PART = 32,
    TOP_LAST_STAMP = 64
};

/* The fields of "part", as bits: the first five are required; "gzip" and
 * "text" (added later) are not. */
static const char *const state_part_fields[] = {"stamp", "number", "bytes", "rows",
                                                "open",  "gzip",   "text"};
#define STATE_PART_ALL         0x1Fu
#define STATE_PART_FIELD_COUNT (sizeof state_part_fields / sizeof state_part_fields[0])

typedef enum {
    RUN_ID,      /* "app": a 24-hex app id */
    RUN_FROM,    /* a non-negative int64 */
    RUN_TO,      /* a non-negative int64 */
    RUN_BOOL,    /* "all_history": true or false */
    RUN_COUNT,   /* v1 "skip": a uint64 */
    RUN_LAC,     /* v1 "last_lac": an int64, or null for a record without lac */
    RUN_LAST_ID, /* v1 "last_id": a string of at most JSTREAM_ID_MAX bytes */
    RUN_RANGE,   /* v2 "range": "null", "seconds", "millis" or "done" */
    RUN_LO,      /* v2 "lo": an int64, or null before the first second */
    RUN_SUB_HI,  /* v2 "sub_hi": a non-negative int64 */
    RUN_SPAN,    /* v2 "span": a non-negative int64 */
    RUN_TIE,     /* v2 "tie": true or false */
    RUN_AFTER    /* v2 "after": an _id of at most WINDOW_ID_MAX bytes, or null */
} state_run_kind;

/* One field of the "run" object. */
typedef struct {
    const char *name;
    state_run_kind kind;
    unsigned bit;
} state_run_field;

static const state_run_field state_run_fields[] = {
    {"app", RUN_ID, 0x1u},           {"from", RUN_FROM, 0x2u},    {"to", RUN_TO, 0x4u},
    {"all_history", RUN_BOOL, 0x8u}, {"skip", RUN_COUNT, 0x10u},  {"last_lac", RUN_LAC, 0x20u},
    {"last_id", RUN_LAST_ID, 0x40u}, {"range", RUN_RANGE, 0x80u}, {"lo", RUN_LO, 0x100u},
    {"sub_hi", RUN_SUB_HI, 0x200u},  {"span", RUN_SPAN, 0x400u},  {"tie", RUN_TIE, 0x800u},
    {"after", RUN_AFTER, 0x1000u},
};

#define STATE_RUN_FIELD_COUNT (sizeof state_run_fields / sizeof state_run_fields[0])
#define STATE_RUN_COMMON      0x0Fu   /* app, from, to, all_history */
#define STATE_RUN_V1          0x7Fu   /* and skip, last_lac, last_id */
#define STATE_RUN_V1_REQUIRED 0x1Fu   /* skip */
#define STATE_RUN_LAST        0x60u   /* last_lac and last_id: both or neither */
#define STATE_RUN_V2          0x1F8Fu /* and range, lo, sub_hi, span, tie, after */

static const char *const state_range_names[] = {"null", "seconds", "millis", "done"};

/* The fields of a version 1 run, kept while loading. */
typedef struct {
    uint64_t skip;
    int64_t last_lac;
    int last_lac_missing;
    char last_id[JSTREAM_ID_MAX + 1];
} state_run_v1;

/* What one load has seen so far. */
typedef struct {
    sync_state *state;
    const char *path;
    const jstream_record *rec;
    state_status status;
    unsigned seen;     /* TOP_* bits */
    uint64_t version;  /* 0 until "version" is read */
    unsigned run_seen; /* state_run_fields bits of "run" */
    state_run_v1 v1;
} state_ctx;

const char *state_strerror(state_status status)
{
    switch (status) {
    case STATE_OK:
        return "ok";
    case STATE_ERR_READ:
        return "state file cannot be read";
    case STATE_ERR_CORRUPT:
        return "state file is not a valid state document";
    case STATE_ERR_TOO_LARGE:
        return "state larger than STATE_FILE_MAX (" OPTIONS_TEXT(STATE_FILE_MAX) " bytes)";
    case STATE_ERR_TOO_MANY:
        return "state lists more than CONFIG_APPS_MAX (" OPTIONS_TEXT(CONFIG_APPS_MAX) ") apps";
    case STATE_ERR_WRITE:
        return "state file cannot be written";
    case STATE_ERR_NOSPC:
        return "no space left for the state file";
    case STATE_ERR_SERVER:
        return "state file belongs to another server";
    }
    return "unknown state status";
}

/* ---- messages ------------------------------------------------------------------------------- */

static state_status state_fail(sync_state *state, state_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the message into state->detail ("..." when cut). */
static state_status state_fail(sync_state *state, state_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(state->detail, sizeof state->detail, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n >= sizeof state->detail)
        memcpy(state->detail + sizeof state->detail - 4, "...", 4);
    return status;
}

static state_status state_corrupt(state_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first problem found: "state file P is corrupt (problem). Restore ..." */
static state_status state_corrupt(state_ctx *ctx, const char *fmt, ...)
{
    if (ctx->status != STATE_OK)
        return ctx->status;
    char problem[CONFIG_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    ctx->status = state_fail(ctx->state, STATE_ERR_CORRUPT, "state file %s is corrupt (%s). %s",
                             ctx->path, problem, STATE_RECOVER);
    return ctx->status;
}

/* Token t as written, cut to STATE_SHOW_MAX bytes, strings quoted. */
static void state_show(const state_ctx *ctx, int t, char *out, size_t cap)
{
    json_token_show(ctx->rec->json, &ctx->rec->tokens[t], STATE_SHOW_MAX, out, cap);
}

/* ---- values --------------------------------------------------------------------------------- */

/* The json_tokens.h helpers on token t of the state document. */
static int state_tok_u64(const state_ctx *ctx, int t, uint64_t *value)
{
    return json_token_u64(ctx->rec->json, &ctx->rec->tokens[t], value);
}

static int state_tok_i64(const state_ctx *ctx, int t, int64_t *value)
{
    return json_token_i64(ctx->rec->json, &ctx->rec->tokens[t], value);
}

static int state_tok_is(const state_ctx *ctx, int t, const char *literal)
{
    return json_token_is(ctx->rec->json, &ctx->rec->tokens[t], literal);
}

/* Decodes string token t into out; 0 if it does not fit or needed a
 * replacement character. */
static int state_tok_string(const state_ctx *ctx, int t, char *out, size_t cap)
{
    unsigned long replaced = 0;
    return json_token_string(ctx->rec->json, &ctx->rec->tokens[t], out, cap, &replaced) ==
               JSON_STRING_OK &&
           replaced == 0;
}

/* 1 when text is 24 hex digits; copies it lowercased into id. */
static int state_app_id(const char *text, text_object_id id)
{
    if (!text_is_object_id(text, strlen(text)))
        return 0;
    for (size_t i = 0; i < 24; i++)
        id[i] = (text[i] >= 'A' && text[i] <= 'F') ? (char)(text[i] - 'A' + 'a') : text[i];
    id[24] = '\0';
    return 1;
}

/* Index of the token after t and everything inside it. */
/* ---- cursors ---------------------------------------------------------------------------- */

static int state_same_id(const char *a, const char *b)
{
    for (size_t i = 0;; i++) {
        char x = (a[i] >= 'A' && a[i] <= 'F') ? (char)(a[i] - 'A' + 'a') : a[i];
        char y = (b[i] >= 'A' && b[i] <= 'F') ? (char)(b[i] - 'A' + 'a') : b[i];
        if (x != y)
            return 0;
        if (x == '\0')
            return 1;
    }
}

/* Index of app_id in state->apps, or -1. */
static long state_find(const sync_state *state, const char *app_id)
{
    for (unsigned i = 0; i < state->app_count; i++)
        if (state_same_id(state->apps[i].app_id, app_id))
            return (long)i;
    return -1;
}

state_status state_claim_server(sync_state *state, const char *path, const char *server_url)
{
    if (state->server_url[0] == '\0' || strcmp(state->server_url, server_url) == 0) {
        (void)snprintf(state->server_url, sizeof state->server_url, "%s", server_url);
        return STATE_OK;
    }
    return state_fail(state, STATE_ERR_SERVER,
                      "state file %s belongs to server %s, but server_url is %s: use another "
                      "output_dir or state_file for %s (or set server_url back)",
                      path, state->server_url, server_url, server_url);
}

int64_t state_cursor(const sync_state *state, const char *app_id)
{
    long i = state_find(state, app_id);
    return i >= 0 ? state->apps[i].cursor : -1;
}

state_status state_set_cursor(sync_state *state, const char *app_id, int64_t cursor)
{
    text_object_id id;
    if (!state_app_id(app_id, id) || cursor < 0)
        return state_fail(state, STATE_ERR_CORRUPT,
                          "refusing to store cursor %lld for app \"%.40s\": app ids are 24 "
                          "hexadecimal digits and cursors are not negative",
                          (long long)cursor, app_id);
    long i = state_find(state, id);
    state_app *app = i >= 0 ? &state->apps[i] : NULL;
    if (app == NULL) {
        if (state->app_count >= CONFIG_APPS_MAX)
            return state_fail(state, STATE_ERR_TOO_MANY,
                              "cannot add app %s: the state holds CONFIG_APPS_MAX (" OPTIONS_TEXT(
                                  CONFIG_APPS_MAX) ") apps",
                              id);
        app = &state->apps[state->app_count++];
        memcpy(app->app_id, id, sizeof app->app_id);
    }
    app->cursor = cursor;
    return STATE_OK;
}

/* What is wrong with an active run, or NULL. */
static const char *state_run_problem(const state_run *run)
{
    text_object_id id;
    const window_position *pos = &run->pos;
    if (!run->active)
        return NULL;
    if (!state_app_id(run->app_id, id))
        return "key 'run': 'app' is not an app id (24 hexadecimal digits)";
    if (run->from < 0 || run->to < run->from)
        return "key 'run': the window needs 0 <= from <= to";
    if ((unsigned)pos->range > (unsigned)WINDOW_RANGE_DONE)
        return "key 'run': 'range' is not one of null, seconds, millis, done";
    if (!run->all_history && (pos->range == WINDOW_RANGE_NULL || pos->range == WINDOW_RANGE_MILLIS))
        return "key 'run': only an all-history window has the null and millis ranges";
    if (pos->tie && (!pos->has_lo || pos->range == WINDOW_RANGE_NULL))
        return "key 'run': 'tie' needs a second 'lo' in the seconds or millis range";
    if (pos->sub_hi < 0 || pos->span < 0)
        return "key 'run': 'sub_hi' and 'span' are not negative";
    if (pos->has_after && (pos->after_id[0] == '\0' || strlen(pos->after_id) > WINDOW_ID_MAX))
        return "key 'run': 'after' is empty or longer than WINDOW_ID_MAX (" OPTIONS_TEXT(
            WINDOW_ID_MAX) " bytes)";
    return NULL;
}

/* ---- loading: "apps" and "run" -----------------------------------------------------------------
 */

/* One "<app id>": cursor member of "apps" (k is the key token). */
static state_status state_load_app(state_ctx *ctx, int k)
{
    char text[STATE_KEY_TEXT];
    text_object_id id;
    char shown[STATE_SHOW_MAX + 8];
    int64_t cursor;
    if (!state_tok_string(ctx, k, text, sizeof text) || !state_app_id(text, id)) {
        state_show(ctx, k, shown, sizeof shown);
        return state_corrupt(ctx, "key 'apps': %s is not an app id (24 hexadecimal digits)", shown);
    }
    if (!state_tok_i64(ctx, k + 1, &cursor) || cursor < 0) {
        state_show(ctx, k + 1, shown, sizeof shown);
        return state_corrupt(ctx, "key 'apps': cursor %s of app %s is not a non-negative integer",
                             shown, id);
    }
    if (state_find(ctx->state, id) >= 0)
        return state_corrupt(ctx, "key 'apps': app %s is listed twice", id);
    if (ctx->state->app_count >= CONFIG_APPS_MAX) {
        ctx->status = state_fail(ctx->state, STATE_ERR_TOO_MANY,
                                 "state file %s lists more than CONFIG_APPS_MAX (" OPTIONS_TEXT(
                                     CONFIG_APPS_MAX) ") apps. Raise CONFIG_APPS_MAX, or %s",
                                 ctx->path,
                                 "delete it together with users.csv to start a full "
                                 "re-sync.");
        return ctx->status;
    }
    state_app *app = &ctx->state->apps[ctx->state->app_count++];
    memcpy(app->app_id, id, sizeof app->app_id);
    app->cursor = cursor;
    return STATE_OK;
}

static state_status state_load_apps(state_ctx *ctx, int t)
{
    const jstream_record *rec = ctx->rec;
    if (rec->tokens[t].type != JSMN_OBJECT)
        return state_corrupt(ctx, "key 'apps' is not an object");
    int k = t + 1;
    for (int i = 0; i < rec->tokens[t].size && ctx->status == STATE_OK; i++) {
        (void)state_load_app(ctx, k);
        k = jstream_token_next(rec, k + 1);
    }
    return ctx->status;
}

/* A v2 "range" name. */
static int state_run_range(const state_ctx *ctx, int v, window_range *range)
{
    for (size_t i = 0; i < sizeof state_range_names / sizeof state_range_names[0]; i++) {
        const jsmntok_t *tok = &ctx->rec->tokens[v];
        size_t len = strlen(state_range_names[i]);
        if (tok->type == JSMN_STRING && (size_t)(tok->end - tok->start) == len &&
            memcmp(ctx->rec->json + tok->start, state_range_names[i], len) == 0) {
            *range = (window_range)i;
            return 1;
        }
    }
    return 0;
}

/* true or false into *flag. */
static int state_tok_bool(const state_ctx *ctx, int v, int *flag)
{
    *flag = state_tok_is(ctx, v, "true");
    return *flag || state_tok_is(ctx, v, "false");
}

/* Stores value token v of a run field; 0 when its type is wrong. */
static int state_run_value(state_ctx *ctx, const state_run_field *field, int v)
{
    state_run *run = &ctx->state->run;
    window_position *pos = &run->pos;
    char text[JSTREAM_ID_MAX + 1];
    switch (field->kind) {
    case RUN_ID:
        return state_tok_string(ctx, v, text, sizeof text) && state_app_id(text, run->app_id);
    case RUN_FROM:
        return state_tok_i64(ctx, v, &run->from) && run->from >= 0;
    case RUN_TO:
        return state_tok_i64(ctx, v, &run->to) && run->to >= 0;
    case RUN_BOOL:
        return state_tok_bool(ctx, v, &run->all_history);
    case RUN_COUNT:
        return state_tok_u64(ctx, v, &ctx->v1.skip);
    case RUN_LAC:
        ctx->v1.last_lac_missing = state_tok_is(ctx, v, "null");
        return ctx->v1.last_lac_missing || state_tok_i64(ctx, v, &ctx->v1.last_lac);
    case RUN_LAST_ID:
        return state_tok_string(ctx, v, ctx->v1.last_id, sizeof ctx->v1.last_id);
    case RUN_RANGE:
        return state_run_range(ctx, v, &pos->range);
    case RUN_LO:
        pos->has_lo = !state_tok_is(ctx, v, "null");
        return !pos->has_lo || state_tok_i64(ctx, v, &pos->lo);
    case RUN_SUB_HI:
        return state_tok_i64(ctx, v, &pos->sub_hi) && pos->sub_hi >= 0;
    case RUN_SPAN:
        return state_tok_i64(ctx, v, &pos->span) && pos->span >= 0;
    case RUN_TIE:
        return state_tok_bool(ctx, v, &pos->tie);
    case RUN_AFTER:
        pos->has_after = !state_tok_is(ctx, v, "null");
        return !pos->has_after || (state_tok_string(ctx, v, pos->after_id, sizeof pos->after_id) &&
                                   pos->after_id[0] != '\0');
    }
    return 0;
}

/* One member of "run" (k is the key token); *seen collects field bits. */
static state_status state_load_run_member(state_ctx *ctx, int k, unsigned *seen)
{
    char name[STATE_KEY_TEXT];
    char shown[STATE_SHOW_MAX + 8];
    const state_run_field *field = NULL;
    if (state_tok_string(ctx, k, name, sizeof name))
        for (size_t i = 0; i < STATE_RUN_FIELD_COUNT && field == NULL; i++)
            field = strcmp(name, state_run_fields[i].name) == 0 ? &state_run_fields[i] : NULL;
    if (field == NULL) {
        state_show(ctx, k, shown, sizeof shown);
        return state_corrupt(ctx, "key 'run': unknown field %s", shown);
    }
    if (*seen & field->bit)
        return state_corrupt(ctx, "key 'run': field '%s' given twice", field->name);
    *seen |= field->bit;
    if (!state_run_value(ctx, field, k + 1)) {
        state_show(ctx, k + 1, shown, sizeof shown);
        return state_corrupt(ctx, "key 'run': field '%s' has the wrong value %s", field->name,
                             shown);
    }
    return STATE_OK;
}

static state_status state_load_run(state_ctx *ctx, int t)
{
    const jstream_record *rec = ctx->rec;
    if (rec->tokens[t].type != JSMN_OBJECT)
        return state_corrupt(ctx, "key 'run' is not an object");
    int k = t + 1;
    for (int i = 0; i < rec->tokens[t].size && ctx->status == STATE_OK; i++) {
        (void)state_load_run_member(ctx, k, &ctx->run_seen);
        k = jstream_token_next(rec, k + 1);
    }
    ctx->state->run.active = ctx->status == STATE_OK;
    return ctx->status;
}

/* Checks the run's fields against the document's version; a version 1
 * run gets the position after its last committed record. */
static state_status state_check_run(state_ctx *ctx)
{
    state_run *run = &ctx->state->run;
    unsigned seen = ctx->run_seen;
    if (!run->active)
        return STATE_OK;
    if (ctx->version == 1) {
        if ((seen & ~STATE_RUN_V1) != 0 || (seen & STATE_RUN_V1_REQUIRED) != STATE_RUN_V1_REQUIRED)
            return state_corrupt(ctx, "key 'run' of a version 1 state needs exactly app, from, "
                                      "to, all_history, skip (and last_lac with last_id)");
        if ((seen & STATE_RUN_LAST) != 0 && (seen & STATE_RUN_LAST) != STATE_RUN_LAST)
            return state_corrupt(ctx, "key 'run' has only one of last_lac and last_id");
        window_bounds b = {run->from, run->to, run->all_history};
        window_position_legacy(&run->pos, &b, (seen & STATE_RUN_LAST) != 0,
                               ctx->v1.last_lac_missing, ctx->v1.last_lac, ctx->v1.last_id);
        run->legacy = 1;
    } else if (seen != STATE_RUN_V2) {
        return state_corrupt(ctx, "key 'run' needs exactly app, from, to, all_history, range, "
                                  "lo, sub_hi, span, tie, after");
    }
    const char *problem = state_run_problem(run);
    return problem != NULL ? state_corrupt(ctx, "%s", problem) : STATE_OK;
}

/* ---- loading: the document ------------------------------------------------------------------ */

/* Which TOP_* bit a key names, or 0. */
static unsigned state_top_key(const char *name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } keys[] = {{"version", TOP_VERSION},
                {"users_csv_bytes", TOP_USERS_CSV_BYTES},
                {"apps", TOP_APPS},
                {"run", TOP_RUN},
                {"server_url", TOP_SERVER_URL},
                {"part", TOP_PART},
                {"last_stamp", TOP_LAST_STAMP}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(name, keys[i].name) == 0)
            return keys[i].bit;
    return 0;
}

static state_status state_load_version(state_ctx *ctx, int v)
{
    char shown[STATE_SHOW_MAX + 8];
    if (state_tok_u64(ctx, v, &ctx->version) && (ctx->version == 1 || ctx->version == 2))
        return STATE_OK;
    state_show(ctx, v, shown, sizeof shown);
    return state_corrupt(ctx,
                         "key 'version' is %s, not 1 or 2: written by another version of "
                         "countly-sync, or damaged",
                         shown);
}

/* "server_url": a non-empty string (absent from states written before it). */
static state_status state_load_server(state_ctx *ctx, int v)
{
    char shown[STATE_SHOW_MAX + 8];
    sync_state *state = ctx->state;
    if (ctx->rec->tokens[v].type == JSMN_STRING &&
        state_tok_string(ctx, v, state->server_url, sizeof state->server_url) &&
        state->server_url[0] != '\0')
        return STATE_OK;
    state->server_url[0] = '\0';
    state_show(ctx, v, shown, sizeof shown);
    return state_corrupt(ctx, "key 'server_url': %s is not a server URL string", shown);
}

/* Stores the value token v of field i of "part"; 0 when it is wrong. */
static int state_part_value(state_ctx *ctx, size_t i, int v)
{
    state_part *part = &ctx->state->part;
    uint64_t number = 0;
    switch (i) {
    case 0:
        return state_tok_i64(ctx, v, &part->stamp) && part->stamp >= 0;
    case 1:
        if (!state_tok_u64(ctx, v, &number) || number < 1 || number > STATE_PART_MAX)
            return 0;
        part->number = (unsigned)number;
        return 1;
    case 2:
        return state_tok_u64(ctx, v, &part->bytes);
    case 3:
        return state_tok_u64(ctx, v, &part->rows);
    case 4:
        return state_tok_bool(ctx, v, &part->open);
    case 5:
        return state_tok_bool(ctx, v, &part->gzip);
    default:
        return state_tok_u64(ctx, v, &part->text);
    }
}

/* "part": {"stamp", "number", "bytes", "rows", "open"}, each exactly once,
 * and "gzip", "text" at most once (absent: not gzipped, text = bytes). */
static state_status state_load_part(state_ctx *ctx, int t)
{
    const jstream_record *rec = ctx->rec;
    char name[STATE_KEY_TEXT];
    char shown[STATE_SHOW_MAX + 8];
    unsigned seen = 0;
    if (rec->tokens[t].type != JSMN_OBJECT)
        return state_corrupt(ctx, "key 'part' is not an object");
    int k = t + 1;
    for (int n = 0; n < rec->tokens[t].size; n++) {
        size_t i = 0;
        int named = state_tok_string(ctx, k, name, sizeof name);
        while (named && i < STATE_PART_FIELD_COUNT && strcmp(name, state_part_fields[i]) != 0)
            i++;
        if (!named || i >= STATE_PART_FIELD_COUNT || (seen & (1u << i)) != 0) {
            state_show(ctx, k, shown, sizeof shown);
            return state_corrupt(ctx, "key 'part': unknown or repeated field %s", shown);
        }
        seen |= 1u << i;
        if (!state_part_value(ctx, i, k + 1)) {
            state_show(ctx, k + 1, shown, sizeof shown);
            return state_corrupt(ctx, "key 'part': field '%s' has the wrong value %s",
                                 state_part_fields[i], shown);
        }
        k = jstream_token_next(rec, k + 1);
    }
    if ((seen & STATE_PART_ALL) != STATE_PART_ALL)
        return state_corrupt(ctx, "key 'part' needs exactly stamp, number, bytes, rows, open");
    if ((seen & (1u << 6)) == 0) /* a part saved before "text": its text is unknown */
        ctx->state->part.text = ctx->state->part.gzip ? 0 : ctx->state->part.bytes;
    ctx->state->part.known = 1;
    return STATE_OK;
}

/* One top-level member (k is the key token). */
static state_status state_load_member(state_ctx *ctx, int k)
{
    char name[STATE_KEY_TEXT];
    char shown[STATE_SHOW_MAX + 8];
    unsigned bit = state_tok_string(ctx, k, name, sizeof name) ? state_top_key(name) : 0;
    if (bit == 0) {
        state_show(ctx, k, shown, sizeof shown);
        return state_corrupt(ctx, "unknown key %s", shown);
    }
    if (ctx->seen & bit)
        return state_corrupt(ctx, "key '%s' given twice", name);
    ctx->seen |= bit;
    switch (bit) {
    case TOP_VERSION:
        return state_load_version(ctx, k + 1);
    case TOP_USERS_CSV_BYTES:
        if (state_tok_u64(ctx, k + 1, &ctx->state->users_csv_bytes))
            return STATE_OK;
        state_show(ctx, k + 1, shown, sizeof shown);
        return state_corrupt(ctx, "key 'users_csv_bytes': %s is not a non-negative integer", shown);
    case TOP_APPS:
        return state_load_apps(ctx, k + 1);
    case TOP_SERVER_URL:
        return state_load_server(ctx, k + 1);
    case TOP_PART:
        return state_load_part(ctx, k + 1);
    case TOP_LAST_STAMP:
        if (state_tok_i64(ctx, k + 1, &ctx->state->last_stamp) && ctx->state->last_stamp > 0)
            return STATE_OK;
        state_show(ctx, k + 1, shown, sizeof shown);
        return state_corrupt(ctx, "key 'last_stamp': %s is not a positive integer", shown);
    default:
        return state_load_run(ctx, k + 1);
    }
}

/* The record callback: the whole document. Returns 0 so that bytes after
 * it are still checked; a problem stays in ctx->status. */
static int state_on_record(void *user, const jstream_record *rec)
{
    state_ctx *ctx = user;
    ctx->rec = rec;
    if (rec->token_count < 1 || rec->tokens[0].type != JSMN_OBJECT) {
        (void)state_corrupt(ctx, "not a JSON object");
        return 0;
    }
    int k = 1;
    for (int i = 0; i < rec->tokens[0].size && ctx->status == STATE_OK; i++) {
        (void)state_load_member(ctx, k);
        k = jstream_token_next(rec, k + 1);
    }
    unsigned required = TOP_VERSION | TOP_USERS_CSV_BYTES | TOP_APPS;
    if (ctx->status == STATE_OK && (ctx->seen & required) != required)
        (void)state_corrupt(ctx, "one of the keys 'version', 'users_csv_bytes', 'apps' is missing");
    if (ctx->status == STATE_OK)
        (void)state_check_run(ctx);
    ctx->rec = NULL;
    return 0;
}

/* ---- loading: the file ------------------------------------------------------------------- */

/* A JSON error wins over whatever the record callback found. */
static state_status state_json_error(state_ctx *ctx, const jstream *js)
{
    char text[CONFIG_DETAIL_MAX];
    ctx->status = STATE_OK;
    if (js->error == JSTREAM_ERR_SHAPE)
        return state_corrupt(ctx, "not a JSON object");
    (void)jstream_describe(js, text, sizeof text);
    return state_corrupt(ctx, "%s", text);
}

/* Reads the file through js; the record callback fills the state. */
static state_status state_read(state_ctx *ctx, jstream *js)
{
    port_status ps = PORT_OK;
    json_file_status fs = json_file_read(js, ctx->path, STATE_FILE_MAX, state_on_record, ctx, &ps);
    if (fs == JSON_FILE_ERR_OPEN && ps == PORT_ERR_NOENT)
        return STATE_OK; /* the first run */
    if (fs != JSON_FILE_ERR_OPEN)
        ctx->state->exists = 1;
    switch (fs) {
    case JSON_FILE_OK:
        return ctx->status;
    case JSON_FILE_ERR_OPEN:
        return state_fail(ctx->state, STATE_ERR_READ, "cannot open state file %s: %s", ctx->path,
                          json_file_port_text(ps));
    case JSON_FILE_ERR_READ:
        return state_fail(ctx->state, STATE_ERR_READ, "cannot read state file %s: %s", ctx->path,
                          json_file_port_text(ps));
    case JSON_FILE_ERR_TOO_LARGE:
        return state_fail(ctx->state, STATE_ERR_TOO_LARGE,
                          "state file %s is larger than STATE_FILE_MAX (" OPTIONS_TEXT(
                              STATE_FILE_MAX) " bytes). %s",
                          ctx->path, STATE_RECOVER);
    case JSON_FILE_ERR_EMPTY:
        return state_corrupt(ctx, "the file is empty");
    case JSON_FILE_ERR_JSON:
        return state_json_error(ctx, js);
    case JSON_FILE_ERR_NO_VALUE:
        break;
    }
    return state_corrupt(ctx, "not a JSON object");
}

state_status state_load(sync_state *state, const char *path, jstream *scratch)
{
    state_ctx ctx;
    memset(state, 0, sizeof *state);
    memset(&ctx, 0, sizeof ctx);
    ctx.state = state;
    ctx.path = path;
    state_status st = state_read(&ctx, scratch);
    if (st != STATE_OK) {
        char detail[CONFIG_DETAIL_MAX];
        memcpy(detail, state->detail, sizeof detail);
        memset(state, 0, sizeof *state); /* nothing half-loaded */
        state->exists = 1;
        memcpy(state->detail, detail, sizeof detail);
    }
    return st;
}

/* ---- saving: the document -------------------------------------------------------------------- */

/* The caller's buffer being filled. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    int full;
} state_out;

static void state_put(state_out *out, const char *text, size_t len)
{
    if (out->full || len > out->cap - out->len) {
        out->full = 1;
        return;
    }
    memcpy(out->buf + out->len, text, len);
    out->len += len;
}

static void state_put_text(state_out *out, const char *text)
{
    state_put(out, text, strlen(text));
}

static void state_put_i64(state_out *out, int64_t value)
{
    char number[24];
    int n = snprintf(number, sizeof number, "%lld", (long long)value);
    state_put(out, number, (size_t)n);
}

static void state_put_u64(state_out *out, uint64_t value)
{
    char number[24];
    int n = snprintf(number, sizeof number, "%llu", (unsigned long long)value);
    state_put(out, number, (size_t)n);
}

/* A JSON string: the text escaped, between quotes. */
static void state_put_string(state_out *out, const char *text)
{
    size_t n = 0;
    state_put(out, "\"", 1);
    if (out->full)
        return;
    if (json_string_escape(text, strlen(text), out->buf + out->len, out->cap - out->len, &n) !=
        JSON_STRING_OK) {
        out->full = 1;
        return;
    }
    out->len += n;
    state_put(out, "\"", 1);
}

/* An int64, or null when absent. */
static void state_put_opt_i64(state_out *out, int present, int64_t value)
{
    if (present)
        state_put_i64(out, value);
    else
        state_put_text(out, "null");
}

static void state_put_run(state_out *out, const state_run *run)
{
    const window_position *pos = &run->pos;
    state_put_text(out, ",\"run\":{\"app\":");
    state_put_string(out, run->app_id);
    state_put_text(out, ",\"from\":");
    state_put_i64(out, run->from);
    state_put_text(out, ",\"to\":");
    state_put_i64(out, run->to);
    state_put_text(out, run->all_history ? ",\"all_history\":true" : ",\"all_history\":false");
    state_put_text(out, ",\"range\":");
    state_put_string(out, state_range_names[pos->range]);
    state_put_text(out, ",\"lo\":");
    state_put_opt_i64(out, pos->has_lo, pos->lo);
    state_put_text(out, ",\"sub_hi\":");
    state_put_i64(out, pos->sub_hi);
    state_put_text(out, ",\"span\":");
    state_put_i64(out, pos->span);
    state_put_text(out, pos->tie ? ",\"tie\":true" : ",\"tie\":false");
    state_put_text(out, ",\"after\":");
    if (pos->has_after)
        state_put_string(out, pos->after_id);
    else
        state_put_text(out, "null");
    state_put_text(out, "}");
}

/* The compact document and a newline. */
static void state_serialize(const sync_state *state, state_out *out)
{
    state_put_text(out, "{\"version\":2,");
    if (state->server_url[0] != '\0') {
        state_put_text(out, "\"server_url\":");
        state_put_string(out, state->server_url);
        state_put_text(out, ",");
    }
    state_put_text(out, "\"users_csv_bytes\":");
    state_put_u64(out, state->users_csv_bytes);
    state_put_text(out, ",\"apps\":{");
    for (unsigned i = 0; i < state->app_count; i++) {
        if (i > 0)
            state_put_text(out, ",");
        state_put_string(out, state->apps[i].app_id);
        state_put_text(out, ":");
        state_put_i64(out, state->apps[i].cursor);
    }
    state_put_text(out, "}");
    if (state->run.active)
        state_put_run(out, &state->run);
    if (state->part.known) {
        state_put_text(out, ",\"part\":{\"stamp\":");
        state_put_i64(out, state->part.stamp);
        state_put_text(out, ",\"number\":");
        state_put_u64(out, state->part.number);
        state_put_text(out, ",\"bytes\":");
        state_put_u64(out, state->part.bytes);
        state_put_text(out, ",\"rows\":");
        state_put_u64(out, state->part.rows);
        state_put_text(out, state->part.open ? ",\"open\":true" : ",\"open\":false");
        state_put_text(out, state->part.gzip ? ",\"gzip\":true" : ",\"gzip\":false");
        state_put_text(out, ",\"text\":");
        state_put_u64(out, state->part.text);
        state_put_text(out, "}");
    }
    if (state->last_stamp > 0) {
        state_put_text(out, ",\"last_stamp\":");
        state_put_i64(out, state->last_stamp);
    }
    state_put_text(out, "}\n");
}

/* Refuses a state that load would refuse. */
static state_status state_check(sync_state *state)
{
    text_object_id id;
    if (state->app_count > CONFIG_APPS_MAX)
        return state_fail(
            state, STATE_ERR_TOO_MANY,
            "state holds more than CONFIG_APPS_MAX (" OPTIONS_TEXT(CONFIG_APPS_MAX) ") apps");
    for (unsigned i = 0; i < state->app_count; i++) {
        const state_app *app = &state->apps[i];
        if (!state_app_id(app->app_id, id) || app->cursor < 0)
            return state_fail(state, STATE_ERR_CORRUPT,
                              "refusing to save: app \"%.40s\" with cursor %lld (app ids are 24 "
                              "hexadecimal digits, cursors are not negative)",
                              app->app_id, (long long)app->cursor);
    }
    const char *problem = state_run_problem(&state->run);
    if (problem != NULL)
        return state_fail(state, STATE_ERR_CORRUPT, "refusing to save: %s", problem);
    if (state->part.known &&
        (state->part.stamp < 0 || state->part.number < 1 || state->part.number > STATE_PART_MAX))
        return state_fail(state, STATE_ERR_CORRUPT,
                          "refusing to save: users part %u of stamp %lld (parts are numbered 1 "
                          "to %u)",
                          state->part.number, (long long)state->part.stamp, STATE_PART_MAX);
    return STATE_OK;
}

/* ---- saving: the file -------------------------------------------------------------------------
 */

static state_status state_write_error(sync_state *state, const char *what, const char *path,
                                      port_status ps)
{
    state_status st = ps == PORT_ERR_NOSPC ? STATE_ERR_NOSPC : STATE_ERR_WRITE;
    return state_fail(state, st, "cannot %s state file %s: %s", what, path,
                      json_file_port_text(ps));
}

/* Writes and syncs data into a fresh tmp file; removes it on failure. */
static state_status state_write_tmp(sync_state *state, const char *tmp, const char *data,
                                    size_t len)
{
    port_file file;
    port_file_init(&file);
    unsigned mode = state->file_mode != 0 ? state->file_mode : FILE_MODE_DEFAULT;
    port_status ps =
        port_file_open_mode(&file, tmp, PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_TRUNC, mode);
    if (ps != PORT_OK)
        return state_write_error(state, "create the temporary", tmp, ps);
    const char *what = "write the temporary";
    ps = port_file_write(&file, data, len);
    if (ps == PORT_OK) {
        what = "sync the temporary";
        ps = port_file_sync(&file);
    }
    port_status closed = port_file_close(&file);
    if (ps == PORT_OK) {
        what = "close the temporary";
        ps = closed;
    }
    if (ps == PORT_OK)
        return STATE_OK;
    (void)port_file_remove(tmp);
    return state_write_error(state, what, tmp, ps);
}

/* Replaces path by its tmp file and makes the rename durable. */
static state_status state_replace(sync_state *state, const char *path, const char *tmp)
{
    port_status ps = port_file_replace(tmp, path);
    if (ps == PORT_OK)
        return STATE_OK;
    (void)port_file_remove(tmp);
    return state_write_error(state, "replace (rename and sync the folder of) the", path, ps);
}

state_status state_save(sync_state *state, const char *path, char *buf, size_t cap)
{
    char tmp[CONFIG_PATH_MAX + 8];
    state_out out = {buf, cap, 0, 0};
    state_status st = state_check(state);
    if (st != STATE_OK)
        return st;
    state_serialize(state, &out);
    if (out.full)
        return state_fail(state, STATE_ERR_TOO_LARGE, "state does not fit its %zu-byte buffer",
                          cap);
    if (out.len > STATE_FILE_MAX || out.len - 1 > JSTREAM_RECORD_MAX)
        return state_fail(
            state, STATE_ERR_TOO_LARGE,
            "state of %zu bytes exceeds STATE_FILE_MAX (" OPTIONS_TEXT(
                STATE_FILE_MAX) ") or JSTREAM_RECORD_MAX (" OPTIONS_TEXT(JSTREAM_RECORD_MAX) ")",
            out.len);
    if (strlen(path) >= CONFIG_PATH_MAX)
        return state_fail(state, STATE_ERR_WRITE,
                          "state file path longer than CONFIG_PATH_MAX (%u bytes)",
                          (unsigned)CONFIG_PATH_MAX - 1u);
    (void)snprintf(tmp, sizeof tmp, "%s.tmp", path);
    st = state_write_tmp(state, tmp, buf, out.len);
    if (st != STATE_OK)
        return st;
    return state_replace(state, path, tmp);
}
