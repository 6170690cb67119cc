/*
 * state.h - the sync state file: cursors and the run in progress.
 *
 * A small JSON document:
 *   {"version":2,
 *    "server_url":"https://host/prefix", the server it belongs to (url_normalize)
 *    "users_csv_bytes":12345,            committed size of users.csv
 *    "apps":{"<app id>":1717650000,...},  per app: the next window start (lac cursor)
 *    "run":{"app":"<app id>","from":C,"to":R,"all_history":false,
 *           "range":"null|seconds|millis|done","lo":L|null,"sub_hi":H,"span":S,
 *           "tie":false,"after":"<_id>"|null},   the window being read, if any
 *    "part":{"stamp":1765040293,"number":3,"bytes":12345,"rows":40,"open":true}}
 *            the runs layout's last users part (runs.h): the run stamp it is
 *            named after, its number, and while open the committed size of
 *            its hidden temporary file and the rows it holds (absent before
 *            the first part)
 * ("run" holds a window_position, window.h). A version 1 state (release
 * 0.1: "skip", "last_lac", "last_id") is still read: its position becomes
 * the one after its last committed record (window_position_legacy).
 * The file is replaced atomically: written to "<path>.tmp", fsync'ed,
 * renamed over <path>, and the folder fsync'ed. It is committed only after
 * the rows it covers are durable in users.csv, so a kill -9 at any moment
 * leaves a state that matches the data.
 *
 * The file is created with exactly the permission in sync_state.file_mode
 * (0: FILE_MODE_DEFAULT), whatever the umask.
 *
 * The state belongs to one server: state_claim_server refuses a state
 * that names another (the agent exits 78 before any network access), and
 * adopts a state written before the rule (no "server_url"), which the next
 * save then records.
 *
 * A missing file is a first run. A file that exists but cannot be read or
 * parsed is an error whose message says how to recover; it is never
 * silently replaced by a fresh state.
 */
#ifndef COUNTLY_SYNC_STATE_H
#define COUNTLY_SYNC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "jstream.h"
#include "options.h"
#include "text.h"
#include "window.h"

typedef enum {
    STATE_OK = 0,
    STATE_ERR_READ,      /* exists but cannot be read */
    STATE_ERR_CORRUPT,   /* not a valid state document */
    STATE_ERR_TOO_LARGE, /* larger than STATE_FILE_MAX */
    STATE_ERR_TOO_MANY,  /* more apps than CONFIG_APPS_MAX */
    STATE_ERR_WRITE,     /* writing, syncing or renaming failed */
    STATE_ERR_NOSPC,     /* no space left on device */
    STATE_ERR_SERVER     /* the state belongs to another server */
} state_status;

typedef struct {
    text_object_id app_id;
    int64_t cursor; /* next window starts here (unix seconds) */
} state_app;

/* The window being read when the run stopped. */
typedef struct {
    int active;
    text_object_id app_id;
    int64_t from; /* window [from, to) on lac */
    int64_t to;
    int all_history;     /* the first-run-with-0-days filter */
    window_position pos; /* where reading stands (window.h) */
    int legacy;          /* loaded from a version 1 (skip paging) state: pos was derived
                            from its last committed record */
} state_run;

/* The runs layout's last users part (runs.h). */
typedef struct {
    int known;       /* recorded ("part" in the file) */
    int open;        /* its hidden temporary file is being written (not yet renamed) */
    int64_t stamp;   /* the run stamp it is named after (unix seconds, server clock) */
    unsigned number; /* 1..STATE_PART_MAX */
    uint64_t bytes;  /* while open: committed size of its temporary file */
    uint64_t rows;   /* while open: the rows committed to it (by every run) */
    int gzip;        /* its file is gzipped (".csv.gz"): the name and content follow it */
    uint64_t text;   /* while open: CSV text bytes committed to it (gzip: before deflate) */
} state_part;

/* Largest part number (four digits in its name). */
#define STATE_PART_MAX 9999u

typedef struct {
    int exists;                      /* a state file was found */
    char server_url[CONFIG_URL_MAX]; /* the server it belongs to, normalised; "" = not recorded */
    unsigned file_mode; /* permission of the file when saved (0: FILE_MODE_DEFAULT); set by the
                           caller after state_load */
    uint64_t users_csv_bytes; /* committed size of users.csv */
    unsigned app_count;
    state_app apps[CONFIG_APPS_MAX];
    state_run run;
    state_part part;
    int64_t last_stamp; /* runs layout: the last run's stamp (runs.h); 0 = none recorded */
    char detail[CONFIG_DETAIL_MAX]; /* one line on the last error */
} sync_state;

/* Words for a status. */
const char *state_strerror(state_status status);

/* Loads path; a missing file gives an empty state with exists = 0. */
state_status state_load(sync_state *state, const char *path, jstream *scratch);

/* Ties the state to server_url (normalised, url_normalize): STATE_OK when
 * the state names it, and when it names none (a first run, or a state
 * written before the rule: adopted, recorded by the next save);
 * STATE_ERR_SERVER when it names another, with a message in detail that
 * names both, the state file path and what to do. */
state_status state_claim_server(sync_state *state, const char *path, const char *server_url);

/* Cursor of app_id, or -1 when the app has none yet. */
int64_t state_cursor(const sync_state *state, const char *app_id);

/* Sets the cursor of app_id (adding the app if new). */
state_status state_set_cursor(sync_state *state, const char *app_id, int64_t cursor);

/* Writes state atomically to path, serializing into buf (cap bytes). */
state_status state_save(sync_state *state, const char *path, char *buf, size_t cap);

#endif /* COUNTLY_SYNC_STATE_H */
