/*
 * config.c - configuration.json into a config struct (contract in config.h).
 *
 * The file is read in small chunks through the port and fed to the
 * caller's jstream with the VALUE envelope; the one record (the whole
 * document) is checked key by key against config_keys[], the table of
 * every setting, during the record callback.
 *
 * Decisions the README's configuration table leaves open:
 *   - Integers: a JSON integer or a string of decimal digits ("100").
 *     Fractions, exponents, words and other types are CONFIG_ERR_TYPE; a
 *     negative or too large whole number is CONFIG_ERR_RANGE.
 *   - Booleans: true/false, or the strings "true"/"false" in any case.
 *     "1", "0", "yes", "no" are refused (tls_verify must be unambiguous).
 *   - null, and "" for an optional integer or boolean, mean the default.
 *   - Keys are compared after JSON unescaping; a key given twice is an
 *     error, as is an unknown key (the closest known key is suggested).
 *   - app_id: "*", one id, ids separated by commas (spaces around them are
 *     ignored), or an array of such strings. Ids are lowercased and
 *     duplicates collapsed; "*" cannot be mixed with ids.
 *   - Paths must not be empty, except ca_file ("" = system bundle).
 *   - file_mode: only a string "0" + three octal digits from "0400" to
 *     "0666" without execute bits ("0600", "0640", "0644", ...); "600",
 *     600 and "0777" are refused (a mode is octal; data files never run).
 *   - A key file (api_key_file, the credential) holds the key on one line;
 *     one trailing LF or CR LF is dropped. Empty, two lines, or a control
 *     character in the key are errors (never "the first line wins").
 * The API key is never copied into a message, and is wiped from cfg when
 * loading fails.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_file.h"
#include "json_string.h"
#include "port.h"
#include "text.h"

/* Room for a decoded key name: longer keys are unknown keys anyway. */
#define CONFIG_KEY_TEXT 48

/* Longest value or key quoted in a message; longer ones end in "...". */
#define CONFIG_SHOW_MAX 40

/* Most edits between an unknown key and the key suggested for it. */
#define CONFIG_SUGGEST_DISTANCE 3

/* Shortest unknown key that is suggested a key it is a prefix of. */
#define CONFIG_SUGGEST_PREFIX 4

/* A shown value sharing this many bytes with an API key is hidden. */
#define CONFIG_SECRET_WINDOW 8

/* The em dash of the unknown-key message, in UTF-8. */
#define CONFIG_DASH "\xe2\x80\x94"

typedef enum {
    KIND_URL,     /* server_url: a string, parsed and checked */
    KIND_API_KEY, /* api_key: a string that is never shown */
    KIND_APPS,    /* app_id: "*", ids, comma list, or array */
    KIND_UINT,    /* whole number in [min, max] */
    KIND_BOOL,    /* true or false */
    KIND_PATH,    /* a file or folder path at least min bytes long */
    KIND_PROXY,   /* proxy: http://[user:password@]host:port or "", never shown */
    KIND_MODE,    /* file_mode: an octal permission string */
    KIND_GZIP,    /* output_compression: "none" (0) or "gzip" (1) */
    KIND_WORD     /* one of the words in def_text ("a|b"), stored as its index */
} config_kind;

/* One setting: where it goes and what it accepts. */
typedef struct {
    const char *name;
    config_kind kind;
    const char *required; /* NULL, or why the key must be given */
    uint32_t def;         /* UINT, BOOL: default */
    uint32_t min, max;    /* UINT: range; PATH: min is the shortest length */
    size_t offset;        /* field in config */
    size_t size;          /* URL, API_KEY, PATH: size of that field */
    const char *def_text; /* PATH: default; WORD: the words, "|" between them, default first */
} config_key;

static const config_key config_keys[] = {
    {"server_url", KIND_URL, "required: https://host[:port][/prefix]", 0, 0, 0,
     offsetof(config, server_url), CONFIG_URL_MAX, NULL},
    {"api_key", KIND_API_KEY, NULL, 0, 0, 0, offsetof(config, api_key), CONFIG_API_KEY_MAX + 1,
     NULL},
    {"app_id", KIND_APPS, "required: \"*\", an app id, or ids separated by commas", 0, 0, 0, 0, 0,
     NULL},
    {"max_records_per_page", KIND_UINT, NULL, 100, 1, 1000, offsetof(config, max_records_per_page),
     0, NULL},
    {"request_timeout_seconds", KIND_UINT, NULL, 30, 1, 600,
     offsetof(config, request_timeout_seconds), 0, NULL},
    {"retry_attempts", KIND_UINT, NULL, 3, 0, 10, offsetof(config, retry_attempts), 0, NULL},
    {"enable_apps_sync", KIND_BOOL, NULL, 1, 0, 1, offsetof(config, enable_apps), 0, NULL},
    {"enable_groups_sync", KIND_BOOL, NULL, 1, 0, 1, offsetof(config, enable_groups), 0, NULL},
    {"enable_users_sync", KIND_BOOL, NULL, 1, 0, 1, offsetof(config, enable_users), 0, NULL},
    {"initial_sync_days", KIND_UINT, NULL, 90, 0, 3650, offsetof(config, initial_sync_days), 0,
     NULL},
    {"ca_file", KIND_PATH, NULL, 0, 0, 0, offsetof(config, ca_file), CONFIG_PATH_MAX, ""},
    {"tls_verify", KIND_BOOL, NULL, 1, 0, 1, offsetof(config, tls_verify), 0, NULL},
    {"http_compression", KIND_BOOL, NULL, 1, 0, 1, offsetof(config, http_compression), 0, NULL},
    {"proxy", KIND_PROXY, NULL, 0, 0, 0, offsetof(config, proxy), 0, NULL},
    {"output_dir", KIND_PATH, NULL, 0, 1, 0, offsetof(config, output_dir), CONFIG_PATH_MAX,
     "./countly-data"},
    {"state_file", KIND_PATH, NULL, 0, 1, 0, offsetof(config, state_file), CONFIG_PATH_MAX, ""},
    {"api_key_file", KIND_PATH, NULL, 0, 1, 0, offsetof(config, api_key_file), CONFIG_PATH_MAX, ""},
    {"file_mode", KIND_MODE, NULL, FILE_MODE_DEFAULT, 0400, 0666, offsetof(config, file_mode), 0,
     NULL},
    {"output_compression", KIND_GZIP, NULL, 0, 0, 1, offsetof(config, output_gzip), 0, NULL},
    {"output_layout", KIND_WORD, NULL, CONFIG_LAYOUT_APPEND, 0, 0, offsetof(config, output_layout),
     0, "append|runs"},
    {"output_part_mb", KIND_UINT, NULL, 64, 1, 4096, offsetof(config, output_part_mb), 0, NULL},
};

