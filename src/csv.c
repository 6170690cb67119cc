/*
 * csv.c - the CSV sink (contract in csv.h).
 *
 * Bytes go through sink->buf; a full buffer is written to the file, so a
 * field or a row may be any length. The file is always opened with
 * PORT_FILE_APPEND: every write lands at the end, which after a truncation
 * is exactly the committed size, so no seek is needed.
 *
 * The header row is committed by csv_open itself (one write and one fsync):
 * were it left in the buffer, a csv_rollback before the first commit would
 * drop it and the rows that follow would have no header.
 *
 * Errors that leave the file or the buffer in an unknown state (a failed
 * write, fsync or truncation, a row with the wrong number of fields) are
 * sticky: every later call returns the same status until csv_rollback
 * succeeds, so half a row or half a buffer can never be committed.
 *
 * gzip: the buffer is handed to sink->gz instead of the file, and gz hands
 * the compressed bytes to the file (csv_gz_write); marks flush the buffer
 * into gz first, so the buffer never holds bytes before the latest mark.
 */
#include "csv.h"

#include <string.h>

/* Bytes that force a field into quotes wherever they appear. */
static const uint8_t csv_special[256] = {
    [','] = 1,
    ['"'] = 1,
    ['\r'] = 1,
    ['\n'] = 1,
};

const char *csv_strerror(csv_status status)
{
    switch (status) {
    case CSV_OK:
        return "ok";
    case CSV_ERR_PATH_LONG:
        return "output path longer than CSV_PATH_MAX - 5 (" OPTIONS_TEXT(
            CSV_PATH_MAX) " - 5 bytes)";
    case CSV_ERR_OPEN:
        return "cannot open or create the output file";
    case CSV_ERR_SHORT:
        return "output file is shorter than the committed size recorded in the state "
               "(restore the file or reset the state)";
    case CSV_ERR_WRITE:
        return "cannot write the output file";
    case CSV_ERR_NOSPC:
        return "no space left for the output file (disk full or file size limit)";
    case CSV_ERR_SYNC:
        return "cannot flush the output file to stable storage";
    case CSV_ERR_TRUNCATE:
        return "cannot truncate the output file back to its committed size";
    case CSV_ERR_RENAME:
        return "cannot move the new output file into place";
    case CSV_ERR_USAGE:
        return "CSV sink used out of order (field outside a row, wrong field count, ...)";
    case CSV_ERR_GZIP:
        return "gzip compression failed (or this build has no gzip output: CSV_GZIP 0)";
    }
    return "unknown CSV status";
}

/* ---- errors ----------------------------------------------------------------------------- */

/* Records a failure of the port behind status and returns status. */
static csv_status csv_port_fail(csv_sink *sink, csv_status status, port_status port)
{
    sink->port_error = port;
    return status;
}

/* Like csv_port_fail, and makes status sticky until a successful rollback. */
static csv_status csv_sticky_fail(csv_sink *sink, csv_status status, port_status port)
{
    sink->error = status;
    return csv_port_fail(sink, status, port);
}

/* The status of a failed write. */
static csv_status csv_write_status(port_status port)
{
    return port == PORT_ERR_NOSPC ? CSV_ERR_NOSPC : CSV_ERR_WRITE;
}

/* ---- buffer ----------------------------------------------------------------------------- */

#if CSV_GZIP
/* The status of a failed gzip_out call (a failed write was recorded by
 * csv_gz_write), made sticky. */
static csv_status csv_gz_fail(csv_sink *sink, gzout_status gs)
{
    sink->gzip_error = gs;
    if (gs == GZOUT_ERR_WRITE)
        return csv_sticky_fail(sink, csv_write_status(sink->port_error), sink->port_error);
    return csv_sticky_fail(sink, gs == GZOUT_ERR_USAGE ? CSV_ERR_USAGE : CSV_ERR_GZIP, PORT_OK);
}

