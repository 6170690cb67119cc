/*
 * test_csv.c - unit tests of the CSV sink (src/csv.c).
 *
 * Every file lives in a mkdtemp() folder removed at the end. Files are read
 * back with stdio and compared byte for byte; a small RFC 4180 reader below
 * parses them back for the round-trip test. The ENOSPC test lowers
 * RLIMIT_FSIZE (SIGXFSZ ignored) so writes past the limit fail with EFBIG,
 * and restores the limit before it returns.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_tmpdir.h"
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

#define FILE_MAX (8 * CSV_BUFFER_SIZE)
/* put_numbered_rows rows that fill the buffer at least twice (each is 14 bytes or more) */
#define MANY_ROWS ((int)(2 * CSV_BUFFER_SIZE / 14 + 1))

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *tmp_path(const char *name)
{
    return tmpdir_path_n(0, name);
}

static int group_setup(void **state)
{
    (void)state;
    return tmpdir_create("test_csv");
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* Whole content of path into buf (NUL-terminated); returns its length. */
static size_t read_all(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    assert_true(feof(f));
    assert_int_equal(fclose(f), 0);
    buf[n] = '\0';
    return n;
}

static void write_all(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t size_on_disk(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* Compares the file at path with the expected bytes. */
static void assert_file_is(const char *path, const char *expected, size_t len)
{
    static char buf[FILE_MAX];
    size_t n = read_all(path, buf, sizeof buf);
    assert_int_equal(n, len);
    assert_memory_equal(buf, expected, len);
}

static void assert_file_text(const char *path, const char *expected)
{
    assert_file_is(path, expected, strlen(expected));
}

static const char *const header3[] = {"id", "name", "note"};
#define HEADER3 "id,name,note\n"

/* Writes one row; a NULL value becomes a NULL field. */
static void put_row(csv_sink *sink, const char *const *values, size_t n)
{
    assert_int_equal(csv_row_begin(sink), CSV_OK);
    for (size_t i = 0; i < n; i++)
        if (values[i] == NULL)
            assert_int_equal(csv_field_null(sink), CSV_OK);
        else
            assert_int_equal(csv_field(sink, values[i], strlen(values[i])), CSV_OK);
    assert_int_equal(csv_row_end(sink), CSV_OK);
}

/* Writes the row "<i>,name <i>,note" for i in [from, to). */
static void put_numbered_rows(csv_sink *sink, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[16];
        char name[32];
        (void)snprintf(id, sizeof id, "%d", i);
        (void)snprintf(name, sizeof name, "name %d", i);
        const char *const row[] = {id, name, "note"};
        put_row(sink, row, 3);
    }
}

/* ---- quoting ------------------------------------------------------------------------------ */

typedef struct {
    const char *text; /* NULL: a NULL field */
    size_t len;
    const char *written;
} quote_case;

#define Q(text, written)                                                                           \
    {                                                                                              \
        text, sizeof(text) - 1, written                                                            \
    }

static const quote_case quote_cases[] = {
    Q("plain", "plain"),
    Q("in side", "in side"),
    Q("a,b", "\"a,b\""),
    Q("say \"hi\"", "\"say \"\"hi\"\"\""),
    Q("\"", "\"\"\"\""),
    Q("\"\"", "\"\"\"\"\"\""),
    Q("a\rb", "\"a\rb\""),
    Q("a\nb", "\"a\nb\""),
    Q("a\r\nb", "\"a\r\nb\""),
    Q(" lead", "\" lead\""),
    Q("trail ", "\"trail \""),
    Q("\tlead", "\"\tlead\""),
    Q("trail\t", "\"trail\t\""),
    Q(" ", "\" \""),
    Q("", "\"\""),
    {NULL, 0, ""},
    Q("caf\xc3\xa9", "caf\xc3\xa9"),
    Q("\xf0\x9f\x98\x80 emoji", "\xf0\x9f\x98\x80 emoji"),
    Q("\xf0\x9d\x84\x9e", "\xf0\x9d\x84\x9e"),
    Q("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
    Q("+1", "+1"),
    Q("-1", "-1"),
    Q("@x", "@x"),
    Q("a;b|c'd", "a;b|c'd"),
    Q("{\"k\":[1,2]}", "\"{\"\"k\"\":[1,2]}\""),
};

/* Writes the case's field, then "end", and returns the row as written. */
static size_t write_one_field(const quote_case *c, char *row, size_t cap)
{
    static const char *const header[] = {"value", "after"};
    csv_sink sink;
    const char *path = tmp_path("quote.csv");
    (void)remove(path);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header, 2), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    if (c->text == NULL)
        assert_int_equal(csv_field_null(&sink), CSV_OK);
    else
        assert_int_equal(csv_field(&sink, c->text, c->len), CSV_OK);
    assert_int_equal(csv_field(&sink, "end", 3), CSV_OK);
    assert_int_equal(csv_row_end(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    size_t n = read_all(path, row, cap);
    size_t head = strlen("value,after\n");
    assert_true(n >= head);
    memmove(row, row + head, n - head + 1);
    return n - head;
}

static void fields_are_quoted_exactly_when_needed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof quote_cases / sizeof quote_cases[0]; i++) {
        char row[256];
        char expected[256];
        size_t n = write_one_field(&quote_cases[i], row, sizeof row);
        int len = snprintf(expected, sizeof expected, "%s,end\n", quote_cases[i].written);
        if (n != (size_t)len || memcmp(row, expected, n) != 0)
            fail_msg("case %zu: wrote [%s], expected [%s]", i, row, expected);
    }
}

static void field_length_is_respected_not_strlen(void **state)
{
    (void)state;
    quote_case c = {"abc,def", 3, NULL};
    quote_case with_nul = {"a\0b", 3, NULL};
    char row[64];
    assert_int_equal(write_one_field(&c, row, sizeof row), strlen("abc,end\n"));
    assert_string_equal(row, "abc,end\n");
    assert_int_equal(write_one_field(&with_nul, row, sizeof row), 8);
    assert_memory_equal(row, "a\0b,end\n", 8);
}

static void header_names_are_quoted_like_fields(void **state)
{
    (void)state;
    static const char *const header[] = {"a,b", " c", "plain"};
    csv_sink sink;
    const char *path = tmp_path("header_quoted.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header, 3), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, "\"a,b\",\" c\",plain\n");
}

/* ---- the permission of the files created ------------------------------------------------- */

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void created_files_get_exactly_the_mode_whatever_the_umask(void **state)
{
    (void)state;
    csv_sink sink;
    mode_t old = umask(0);
    const char *path = tmp_path("mode_default.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(mode_of(path), 0600); /* FILE_MODE_DEFAULT */
    path = tmp_path("mode_640.csv");
    assert_int_equal(csv_open_mode(&sink, path, CSV_MODE_APPEND, 0, header3, 3, 0640), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(mode_of(path), 0640);
    /* appended to later: keeps the mode it has */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(csv_open_mode(&sink, path, CSV_MODE_APPEND, strlen(HEADER3), header3, 3, 0600),
                     CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(mode_of(path), 0644);
    /* replaced whole: the temporary, then the file, have the mode */
    (void)umask(077);
    path = tmp_path("mode_replace.csv");
    write_all(path, "old\n");
    assert_int_equal(chmod(path, 0666), 0);
    assert_int_equal(csv_open_mode(&sink, path, CSV_MODE_REPLACE, 0, header3, 3, 0640), CSV_OK);
    assert_int_equal(mode_of(sink.tmp_path), 0640);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(mode_of(path), 0640);
    assert_file_text(path, HEADER3);
    (void)umask(old);
}

/* ---- APPEND: header, reopening, crash recovery ------------------------------------------- */

static void new_append_file_gets_header_committed_at_open(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("new_append.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(sink.committed, strlen(HEADER3));
    assert_int_equal(size_on_disk(path), strlen(HEADER3));
    assert_int_equal(sink.rows, 0);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void reopening_at_committed_size_appends_without_second_header(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("reopen.csv");
    const char *const row1[] = {"1", "one", NULL};
    const char *const row2[] = {"2", "two", ""};
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_row(&sink, row1, 3);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    uint64_t committed = sink.committed;
    assert_int_equal(committed, size_on_disk(path));

    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, committed, header3, 3), CSV_OK);
    assert_int_equal(sink.committed, committed);
    assert_int_equal(sink.written, committed);
    put_row(&sink, row2, 3);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(sink.committed, size_on_disk(path));
    assert_file_text(path, HEADER3 "1,one,\n2,two,\"\"\n");
}

static void reopening_after_crash_truncates_to_committed_prefix(void **state)
{
    (void)state;
    static char before[FILE_MAX];
    csv_sink sink;
    const char *path = tmp_path("crash.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, 100);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    uint64_t committed = sink.committed;
    size_t committed_len = read_all(path, before, sizeof before);
    assert_int_equal(committed_len, committed);

    put_numbered_rows(&sink, 100, MANY_ROWS); /* more than a buffer: some reach the file */
    assert_true(size_on_disk(path) > committed);
    assert_int_equal(port_file_close(&sink.file), PORT_OK); /* the crash: no commit */

    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, committed, header3, 3), CSV_OK);
    assert_int_equal(size_on_disk(path), committed);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_is(path, before, committed_len);
}

static void reopening_with_zero_committed_size_starts_the_file_over(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("reset.csv");
    write_all(path, "left over from an old run\n");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void file_shorter_than_committed_size_is_short(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("short.csv");
    write_all(path, HEADER3 "1,a,b\n");
    uint64_t size = size_on_disk(path);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, size + 1, header3, 3), CSV_ERR_SHORT);
    assert_int_equal(sink.file.fd, -1);
    assert_file_text(path, HEADER3 "1,a,b\n");
    assert_int_equal(csv_row_begin(&sink), CSV_ERR_USAGE);
}

static void missing_file_with_committed_size_is_short(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("missing.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 100, header3, 3), CSV_ERR_SHORT);
    assert_int_equal(sink.file.fd, -1);
}

/* ---- rollback ----------------------------------------------------------------------------- */

static void rollback_drops_buffered_and_flushed_rows(void **state)
{
    (void)state;
    static char before[FILE_MAX];
    csv_sink sink;
    const char *path = tmp_path("rollback.csv");
    const char *const last[] = {"last", NULL, "x"};
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, 10);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    size_t committed_len = read_all(path, before, sizeof before);

    put_numbered_rows(&sink, 10, MANY_ROWS);
    assert_true(sink.written > sink.committed); /* part of it reached the file */
    assert_int_equal(sink.rows, MANY_ROWS);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    assert_int_equal(sink.rows, 10);
    assert_int_equal(sink.rows_committed, 10);
    assert_int_equal(sink.written, sink.committed);
    assert_int_equal(size_on_disk(path), sink.committed);

    put_row(&sink, last, 3);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(sink.committed, size_on_disk(path));
    memcpy(before + committed_len, "last,,x\n", 9);
    assert_file_text(path, before);
}

/* A commit the caller could not record (its state file was not saved) is
 * taken back: the file ends at the earlier commit again. */
static void uncommit_goes_back_to_an_earlier_commit(void **state)
{
    (void)state;
    static char before[FILE_MAX];
    csv_sink sink;
    const char *path = tmp_path("uncommit.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, 10);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    size_t kept_len = read_all(path, before, sizeof before);
    csv_mark kept = csv_last_commit(&sink);
    put_numbered_rows(&sink, 10, 500);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    put_numbered_rows(&sink, 500, 510); /* and some not committed */
    csv_mark later = csv_last_commit(&sink);
    later.offset++;
    assert_int_equal(csv_uncommit(&sink, later), CSV_ERR_USAGE); /* not an earlier place */
    assert_int_equal(csv_uncommit(&sink, kept), CSV_OK);
    assert_int_equal(sink.committed, kept.offset);
    assert_int_equal(sink.rows_committed, 10);
    assert_int_equal(sink.rows, 10);
    assert_int_equal(size_on_disk(path), kept.offset);
    csv_abandon(&sink);
    assert_int_equal(size_on_disk(path), kept_len);
    assert_file_text(path, before);
}

static void rollback_before_first_commit_keeps_header(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("rollback_header.csv");
    const char *const row[] = {"1", "a", "b"};
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_row(&sink, row, 3);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void rollback_in_the_middle_of_a_row_allows_a_new_row(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("rollback_mid_row.csv");
    const char *const row[] = {"1", "a", "b"};
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field(&sink, "half", 4), CSV_OK);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    put_row(&sink, row, 3);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3 "1,a,b\n");
}

/* A mark between rows: truncating to it drops the rows after it, whether
 * they are still in the buffer or were written out already. */
static void truncate_to_a_mark_in_the_buffer_and_in_the_file(void **state)
{
    (void)state;
    static char expected[FILE_MAX];
    csv_sink sink;
    const char *path = tmp_path("truncate.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, 5);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    size_t len = read_all(path, expected, sizeof expected);
    put_numbered_rows(&sink, 5, 8);
    csv_mark mark = csv_position(&sink);
    assert_int_equal(mark.rows, 8);
    put_numbered_rows(&sink, 8, 12); /* still in the buffer */
    assert_int_equal(sink.written, sink.committed);
    assert_int_equal(csv_truncate(&sink, mark), CSV_OK);
    assert_int_equal(sink.rows, 8);
    put_numbered_rows(&sink, 8, 9);
    mark = csv_position(&sink);
    put_numbered_rows(&sink, 100, MANY_ROWS); /* far past the buffer: written out */
    assert_true(sink.written > mark.offset);
    assert_int_equal(csv_truncate(&sink, mark), CSV_OK);
    assert_int_equal(size_on_disk(path), mark.offset);
    assert_int_equal(sink.rows, 9);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    assert_int_equal(sink.committed, mark.offset);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    memcpy(expected + len, "5,name 5,note\n6,name 6,note\n7,name 7,note\n8,name 8,note\n", 57);
    assert_file_is(path, expected, len + 56);
}

/* A mark before the last commit (or past the end) cannot be truncated to. */
static void truncate_before_the_commit_is_usage(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("truncate_usage.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    csv_mark start = csv_position(&sink);
    put_numbered_rows(&sink, 0, 3);
    csv_mark end = csv_position(&sink);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    assert_int_equal(csv_truncate(&sink, start), CSV_ERR_USAGE);
    end.offset += 1;
    assert_int_equal(csv_truncate(&sink, end), CSV_ERR_USAGE);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(size_on_disk(path), end.offset - 1);
}

static void abandon_append_rolls_back_to_last_commit(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("abandon_append.csv");
    const char *const row[] = {"1", "a", "b"};
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_row(&sink, row, 3);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    put_numbered_rows(&sink, 0, MANY_ROWS);
    csv_abandon(&sink);
    assert_int_equal(sink.file.fd, -1);
    assert_file_text(path, HEADER3 "1,a,b\n");
}

/* ---- large fields ------------------------------------------------------------------------- */

/* Independent reference encoder: the quoted form of text (always quoted). */
static size_t reference_quoted(const char *text, size_t len, char *out)
{
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"')
            out[n++] = '"';
        out[n++] = text[i];
    }
    out[n++] = '"';
    return n;
}

/* Quotes at every position of every length around the 8-byte steps of the
 * copy, alone and in runs, as one-column rows compared with the reference. */
static void quotes_at_every_position_are_doubled(void **state)
{
    (void)state;
    static char expected[FILE_MAX];
    static const char *const header[] = {"a"};
    csv_sink sink;
    const char *path = tmp_path("quotes.csv");
    size_t n = 2;
    memcpy(expected, "a\n", 2);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header, 1), CSV_OK);
    for (size_t len = 1; len <= 40; len++) {
        for (size_t q = 0; q <= len; q++) { /* q == len: quotes everywhere */
            char field[41];
            for (size_t i = 0; i < len; i++)
                field[i] = (q == len || i == q || (q % 3 == 0 && i == len - 1)) ? '"' : 'x';
            assert_int_equal(csv_row_begin(&sink), CSV_OK);
            assert_int_equal(csv_field(&sink, field, len), CSV_OK);
            assert_int_equal(csv_row_end(&sink), CSV_OK);
            n += reference_quoted(field, len, expected + n);
            expected[n++] = '\n';
        }
    }
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_is(path, expected, n);
}

static void fields_larger_than_the_buffer_are_written_exactly(void **state)
{
    (void)state;
    enum { BIG = 3 * CSV_BUFFER_SIZE + 7 };
    static char plain[BIG];
    static char quoted[BIG];
    static char expected[FILE_MAX];
    static const char *const header[] = {"a", "b", "c"};
    for (size_t i = 0; i < BIG; i++) {
        plain[i] = (char)('a' + i % 26);
        quoted[i] = i % 97 == 0 ? '"' : (char)('A' + i % 26);
    }
    csv_sink sink;
    const char *path = tmp_path("big.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header, 3), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field(&sink, plain, BIG), CSV_OK);
    assert_int_equal(csv_field(&sink, quoted, BIG), CSV_OK);
    assert_int_equal(csv_field_null(&sink), CSV_OK);
    assert_int_equal(csv_row_end(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);

    size_t n = strlen("a,b,c\n");
    memcpy(expected, "a,b,c\n", n);
    memcpy(expected + n, plain, BIG);
    n += BIG;
    expected[n++] = ',';
    n += reference_quoted(quoted, BIG, expected + n);
    memcpy(expected + n, ",\n", 2);
    n += 2;
    assert_int_equal(sink.committed, n);
    assert_file_is(path, expected, n);
}

static void many_rows_across_flushes_match_committed_size(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("many.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    for (int page = 0; page < 5; page++) {
        put_numbered_rows(&sink, page * 700, page * 700 + 700);
        assert_int_equal(csv_commit(&sink), CSV_OK);
        assert_int_equal(sink.committed, size_on_disk(path));
        uint64_t size = 0;
        assert_int_equal(port_file_size(&sink.file, &size), PORT_OK);
        assert_int_equal(size, sink.committed);
    }
    assert_int_equal(sink.rows_committed, 3500);
    assert_int_equal(csv_finish(&sink), CSV_OK);
}

/* ---- PART (runs layout) ------------------------------------------------------------------ */

static void part_resumes_its_temporary_file_and_publishes_it_on_finish(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "part-0001.csv");
    const char *tmp = tmpdir_path_n(1, ".part-0001.csv.tmp");
    assert_int_equal(csv_open_temp(&sink, path, tmp, CSV_MODE_PART, 0, header3, 3, 0600, NULL),
                     CSV_OK);
    assert_true(exists(tmp));
    assert_false(exists(path));
    put_numbered_rows(&sink, 0, 3);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    uint64_t committed = sink.committed;
    put_numbered_rows(&sink, 3,
                      MANY_ROWS); /* more than a buffer, not committed: some reach the file */
    assert_true(size_on_disk(tmp) > committed);
    assert_int_equal(port_file_close(&sink.file), PORT_OK); /* kill -9 */
    assert_false(exists(path));

    assert_int_equal(
        csv_open_temp(&sink, path, tmp, CSV_MODE_PART, committed, header3, 3, 0600, NULL), CSV_OK);
    assert_int_equal(size_on_disk(tmp), committed);
    put_numbered_rows(&sink, 3, 4);
    csv_abandon(&sink); /* stays at its last commit, for the next run */
    assert_true(exists(tmp));
    assert_int_equal(size_on_disk(tmp), committed);
    assert_int_equal(
        csv_open_temp(&sink, path, tmp, CSV_MODE_PART, committed, header3, 3, 0600, NULL), CSV_OK);
    put_numbered_rows(&sink, 3, 4);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_false(exists(tmp));
    assert_file_text(path, HEADER3 "0,name 0,note\n1,name 1,note\n2,name 2,note\n3,name 3,note\n");
}

static void part_needs_its_temporary_name_and_append_takes_none(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "p.csv");
    assert_int_equal(csv_open_mode(&sink, path, CSV_MODE_PART, 0, header3, 3, 0600), CSV_ERR_USAGE);
    assert_int_equal(csv_open_temp(&sink, path, NULL, CSV_MODE_PART, 0, header3, 3, 0600, NULL),
                     CSV_ERR_USAGE);
    assert_int_equal(csv_open_temp(&sink, path, path, CSV_MODE_APPEND, 0, header3, 3, 0600, NULL),
                     CSV_ERR_USAGE);
    assert_false(exists(path));
}

static void part_temporary_file_shorter_than_committed_is_short(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "q.csv");
    const char *tmp = tmpdir_path_n(1, ".q.csv.tmp");
    write_all(tmp, HEADER3);
    assert_int_equal(csv_open_temp(&sink, path, tmp, CSV_MODE_PART, 100, header3, 3, 0600, NULL),
                     CSV_ERR_SHORT);
    assert_false(exists(path));
}

static void replace_writes_a_temporary_file_the_caller_names(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "a.csv");
    const char *tmp = tmpdir_path_n(1, ".a.csv.tmp");
    write_all(tmp, "stale\n");
    assert_int_equal(csv_open_temp(&sink, path, tmp, CSV_MODE_REPLACE, 0, header3, 3, 0600, NULL),
                     CSV_OK);
    put_numbered_rows(&sink, 0, 1);
    assert_false(exists(path));
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_false(exists(tmp));
    assert_file_text(path, HEADER3 "0,name 0,note\n");
}

