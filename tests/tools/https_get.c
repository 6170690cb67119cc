/*
 * https_get - test driver for the transport stack: GETs URLs through
 * port -> tls (or tcp for http://) -> http_client, exactly as the agent will.
 *
 *   https_get [--ca PATH] [--timeout-ms N] [--tls-min 1.2|1.3] [--tls-max 1.2|1.3]
 *             [--repeat N] [--out FILE|-] [-v] URL [URL ...]
 *
 * All URLs must name the same server; they share one client (keep-alive).
 * Per request it prints "status=.. bytes=.. date=.. retry_after=.. reused=..
 * connections=.." and at the end "summary requests=.. connections=..
 * arena_peak=.. maxrss_kb=..". On failure: one line "https_get: URL: message"
 * on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "http_client.h"
#include "tcp_transport.h"
#include "tls.h"
#include "url.h"

typedef struct {
    const char *ca;
    unsigned long timeout_ms;
    int tls_min;
    int tls_max;
    unsigned long repeat;
    const char *out_path;
    int verbose;
    int first_url;
} options;

/* Everything the driver needs lives here, statically, as in the agent. */
static struct {
    _Alignas(16) unsigned char arena[TLS_ARENA_SIZE];
    tls_client tls;
    tcp_transport_ctx tcp;
    http_client http;
    url_parts server;
    url_parts other;
    FILE *out;
} g;

static int usage(void)
{
    fprintf(stderr, "usage: https_get [--ca PATH] [--timeout-ms N] [--tls-min 1.2|1.3] "
                    "[--tls-max 1.2|1.3] [--repeat N] [--out FILE|-] [-v] URL [URL ...]\n");
    return 64;
}

static int parse_minor(const char *s)
{
    if (strcmp(s, "1.2") == 0)
        return 2;
    if (strcmp(s, "1.3") == 0)
        return 3;
    return -1;
}

static int parse_args(int argc, char **argv, options *o)
{
    o->ca = NULL;
    o->timeout_ms = 10000;
    o->tls_min = 2;
    o->tls_max = 3;
    o->repeat = 1;
    o->out_path = NULL;
    o->verbose = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0) {
            o->verbose = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        if (strcmp(a, "--ca") == 0)
            o->ca = v;
        else if (strcmp(a, "--timeout-ms") == 0)
            o->timeout_ms = strtoul(v, NULL, 10);
        else if (strcmp(a, "--tls-min") == 0)
            o->tls_min = parse_minor(v);
        else if (strcmp(a, "--tls-max") == 0)
            o->tls_max = parse_minor(v);
        else if (strcmp(a, "--repeat") == 0)
            o->repeat = strtoul(v, NULL, 10);
        else if (strcmp(a, "--out") == 0)
            o->out_path = v;
        else
            return -1;
    }
    o->first_url = i;
    return i < argc ? 0 : -1;
}

static int write_body(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    if (g.out != NULL && fwrite(data, 1, len, g.out) != len)
        return 1;
    return 0;
}

/* Splits "scheme://authority/path?query" into the base URL and the target. */
static int split_url(const char *url, char *base, size_t cap, const char **target)
{
    const char *auth = strstr(url, "://");
    if (auth == NULL)
        return -1;
    const char *slash = strchr(auth + 3, '/');
    size_t blen = slash ? (size_t)(slash - url) : strlen(url);
    if (blen + 1 > cap)
        return -1;
    memcpy(base, url, blen);
    base[blen] = '\0';
    *target = slash ? slash : "/";
    return 0;
}

static int fail(const char *url, const char *msg)
{
    fprintf(stderr, "https_get: %s: %s\n", url, msg);
    return 1;
}

static int setup(const options *o, const char *first)
{
    char base[512];
    const char *target;
    if (split_url(first, base, sizeof base, &target) != 0)
        return fail(first, "not an absolute URL");
    url_status us = url_parse(base, &g.server);
    if (us != URL_OK)
        return fail(first, url_strerror(us));
    if (tls_platform_init(g.arena, sizeof g.arena) != TLS_OK)
        return fail(first, "TLS platform init failed");
    transport tr;
    if (g.server.tls) {
        tls_options to = tls_default_options();
        to.ca_path = o->ca;
        to.min_minor = o->tls_min;
        to.max_minor = o->tls_max;
        tls_status ts = tls_init(&g.tls, &to);
        if (ts != TLS_OK)
            return fail(first, ts == TLS_ERR_CA_PATH ? g.tls.detail : tls_strerror(ts));
        tr = tls_transport(&g.tls);
    } else {
        if (!port_host_is_loopback(g.server.host))
            return fail(first, "http:// is allowed only to loopback addresses");
        tr = tcp_transport(&g.tcp);
    }
    if (http_client_init(&g.http, tr, &g.server, (uint32_t)o->timeout_ms) != HTTP_CLIENT_OK)
        return fail(first, "bad server URL");
    return 0;
}

static int get_one(const options *o, const char *url, int *reported)
{
    char base[512];
    const char *target;
    http_response resp;
    if (split_url(url, base, sizeof base, &target) != 0 || url_parse(base, &g.other) != URL_OK ||
        strcmp(g.other.host, g.server.host) != 0 || g.other.port != g.server.port)
        return fail(url, "all URLs must name the same server");
    http_client_status st = http_client_get(&g.http, target, write_body, NULL, &resp);
    if (st != HTTP_CLIENT_OK)
        return fail(url, http_client_detail(&g.http));
    if (o->verbose && !*reported && g.server.tls) {
        fprintf(stderr, "tls: version=%s suite=%s\n", tls_version(&g.tls), tls_suite(&g.tls));
        *reported = 1;
    }
    printf("status=%d bytes=%llu date=%lld retry_after=%lld reused=%d connections=%lu\n",
           resp.status_code, (unsigned long long)resp.body_bytes, (long long)resp.date,
           (long long)resp.retry_after, resp.reused, g.http.connections);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0 || o.tls_min < 0 || o.tls_max < 0)
        return usage();
    if (o.out_path != NULL) {
        g.out = strcmp(o.out_path, "-") == 0 ? stdout : fopen(o.out_path, "wb");
        if (g.out == NULL)
            return fail(o.out_path, "cannot open output file");
    }
    if (setup(&o, argv[o.first_url]) != 0)
        return 1;
    int reported = 0;
    for (int i = o.first_url; i < argc; i++)
        for (unsigned long r = 0; r < o.repeat; r++)
            if (get_one(&o, argv[i], &reported) != 0)
                return 1;
    http_client_close(&g.http);
    size_t peak = 0;
    size_t cur = 0;
    tls_arena_stats(&peak, &cur);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("summary requests=%lu connections=%lu arena_peak=%zu maxrss_kb=%ld\n", g.http.requests,
           g.http.connections, peak, ru.ru_maxrss);
    if (g.out != NULL && g.out != stdout)
        fclose(g.out);
    tls_free(&g.tls);
    return 0;
}
