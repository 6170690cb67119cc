/*
 * footprint_sizes - the agent's static memory, member by member, as this
 * build (compiler, target, -D overrides of options.h) lays it out. Used by
 * scripts/footprint.sh; run it on the target (or under qemu-user).
 *
 * Output: one "name bytes" line per agent member (largest buffers broken
 * down one level), then "agent_total", the options that size them, and
 * "tls_arena" on its own so the buffers can be told from the arena.
 */
#include <stdio.h>

#include "agent.h"
#include "mbedtls/build_info.h"

#define MEMBER(type, m)   sizeof(((type *)0)->m)
#define SHOW(name, bytes) printf("%-28s %zu\n", name, (size_t)(bytes))

int main(void)
{
    SHOW("agent_total", sizeof(agent));
    SHOW("agent.tls_arena", MEMBER(agent, tls_arena));
    SHOW("agent.js", MEMBER(agent, js));
    SHOW("  js.record", MEMBER(jstream, record));
    SHOW("  js.tokens", MEMBER(jstream, tokens));
    SHOW("  js.apps", MEMBER(jstream, apps));
    SHOW("agent.map", MEMBER(agent, map));
    SHOW("  map.field", MEMBER(map_mapper, field));
    SHOW("  map.metadata_token", MEMBER(map_mapper, metadata_token));
    SHOW("agent.state", MEMBER(agent, state));
    SHOW("agent.cfg", MEMBER(agent, cfg));
    SHOW("agent.tls", MEMBER(agent, tls));
    SHOW("  tls.ca", MEMBER(tls_client, ca));
    SHOW("agent.http", MEMBER(agent, http));
#if HTTP_GZIP
    SHOW("agent.gunzip", MEMBER(agent, gunzip));
    SHOW("  gunzip.arena", MEMBER(gunzip, arena));
#endif
    SHOW("  http.recv_buf", MEMBER(http_client, recv_buf));
    SHOW("  http.request", MEMBER(http_client, request));
    SHOW("  http.parser", MEMBER(http_client, parser));
    SHOW("agent.sink", MEMBER(agent, sink));
    SHOW("  sink.buf", MEMBER(csv_sink, buf));
#if CSV_GZIP
    SHOW("agent.gzout", MEMBER(agent, gzout));
    SHOW("  gzout.arena", MEMBER(gzip_out, arena));
    SHOW("  gzout.hold", MEMBER(gzip_out, hold));
#endif
    SHOW("agent.visible", MEMBER(agent, visible));
    SHOW("agent.target", MEMBER(agent, target));
    SHOW("agent.filter", MEMBER(agent, filter));
    SHOW("agent.message", MEMBER(agent, message));
    SHOW("agent.path", MEMBER(agent, path));
    SHOW("agent.where", MEMBER(agent, where));
    SHOW("agent.log", MEMBER(agent, log));
    SHOW("agent.tcp", MEMBER(agent, tcp));
    SHOW("agent.resp", MEMBER(agent, resp));
    SHOW("agent.map_ctx", MEMBER(agent, map_ctx));
    SHOW("agent.window", MEMBER(agent, window));
    SHOW("agent.stats", MEMBER(agent, stats));
    SHOW("agent.opts", MEMBER(agent, opts));
    SHOW("agent.report", MEMBER(agent, report));
    SHOW("agent.tunnel", MEMBER(agent, tunnel));
    SHOW("agent.relay", MEMBER(agent, relay));
    SHOW("  relay.ring", MEMBER(relay, ring));

    SHOW("opt.TLS_ARENA_SIZE", TLS_ARENA_SIZE);
    SHOW("opt.JSTREAM_RECORD_MAX", JSTREAM_RECORD_MAX);
    SHOW("opt.JSTREAM_TOKENS_MAX", JSTREAM_TOKENS_MAX);
    SHOW("opt.JSTREAM_APPS_MAX", JSTREAM_APPS_MAX);
    SHOW("opt.MAP_FIELD_MAX", MAP_FIELD_MAX);
    SHOW("opt.STATE_FILE_MAX", STATE_FILE_MAX);
    SHOW("opt.CSV_BUFFER_SIZE", CSV_BUFFER_SIZE);
    SHOW("opt.HTTP_RECV_BUFFER_SIZE", HTTP_RECV_BUFFER_SIZE);
    SHOW("opt.HTTP_REQUEST_MAX", HTTP_REQUEST_MAX);
    SHOW("opt.CONFIG_APPS_MAX", CONFIG_APPS_MAX);
    SHOW("opt.CONFIG_FILE_MAX", CONFIG_FILE_MAX);
    SHOW("opt.TLS_CA_DER_MAX", TLS_CA_DER_MAX);
    SHOW("opt.MBEDTLS_SSL_IN_CONTENT_LEN", MBEDTLS_SSL_IN_CONTENT_LEN);
    SHOW("opt.MBEDTLS_SSL_OUT_CONTENT_LEN", MBEDTLS_SSL_OUT_CONTENT_LEN);
    SHOW("opt.RELAY_RING_SIZE", RELAY_RING_SIZE);
    SHOW("opt.RELAY_STACK_SIZE", RELAY_STACK_SIZE);
    return 0;
}