/* The systemd credential countly-sync reads from CREDENTIALS_DIRECTORY. */
#define CONFIG_CREDENTIAL "countly-api-key"

/* Execute bits: never part of file_mode. */
#define CONFIG_MODE_EXEC 0111u

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

/* What one load has seen so far. */
typedef struct {
    config *cfg;
    const char *path;
    const jstream_record *rec;
    config_status status;
    int file_api_key;                      /* the file holds an api_key string */
    int star;                              /* app_id listed "*" */
    const char *secret[2];                 /* the API keys (env, file's raw text) */
    size_t secret_len[2];                  /* never shown, even inside other values */
    unsigned char seen[CONFIG_KEY_COUNT];  /* key present (even as null) */
    unsigned char given[CONFIG_KEY_COUNT]; /* key present with a value */
} config_ctx;

const char *config_strerror(config_status status)
{
    switch (status) {
    case CONFIG_OK:
        return "ok";
    case CONFIG_ERR_READ:
        return "configuration file cannot be read";
    case CONFIG_ERR_TOO_LARGE:
        return "configuration file larger than CONFIG_FILE_MAX (" OPTIONS_TEXT(
            CONFIG_FILE_MAX) " bytes)";
    case CONFIG_ERR_JSON:
        return "configuration file is not one valid JSON object";
    case CONFIG_ERR_UNKNOWN_KEY:
        return "unknown configuration key";
    case CONFIG_ERR_MISSING:
        return "required configuration key missing";
    case CONFIG_ERR_TYPE:
        return "configuration value of the wrong type";
    case CONFIG_ERR_RANGE:
        return "configuration value out of range";
    case CONFIG_ERR_VALUE:
        return "malformed configuration value";
    }
    return "unknown configuration status";
}

/* ---- messages ----------------------------------------------------------------- */