/* gzip_out's output: compressed bytes to the file. */
static int csv_gz_write(void *user, const uint8_t *data, size_t len)
{
    csv_sink *sink = user;
    port_status port = port_file_write(&sink->file, data, len);
    if (port != PORT_OK) {
        sink->port_error = port;
        return 1;
    }
    sink->written += len;
    return 0;
}
#endif

/* Hands the buffer to the file (gzip: to the compressor). */
static csv_status csv_flush(csv_sink *sink)
{
    if (sink->used == 0)
        return CSV_OK;
#if CSV_GZIP
    if (sink->gz != NULL) {
        gzout_status gs = gzout_write(sink->gz, sink->buf, sink->used);
        if (gs != GZOUT_OK)
            return csv_gz_fail(sink, gs);
        sink->text += sink->used;
        sink->used = 0;
        return CSV_OK;
    }
#endif
    port_status port = port_file_write(&sink->file, sink->buf, sink->used);
    if (port != PORT_OK)
        return csv_sticky_fail(sink, csv_write_status(port), port);
    sink->written += sink->used;
    sink->used = 0;
    return CSV_OK;
}

/* Copies len bytes in 8-byte words (a fixed-size memcpy compiles to one
 * load and store): fields are short, and a call per field is what costs. */
static void csv_copy(uint8_t *out, const uint8_t *in, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        memcpy(out + i, in + i, 8);
    for (; i < len; i++)
        out[i] = in[i];
}

/* Appends len bytes, flushing whenever the buffer fills. */
static csv_status csv_put(csv_sink *sink, const uint8_t *data, size_t len)
{
    if (len <= CSV_BUFFER_SIZE - sink->used) { /* the common case: it fits */
        csv_copy(sink->buf + sink->used, data, len);
        sink->used += len;
        return CSV_OK;
    }
    while (len > 0) {
        if (sink->used == CSV_BUFFER_SIZE) {
            csv_status status = csv_flush(sink);
            if (status != CSV_OK)
                return status;
        }
        size_t room = CSV_BUFFER_SIZE - sink->used;
        size_t n = len < room ? len : room;
        memcpy(sink->buf + sink->used, data, n);
        sink->used += n;
        data += n;
        len -= n;
    }
    return CSV_OK;
}

/* Appends one byte. */
static csv_status csv_put_byte(csv_sink *sink, uint8_t byte)
{
    if (sink->used == CSV_BUFFER_SIZE) {
        csv_status status = csv_flush(sink);
        if (status != CSV_OK)
            return status;
    }
    sink->buf[sink->used++] = byte;
    return CSV_OK;
}

/* ---- quoting ---------------------------------------------------------------------------- */

static int csv_is_blank(uint8_t byte)
{
    return byte == ' ' || byte == '\t';
}

/* Nonzero when one of the 8 bytes of word equals the byte repeated in pattern
 * (the classic "has zero byte" test on word ^ pattern). */
static uint64_t csv_word_has(uint64_t word, uint64_t pattern)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    uint64_t x = word ^ pattern;
    return (x - ones) & ~x & highs;
}

/* True when one of len bytes at text is , " CR or LF. */
static int csv_bytes_special(const uint8_t *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (csv_special[text[i]])
            return 1;
    return 0;
}

/* True when one of the 8 bytes at p is , " CR or LF. A byte below 0x0E
 * stands for CR and LF in the word test (one test for both); only then are
 * the bytes looked at one by one, as a tab or other control byte may be
 * what it found. */
static inline int csv_word_is_special(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    uint64_t word;
    memcpy(&word, p, sizeof word);
    uint64_t low = (word - ones * 0x0E) & ~word & highs; /* a byte < 0x0E */
    if ((csv_word_has(word, ones * ',') | csv_word_has(word, ones * '"')) != 0)
        return 1;
    return low != 0 && csv_bytes_special(p, 8);
}

