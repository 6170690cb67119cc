/*
 * agent.c - one run of countly-sync, top to bottom (see agent.h).
 *
 *   agent_run            configuration, transport, then sync or check
 *   run_sync             run start from the server's clock, then the streams
 *   sync_apps            apps.csv, full refresh (/o/db apps, else /o/apps/mine)
 *   sync_groups          groups.csv, full refresh (/o/groups)
 *   sync_users           users.csv, per app, page by page, pages committed in groups
 *   fetch                one GET with retries: bytes -> jstream -> records
 *   take_lock, finish_report   operations: one run per state file, the run report
 *
 * Data flows one way: http_client hands body fragments to jstream, jstream
 * hands whole records to the stream's record handler, the handler maps
 * them into the CSV sink. Only pages that arrived complete are committed
 * (CSV flushed and fsync'ed, then the state file replaced), in groups
 * (commit_policy.h).
 */
#include "agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_string.h"
#include "port.h"
#include "text.h"
#include "url.h"

/* What one attempt at a request came to. */
typedef enum {
    FETCH_OK = 0, /* 200 and a complete, valid body */
    FETCH_STATUS, /* the server answered with a status the caller judges */
    FETCH_RETRY,  /* transient: worth another attempt */
    FETCH_FATAL   /* give up now; exit code in fetch_result */
} fetch_outcome;

typedef struct {
    fetch_outcome outcome;
    int exit_code;  /* for FETCH_FATAL */
    int data_error; /* a RETRY caused by bad data (65 when retries run out) */
} fetch_result;

enum { STREAM_APPS = 0, STREAM_GROUPS, STREAM_USERS };
static const char *const STREAM_NAMES[3] = {"apps", "groups", "users"};

