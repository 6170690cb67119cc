/*
 * zarena.h - zlib's allocator on a fixed arena, for inflate (gunzip.h) and
 * deflate (gzip_out.h) state: zalloc hands out the next 16-byte-aligned
 * piece of the caller's buffer, zfree does nothing, and the owner starts
 * the arena over (zarena_init) before each new stream. A request that
 * does not fit returns Z_NULL, which zlib reports as Z_MEM_ERROR.
 */
#ifndef COUNTLY_SYNC_ZARENA_H
#define COUNTLY_SYNC_ZARENA_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

typedef struct {
    uint8_t *base; /* the caller's buffer, 16-byte aligned */
    size_t size;   /* its bytes */
    size_t used;   /* handed out since zarena_init */
    size_t peak;   /* the most ever handed out (kept across zarena_init) */
} zarena;

/* Starts the arena over on base (size bytes); the peak is kept. */
void zarena_init(zarena *a, uint8_t *base, size_t size);

/* Points a zlib stream's allocator at the arena. */
void zarena_attach(zarena *a, z_stream *z);

#endif /* COUNTLY_SYNC_ZARENA_H */
