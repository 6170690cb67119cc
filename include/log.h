/*
 * log.h - the one-line messages countly-sync prints.
 *
 * Every message is one line on the diagnostics stream (stderr), formatted
 * into a fixed buffer: errors, warnings, notices, the run summary and, at
 * -v, debug lines. As a last line of defence every line is scrubbed of the
 * API key before it is written, whatever produced it. On a terminal, a
 * progress line is redrawn in place; elsewhere progress is printed as plain
 * lines at most every LOG_PROGRESS_INTERVAL_MS.
 */
#ifndef COUNTLY_SYNC_LOG_H
#define COUNTLY_SYNC_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

typedef enum {
    LOG_QUIET = 0, /* errors only (-q) */
    LOG_NORMAL,    /* errors, warnings, notices, summary */
    LOG_VERBOSE    /* and debug lines (-v) */
} log_level;

typedef struct {
    log_level level;
    int terminal;       /* stderr is a terminal: progress redraws in place */
    int progress_shown; /* a progress line is on screen, unterminated */
    uint64_t last_progress_ms;
    const char *secret; /* scrubbed from every line (the API key), or NULL */
    char line[LOG_LINE_MAX + 8];
} log_ctx;

/* Sets up logging at level; terminal says whether stderr is a terminal. */
void log_init(log_ctx *log, log_level level, int terminal);

/* Registers the secret to scrub from every line (kept by pointer). */
void log_set_secret(log_ctx *log, const char *secret);

/* "countly-sync: error: ..." - always printed. */
void log_error(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: warning: ..." - unless quiet. */
void log_warn(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: ..." - notices and the summary, unless quiet. */
void log_notice(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "countly-sync: debug: ..." - only with -v. */
void log_debug(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A progress line: redrawn on a terminal, rate-limited plain line otherwise.
 * force prints a plain line regardless of the interval. */
void log_progress(log_ctx *log, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces each secret in line (a string in cap bytes) with "***"; returns 1 when the line
 * is cut (it fills the buffer, or the result does not fit): no start of the secret is then
 * left at its end. */
int log_scrub(char *line, size_t cap, const char *secret);

/* Writes a report line to stdout (check's report, version). */
void log_report(log_ctx *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* COUNTLY_SYNC_LOG_H */
