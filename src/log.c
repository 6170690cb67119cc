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

/* Length of the secret when it starts at text[at] (of len bytes), else 0. */
static size_t secret_at(const char *text, size_t len, size_t at, const char *secret, size_t slen)
{
    return len - at >= slen && memcmp(text + at, secret, slen) == 0 ? slen : 0;
}

/* How many bytes of text, read from its start, fit in room bytes once each
 * secret is written as "***" (a "***" fits whole or not at all). */
static size_t scrub_fit(const char *text, size_t len, const char *secret, size_t slen, size_t room)
{
    size_t r = 0;
    size_t w = 0;
    while (r < len) {
        size_t hit = secret_at(text, len, r, secret, slen);
        w += hit > 0 ? 3 : 1;
        if (w > room)
            break;
        r += hit > 0 ? hit : 1;
    }
    return r;
}

/* 1 when text (of len bytes) ends in a start of the secret, shorter than it. */
static int ends_in_secret_start(const char *text, size_t len, const char *secret, size_t slen)
{
    for (size_t n = 1; n < slen && n <= len; n++)
        if (memcmp(text + len - n, secret, n) == 0)
            return 1;
    return 0;
}

/* Rewrites the part of the line that fits, each secret (left to right, not
 * overlapping) as "***". The part is first moved to the end of the buffer
 * and read from there: the rewrite never catches up with what it has yet to
 * read, as a secret shorter than "***" makes every byte left come out at
 * least as long, and a longer one makes the result shorter. */
int log_scrub(char *line, size_t cap, const char *secret)
{
    size_t len = strlen(line);
    int cut = len + 1 >= cap;
    if (secret == NULL || secret[0] == '\0')
        return cut;
    size_t slen = strlen(secret);
    size_t fit = scrub_fit(line, len, secret, slen, cap - 1);
    cut |= fit < len;
    const char *in = memmove(line + cap - 1 - fit, line, fit);
    size_t w = 0;
    for (size_t r = 0; r < fit;) {
        size_t hit = secret_at(in, fit, r, secret, slen);
        if (hit > 0) {
            memcpy(line + w, "***", 3);
            w += 3;
            r += hit;
        } else {
            line[w++] = in[r++];
        }
    }
    while (cut && ends_in_secret_start(line, w, secret, slen))
        w--; /* the secret may go on past the cut */
    line[w] = '\0';
    return cut;
}

/* Formats prefix + message into the line buffer, scrubbed of the secret;
 * a cut line ends in "...". Returns its length. */
static size_t format_line(log_ctx *log, const char *prefix, const char *fmt, va_list ap)
{
    size_t cap = LOG_LINE_MAX - 3; /* leaves room for "..." */
    int n = snprintf(log->line, cap, "%s", prefix);
    size_t len = n > 0 ? (size_t)n : 0;
    if (len >= cap)
        len = cap - 1;
    if (vsnprintf(log->line + len, cap - len, fmt, ap) < 0)
        log->line[len] = '\0';
    int cut = log_scrub(log->line, cap, log->secret);
    len = strlen(log->line);
    if (cut) {
        memcpy(log->line + len, "...", 4);
        len += 3;
    }
    return len;
}

/* Ends a progress line left on screen so the next line starts clean. */
static void clear_progress(log_ctx *log)
{
    if (log->progress_shown) {
        port_console_err("\n", 1);
        log->progress_shown = 0;
    }
}

/* Writes one line to stderr, after any progress line on screen. */
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
