/*
 * gzip_out.h - gzip output in fixed memory that can be cut back (sans-I/O).
 *
 * The CSV sink (csv.h) hands its text to gzout_write; the compressed bytes
 * go to a write callback (the sink's file). zlib's deflate runs raw
 * (windowBits -GZOUT_WINDOW_BITS, memLevel GZOUT_MEM_LEVEL) with its state
 * from an arena inside the struct (zalloc bumps a pointer, zfree does
 * nothing, gzout_start starts it over); the gzip member's header and
 * trailer (RFC 1952: CRC-32 and length) are written here, so that the
 * stream can be cut back to three kinds of places:
 *
 *   member end   gzout_end_member: the member is finished (Z_FINISH and its
 *                trailer). The file up to here is a complete gzip file.
 *   cut point    gzout_cut_here: a full flush (Z_FULL_FLUSH), so the
 *                deflate data after it needs nothing before it. Going back
 *                to it = truncating the file to cut.file, resetting deflate
 *                and taking back the CRC and length the cut recorded.
 *   mark         gzout_mark: the text after it is held uncompressed in a
 *                hold buffer (GZOUT_HOLD_SIZE) until the next mark or cut
 *                point, so going back to it only drops held bytes. When the
 *                hold overflows, the mark becomes a cut point (full flush
 *                there) and the text streams on.
 *
 * Only the latest mark can be gone back to (with any cut point or member
 * end after the last one that the caller gave up), which is what the sink's
 * users paging needs: a failed attempt goes back to the page's start (a cut
 * point), a full page to where its last lac second began (the latest mark).
 */
#ifndef COUNTLY_SYNC_GZIP_OUT_H
#define COUNTLY_SYNC_GZIP_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "options.h"
#include "zarena.h"

typedef enum {
    GZOUT_OK = 0,
    GZOUT_ERR_MEMORY, /* deflate's state larger than GZOUT_ARENA_SIZE */
    GZOUT_ERR_STREAM, /* deflate failed (a bug) */
    GZOUT_ERR_WRITE,  /* the write callback failed */
    GZOUT_ERR_USAGE   /* a place that cannot be gone back to */
} gzout_status;

/* Receives compressed bytes; returns nonzero on failure. */
typedef int (*gzout_write_fn)(void *user, const uint8_t *data, size_t len);

/* file of a mark that is not (yet) a cut point. */
#define GZOUT_HELD UINT64_MAX

/* A place in the stream, for gzout_truncate. */
typedef struct {
    uint64_t text; /* text bytes before it (since gzout_start) */
    uint64_t file; /* compressed bytes before it, or GZOUT_HELD for a mark */
    uint32_t crc;  /* CRC-32 of the member's text before it */
    uint32_t size; /* the member's text bytes before it, mod 2^32 */
    int member;    /* a member is open at it */
} gzout_cut;

typedef struct {
    z_stream z;
    int started;   /* deflateInit2 done since gzout_start */
    int member;    /* a member's header is written, its trailer not */
    int dirty;     /* text deflated since the last flush */
    uint32_t crc;  /* CRC-32 of the member's deflated text */
    uint32_t size; /* its length mod 2^32 (the trailer's ISIZE) */
    uint64_t text; /* text bytes accepted (held ones included) */
    uint64_t file; /* compressed bytes handed to write */
    int holding;   /* text after hold_text stays in hold */
    uint64_t hold_text;
    size_t held;
    gzout_cut spilled; /* the cut point an overflowing hold made of the latest mark */
    int has_spilled;
    gzout_write_fn write;
    void *user;
    gzout_status error; /* sticky until gzout_truncate succeeds */
    size_t out_used;
    zarena za; /* zlib's allocator on arena[] */
    _Alignas(16) uint8_t arena[GZOUT_ARENA_SIZE];
    uint8_t hold[GZOUT_HOLD_SIZE];
    uint8_t out[GZOUT_OUT_CHUNK];
} gzip_out;

/* Words for a status. */
const char *gzout_strerror(gzout_status status);

/* Starts a stream whose compressed bytes go to write(user, ...) after file
 * bytes already there (a file appended to: its size, a member end). Nothing
 * is written until text arrives (a member's header comes with its first
 * text). */
gzout_status gzout_start(gzip_out *g, gzout_write_fn write, void *user, uint64_t file);

/* Takes len bytes of text (deflated now, or held after a mark). */
gzout_status gzout_write(gzip_out *g, const uint8_t *data, size_t len);

/* The place after the text so far, as the latest mark: the text after it is
 * held. Deflates the text held since the previous mark. */
gzout_status gzout_mark(gzip_out *g, gzout_cut *cut);

/* The place after the text so far, as a cut point: everything before it is
 * deflated, flushed and handed to write. */
gzout_status gzout_cut_here(gzip_out *g, gzout_cut *cut);

/* Ends the open member (if any) and hands every byte to write: the output
 * so far is a complete gzip file. */
gzout_status gzout_end_member(gzip_out *g);

/* Goes back to cut, a cut point, the latest mark or a place inside the
 * text held after it. *file is the compressed size to truncate the output
 * to, or GZOUT_HELD when the output stays as it is. */
gzout_status gzout_truncate(gzip_out *g, gzout_cut cut, uint64_t *file);

#endif /* COUNTLY_SYNC_GZIP_OUT_H */
