/*
 * agent.h - one run of countly-sync: configuration in, CSV files out.
 *
 * The agent owns every buffer the program uses, in one struct the caller
 * allocates statically (nothing else in the program holds mutable state):
 * the configuration, the state file, the TLS client and its arena, the
 * HTTP client, the record scanner, the mapper, the CSV sink and the ring
 * that hands bodies to a second thread when there is one. A run
 * reads src/agent.c top to bottom: load the configuration, connect, take
 * the run start from the server's clock, then the three streams - apps
 * (full refresh), groups (full refresh), users (incremental, per app,
 * committed page by page) - and a summary.
 *
 * Exit codes: exit_codes.h.
 */
#ifndef COUNTLY_SYNC_AGENT_H
#define COUNTLY_SYNC_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "commit_policy.h"
#include "config.h"
#include "csv.h"
#include "exit_codes.h"
#include "http_client.h"
#include "jstream.h"
#include "log.h"
#include "map.h"
#include "options.h"
#include "proxy_tunnel.h"
#include "relay.h"
#include "report.h"
#include "runs.h"
#include "state.h"
#include "tcp_transport.h"
#include "text.h"
#include "tls.h"
#include "window.h"

/* The file in output_dir that names the server its files come from (one
 * line, the normalised server_url) and that a sync holds locked. */
#define AGENT_FOLDER_MARK ".countly-sync"

typedef enum {
    AGENT_SYNC = 0, /* copy the enabled streams */
    AGENT_CHECK     /* connect, authenticate, report; write nothing */
} agent_command;

typedef struct {
    agent_command command;
    const char *config_path;  /* -c; default "./configuration.json" */
    const char *output_dir;   /* --output, or NULL */
    const char *state_file;   /* --state, or NULL */
    log_level level;          /* -q / -v */
    const char *report_path;  /* --report, or NULL */
    const char *metrics_path; /* --metrics, or NULL */
    int log_json;             /* --log-format json */
} agent_options;

/* Counters of one stream for the summary line. */
typedef struct {
    unsigned long rows;
    unsigned long pages;
    unsigned long replaced; /* U+FFFD written for lone surrogates and U+0000 */
    uint64_t bytes;         /* response body bytes */
    uint64_t start_ms;
    uint64_t bytes_decoded;  /* response body bytes after gunzip */
    unsigned long committed; /* rows durable in the stream's file */
    int completed;           /* the stream read everything it had to */
    uint64_t end_ms;
} agent_stream_stats;

typedef struct agent agent;

/* What a stream's record handler says about one record. */
typedef enum {
    AGENT_RECORD_GO_ON = 0, /* next record */
    AGENT_RECORD_STOP       /* stop the transfer: a->record_error holds the exit code and
                               a->message what failed */
} agent_record_result;

/* A stream's handler for one record. */
typedef agent_record_result (*agent_record_fn)(agent *a, const jstream_record *record);

struct agent {
    agent_options opts;
    log_ctx log;
    config cfg;
    sync_state state;
    int64_t run_start; /* server clock at the first response */
    int run_start_known;

    /* what the server offers and the key may see */
    int has_dbviewer;
    int has_groups_plugin;
    unsigned visible_count;
    text_object_id visible[CONFIG_APPS_MAX];

    /* transport */
    _Alignas(16) unsigned char tls_arena[TLS_ARENA_SIZE];
    tls_client tls;
    tcp_transport_ctx tcp;
    proxy_tunnel tunnel; /* the HTTP CONNECT proxy, if any (proxy_tunnel.h) */
    http_client http;
#if HTTP_GZIP
    gunzip gunzip; /* gzip bodies inflated in fixed memory (http_compression) */
#endif
    uint64_t retry_wait_ms; /* spent waiting between retries this run */

    /* one request */
    char target[HTTP_REQUEST_MAX];  /* path + query, with the API key at the end */
    size_t shown_len;               /* the target's bytes before the API key */
    char filter[WINDOW_FILTER_MAX]; /* users: the page's filter, as sent */
    const char *shape_sort;         /* users: the page's sort (with filter and limit, for
                                     * messages, request_shown); NULL for other requests */
    unsigned shape_limit;
    jstream js; /* a 200 body's: written by the relay's consumer until relay_drain */
    http_response resp;
    int record_error; /* exit code chosen by a record handler, 0 if none */
    int gate_code;    /* exit code of a row a map gate refused (user_gate) */
    int head_only;    /* the last attempt got a 200 and the page's head, then the body was cut */

    /* pipeline */
    map_mapper map;
    map_context map_ctx;
    csv_sink sink;
    int sink_open;
#if CSV_GZIP
    gzip_out gzout; /* output_compression "gzip": the sink's deflate (gzip_out.h) */
#endif
    window_engine window;     /* users: the app's window being read */
    int window_active;        /* a users page is in flight */
    csv_mark mark;            /* users: where the page's last lac second begins */
    csv_mark page_start;      /* where the page being fetched begins (a retry goes back there) */
    window_position page_pos; /* users: the position the page being read started from */
    commit_policy commits;    /* users: when complete pages are committed */
    unsigned long window_rows;
    agent_stream_stats stats[3];
    int stream; /* the stream being read (index into stats) */
    char path[AGENT_PATH_MAX];
    char where[AGENT_WHERE_MAX]; /* "users of app <id>, page 3" for messages */
    char message[LOG_LINE_MAX];
    agent_record_fn handler; /* the current stream's record handler */

    /* operations: the run lock, and the run report and metrics */
    port_file lock;        /* <state_file>.lock, held (flock) for the whole sync */
    port_file folder_mark; /* <output_dir>/AGENT_FOLDER_MARK, held for the whole sync */
    uint64_t sink_base;    /* the open table's committed size when it was opened */
    uint64_t started_ms;   /* port_clock_ms when the run began */
    report_run report;

    /* the runs layout (runs.h) */
    int64_t run_stamp;       /* the stamp this run's files are named after; 0 until known */
    uint64_t part_rows_base; /* users: rows the open part held when this run opened it */
    uint64_t part_text_base; /* users, gzip: CSV text the open part held then (state_part) */

    /* A 200 body goes through the relay: scanned, mapped and written on a
     * second thread while this one receives the rest (relay.h). Until
     * relay_drain, that thread owns js, map, sink, window, mark, message
     * and record_error. Last: the ring is the largest buffer. */
    relay relay;
};

/* Runs one command; returns the process exit code. */
int agent_run(agent *a, const agent_options *opts);

#endif /* COUNTLY_SYNC_AGENT_H */
