/*
 * report.c - the run report (JSON) and the metrics (Prometheus text
 * format), written through a fixed buffer (see report.h).
 */
#include "report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "civil_time.h"
#include "mbedtls/sha256.h"
#include "port.h"

static const char *const STREAM_NAMES[REPORT_STREAMS] = {"apps", "groups", "users"};

/* Room for the system's words on an error (strerror: 50 bytes at most). */
#define REPORT_ERROR_MAX 80

const char *report_strerror(report_status status)
{
    switch (status) {
    case REPORT_OK:
        return "ok";
    case REPORT_ERR_FULL:
        return "does not fit its buffer";
    case REPORT_ERR_WRITE:
        return "cannot be written";
    case REPORT_ERR_READ:
        return "cannot be read";
    }
    return "unknown report status";
}

void report_init(report_run *r, const char *command, int64_t started_at)
{
    memset(r, 0, sizeof *r);
    r->command = command;
    r->run_start = -1;
    r->started_at = started_at;
    r->finished_at = started_at;
    (void)snprintf(r->outcome, sizeof r->outcome, "ok");
}

report_status report_app_add(report_run *r, const char *app_id, int64_t cursor, unsigned long rows)
{
    report_app *app = NULL;
    for (unsigned i = 0; i < r->app_count && app == NULL; i++)
        if (strcmp(r->apps[i].app_id, app_id) == 0)
            app = &r->apps[i];
    if (app == NULL) {
        if (r->app_count >= CONFIG_APPS_MAX || strlen(app_id) >= sizeof app->app_id)
            return REPORT_ERR_FULL;
        app = &r->apps[r->app_count++];
        (void)snprintf(app->app_id, sizeof app->app_id, "%s", app_id);
    }
    app->cursor = cursor;
    app->rows += rows;
    return REPORT_OK;
}

report_file *report_file_add(report_run *r, const char *path, unsigned long rows, uint64_t bytes,
                             int complete)
{
    if (r->file_count >= REPORT_FILES_MAX || strlen(path) >= sizeof r->files[0].path)
        return NULL;
    report_file *f = &r->files[r->file_count++];
    memset(f, 0, sizeof *f);
    (void)snprintf(f->path, sizeof f->path, "%s", path);
    f->rows = rows;
    f->bytes = bytes;
    f->complete = complete;
    return f;
}

/* ==== the output buffer ================================================================ */

void report_out_init(report_out *o, char *buf, size_t cap, report_flush_fn flush, void *user)
{
    o->buf = buf;
    o->cap = cap;
    o->used = 0;
    o->flush = flush;
    o->user = user;
    o->status = cap > 0 ? REPORT_OK : REPORT_ERR_FULL;
}

/* Hands the buffer to the flush function; REPORT_ERR_FULL without one. */
static void out_flush(report_out *o)
{
    if (o->status != REPORT_OK || o->used == 0)
        return;
    if (o->flush == NULL) {
        o->status = REPORT_ERR_FULL;
        return;
    }
    if (o->flush(o->user, o->buf, o->used) != 0)
        o->status = REPORT_ERR_WRITE;
    o->used = 0;
}

/* Appends len bytes. */
static void out_bytes(report_out *o, const char *data, size_t len)
{
    while (len > 0 && o->status == REPORT_OK) {
        if (o->used == o->cap)
            out_flush(o);
        if (o->status != REPORT_OK)
            return;
        size_t n = o->cap - o->used < len ? o->cap - o->used : len;
        memcpy(o->buf + o->used, data, n);
        o->used += n;
        data += n;
        len -= n;
    }
}

static void out_text(report_out *o, const char *text)
{
    out_bytes(o, text, strlen(text));
}

/* Appends printf-formatted text of at most 63 bytes (numbers). */
static void out_format(report_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_format(report_out *o, const char *fmt, ...)
{
    char text[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text) {
        o->status = o->status == REPORT_OK ? REPORT_ERR_FULL : o->status;
        return;
    }
    out_bytes(o, text, (size_t)n);
}

report_status report_out_end(report_out *o)
{
    if (o->flush != NULL)
        out_flush(o);
    return o->status;
}

/* ==== JSON ================================================================================ */

/* A JSON string: quotes, backslashes and control characters escaped;
 * other bytes (UTF-8) as they are. */
static void json_string(report_out *o, const char *s)
{
    static const char HEX[] = "0123456789abcdef";
    out_bytes(o, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
            continue;
        out_bytes(o, run, (size_t)(s - run));
        run = s + 1;
        if (c == '\0')
            break;
        char esc[7] = {'\\', (char)c, 0, 0, 0, 0, 0};
        size_t n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c < 0x20) {
            memcpy(esc + 1, "u00", 3);
            esc[4] = HEX[c >> 4];
            esc[5] = HEX[c & 15];
            n = 6;
        }
        out_bytes(o, esc, n);
    }
    out_bytes(o, "\"", 1);
}

