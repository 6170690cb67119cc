/*
 * pipeline_run - test and benchmark driver for the record pipeline: body
 * files -> jstream -> map -> csv_sink, exactly as the agent chains them,
 * without the network.
 *
 *   pipeline_run --table apps_db|apps_mine|groups|users [--app-id ID]
 *                [--server-url URL] [--processed-at UNIX] [--chunk N]
 *                --out FILE.csv BODY_FILE...
 *
 * Each body file is one response body (one page). It is read with fread in
 * chunks of N bytes (default 65536; 1 works too) and fed to the scanner;
 * after each body the sink commits, as the agent does after each page. The
 * CSV is opened in APPEND mode with the current size of --out as committed
 * size (0 for a new file), so a second run appends to the first.
 *
 * Prints one line: "records=N bytes=B seconds=S mb_per_s=X records_per_s=Y
 * replaced=R maxrss_kb=K" (MB = 10^6 bytes). On failure: one line on
 * stderr and exit 65 (bad data), 73 (cannot write), 66 (cannot read a body)
 * or 64 (usage); rows of bodies already committed stay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "csv.h"
#include "jstream.h"
#include "map.h"

enum { EXIT_USAGE = 64, EXIT_DATA = 65, EXIT_NOINPUT = 66, EXIT_OUTPUT = 73 };

typedef struct {
    map_table table;
    jstream_envelope envelope;
    map_context ctx;
    size_t chunk;
    const char *out_path;
    int first_body;
} options;

/* The pipeline's structs are tens of KB each: static, as in the agent. */
static jstream g_scanner;
static map_mapper g_mapper;
static csv_sink g_sink;

/* What the record callback saw. */
static struct {
    map_status status;
    unsigned long rows;
} g_run;

static int usage(void)
{
    fprintf(stderr, "usage: pipeline_run --table apps_db|apps_mine|groups|users [--app-id ID] "
                    "[--server-url URL] [--processed-at UNIX] [--chunk N] --out FILE.csv "
                    "BODY_FILE...\n");
    return EXIT_USAGE;
}

static int parse_table(const char *name, options *opt)
{
    static const struct {
        const char *name;
        map_table table;
        jstream_envelope envelope;
    } tables[] = {
        {"apps_db", MAP_TABLE_APPS_DB, JSTREAM_ENVELOPE_DB},
        {"apps_mine", MAP_TABLE_APPS_MINE, JSTREAM_ENVELOPE_APPS},
        {"groups", MAP_TABLE_GROUPS, JSTREAM_ENVELOPE_GROUPS},
        {"users", MAP_TABLE_USERS, JSTREAM_ENVELOPE_DB},
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (strcmp(name, tables[i].name) == 0) {
            opt->table = tables[i].table;
            opt->envelope = tables[i].envelope;
            return 0;
        }
    }
    return -1;
}

/* Whole decimal number in [lo, hi]; -1 if s is not one. */
static int parse_number(const char *s, long long lo, long long hi, long long *value)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *value = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *opt)
{
    int have_table = 0;
    long long v = 0;
    memset(opt, 0, sizeof *opt);
    opt->chunk = 65536;
    opt->ctx.server_url = "";
    opt->ctx.app_id = "";
    opt->ctx.processed_at = (int64_t)time(NULL);
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *arg = argv[i];
        if (i + 1 >= argc)
            return -1;
        const char *val = argv[++i];
        if (strcmp(arg, "--table") == 0) {
            if (parse_table(val, opt) != 0)
                return -1;
            have_table = 1;
        } else if (strcmp(arg, "--app-id") == 0) {
            opt->ctx.app_id = val;
        } else if (strcmp(arg, "--server-url") == 0) {
            opt->ctx.server_url = val;
        } else if (strcmp(arg, "--processed-at") == 0) {
            if (parse_number(val, 0, 253402300799LL, &v) != 0)
                return -1;
            opt->ctx.processed_at = (int64_t)v;
        } else if (strcmp(arg, "--chunk") == 0) {
            if (parse_number(val, 1, 64LL << 20, &v) != 0)
                return -1;
            opt->chunk = (size_t)v;
        } else if (strcmp(arg, "--out") == 0) {
            opt->out_path = val;
        } else {
            return -1;
        }
    }
    if (!have_table || opt->out_path == NULL || i >= argc)
        return -1;
    opt->first_body = i;
    return 0;
}