/* True when text holds , " CR or LF (its ends were checked for blanks). */
static int csv_has_special(const uint8_t *text, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        if (csv_word_is_special(text + i))
            return 1;
    return csv_bytes_special(text + i, len - i);
}

/* Copies len bytes to out doubling each '"'; returns the end. Eight bytes
 * at a time: a word is stored whole, then out advances to just past its
 * first quote (the rest is copied again), so a quote costs one step, not
 * eight. out needs room for 2 * len bytes. */
static uint8_t *csv_copy_doubling_quotes(uint8_t *out, const uint8_t *text, size_t len)
{
    size_t i = 0;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t quotes = 0x0101010101010101u * '"';
    for (; i + 8 <= len;) {
        uint64_t word;
        memcpy(&word, text + i, sizeof word);
        memcpy(out, &word, sizeof word);
        uint64_t found = csv_word_has(word, quotes); /* its lowest bit marks the first quote */
        if (found == 0) {
            out += 8;
            i += 8;
            continue;
        }
        size_t k = (size_t)__builtin_ctzll(found) / 8;
        out += k + 1;
        *out++ = '"';
        i += k + 1;
    }
#endif
    for (; i < len; i++) {
        *out++ = text[i];
        if (text[i] == '"')
            *out++ = '"';
    }
    return out;
}

/* Appends text in quotes, doubling each quote inside: in one pass straight
 * into the buffer when it fits even if every byte were a quote, else in
 * runs that may flush. */
static csv_status csv_put_quoted(csv_sink *sink, const uint8_t *text, size_t len)
{
    if (len <= (CSV_BUFFER_SIZE - 2) / 2 && 2 * len + 2 > CSV_BUFFER_SIZE - sink->used) {
        csv_status status = csv_flush(sink);
        if (status != CSV_OK)
            return status;
    }
    if (len <= (CSV_BUFFER_SIZE - 2) / 2) {
        uint8_t *out = sink->buf + sink->used;
        *out++ = '"';
        out = csv_copy_doubling_quotes(out, text, len);
        *out++ = '"';
        sink->used = (size_t)(out - sink->buf);
        return CSV_OK;
    }
    csv_status status = csv_put_byte(sink, '"');
    while (status == CSV_OK && len > 0) {
        const uint8_t *quote = memchr(text, '"', len);
        size_t run = quote == NULL ? len : (size_t)(quote - text) + 1;
        status = csv_put(sink, text, run);
        if (status == CSV_OK && quote != NULL)
            status = csv_put_byte(sink, '"');
        text += run;
        len -= run;
    }
    if (status != CSV_OK)
        return status;
    return csv_put_byte(sink, '"');
}

/* Appends text as one field, quoted when needed. When it fits, the field
 * is scanned and copied in one pass, 8 bytes at a time (a field of 8 bytes
 * or more ends with a word that overlaps the one before); meeting a byte
 * that needs quotes, it is written again quoted over the unquoted attempt. */
static csv_status csv_put_text(csv_sink *sink, const char *text, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)text;
    if (len == 0 || csv_is_blank(bytes[0]) || csv_is_blank(bytes[len - 1]))
        return csv_put_quoted(sink, bytes, len);
    if (len > CSV_BUFFER_SIZE - sink->used) {
        if (csv_has_special(bytes, len))
            return csv_put_quoted(sink, bytes, len);
        return csv_put(sink, bytes, len);
    }
    uint8_t *out = sink->buf + sink->used;
    if (len < 8) {
        if (csv_bytes_special(bytes, len))
            return csv_put_quoted(sink, bytes, len);
        for (size_t i = 0; i < len; i++)
            out[i] = bytes[i];
        sink->used += len;
        return CSV_OK;
    }
    for (size_t i = 0; i < len; i += 8) {
        size_t at = i + 8 <= len ? i : len - 8; /* the last word overlaps the one before */
        if (csv_word_is_special(bytes + at))
            return csv_put_quoted(sink, bytes, len);
        memcpy(out + at, bytes + at, 8);
    }
    sink->used += len;
    return CSV_OK;
}

