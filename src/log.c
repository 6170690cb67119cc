/*
 * log.c - one-line messages with API-key scrubbing, as text, for the
 * journal or as JSON lines (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "civil_time.h"
#include "json_string.h"
#include "port.h"

/* Room a json line keeps for its end: the "..." of a cut message, the
 * context fields (each escaped at most 6 bytes a byte) and "}\n". */
#define LOG_JSON_TAIL (3 + 16 * LOG_CONTEXT_MAX + 64)
_Static_assert(LOG_JSON_LINE_MAX > LOG_JSON_TAIL + 128, "a json line holds its fields");

log_style log_style_for(int json, int terminal, int journal)
{
    if (json)
        return LOG_STYLE_JSON;
    if (journal)
        return LOG_STYLE_JOURNAL;
    return terminal ? LOG_STYLE_TERMINAL : LOG_STYLE_TEXT;
}

void log_init(log_ctx *log, log_level level, log_style style, unsigned width)
{
    memset(log, 0, sizeof *log);
    log->level = level;
    log->style = style;
    log->width = width > 0 ? width : 80;
    log->last_progress_ms = port_clock_ms(); /* the first plain line after an interval */
}

/* Copies text (NULL = "") into a context field, cut to fit. */
static void set_field(char *field, const char *text)
{
    size_t len = text != NULL ? strnlen(text, LOG_CONTEXT_MAX - 1) : 0;
    memcpy(field, text != NULL ? text : "", len);
    field[len] = '\0';
}

void log_set_context(log_ctx *log, const char *stream, const char *app_id, unsigned long page)
{
    set_field(log->stream, stream);
    set_field(log->app_id, app_id);
    log->page = page;
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

/* ---- JSON lines ---------------------------------------------------------------------- */

/* Length of the valid UTF-8 character at s (n bytes left): 1..4, or 0 when
 * the bytes there are not one (stray continuation, overlong, surrogate,
 * above U+10FFFF, or cut short). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need = 1;
    unsigned char lo = 0x80; /* the range of the second byte */
    unsigned char hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* not overlong */
        hi = c == 0xED ? 0x9F : 0xBF; /* not a surrogate */
    } else if (c >= 0xF0) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80; /* not overlong */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* not above U+10FFFF */
    }
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need + 1;
}

size_t log_json_escape(const char *text, size_t len, char *out, size_t cap, int *cut)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t w = 0;
    *cut = 0;
    for (size_t r = 0; r < len;) {
        size_t n = utf8_char(s + r, len - r);
        size_t got = 0;
        if (n == 0) {
            got = 6;
            if (w + got < cap)
                memcpy(out + w, "\\ufffd", 6);
            n = 1;
        } else if (json_string_escape(text + r, n, out + w, cap - w - 1, &got) != JSON_STRING_OK) {
            got = cap; /* does not fit */
        }
        if (w + got >= cap) {
            *cut = 1;
            break;
        }
        w += got;
        r += n;
    }
    if (cap > 0)
        out[w] = '\0';
    return w;
}

/* Appends the escaped text to the json buffer at *w, leaving room bytes
 * free; returns 1 when it was cut. */
static int json_put(log_ctx *log, size_t *w, const char *text, size_t room)
{
    int cut = 1;
    size_t cap = sizeof log->json - room;
    if (*w < cap)
        *w += log_json_escape(text, strlen(text), log->json + *w, cap - *w, &cut);
    return cut;
}

/* Appends raw text (ASCII, no escapes needed) to the json buffer at *w. */
static void json_raw(log_ctx *log, size_t *w, const char *text)
{
    size_t len = strlen(text);
    if (*w + len < sizeof log->json) {
        memcpy(log->json + *w, text, len);
        *w += len;
    }
}

static const char *const LEVEL_NAMES[] = {"",        "",       "",     "error",
                                          "warning", "notice", "info", "debug"};