static config_status config_failv(config_ctx *ctx, config_status status, const char *prefix,
                                  const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Records the first error as "<prefix>: <message>" ("..." when cut). */
static config_status config_failv(config_ctx *ctx, config_status status, const char *prefix,
                                  const char *fmt, va_list ap)
{
    if (ctx->status != CONFIG_OK)
        return ctx->status;
    char *out = ctx->cfg->detail;
    size_t cap = sizeof ctx->cfg->detail;
    int n = snprintf(out, cap, "%s: ", prefix);
    size_t len = n > 0 ? (size_t)n : 0;
    if (len < cap) {
        n = vsnprintf(out + len, cap - len, fmt, ap);
        len += n > 0 ? (size_t)n : 0;
    }
    if (len >= cap)
        memcpy(out + cap - 4, "...", 4);
    ctx->status = status;
    return status;
}

static config_status config_fail(config_ctx *ctx, config_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error in the file: the message begins with its path. */
static config_status config_fail(config_ctx *ctx, config_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    config_status st = config_failv(ctx, status, ctx->path, fmt, ap);
    va_end(ap);
    return st;
}

static config_status config_fail_at(config_ctx *ctx, config_status status, const char *prefix,
                                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* An error outside the file (environment, command line). */
static config_status config_fail_at(config_ctx *ctx, config_status status, const char *prefix,
                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    config_status st = config_failv(ctx, status, prefix, fmt, ap);
    va_end(ap);
    return st;
}

/* Start of a UTF-8 character (not a continuation byte). */
static int config_is_char_start(char c)
{
    return ((unsigned char)c & 0xC0u) != 0x80u;
}

/* 1 when text shares CONFIG_SECRET_WINDOW bytes (or the whole key, if
 * shorter) with secret: then it may show part of the API key. */
static int config_touches(const char *text, size_t len, const char *secret, size_t secret_len)
{
    if (secret == NULL || secret_len == 0)
        return 0;
    size_t w = secret_len < CONFIG_SECRET_WINDOW ? secret_len : CONFIG_SECRET_WINDOW;
    for (size_t i = 0; i + w <= len; i++) {
        for (size_t j = 0; j + w <= secret_len; j++)
            if (memcmp(text + i, secret + j, w) == 0)
                return 1;
    }
    return 0;
}

/* Copies at most CONFIG_SHOW_MAX bytes of text, cut at a character
 * boundary and marked with "...", between the given quotes; a text that
 * may hold part of an API key (anywhere, shown or not) is replaced by a
 * note. */
static void config_show_text(const config_ctx *ctx, const char *text, size_t len, const char *quote,
                             char *out, size_t cap)
{
    size_t show = len;
    const char *more = "";
    if (len > CONFIG_SHOW_MAX) {
        show = CONFIG_SHOW_MAX;
        while (show > 0 && !config_is_char_start(text[show]))
            show--;
        more = "...";
    }
    for (size_t i = 0; i < 2; i++) { /* the whole value: its cut may end inside a key */
        if (config_touches(text, len, ctx->secret[i], ctx->secret_len[i])) {
            (void)snprintf(out, cap, "(a value like the api_key, not shown)");
            return;
        }
    }
    (void)snprintf(out, cap, "%s%.*s%s%s", quote, (int)show, text, more, quote);
}

/* A value as written in the file: strings quoted, long ones cut. */
static void config_show_value(const config_ctx *ctx, int t, char *out, size_t cap)
{
    const jsmntok_t *tok = &ctx->rec->tokens[t];
    const char *text = ctx->rec->json + tok->start;
    size_t len = (size_t)(tok->end - tok->start);
    config_show_text(ctx, text, len, tok->type == JSMN_STRING ? "\"" : "", out, cap);
}

/* ---- tokens ------------------------------------------------------------------------ */

static const char *config_tok_text(const config_ctx *ctx, int t, size_t *len)
{
    return json_token_text(ctx->rec->json, &ctx->rec->tokens[t], len);
}

static int config_tok_is_null(const config_ctx *ctx, int t)
{
    return json_token_is(ctx->rec->json, &ctx->rec->tokens[t], "null");
}

static int config_tok_is_empty_string(const config_ctx *ctx, int t)
{
    const jsmntok_t *tok = &ctx->rec->tokens[t];
    return tok->type == JSMN_STRING && tok->end == tok->start;
}

/* Decodes string token t into out; NO_ROOM when it does not fit. */
static json_string_status config_tok_decode(const config_ctx *ctx, int t, char *out, size_t cap,
                                            unsigned long *replaced)
{
    return json_token_string(ctx->rec->json, &ctx->rec->tokens[t], out, cap, replaced);
}

/* ---- field access ------------------------------------------------------------------ */

static uint32_t *config_uint_field(config *cfg, const config_key *key)
{
    return (uint32_t *)(void *)((char *)cfg + key->offset);
}

static int *config_bool_field(config *cfg, const config_key *key)
{
    return (int *)(void *)((char *)cfg + key->offset);
}

static char *config_text_field(config *cfg, const config_key *key)
{
    return (char *)cfg + key->offset;
}

/* Every setting at its default; state_file is derived later. */
static void config_defaults(config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const config_key *key = &config_keys[i];
        if (key->kind == KIND_UINT || key->kind == KIND_MODE || key->kind == KIND_WORD)
            *config_uint_field(cfg, key) = key->def;
        else if (key->kind == KIND_BOOL || key->kind == KIND_GZIP)
            *config_bool_field(cfg, key) = (int)key->def;
        else if (key->kind == KIND_PATH)
            (void)snprintf(config_text_field(cfg, key), key->size, "%s", key->def_text);
    }
}

/* ---- integers and booleans ----------------------------------------------------------- */

/* Parses -?[0-9]+ into *value (saturating above UINT32_MAX); 0 if not
 * digits. *negative is set for a '-' sign on a non-zero number. */
static int config_parse_whole(const char *text, size_t len, uint64_t *value, int *negative)
{
    size_t sign = len > 0 && text[0] == '-';
    size_t i = sign;
    *value = 0;
    *negative = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9')
        i++;
    if (i == sign || i != len)
        return 0;
    if (!text_parse_u64(text + sign, len - sign, value) || *value > UINT32_MAX)
        *value = (uint64_t)UINT32_MAX + 1u; /* out of every range: the range check says so */
    *negative = sign && *value != 0;
    return 1;
}

static config_status config_set_uint(config_ctx *ctx, const config_key *key, int t)
{
    const jsmntok_t *tok = &ctx->rec->tokens[t];
    char shown[CONFIG_SHOW_MAX + 8];
    uint64_t value;
    int negative;
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    config_show_value(ctx, t, shown, sizeof shown);
    int number = tok->type == JSMN_STRING || (tok->type == JSMN_PRIMITIVE && text[0] != 't' &&
                                              text[0] != 'f' && text[0] != 'n');
    if (!number || !config_parse_whole(text, len, &value, &negative))
        return config_fail(ctx, CONFIG_ERR_TYPE, "key '%s': %s is not a whole number (%u..%u)",
                           key->name, shown, (unsigned)key->min, (unsigned)key->max);
    if (negative || value < key->min || value > key->max)
        return config_fail(ctx, CONFIG_ERR_RANGE, "key '%s': %s is out of range (%u..%u)",
                           key->name, shown, (unsigned)key->min, (unsigned)key->max);
    *config_uint_field(ctx->cfg, key) = (uint32_t)value;
    return CONFIG_OK;
}

/* Case-insensitive comparison of len bytes with a lowercase word. */
static int config_word_is(const char *text, size_t len, const char *word)
{
    if (len != strlen(word))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

static config_status config_set_bool(config_ctx *ctx, const config_key *key, int t)
{
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    jsmntype_t type = ctx->rec->tokens[t].type;
    int ok = type == JSMN_STRING || type == JSMN_PRIMITIVE;
    if (ok && config_word_is(text, len, "true")) {
        *config_bool_field(ctx->cfg, key) = 1;
        return CONFIG_OK;
    }
    if (ok && config_word_is(text, len, "false")) {
        *config_bool_field(ctx->cfg, key) = 0;
        return CONFIG_OK;
    }
    char shown[CONFIG_SHOW_MAX + 8];
    config_show_value(ctx, t, shown, sizeof shown);
    return config_fail(ctx, CONFIG_ERR_TYPE, "key '%s': %s is not a boolean (true or false)",
                       key->name, shown);
}

/* "0" and three octal digits, from min to max, without execute bits. */
static config_status config_set_mode(config_ctx *ctx, const config_key *key, int t)
{
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    uint32_t value = 0;
    int ok = ctx->rec->tokens[t].type == JSMN_STRING && len == 4 && text[0] == '0';
    for (size_t i = 1; ok && i < len; i++) {
        ok = text[i] >= '0' && text[i] <= '7';
        value = value * 8u + (uint32_t)(text[i] - '0');
    }
    if (ok && value >= key->min && value <= key->max && (value & CONFIG_MODE_EXEC) == 0) {
        *config_uint_field(ctx->cfg, key) = value;
        return CONFIG_OK;
    }
    char shown[CONFIG_SHOW_MAX + 8];
    config_show_value(ctx, t, shown, sizeof shown);
    return config_fail(ctx, CONFIG_ERR_VALUE,
                       "key '%s': %s is not an octal permission string from \"0400\" to "
                       "\"0666\" without execute bits (\"0600\": owner only, \"0640\": and "
                       "the group may read)",
                       key->name, shown);
}

/* output_compression: "none" or "gzip"; a build without gzip output
 * (CSV_GZIP 0, the small profile) refuses "gzip". */
static config_status config_set_gzip(config_ctx *ctx, const config_key *key, int t)
{
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    int is_string = ctx->rec->tokens[t].type == JSMN_STRING;
    if (is_string && config_word_is(text, len, "none")) {
        *config_bool_field(ctx->cfg, key) = 0;
        return CONFIG_OK;
    }
    if (is_string && config_word_is(text, len, "gzip")) {
        if (!CSV_GZIP)
            return config_fail(ctx, CONFIG_ERR_VALUE,
                               "key '%s': \"gzip\" is not available in this build (the small "
                               "memory profile has no deflate): use \"none\" or the default "
                               "build",
                               key->name);
        *config_bool_field(ctx->cfg, key) = 1;
        return CONFIG_OK;
    }
    char shown[CONFIG_SHOW_MAX + 8];
    config_show_value(ctx, t, shown, sizeof shown);
    return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': %s is not \"none\" or \"gzip\"", key->name,
                       shown);
}

/* A string equal to one of the words of def_text ("append|runs"): its index. */
static config_status config_set_word(config_ctx *ctx, const config_key *key, int t)
{
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    const char *word = key->def_text;
    for (uint32_t index = 0; ctx->rec->tokens[t].type == JSMN_STRING; index++) {
        size_t word_len = strcspn(word, "|");
        if (word_len == len && memcmp(word, text, len) == 0) {
            *config_uint_field(ctx->cfg, key) = index;
            return CONFIG_OK;
        }
        if (word[word_len] == '\0')
            break;
        word += word_len + 1;
    }
    char shown[CONFIG_SHOW_MAX + 8];
    config_show_value(ctx, t, shown, sizeof shown);
    return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': %s is not one of %s", key->name, shown,
                       key->def_text);
}

/* ---- strings: paths, the API key, the server URL ---------------------------------------- */

static config_status config_set_path(config_ctx *ctx, const config_key *key, int t)
{
    unsigned long replaced;
    char *field = config_text_field(ctx->cfg, key);
    char shown[CONFIG_SHOW_MAX + 8];
    config_show_value(ctx, t, shown, sizeof shown);
    if (ctx->rec->tokens[t].type != JSMN_STRING)
        return config_fail(ctx, CONFIG_ERR_TYPE, "key '%s': %s is not a string (a file path)",
                           key->name, shown);
    if (config_tok_decode(ctx, t, field, key->size, &replaced) != JSON_STRING_OK)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': %s is longer than CONFIG_PATH_MAX (%u bytes)", key->name,
                           shown, (unsigned)CONFIG_PATH_MAX - 1u);
    if (replaced > 0)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': %s holds \\u0000 or an unpaired surrogate", key->name, shown);
    if (strlen(field) < key->min)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': must not be empty (leave the key out for the default)",
                           key->name);
    return CONFIG_OK;
}