/* ---- opening ---------------------------------------------------------------------------- */

/* Puts the sink into a known closed state. */
static void csv_reset(csv_sink *sink, csv_mode mode, size_t columns)
{
    port_file_init(&sink->file);
    sink->mode = mode;
    sink->path[0] = '\0';
    sink->tmp_path[0] = '\0';
    sink->committed = 0;
    sink->written = 0;
    sink->gz = NULL;
    sink->text = 0;
    sink->text_committed = 0;
    memset(&sink->gz_committed, 0, sizeof sink->gz_committed);
    sink->gzip_error = GZOUT_OK;
    sink->rows = 0;
    sink->rows_committed = 0;
    sink->columns = columns;
    sink->fields = 0;
    sink->in_row = 0;
    sink->file_mode = FILE_MODE_DEFAULT;
    sink->port_error = PORT_OK;
    sink->error = CSV_OK;
    sink->used = 0;
}

/* Copies path and builds "<path>.tmp", or takes tmp_path when given. */
static csv_status csv_set_paths(csv_sink *sink, const char *path, const char *tmp_path)
{
    static const char suffix[] = ".tmp";
    size_t len = strlen(path);
    if (len + sizeof suffix > CSV_PATH_MAX)
        return CSV_ERR_PATH_LONG;
    memcpy(sink->path, path, len + 1);
    if (tmp_path != NULL) {
        if (strlen(tmp_path) >= CSV_PATH_MAX)
            return CSV_ERR_PATH_LONG;
        memcpy(sink->tmp_path, tmp_path, strlen(tmp_path) + 1);
    } else if (sink->mode != CSV_MODE_APPEND) {
        memcpy(sink->tmp_path, path, len);
        memcpy(sink->tmp_path + len, suffix, sizeof suffix);
    }
    return CSV_OK;
}

/* APPEND: opens path (PART: the temporary file) and cuts it back to
 * committed_size. */
static csv_status csv_open_append(csv_sink *sink, uint64_t committed_size)
{
    uint64_t size = 0;
    unsigned flags = PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_APPEND;
    const char *path = sink->mode == CSV_MODE_PART ? sink->tmp_path : sink->path;
    port_status port = port_file_open_mode(&sink->file, path, flags, sink->file_mode);
    if (port != PORT_OK)
        return csv_port_fail(sink, CSV_ERR_OPEN, port);
    port = port_file_size(&sink->file, &size);
    if (port != PORT_OK)
        return csv_port_fail(sink, CSV_ERR_OPEN, port);
    if (size < committed_size)
        return CSV_ERR_SHORT;
    if (size > committed_size) {
        port = port_file_truncate(&sink->file, committed_size);
        if (port != PORT_OK)
            return csv_port_fail(sink, CSV_ERR_TRUNCATE, port);
    }
    sink->committed = committed_size;
    sink->written = committed_size;
    return CSV_OK;
}

/* gzip: starts the compressor after the file's committed bytes. */
static csv_status csv_gz_start(csv_sink *sink)
{
    (void)sink; /* unused without CSV_GZIP */
#if CSV_GZIP
    if (sink->gz == NULL)
        return CSV_OK;
    gzout_status gs = gzout_start(sink->gz, csv_gz_write, sink, sink->committed);
    if (gs != GZOUT_OK) {
        sink->gzip_error = gs;
        return CSV_ERR_GZIP;
    }
    gzout_cut start = {0, sink->committed, 0, 0, 0};
    sink->gz_committed = start;
#endif
    return CSV_OK;
}