/* Writes the message in log->line as one JSON line with log's context. */
static void emit_json(log_ctx *log, log_severity sev)
{
    char ts[CIVIL_TIME_ISO8601_LEN + 1];
    size_t w = 0;
    (void)civil_time_format_iso8601(port_time_utc(), ts);
    json_raw(log, &w, "{\"ts\":\"");
    json_raw(log, &w, ts);
    json_raw(log, &w, "\",\"level\":\"");
    json_raw(log, &w, LEVEL_NAMES[sev]);
    json_raw(log, &w, "\",\"msg\":\"");
    if (json_put(log, &w, log->line, LOG_JSON_TAIL))
        json_raw(log, &w, "...");
    json_raw(log, &w, "\"");
    if (log->stream[0] != '\0') {
        json_raw(log, &w, ",\"stream\":\"");
        (void)json_put(log, &w, log->stream, 8);
        json_raw(log, &w, "\"");
    }
    if (log->app_id[0] != '\0') {
        json_raw(log, &w, ",\"app_id\":\"");
        (void)json_put(log, &w, log->app_id, 8);
        json_raw(log, &w, "\"");
    }
    if (log->page > 0) {
        char page[32];
        (void)snprintf(page, sizeof page, ",\"page\":%lu", log->page);
        json_raw(log, &w, page);
    }
    json_raw(log, &w, "}\n");
    port_console_err(log->json, w);
}

/* ---- text lines -------------------------------------------------------------------- */

/* The words after "countly-sync: " for a severity. */
static const char *severity_word(log_severity sev)
{
    switch (sev) {
    case LOG_SEV_ERROR:
        return "error: ";
    case LOG_SEV_WARNING:
        return "warning: ";
    case LOG_SEV_DEBUG:
        return "debug: ";
    default:
        return "";
    }
}

/* The start of a text line in log's style: timestamp, sd priority or nothing. */
static void line_prefix(const log_ctx *log, log_severity sev, char *out, size_t cap)
{
    if (log->style == LOG_STYLE_TEXT) {
        char ts[CIVIL_TIME_ISO8601_LEN + 1];
        (void)civil_time_format_iso8601(port_time_utc(), ts);
        (void)snprintf(out, cap, "%s countly-sync: %s", ts, severity_word(sev));
    } else if (log->style == LOG_STYLE_JOURNAL) {
        (void)snprintf(out, cap, "<%d>countly-sync: %s", (int)sev, severity_word(sev));
    } else {
        (void)snprintf(out, cap, "countly-sync: %s", severity_word(sev));
    }
}

/* Writes one line to stderr in log's style, after any progress line on screen. */
static void emit(log_ctx *log, log_severity sev, const char *fmt, va_list ap)
{
    char prefix[64];
    if (log->style == LOG_STYLE_JSON) {
        (void)format_line(log, "", fmt, ap);
        emit_json(log, sev);
        return;
    }
    line_prefix(log, sev, prefix, sizeof prefix);
    size_t len = format_line(log, prefix, fmt, ap);
    clear_progress(log);
    log->line[len++] = '\n';
    port_console_err(log->line, len);
}

/* emit with arguments. */
static void __attribute__((format(printf, 3, 4)))
emitf(log_ctx *log, log_severity sev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(log, sev, fmt, ap);
    va_end(ap);
}

void log_error(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(log, LOG_SEV_ERROR, fmt, ap);
    va_end(ap);
}

void log_warn(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_NORMAL)
        return;
    va_start(ap, fmt);
    emit(log, LOG_SEV_WARNING, fmt, ap);
    va_end(ap);
}

void log_notice(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_NORMAL)
        return;
    va_start(ap, fmt);
    emit(log, LOG_SEV_NOTICE, fmt, ap);
    va_end(ap);
}

void log_info(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_NORMAL)
        return;
    va_start(ap, fmt);
    emit(log, LOG_SEV_INFO, fmt, ap);
    va_end(ap);
}

void log_debug(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_VERBOSE)
        return;
    va_start(ap, fmt);
    emit(log, LOG_SEV_DEBUG, fmt, ap);
    va_end(ap);
}