/* ---- REPLACE ------------------------------------------------------------------------------ */

static void replace_keeps_old_file_until_finish(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "apps.csv");
    const char *tmp = tmpdir_path_n(1, "apps.csv.tmp");
    const char *const row[] = {"new", "row", NULL};
    write_all(path, "old,file\n1,2\n");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header3, 3), CSV_OK);
    assert_true(exists(tmp));
    put_row(&sink, row, 3);
    put_numbered_rows(&sink, 0, MANY_ROWS);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    assert_file_text(path, "old,file\n1,2\n");
    assert_int_equal(sink.committed, size_on_disk(tmp));

    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_false(exists(tmp));
    assert_int_equal(size_on_disk(path), sink.committed);
    static char got[FILE_MAX];
    (void)read_all(path, got, sizeof got);
    assert_memory_equal(got, HEADER3 "new,row,\n0,name 0,note\n", strlen(HEADER3) + 23);
}

static void replace_overwrites_a_stale_tmp_file(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "stale.csv");
    const char *tmp = tmpdir_path_n(1, "stale.csv.tmp");
    write_all(tmp, "garbage from a crashed run that is longer than the header\n");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void replace_abandon_removes_tmp_and_keeps_old_file(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmpdir_path_n(0, "groups.csv");
    const char *tmp = tmpdir_path_n(1, "groups.csv.tmp");
    write_all(path, "old,file\n");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, 10);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    csv_abandon(&sink);
    assert_false(exists(tmp));
    assert_file_text(path, "old,file\n");
    csv_abandon(&sink); /* a second call does nothing */
    assert_file_text(path, "old,file\n");
}