/* REPLACE: creates an empty "<path>.tmp". */
static csv_status csv_open_replace(csv_sink *sink)
{
    unsigned flags = PORT_FILE_WRITE | PORT_FILE_CREATE | PORT_FILE_TRUNC | PORT_FILE_APPEND;
    port_status port = port_file_open_mode(&sink->file, sink->tmp_path, flags, sink->file_mode);
    if (port != PORT_OK)
        return csv_port_fail(sink, CSV_ERR_OPEN, port);
    return CSV_OK;
}

/* Writes the header row and commits it. */
static csv_status csv_write_header(csv_sink *sink, const char *const *header)
{
    csv_status status = CSV_OK;
    for (size_t i = 0; i < sink->columns && status == CSV_OK; i++) {
        if (header[i] == NULL)
            return CSV_ERR_USAGE;
        if (i > 0)
            status = csv_put_byte(sink, ',');
        if (status == CSV_OK)
            status = csv_put_text(sink, header[i], strlen(header[i]));
    }
    if (status == CSV_OK)
        status = csv_put_byte(sink, '\n');
    if (status == CSV_OK)
        status = csv_commit(sink);
    return status;
}

/* Opens the file of the mode, then writes the header when the file is empty.
 * On failure the file is closed and left as it was found (minus a partial
 * header). */
static csv_status csv_open_file(csv_sink *sink, uint64_t committed_size, const char *const *header)
{
    csv_status status = sink->mode == CSV_MODE_REPLACE ? csv_open_replace(sink)
                                                       : csv_open_append(sink, committed_size);
    if (status == CSV_OK)
        status = csv_gz_start(sink);
    if (status != CSV_OK) {
        (void)port_file_close(&sink->file); /* the file itself stays as it was */
        sink->tmp_path[0] = '\0';
        return status;
    }
    if (sink->committed > 0)
        return CSV_OK;
    status = csv_write_header(sink, header);
    if (status != CSV_OK) {
        port_status port = sink->port_error;
        csv_abandon(sink); /* drops a partial header */
        sink->port_error = port;
    }
    return status;
}

csv_status csv_open_temp(csv_sink *sink, const char *path, const char *tmp_path, csv_mode mode,
                         uint64_t committed_size, const char *const *header, size_t columns,
                         unsigned file_mode, gzip_out *gz)
{
    csv_reset(sink, mode, columns);
    sink->file_mode = file_mode;
    if (path == NULL || header == NULL || columns == 0)
        return CSV_ERR_USAGE;
    if (gz != NULL && !CSV_GZIP)
        return CSV_ERR_GZIP;
    sink->gz = gz;
    if (mode != CSV_MODE_APPEND && mode != CSV_MODE_REPLACE && mode != CSV_MODE_PART)
        return CSV_ERR_USAGE;
    if ((mode == CSV_MODE_APPEND && tmp_path != NULL) ||
        (mode == CSV_MODE_PART && tmp_path == NULL))
        return CSV_ERR_USAGE;
    csv_status status = csv_set_paths(sink, path, tmp_path);
    if (status != CSV_OK)
        return status;
    return csv_open_file(sink, committed_size, header);
}

csv_status csv_open_mode(csv_sink *sink, const char *path, csv_mode mode, uint64_t committed_size,
                         const char *const *header, size_t columns, unsigned file_mode)
{
    if (mode == CSV_MODE_PART) {
        csv_reset(sink, mode, columns);
        return CSV_ERR_USAGE; /* a part names its temporary file: csv_open_temp */
    }
    return csv_open_temp(sink, path, NULL, mode, committed_size, header, columns, file_mode, NULL);
}

csv_status csv_open(csv_sink *sink, const char *path, csv_mode mode, uint64_t committed_size,
                    const char *const *header, size_t columns)
{
    return csv_open_mode(sink, path, mode, committed_size, header, columns, FILE_MODE_DEFAULT);
}

/* ---- rows ------------------------------------------------------------------------------- */

