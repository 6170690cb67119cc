/*
 * gunzip.c - a gzip body inflated in fixed memory (contract in gunzip.h).
 */
#include "gunzip.h"

#include <string.h>

const char *gunzip_strerror(gunzip_status status)
{
    switch (status) {
    case GUNZIP_OK:
        return "ok";
    case GUNZIP_ERR_DATA:
        return "corrupt gzip data";
    case GUNZIP_ERR_TRUNCATED:
        return "gzip stream ended early";
    case GUNZIP_ERR_MEMORY:
        return "gzip state larger than GUNZIP_ARENA_SIZE (" OPTIONS_TEXT(
            GUNZIP_ARENA_SIZE) " bytes)";
    case GUNZIP_ERR_ABORTED:
        return "stopped by the receiver";
    }
    return "unknown gunzip status";
}

void gunzip_init(gunzip *g)
{
    memset(&g->z, 0, sizeof g->z);
    zarena_init(&g->za, g->arena, sizeof g->arena);
    zarena_attach(&g->za, &g->z);
    g->started = 0;
    g->in_member = 0;
    g->error = GUNZIP_OK;
    g->bytes_in = 0;
    g->bytes_out = 0;
}

static gunzip_status gunzip_fail(gunzip *g, gunzip_status status)
{
    g->error = status;
    return status;
}

/* Starts (or, after a member's end, restarts) the inflater for a member. */
static gunzip_status gunzip_member_begin(gunzip *g)
{
    int rc = g->started ? inflateReset(&g->z) : inflateInit2(&g->z, 16 + MAX_WBITS);
    if (rc == Z_MEM_ERROR)
        return gunzip_fail(g, GUNZIP_ERR_MEMORY);
    if (rc != Z_OK)
        return gunzip_fail(g, GUNZIP_ERR_DATA);
    g->started = 1;
    g->in_member = 1;
    return GUNZIP_OK;
}

/* Hands the inflated bytes in g->out on. */
static gunzip_status gunzip_emit(gunzip *g, gunzip_out_fn out, void *user)
{
    size_t n = sizeof g->out - g->z.avail_out;
    g->bytes_out += n;
    if (n > 0 && out(user, g->out, n) != 0)
        return gunzip_fail(g, GUNZIP_ERR_ABORTED);
    return GUNZIP_OK;
}

gunzip_status gunzip_feed(gunzip *g, const uint8_t *data, size_t len, gunzip_out_fn out, void *user)
{
    if (g->error != GUNZIP_OK)
        return g->error;
    g->bytes_in += len;
    g->z.next_in = (Bytef *)(uintptr_t)data; /* zlib does not write through it */
    g->z.avail_in = (uInt)len;
    while (g->z.avail_in > 0) {
        if (!g->in_member && gunzip_member_begin(g) != GUNZIP_OK)
            return g->error;
        g->z.next_out = g->out;
        g->z.avail_out = sizeof g->out;
        uInt before = g->z.avail_in;
        int rc = inflate(&g->z, Z_NO_FLUSH);
        if (rc == Z_MEM_ERROR)
            return gunzip_fail(g, GUNZIP_ERR_MEMORY);
        int stuck = g->z.avail_in == before && g->z.avail_out == sizeof g->out;
        if ((rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) ||
            (rc != Z_STREAM_END && stuck))
            return gunzip_fail(g, GUNZIP_ERR_DATA);
        if (gunzip_emit(g, out, user) != GUNZIP_OK)
            return g->error;
        if (rc == Z_STREAM_END)
            g->in_member = 0; /* another member may follow */
    }
    return GUNZIP_OK;
}

gunzip_status gunzip_finish(gunzip *g)
{
    if (g->error != GUNZIP_OK)
        return g->error;
    if (!g->started || g->in_member)
        return gunzip_fail(g, GUNZIP_ERR_TRUNCATED);
    return GUNZIP_OK;
}