static void replace_rollback_keeps_header_and_writes_no_hole(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("replace_rollback.csv");
    const char *const row[] = {"1", "a", "b"};
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, MANY_ROWS);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    put_row(&sink, row, 3);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3 "1,a,b\n");
}

static void replace_with_bare_file_name_syncs_current_folder(void **state)
{
    (void)state;
    char cwd[1024];
    csv_sink sink;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp_dir), 0);
    csv_status opened = csv_open(&sink, "bare.csv", CSV_MODE_REPLACE, 0, header3, 3);
    csv_status finished = opened == CSV_OK ? csv_finish(&sink) : opened;
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(opened, CSV_OK);
    assert_int_equal(finished, CSV_OK);
    assert_file_text(tmp_path("bare.csv"), HEADER3);
}

/* ---- usage errors ------------------------------------------------------------------------- */

static void too_few_fields_is_usage_until_rollback(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("few.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field(&sink, "1", 1), CSV_OK);
    assert_int_equal(csv_field_null(&sink), CSV_OK);
    assert_int_equal(csv_row_end(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_commit(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_row_begin(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void too_many_fields_is_usage_and_nothing_extra_is_written(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("many_fields.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field(&sink, "1", 1), CSV_OK);
    assert_int_equal(csv_field(&sink, "2", 1), CSV_OK);
    assert_int_equal(csv_field(&sink, "3", 1), CSV_OK);
    assert_int_equal(csv_field(&sink, "4", 1), CSV_ERR_USAGE);
    assert_int_equal(csv_row_end(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_finish(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void calls_out_of_order_are_usage(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("order.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_field(&sink, "x", 1), CSV_ERR_USAGE);
    assert_int_equal(csv_field_null(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_row_end(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field(&sink, NULL, 0), CSV_ERR_USAGE);
    assert_int_equal(csv_commit(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_row_begin(&sink), CSV_ERR_USAGE); /* a row inside a row */
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_ERR_USAGE); /* after finish */
    assert_int_equal(csv_commit(&sink), CSV_ERR_USAGE);
    assert_file_text(path, HEADER3);
}

/* csv_field_bare writes its bytes as they are (also across buffer flushes)
 * and counts as a field like csv_field, with the same usage errors. */
static void bare_fields_are_written_as_they_are(void **state)
{
    (void)state;
    static char big[3 * CSV_BUFFER_SIZE];
    static char expected[4 * CSV_BUFFER_SIZE];
    csv_sink sink;
    const char *path = tmp_path("bare.csv");
    memset(big, '7', sizeof big);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, "1", 1), CSV_ERR_USAGE); /* outside a row */
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, "-12", 3), CSV_OK);
    assert_int_equal(csv_field(&sink, "a,b", 3), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, "2024-06-06T05:00:00Z", 20), CSV_OK);
    assert_int_equal(csv_row_end(&sink), CSV_OK);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, NULL, 0), CSV_ERR_USAGE);
    assert_int_equal(csv_field_bare(&sink, big, sizeof big), CSV_OK);
    assert_int_equal(csv_field_null(&sink), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, "0", 1), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, "9", 1), CSV_ERR_USAGE); /* a fourth field */
    assert_int_equal(csv_row_end(&sink), CSV_ERR_USAGE);
    assert_int_equal(csv_rollback(&sink), CSV_OK);
    assert_int_equal(csv_row_begin(&sink), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, big, sizeof big), CSV_OK);
    assert_int_equal(csv_field_null(&sink), CSV_OK);
    assert_int_equal(csv_field_bare(&sink, "0", 1), CSV_OK);
    assert_int_equal(csv_row_end(&sink), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    size_t n = (size_t)snprintf(expected, sizeof expected, "%s-12,\"a,b\",2024-06-06T05:00:00Z\n",
                                HEADER3);
    memcpy(expected + n, big, sizeof big);
    n += sizeof big;
    memcpy(expected + n, ",,0\n", 4);
    assert_file_is(path, expected, n + 4);
}

static void open_rejects_zero_columns_and_missing_header_names(void **state)
{
    (void)state;
    static const char *const holey[] = {"a", NULL};
    csv_sink sink;
    const char *path = tmp_path("bad_header.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 0), CSV_ERR_USAGE);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, NULL, 3), CSV_ERR_USAGE);
    assert_int_equal(csv_open(&sink, NULL, CSV_MODE_APPEND, 0, header3, 3), CSV_ERR_USAGE);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, holey, 2), CSV_ERR_USAGE);
    assert_int_equal(sink.file.fd, -1);
    assert_int_equal(size_on_disk(path), 0); /* nothing of the header was kept */
}

/* ---- paths and open failures -------------------------------------------------------------- */

/* Builds "<tmp_dir>/././.../<x...>" of exactly len bytes. */
static void path_of_length(char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len + 1, "%s/", tmp_dir);
    while (n + 2 + 8 <= len) {
        memcpy(out + n, "./", 2);
        n += 2;
    }
    memset(out + n, 'x', len - n);
    out[len] = '\0';
}

static void path_longer_than_limit_is_path_long(void **state)
{
    (void)state;
    char path[CSV_PATH_MAX + 8];
    csv_sink sink;
    path_of_length(path, CSV_PATH_MAX - 4);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_ERR_PATH_LONG);
    assert_false(exists(path));

    path_of_length(path, CSV_PATH_MAX - 5);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header3, 3), CSV_OK);
    assert_int_equal(csv_finish(&sink), CSV_OK);
    assert_file_text(path, HEADER3);
}

