/*
 * csv.h - the CSV sink: one output file, RFC 4180, UTF-8, "\n" line ends.
 *
 * Fields are written through one fixed buffer (CSV_BUFFER_SIZE) in the
 * caller-owned struct. The conventions are PostgreSQL COPY ... CSV's, so a
 * file loads as a typed table: NULL is an empty unquoted field, an empty
 * string is "", and a field is quoted when it holds , " CR or LF or starts
 * or ends with a space or tab (quotes inside are doubled).
 *
 * Durability. The sink knows the committed size of its file: the bytes that
 * were flushed and fsync'ed by csv_commit. Two modes:
 *   APPEND   users.csv: opening truncates the file back to the committed
 *            size the caller recorded (crash recovery), so rows of an
 *            interrupted page disappear; a header is written when the file
 *            is empty. csv_rollback drops everything after the last commit.
 *   REPLACE  apps.csv, groups.csv: rows go to "<path>.tmp"; csv_finish
 *            fsyncs it and renames it over <path> (then fsyncs the folder),
 *            so readers see the old file whole until the new one is.
 *   PART     a runs-layout file (runs.h): rows go to a temporary file the
 *            caller names, opened like APPEND (cut back to the committed
 *            size, so a part interrupted by a crash is resumed), and
 *            csv_finish publishes it like REPLACE (fsync, rename over
 *            <path>, folder fsync). csv_abandon keeps the temporary file
 *            at its last commit, for the run that resumes it.
 * A file the sink creates (and every "<path>.tmp") gets exactly the mode
 * given to csv_open_mode (csv_open: FILE_MODE_DEFAULT), whatever the umask;
 * an existing file appended to keeps its own.
 *
 * gzip (csv_open_temp with gz, output_compression "gzip"): the text goes through a
 * gzip_out (gzip_out.h) owned by the caller, and every size above is the
 * compressed file's. APPEND: each csv_commit ends a gzip member, so the
 * file cut back to any committed size is a complete gzip file (concatenated
 * members are one). REPLACE: one member, ended by csv_finish. Marks keep
 * working: csv_boundary is a full-flush point (the file is cut there),
 * csv_position a mark whose rows stay uncompressed until the next mark
 * (gzip_out.h), so csv_truncate can go back to the latest of each.
 */
#ifndef COUNTLY_SYNC_CSV_H
#define COUNTLY_SYNC_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "gzip_out.h"
#include "options.h"
#include "port.h"

typedef enum {
    CSV_OK = 0,
    CSV_ERR_PATH_LONG, /* path longer than CSV_PATH_MAX - 5 */
    CSV_ERR_OPEN,      /* the file cannot be opened or created */
    CSV_ERR_SHORT,     /* APPEND: file shorter than its committed size */
    CSV_ERR_WRITE,     /* write failed; see port_status */
    CSV_ERR_NOSPC,     /* no space left (or file size limit) */
    CSV_ERR_SYNC,      /* fsync failed */
    CSV_ERR_TRUNCATE,  /* truncating back to the committed size failed */
    CSV_ERR_RENAME,    /* REPLACE: moving the new file into place failed */
    CSV_ERR_USAGE,     /* call out of order (field outside a row, ...) */
    CSV_ERR_GZIP       /* deflate failed (see gzip_error), or gzip not built in */
} csv_status;

typedef enum { CSV_MODE_APPEND = 0, CSV_MODE_REPLACE, CSV_MODE_PART } csv_mode;

typedef struct {
    port_file file;
    csv_mode mode;
    char path[CSV_PATH_MAX];
    char tmp_path[CSV_PATH_MAX];
    uint64_t committed; /* bytes flushed and fsync'ed */
    uint64_t written;   /* bytes handed to the file so far */
    gzip_out *gz;       /* NULL: a plain file */
    uint64_t text;      /* gzip: text bytes handed to gz so far */
    uint64_t text_committed;
    gzout_cut gz_committed; /* gzip: the committed place */
    gzout_status gzip_error;
    unsigned long rows; /* rows ended since open (committed or not) */
    unsigned long rows_committed;
    size_t columns; /* fields per row */
    size_t fields;  /* fields written in the current row */
    int in_row;
    unsigned file_mode;     /* permission of the files it creates */
    port_status port_error; /* the port's status behind the last error */
    csv_status error;       /* sticky failure (write, fsync, truncate, bad row): every call
                               returns it until csv_rollback succeeds */
    size_t used;
    uint8_t buf[CSV_BUFFER_SIZE];
} csv_sink;

