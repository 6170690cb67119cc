/*
 * config.h - configuration.json, parsed and checked into a fixed struct.
 *
 * Every key of the README's configuration table, each value either a JSON string ("100", "true") as
 * in the seed connector or the native type (100, true). Unknown keys are
 * refused with the closest known key suggested; every error names the key,
 * the value and the allowed range, for exit code 78. The API key is never
 * part of any message. Where the key comes from, first found wins:
 *   1. COUNTLY_API_KEY (the environment, passed in by the caller);
 *   2. the file's "api_key", or the file named by "api_key_file" (one line;
 *      a trailing LF or CR LF is ignored; a relative path is relative to
 *      the configuration file's folder) - both keys together are an error;
 *   3. <CREDENTIALS_DIRECTORY>/countly-api-key (systemd LoadCredential=,
 *      the folder passed in by the caller), read the same way;
 * else CONFIG_ERR_MISSING naming all of them.
 *
 * The file is read through the port into the caller's jstream (its record
 * buffer and tokens are free before a run starts), which also gives strict
 * JSON validation with a byte offset on error.
 */
#ifndef COUNTLY_SYNC_CONFIG_H
#define COUNTLY_SYNC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "jstream.h"
#include "options.h"
#include "proxy.h"
#include "text.h"
#include "url.h"

/* output_layout: one users.csv that grows, or closed files per run. */
enum { CONFIG_LAYOUT_APPEND = 0, CONFIG_LAYOUT_RUNS = 1 };

typedef enum {
    CONFIG_OK = 0,
    CONFIG_ERR_READ,        /* the file cannot be opened or read */
    CONFIG_ERR_TOO_LARGE,   /* larger than CONFIG_FILE_MAX */
    CONFIG_ERR_JSON,        /* not valid JSON, or not one object */
    CONFIG_ERR_UNKNOWN_KEY, /* a key that is not a setting */
    CONFIG_ERR_MISSING,     /* a required key is absent */
    CONFIG_ERR_TYPE,        /* wrong JSON type for the key */
    CONFIG_ERR_RANGE,       /* a number outside its range */
    CONFIG_ERR_VALUE        /* a malformed value (URL, app id, ...) */
} config_status;

typedef struct {
    char server_url[CONFIG_URL_MAX]; /* as configured, trailing '/' removed */
    url_parts server;                /* parsed server_url */
    char api_key[CONFIG_API_KEY_MAX + 1];
    int api_key_from_env; /* 1 when COUNTLY_API_KEY was used */
    int all_apps;         /* app_id "*" */
    unsigned app_count;   /* otherwise: the listed ids */
    text_object_id app_ids[CONFIG_APPS_MAX];
    uint32_t max_records_per_page;       /* 1..1000, default 100 */
    uint32_t request_timeout_seconds;    /* 1..600, default 30 */
    uint32_t retry_attempts;             /* 0..10, default 3 */
    int enable_apps;                     /* default 1 */
    int enable_groups;                   /* default 1 */
    int enable_users;                    /* default 1 */
    uint32_t initial_sync_days;          /* 0..3650, default 90; 0 = all history */
    char ca_file[CONFIG_PATH_MAX];       /* "" = system bundle */
    int tls_verify;                      /* default 1 */
    int http_compression;                /* default 1: ask for gzip bodies */
    int proxy_given;                     /* `proxy` is set ("" too): the environment is not read */
    proxy_server proxy;                  /* parsed `proxy`; enabled 0 for "" */
    char output_dir[CONFIG_PATH_MAX];    /* default "./countly-data" */
    char state_file[CONFIG_PATH_MAX];    /* default "<output_dir>/state.json" */
    char api_key_file[CONFIG_PATH_MAX];  /* as configured; "" = none */
    uint32_t file_mode;                  /* permission of created files, default 0600 */
    int output_gzip;                     /* output_compression "gzip" (default "none") */
    uint32_t output_layout;              /* CONFIG_LAYOUT_APPEND (default) or CONFIG_LAYOUT_RUNS */
    uint32_t output_part_mb;             /* runs layout: users part size, 1..4096, default 64 */
    int file_readable_by_others;         /* a file holding the API key is group/world readable: */
    char readable_path[CONFIG_PATH_MAX]; /* that file (the configuration or api_key_file) */
    char detail[CONFIG_DETAIL_MAX];      /* one line on the last error */
} config;

/* Words for a status. */
const char *config_strerror(config_status status);

/* What config_load_from reads besides the file's text. */
typedef struct {
    const char *path;            /* the configuration file */
    const char *env_api_key;     /* COUNTLY_API_KEY, or NULL */
    const char *credentials_dir; /* CREDENTIALS_DIRECTORY, or NULL */
    const char *output_dir;      /* --output, or NULL */
    const char *state_file;      /* --state, or NULL */
} config_sources;

/* Loads src->path into cfg, the key from the first source that has one
 * (see above); output_dir and state_file win over the file. scratch is a
 * jstream the caller is not using. */
config_status config_load_from(config *cfg, const config_sources *src, jstream *scratch);

/* config_load_from without a credentials folder. env_api_key (COUNTLY_API_KEY, or NULL) wins over
 * the file; output_dir and state_file (command-line overrides, or NULL)
 * win over the file. scratch is a jstream the caller is not using. */
config_status config_load(config *cfg, const char *path, const char *env_api_key,
                          const char *output_dir, const char *state_file, jstream *scratch);

#endif /* COUNTLY_SYNC_CONFIG_H */