/* Never shows the value: messages say "api_key" only. */
static config_status config_set_api_key(config_ctx *ctx, const config_key *key, int t)
{
    unsigned long replaced;
    char *field = config_text_field(ctx->cfg, key);
    if (ctx->rec->tokens[t].type != JSMN_STRING)
        return config_fail(ctx, CONFIG_ERR_TYPE, "key '%s': must be a string", key->name);
    ctx->file_api_key = 1;
    if (config_tok_decode(ctx, t, field, key->size, &replaced) != JSON_STRING_OK)
        return config_fail(
            ctx, CONFIG_ERR_VALUE,
            "key '%s': longer than CONFIG_API_KEY_MAX (" OPTIONS_TEXT(CONFIG_API_KEY_MAX) " bytes)",
            key->name);
    if (replaced > 0)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': holds \\u0000 or an unpaired surrogate", key->name);
    if (field[0] == '\0')
        return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': must not be empty", key->name);
    return CONFIG_OK;
}

static config_status config_set_url(config_ctx *ctx, const config_key *key, int t)
{
    unsigned long replaced;
    config *cfg = ctx->cfg;
    char shown[CONFIG_SHOW_MAX + 8];
    config_show_value(ctx, t, shown, sizeof shown);
    if (ctx->rec->tokens[t].type != JSMN_STRING)
        return config_fail(ctx, CONFIG_ERR_TYPE,
                           "key '%s': %s is not a string (https://host[:port][/prefix])", key->name,
                           shown);
    if (config_tok_decode(ctx, t, cfg->server_url, key->size, &replaced) != JSON_STRING_OK)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': %s is longer than CONFIG_URL_MAX (%u bytes)", key->name,
                           shown, (unsigned)CONFIG_URL_MAX - 1u);
    url_status st = url_parse(cfg->server_url, &cfg->server);
    if (st != URL_OK)
        return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': %s is not a valid URL: %s", key->name,
                           shown, url_strerror(st));
    if (!cfg->server.tls && !port_host_is_loopback(cfg->server.host))
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': %s: http:// is allowed only to loopback addresses; use "
                           "https://",
                           key->name, shown);
    size_t len = strlen(cfg->server_url);
    while (len > 0 && cfg->server_url[len - 1] == '/')
        cfg->server_url[--len] = '\0';
    return CONFIG_OK;
}

/* The value may hold the proxy's password: messages never quote it. */
static config_status config_set_proxy(config_ctx *ctx, const config_key *key, int t)
{
    unsigned long replaced;
    char text[CONFIG_URL_MAX];
    config *cfg = ctx->cfg;
    if (ctx->rec->tokens[t].type != JSMN_STRING)
        return config_fail(ctx, CONFIG_ERR_TYPE,
                           "key '%s': must be a string (http://[user:password@]host:port, or \"\" "
                           "for none)",
                           key->name);
    json_string_status js = config_tok_decode(ctx, t, text, sizeof text, &replaced);
    proxy_status ps = PROXY_ERR_SYNTAX;
    if (js == JSON_STRING_OK && replaced == 0)
        ps = proxy_parse(text, &cfg->proxy);
    memset(text, 0, sizeof text);
    if (js != JSON_STRING_OK)
        return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': longer than CONFIG_URL_MAX (%u bytes)",
                           key->name, (unsigned)CONFIG_URL_MAX - 1u);
    if (ps != PROXY_OK)
        return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': %s (the value is not shown)",
                           key->name, proxy_strerror(ps));
    cfg->proxy_given = 1;
    return CONFIG_OK;
}