/* "key": */
static void json_key(report_out *o, const char *key)
{
    json_string(o, key);
    out_bytes(o, ":", 1);
}

/* An RFC 3339 UTC time as a JSON string, or null when negative. */
static void json_time(report_out *o, int64_t secs)
{
    char iso[21];
    if (secs < 0 || civil_time_format_iso8601(secs, iso) == 0)
        out_text(o, "null");
    else
        json_string(o, iso);
}

static void json_stream(report_out *o, const report_stream *s)
{
    out_format(o, "{\"enabled\":%s,\"completed\":%s,", s->enabled ? "true" : "false",
               s->completed ? "true" : "false");
    out_format(o, "\"rows\":%lu,\"pages\":%lu,", s->rows, s->pages);
    out_format(o, "\"bytes_received\":%" PRIu64 ",\"bytes_on_wire\":%" PRIu64 ",",
               s->bytes_received, s->bytes_on_wire);
    out_format(o, "\"seconds\":%.3f}", s->seconds);
}

static void json_apps(report_out *o, const report_run *r)
{
    out_bytes(o, "[", 1);
    for (unsigned i = 0; i < r->app_count; i++) {
        const report_app *a = &r->apps[i];
        out_text(o, i ? ",{" : "{");
        json_key(o, "app_id");
        json_string(o, a->app_id);
        out_text(o, ",\"cursor\":");
        json_time(o, a->cursor);
        out_format(o, ",\"rows\":%lu}", a->rows);
    }
    out_bytes(o, "]", 1);
}

static void json_files(report_out *o, const report_run *r)
{
    out_bytes(o, "[", 1);
    for (unsigned i = 0; i < r->file_count; i++) {
        const report_file *f = &r->files[i];
        out_text(o, i ? ",{" : "{");
        json_key(o, "path");
        json_string(o, f->path);
        out_format(o, ",\"rows\":%lu,\"bytes\":%" PRIu64 ",\"complete\":%s", f->rows, f->bytes,
                   f->complete ? "true" : "false");
        if (f->complete && f->sha256[0] != '\0') {
            out_text(o, ",\"sha256\":");
            json_string(o, f->sha256);
        }
        out_bytes(o, "}", 1);
    }
    out_bytes(o, "]", 1);
}

report_status report_json(const report_run *r, report_out *o)
{
    out_text(o, "{\"version\":");
    json_string(o, COUNTLY_SYNC_VERSION);
    out_text(o, ",\"command\":");
    json_string(o, r->command != NULL ? r->command : "sync");
    out_format(o, ",\"exit_code\":%d,\"outcome\":", r->exit_code);
    json_string(o, r->outcome);
    out_text(o, ",\"server_url\":");
    if (r->server_url != NULL)
        json_string(o, r->server_url);
    else
        out_text(o, "null");
    out_text(o, ",\"run_start\":");
    json_time(o, r->run_start);
    out_text(o, ",\"started_at\":");
    json_time(o, r->started_at);
    out_text(o, ",\"finished_at\":");
    json_time(o, r->finished_at);
    out_format(o, ",\"duration_seconds\":%.3f,\"streams\":{", r->duration_seconds);
    for (int i = 0; i < REPORT_STREAMS; i++) {
        if (i > 0)
            out_bytes(o, ",", 1);
        json_key(o, STREAM_NAMES[i]);
        json_stream(o, &r->streams[i]);
    }
    out_text(o, "},\"apps\":");
    json_apps(o, r);
    out_text(o, ",\"files\":");
    json_files(o, r);
    out_text(o, "}\n");
    return o->status;
}

/* ==== Prometheus text format ============================================================ */

/* The HELP and TYPE lines of a gauge. */
static void metric_head(report_out *o, const char *name, const char *help)
{
    out_text(o, "# HELP ");
    out_text(o, name);
    out_bytes(o, " ", 1);
    out_text(o, help);
    out_text(o, "\n# TYPE ");
    out_text(o, name);
    out_text(o, " gauge\n");
}