/* The run reads first; the pieces it uses follow in the order it uses them. */
static int fail(agent *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static agent_record_result record_failed(agent *a, int code);
static int on_body(void *user, const uint8_t *data, size_t len);
static int scan_body(void *user, const uint8_t *data, size_t len);
static int run_sync(agent *a);
static int run_check(agent *a);
static int probe_server(agent *a);
static int sync_apps(agent *a, int write);
static int sync_groups(agent *a);
static unsigned selected_count(const agent *a);
static const char *selected_app(const agent *a, unsigned i);
static int select_apps(agent *a);
static int sync_users(agent *a);
static int open_table(agent *a, map_table table, const char *name, csv_mode mode,
                      uint64_t committed);
static int commit_rows(agent *a);
static int sink_error(agent *a, csv_status st);
static int sink_fail(agent *a, csv_status st);
static int close_table(agent *a, int ok);
static int write_row(agent *a, const jstream_record *r);
static const char *request_shown(const agent *a, char *out, size_t cap);
static int write_row_gated(agent *a, const jstream_record *r, map_gate_fn gate);
static void stream_begin(agent *a, int stream);
static void start_mapping(agent *a, map_table table);
static void stream_page(agent *a, int stream, unsigned long rows);
static void stream_summary(agent *a, int stream);
static fetch_result fetch(agent *a, jstream_envelope envelope, agent_record_fn handler);
static int unexpected_status(agent *a);
static void target_begin(agent *a, const char *path);
static int target_add(agent *a, const char *key, const char *value);
static int target_finish(agent *a);
static const char *output_path(agent *a, const char *name);
static int record_value(const jstream_record *r, const char *key, const jsmntok_t **value);
static int record_string(const jstream_record *r, const char *key, char *out, size_t cap);
static int list_contains(const text_object_id *list, unsigned count, const char *id);
static int remember_visible_app(agent *a, const char *id);
static int take_lock(agent *a);
static int server_identity(agent *a, char *out, size_t cap);
static int claim_folder(agent *a);
static int check_folder(agent *a);
static int interrupted(void);
static int say_interrupted(agent *a, int code);
static void note_file(agent *a, int ok);
static int start_runs_layout(agent *a);
static int open_full_table(agent *a, map_table table, const char *name, runs_file file);
static void users_committed(agent *a, uint64_t bytes);
static int part_is_full(agent *a);
static int next_part(agent *a);
static int resume_part(agent *a, int *resumed);
static int publish_part_as_is(agent *a, const char *tmp, runs_name n);
static int open_users_part(agent *a);
static int close_part(agent *a, int ok);
static void finish_report(agent *a, int code);

/* ==== failing: one line, one exit code ================================================== */

/* Every failure of a run ends here: one error line, "<where>: <what>"
 * (only <what> before the run has a place to name), and its exit code. */
static int fail(agent *a, int code, const char *fmt, ...)
{
    char what[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (a->where[0] != '\0')
        (void)snprintf(a->report.outcome, sizeof a->report.outcome, "%s: %s", a->where, what);
    else
        (void)snprintf(a->report.outcome, sizeof a->report.outcome, "%s", what);
    log_error(&a->log, "%s", a->report.outcome);
    (void)log_scrub(a->report.outcome, sizeof a->report.outcome, a->cfg.api_key);
    return code;
}

/* A record handler's failure: a->message says what; the exit code waits in
 * a->record_error for the end of the transfer. */
static agent_record_result record_failed(agent *a, int code)
{
    a->record_error = code;
    return AGENT_RECORD_STOP;
}

/* ==== the run ============================================================================ */

static int load_configuration(agent *a)
{
    const agent_options *o = &a->opts;
    config_sources src = {o->config_path, port_getenv("COUNTLY_API_KEY"),
                          port_getenv("CREDENTIALS_DIRECTORY"), o->output_dir, o->state_file};
    config_status cs = config_load_from(&a->cfg, &src, &a->js);
    if (cs != CONFIG_OK) {
        a->cfg.server_url[0] = '\0'; /* not known: the report says null */
        return fail(a, AGENT_EXIT_CONFIG, "%s", a->cfg.detail);
    }
    log_set_secret(&a->log, a->cfg.api_key);
    if (a->cfg.api_key[0] != '\0' && strstr(a->cfg.server_url, a->cfg.api_key) != NULL) {
        a->cfg.server_url[0] = '\0';
        return fail(a, AGENT_EXIT_CONFIG,
                    "key 'server_url': it holds the API key: give the server's address alone, "
                    "and the key in api_key, api_key_file or COUNTLY_API_KEY");
    }
    if (a->cfg.file_readable_by_others)
        log_warn(&a->log, "%s holds the API key and can be read by other users: chmod 600 %s",
                 a->cfg.readable_path, a->cfg.readable_path);
    if (!a->cfg.tls_verify && a->cfg.server.tls)
        log_warn(&a->log, "tls_verify is false: the server's certificate and name are NOT "
                          "checked; anyone on the path can read the API key and the data");
    return 0;
}

/* The proxy the server is reached through, if any (proxy.h decides). */
static int choose_proxy(agent *a)
{
    const char *from = NULL;
    proxy_status ps =
        proxy_choose(&a->tunnel.server, a->cfg.proxy_given ? &a->cfg.proxy : NULL, &a->cfg.server,
                     port_host_is_loopback(a->cfg.server.host), port_getenv, &from);
    if (ps != PROXY_OK)
        return fail(a, AGENT_EXIT_CONFIG, "%s: %s (the value is not shown)", from,
                    proxy_strerror(ps));
    if (a->tunnel.server.enabled)
        log_debug(&a->log, "through the proxy %s (from %s)", a->tunnel.server.shown, from);
    return 0;
}

static int setup_transport(agent *a)
{
    transport tr;
    int code = choose_proxy(a);
    if (code != 0)
        return code;
    if (a->cfg.server.tls) {
        tls_options to = tls_default_options();
        to.tunnel = &a->tunnel;
        to.ca_path = a->cfg.ca_file[0] != '\0' ? a->cfg.ca_file : NULL;
        to.verify = a->cfg.tls_verify;
        if (tls_platform_init(a->tls_arena, sizeof a->tls_arena) != TLS_OK)
            return fail(a, AGENT_EXIT_UNAVAILABLE, "TLS cannot start: no entropy from the system");
        tls_status ts = tls_init(&a->tls, &to);
        if (ts != TLS_OK)
            return fail(a, ts == TLS_ERR_CA_PATH ? AGENT_EXIT_CONFIG : AGENT_EXIT_UNAVAILABLE,
                        "TLS setup: %s: %s (set ca_file to a PEM bundle)", tls_strerror(ts),
                        a->tls.detail);
        if (a->cfg.tls_verify)
            log_debug(&a->log, "trusted CAs: %s (%s)", a->tls.ca.path, a->tls.ca_source);
        tr = tls_transport(&a->tls);
    } else {
        tr = tcp_transport(&a->tcp);
        a->tcp.tunnel = &a->tunnel;
    }
    uint32_t timeout_ms = a->cfg.request_timeout_seconds * 1000u;
    if (http_client_init(&a->http, tr, &a->cfg.server, timeout_ms) != HTTP_CLIENT_OK)
        return fail(a, AGENT_EXIT_CONFIG, "server_url: host name too long");
#if HTTP_GZIP
    http_client_set_gzip(&a->http, a->cfg.http_compression ? &a->gunzip : NULL);
#endif
    return 0;
}

int agent_run(agent *a, const agent_options *opts)
{
    a->opts = *opts;
    log_init(&a->log, opts->level,
             log_style_for(opts->log_json, port_console_is_terminal(), port_console_is_journal()),
             port_console_width());
    port_file_init(&a->lock);
    port_file_init(&a->folder_mark);
    report_init(&a->report, "sync", port_time_utc());
    a->started_ms = port_clock_ms();
    int code = load_configuration(a);
    if (code != 0) {
        finish_report(a, code);
        return code;
    }
    code = setup_transport(a);
    if (relay_start(&a->relay, scan_body, a, port_cpu_count() >= 2))
        log_debug(&a->log, "bodies are scanned on a second thread");
    if (code == 0)
        code = opts->command == AGENT_CHECK ? run_check(a) : run_sync(a);
    int threaded = a->relay.threaded;
    relay_stop(&a->relay); /* after it the worker's counters may be read */
    if (threaded)          /* the side that waits less is the slower one */
        log_debug(&a->log, "second thread: the ring was full %lu times, empty %lu times",
                  a->relay.full_waits, a->relay.empty_waits);
    http_client_close(&a->http);
    if (a->cfg.server.tls) {
        size_t peak = 0, current = 0;
        tls_arena_stats(&peak, &current);
        log_debug(&a->log, "tls arena peak %zu bytes", peak);
        tls_free(&a->tls);
    }
    code = say_interrupted(a, code);
    finish_report(a, code);
    (void)port_file_close(&a->folder_mark);
    (void)port_file_close(&a->lock); /* the next run may start */
    return code;
}

/* ==== sync: the three streams ========================================================== */

/* A stream's failure either ends the run (connection, auth, disk) or only
 * that stream (bad data): the run goes on and exits with 65 at the end. */
static int stream_result(int code, int *worst)
{
    if (code == 0)
        return 0;
    if (*worst == 0)
        *worst = code;
    return code != AGENT_EXIT_DATA;
}

/* Creates a folder and its missing parents (like mkdir -p); with
 * parent_only, only the folder that holds the file `path`. */
static int make_folders(agent *a, const char *path, int parent_only)
{
    size_t len = strlen(path);
    if (len >= sizeof a->path)
        return -1;
    memcpy(a->path, path, len + 1);
    if (parent_only && port_path_folder(path, a->path, sizeof a->path) != PORT_OK)
        return -1;
    if (strcmp(a->path, ".") == 0 || strcmp(a->path, "/") == 0)
        return 0;
    for (char *p = a->path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        port_status st = port_dir_create(a->path);
        *p = c;
        if (st != PORT_OK)
            return -1;
        if (c == '\0')
            return 0;
    }
}

/* The configured server as state files and folder marks name it
 * (url_normalize); 78 when it does not fit. */
static int server_identity(agent *a, char *out, size_t cap)
{
    if (url_normalize(&a->cfg.server, out, cap) != URL_OK)
        return fail(a, AGENT_EXIT_CONFIG, "server_url: longer than CONFIG_URL_MAX");
    return 0;
}

/* Ties the loaded state to the configured server (state.h): 78 when it
 * belongs to another one. */
static int claim_server(agent *a)
{
    char server[CONFIG_URL_MAX];
    a->state.file_mode = a->cfg.file_mode;
    if (server_identity(a, server, sizeof server) != 0)
        return AGENT_EXIT_CONFIG;
    if (state_claim_server(&a->state, a->cfg.state_file, server) != STATE_OK)
        return fail(a, AGENT_EXIT_CONFIG, "%s", a->state.detail);
    return 0;
}

/* Loads the state file: 78 when it cannot be read or is another server's.
 * With record (the run lock held), a state written before it named its
 * server is saved at once naming this one, whatever the run does next. */
static int load_state(agent *a, int record)
{
    if (state_load(&a->state, a->cfg.state_file, &a->js) != STATE_OK)
        return fail(a, AGENT_EXIT_CONFIG, "%s", a->state.detail);
    int adopted = a->state.exists && a->state.server_url[0] == '\0';
    int code = claim_server(a);
    if (code != 0 || !record || !adopted)
        return code;
    if (state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    log_notice(&a->log, "%s names no server yet: it now names %s", a->cfg.state_file,
               a->state.server_url);
    return 0;
}

static int run_sync(agent *a)
{
    int worst = 0;
    /* before anything is created: a refused state or folder changes nothing */
    if (load_state(a, 0) != 0 || check_folder(a) != 0)
        return AGENT_EXIT_CONFIG;
    if (make_folders(a, a->cfg.output_dir, 0) != 0 || make_folders(a, a->cfg.state_file, 1) != 0)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot create the output folder %s: %s", a->path,
                    port_last_os_error());
    int code = take_lock(a);
    if (code == 0)
        code = claim_folder(a);
    if (code != 0)
        return code;
    port_signals_catch();    /* SIGTERM, SIGINT, SIGHUP: stop at the next safe point */
    code = load_state(a, 1); /* again under the lock: a run that just ended may have moved it */
    if (code != 0)
        return code;
    code = probe_server(a);
    if (code == 0 && a->cfg.output_layout == CONFIG_LAYOUT_RUNS)
        code = start_runs_layout(a);
    if (code != 0)
        return code;
    a->map_ctx.server_url = a->cfg.server_url;
    a->map_ctx.processed_at = a->run_start;
    a->map_ctx.app_id = "";
    if (a->cfg.enable_apps || a->cfg.enable_users) {
        code = sync_apps(a, a->cfg.enable_apps);
        if (stream_result(code, &worst))
            return worst;
    }
    if (a->cfg.enable_groups && stream_result(sync_groups(a), &worst))
        return worst;
    if (a->cfg.enable_users && stream_result(sync_users(a), &worst))
        return worst;
    return worst;
}

/* ==== check: what a sync would read, writing nothing ================================== */

static agent_record_result count_record(agent *a, const jstream_record *r)
{
    (void)a;
    (void)r;
    return AGENT_RECORD_GO_ON;
}

static int run_check(agent *a)
{
    if (state_load(&a->state, a->cfg.state_file, &a->js) != STATE_OK)
        log_warn(&a->log, "%s (a sync would stop on it)", a->state.detail);
    else if (claim_server(a) != 0) /* a state of another server: as sync, before any request */
        return AGENT_EXIT_CONFIG;
    if (check_folder(a) != 0)
        return AGENT_EXIT_CONFIG;
    int code = probe_server(a);
    if (code != 0)
        return code;
    log_report(&a->log, "server: %s (%s%s%s)", a->cfg.server_url,
               a->cfg.server.tls ? tls_version(&a->tls) : "plain HTTP, loopback",
               a->cfg.server.tls ? ", " : "", a->cfg.server.tls ? tls_suite(&a->tls) : "");
    if (a->tunnel.server.enabled)
        log_report(&a->log, "proxy: %s (HTTP CONNECT)", a->tunnel.server.shown);
    char when[32];
    (void)snprintf(when, sizeof when, "%lld", (long long)a->run_start);
    log_report(&a->log, "server clock: %s (unix seconds); API key accepted", when);
    log_report(&a->log, "plugins: dbviewer %s, groups %s", a->has_dbviewer ? "yes" : "no",
               a->has_groups_plugin ? "yes" : "no");
    code = sync_apps(a, 0);
    if (code != 0)
        return code;
    log_report(&a->log, "apps visible: %u", a->visible_count);
    for (unsigned i = 0; i < a->visible_count; i++)
        log_report(&a->log, "  %s", a->visible[i]);
    target_begin(a, "/o/groups");
    (void)snprintf(a->where, sizeof a->where, "groups");
    fetch_result r = fetch(a, JSTREAM_ENVELOPE_GROUPS, count_record);
    if (r.outcome == FETCH_FATAL)
        return r.exit_code;
    if (r.outcome == FETCH_OK)
        log_report(&a->log, "groups: %lu", a->js.records);
    else
        log_report(&a->log, "groups: none readable (HTTP %d %s)", a->resp.status_code,
                   a->js.has_message ? a->js.message : "");
    code = select_apps(a);
    if (code != 0)
        return code;
    log_report(&a->log, "users would be read for %u app%s%s", selected_count(a),
               selected_count(a) == 1 ? "" : "s",
               a->cfg.enable_users ? "" : " (users sync disabled)");
    for (unsigned i = 0; i < selected_count(a); i++)
        log_report(&a->log, "  %s", selected_app(a, i));
    return 0;
}

/* ==== the capability probe: /o/system/plugins ===================================== */

static agent_record_result handle_plugin(agent *a, const jstream_record *r)
{
    const jsmntok_t *t = &r->tokens[0];
    size_t len = (size_t)(t->end - t->start);
    if (t->type != JSMN_STRING)
        return AGENT_RECORD_GO_ON;
    if (len == 8 && memcmp(r->json + t->start, "dbviewer", 8) == 0)
        a->has_dbviewer = 1;
    if (len == 6 && memcmp(r->json + t->start, "groups", 6) == 0)
        a->has_groups_plugin = 1;
    return AGENT_RECORD_GO_ON;
}

/* First request of a run: authenticates, learns the plugins and, from the
 * Date header, the server's clock - the run start. */
static int probe_server(agent *a)
{
    (void)snprintf(a->where, sizeof a->where, "connecting");
    target_begin(a, "/o/system/plugins");
    fetch_result r = fetch(a, JSTREAM_ENVELOPE_LIST, handle_plugin);
    if (r.outcome == FETCH_FATAL)
        return r.exit_code;
    if (r.outcome == FETCH_STATUS) {
        if (a->resp.status_code != 400)
            return unexpected_status(a);
        a->has_dbviewer = 1; /* an old server without the probe: just try */
    }
    if (a->cfg.server.tls)
        log_debug(&a->log, "TLS: %s, %s", tls_version(&a->tls), tls_suite(&a->tls));
    if (!a->run_start_known) {
        log_warn(&a->log, "%s sent no Date header: using the local clock as the run start",
                 a->cfg.server.host);
        a->run_start = port_time_utc();
        a->run_start_known = 1;
    }
    log_debug(&a->log, "run start (server clock): %lld; plugins: dbviewer %s, groups %s",
              (long long)a->run_start, a->has_dbviewer ? "yes" : "no",
              a->has_groups_plugin ? "yes" : "no");
    return 0;
}

/* ==== apps: full refresh ========================================================== */

/* One app: remember its id (the users stream may need every app), and
 * write its row when apps.csv is being written. */
static agent_record_result handle_app(agent *a, const jstream_record *r)
{
    char id[JSTREAM_ID_MAX + 1];
    if (r->key != NULL)
        (void)snprintf(id, sizeof id, "%s", r->key);
    else if (!record_string(r, "_id", id, sizeof id))
        id[0] = '\0';
    size_t len = strlen(id);
    const char *hex = text_object_id_unwrap(id, &len);
    memmove(id, hex, len);
    id[len] = '\0';
    int code = remember_visible_app(a, id);
    if (code == 0 && a->sink_open)
        code = write_row(a, r);
    return code == 0 ? AGENT_RECORD_GO_ON : record_failed(a, code);
}

/* Full app documents from dbviewer, paged. Returns FETCH_STATUS when the
 * key may not read the apps collection. */
static fetch_result read_apps_db(agent *a)
{
    char limit[16];
    char skip[24];
    uint64_t offset = 0;
    (void)snprintf(limit, sizeof limit, "%u", (unsigned)a->cfg.max_records_per_page);
    for (;;) {
        (void)snprintf(skip, sizeof skip, "%llu", (unsigned long long)offset);
        target_begin(a, "/o/db");
        if (target_add(a, "db", "countly") || target_add(a, "collection", "apps") ||
            target_add(a, "sort", "{\"_id\":1}") || target_add(a, "limit", limit) ||
            target_add(a, "skip", skip)) {
            fetch_result bad = {FETCH_FATAL, AGENT_EXIT_CONFIG, 0};
            return bad;
        }
        fetch_result r = fetch(a, JSTREAM_ENVELOPE_DB, handle_app);
        if (r.outcome != FETCH_OK)
            return r;
        if (a->sink_open && commit_rows(a) != 0) {
            fetch_result bad = {FETCH_FATAL, AGENT_EXIT_OUTPUT, 0};
            return bad;
        }
        stream_page(a, STREAM_APPS, a->js.records);
        offset += a->js.records;
        if (a->js.records < a->cfg.max_records_per_page ||
            (a->js.has_end && a->js.has_total && a->js.end >= a->js.total))
            return r;
    }
}

/* The apps a member sees, from /o/apps/mine (HTML-escaped unless noescape). */
static fetch_result read_apps_mine(agent *a)
{
    target_begin(a, "/o/apps/mine");
    if (target_add(a, "noescape", "true")) {
        fetch_result bad = {FETCH_FATAL, AGENT_EXIT_CONFIG, 0};
        return bad;
    }
    fetch_result r = fetch(a, JSTREAM_ENVELOPE_APPS, handle_app);
    if (r.outcome == FETCH_OK && a->sink_open && commit_rows(a) != 0) {
        r.outcome = FETCH_FATAL;
        r.exit_code = AGENT_EXIT_OUTPUT;
    }
    if (r.outcome == FETCH_OK)
        stream_page(a, STREAM_APPS, a->js.records);
    return r;
}

/* Reads every app the key can see; writes apps.csv when `write`. */
static int sync_apps(agent *a, int write)
{
    stream_begin(a, STREAM_APPS);
    a->visible_count = 0;
    start_mapping(a, MAP_TABLE_APPS_DB);
    if (write) {
        int code = open_full_table(a, MAP_TABLE_APPS_DB, "apps.csv", RUNS_FILE_APPS);
        if (code != 0)
            return code;
    }
    fetch_result r = {FETCH_STATUS, 0, 0};
    if (a->has_dbviewer)
        r = read_apps_db(a);
    if (r.outcome == FETCH_STATUS) {
        /* No dbviewer, or a key that may not read the apps collection. */
        log_debug(&a->log, "apps: full documents not readable; using /o/apps/mine");
        a->visible_count = 0;
        start_mapping(a, MAP_TABLE_APPS_MINE);
        r = read_apps_mine(a);
    }
    int code = r.outcome == FETCH_OK       ? 0
               : r.outcome == FETCH_STATUS ? unexpected_status(a)
                                           : r.exit_code;
    int closed = close_table(a, code == 0);
    if (code == 0 && closed == 0 && write)
        stream_summary(a, STREAM_APPS);
    return code != 0 ? code : closed;
}

/* ==== groups: full refresh ========================================================== */

static agent_record_result handle_group(agent *a, const jstream_record *r)
{
    int code = write_row(a, r);
    return code == 0 ? AGENT_RECORD_GO_ON : record_failed(a, code);
}

/* groups.csv from /o/groups; Community Edition and non-admin keys have no
 * groups: the file is published empty and a notice says why. */
static int sync_groups(agent *a)
{
    stream_begin(a, STREAM_GROUPS);
    start_mapping(a, MAP_TABLE_GROUPS);
    target_begin(a, "/o/groups");
    int code = target_add(a, "noescape", "true");
    if (code == 0)
        code = open_full_table(a, MAP_TABLE_GROUPS, "groups.csv", RUNS_FILE_GROUPS);
    if (code != 0)
        return code;
    fetch_result r = fetch(a, JSTREAM_ENVELOPE_GROUPS, handle_group);
    int status = a->resp.status_code;
    if (r.outcome == FETCH_STATUS && status == 400 && a->js.has_message &&
        strcmp(a->js.message, "Invalid path") == 0) {
        log_notice(&a->log, "groups: none on this server (Community Edition: /o/groups "
                            "answered 400 Invalid path)");
        r.outcome = FETCH_OK;
    } else if (r.outcome == FETCH_STATUS && status == 401) {
        log_notice(&a->log, "groups: none readable: the API key is not a global admin (401 %s)",
                   a->js.has_message ? a->js.message : "");
        r.outcome = FETCH_OK;
    } else if (r.outcome == FETCH_OK && a->js.has_message) {
        r.outcome = FETCH_FATAL;
        r.exit_code =
            fail(a, AGENT_EXIT_DATA, "the server answered \"%s\" instead of a list", a->js.message);
    } else if (r.outcome == FETCH_OK) {
        stream_page(a, STREAM_GROUPS, a->js.records);
    }
    code = r.outcome == FETCH_OK       ? 0
           : r.outcome == FETCH_STATUS ? unexpected_status(a)
                                       : r.exit_code;
    int closed = close_table(a, code == 0);
    if (code == 0 && closed == 0)
        stream_summary(a, STREAM_GROUPS);
    return code != 0 ? code : closed;
}

/* ==== users: incremental, per app, page by page ======================================= */

/* The window check of one user, between its mapping and its row (a map
 * gate): its paging key (lac, _id, from the tokens the mapper found) goes
 * to the window engine, which checks it against the request and says where
 * a new lac second begins (a full page may be cut back to there). Non-zero
 * (a->gate_code set, a->message said) refuses the row. */
static int user_gate(void *user, const map_mapper *m, const jstream_record *r)
{
    agent *a = user;
    char id[WINDOW_ID_MAX + 1];
    unsigned long replaced = 0;
    window_key key;
    window_action action = WINDOW_WRITE;
    int id_token = map_source_token(m, "_id");
    if (id_token < 0 || json_token_string(r->json, &r->tokens[id_token], id, sizeof id,
                                          &replaced) != JSON_STRING_OK) {
        (void)snprintf(a->message, sizeof a->message,
                       "bad data from the server: a user without a string _id of at most "
                       "WINDOW_ID_MAX (%d) bytes (record %lu)",
                       WINDOW_ID_MAX, r->index);
        a->gate_code = AGENT_EXIT_DATA;
        return 1;
    }
    int lac_token = map_source_token(m, "lac");
    const jsmntok_t *lac = lac_token >= 0 ? &r->tokens[lac_token] : NULL;
    window_status ws = WINDOW_ERR_KEY;
    if (lac == NULL || lac->type == JSMN_PRIMITIVE)
        ws = window_key_set(&key, lac != NULL ? r->json + lac->start : NULL,
                            lac != NULL ? (size_t)(lac->end - lac->start) : 0, id, strlen(id));
    if (ws == WINDOW_OK)
        ws = window_record(&a->window, &key, &action);
    if (ws != WINDOW_OK) {
        char shown[AGENT_SHOWN_MAX];
        (void)snprintf(a->message, sizeof a->message,
                       "bad data from the server: user %s (record %lu, lac %.*s): %s, asked "
                       "for %s",
                       id, r->index, lac != NULL ? (int)(lac->end - lac->start) : 7,
                       lac != NULL ? r->json + lac->start : "missing", window_strerror(ws),
                       request_shown(a, shown, sizeof shown));
        a->gate_code = AGENT_EXIT_DATA;
        return 1;
    }
    if (action == WINDOW_WRITE_MARK)
        a->mark = csv_position(&a->sink);
    return 0;
}

/* One user: its row to users.csv, once user_gate let it through. */
static agent_record_result handle_user(agent *a, const jstream_record *r)
{
    int code = write_row_gated(a, r, user_gate);
    return code == 0 ? AGENT_RECORD_GO_ON : record_failed(a, code);
}

/* Builds the /o/db request the window engine asks for next. */
static int users_page_target(agent *a)
{
    const state_run *run = &a->state.run;
    const char *sort = NULL;
    unsigned limit = 0;
    char collection[40];
    char limit_text[16];
    window_status ws = window_request(&a->window, a->filter, sizeof a->filter, &sort, &limit);
    if (ws != WINDOW_OK)
        return fail(a, AGENT_EXIT_CONFIG, "%s", window_strerror(ws));
    (void)snprintf(collection, sizeof collection, "app_users%s", run->app_id);
    (void)snprintf(limit_text, sizeof limit_text, "%u", limit);
    target_begin(a, "/o/db");
    a->shape_sort = sort;
    a->shape_limit = limit;
    if (target_add(a, "db", "countly") || target_add(a, "collection", collection) ||
        target_add(a, "filter", a->filter) || target_add(a, "sort", sort) ||
        target_add(a, "limit", limit_text))
        return AGENT_EXIT_CONFIG;
    return 0;
}

/* Saves the state that covers the rows just committed. When the disk was
 * full (STATE_ERR_NOSPC: its temporary file could not be written, so the
 * state file on disk is the old one), the commit is taken back to kept
 * (the one that state covers), so that users.csv stays at the size it
 * records. Any other failure may have come after the new state was in
 * place (a folder sync): the file is left as it is, and the next run
 * truncates it to whatever the state says. */
static state_status save_users_state(agent *a, csv_mark kept)
{
    users_committed(a, a->sink.committed);
    state_status ss = state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record);
    if (ss == STATE_OK)
        a->stats[STREAM_USERS].committed = a->stats[STREAM_USERS].rows;
    else if (ss == STATE_ERR_NOSPC && csv_uncommit(&a->sink, kept) == CSV_OK)
        users_committed(a, a->sink.committed); /* gzip: the file's size, not the text's */
    return ss;
}

/* Commits a complete page: rows first (fsync), then the state that covers them. */
static int commit_users_page(agent *a)
{
    state_run *run = &a->state.run;
    csv_mark kept = csv_last_commit(&a->sink); /* what the state covers */
    int code = commit_rows(a);
    if (code != 0)
        return code;
    run->pos = *window_position_of(&a->window);
    commit_policy_committed(&a->commits, port_clock_ms());
    if (save_users_state(a, kept) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    return 0;
}

/* A status answer while reading users: name the app and what to do. */
static int users_status(agent *a)
{
    int status = a->resp.status_code;
    const char *said = a->js.has_message ? a->js.message : "";
    if (status == 400 && strcmp(said, "Invalid path") == 0)
        return fail(a, AGENT_EXIT_UNAVAILABLE,
                    "the dbviewer plugin is not enabled on %s, so app users cannot be read: "
                    "enable it, or set enable_users_sync to false",
                    a->cfg.server.host);
    if (status == 401)
        return fail(a, AGENT_EXIT_AUTH,
                    "the API key may not read this app's users (401 %s): use a global-admin key "
                    "or remove the app from app_id",
                    said);
    return unexpected_status(a);
}

/* How far the users stream is, 0..1: the apps done, and of the app being
 * read the part of its window's seconds behind it (0 when not known). */
static double users_done(const agent *a, unsigned index, unsigned count)
{
    const state_run *run = &a->state.run;
    const window_position *pos = window_position_of(&a->window);
    double app = pos->range == WINDOW_RANGE_DONE ? 1.0 : 0.0;
    if (pos->range == WINDOW_RANGE_SECONDS && pos->has_lo && !run->all_history &&
        run->to > run->from)
        app = (double)(pos->lo - run->from) / (double)(run->to - run->from);
    return count > 0 && index > 0 ? ((double)(index - 1) + app) / (double)count : 0.0;
}

/* The users progress line: app i of N, rows, rate and an ETA. */
static void progress(agent *a, int force)
{
    const agent_stream_stats *s = &a->stats[STREAM_USERS];
    double secs = (double)(port_clock_ms() - s->start_ms) / 1000.0;
    log_progress_info p = {"users",
                           a->state.run.app_id,
                           0,
                           selected_count(a),
                           a->window_rows,
                           s->rows,
                           secs > 0 ? (double)s->rows / secs : 0.0,
                           -1};
    for (unsigned i = 0; i < p.app_count && p.app_index == 0; i++)
        if (strcmp(selected_app(a, i), a->state.run.app_id) == 0)
            p.app_index = i + 1;
    double done = users_done(a, p.app_index, p.app_count);
    if (done > 0.01)
        p.eta_seconds = (long)(secs * (1.0 - done) / done);
    log_progress(&a->log, force, &p);
}

/* A complete page: the engine moves on (cutting the rows of a full page's
 * last lac second, which the next request reads again), then the page is
 * committed. Returns the rows it kept in *rows. */
static int end_users_page(agent *a, unsigned long *rows)
{
    window_outcome out;
    if (!a->js.has_total || a->js.has_message)
        return fail(a, AGENT_EXIT_DATA, "unexpected answer from /o/db (no \"total\"%s%s)",
                    a->js.has_message ? "; server said: " : "",
                    a->js.has_message ? a->js.message : "");
    window_status ws = window_page_end(&a->window, a->js.has_total, a->js.total, &out);
    if (ws != WINDOW_OK)
        return fail(a, AGENT_EXIT_DATA, "%s", window_strerror(ws));
    if (out.cut) {
        csv_status st = csv_truncate(&a->sink, a->mark);
        if (st != CSV_OK)
            return sink_fail(a, st);
    }
    *rows = a->js.records - out.cut_rows;
    return 0;
}

/* A failure ends the window: the pages that arrived complete before it are
 * committed first (the failing page's rows dropped), so that the next run
 * goes on after them. Quiet: the failure's own line is the one to read. */
static int commit_before_failing(agent *a, int code)
{
    csv_mark kept = csv_last_commit(&a->sink); /* what the state covers */
    if (!a->sink_open || !commit_policy_pending(&a->commits) ||
        csv_truncate(&a->sink, a->page_start) != CSV_OK || csv_commit(&a->sink) != CSV_OK)
        return code;
    a->state.run.pos = a->page_pos; /* the rows kept end where the failed page began */
    (void)save_users_state(a, kept);
    return code;
}

/* Reads the state's window of one app to its end, from its saved position. */
static int read_window(agent *a)
{
    state_run *run = &a->state.run;
    window_bounds bounds = {run->from, run->to, run->all_history};
    window_resume(&a->window, &bounds, &run->pos, a->cfg.max_records_per_page,
                  WINDOW_SUBRANGE_PAGES);
    commit_policy_init(&a->commits, AGENT_COMMIT_INTERVAL_MS, AGENT_COMMIT_BYTES, port_clock_ms());
    a->window_rows = 0;
    for (unsigned long page = 1; !window_done(&a->window); page++) {
        unsigned long rows = 0;
        int stop = interrupted(); /* a safe point: the pages read so far are committed */
        if (stop != 0) {
            int code = commit_policy_pending(&a->commits) ? commit_users_page(a) : 0;
            return code != 0 ? code : stop;
        }
        (void)snprintf(a->where, sizeof a->where, "users of app %s, page %lu", run->app_id, page);
        log_set_context(&a->log, "users", run->app_id, page);
        int code = users_page_target(a);
        if (code != 0)
            return code;
        a->page_pos = *window_position_of(&a->window);
        a->window_active = 1;
        fetch_result r = fetch(a, JSTREAM_ENVELOPE_DB, handle_user);
        a->window_active = 0;
        if (r.outcome == FETCH_STATUS)
            return commit_before_failing(a, users_status(a));
        if (r.outcome != FETCH_OK)
            return commit_before_failing(a, r.exit_code);
        code = end_users_page(a, &rows);
        if (code != 0)
            return commit_before_failing(a, code);
        if (part_is_full(a)) { /* runs layout: the page is read again into the next part */
            code = next_part(a);
            if (code != 0)
                return code;
            continue;
        }
        stream_page(a, STREAM_USERS, rows);
        a->window_rows += rows;
        uint64_t waiting = csv_uncommitted(&a->sink);
        if (commit_policy_page_done(&a->commits, port_clock_ms(), waiting))
            code = commit_users_page(a);
        if (code != 0)
            return code;
        progress(a, 0);
    }
    return commit_policy_pending(&a->commits) ? commit_users_page(a) : 0;
}

/* Starts (or resumes) the window of app_id and reads it; then the app's
 * cursor moves to the window's end. */
static int read_app_window(agent *a, const char *app_id, int64_t from, int64_t to, int all_history)
{
    state_run *run = &a->state.run;
    if (!run->active) {
        window_bounds bounds = {from, to, all_history};
        memset(run, 0, sizeof *run);
        run->active = 1;
        memcpy(run->app_id, app_id, sizeof run->app_id);
        run->from = from;
        run->to = to;
        run->all_history = all_history;
        window_start(&a->window, &bounds, a->cfg.max_records_per_page, WINDOW_SUBRANGE_PAGES);
        run->pos = *window_position_of(&a->window);
    }
    a->map_ctx.app_id = run->app_id;
    start_mapping(a, MAP_TABLE_USERS);
    int code = read_window(a);
    (void)report_app_add(&a->report, run->app_id, state_cursor(&a->state, run->app_id),
                         a->window_rows);
    if (code != 0)
        return code;
    run->active = 0;
    if (state_set_cursor(&a->state, app_id, run->to) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "%s", a->state.detail);
    if (state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    progress(a, 1);
    return 0;
}

/* The apps whose users are read: app_id "*" = every visible app, else the
 * listed ids (which select_apps has checked are visible to the key). */
static unsigned selected_count(const agent *a)
{
    return a->cfg.all_apps ? a->visible_count : a->cfg.app_count;
}

static const char *selected_app(const agent *a, unsigned i)
{
    return a->cfg.all_apps ? a->visible[i] : a->cfg.app_ids[i];
}

static int is_selected(const agent *a, const char *app_id)
{
    for (unsigned i = 0; i < selected_count(a); i++)
        if (strcmp(selected_app(a, i), app_id) == 0)
            return 1;
    return 0;
}

static int select_apps(agent *a)
{
    for (unsigned i = 0; !a->cfg.all_apps && i < a->cfg.app_count; i++) {
        if (!list_contains(a->visible, a->visible_count, a->cfg.app_ids[i])) {
            (void)snprintf(a->where, sizeof a->where, "configuration");
            return fail(a, AGENT_EXIT_CONFIG,
                        "app_id %s: no such app visible to this API key on %s: check the id "
                        "(countly-sync check lists the visible apps)",
                        a->cfg.app_ids[i], a->cfg.server.host);
        }
    }
    return 0;
}

/* Opens users.csv at the state's committed size (dropping rows of a page
 * that was interrupted). Without a state file, an existing users.csv with
 * rows is not ours to truncate. */
static int open_users_file(agent *a)
{
    uint64_t size = 0;
    int is_dir = 0, resumed = 0;
    if (a->cfg.output_layout == CONFIG_LAYOUT_RUNS)
        return open_users_part(a);
    int code = a->state.part.open ? resume_part(a, &resumed) : 0; /* left by the runs layout */
    if (code == 0 && resumed)
        code = close_part(a, 1);
    if (code != 0)
        return code;
    if (!a->state.exists &&
        port_path_stat(output_path(a, "users.csv"), &is_dir, &size) == PORT_OK && size > 0)
        return fail(a, AGENT_EXIT_OUTPUT,
                    "%s has rows but there is no state file %s: move users.csv away to start a "
                    "full re-sync, or restore the state file",
                    a->path, a->cfg.state_file);
    if (!a->state.exists &&
        state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot create the state file: %s", a->state.detail);
    a->state.exists = 1;
    code = open_table(a, MAP_TABLE_USERS, "users.csv", CSV_MODE_APPEND, a->state.users_csv_bytes);
    if (code != 0)
        return code;
    a->state.users_csv_bytes = a->sink.committed;
    return 0;
}

static int sync_users(agent *a)
{
    stream_begin(a, STREAM_USERS);
    int code = select_apps(a);
    if (code == 0)
        code = open_users_file(a);
    /* A window interrupted by a crash is finished first, with its bounds. */
    state_run *run = &a->state.run;
    if (code == 0 && run->active && !is_selected(a, run->app_id))
        run->active = 0;
    if (code == 0 && run->active && run->legacy)
        log_notice(&a->log,
                   "users of app %s: the state was written by release 0.1 (skip paging); its "
                   "interrupted window is finished after its last committed user, with no user "
                   "lost or written twice",
                   run->app_id);
    if (code == 0 && run->active)
        code = read_app_window(a, run->app_id, run->from, run->to, run->all_history);
    for (unsigned i = 0; code == 0 && i < selected_count(a); i++) {
        const char *app = selected_app(a, i);
        int64_t cursor = state_cursor(&a->state, app);
        int64_t days = (int64_t)a->cfg.initial_sync_days;
        int all_history = cursor < 0 && days == 0;
        int64_t from = cursor >= 0 ? cursor : a->run_start - days * 86400;
        if (!all_history && from >= a->run_start) {
            log_debug(&a->log, "users of app %s: nothing new since the last run", app);
            continue;
        }
        code = read_app_window(a, app, from, a->run_start, all_history);
    }
    int closed = a->cfg.output_layout == CONFIG_LAYOUT_RUNS ? close_part(a, code == 0)
                                                            : close_table(a, code == 0);
    if (code == 0 && closed == 0)
        stream_summary(a, STREAM_USERS);
    return code != 0 ? code : closed;
}

/* ==== output files ================================================================ */

/* Says in a->message why the sink failed, with the file and what to do. */
static int sink_error(agent *a, csv_status st)
{
    const char *advice = st == CSV_ERR_NOSPC ? "free some space on the device"
                         : st == CSV_ERR_SHORT
                             ? "restore the file, or delete it and the state file to re-sync"
                             : "check the output folder's permissions";
    (void)snprintf(a->message, sizeof a->message, "cannot write %s: %s (%s): %s", a->sink.path,
                   csv_strerror(st), port_strerror(a->sink.port_error), advice);
    return AGENT_EXIT_OUTPUT;
}

/* The sink failed: the run fails with its one line. */
static int sink_fail(agent *a, csv_status st)
{
    return fail(a, sink_error(a, st), "%s", a->message);
}

/* Opens a table's CSV file at path (written under tmp when not NULL, csv.h)
 * and commits its header right away, so a rollback never takes the header
 * with it. */
static int open_table_at(agent *a, map_table table, const char *path, const char *tmp,
                         csv_mode mode, uint64_t committed)
{
    size_t columns = 0;
    const char *const *header = map_header(table, &columns);
    gzip_out *gz = NULL;
#if CSV_GZIP
    gz = a->cfg.output_gzip ? &a->gzout : NULL;
#endif
    a->sink_base = committed;
    csv_status st =
        csv_open_temp(&a->sink, path, tmp, mode, committed, header, columns, a->cfg.file_mode, gz);
    if (st == CSV_OK)
        st = csv_commit(&a->sink);
    if (st != CSV_OK) {
        csv_abandon(&a->sink);
        return sink_fail(a, st);
    }
    a->sink_open = 1;
    return 0;
}

/* Opens <output_dir>/name (open_table_at). */
static int open_table(agent *a, map_table table, const char *name, csv_mode mode,
                      uint64_t committed)
{
    return open_table_at(a, table, output_path(a, name), NULL, mode, committed);
}

/* Commits the rows written so far (flush + fsync). */
static int commit_rows(agent *a)
{
    csv_status st = csv_commit(&a->sink);
    return st == CSV_OK ? 0 : sink_fail(a, st);
}

/* Publishes (REPLACE) or closes (APPEND) the table's file. */
static int close_table(agent *a, int ok)
{
    if (!a->sink_open)
        return 0;
    a->sink_open = 0;
    if (!ok) {
        csv_abandon(&a->sink);
        note_file(a, 0);
        return 0;
    }
    csv_status st = csv_finish(&a->sink);
    note_file(a, st == CSV_OK);
    return st == CSV_OK ? 0 : sink_fail(a, st);
}

/* Maps one record into the open table; errors become a->message. */
static int write_row(agent *a, const jstream_record *r)
{
    return write_row_gated(a, r, NULL);
}

/* write_row with a map gate (map_record_gated) whose refusal sets
 * a->gate_code and a->message. */
static int write_row_gated(agent *a, const jstream_record *r, map_gate_fn gate)
{
    map_status ms = map_record_gated(&a->map, r, &a->sink, gate, a);
    if (ms == MAP_OK)
        return 0;
    if (ms == MAP_ERR_GATE)
        return a->gate_code;
    if (ms == MAP_ERR_SINK)
        return sink_error(a, a->map.sink_status);
    char what[LOG_LINE_MAX / 2];
    (void)map_describe(&a->map, ms, what, sizeof what);
    (void)snprintf(a->message, sizeof a->message, "bad data from the server: %s", what);
    return AGENT_EXIT_DATA;
}

/* Points the mapper at a table, keeping count of its replacements. */
static void start_mapping(agent *a, map_table table)
{
    a->stats[a->stream].replaced += a->map.replaced;
    map_init(&a->map, table, &a->map_ctx);
}

static void stream_begin(agent *a, int stream)
{
    a->map.replaced = 0;
    a->stream = stream;
    memset(&a->stats[stream], 0, sizeof a->stats[stream]);
    a->stats[stream].start_ms = port_clock_ms();
    (void)snprintf(a->where, sizeof a->where, "%s", STREAM_NAMES[stream]);
    log_set_context(&a->log, STREAM_NAMES[stream], NULL, 0);
}

/* Counts a committed page. */
static void stream_page(agent *a, int stream, unsigned long rows)
{
    a->stats[stream].pages++;
    a->stats[stream].rows += rows;
    a->stats[stream].bytes += a->resp.body_bytes;
    a->stats[stream].bytes_decoded += a->resp.decoded_bytes;
}

static void stream_summary(agent *a, int stream)
{
    agent_stream_stats *s = &a->stats[stream];
    s->completed = 1;
    s->committed = s->rows;
    s->end_ms = port_clock_ms();
    s->replaced += a->map.replaced;
    a->map.replaced = 0;
    if (s->replaced > 0)
        log_notice(&a->log, "%s: %lu unpaired surrogate or NUL character%s written as U+FFFD",
                   STREAM_NAMES[stream], s->replaced, s->replaced == 1 ? "" : "s");
    double secs = (double)(port_clock_ms() - s->start_ms) / 1000.0;
    log_set_context(&a->log, STREAM_NAMES[stream], NULL, 0);
    log_info(&a->log, "%s: %lu rows, %lu page%s, %.1f KB, %.1f s", STREAM_NAMES[stream], s->rows,
             s->pages, s->pages == 1 ? "" : "s", (double)s->bytes / 1024.0, secs);
}

/* ==== one GET, with retries ====================================================== */

/* A request that ends the stream: code from fail(). */
static fetch_result fetch_fatal(int code)
{
    fetch_result r = {FETCH_FATAL, code, 0};
    return r;
}

/* The transport or HTTP exchange failed: retry, unless the certificate was
 * refused, the TLS handshake itself failed or the proxy refused the tunnel
 * (none heals by waiting). */
static fetch_result exchange_failed(agent *a, http_client_status st)
{
    /* a corrupt gzip body is retried like a truncated one, then is bad data */
    fetch_result r = {FETCH_RETRY, 0, st == HTTP_CLIENT_ERR_DECODE};
    transport_status ts = a->resp.transport_status;
    (void)snprintf(a->message, sizeof a->message, "%s", http_client_detail(&a->http));
    /* dbviewer's answer to a query MongoDB failed while it streamed (the
     * sort memory limit): 200, the page's head, then the connection ends. */
    a->head_only = a->resp.status_code == 200 && a->js.has_total && a->js.records == 0;
    if (st == HTTP_CLIENT_ERR_CONNECT &&
        (ts == TRANSPORT_ERR_CERT || ts == TRANSPORT_ERR_TLS || ts == TRANSPORT_ERR_PROXY))
        return fetch_fatal(fail(a, AGENT_EXIT_UNAVAILABLE, "cannot connect to %s: %s",
                                a->cfg.server.host, a->message));
    if (st == HTTP_CLIENT_ERR_REQUEST_LONG || st == HTTP_CLIENT_ERR_TARGET)
        return fetch_fatal(fail(a, AGENT_EXIT_CONFIG, "%s", a->message));
    return r;
}

/* Bad data in a 200 answer: retried, then exit 65. Sink failures are fatal. */
static fetch_result body_failed(agent *a)
{
    fetch_result r = {FETCH_RETRY, 0, 1};
    if (a->record_error == AGENT_EXIT_OUTPUT)
        return fetch_fatal(fail(a, AGENT_EXIT_OUTPUT, "%s", a->message));
    if (a->record_error == 0) {
        char what[LOG_LINE_MAX / 2];
        (void)jstream_describe(&a->js, what, sizeof what);
        (void)snprintf(a->message, sizeof a->message, "bad response body: %s", what);
    }
    return r;
}

/* Judges a complete answer by its status code. */
static fetch_result judge_status(agent *a)
{
    fetch_result r = {FETCH_STATUS, 0, 0};
    int code = a->resp.status_code;
    const char *said = a->js.has_message ? a->js.message : "";
    if (code == 429 || code == 500 || code == 502 || code == 503 || code == 504) {
        (void)snprintf(a->message, sizeof a->message, "HTTP %d from %s%s%s", code,
                       a->cfg.server.host, said[0] ? ": " : "", said);
        r.outcome = FETCH_RETRY;
        return r;
    }
    if (code == 401 &&
        (strcmp(said, "User does not exist") == 0 || strcmp(said, "User is locked") == 0 ||
         strcmp(said, "Token is invalid") == 0))
        return fetch_fatal(fail(a, AGENT_EXIT_AUTH,
                                "the API key was refused by %s (401 %s): check api_key or "
                                "COUNTLY_API_KEY",
                                a->cfg.server.host, said));
    if (code >= 500) /* the server's own failure: a later run may succeed */
        return fetch_fatal(fail(a, AGENT_EXIT_TEMPFAIL, "%s answered HTTP %d%s%s",
                                a->cfg.server.host, code, said[0] ? ": " : "", said));
    return r;
}

/* -vv: what one exchange gave (status, bytes, records, time, connection). */
static void trace_exchange(agent *a, http_client_status st, uint64_t ms)
{
    const http_response *r = &a->resp;
    char wire[48] = "";
    if (a->log.level < LOG_TRACE)
        return; /* not a byte formatted per request unless asked */
    if (r->body_bytes != r->decoded_bytes)
        (void)snprintf(wire, sizeof wire, " (%llu on the wire)", (unsigned long long)r->body_bytes);
    log_trace(&a->log, "HTTP %d%s%s: %llu body bytes%s, %lu records, %llu ms, %s connection",
              r->status_code, st != HTTP_CLIENT_OK ? ", " : "",
              st != HTTP_CLIENT_OK ? http_client_strerror(st) : "",
              (unsigned long long)r->decoded_bytes, wire, a->js.records, (unsigned long long)ms,
              r->reused ? "reused" : "new");
}

/* One attempt: GET a->target, stream the body through jstream to handler. */
static fetch_result attempt_once(agent *a, jstream_envelope envelope)
{
    fetch_result ok = {FETCH_OK, 0, 0};
    if (a->window_active)
        window_page_reset(&a->window); /* the rows of a failed attempt were rolled back */
    jstream_init(&a->js, envelope);
    a->record_error = 0;
    a->head_only = 0;
    uint64_t sent_ms = port_clock_ms();
    http_client_status st = http_client_get(&a->http, a->target, on_body, a, &a->resp);
    relay_status rs = relay_drain(&a->relay); /* the records are all written now */
    trace_exchange(a, st, port_clock_ms() - sent_ms);
    if (!a->run_start_known && a->resp.date > 0) {
        a->run_start = a->resp.date; /* the server's clock, not ours */
        a->run_start_known = 1;
    }
    if (port_interrupted() != 0) { /* a stop signal: fetch rolls the page back and stops */
        fetch_result stopped = {FETCH_RETRY, 0, 0};
        return stopped;
    }
    if (st == HTTP_CLIENT_ERR_ABORTED || rs != RELAY_OK)
        return body_failed(a);
    if (st != HTTP_CLIENT_OK)
        return exchange_failed(a, st);
    if (a->resp.status_code != 200)
        return judge_status(a);
    if (jstream_finish(&a->js) != JSTREAM_OK)
        return body_failed(a);
    return ok;
}

/* Random milliseconds in [0, bound) from the port's entropy. */
static uint64_t jitter(uint64_t bound)
{
    uint8_t b[4] = {0, 0, 0, 0};
    if (bound == 0 || port_entropy(b, sizeof b) != PORT_OK)
        return bound / 2;
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return v % bound;
}

/* Waits before retry number attempt+1; 0 when the run's budget is spent. */
static int wait_before_retry(agent *a, unsigned attempt)
{
    uint64_t cap = AGENT_BACKOFF_BASE_MS;
    for (unsigned i = 0; i < attempt && cap < AGENT_BACKOFF_CAP_MS; i++)
        cap *= 2;
    if (cap > AGENT_BACKOFF_CAP_MS)
        cap = AGENT_BACKOFF_CAP_MS;
    uint64_t wait = jitter(cap);
    if (a->resp.retry_after >= 0)
        wait = (uint64_t)a->resp.retry_after * 1000u; /* the server knows best */
    if (a->retry_wait_ms + wait > AGENT_RETRY_BUDGET_MS)
        return 0;
    log_warn(&a->log, "%s: retry %u/%u in %.1f s: %s (GET %.*s)", a->where, attempt + 1,
             a->cfg.retry_attempts, (double)wait / 1000.0, a->message, (int)a->shown_len,
             a->target);
    a->retry_wait_ms += wait;
    port_sleep_ms((uint32_t)wait);
    return 1;
}

/* The exit code once the retries ran out: 65 for bad data, 69 for a host
 * name that does not resolve (a retry later will not fix it), else 75: a
 * 5xx/429, a timeout, a refused or dropped connection may heal by itself. */
static int give_up_code(const agent *a, fetch_result r)
{
    if (r.data_error)
        return AGENT_EXIT_DATA;
    if (a->resp.transport_status == TRANSPORT_ERR_RESOLVE)
        return AGENT_EXIT_UNAVAILABLE;
    return AGENT_EXIT_TEMPFAIL;
}

/* The server could not run the query: dbviewer sent 200 and the page's
 * head, then cut the connection, on every attempt. Retrying will not help
 * (the same query fails the same way later): 69, not 75. */
static fetch_result query_failed(agent *a, unsigned attempts)
{
    char shown[AGENT_SHOWN_MAX];
    return fetch_fatal(fail(a, AGENT_EXIT_UNAVAILABLE,
                            "%s could not answer the query (%s): it sent the page's head (total "
                            "%lld), then closed the connection, %u time%s. Likely a MongoDB "
                            "query error such as the sort memory limit: look for it in the "
                            "Countly server's log, or try a smaller max_records_per_page",
                            a->cfg.server.host, request_shown(a, shown, sizeof shown),
                            (long long)a->js.total, attempts, attempts == 1 ? "" : "s"));
}

/* The request for messages: a users page by its filter, sort and limit,
 * any other by its target without the API key. Returns out. */
static const char *request_shown(const agent *a, char *out, size_t cap)
{
    if (a->shape_sort != NULL)
        (void)snprintf(out, cap, "filter %s, sort %s, limit %u", a->filter, a->shape_sort,
                       a->shape_limit);
    else
        (void)snprintf(out, cap, "%.*s", (int)a->shown_len, a->target);
    return out;
}

/* GETs the target built with target_begin/target_add, retrying what can
 * succeed on retry. Rows written by a failed attempt are dropped (back to
 * where the page began; earlier complete pages may wait for their commit). */
static fetch_result fetch(agent *a, jstream_envelope envelope, agent_record_fn handler)
{
    fetch_result r = {FETCH_FATAL, AGENT_EXIT_CONFIG, 0};
    if (target_finish(a) != 0)
        return r; /* target_finish said why */
    a->handler = handler;
    if (a->sink_open)
        a->page_start = csv_boundary(&a->sink);
    log_debug(&a->log, "GET %.*s", (int)a->shown_len, a->target);
    for (unsigned attempt = 0;; attempt++) {
        r = attempt_once(a, envelope);
        if (r.outcome != FETCH_RETRY)
            return r;
        csv_status rolled = a->sink_open ? csv_truncate(&a->sink, a->page_start) : CSV_OK;
        if (rolled != CSV_OK)
            return fetch_fatal(sink_fail(a, rolled));
        if (interrupted() != 0)
            return fetch_fatal(interrupted());
        if (attempt >= a->cfg.retry_attempts || !wait_before_retry(a, attempt)) {
            if (a->head_only)
                return query_failed(a, attempt + 1);
            return fetch_fatal(fail(a, give_up_code(a, r),
                                    "%s (GET %.*s; gave up after %u attempt%s)", a->message,
                                    (int)a->shown_len, a->target, attempt + 1, attempt ? "s" : ""));
        }
        if (interrupted() != 0) /* the wait ended early */
            return fetch_fatal(interrupted());
    }
}

/* A status answer no stream expected: report it in the server's words. */
static int unexpected_status(agent *a)
{
    int code = a->resp.status_code;
    return fail(a, (code == 401 || code == 403) ? AGENT_EXIT_AUTH : AGENT_EXIT_DATA,
                "%s answered HTTP %d%s%s (GET %.*s)", a->cfg.server.host, code,
                a->js.has_message ? ": " : "", a->js.has_message ? a->js.message : "",
                (int)a->shown_len, a->target);
}

/* ==== requests ================================================================ */

/* Starts a request target: its path. What may be shown of the target is
 * its first shown_len bytes: all of it but the API key, added last. */
static void target_begin(agent *a, const char *path)
{
    a->shape_sort = NULL;
    (void)snprintf(a->target, sizeof a->target, "%s", path);
    a->shown_len = strlen(a->target);
}

/* Adds one query parameter (value percent-encoded). */
static int target_add(agent *a, const char *key, const char *value)
{
    if (url_append_query(a->target, sizeof a->target, key, value) != URL_OK)
        return fail(a, AGENT_EXIT_CONFIG, "request longer than HTTP_REQUEST_MAX (%d bytes)",
                    HTTP_REQUEST_MAX);
    a->shown_len = strlen(a->target);
    return 0;
}

/* The real target: the shown one plus the API key, which is never shown. */
static int target_finish(agent *a)
{
    a->target[a->shown_len] = '\0'; /* a key added by an earlier finish goes */
    if (url_append_query(a->target, sizeof a->target, "api_key", a->cfg.api_key) != URL_OK)
        return fail(a, AGENT_EXIT_CONFIG, "request longer than HTTP_REQUEST_MAX (%d bytes)",
                    HTTP_REQUEST_MAX);
    return 0;
}

static int on_record(void *user, const jstream_record *record)
{
    agent *a = user;
    return a->handler(a, record) != AGENT_RECORD_GO_ON;
}

/* The relay's consumer: a 200 body's bytes, scanned into records for the
 * stream's handler (on the second thread when there is one). */
static int scan_body(void *user, const uint8_t *data, size_t len)
{
    agent *a = user;
    return jstream_feed(&a->js, data, len, on_record, a) != JSTREAM_OK;
}

/* A 200 body goes to the relay. Any other answer is scanned here only for
 * its message; its records mean nothing, and an error page that is not
 * JSON (nginx's HTML 502/503/504) is judged by its status alone: read to
 * its end, never as bad data. */
static int on_body(void *user, const uint8_t *data, size_t len)
{
    agent *a = user;
    if (http_client_status_code(&a->http) == 200)
        return relay_push(&a->relay, data, len) != RELAY_OK;
    (void)jstream_feed(&a->js, data, len, NULL, NULL);
    return 0;
}

/* ==== the runs layout: closed files per run (runs.h) ==================================== */

/* Removes the hidden temporary files a killed run left in folder (all
 * but keep, the open part's): nothing would ever finish them. */
static void remove_stale_temporaries(agent *a, const char *folder, const char *keep)
{
    port_dir dir;
    char name[AGENT_PATH_MAX];
    char path[AGENT_PATH_MAX];
    if (port_dir_open(&dir, folder) != PORT_OK)
        return;
    while (port_dir_next(&dir, name, sizeof name) == PORT_OK) {
        int n = snprintf(path, sizeof path, "%s/%s", folder, name);
        if (runs_is_stale_temporary(name, keep) && n > 0 && (size_t)n < sizeof path &&
            port_file_remove(path) == PORT_OK)
            log_debug(&a->log, "removed %s, left by an interrupted run", path);
    }
    port_dir_close(&dir);
}

/* Names the run after its start on the server clock (never an earlier
 * run's stamp: the state records each run's before any file is named after
 * it), makes the folders apps/, groups/, users/ and runs/, and clears them
 * of what killed runs left half-written (but the open part, named with its
 * own compression). */
static int start_runs_layout(agent *a)
{
    const state_part *part = &a->state.part;
    runs_name open_part = {RUNS_FILE_USERS, part->stamp, part->number, part->gzip, 1};
    char keep[REPORT_PATH_MAX] = "";
    if (part->open && runs_file_name(&open_part, keep, sizeof keep) != RUNS_OK)
        keep[0] = '\0';
    int64_t last = a->state.last_stamp;
    if (part->known && part->stamp > last)
        last = part->stamp;
    a->run_stamp = runs_stamp_for(a->run_start, last > 0 ? last : -1);
    for (int file = RUNS_FILE_APPS; file <= RUNS_FILE_MANIFEST; file++) {
        char folder[AGENT_PATH_MAX];
        const char *name = runs_folder((runs_file)file);
        (void)snprintf(folder, sizeof folder, "%s/%s", a->cfg.output_dir, name);
        if (make_folders(a, folder, 0) != 0)
            return fail(a, AGENT_EXIT_OUTPUT, "cannot create the output folder %s: %s", a->path,
                        port_last_os_error());
        size_t len = strlen(name); /* keep is "users/.STAMP-NNNN.csv.tmp" */
        int in_folder = strncmp(keep, name, len) == 0 && keep[len] == '/';
        remove_stale_temporaries(a, folder, in_folder ? keep + len + 1 : NULL);
    }
    a->state.last_stamp = a->run_stamp;
    if (state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    a->state.exists = 1;
    return 0;
}

/* <output_dir>/<the run file's name> into out (cap bytes); temporary: its
 * hidden temporary name; gzip: ".csv.gz". */
static int run_file_path(agent *a, runs_name name, char *out, size_t cap)
{
    char relative[REPORT_PATH_MAX];
    int n = -1;
    if (runs_file_name(&name, relative, sizeof relative) == RUNS_OK)
        n = snprintf(out, cap, "%s/%s", a->cfg.output_dir, relative);
    if (n < 0 || (size_t)n >= cap)
        return fail(a, AGENT_EXIT_OUTPUT,
                    "output_dir %s: a file name of the runs layout does not "
                    "fit AGENT_PATH_MAX",
                    a->cfg.output_dir);
    return 0;
}

/* Opens a run file (part: users only) in mode, written under its hidden
 * temporary name and renamed when complete. */
static int open_run_file(agent *a, map_table table, runs_name name, csv_mode mode,
                         uint64_t committed)
{
    char tmp[AGENT_PATH_MAX];
    name.temporary = 1;
    int code = run_file_path(a, name, tmp, sizeof tmp);
    name.temporary = 0;
    if (code == 0)
        code = run_file_path(a, name, a->path, sizeof a->path);
    return code != 0 ? code : open_table_at(a, table, a->path, tmp, mode, committed);
}

/* Opens apps or groups for a full refresh: <name> replaced whole (append
 * layout), or the run's own apps/STAMP.csv, groups/STAMP.csv (runs). */
static int open_full_table(agent *a, map_table table, const char *name, runs_file file)
{
    if (a->cfg.output_layout != CONFIG_LAYOUT_RUNS)
        return open_table(a, table, name, CSV_MODE_REPLACE, 0);
    runs_name n = {file, a->run_stamp, 0, a->cfg.output_gzip, 0};
    return open_run_file(a, table, n, CSV_MODE_REPLACE, 0);
}

/* Records the users file's committed size in the state: users.csv's, or
 * in the runs layout the open part's (with its rows). */
static void users_committed(agent *a, uint64_t bytes)
{
    if (a->cfg.output_layout != CONFIG_LAYOUT_RUNS) {
        a->state.users_csv_bytes = bytes;
        return;
    }
    a->state.part.bytes = bytes;
    a->state.part.rows = a->part_rows_base + a->sink.rows_committed;
    a->state.part.text = a->state.part.gzip ? a->part_text_base + a->sink.text_committed : bytes;
}

/* Runs layout: 1 when the page just read would take the open part past
 * output_part_mb while it holds rows already (runs_page_needs_new_part). */
static int part_is_full(agent *a)
{
    if (a->cfg.output_layout != CONFIG_LAYOUT_RUNS)
        return 0;
    uint64_t limit = (uint64_t)a->cfg.output_part_mb * 1024u * 1024u;
    uint64_t end = a->part_text_base + csv_position(&a->sink).offset; /* gzip: of text */
    if (end > limit && a->part_rows_base + a->page_start.rows == 0)
        log_warn(&a->log,
                 "%s: one page is larger than output_part_mb (%u MB): its part holds "
                 "it alone",
                 a->where, (unsigned)a->cfg.output_part_mb);
    return runs_page_needs_new_part(a->part_rows_base + a->page_start.rows, end, limit);
}

/* Runs layout: the page just read goes to the next part. It is dropped and
 * read again: the pages before it are committed, the part is published,
 * and the next part opened. */
static int next_part(agent *a)
{
    const state_run *run = &a->state.run;
    window_bounds bounds = {run->from, run->to, run->all_history};
    csv_status st = csv_truncate(&a->sink, a->page_start);
    if (st != CSV_OK)
        return sink_fail(a, st);
    window_resume(&a->window, &bounds, &a->page_pos, a->cfg.max_records_per_page,
                  WINDOW_SUBRANGE_PAGES);
    int code = commit_users_page(a); /* the state: the window back where the page began */
    if (code == 0)
        code = close_part(a, 1);
    return code != 0 ? code : open_users_part(a);
}

/* Reopens the part an interrupted run left open, its hidden file cut back
 * to the committed size. *resumed is 0 when there is none, or when the
 * crash came after its rename (its hidden file is gone: it is published). */
static int resume_part(agent *a, int *resumed)
{
    state_part *part = &a->state.part;
    runs_name n = {RUNS_FILE_USERS, part->stamp, part->number, part->gzip, 1};
    char tmp[AGENT_PATH_MAX];
    uint64_t size = 0;
    int is_dir = 0;
    *resumed = 0;
    if (!part->open)
        return 0;
    int code = run_file_path(a, n, tmp, sizeof tmp);
    if (code != 0)
        return code;
    if (port_path_stat(tmp, &is_dir, &size) == PORT_ERR_NOENT) {
        log_debug(&a->log, "users part %u of the run before was published before it stopped",
                  part->number);
        part->open = 0;
        return 0;
    }
    if (part->gzip != a->cfg.output_gzip) /* this run cannot append to it */
        return publish_part_as_is(a, tmp, n);
    a->part_rows_base = part->rows;
    a->part_text_base = part->gzip ? part->text : 0;
    *resumed = 1;
    n.temporary = 0;
    return open_run_file(a, MAP_TABLE_USERS, n, CSV_MODE_PART, part->bytes);
}

/* Publishes the part an interrupted run left open (its hidden file tmp,
 * name n) as it stands at its last commit: output_compression changed
 * since, and this run's rows cannot go into it. */
static int publish_part_as_is(agent *a, const char *tmp, runs_name n)
{
    state_part *part = &a->state.part;
    port_file f;
    char *final = a->path;
    n.temporary = 0;
    int code = run_file_path(a, n, final, sizeof a->path);
    if (code != 0)
        return code;
    port_file_init(&f);
    port_status st = port_file_open(&f, tmp, PORT_FILE_WRITE);
    if (st == PORT_OK)
        st = port_file_truncate(&f, part->bytes);
    if (st == PORT_OK)
        st = port_file_sync(&f);
    port_status closed = port_file_close(&f);
    if (st == PORT_OK)
        st = closed == PORT_OK ? port_file_replace(tmp, final) : closed;
    if (st != PORT_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot publish %s: %s (%s)", final, port_strerror(st),
                    port_last_os_error());
    log_notice(&a->log, "%s: published as the run before left it (output_compression changed)",
               final);
    const char *name = final + strlen(a->cfg.output_dir) + 1;
    report_file *rf = report_file_add(&a->report, name, (unsigned long)part->rows, part->bytes, 1);
    if (rf != NULL && report_sha256_file(final, rf->sha256, (uint8_t *)a->js.record,
                                         sizeof a->js.record) != REPORT_OK)
        rf->sha256[0] = '\0';
    part->open = 0;
    if (state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    return 0;
}

/* Runs layout: opens the users part rows go to: the one an interrupted
 * run left open (its rows are finished by this run), or this run's next
 * one, recorded in the state before its file is created. */
static int open_users_part(agent *a)
{
    state_part *part = &a->state.part;
    int resumed = 0;
    int code = resume_part(a, &resumed);
    if (code != 0 || resumed)
        return code;
    unsigned number = runs_next_part(a->run_stamp, part->known ? part->stamp : -1, part->number);
    if (number > RUNS_PART_MAX)
        return fail(a, AGENT_EXIT_OUTPUT,
                    "users: more than %u parts in one run: raise "
                    "output_part_mb",
                    RUNS_PART_MAX);
    *part = (state_part){1, 1, a->run_stamp, number, 0, 0, a->cfg.output_gzip, 0};
    a->part_rows_base = 0;
    a->part_text_base = 0;
    if (state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    a->state.exists = 1;
    runs_name n = {RUNS_FILE_USERS, a->run_stamp, number, a->cfg.output_gzip, 0};
    code = open_run_file(a, MAP_TABLE_USERS, n, CSV_MODE_PART, 0);
    if (code == 0)
        users_committed(a, a->sink.committed); /* the header */
    return code;
}

/* Publishes the open users part (ok: renamed to its final name, then
 * recorded closed), or leaves it open at its last commit for the next run. */
static int close_part(agent *a, int ok)
{
    int code = close_table(a, ok);
    if (!ok || code != 0)
        return code;
    a->state.part.open = 0;
    if (state_save(&a->state, a->cfg.state_file, a->js.record, sizeof a->js.record) != STATE_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot save the state: %s", a->state.detail);
    return 0;
}

/* Why report_save failed: the system's words it left in buf, else the
 * status's. */
static const char *report_why(report_status st, const char *buf)
{
    return st == REPORT_ERR_WRITE && buf[0] != '\0' ? buf : report_strerror(st);
}

/* Last of a run in the runs layout: its manifest runs/STAMP.json, the run
 * report, written atomically. */
static void write_manifest(agent *a)
{
    char path[AGENT_PATH_MAX];
    runs_name n = {RUNS_FILE_MANIFEST, a->run_stamp, 0, 0, 0};
    if (run_file_path(a, n, path, sizeof path) != 0)
        return;
    report_status st = report_save(path, REPORT_JSON, &a->report, -1, a->js.record,
                                   sizeof a->js.record, a->cfg.file_mode);
    if (st != REPORT_OK)
        log_error(&a->log, "cannot write the run's manifest %s: %s", path,
                  report_why(st, a->js.record));
}

/* ==== small helpers ========================================================== */

/* Joins dir and a CSV file's name into a->path (".csv.gz" with gzip). */
static const char *output_path(agent *a, const char *name)
{
    (void)snprintf(a->path, sizeof a->path, "%s/%s%s", a->cfg.output_dir, name,
                   a->cfg.output_gzip ? ".gz" : "");
    return a->path;
}

/* The value token of a record's top-level key (the last when repeated). */
static int record_value(const jstream_record *r, const char *key, const jsmntok_t **value)
{
    int v = json_token_find(r->json, r->tokens, r->token_count, key);
    if (v < 0)
        return 0;
    *value = &r->tokens[v];
    return 1;
}

/* Decodes a string value into out; 0 when it is not a string or too long. */
static int record_string(const jstream_record *r, const char *key, char *out, size_t cap)
{
    const jsmntok_t *v;
    unsigned long replaced = 0;
    return record_value(r, key, &v) &&
           json_token_string(r->json, v, out, cap, &replaced) == JSON_STRING_OK;
}

static int list_contains(const text_object_id *list, unsigned count, const char *id)
{
    for (unsigned i = 0; i < count; i++)
        if (strcmp(list[i], id) == 0)
            return 1;
    return 0;
}

/* Adds an app id the key can see (once). */
static int remember_visible_app(agent *a, const char *id)
{
    if (!text_is_object_id(id, strlen(id)) || list_contains(a->visible, a->visible_count, id))
        return 0;
    if (a->visible_count >= CONFIG_APPS_MAX) {
        (void)snprintf(a->message, sizeof a->message,
                       "the server lists more than CONFIG_APPS_MAX (%d) apps; rebuild "
                       "with a larger CONFIG_APPS_MAX",
                       CONFIG_APPS_MAX);
        return AGENT_EXIT_DATA;
    }
    memcpy(a->visible[a->visible_count++], id, sizeof(text_object_id));
    return 0;
}

/* ==== operations: one run per state file, signals, the run report ============== */

/* Takes <state_file>.lock for the whole run (released when the process
 * ends, however it ends) and writes this process's id into it; a second
 * run exits 75 at once, naming the holder. */
static int take_lock(agent *a)
{
    char line[24];
    size_t got = 0;
    (void)snprintf(a->path, sizeof a->path, "%s.lock", a->cfg.state_file);
    port_status st = port_file_open_mode(
        &a->lock, a->path, PORT_FILE_READ | PORT_FILE_WRITE | PORT_FILE_CREATE, a->cfg.file_mode);
    if (st != PORT_OK)
        return fail(a, AGENT_EXIT_OUTPUT,
                    "cannot write %s: cannot open or create the lock file (%s): check the output "
                    "folder's permissions",
                    a->path, port_strerror(st));
    st = port_file_lock(&a->lock);
    if (st == PORT_ERR_LOCKED) {
        if (port_file_read(&a->lock, line, sizeof line - 1, &got) != PORT_OK)
            got = 0;
        line[got] = '\0';
        unsigned long pid = strtoul(line, NULL, 10);
        (void)port_file_close(&a->lock);
        (void)snprintf(line, sizeof line, "%lu", pid);
        return fail(a, AGENT_EXIT_TEMPFAIL, "another countly-sync run holds %s (pid %s)", a->path,
                    pid != 0 ? line : "unknown");
    }
    if (st != PORT_OK) {
        (void)port_file_close(&a->lock);
        return fail(a, AGENT_EXIT_OUTPUT, "cannot lock %s: %s", a->path, port_strerror(st));
    }
    /* a fixed width, so that no digit of an older, longer id is left behind */
    (void)snprintf(line, sizeof line, "%20lu\n", port_process_id());
    (void)port_file_write(&a->lock, line, strlen(line));
    return 0;
}

/* Reads the server an output folder's mark names into out: "" when the
 * mark is empty, or torn (a crash while it was first written: its line has
 * no end). The mark is open at its start. */
static int read_folder_mark(port_file *mark, char *out, size_t cap)
{
    size_t got = 0;
    if (port_file_read(mark, out, cap - 1, &got) != PORT_OK)
        return -1;
    if (got == 0 || out[got - 1] != '\n')
        got = 1; /* not a whole line: none */
    out[got - 1] = '\0';
    return 0;
}

/* Refuses an output folder whose mark (AGENT_FOLDER_MARK, path) names
 * another server than server_url: 78 naming both; 0 when the mark names
 * none or this one. */
static int folder_of_another_server(agent *a, const char *path, const char *named,
                                    const char *server)
{
    if (named[0] == '\0' || strcmp(named, server) == 0)
        return 0; /* no mark yet, or this server's */
    return fail(a, AGENT_EXIT_CONFIG,
                "output folder %s holds the files of server %s (%s), but server_url is %s: use "
                "another output_dir for %s (or set server_url back)",
                a->cfg.output_dir, named, path, server, server);
}

/* Ties the output folder to the server, whatever state file a run uses:
 * AGENT_FOLDER_MARK names the server (written by the first sync into the
 * folder) and is held (flock) for the whole run, so that two runs with
 * different state files cannot write into one folder at once (75). */
static int claim_folder(agent *a)
{
    char named[CONFIG_URL_MAX + 2];
    char server[CONFIG_URL_MAX];
    if (server_identity(a, server, sizeof server) != 0)
        return AGENT_EXIT_CONFIG;
    (void)snprintf(a->path, sizeof a->path, "%s/%s", a->cfg.output_dir, AGENT_FOLDER_MARK);
    port_status st = port_file_open_mode(
        &a->folder_mark, a->path,
        PORT_FILE_READ | PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_APPEND, a->cfg.file_mode);
    if (st == PORT_OK)
        st = port_file_lock(&a->folder_mark);
    if (st == PORT_ERR_LOCKED)
        return fail(a, AGENT_EXIT_TEMPFAIL,
                    "another countly-sync run is writing into %s (it holds %s): one run per "
                    "output folder",
                    a->cfg.output_dir, a->path);
    if (st == PORT_OK && read_folder_mark(&a->folder_mark, named, sizeof named) != 0)
        st = PORT_ERR_IO;
    if (st != PORT_OK)
        return fail(a, AGENT_EXIT_OUTPUT,
                    "cannot use %s: %s: check the output folder's permissions", a->path,
                    port_strerror(st));
    if (named[0] != '\0')
        return folder_of_another_server(a, a->path, named, server);
    (void)snprintf(named, sizeof named, "%s\n", server);
    st = port_file_truncate(&a->folder_mark, 0); /* a torn line goes (writes append) */
    if (st == PORT_OK)
        st = port_file_write(&a->folder_mark, named, strlen(named));
    if (st == PORT_OK)
        st = port_file_sync(&a->folder_mark);
    if (st == PORT_OK)
        st = port_dir_sync(a->cfg.output_dir);
    if (st != PORT_OK)
        return fail(a, AGENT_EXIT_OUTPUT, "cannot write %s: %s", a->path, port_strerror(st));
    return 0;
}

/* The refusal of claim_folder, reading only (no mark written, no lock
 * taken): for check, and for sync before it creates anything. */
static int check_folder(agent *a)
{
    char named[CONFIG_URL_MAX + 2];
    char server[CONFIG_URL_MAX];
    port_file mark;
    if (server_identity(a, server, sizeof server) != 0)
        return AGENT_EXIT_CONFIG;
    port_file_init(&mark);
    (void)snprintf(a->path, sizeof a->path, "%s/%s", a->cfg.output_dir, AGENT_FOLDER_MARK);
    if (port_file_open(&mark, a->path, PORT_FILE_READ) != PORT_OK)
        return 0; /* no mark: no sync wrote into the folder yet */
    int ok = read_folder_mark(&mark, named, sizeof named) == 0;
    (void)port_file_close(&mark);
    return ok ? folder_of_another_server(a, a->path, named, server) : 0;
}

/* 128 + the number of a stop signal caught (SIGTERM, SIGINT, SIGHUP), else 0. */
static int interrupted(void)
{
    int sig = port_interrupted();
    return sig != 0 ? AGENT_EXIT_SIGNAL_BASE + sig : 0;
}

/* A run a stop signal ended: its one line, with the rows kept. */
static int say_interrupted(agent *a, int code)
{
    int sig = port_interrupted();
    if (sig == 0 || code != AGENT_EXIT_SIGNAL_BASE + sig)
        return code;
    unsigned long rows = 0;
    for (int i = 0; i < 3; i++)
        rows += a->stats[i].committed;
    a->where[0] = '\0';
    return fail(a, code, "interrupted by %s after %lu row%s committed; the next run resumes",
                port_signal_name(sig), rows, rows == 1 ? "" : "s");
}

/* The table just closed, for the report: published whole (ok, REPLACE),
 * appended to (APPEND), or nothing (a REPLACE that failed). */
static void note_file(agent *a, int ok)
{
    int append = a->sink.mode == CSV_MODE_APPEND;
    if (!ok && !append)
        return;
    size_t dir = strlen(a->cfg.output_dir);
    const char *name = a->sink.path;
    if (strncmp(name, a->cfg.output_dir, dir) == 0 && name[dir] == '/')
        name += dir + 1;
    uint64_t bytes = a->sink.committed > a->sink_base ? a->sink.committed - a->sink_base : 0;
    unsigned long rows = a->sink.rows_committed;
    if (a->sink.mode == CSV_MODE_PART)
        rows += (unsigned long)a->part_rows_base; /* a resumed part: its rows of every run */
    report_file *f =
        report_file_add(&a->report, name, rows, append ? bytes : a->sink.committed, !append);
    if (f == NULL)
        log_warn(&a->log, "the run report lists at most REPORT_FILES_MAX (%d) files: %s left out",
                 REPORT_FILES_MAX, name);
    /* runs layout: hashed now, before a consumer may move the file away */
    if (f != NULL && !append && a->cfg.output_layout == CONFIG_LAYOUT_RUNS &&
        report_sha256_file(a->sink.path, f->sha256, (uint8_t *)a->js.record, sizeof a->js.record) !=
            REPORT_OK)
        f->sha256[0] = '\0';
}

/* One stream's figures for the report. */
static void report_stream_of(agent *a, int stream, int enabled)
{
    const agent_stream_stats *s = &a->stats[stream];
    report_stream *r = &a->report.streams[stream];
    uint64_t end = s->end_ms != 0 ? s->end_ms : port_clock_ms();
    r->enabled = enabled;
    r->completed = s->completed;
    r->rows = s->committed;
    r->pages = s->pages;
    r->bytes_received = s->bytes_decoded;
    r->bytes_on_wire = s->bytes;
    r->seconds = s->start_ms != 0 && end > s->start_ms ? (double)(end - s->start_ms) / 1000.0 : 0.0;
}

/* The users stream's apps and cursors for the report: those the run chose,
 * or, when it failed before choosing them, those the state holds. */
static void report_apps_of(agent *a)
{
    unsigned chosen = selected_count(a);
    for (unsigned i = 0; i < chosen; i++)
        (void)report_app_add(&a->report, selected_app(a, i),
                             state_cursor(&a->state, selected_app(a, i)), 0);
    for (unsigned i = 0; chosen == 0 && i < a->state.app_count; i++)
        (void)report_app_add(&a->report, a->state.apps[i].app_id, a->state.apps[i].cursor, 0);
}

/* After a sync, success or failure: the report (--report) and the metrics
 * (--metrics), each written atomically. A failure to write them is a
 * warning: the run's own outcome stands. */
static void finish_report(agent *a, int code)
{
    report_run *r = &a->report;
    const agent_options *o = &a->opts;
    int manifest = a->cfg.output_layout == CONFIG_LAYOUT_RUNS && a->run_stamp > 0;
    if (o->command != AGENT_SYNC ||
        (o->report_path == NULL && o->metrics_path == NULL && !manifest))
        return;
    r->exit_code = code;
    if (code == 0)
        (void)snprintf(r->outcome, sizeof r->outcome, "ok");
    r->server_url = a->cfg.server_url[0] != '\0' ? a->cfg.server_url : NULL;
    r->run_start = a->run_start_known ? a->run_start : -1;
    r->finished_at = port_time_utc();
    r->duration_seconds = (double)(port_clock_ms() - a->started_ms) / 1000.0;
    int configured = r->server_url != NULL; /* else the configuration was not read */
    report_stream_of(a, STREAM_APPS, configured && a->cfg.enable_apps);
    report_stream_of(a, STREAM_GROUPS, configured && a->cfg.enable_groups);
    report_stream_of(a, STREAM_USERS, configured && a->cfg.enable_users);
    if (configured && a->cfg.enable_users)
        report_apps_of(a);
    for (unsigned i = 0; i < r->file_count; i++) {
        report_file *f = &r->files[i]; /* its path is relative to output_dir, suffix and all */
        int n = snprintf(a->path, sizeof a->path, "%s/%s", a->cfg.output_dir, f->path);
        if (n > 0 && (size_t)n < sizeof a->path && f->complete && f->sha256[0] == '\0' &&
            report_sha256_file(a->path, f->sha256, (uint8_t *)a->js.record, sizeof a->js.record) !=
                REPORT_OK)
            f->sha256[0] = '\0';
    }
    char *buf = a->js.record; /* the run is over: its scratch is free */
    report_status st = REPORT_OK;
    if (manifest)
        write_manifest(a);
    if (o->report_path != NULL &&
        (st = report_save(o->report_path, REPORT_JSON, r, -1, buf, sizeof a->js.record,
                          a->cfg.file_mode)) != REPORT_OK)
        log_warn(&a->log, "cannot write the run report %s: %s", o->report_path,
                 report_why(st, buf));
    if (o->metrics_path == NULL)
        return;
    int64_t last_success =
        code == 0 ? r->finished_at
                  : report_read_last_success(o->metrics_path, buf, sizeof a->js.record);
    /* 0644: no personal data, and node_exporter's textfile collector runs as another user */
    st = report_save(o->metrics_path, REPORT_METRICS, r, last_success, buf, sizeof a->js.record,
                     REPORT_METRICS_MODE);
    if (st != REPORT_OK)
        log_warn(&a->log, "cannot write the metrics %s: %s", o->metrics_path, report_why(st, buf));
}
