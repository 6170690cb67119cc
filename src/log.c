/*
 * log.c - one-line messages with API-key scrubbing (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "port.h"

void log_init(log_ctx *log, log_level level, int terminal)
{
    memset(log, 0, sizeof *log);
    log->level = level;
    log->terminal = terminal;
    log->last_progress_ms = port_clock_ms(); /* the first plain line after an interval */
}

void log_set_secret(log_ctx *log, const char *secret)
{
    log->secret = (secret != NULL && secret[0] != '\0') ? secret : NULL;
}

/* Replaces every occurrence of the secret in the line with "***". */
static void scrub(log_ctx *log)
{
    if (log->secret == NULL)
        return;
    size_t slen = strlen(log->secret);
    char *hit;
    while ((hit = strstr(log->line, log->secret)) != NULL) {
        size_t tail = strlen(hit + slen);
        memcpy(hit, "***", 3);
        memmove(hit + 3, hit + slen, tail + 1);
    }
}

/* Formats prefix + message into the line buffer ("..." when cut). */
static size_t format_line(log_ctx *log, const char *prefix, const char *fmt, va_list ap)
{
    size_t cap = LOG_LINE_MAX;
    int n = snprintf(log->line, cap, "%s", prefix);
    size_t len = n > 0 ? (size_t)n : 0;
    n = vsnprintf(log->line + len, cap - len, fmt, ap);
    if (n < 0)
        n = 0;
    len += (size_t)n;
    if (len >= cap) {
        len = cap - 1;
        memcpy(log->line + len - 3, "...", 3);
    }
    log->line[len] = '\0';
    scrub(log);
    return strlen(log->line);
}

/* Ends a progress line left on screen so the next line starts clean. */
static void clear_progress(log_ctx *log)
{
    if (log->progress_shown) {
        port_console_err("\n", 1);
        log->progress_shown = 0;
    }
}

static void emit(log_ctx *log, const char *prefix, const char *fmt, va_list ap)
{
    size_t len = format_line(log, prefix, fmt, ap);
    clear_progress(log);
    log->line[len++] = '\n';
    port_console_err(log->line, len);
}

void log_error(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(log, "countly-sync: error: ", fmt, ap);
    va_end(ap);
}

void log_warn(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_NORMAL)
        return;
    va_start(ap, fmt);
    emit(log, "countly-sync: warning: ", fmt, ap);
    va_end(ap);
}

void log_notice(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_NORMAL)
        return;
    va_start(ap, fmt);
    emit(log, "countly-sync: ", fmt, ap);
    va_end(ap);
}

void log_debug(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_VERBOSE)
        return;
    va_start(ap, fmt);
    emit(log, "countly-sync: debug: ", fmt, ap);
    va_end(ap);
}

void log_progress(log_ctx *log, int force, const char *fmt, ...)
{
    va_list ap;
    uint64_t now = port_clock_ms();
    if (log->level < LOG_NORMAL)
        return;
    if (!log->terminal && !force && now - log->last_progress_ms < LOG_PROGRESS_INTERVAL_MS)
        return;
    log->last_progress_ms = now;
    va_start(ap, fmt);
    size_t len =
        format_line(log, log->terminal ? "\r\033[Kcountly-sync: " : "countly-sync: ", fmt, ap);
    va_end(ap);
    if (log->terminal) {
        port_console_err(log->line, len);
        log->progress_shown = 1;
        return;
    }
    log->line[len++] = '\n';
    port_console_err(log->line, len);
}

void log_report(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len = format_line(log, "", fmt, ap);
    va_end(ap);
    log->line[len++] = '\n';
    port_console_out(log->line, len);
}