/* name{label="value"} (value escaped as the format asks) and a space. */
static void metric_sample(report_out *o, const char *name, const char *label, const char *value)
{
    out_text(o, name);
    if (label != NULL) {
        out_bytes(o, "{", 1);
        out_text(o, label);
        out_text(o, "=\"");
        for (const char *p = value; *p != '\0'; p++) {
            if (*p == '\\' || *p == '"')
                out_bytes(o, "\\", 1);
            if (*p == '\n')
                out_text(o, "\\n");
            else
                out_bytes(o, p, 1);
        }
        out_text(o, "\"}");
    }
    out_bytes(o, " ", 1);
}

report_status report_metrics(const report_run *r, int64_t last_success, report_out *o)
{
    static const char LAST_RUN[] = "countly_sync_last_run_timestamp_seconds";
    static const char LAST_OK[] = "countly_sync_last_success_timestamp_seconds";
    static const char CODE[] = "countly_sync_last_exit_code";
    static const char DURATION[] = "countly_sync_last_duration_seconds";
    static const char ROWS[] = "countly_sync_rows";
    static const char BYTES[] = "countly_sync_bytes_received";
    static const char CURSOR[] = "countly_sync_cursor_timestamp_seconds";
    metric_head(o, LAST_RUN, "When the last sync finished (unix seconds).");
    metric_sample(o, LAST_RUN, NULL, NULL);
    out_format(o, "%" PRId64 "\n", r->finished_at);
    if (last_success >= 0) {
        metric_head(o, LAST_OK, "When a sync last finished with exit code 0 (unix seconds).");
        metric_sample(o, LAST_OK, NULL, NULL);
        out_format(o, "%" PRId64 "\n", last_success);
    }
    metric_head(o, CODE, "Exit code of the last sync.");
    metric_sample(o, CODE, NULL, NULL);
    out_format(o, "%d\n", r->exit_code);
    metric_head(o, DURATION, "How long the last sync took.");
    metric_sample(o, DURATION, NULL, NULL);
    out_format(o, "%.3f\n", r->duration_seconds);
    metric_head(o, ROWS, "Rows the last sync committed, per stream.");
    for (int i = 0; i < REPORT_STREAMS; i++) {
        metric_sample(o, ROWS, "stream", STREAM_NAMES[i]);
        out_format(o, "%lu\n", r->streams[i].rows);
    }
    metric_head(o, BYTES, "Response body bytes the last sync received (decoded), per stream.");
    for (int i = 0; i < REPORT_STREAMS; i++) {
        metric_sample(o, BYTES, "stream", STREAM_NAMES[i]);
        out_format(o, "%" PRIu64 "\n", r->streams[i].bytes_received);
    }
    metric_head(o, CURSOR, "Each app's users cursor: the next window's start (server clock).");
    for (unsigned i = 0; i < r->app_count; i++) {
        if (r->apps[i].cursor < 0)
            continue;
        metric_sample(o, CURSOR, "app_id", r->apps[i].app_id);
        out_format(o, "%" PRId64 "\n", r->apps[i].cursor);
    }
    return o->status;
}

int64_t report_metrics_last_success(const char *text, size_t len)
{
    static const char NAME[] = "countly_sync_last_success_timestamp_seconds ";
    const size_t name_len = sizeof NAME - 1;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        if (end - i > name_len && memcmp(text + i, NAME, name_len) == 0) {
            int64_t v = 0;
            size_t p = i + name_len;
            int digits = 0;
            for (; p < end && text[p] >= '0' && text[p] <= '9' && v < INT64_MAX / 10 - 9; p++) {
                v = v * 10 + (text[p] - '0');
                digits++;
            }
            return digits > 0 ? v : -1;
        }
        i = end + 1;
    }
    return -1;
}

/* ==== files =====================================================================================
 */

int64_t report_read_last_success(const char *path, char *buf, size_t cap)
{
    port_file f;
    size_t used = 0;
    port_file_init(&f);
    if (cap == 0 || port_file_open(&f, path, PORT_FILE_READ) != PORT_OK)
        return -1;
    while (used < cap) {
        size_t got = 0;
        if (port_file_read(&f, buf + used, cap - used, &got) != PORT_OK || got == 0)
            break;
        used += got;
    }
    (void)port_file_close(&f);
    return report_metrics_last_success(buf, used);
}