/* ---- app_id ------------------------------------------------------------------------------- */

/* Adds one 24-hex id, lowercased, unless it is already listed. */
static config_status config_add_app(config_ctx *ctx, const char *text)
{
    config *cfg = ctx->cfg;
    text_object_id id;
    for (size_t i = 0; i < 24; i++) {
        char c = text[i];
        id[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    id[24] = '\0';
    for (unsigned i = 0; i < cfg->app_count; i++)
        if (memcmp(cfg->app_ids[i], id, sizeof id) == 0)
            return CONFIG_OK;
    if (cfg->app_count >= CONFIG_APPS_MAX)
        return config_fail(
            ctx, CONFIG_ERR_RANGE,
            "key 'app_id': more than CONFIG_APPS_MAX (" OPTIONS_TEXT(CONFIG_APPS_MAX) ") app ids");
    memcpy(cfg->app_ids[cfg->app_count++], id, sizeof id);
    return CONFIG_OK;
}

/* One item of a comma list: "*" or an app id, spaces around it ignored. */
static config_status config_app_item(config_ctx *ctx, const char *text, size_t len)
{
    while (len > 0 && text[0] == ' ') {
        text++;
        len--;
    }
    while (len > 0 && text[len - 1] == ' ')
        len--;
    if (len == 1 && text[0] == '*') {
        ctx->star = 1;
        return CONFIG_OK;
    }
    if (len == 0)
        return config_fail(ctx, CONFIG_ERR_VALUE, "key 'app_id': an empty entry in the list");
    if (!text_is_object_id(text, len)) {
        char shown[CONFIG_SHOW_MAX + 8];
        config_show_text(ctx, text, len, "\"", shown, sizeof shown);
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key 'app_id': %s is not an app id (24 hexadecimal digits)", shown);
    }
    return config_add_app(ctx, text);
}

/* A string token: ids separated by commas (raw text: ids hold no escapes). */
static config_status config_app_list(config_ctx *ctx, int t)
{
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    for (;;) {
        const char *comma = memchr(text, ',', len);
        size_t item = comma != NULL ? (size_t)(comma - text) : len;
        config_status st = config_app_item(ctx, text, item);
        if (st != CONFIG_OK || comma == NULL)
            return st;
        text += item + 1;
        len -= item + 1;
    }
}

static config_status config_set_apps(config_ctx *ctx, const config_key *key, int t)
{
    const jsmntok_t *tok = &ctx->rec->tokens[t];
    config_status st = CONFIG_OK;
    if (tok->type == JSMN_STRING) {
        st = config_app_list(ctx, t);
    } else if (tok->type == JSMN_ARRAY) {
        int e = t + 1;
        for (int i = 0; i < tok->size && st == CONFIG_OK; i++) {
            if (ctx->rec->tokens[e].type != JSMN_STRING)
                return config_fail(ctx, CONFIG_ERR_TYPE,
                                   "key '%s': element %d of the array is not a string", key->name,
                                   i + 1);
            st = config_app_list(ctx, e);
            e = jstream_token_next(ctx->rec, e);
        }
    } else {
        char shown[CONFIG_SHOW_MAX + 8];
        config_show_value(ctx, t, shown, sizeof shown);
        return config_fail(ctx, CONFIG_ERR_TYPE,
                           "key '%s': %s is not a string (\"*\", an app id, or ids separated by "
                           "commas) or an array of app id strings",
                           key->name, shown);
    }
    if (st != CONFIG_OK)
        return st;
    if (ctx->star && ctx->cfg->app_count > 0)
        return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s': \"*\" cannot be combined with app ids",
                           key->name);
    if (!ctx->star && ctx->cfg->app_count == 0)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key '%s': names no app (give \"*\" or 24-hex app ids)", key->name);
    ctx->cfg->all_apps = ctx->star;
    return CONFIG_OK;
}

/* ---- keys ------------------------------------------------------------------------------- */

static char config_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Levenshtein distance, case-insensitive; b is a known key name. */
static size_t config_distance(const char *a, const char *b)
{
    size_t row[CONFIG_KEY_TEXT + 1];
    size_t blen = strlen(b);
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; a[i - 1] != '\0'; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t above = row[j];
            size_t cost = config_lower(a[i - 1]) == b[j - 1] ? 0u : 1u;
            size_t best = diagonal + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[blen];
}

/* 1 when the shorter of a and b begins the other (case-insensitive). */
static int config_is_prefix_pair(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] != '\0' && b[i] != '\0' && config_lower(a[i]) == b[i])
        i++;
    return a[i] == '\0' || b[i] == '\0';
}

/* The known key closest to name, or NULL when none is close. */
static const char *config_suggest(const char *name)
{
    const char *best = NULL;
    size_t best_distance = CONFIG_SUGGEST_DISTANCE + 1;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        size_t d = config_distance(name, config_keys[i].name);
        if (d < best_distance) {
            best = config_keys[i].name;
            best_distance = d;
        }
    }
    for (size_t i = 0; best == NULL && i < CONFIG_KEY_COUNT; i++)
        if (strlen(name) >= CONFIG_SUGGEST_PREFIX &&
            config_is_prefix_pair(name, config_keys[i].name))
            best = config_keys[i].name;
    return best;
}