csv_status csv_row_begin(csv_sink *sink)
{
    if (sink->file.fd < 0)
        return CSV_ERR_USAGE;
    if (sink->error != CSV_OK)
        return sink->error;
    if (sink->in_row)
        return csv_sticky_fail(sink, CSV_ERR_USAGE, PORT_OK);
    sink->in_row = 1;
    sink->fields = 0;
    return CSV_OK;
}

/* Counts a field and writes its separator. A field beyond `columns` is
 * counted but not written, so that csv_row_end reports the row. */
static csv_status csv_field_start(csv_sink *sink)
{
    if (sink->error != CSV_OK)
        return sink->error;
    if (!sink->in_row)
        return CSV_ERR_USAGE;
    sink->fields++;
    if (sink->fields > sink->columns)
        return CSV_ERR_USAGE;
    if (sink->fields == 1)
        return CSV_OK;
    return csv_put_byte(sink, ',');
}

csv_status csv_field_null(csv_sink *sink)
{
    return csv_field_start(sink);
}

/* Starts the field of a value (text not NULL). */
static csv_status csv_value_start(csv_sink *sink, const char *text)
{
    return text == NULL ? CSV_ERR_USAGE : csv_field_start(sink);
}

csv_status csv_field(csv_sink *sink, const char *text, size_t len)
{
    csv_status status = csv_value_start(sink, text);
    return status != CSV_OK ? status : csv_put_text(sink, text, len);
}

csv_status csv_field_bare(csv_sink *sink, const char *text, size_t len)
{
    csv_status status = csv_value_start(sink, text);
    return status != CSV_OK ? status : csv_put(sink, (const uint8_t *)text, len);
}

csv_status csv_row_end(csv_sink *sink)
{
    if (sink->error != CSV_OK)
        return sink->error;
    if (!sink->in_row)
        return CSV_ERR_USAGE;
    if (sink->fields != sink->columns)
        return csv_sticky_fail(sink, CSV_ERR_USAGE, PORT_OK);
    csv_status status = csv_put_byte(sink, '\n');
    if (status != CSV_OK)
        return status;
    sink->in_row = 0;
    sink->fields = 0;
    sink->rows++;
    return CSV_OK;
}

/* ---- durability ------------------------------------------------------------------------- */

/* gzip: what a commit makes of the compressed stream. APPEND ends the
 * member, so the committed size is a complete gzip file; REPLACE (one
 * member, ended by csv_finish) makes a cut point there. Either way every
 * compressed byte before it reaches the file. */
static csv_status csv_gz_commit(csv_sink *sink)
{
    (void)sink; /* unused without CSV_GZIP */
#if CSV_GZIP
    if (sink->gz == NULL)
        return CSV_OK;
    gzout_cut here = {sink->text, 0, 0, 0, 0};
    /* APPEND and PART files are resumed at a committed size: a member's end */
    gzout_status gs = sink->mode != CSV_MODE_REPLACE ? gzout_end_member(sink->gz)
                                                     : gzout_cut_here(sink->gz, &here);
    if (gs != GZOUT_OK)
        return csv_gz_fail(sink, gs);
    here.file = sink->written;
    sink->gz_committed = here;
#endif
    return CSV_OK;
}

csv_status csv_commit(csv_sink *sink)
{
    if (sink->file.fd < 0)
        return CSV_ERR_USAGE;
    if (sink->error != CSV_OK)
        return sink->error;
    if (sink->in_row)
        return CSV_ERR_USAGE;
    csv_status status = csv_flush(sink);
    if (status != CSV_OK)
        return status;
    status = csv_gz_commit(sink);
    if (status != CSV_OK)
        return status;
    port_status port = port_file_sync(&sink->file);
    if (port != PORT_OK)
        return csv_sticky_fail(sink, CSV_ERR_SYNC, port);
    sink->committed = sink->written;
    sink->rows_committed = sink->rows;
    sink->text_committed = sink->text;
    return CSV_OK;
}

