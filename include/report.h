/*
 * report.h - the run report (--report, JSON) and the metrics (--metrics,
 * Prometheus text format) written after every sync (SPEC "Run report and
 * metrics").
 *
 * The agent fills a report_run with the run's figures; the writers turn it
 * into text through a report_out: a caller's buffer that is handed to a
 * flush function whenever it fills (a file, the console), or, without one,
 * that must hold the whole text (the unit tests). Nothing is allocated.
 * report_save writes either document to a file atomically (a hidden
 * temporary name in the same folder, fsync'ed, renamed over the file, the
 * folder fsync'ed), or the report to stdout for "-".
 *
 * Statuses: REPORT_ERR_FULL the text does not fit a buffer without a flush
 * (or a path does not fit); REPORT_ERR_WRITE a file could not be written,
 * synced or renamed (report_save then leaves the system's reason in its
 * buffer: "No such file or directory");
 * REPORT_ERR_READ a file could not be read.
 */
#ifndef COUNTLY_SYNC_REPORT_H
#define COUNTLY_SYNC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "text.h"

typedef enum {
    REPORT_OK = 0,
    REPORT_ERR_FULL,  /* the text or a path does not fit its buffer */
    REPORT_ERR_WRITE, /* writing, syncing or renaming the file failed */
    REPORT_ERR_READ   /* the file cannot be opened or read */
} report_status;

/* Which document report_save writes. */
typedef enum { REPORT_JSON = 0, REPORT_METRICS } report_kind;

/* The streams, in the report's order. */
enum { REPORT_APPS = 0, REPORT_GROUPS, REPORT_USERS, REPORT_STREAMS };

/* One stream's figures. */
typedef struct {
    int enabled;
    int completed;
    unsigned long rows;      /* rows committed to its file this run */
    unsigned long pages;     /* pages read completely */
    uint64_t bytes_received; /* body bytes after decoding (gunzip) */
    uint64_t bytes_on_wire;  /* body bytes as they came over the network */
    double seconds;
} report_stream;

/* One app of the users stream. */
typedef struct {
    text_object_id app_id;
    int64_t cursor;     /* the next window's start (server clock), -1 when none yet */
    unsigned long rows; /* users written for it this run */
} report_app;

/* One file the run wrote or appended to. */
typedef struct {
    char path[REPORT_PATH_MAX]; /* relative to output_dir */
    unsigned long rows;         /* rows this run wrote to it */
    uint64_t bytes;             /* bytes this run wrote to it */
    int complete;               /* closed and whole (published), not growing */
    char sha256[65];            /* hex digest of a complete file, "" otherwise */
} report_file;

typedef struct {
    const char *command;                              /* "sync" */
    int exit_code;                                    /* the process's */
    char outcome[LOG_LINE_MAX + AGENT_WHERE_MAX + 2]; /* "ok", or the run's one-line error */
    const char *server_url;                           /* as configured; NULL when not known */
    int64_t run_start;                                /* server clock; -1 when no answer came */
    int64_t started_at;                               /* local clock, unix seconds */
    int64_t finished_at;
    double duration_seconds;
    report_stream streams[REPORT_STREAMS];
    unsigned app_count;
    report_app apps[CONFIG_APPS_MAX];
    unsigned file_count;
    report_file files[REPORT_FILES_MAX];
} report_run;

/* Where text goes: flush(user, data, len) returns 0 when the bytes were
 * taken; a NULL flush keeps everything in buf. */
typedef int (*report_flush_fn)(void *user, const char *data, size_t len);

typedef struct {
    char *buf;
    size_t cap;
    size_t used;
    report_flush_fn flush;
    void *user;
    report_status status; /* sticky: the first failure */
} report_out;

/* Words for a status. */
const char *report_strerror(report_status status);

/* Empties r for a run of command started at started_at (local clock). */
void report_init(report_run *r, const char *command, int64_t started_at);

/* Adds rows to app_id's entry (created on first use) and sets its cursor. */
report_status report_app_add(report_run *r, const char *app_id, int64_t cursor, unsigned long rows);

/* Adds a file (path relative to output_dir); the returned entry, or NULL
 * when REPORT_FILES_MAX are listed already. */
report_file *report_file_add(report_run *r, const char *path, unsigned long rows, uint64_t bytes,
                             int complete);

/* Starts writing into buf (cap bytes), flushing through flush when it fills. */
void report_out_init(report_out *o, char *buf, size_t cap, report_flush_fn flush, void *user);

/* Flushes what is left; the sticky status. */
report_status report_out_end(report_out *o);

/* The report: one JSON object and a newline (SPEC "Run report"). */
report_status report_json(const report_run *r, report_out *o);

/* The metrics in Prometheus text format; last_success (unix seconds) is
 * left out when negative. */
report_status report_metrics(const report_run *r, int64_t last_success, report_out *o);

/* countly_sync_last_success_timestamp_seconds in a previous metrics text,
 * or -1 when it holds none. */
int64_t report_metrics_last_success(const char *text, size_t len);

/* The same from the metrics file at path (-1 when it does not exist or
 * holds none); buf (cap bytes) holds the file's text. */
int64_t report_read_last_success(const char *path, char *buf, size_t cap);

/* The SHA-256 of a file as 64 hex digits and a NUL; buf is read space. */
report_status report_sha256_file(const char *path, char hex[65], uint8_t *buf, size_t cap);

/* Writes the document to path atomically (the report only: "-" is stdout),
 * using buf (cap bytes) as the output buffer; a new file gets permission
 * mode. On REPORT_ERR_WRITE buf holds the system's reason (a NUL-ended
 * line, "" when there was none). */
report_status report_save(const char *path, report_kind kind, const report_run *r,
                          int64_t last_success, char *buf, size_t cap, unsigned mode);

#endif /* COUNTLY_SYNC_REPORT_H */