report_status report_sha256_file(const char *path, char hex[65], uint8_t *buf, size_t cap)
{
    static const char HEX[] = "0123456789abcdef";
    unsigned char digest[32];
    mbedtls_sha256_context ctx;
    port_file f;
    report_status st = REPORT_OK;
    port_file_init(&f);
    hex[0] = '\0';
    if (cap == 0 || port_file_open(&f, path, PORT_FILE_READ) != PORT_OK)
        return REPORT_ERR_READ;
    mbedtls_sha256_init(&ctx);
    if (mbedtls_sha256_starts(&ctx, 0) != 0)
        st = REPORT_ERR_READ;
    for (;;) {
        size_t got = 0;
        if (st != REPORT_OK || port_file_read(&f, buf, cap, &got) != PORT_OK) {
            st = REPORT_ERR_READ;
            break;
        }
        if (got == 0)
            break;
        if (mbedtls_sha256_update(&ctx, buf, got) != 0)
            st = REPORT_ERR_READ;
    }
    if (st == REPORT_OK && mbedtls_sha256_finish(&ctx, digest) != 0)
        st = REPORT_ERR_READ;
    mbedtls_sha256_free(&ctx);
    (void)port_file_close(&f);
    if (st != REPORT_OK)
        return st;
    for (size_t i = 0; i < sizeof digest; i++) {
        hex[2 * i] = HEX[digest[i] >> 4];
        hex[2 * i + 1] = HEX[digest[i] & 15];
    }
    hex[64] = '\0';
    return REPORT_OK;
}

/* The file report_save writes, and the system's words for its first
 * failure. */
typedef struct {
    port_file file;
    char why[REPORT_ERROR_MAX];
} report_target;

/* A write of report_save failed: notes the system's words for it, taken
 * at once (the cleanup after it may change them); REPORT_ERR_WRITE. */
static report_status write_failed(report_target *t)
{
    if (t->why[0] == '\0')
        (void)snprintf(t->why, sizeof t->why, "%s", port_last_os_error());
    return REPORT_ERR_WRITE;
}

/* A flush function: the bytes go to an open file. */
static int flush_file(void *user, const char *data, size_t len)
{
    report_target *t = user;
    if (port_file_write(&t->file, data, len) == PORT_OK)
        return 0;
    (void)write_failed(t);
    return 1;
}

/* A flush function: the bytes go to stdout. */
static int flush_console(void *user, const char *data, size_t len)
{
    (void)user;
    port_console_out(data, len);
    return 0;
}

/* Writes the document through o. */
static report_status write_document(report_kind kind, const report_run *r, int64_t last_success,
                                    report_out *o)
{
    if (kind == REPORT_JSON)
        (void)report_json(r, o);
    else
        (void)report_metrics(r, last_success, o);
    return report_out_end(o);
}

/* "<folder>/.<name>.tmp": hidden, in the same folder (so rename is atomic). */
static report_status temporary_name(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash == NULL ? path : slash + 1;
    int n = snprintf(out, cap, "%.*s.%s.tmp", (int)(name - path), path, name);
    return n < 0 || (size_t)n >= cap ? REPORT_ERR_FULL : REPORT_OK;
}

report_status report_save(const char *path, report_kind kind, const report_run *r,
                          int64_t last_success, char *buf, size_t cap, unsigned mode)
{
    report_out o;
    if (kind == REPORT_JSON && strcmp(path, "-") == 0) {
        report_out_init(&o, buf, cap, flush_console, NULL);
        return write_document(kind, r, last_success, &o);
    }
    char tmp[PORT_PATH_MAX];
    report_status st = temporary_name(path, tmp, sizeof tmp);
    if (st != REPORT_OK)
        return st;
    report_target t;
    t.why[0] = '\0';
    port_file_init(&t.file);
    if (port_file_open_mode(&t.file, tmp, PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_TRUNC,
                            mode) != PORT_OK)
        st = write_failed(&t);
    if (st == REPORT_OK) {
        report_out_init(&o, buf, cap, flush_file, &t);
        st = write_document(kind, r, last_success, &o);
    }
    if (st == REPORT_OK && port_file_sync(&t.file) != PORT_OK)
        st = write_failed(&t);
    if (port_file_close(&t.file) != PORT_OK && st == REPORT_OK)
        st = write_failed(&t);
    if (st == REPORT_OK && port_file_replace(tmp, path) != PORT_OK)
        st = write_failed(&t);
    if (st != REPORT_OK)
        (void)port_file_remove(tmp);
    if (st == REPORT_ERR_WRITE && cap > 0) /* buf is free again: the reason goes there */
        (void)snprintf(buf, cap, "%s", t.why);
    return st;
}
