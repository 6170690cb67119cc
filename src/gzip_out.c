/*
 * gzip_out.c - gzip output in fixed memory that can be cut back (contract
 * in gzip_out.h).
 *
 * Deflate runs raw and this file writes each member's 10-byte header
 * before its first text and its 8-byte trailer (CRC-32, length mod 2^32)
 * after Z_FINISH: with zlib's own gzip wrapper the CRC and length live in
 * the z_stream, and going back to a cut point would need a copy of the
 * whole state (about GZOUT_ARENA_SIZE more). A full flush leaves nothing
 * behind that the data after it depends on, so a reset deflate plus the
 * CRC and length the cut recorded continue the member exactly.
 */
#include "gzip_out.h"

#include <string.h>

/* The member header: magic, deflate, no flags, no time, no extra flags, Unix. */
static const uint8_t gzout_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

const char *gzout_strerror(gzout_status status)
{
    switch (status) {
    case GZOUT_OK:
        return "ok";
    case GZOUT_ERR_MEMORY:
        return "deflate state larger than GZOUT_ARENA_SIZE (" OPTIONS_TEXT(
            GZOUT_ARENA_SIZE) " bytes)";
    case GZOUT_ERR_STREAM:
        return "deflate failed";
    case GZOUT_ERR_WRITE:
        return "cannot write the compressed output";
    case GZOUT_ERR_USAGE:
        return "gzip output cut back to a place it cannot go back to";
    }
    return "unknown gzip output status";
}

/* Makes status sticky and returns it. */
static gzout_status gzout_fail(gzip_out *g, gzout_status status)
{
    g->error = status;
    return status;
}

/* Hands the output piece to write. */
static gzout_status gzout_emit(gzip_out *g)
{
    if (g->out_used == 0)
        return GZOUT_OK;
    if (g->write(g->user, g->out, g->out_used) != 0)
        return gzout_fail(g, GZOUT_ERR_WRITE);
    g->file += g->out_used;
    g->out_used = 0;
    return GZOUT_OK;
}

/* Appends len bytes of our own (header, trailer) to the output. */
static gzout_status gzout_put(gzip_out *g, const uint8_t *data, size_t len)
{
    while (len > 0) {
        size_t room = sizeof g->out - g->out_used;
        size_t n = len < room ? len : room;
        memcpy(g->out + g->out_used, data, n);
        g->out_used += n;
        data += n;
        len -= n;
        if (g->out_used == sizeof g->out && gzout_emit(g) != GZOUT_OK)
            return g->error;
    }
    return GZOUT_OK;
}

/* Runs deflate over len bytes of text with flush, emitting every full
 * output piece; a member's header goes first. */
static gzout_status gzout_deflate(gzip_out *g, const uint8_t *data, size_t len, int flush)
{
    if (len > 0 && !g->member) {
        if (gzout_put(g, gzout_header, sizeof gzout_header) != GZOUT_OK)
            return g->error;
        g->member = 1;
        g->crc = 0;
        g->size = 0;
    }
    if (len > 0) {
        g->crc = (uint32_t)crc32_z(g->crc, data, len);
        g->size += (uint32_t)len;
        g->dirty = 1;
    }
    g->z.next_in = (Bytef *)(uintptr_t)data; /* zlib does not write through it */
    g->z.avail_in = (uInt)len;
    for (;;) {
        g->z.next_out = g->out + g->out_used;
        g->z.avail_out = (uInt)(sizeof g->out - g->out_used);
        int rc = deflate(&g->z, flush);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return gzout_fail(g, GZOUT_ERR_STREAM);
        g->out_used = sizeof g->out - g->z.avail_out;
        int full = g->out_used == sizeof g->out;
        if (full && gzout_emit(g) != GZOUT_OK)
            return g->error;
        if (flush == Z_FINISH ? rc == Z_STREAM_END : g->z.avail_in == 0 && !full)
            return GZOUT_OK;
    }
}

/* Deflates the text held after the latest mark (the mark is given up). */
static gzout_status gzout_release(gzip_out *g)
{
    size_t held = g->held;
    g->holding = 0;
    g->held = 0;
    return held > 0 ? gzout_deflate(g, g->hold, held, Z_NO_FLUSH) : GZOUT_OK;
}

/* The start of a mark, cut or member end: no sticky error, a member
 * started, the held text deflated. */
static gzout_status gzout_ready(gzip_out *g)
{
    if (g->error != GZOUT_OK)
        return g->error;
    if (!g->started)
        return GZOUT_ERR_USAGE;
    return gzout_release(g) != GZOUT_OK ? g->error : GZOUT_OK;
}

/* Full flush: everything deflated so far is handed to write, and the data
 * after it stands alone. */
static gzout_status gzout_flush(gzip_out *g)
{
    if (g->dirty) {
        if (gzout_deflate(g, NULL, 0, Z_FULL_FLUSH) != GZOUT_OK)
            return g->error;
        g->dirty = 0;
    }
    return gzout_emit(g);
}

/* The place after the deflated text, as a cut point (after gzout_flush). */
static gzout_cut gzout_here(const gzip_out *g, uint64_t text)
{
    gzout_cut cut = {text, g->file, g->crc, g->size, g->member};
    return cut;
}

