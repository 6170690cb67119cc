/*
 * gunzip.h - a gzip body inflated in fixed memory, as it arrives (sans-I/O).
 *
 * The HTTP client asks for Accept-Encoding: gzip (http_compression); when a
 * response comes with Content-Encoding: gzip, its body bytes go through
 * gunzip_feed, which hands the inflated bytes on in pieces of at most
 * GUNZIP_OUT_CHUNK. zlib allocates its state and its 32 KiB window from an
 * arena inside the struct (zalloc bumps a pointer, zfree does nothing; the
 * arena starts over at gunzip_init), so nothing is allocated at run time.
 * Concatenated gzip members (RFC 1952) are one stream.
 */
#ifndef COUNTLY_SYNC_GUNZIP_H
#define COUNTLY_SYNC_GUNZIP_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "options.h"
#include "zarena.h"

typedef enum {
    GUNZIP_OK = 0,
    GUNZIP_ERR_DATA,      /* not gzip, or corrupt (bad header, data or checksum) */
    GUNZIP_ERR_TRUNCATED, /* gunzip_finish before the stream's end */
    GUNZIP_ERR_MEMORY,    /* the arena is too small (GUNZIP_ARENA_SIZE) */
    GUNZIP_ERR_ABORTED    /* the output callback asked to stop */
} gunzip_status;

/* Receives inflated bytes; returns nonzero to stop. */
typedef int (*gunzip_out_fn)(void *user, const uint8_t *data, size_t len);

typedef struct {
    z_stream z;
    int started;   /* inflateInit2 done */
    int in_member; /* inside a member (not between members) */
    gunzip_status error;
    uint64_t bytes_in;
    uint64_t bytes_out;
    zarena za; /* zlib's allocator on arena[] */
    _Alignas(16) uint8_t arena[GUNZIP_ARENA_SIZE];
    uint8_t out[GUNZIP_OUT_CHUNK];
} gunzip;

/* Words for a status. */
const char *gunzip_strerror(gunzip_status status);

/* Prepares for a new stream. */
void gunzip_init(gunzip *g);

/* Inflates len bytes; every inflated piece goes to out(user, ...). */
gunzip_status gunzip_feed(gunzip *g, const uint8_t *data, size_t len, gunzip_out_fn out,
                          void *user);

/* The compressed stream ended: GUNZIP_OK only after at least one complete
 * member and nothing but whole members. Frees nothing (the arena is reset
 * by the next gunzip_init). */
gunzip_status gunzip_finish(gunzip *g);

#endif /* COUNTLY_SYNC_GUNZIP_H */