static int on_record(void *user, const jstream_record *record)
{
    (void)user;
    g_run.status = map_record(&g_mapper, record, &g_sink);
    if (g_run.status != MAP_OK)
        return 1;
    g_run.rows++;
    return 0;
}

/* Reports why a body failed; returns the exit code. */
static int body_failed(const char *path)
{
    char line[1024];
    if (g_scanner.error == JSTREAM_ERR_ABORTED && g_run.status != MAP_OK) {
        map_describe(&g_mapper, g_run.status, line, sizeof line);
        if (g_run.status == MAP_ERR_SINK) {
            fprintf(stderr, "pipeline_run: %s: %s (%s)\n", path, line,
                    csv_strerror(g_mapper.sink_status));
            return EXIT_OUTPUT;
        }
        fprintf(stderr, "pipeline_run: %s: %s\n", path, line);
        return EXIT_DATA;
    }
    jstream_describe(&g_scanner, line, sizeof line);
    fprintf(stderr, "pipeline_run: %s: %s\n", path, line);
    return EXIT_DATA;
}

/* Feeds one body file through the pipeline; 0 or an exit code. */
static int run_body(const options *opt, const char *path, uint8_t *buf, uint64_t *bytes)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        fprintf(stderr, "pipeline_run: %s: cannot open: %s\n", path, strerror(errno));
        return EXIT_NOINPUT;
    }
    jstream_init(&g_scanner, opt->envelope);
    jstream_status st = JSTREAM_OK;
    size_t got;
    while (st == JSTREAM_OK && (got = fread(buf, 1, opt->chunk, in)) > 0) {
        *bytes += got;
        st = jstream_feed(&g_scanner, buf, got, on_record, NULL);
    }
    int read_error = ferror(in);
    fclose(in);
    if (read_error) {
        fprintf(stderr, "pipeline_run: %s: read error\n", path);
        return EXIT_NOINPUT;
    }
    if (st == JSTREAM_OK)
        st = jstream_finish(&g_scanner);
    if (st != JSTREAM_OK)
        return body_failed(path);
    if (g_scanner.has_message)
        fprintf(stderr, "pipeline_run: %s: server message: %s\n", path, g_scanner.message);
    csv_status cs = csv_commit(&g_sink);
    if (cs != CSV_OK) {
        fprintf(stderr, "pipeline_run: %s: commit: %s\n", opt->out_path, csv_strerror(cs));
        return EXIT_OUTPUT;
    }
    return 0;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int open_sink(const options *opt)
{
    size_t columns = 0;
    const char *const *header = map_header(opt->table, &columns);
    struct stat st;
    uint64_t committed = stat(opt->out_path, &st) == 0 ? (uint64_t)st.st_size : 0;
    csv_status cs = csv_open(&g_sink, opt->out_path, CSV_MODE_APPEND, committed, header, columns);
    if (cs != CSV_OK) {
        fprintf(stderr, "pipeline_run: %s: %s\n", opt->out_path, csv_strerror(cs));
        return EXIT_OUTPUT;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options opt;
    if (parse_options(argc, argv, &opt) != 0)
        return usage();
    uint8_t *buf = malloc(opt.chunk);
    if (buf == NULL) {
        fprintf(stderr, "pipeline_run: out of memory for a %zu-byte chunk\n", opt.chunk);
        return EXIT_USAGE;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    map_init(&g_mapper, opt.table, &opt.ctx);
    int rc = open_sink(&opt);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    uint64_t bytes = 0;
    for (int i = opt.first_body; rc == 0 && i < argc; i++)
        rc = run_body(&opt, argv[i], buf, &bytes);
    free(buf);
    if (rc != 0) {
        csv_abandon(&g_sink);
        return rc;
    }
    csv_status cs = csv_finish(&g_sink);
    if (cs != CSV_OK) {
        fprintf(stderr, "pipeline_run: %s: %s\n", opt.out_path, csv_strerror(cs));
        return EXIT_OUTPUT;
    }
    double secs = seconds_since(&start);
    double rate = secs > 0 ? 1.0 / secs : 0.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("records=%lu bytes=%llu seconds=%.3f mb_per_s=%.1f records_per_s=%.0f replaced=%lu "
           "maxrss_kb=%ld\n",
           g_run.rows, (unsigned long long)bytes, secs, (double)bytes / 1e6 * rate,
           (double)g_run.rows * rate, g_mapper.replaced, ru.ru_maxrss);
    return 0;
}