gzout_status gzout_start(gzip_out *g, gzout_write_fn write, void *user, uint64_t file)
{
    memset(&g->z, 0, sizeof g->z);
    zarena_init(&g->za, g->arena, sizeof g->arena);
    zarena_attach(&g->za, &g->z);
    g->started = 0;
    g->member = 0;
    g->dirty = 0;
    g->crc = 0;
    g->size = 0;
    g->text = 0;
    g->file = file;
    g->holding = 0;
    g->hold_text = 0;
    g->held = 0;
    g->has_spilled = 0;
    g->write = write;
    g->user = user;
    g->error = GZOUT_OK;
    g->out_used = 0;
    int rc = deflateInit2(&g->z, GZOUT_LEVEL, Z_DEFLATED, -GZOUT_WINDOW_BITS, GZOUT_MEM_LEVEL,
                          Z_DEFAULT_STRATEGY);
    if (rc == Z_MEM_ERROR)
        return gzout_fail(g, GZOUT_ERR_MEMORY);
    if (rc != Z_OK)
        return gzout_fail(g, GZOUT_ERR_STREAM);
    g->started = 1;
    return GZOUT_OK;
}

/* The hold is full: the latest mark becomes a cut point (a full flush
 * there), and the held text is deflated after it. */
static gzout_status gzout_spill(gzip_out *g)
{
    if (gzout_flush(g) != GZOUT_OK)
        return g->error;
    g->spilled = gzout_here(g, g->hold_text);
    g->has_spilled = 1;
    return gzout_release(g);
}

gzout_status gzout_write(gzip_out *g, const uint8_t *data, size_t len)
{
    if (g->error != GZOUT_OK)
        return g->error;
    if (!g->started)
        return GZOUT_ERR_USAGE;
    if (g->holding && len > sizeof g->hold - g->held && gzout_spill(g) != GZOUT_OK)
        return g->error;
    g->text += len;
    if (g->holding) {
        memcpy(g->hold + g->held, data, len);
        g->held += len;
        return GZOUT_OK;
    }
    return gzout_deflate(g, data, len, Z_NO_FLUSH);
}

gzout_status gzout_mark(gzip_out *g, gzout_cut *cut)
{
    gzout_status st = gzout_ready(g);
    if (st != GZOUT_OK)
        return st;
    g->holding = 1;
    g->hold_text = g->text;
    g->has_spilled = 0;
    cut->text = g->text;
    cut->file = GZOUT_HELD;
    cut->crc = 0;
    cut->size = 0;
    cut->member = 0;
    return GZOUT_OK;
}

gzout_status gzout_cut_here(gzip_out *g, gzout_cut *cut)
{
    gzout_status st = gzout_ready(g);
    if (st != GZOUT_OK)
        return st;
    if (gzout_flush(g) != GZOUT_OK)
        return g->error;
    *cut = gzout_here(g, g->text);
    return GZOUT_OK;
}

gzout_status gzout_end_member(gzip_out *g)
{
    gzout_status st = gzout_ready(g);
    if (st != GZOUT_OK)
        return st;
    g->has_spilled = 0;
    if (g->member) {
        uint8_t trailer[8];
        for (unsigned i = 0; i < 4; i++) {
            trailer[i] = (uint8_t)(g->crc >> (8 * i));
            trailer[4 + i] = (uint8_t)(g->size >> (8 * i));
        }
        if (gzout_deflate(g, NULL, 0, Z_FINISH) != GZOUT_OK ||
            gzout_put(g, trailer, sizeof trailer) != GZOUT_OK)
            return g->error;
        if (deflateReset(&g->z) != Z_OK)
            return gzout_fail(g, GZOUT_ERR_STREAM);
        g->member = 0;
        g->dirty = 0;
    }
    return gzout_emit(g);
}

gzout_status gzout_truncate(gzip_out *g, gzout_cut cut, uint64_t *file)
{
    *file = GZOUT_HELD;
    if (!g->started || cut.text > g->text)
        return GZOUT_ERR_USAGE;
    if (cut.file == GZOUT_HELD && g->has_spilled && g->spilled.text == cut.text)
        cut = g->spilled;
    if (cut.file == GZOUT_HELD) {
        if (!g->holding || cut.text < g->hold_text)
            return GZOUT_ERR_USAGE;
        if (g->error != GZOUT_OK)
            return g->error; /* the output is in doubt: only a cut point mends it */
        g->held = (size_t)(cut.text - g->hold_text);
        g->text = cut.text;
        return GZOUT_OK;
    }
    if (cut.file > g->file || deflateReset(&g->z) != Z_OK)
        return GZOUT_ERR_USAGE;
    g->out_used = 0;
    g->file = cut.file;
    g->crc = cut.crc;
    g->size = cut.size;
    g->member = cut.member;
    g->text = cut.text;
    g->dirty = 0;
    g->holding = 0;
    g->held = 0;
    if (g->has_spilled && g->spilled.text > cut.text)
        g->has_spilled = 0;
    g->error = GZOUT_OK;
    *file = cut.file;
    return GZOUT_OK;
}