static void path_in_missing_folder_is_open_error(void **state)
{
    (void)state;
    csv_sink sink;
    const char *path = tmp_path("no/such/folder/users.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_ERR_OPEN);
    assert_int_equal(sink.port_error, PORT_ERR_NOENT);
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header3, 3), CSV_ERR_OPEN);
    assert_int_equal(sink.port_error, PORT_ERR_NOENT);
    csv_abandon(&sink); /* safe after a failed open */
    assert_int_equal(sink.file.fd, -1);
}

/* ---- no space ----------------------------------------------------------------------------- */

enum { FSIZE_LIMIT = 4 * CSV_BUFFER_SIZE + 123 };

/* Writes numbered rows until a call fails; returns that status. */
static csv_status fill_until_failure(csv_sink *sink)
{
    for (int i = 0; i < 100000; i++) {
        char id[16];
        (void)snprintf(id, sizeof id, "%d", i);
        csv_status st = csv_row_begin(sink);
        if (st == CSV_OK)
            st = csv_field(sink, id, strlen(id));
        if (st == CSV_OK)
            st = csv_field(sink, "some text to fill the file", 26);
        if (st == CSV_OK)
            st = csv_field_null(sink);
        if (st == CSV_OK)
            st = csv_row_end(sink);
        if (st != CSV_OK)
            return st;
    }
    return CSV_OK;
}