static config_status config_unknown_key(config_ctx *ctx, int t, const char *name, int decoded)
{
    char shown[CONFIG_SHOW_MAX + 8];
    size_t len;
    const char *text = config_tok_text(ctx, t, &len);
    config_show_text(ctx, text, len, "", shown, sizeof shown);
    const char *close = decoded ? config_suggest(name) : NULL;
    if (close == NULL)
        return config_fail(ctx, CONFIG_ERR_UNKNOWN_KEY, "unknown key '%s'", shown);
    return config_fail(ctx, CONFIG_ERR_UNKNOWN_KEY,
                       "unknown key '%s' " CONFIG_DASH " did you mean '%s'?", shown, close);
}

/* The table entry of key token t, or NULL after reporting it unknown. */
static const config_key *config_find_key(config_ctx *ctx, int t)
{
    char name[CONFIG_KEY_TEXT];
    unsigned long replaced;
    int decoded = config_tok_decode(ctx, t, name, sizeof name, &replaced) == JSON_STRING_OK;
    for (size_t i = 0; decoded && i < CONFIG_KEY_COUNT; i++)
        if (strcmp(name, config_keys[i].name) == 0)
            return &config_keys[i];
    (void)config_unknown_key(ctx, t, name, decoded);
    return NULL;
}

/* Applies one "key": value member (k is the key token). */
static config_status config_member(config_ctx *ctx, int k)
{
    const config_key *key = config_find_key(ctx, k);
    if (key == NULL)
        return ctx->status;
    size_t index = (size_t)(key - config_keys);
    if (ctx->seen[index])
        return config_fail(ctx, CONFIG_ERR_VALUE, "key '%s' given twice", key->name);
    ctx->seen[index] = 1;
    int v = k + 1;
    if (config_tok_is_null(ctx, v))
        return CONFIG_OK; /* null: the default (or missing, if required) */
    int optional_scalar = key->kind == KIND_UINT || key->kind == KIND_BOOL ||
                          key->kind == KIND_MODE || key->kind == KIND_GZIP ||
                          key->kind == KIND_WORD;
    if (optional_scalar && config_tok_is_empty_string(ctx, v))
        return CONFIG_OK;
    ctx->given[index] = 1;
    switch (key->kind) {
    case KIND_URL:
        return config_set_url(ctx, key, v);
    case KIND_API_KEY:
        return config_set_api_key(ctx, key, v);
    case KIND_APPS:
        return config_set_apps(ctx, key, v);
    case KIND_UINT:
        return config_set_uint(ctx, key, v);
    case KIND_BOOL:
        return config_set_bool(ctx, key, v);
    case KIND_PATH:
        return config_set_path(ctx, key, v);
    case KIND_PROXY:
        return config_set_proxy(ctx, key, v);
    case KIND_MODE:
        return config_set_mode(ctx, key, v);
    case KIND_GZIP:
        return config_set_gzip(ctx, key, v);
    case KIND_WORD:
        return config_set_word(ctx, key, v);
    }
    return CONFIG_OK;
}

/* Remembers where the file's api_key is, so that no message shows it,
 * wherever in the file the key or a copy of it is. */
static void config_find_file_key(config_ctx *ctx)
{
    const jstream_record *rec = ctx->rec;
    int k = 1;
    for (int i = 0; i < rec->tokens[0].size; i++) {
        char name[CONFIG_KEY_TEXT];
        unsigned long replaced;
        int decoded = config_tok_decode(ctx, k, name, sizeof name, &replaced) == JSON_STRING_OK;
        if (decoded && strcmp(name, "api_key") == 0 && rec->tokens[k + 1].type == JSMN_STRING)
            ctx->secret[1] = config_tok_text(ctx, k + 1, &ctx->secret_len[1]);
        k = jstream_token_next(rec, k + 1);
    }
}

/* The record callback: the whole document. Returns 0 so that bytes after
 * it are still checked; an error stays in ctx->status. */
static int config_on_record(void *user, const jstream_record *rec)
{
    config_ctx *ctx = user;
    ctx->rec = rec;
    if (rec->token_count < 1 || rec->tokens[0].type != JSMN_OBJECT) {
        (void)config_fail(ctx, CONFIG_ERR_JSON, "must be one JSON object");
        return 0;
    }
    config_find_file_key(ctx);
    int k = 1;
    for (int i = 0; i < rec->tokens[0].size && ctx->status == CONFIG_OK; i++) {
        (void)config_member(ctx, k);
        k = jstream_token_next(rec, k + 1);
    }
    ctx->rec = NULL;
    ctx->secret[1] = NULL; /* points into the record */
    ctx->secret_len[1] = 0;
    return 0;
}

/* ---- reading the file -------------------------------------------------------------------- */

/* A JSON error wins over whatever the record callback found. */
static config_status config_json_error(config_ctx *ctx, const jstream *js)
{
    char text[CONFIG_DETAIL_MAX];
    ctx->status = CONFIG_OK;
    if (js->error == JSTREAM_ERR_SHAPE)
        return config_fail(ctx, CONFIG_ERR_JSON, "must be one JSON object");
    size_t len = jstream_describe(js, text, sizeof text);
    if (config_touches(text, len, ctx->secret[0], ctx->secret_len[0]))
        return config_fail(ctx, CONFIG_ERR_JSON, "invalid JSON (%s)", jstream_strerror(js->error));
    return config_fail(ctx, CONFIG_ERR_JSON, "%s", text);
}

/* Reads the file through js; the record callback fills ctx->cfg. */
static config_status config_read(config_ctx *ctx, jstream *js)
{
    port_status ps = PORT_OK;
    switch (json_file_read(js, ctx->path, CONFIG_FILE_MAX, config_on_record, ctx, &ps)) {
    case JSON_FILE_OK:
        return ctx->status;
    case JSON_FILE_ERR_OPEN:
        return config_fail(ctx, CONFIG_ERR_READ, "cannot open: %s", json_file_port_text(ps));
    case JSON_FILE_ERR_READ:
        return config_fail(ctx, CONFIG_ERR_READ, "cannot read: %s", json_file_port_text(ps));
    case JSON_FILE_ERR_TOO_LARGE:
        return config_fail(ctx, CONFIG_ERR_TOO_LARGE,
                           "larger than CONFIG_FILE_MAX (" OPTIONS_TEXT(CONFIG_FILE_MAX) " bytes)");
    case JSON_FILE_ERR_EMPTY:
        return config_fail(ctx, CONFIG_ERR_JSON, "the file is empty (one JSON object expected)");
    case JSON_FILE_ERR_JSON:
        return config_json_error(ctx, js);
    case JSON_FILE_ERR_NO_VALUE:
        break;
    }
    return config_fail(ctx, CONFIG_ERR_JSON, "must be one JSON object");
}