csv_mark csv_position(csv_sink *sink)
{
    csv_mark mark = {sink->written + sink->used, sink->rows, {0, 0, 0, 0, 0}};
#if CSV_GZIP
    if (sink->gz != NULL) {
        gzout_cut nowhere = {sink->text + sink->used, GZOUT_HELD, 0, 0, 0};
        mark.cut = nowhere; /* after a failure: a place no truncate accepts */
        csv_status status = sink->error != CSV_OK ? sink->error : csv_flush(sink);
        gzout_status gs = status == CSV_OK ? gzout_mark(sink->gz, &mark.cut) : GZOUT_OK;
        if (gs != GZOUT_OK)
            (void)csv_gz_fail(sink, gs); /* sticky: the next call says it */
        mark.offset = sink->text + sink->used;
    }
#endif
    return mark;
}

csv_mark csv_boundary(csv_sink *sink)
{
#if CSV_GZIP
    if (sink->gz != NULL) {
        csv_mark mark = {
            sink->text + sink->used, sink->rows, {sink->text + sink->used, GZOUT_HELD, 0, 0, 0}};
        csv_status status = sink->error != CSV_OK ? sink->error : csv_flush(sink);
        gzout_status gs = status == CSV_OK ? gzout_cut_here(sink->gz, &mark.cut) : GZOUT_OK;
        if (gs != GZOUT_OK)
            (void)csv_gz_fail(sink, gs);
        mark.offset = sink->text + sink->used;
        return mark;
    }
#endif
    return csv_position(sink);
}

uint64_t csv_uncommitted(const csv_sink *sink)
{
    if (sink->gz != NULL)
        return sink->text + sink->used - sink->text_committed;
    return sink->written + sink->used - sink->committed;
}

/* gzip: goes back to mark (past the checks of csv_truncate). */
static csv_status csv_gz_truncate(csv_sink *sink, csv_mark mark)
{
#if CSV_GZIP
    uint64_t file = GZOUT_HELD;
    sink->used = 0;
    if (mark.offset == sink->text && sink->error == CSV_OK)
        return CSV_OK; /* only the buffer held rows after it */
    gzout_status gs = gzout_truncate(sink->gz, mark.cut, &file);
    if (gs != GZOUT_OK)
        return csv_gz_fail(sink, gs);
    if (file != GZOUT_HELD) {
        port_status port = port_file_truncate(&sink->file, file);
        if (port != PORT_OK)
            return csv_sticky_fail(sink, CSV_ERR_TRUNCATE, port);
        sink->written = file;
    }
    sink->text = mark.offset;
    sink->error = CSV_OK;
    return CSV_OK;
#else
    (void)mark;
    return csv_sticky_fail(sink, CSV_ERR_GZIP, PORT_OK);
#endif
}

csv_status csv_truncate(csv_sink *sink, csv_mark mark)
{
    if (sink->gz != NULL) {
        if (sink->file.fd < 0 || mark.offset < sink->text_committed ||
            mark.rows < sink->rows_committed || mark.offset > sink->text + sink->used ||
            mark.cut.text != mark.offset ||
            (mark.cut.file != GZOUT_HELD && mark.cut.file < sink->committed))
            return CSV_ERR_USAGE;
        sink->in_row = 0;
        sink->fields = 0;
        sink->rows = mark.rows;
        return csv_gz_truncate(sink, mark);
    }
    if (sink->file.fd < 0 || mark.offset < sink->committed || mark.rows < sink->rows_committed ||
        mark.offset > sink->written + sink->used)
        return CSV_ERR_USAGE;
    sink->in_row = 0;
    sink->fields = 0;
    sink->rows = mark.rows;
    if (mark.offset >= sink->written && sink->error == CSV_OK) {
        sink->used = (size_t)(mark.offset - sink->written); /* still in the buffer */
        return CSV_OK;
    }
    sink->used = 0;
    port_status port = port_file_truncate(&sink->file, mark.offset);
    if (port != PORT_OK)
        return csv_sticky_fail(sink, CSV_ERR_TRUNCATE, port);
    sink->written = mark.offset;
    sink->error = CSV_OK;
    return CSV_OK;
}

