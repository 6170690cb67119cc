/*
 * log.h - the one-line messages countly-sync prints.
 *
 * Every message is one line on the diagnostics stream (stderr), formatted
 * into a fixed buffer: errors, warnings, notices, the run summary and, at
 * -v, debug lines. As a last line of defence every line is scrubbed of the
 * API key before it is written, whatever produced it.
 *
 * How a line looks depends on where stderr goes (log_style_for):
 *
 *   terminal  "countly-sync: warning: ..."; one progress line redrawn in
 *             place, never wider than the terminal
 *   text      "2026-12-06T16:20:37Z countly-sync: warning: ..." (a file,
 *             a pipe, cron's mail): an RFC 3339 UTC timestamp first
 *   journal   "<4>countly-sync: warning: ..." (systemd's JOURNAL_STREAM
 *             names stderr): the sd-daemon priority, <3> error, <4> warning,
 *             <5> notice, <6> info (summary, progress), <7> debug; the
 *             journal keeps the time
 *   json      {"ts":"...","level":"warning","msg":"...","stream":"users",
 *             "app_id":"...","page":3} (--log-format json), the context
 *             fields where known (log_set_context)
 *
 * Off a terminal progress is printed as ordinary lines at most every
 * LOG_PROGRESS_INTERVAL_MS. Check's report and version go to stdout as
 * they are (log_report).
 */
#ifndef COUNTLY_SYNC_LOG_H
#define COUNTLY_SYNC_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

typedef enum {
    LOG_QUIET = 0, /* errors only (-q) */
    LOG_NORMAL,    /* errors, warnings, notices, summary */
    LOG_VERBOSE,   /* and debug lines (-v) */
    LOG_TRACE      /* and a debug line per HTTP exchange (-vv) */
} log_level;

/* How lines are written (see above). */
typedef enum {
    LOG_STYLE_TERMINAL = 0, /* plain lines; progress redrawn in place */
    LOG_STYLE_TEXT,         /* an RFC 3339 UTC timestamp before each line */
    LOG_STYLE_JOURNAL,      /* the sd-daemon "<N>" priority before each line */
    LOG_STYLE_JSON          /* one JSON object per line */
} log_style;

/* Severity of a line: its sd-daemon priority, json "level" and text prefix. */
typedef enum {
    LOG_SEV_ERROR = 3,   /* <3> "error" */
    LOG_SEV_WARNING = 4, /* <4> "warning" */
    LOG_SEV_NOTICE = 5,  /* <5> "notice" */
    LOG_SEV_INFO = 6,    /* <6> "info": the run summary, progress */
    LOG_SEV_DEBUG = 7    /* <7> "debug" */
} log_severity;

/* What a progress line says (log_progress_format). */
typedef struct {
    const char *stream;        /* "users" */
    const char *app_id;        /* the app being read, or NULL */
    unsigned app_index;        /* 1-based position of the app; 0 = not known */
    unsigned app_count;        /* apps this stream reads */
    unsigned long window_rows; /* rows of the app's window so far */
    unsigned long rows;        /* rows of the stream so far */
    double rate;               /* rows per second */
    long eta_seconds;          /* until the stream is done; < 0 = not known */
} log_progress_info;

typedef struct {
    log_level level;
    log_style style;
    unsigned width;     /* terminal columns (LOG_STYLE_TERMINAL) */
    int progress_shown; /* a progress line is on screen, unterminated */
    uint64_t last_progress_ms;
    const char *secret;           /* scrubbed from every line (the API key), or NULL */
    char stream[LOG_CONTEXT_MAX]; /* json context: "" = not known */
    char app_id[LOG_CONTEXT_MAX];
    unsigned long page; /* 0 = not known */
    char line[LOG_LINE_MAX + 8];
    char json[LOG_JSON_LINE_MAX];
} log_ctx;

/* The style for stderr: json when asked for, else the journal, else a
 * terminal, else timestamped text. */
log_style log_style_for(int json, int terminal, int journal);

/* Sets up logging at level in style; width = terminal columns (0: 80). */
void log_init(log_ctx *log, log_level level, log_style style, unsigned width);

/* Registers the secret to scrub from every line (kept by pointer). */
void log_set_secret(log_ctx *log, const char *secret);

/* The context json lines carry: stream, app id (NULL = not known, each cut
 * to LOG_CONTEXT_MAX - 1 bytes) and page (0 = not known). */
void log_set_context(log_ctx *log, const char *stream, const char *app_id, unsigned long page);

/* "countly-sync: error: ..." - always printed. */
void log_error(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: warning: ..." - unless quiet. */
void log_warn(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: ..." - notices, unless quiet. */
void log_notice(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: ..." - the run summary (info), unless quiet. */
void log_info(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: debug: ..." - only with -v. */
void log_debug(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A debug line only with -vv (the detail of each HTTP exchange). */
void log_trace(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A progress line (info): redrawn on a terminal, a rate-limited line
 * otherwise; force prints one regardless of the interval. */
void log_progress(log_ctx *log, int force, const log_progress_info *p);

/* Writes the progress line into out (cap bytes, NUL-terminated) in at most
 * width - 1 columns (width 0: no limit; the last column stays free so that
 * no terminal wraps): all fields when they fit, else a shorter form - app
 * i of N, rows, rate, ETA, dropped from the end - and at worst cut. Pure.
 * Returns its length. */
size_t log_progress_format(const log_progress_info *p, unsigned width, char *out, size_t cap);

/* Escapes len bytes as a JSON string body into out (cap bytes, NUL
 * included): quote, backslash and control characters escaped, valid UTF-8
 * kept, each invalid byte written as \ufffd. Stops before a character that
 * does not fit (*cut set). Returns the length written. */
size_t log_json_escape(const char *text, size_t len, char *out, size_t cap, int *cut);

/* Replaces each secret in line (a string in cap bytes) with "***"; returns 1 when the line
 * is cut (it fills the buffer, or the result does not fit): no start of the secret is then
 * left at its end. */
int log_scrub(char *line, size_t cap, const char *secret);

/* Writes a report line to stdout (check's report, version). */
void log_report(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* COUNTLY_SYNC_LOG_H */