void log_trace(log_ctx *log, const char *fmt, ...)
{
    va_list ap;
    if (log->level < LOG_TRACE)
        return;
    va_start(ap, fmt);
    emit(log, LOG_SEV_DEBUG, fmt, ap);
    va_end(ap);
}

/* ---- progress ------------------------------------------------------------------------ */

/* Appends to out at *len (cap bytes); what does not fit is dropped. */
static void __attribute__((format(printf, 4, 5)))
put(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    if (*len + 1 >= cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* "1h02m", "5m07s" or "42s". */
static void eta_text(long secs, char *out, size_t cap)
{
    if (secs >= 3600)
        (void)snprintf(out, cap, "%ldh%02ldm", secs / 3600, secs / 60 % 60);
    else if (secs >= 60)
        (void)snprintf(out, cap, "%ldm%02lds", secs / 60, secs % 60);
    else
        (void)snprintf(out, cap, "%lds", secs);
}

/* The progress line at one level of detail: 0 everything, each level up a
 * shorter form; with_prefix puts "countly-sync: " first. */
static size_t progress_form(const log_progress_info *p, int level, int with_prefix, char *out,
                            size_t cap)
{
    char eta[32];
    size_t len = 0;
    int has_app = p->app_index > 0 && p->app_count > 0;
    out[0] = '\0';
    if (with_prefix)
        put(out, cap, &len, "countly-sync: ");
    if (level <= 2 && p->stream != NULL)
        put(out, cap, &len, "%s: ", p->stream);
    if (has_app && level <= 2)
        put(out, cap, &len, "app %u of %u", p->app_index, p->app_count);
    else if (has_app && level <= 5)
        put(out, cap, &len, level == 5 ? "%u/%u " : "app %u/%u", p->app_index, p->app_count);
    if (level == 0 && p->app_id != NULL)
        put(out, cap, &len, has_app ? " (%s)" : "app %s", p->app_id);
    if ((has_app || (level == 0 && p->app_id != NULL)) && level <= 4)
        put(out, cap, &len, ": ");
    if (level == 0)
        put(out, cap, &len, "%lu rows of its window, %lu in all", p->window_rows, p->rows);
    else
        put(out, cap, &len, "%lu rows", p->rows);
    if (level <= 3)
        put(out, cap, &len, level == 3 ? ", %.0f/s" : ", %.0f rows/s", p->rate);
    eta_text(p->eta_seconds, eta, sizeof eta);
    if (level <= 4 && p->eta_seconds >= 0)
        put(out, cap, &len, ", ETA %s", eta);
    return len;
}

size_t log_progress_format(const log_progress_info *p, unsigned width, char *out, size_t cap)
{
    static const int LEVELS[] = {0, 1, 1, 3, 4, 5, 6};
    size_t len = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < sizeof LEVELS / sizeof LEVELS[0]; i++) {
        len =
            progress_form(p, LEVELS[i], i < 2, out, cap); /* the first two with "countly-sync: " */
        if (width == 0 || len + 1 <= width)
            return len;
    }
    len = width - 1; /* the shortest form, cut */
    out[len] = '\0';
    return len;
}

void log_progress(log_ctx *log, int force, const log_progress_info *p)
{
    uint64_t now = port_clock_ms();
    int terminal = log->style == LOG_STYLE_TERMINAL;
    if (log->level < LOG_NORMAL)
        return;
    if (!terminal && !force && now - log->last_progress_ms < LOG_PROGRESS_INTERVAL_MS)
        return;
    log->last_progress_ms = now;
    if (!terminal) {
        (void)progress_form(p, 0, 0, log->json, sizeof log->json);
        emitf(log, LOG_SEV_INFO, "%s", log->json);
        return;
    }
    /* One line redrawn in place: scrubbed within the width, never wrapping. */
    char *text = log->line + 4;
    size_t room = sizeof log->line - 4;
    (void)log_progress_format(p, log->width, text, room);
    (void)log_scrub(text, log->width < room ? log->width : room, log->secret);
    memcpy(log->line, "\r\033[K", 4);
    port_console_err(log->line, 4 + strlen(text));
    log->progress_shown = 1;
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