csv_status csv_rollback(csv_sink *sink)
{
    if (sink->file.fd < 0)
        return CSV_ERR_USAGE;
    sink->used = 0;
    sink->in_row = 0;
    sink->fields = 0;
    sink->rows = sink->rows_committed;
    if (sink->gz != NULL) {
        csv_mark committed = {sink->text_committed, sink->rows_committed, sink->gz_committed};
        return csv_gz_truncate(sink, committed);
    }
    port_status port = port_file_truncate(&sink->file, sink->committed);
    if (port != PORT_OK)
        return csv_sticky_fail(sink, CSV_ERR_TRUNCATE, port);
    sink->written = sink->committed;
    sink->error = CSV_OK;
    return CSV_OK;
}

csv_mark csv_last_commit(const csv_sink *sink)
{
    csv_mark mark;
    memset(&mark, 0, sizeof mark);
    mark.offset = sink->gz != NULL ? sink->text_committed : sink->committed;
    mark.rows = sink->rows_committed;
    mark.cut = sink->gz_committed;
    return mark;
}

csv_status csv_uncommit(csv_sink *sink, csv_mark mark)
{
    csv_mark now = csv_last_commit(sink);
    if (sink->file.fd < 0 || mark.offset > now.offset || mark.rows > now.rows)
        return CSV_ERR_USAGE;
    sink->rows_committed = mark.rows;
    if (sink->gz != NULL) {
        sink->text_committed = mark.offset; /* a commit is a member's end */
        sink->gz_committed = mark.cut;
        sink->committed = mark.cut.file;
    } else {
        sink->committed = mark.offset;
    }
    return csv_rollback(sink);
}

/* REPLACE: moves "<path>.tmp" over path and makes the move durable. */
static csv_status csv_publish(csv_sink *sink)
{
    port_status port = port_file_replace(sink->tmp_path, sink->path);
    if (port != PORT_OK)
        return csv_port_fail(sink, CSV_ERR_RENAME, port);
    sink->tmp_path[0] = '\0';
    return CSV_OK;
}

/* gzip REPLACE: ends the file's one member before the last commit. */
static csv_status csv_gz_end(csv_sink *sink)
{
    (void)sink; /* unused without CSV_GZIP */
#if CSV_GZIP
    if (sink->gz == NULL || sink->mode != CSV_MODE_REPLACE || sink->file.fd < 0 ||
        sink->error != CSV_OK || sink->in_row)
        return CSV_OK; /* csv_commit says what is wrong */
    csv_status status = csv_flush(sink);
    if (status != CSV_OK)
        return status;
    gzout_status gs = gzout_end_member(sink->gz);
    if (gs != GZOUT_OK)
        return csv_gz_fail(sink, gs);
#endif
    return CSV_OK;
}

csv_status csv_finish(csv_sink *sink)
{
    csv_status status = csv_gz_end(sink);
    if (status == CSV_OK)
        status = csv_commit(sink);
    if (status != CSV_OK)
        return status;
    port_status port = port_file_close(&sink->file);
    if (port != PORT_OK)
        return csv_port_fail(sink, CSV_ERR_WRITE, port);
    if (sink->mode == CSV_MODE_APPEND)
        return CSV_OK;
    return csv_publish(sink);
}

void csv_abandon(csv_sink *sink)
{
    if (sink->mode == CSV_MODE_APPEND || sink->mode == CSV_MODE_PART) {
        if (sink->file.fd >= 0)
            (void)csv_rollback(sink);
        (void)port_file_close(&sink->file);
        return;
    }
    (void)port_file_close(&sink->file);
    if (sink->tmp_path[0] != '\0')
        (void)port_file_remove(sink->tmp_path);
    sink->tmp_path[0] = '\0';
}