/* ---- after the file ------------------------------------------------------------------------ */

/* COUNTLY_API_KEY: wins over every other source. */
static config_status config_use_env_key(config_ctx *ctx, const char *env_api_key)
{
    config *cfg = ctx->cfg;
    if (env_api_key == NULL || env_api_key[0] == '\0')
        return CONFIG_OK;
    if (strlen(env_api_key) > CONFIG_API_KEY_MAX)
        return config_fail_at(
            ctx, CONFIG_ERR_VALUE, "COUNTLY_API_KEY",
            "longer than CONFIG_API_KEY_MAX (" OPTIONS_TEXT(CONFIG_API_KEY_MAX) " bytes)");
    (void)snprintf(cfg->api_key, sizeof cfg->api_key, "%s", env_api_key);
    cfg->api_key_from_env = 1;
    return CONFIG_OK;
}

/* Every required key was given a value (the API key: config_resolve_key). */
static config_status config_check_missing(config_ctx *ctx)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const config_key *key = &config_keys[i];
        if (key->required != NULL && !ctx->given[i])
            return config_fail(ctx, CONFIG_ERR_MISSING, "key '%s' is missing (%s)", key->name,
                               key->required);
    }
    return CONFIG_OK;
}

/* 1 when the file gave key name a value. */
static int config_given(const config_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
        if (strcmp(config_keys[i].name, name) == 0)
            return ctx->given[i];
    return 0;
}

/* The key in a key file's text: one line, one trailing LF or CR LF
 * dropped; NULL when it is one, else what is wrong. */
static const char *config_key_line(char *text, size_t *len)
{
    if (*len > 0 && text[*len - 1] == '\n') {
        (*len)--;
        if (*len > 0 && text[*len - 1] == '\r')
            (*len)--;
    }
    text[*len] = '\0';
    if (*len == 0)
        return "is empty (it must hold the API key on one line)";
    for (size_t i = 0; i < *len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n')
            return "holds more than one line (it must hold the API key alone, on one line)";
        if (c < 0x20u || c == 0x7fu)
            return "holds a control character (it must hold the API key alone, on one line)";
    }
    return NULL;
}

/* Reads the key from the file path into cfg->api_key; prefix and `what`
 * name the source in messages ("<config>: key 'api_key_file': P"). Never
 * shows the key. */
static config_status config_read_key_file(config_ctx *ctx, const char *prefix, const char *path,
                                          const char *what)
{
    char text[CONFIG_API_KEY_MAX + 3]; /* the key, CR LF, one byte to see it is too long */
    size_t len = 0, got = 0;
    port_file file;
    port_file_init(&file);
    port_status ps = port_file_open(&file, path, PORT_FILE_READ);
    while (ps == PORT_OK && len < sizeof text - 1) {
        ps = port_file_read(&file, text + len, sizeof text - 1 - len, &got);
        if (ps != PORT_OK || got == 0)
            break;
        len += got;
    }
    (void)port_file_close(&file);
    config_status st = CONFIG_OK;
    const char *problem = NULL;
    if (ps != PORT_OK)
        st = config_fail_at(ctx, CONFIG_ERR_READ, prefix, "%s: cannot read: %s", what,
                            json_file_port_text(ps));
    else if (len == sizeof text - 1)
        st = config_fail_at(ctx, CONFIG_ERR_VALUE, prefix,
                            "%s: longer than CONFIG_API_KEY_MAX (" OPTIONS_TEXT(
                                CONFIG_API_KEY_MAX) " bytes) and a line end",
                            what);
    else if ((problem = config_key_line(text, &len)) != NULL)
        st = config_fail_at(ctx, CONFIG_ERR_VALUE, prefix, "%s %s", what, problem);
    else if (len > CONFIG_API_KEY_MAX)
        st = config_fail_at(
            ctx, CONFIG_ERR_VALUE, prefix,
            "%s: longer than CONFIG_API_KEY_MAX (" OPTIONS_TEXT(CONFIG_API_KEY_MAX) " bytes)",
            what);
    else
        memcpy(ctx->cfg->api_key, text, len + 1);
    memset(text, 0, sizeof text);
    return st;
}

/* api_key_file as a path: a relative one is relative to the folder of
 * the configuration file (as a systemd unit's user expects). */
static config_status config_key_file_path(config_ctx *ctx, char *out, size_t cap)
{
    const char *name = ctx->cfg->api_key_file;
    char folder[CONFIG_PATH_MAX];
    int n;
    if (name[0] == '/' || port_path_folder(ctx->path, folder, sizeof folder) != PORT_OK ||
        strcmp(folder, ".") == 0)
        n = snprintf(out, cap, "%s", name);
    else
        n = snprintf(out, cap, "%s%s%s", folder, strcmp(folder, "/") == 0 ? "" : "/", name);
    if (n < 0 || (size_t)n >= cap)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "key 'api_key_file': the path with the configuration's folder is "
                           "longer than CONFIG_PATH_MAX (%u bytes)",
                           (unsigned)CONFIG_PATH_MAX - 1u);
    return CONFIG_OK;
}

/* Warns later (cfg->file_readable_by_others) when others may read path. */
static void config_note_readable(config_ctx *ctx, const char *path)
{
    int readable = 0;
    if (port_path_readable_by_others(path, &readable) == PORT_OK && readable &&
        !ctx->cfg->file_readable_by_others) {
        ctx->cfg->file_readable_by_others = 1;
        (void)snprintf(ctx->cfg->readable_path, sizeof ctx->cfg->readable_path, "%s", path);
    }
}