static void file_size_limit_is_nospc_and_rollback_restores_committed_size(void **state)
{
    (void)state;
    static char before[FILE_MAX];
    struct rlimit saved;
    struct rlimit small;
    csv_sink sink;
    const char *path = tmp_path("nospc.csv");
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    small = saved;
    small.rlim_cur = FSIZE_LIMIT;

    assert_int_equal(csv_open(&sink, path, CSV_MODE_APPEND, 0, header3, 3), CSV_OK);
    put_numbered_rows(&sink, 0, 50);
    assert_int_equal(csv_commit(&sink), CSV_OK);
    uint64_t committed = sink.committed;
    size_t committed_len = read_all(path, before, sizeof before);

    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    csv_status filled = fill_until_failure(&sink);
    csv_status commit_after = csv_commit(&sink);
    port_status port = sink.port_error;
    csv_status rolled = csv_rollback(&sink);
    uint64_t size_after = size_on_disk(path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    (void)signal(SIGXFSZ, old_handler);

    assert_int_equal(filled, CSV_ERR_NOSPC);
    assert_int_equal(commit_after, CSV_ERR_NOSPC); /* sticky until rollback */
    assert_int_equal(port, PORT_ERR_NOSPC);
    assert_int_equal(rolled, CSV_OK);
    assert_int_equal(size_after, committed);
    assert_int_equal(sink.committed, committed);
    assert_int_equal(sink.rows, 50);

    put_numbered_rows(&sink, 50, 51); /* the sink works again */
    assert_int_equal(csv_finish(&sink), CSV_OK);
    memcpy(before + committed_len, "50,name 50,note\n", 17);
    assert_file_text(path, before);
}

/* ---- round trip through an RFC 4180 reader ------------------------------------------------ */

#define RT_FIELDS_MAX 64

typedef struct {
    const char *text; /* into the reader's copy; NULL for a NULL field */
    size_t len;
    int quoted;
} rt_field;

/* Reads one quoted field at *pos into out (quotes undoubled, in place). */
static int rt_quoted(char *data, size_t len, size_t *pos, rt_field *out)
{
    size_t i = *pos + 1;
    size_t n = 0;
    char *start = data + i;
    for (;;) {
        if (i >= len)
            return -1; /* unterminated */
        if (data[i] == '"' && i + 1 < len && data[i + 1] == '"') {
            start[n++] = '"';
            i += 2;
        } else if (data[i] == '"') {
            i++;
            break;
        } else {
            start[n++] = data[i++];
        }
    }
    out->text = start;
    out->len = n;
    out->quoted = 1;
    *pos = i;
    return 0;
}

/* Reads one unquoted field at *pos; empty means NULL. */
static int rt_plain(const char *data, size_t len, size_t *pos, rt_field *out)
{
    size_t i = *pos;
    while (i < len && data[i] != ',' && data[i] != '\n') {
        if (data[i] == '"' || data[i] == '\r')
            return -1;
        i++;
    }
    out->text = i == *pos ? NULL : data + *pos;
    out->len = i - *pos;
    out->quoted = 0;
    *pos = i;
    return 0;
}

/* Parses one row at *pos (data is modified); returns its field count or -1. */
static int rt_read_row(char *data, size_t len, size_t *pos, rt_field *fields)
{
    int count = 0;
    for (;;) {
        if (count == RT_FIELDS_MAX)
            return -1;
        int st = (*pos < len && data[*pos] == '"') ? rt_quoted(data, len, pos, &fields[count])
                                                   : rt_plain(data, len, pos, &fields[count]);
        if (st != 0 || *pos >= len)
            return -1; /* every row ends with "\n" */
        count++;
        if (data[(*pos)++] == '\n')
            return count;
    }
}

static void rows_read_back_with_an_rfc4180_reader_are_identical(void **state)
{
    (void)state;
    static const char *const header[] = {"a", "b", "c", "d"};
    static const char *const rows[][4] = {
        {"plain", NULL, "", " "},
        {"\"", "\"\"", ",", "\r\n"},
        {"line1\nline2", "tab\there", "\ttab", "trailing tab\t"},
        {NULL, NULL, NULL, NULL},
        {"", "", "", ""},
        {"\xf0\x9f\x92\xa9,\"\xe2\x82\xac\"", "=SUM(A1)", "-1", "+1"},
        {"{\"a\":\"b,c\"}", "[1,2,3]", "\\\"", "'single'"},
    };
    static char data[FILE_MAX];
    const size_t nrows = sizeof rows / sizeof rows[0];
    csv_sink sink;
    const char *path = tmp_path("roundtrip.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header, 4), CSV_OK);
    for (size_t r = 0; r < nrows; r++)
        put_row(&sink, rows[r], 4);
    assert_int_equal(csv_finish(&sink), CSV_OK);

    size_t len = read_all(path, data, sizeof data);
    size_t pos = 0;
    rt_field fields[RT_FIELDS_MAX];
    assert_int_equal(rt_read_row(data, len, &pos, fields), 4); /* header */
    for (size_t r = 0; r < nrows; r++) {
        assert_int_equal(rt_read_row(data, len, &pos, fields), 4);
        for (size_t f = 0; f < 4; f++) {
            const char *want = rows[r][f];
            if (want == NULL) {
                assert_null(fields[f].text);
                continue;
            }
            assert_non_null(fields[f].text);
            assert_int_equal(fields[f].len, strlen(want));
            assert_memory_equal(fields[f].text, want, fields[f].len);
        }
    }
    assert_int_equal(pos, len);
}

/* len bytes of 'x' with special (unless 0) at position at; returns len. */
static size_t scan_value(char *out, size_t len, size_t at, char special)
{
    memset(out, 'x', len);
    if (special != 0)
        out[at] = special;
    out[len] = '\0';
    return len;
}

static void special_byte_at_any_position_forces_quotes(void **state)
{
    (void)state;
    static const char specials[] = {',', '"', '\r', '\n', 0};
    static const char *const header[] = {"v", "end"};
    static char data[4 * FILE_MAX];
    char value[32];
    csv_sink sink;
    const char *path = tmp_path("scan.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header, 2), CSV_OK);
    for (size_t s = 0; s < sizeof specials; s++) {
        for (size_t len = 1; len <= 30; len++) {
            for (size_t at = 0; at < len; at++) {
                const char *const row[] = {value, "e"};
                (void)scan_value(value, len, at, specials[s]);
                put_row(&sink, row, 2);
            }
        }
    }
    assert_int_equal(csv_finish(&sink), CSV_OK);

    size_t total = read_all(path, data, sizeof data);
    size_t pos = 0;
    rt_field fields[RT_FIELDS_MAX];
    assert_int_equal(rt_read_row(data, total, &pos, fields), 2);
    for (size_t s = 0; s < sizeof specials; s++) {
        for (size_t len = 1; len <= 30; len++) {
            for (size_t at = 0; at < len; at++) {
                size_t n = scan_value(value, len, at, specials[s]);
                assert_int_equal(rt_read_row(data, total, &pos, fields), 2);
                assert_int_equal(fields[0].quoted, specials[s] != 0);
                assert_int_equal(fields[0].len, n);
                assert_memory_equal(fields[0].text, value, n);
            }
        }
    }
    assert_int_equal(pos, total);
}

/* Control bytes below 0x0E other than CR and LF (tab inside, 0x01, VT, FF)
 * trip the word test's shared check for CR and LF but need no quotes: at
 * every inner position of fields of 3 to 30 bytes, each is written as is. */
static void control_bytes_inside_a_field_need_no_quotes(void **state)
{
    (void)state;
    static const char controls[] = {'\t', 0x01, 0x0b, 0x0c};
    static const char *const header[] = {"v", "end"};
    static char data[4 * FILE_MAX];
    static char expected[4 * FILE_MAX];
    size_t n = 0;
    char value[32];
    csv_sink sink;
    const char *path = tmp_path("controls.csv");
    assert_int_equal(csv_open(&sink, path, CSV_MODE_REPLACE, 0, header, 2), CSV_OK);
    n += (size_t)snprintf(expected + n, sizeof expected - n, "v,end\n");
    for (size_t c = 0; c < sizeof controls; c++) {
        for (size_t len = 3; len <= 30; len++) {
            for (size_t at = 1; at + 1 < len; at++) {
                const char *const row[] = {value, "e"};
                (void)scan_value(value, len, at, controls[c]);
                put_row(&sink, row, 2);
                n += (size_t)snprintf(expected + n, sizeof expected - n, "%s,e\n", value);
            }
        }
    }
    assert_int_equal(csv_finish(&sink), CSV_OK);
    size_t total = read_all(path, data, sizeof data);
    assert_int_equal(total, n);
    assert_memory_equal(data, expected, n);
}

/* ---- strerror ----------------------------------------------------------------------------- */

static void every_status_has_its_own_words(void **state)
{
    (void)state;
    for (int a = CSV_OK; a <= CSV_ERR_USAGE; a++) {
        const char *text = csv_strerror((csv_status)a);
        assert_non_null(text);
        assert_null(strstr(text, "unknown"));
        for (int b = CSV_OK; b < a; b++)
            assert_string_not_equal(text, csv_strerror((csv_status)b));
    }
    assert_non_null(strstr(csv_strerror(CSV_ERR_PATH_LONG), "CSV_PATH_MAX"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_are_quoted_exactly_when_needed),
        cmocka_unit_test(field_length_is_respected_not_strlen),
        cmocka_unit_test(header_names_are_quoted_like_fields),
        cmocka_unit_test(created_files_get_exactly_the_mode_whatever_the_umask),
        cmocka_unit_test(new_append_file_gets_header_committed_at_open),
        cmocka_unit_test(reopening_at_committed_size_appends_without_second_header),
        cmocka_unit_test(reopening_after_crash_truncates_to_committed_prefix),
        cmocka_unit_test(reopening_with_zero_committed_size_starts_the_file_over),
        cmocka_unit_test(file_shorter_than_committed_size_is_short),
        cmocka_unit_test(missing_file_with_committed_size_is_short),
        cmocka_unit_test(rollback_drops_buffered_and_flushed_rows),
        cmocka_unit_test(uncommit_goes_back_to_an_earlier_commit),
        cmocka_unit_test(part_resumes_its_temporary_file_and_publishes_it_on_finish),
        cmocka_unit_test(part_needs_its_temporary_name_and_append_takes_none),
        cmocka_unit_test(part_temporary_file_shorter_than_committed_is_short),
        cmocka_unit_test(replace_writes_a_temporary_file_the_caller_names),
        cmocka_unit_test(rollback_before_first_commit_keeps_header),
        cmocka_unit_test(rollback_in_the_middle_of_a_row_allows_a_new_row),
        cmocka_unit_test(truncate_to_a_mark_in_the_buffer_and_in_the_file),
        cmocka_unit_test(truncate_before_the_commit_is_usage),
        cmocka_unit_test(abandon_append_rolls_back_to_last_commit),
        cmocka_unit_test(quotes_at_every_position_are_doubled),
        cmocka_unit_test(fields_larger_than_the_buffer_are_written_exactly),
        cmocka_unit_test(many_rows_across_flushes_match_committed_size),
        cmocka_unit_test(replace_keeps_old_file_until_finish),
        cmocka_unit_test(replace_overwrites_a_stale_tmp_file),
        cmocka_unit_test(replace_abandon_removes_tmp_and_keeps_old_file),
        cmocka_unit_test(replace_rollback_keeps_header_and_writes_no_hole),
        cmocka_unit_test(replace_with_bare_file_name_syncs_current_folder),
        cmocka_unit_test(too_few_fields_is_usage_until_rollback),
        cmocka_unit_test(too_many_fields_is_usage_and_nothing_extra_is_written),
        cmocka_unit_test(calls_out_of_order_are_usage),
        cmocka_unit_test(bare_fields_are_written_as_they_are),
        cmocka_unit_test(open_rejects_zero_columns_and_missing_header_names),
        cmocka_unit_test(path_longer_than_limit_is_path_long),
        cmocka_unit_test(path_in_missing_folder_is_open_error),
        cmocka_unit_test(file_size_limit_is_nospc_and_rollback_restores_committed_size),
        cmocka_unit_test(rows_read_back_with_an_rfc4180_reader_are_identical),
        cmocka_unit_test(special_byte_at_any_position_forces_quotes),
        cmocka_unit_test(control_bytes_inside_a_field_need_no_quotes),
        cmocka_unit_test(every_status_has_its_own_words),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