/* A place between two rows, for csv_truncate (opaque to callers). */
typedef struct {
    uint64_t offset;    /* bytes of the file up to it (gzip: of text) */
    unsigned long rows; /* rows ended before it */
    gzout_cut cut;      /* gzip: the place in the compressed stream */
} csv_mark;

/* Words for a status. */
const char *csv_strerror(csv_status status);

/* Opens path in mode with columns header names. APPEND truncates the file
 * to committed_size and writes the header if the file is then empty;
 * REPLACE writes the header to <path>.tmp. A header written here is
 * committed at once (sink->committed counts it), so no rollback drops it. */
csv_status csv_open(csv_sink *sink, const char *path, csv_mode mode, uint64_t committed_size,
                    const char *const *header, size_t columns);

/* csv_open, creating files with exactly the permission file_mode (0600,
 * 0640, ...) whatever the umask. */
csv_status csv_open_mode(csv_sink *sink, const char *path, csv_mode mode, uint64_t committed_size,
                         const char *const *header, size_t columns, unsigned file_mode);

/* csv_open_mode with the temporary file named by the caller, and gzip:
 * REPLACE writes tmp_path (NULL: "<path>.tmp") and renames it over path;
 * PART (tmp_path required) resumes tmp_path at committed_size and renames
 * it over path on csv_finish; APPEND takes no tmp_path. gz not NULL: the
 * file is written as gzip through it (path is the whole name, ".csv.gz";
 * APPEND and PART end a member at every commit); CSV_ERR_GZIP when built
 * without it (CSV_GZIP 0). */
csv_status csv_open_temp(csv_sink *sink, const char *path, const char *tmp_path, csv_mode mode,
                         uint64_t committed_size, const char *const *header, size_t columns,
                         unsigned file_mode, gzip_out *gz);

/* Starts a row. */
csv_status csv_row_begin(csv_sink *sink);

/* Appends a NULL field (empty, unquoted). */
csv_status csv_field_null(csv_sink *sink);

/* Appends a text field of len bytes, quoted when needed ("" when empty). */
csv_status csv_field(csv_sink *sink, const char *text, size_t len);

/* Appends a field the caller knows needs no quotes - not empty, no , " CR
 * or LF, no space or tab at either end (numbers, timestamps) - as it is,
 * without looking at its bytes. */
csv_status csv_field_bare(csv_sink *sink, const char *text, size_t len);

/* Ends the row; CSV_ERR_USAGE unless exactly `columns` fields were written. */
csv_status csv_row_end(csv_sink *sink);

/* Writes out the buffer and fsyncs: everything so far becomes committed. */
csv_status csv_commit(csv_sink *sink);

/* Drops every byte after the last commit (buffer and file). */
csv_status csv_rollback(csv_sink *sink);

/* The place after the last row ended (call between rows). gzip: the
 * latest mark; the rows after it are held uncompressed (a failure to
 * deflate the earlier ones is sticky, returned by the next call). */
csv_mark csv_position(csv_sink *sink);

/* csv_position for a place the file may be cut at: gzip flushes (a full
 * flush) and hands everything before it to the file. A mark of this kind
 * stays good for csv_truncate after later csv_position marks. */
csv_mark csv_boundary(csv_sink *sink);

/* Bytes of text written since the last commit (plain: of the file). */
uint64_t csv_uncommitted(const csv_sink *sink);

/* Drops the rows after mark, which must not lie before the last commit:
 * from the buffer, or from the file when they were written out already.
 * gzip: mark must be a csv_boundary or the latest csv_position; an older
 * csv_position is CSV_ERR_USAGE, sticky until csv_rollback (the rows after
 * it may already be deflated). */
csv_status csv_truncate(csv_sink *sink, csv_mark mark);

/* The place of the last commit (for a later csv_uncommit). */
csv_mark csv_last_commit(const csv_sink *sink);

/* Goes back to mark, the place of an earlier commit (csv_last_commit), dropping what was
 * committed after it: for a caller that could not record its last commit
 * (its state file could not be saved), so that the file matches what it
 * did record. */
csv_status csv_uncommit(csv_sink *sink, csv_mark mark);

/* APPEND: commits and closes. REPLACE, PART: commits (gzip: ends the
 * member), closes, renames the temporary file over <path> and fsyncs the
 * folder. */
csv_status csv_finish(csv_sink *sink);

/* Closes without publishing: REPLACE removes its temporary file; APPEND
 * and PART roll back to the last commit (a part's temporary file stays). */
void csv_abandon(csv_sink *sink);

#endif /* COUNTLY_SYNC_CSV_H */