/* The credential <dir>/countly-api-key, when there is one: 1 when read
 * (or failed: ctx->status says), 0 when there is none. */
static int config_read_credential(config_ctx *ctx, const char *dir)
{
    char path[CONFIG_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/" CONFIG_CREDENTIAL, dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        (void)config_fail_at(ctx, CONFIG_ERR_VALUE, "CREDENTIALS_DIRECTORY",
                             "longer than CONFIG_PATH_MAX (%u bytes) with /" CONFIG_CREDENTIAL,
                             (unsigned)CONFIG_PATH_MAX - 1u);
        return 1;
    }
    if (port_path_stat(path, NULL, NULL) == PORT_ERR_NOENT)
        return 0;
    (void)config_read_key_file(ctx, "systemd credential", path, path);
    return 1;
}

/* The API key from the first source that has one (config.h). */
static config_status config_resolve_key(config_ctx *ctx, const config_sources *src)
{
    int file_key = config_given(ctx, "api_key");
    int key_file = config_given(ctx, "api_key_file");
    if (file_key && key_file)
        return config_fail(ctx, CONFIG_ERR_VALUE,
                           "keys 'api_key' and 'api_key_file' are both given: keep one");
    if (ctx->file_api_key)
        config_note_readable(ctx, ctx->path);
    if (src->env_api_key != NULL && src->env_api_key[0] != '\0')
        return config_use_env_key(ctx, src->env_api_key);
    if (file_key)
        return CONFIG_OK;
    if (key_file) {
        char path[CONFIG_PATH_MAX];
        char what[CONFIG_PATH_MAX + 24];
        if (config_key_file_path(ctx, path, sizeof path) != CONFIG_OK)
            return ctx->status;
        (void)snprintf(what, sizeof what, "key 'api_key_file': %s", path);
        if (config_read_key_file(ctx, ctx->path, path, what) == CONFIG_OK)
            config_note_readable(ctx, path);
        return ctx->status;
    }
    const char *dir = src->credentials_dir;
    if (dir != NULL && dir[0] != '\0' && config_read_credential(ctx, dir))
        return ctx->status;
    return config_fail(
        ctx, CONFIG_ERR_MISSING,
        "no API key: set COUNTLY_API_KEY, the key 'api_key' or 'api_key_file' in "
        "this file, or provide $CREDENTIALS_DIRECTORY/" CONFIG_CREDENTIAL
        " (systemd LoadCredential=" CONFIG_CREDENTIAL ":...)%s",
        dir != NULL && dir[0] != '\0' ? "; CREDENTIALS_DIRECTORY holds no " CONFIG_CREDENTIAL : "");
}

/* A command-line path (or NULL) replaces the file's. */
static config_status config_override(config_ctx *ctx, const char *option, const char *value,
                                     char *field)
{
    if (value == NULL)
        return CONFIG_OK;
    if (value[0] == '\0')
        return config_fail_at(ctx, CONFIG_ERR_VALUE, option, "must not be empty");
    if (strlen(value) >= CONFIG_PATH_MAX)
        return config_fail_at(ctx, CONFIG_ERR_VALUE, option,
                              "longer than CONFIG_PATH_MAX (%u bytes)",
                              (unsigned)CONFIG_PATH_MAX - 1u);
    (void)snprintf(field, CONFIG_PATH_MAX, "%s", value);
    return CONFIG_OK;
}

/* state_file defaults to "<output_dir>/state.json". */
static config_status config_default_state(config_ctx *ctx)
{
    config *cfg = ctx->cfg;
    if (cfg->state_file[0] != '\0')
        return CONFIG_OK;
    size_t len = strlen(cfg->output_dir);
    const char *sep = cfg->output_dir[len - 1] == '/' ? "" : "/";
    int n =
        snprintf(cfg->state_file, sizeof cfg->state_file, "%s%sstate.json", cfg->output_dir, sep);
    if (n < 0 || (size_t)n >= sizeof cfg->state_file)
        return config_fail_at(ctx, CONFIG_ERR_VALUE, "output_dir",
                              "too long for the default state_file \"<output_dir>/state.json\" "
                              "(CONFIG_PATH_MAX is %u bytes)",
                              (unsigned)CONFIG_PATH_MAX - 1u);
    return CONFIG_OK;
}

static config_status config_finish(config_ctx *ctx, const config_sources *src)
{
    config *cfg = ctx->cfg;
    config_status st = config_check_missing(ctx);
    if (st == CONFIG_OK)
        st = config_resolve_key(ctx, src);
    if (st == CONFIG_OK)
        st = config_override(ctx, "--output", src->output_dir, cfg->output_dir);
    if (st == CONFIG_OK)
        st = config_override(ctx, "--state", src->state_file, cfg->state_file);
    if (st == CONFIG_OK)
        st = config_default_state(ctx);
    return st;
}

config_status config_load_from(config *cfg, const config_sources *src, jstream *scratch)
{
    config_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    config_defaults(cfg);
    ctx.cfg = cfg;
    ctx.path = src->path != NULL ? src->path : "(no configuration file)";
    if (src->env_api_key != NULL) {
        ctx.secret[0] = src->env_api_key;
        ctx.secret_len[0] = strlen(src->env_api_key);
    }
    config_status st = CONFIG_ERR_READ;
    if (src->path == NULL || scratch == NULL)
        (void)config_fail(&ctx, st, "no file or no scanner given");
    else
        st = config_read(&ctx, scratch);
    if (st == CONFIG_OK)
        st = config_finish(&ctx, src);
    if (st != CONFIG_OK) {
        memset(cfg->api_key, 0, sizeof cfg->api_key);
        memset(&cfg->proxy, 0, sizeof cfg->proxy);
    }
    return st;
}

config_status config_load(config *cfg, const char *path, const char *env_api_key,
                          const char *output_dir, const char *state_file, jstream *scratch)
{
    config_sources src = {path, env_api_key, NULL, output_dir, state_file};
    return config_load_from(cfg, &src, scratch);
}
