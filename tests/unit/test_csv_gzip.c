/*
 * test_csv_gzip.c - unit tests of the gzip CSV sink (src/csv.c through
 * src/gzip_out.c).
 *
 * Every test drives two sinks with the same calls: a plain one and a gzip
 * one. The gzip file is inflated with the project's own gunzip (zlib's
 * inflate; it checks every member's CRC-32 and length and accepts
 * concatenated members) and must give exactly the plain file's text: after
 * commits, after truncates back to a page's start (csv_boundary) and to a
 * mark (csv_position) with and without a hold overflow, and after a
 * crash-like reopen at a committed size. Every committed size must be a
 * complete gzip file.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_tmpdir.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "gunzip.h"
#include "gzip_out.h"

#define TEXT_MAX  (4u << 20)
#define SIZES_MAX 64

static const char *const header3[] = {"id", "name", "note"};

/* The twin sinks and what the test remembers of them. */
typedef struct {
    csv_sink plain;
    csv_sink gz;
    gzip_out deflater;
    char plain_path[512];
    char gz_path[512];
    uint64_t plain_sizes[SIZES_MAX]; /* committed sizes, one per commit */
    uint64_t gz_sizes[SIZES_MAX];
    unsigned commits;
} twin;

static twin the_twin;
static char text_a[TEXT_MAX];
static char text_b[TEXT_MAX];
static uint8_t file_bytes[TEXT_MAX];
static gunzip inflater;

static int group_setup(void **state)
{
    (void)state;
    return tmpdir_create("test_csv_gzip");
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* ---- reading files back --------------------------------------------------------------- */

/* The first len bytes of path into buf; returns how many were read. */
static size_t read_prefix(const char *path, void *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, len, f);
    assert_int_equal(fclose(f), 0);
    return n;
}

typedef struct {
    char *out;
    size_t len;
    size_t cap;
} text_buf;

static int collect(void *user, const uint8_t *data, size_t len)
{
    text_buf *t = user;
    if (len > t->cap - t->len)
        return 1;
    memcpy(t->out + t->len, data, len);
    t->len += len;
    return 0;
}

/* Inflates the first size bytes of a gzip file into out; fails the test
 * unless they are a complete gzip file (whole members only). */
static size_t inflate_prefix(const char *path, uint64_t size, char *out, size_t cap)
{
    assert_true(size <= sizeof file_bytes);
    assert_int_equal(read_prefix(path, file_bytes, (size_t)size), size);
    text_buf t = {out, 0, cap};
    gunzip_init(&inflater);
    assert_int_equal(gunzip_feed(&inflater, file_bytes, (size_t)size, collect, &t), GUNZIP_OK);
    assert_int_equal(gunzip_finish(&inflater), GUNZIP_OK);
    return t.len;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* The gzip file's text (its first size bytes) equals the plain file's
 * first plain_size bytes. */
static void assert_same_text(const twin *t, uint64_t plain_size, uint64_t gz_size)
{
    size_t plain_len = read_prefix(t->plain_path, text_a, (size_t)plain_size);
    assert_int_equal(plain_len, plain_size);
    size_t gz_len = inflate_prefix(t->gz_path, gz_size, text_b, sizeof text_b);
    assert_int_equal(gz_len, plain_len);
    assert_memory_equal(text_a, text_b, plain_len);
}

/* ---- the twin sinks ------------------------------------------------------------------ */

static void twin_open(twin *t, const char *name, csv_mode mode, uint64_t plain_committed,
                      uint64_t gz_committed)
{
    (void)snprintf(t->plain_path, sizeof t->plain_path, "%s/%s.csv", tmp_dir, name);
    (void)snprintf(t->gz_path, sizeof t->gz_path, "%s/%s.csv.gz", tmp_dir, name);
    assert_int_equal(
        csv_open_mode(&t->plain, t->plain_path, mode, plain_committed, header3, 3, 0600), CSV_OK);
    assert_int_equal(
        csv_open_temp(&t->gz, t->gz_path, NULL, mode, gz_committed, header3, 3, 0600, &t->deflater),
        CSV_OK);
}

/* Row i: its id, a name, and a note that varies in length (some need
 * quotes); `wide` makes the note about 2 KiB. */
static void twin_row(twin *t, unsigned i, int wide)
{
    char id[16];
    char name[32];
    static char note[4096];
    (void)snprintf(id, sizeof id, "%u", i);
    (void)snprintf(name, sizeof name, "user, %u", i * 7919u % 1000u);
    size_t len = wide ? 2000u + i % 97u : i * 13u % 160u;
    for (size_t k = 0; k < len; k++)
        note[k] = (char)('a' + (i * 31u + k * k) % 26u);
    if (len > 3)
        note[len / 2] = '"';
    csv_sink *sinks[2] = {&t->plain, &t->gz};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(csv_row_begin(sinks[s]), CSV_OK);
        assert_int_equal(csv_field_bare(sinks[s], id, strlen(id)), CSV_OK);
        assert_int_equal(csv_field(sinks[s], name, strlen(name)), CSV_OK);
        assert_int_equal(csv_field(sinks[s], note, len), CSV_OK);
        assert_int_equal(csv_row_end(sinks[s]), CSV_OK);
    }
}

static void twin_rows(twin *t, unsigned from, unsigned to, int wide)
{
    for (unsigned i = from; i < to; i++)
        twin_row(t, i, wide);
}

typedef struct {
    csv_mark plain;
    csv_mark gz;
} twin_mark;

static twin_mark twin_position(twin *t)
{
    twin_mark m = {csv_position(&t->plain), csv_position(&t->gz)};
    assert_int_equal(t->gz.error, CSV_OK);
    return m;
}

static twin_mark twin_boundary(twin *t)
{
    twin_mark m = {csv_boundary(&t->plain), csv_boundary(&t->gz)};
    assert_int_equal(t->gz.error, CSV_OK);
    return m;
}

static void twin_truncate(twin *t, twin_mark m)
{
    assert_int_equal(csv_truncate(&t->plain, m.plain), CSV_OK);
    assert_int_equal(csv_truncate(&t->gz, m.gz), CSV_OK);
    assert_int_equal(t->plain.rows, t->gz.rows);
}

/* Commits both; the gzip file at its committed size is complete and holds
 * the plain file's text. */
static void twin_commit(twin *t)
{
    assert_int_equal(csv_commit(&t->plain), CSV_OK);
    assert_int_equal(csv_commit(&t->gz), CSV_OK);
    assert_int_equal(file_size(t->gz_path), t->gz.committed);
    assert_same_text(t, t->plain.committed, t->gz.committed);
    assert_true(t->commits < SIZES_MAX);
    t->plain_sizes[t->commits] = t->plain.committed;
    t->gz_sizes[t->commits] = t->gz.committed;
    t->commits++;
}

static void twin_finish(twin *t)
{
    assert_int_equal(csv_finish(&t->plain), CSV_OK);
    assert_int_equal(csv_finish(&t->gz), CSV_OK);
    assert_same_text(t, file_size(t->plain_path), file_size(t->gz_path));
}

/* Every size ever committed is still a complete gzip file with the text
 * the plain file had at its matching commit. */
static void assert_every_commit_valid(const twin *t)
{
    for (unsigned i = 0; i < t->commits; i++)
        assert_same_text(t, t->plain_sizes[i], t->gz_sizes[i]);
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Rows over several commits, many output pieces each: the gzip file
 * inflates to the plain text at every commit; an empty commit adds no
 * member. */
static void rows_across_commits_inflate_to_the_plain_text(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "commits", CSV_MODE_APPEND, 0, 0);
    twin_commit(t); /* the header alone */
    twin_rows(t, 0, 10, 0);
    twin_commit(t);
    twin_rows(t, 10, 3000, 0);
    twin_commit(t);
    uint64_t before = t->gz.committed;
    twin_commit(t);
    assert_int_equal(t->gz.committed, before);
    twin_rows(t, 3000, 3100, 1);
    twin_commit(t);
    assert_true(t->gz.committed < t->plain.committed / 2);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* A commit taken back (the state could not be saved): the gzip file ends
 * at the earlier commit's member again, inflating to the plain text there,
 * and later rows follow as a new member. */
static void uncommit_goes_back_to_an_earlier_member(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "uncommit", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 40, 0);
    twin_commit(t);
    csv_mark plain_kept = csv_last_commit(&t->plain);
    csv_mark gz_kept = csv_last_commit(&t->gz);
    twin_rows(t, 40, 900, 0);
    twin_commit(t);
    twin_rows(t, 900, 950, 0); /* and some not committed */
    assert_int_equal(csv_uncommit(&t->plain, plain_kept), CSV_OK);
    assert_int_equal(csv_uncommit(&t->gz, gz_kept), CSV_OK);
    assert_int_equal(t->gz.committed, gz_kept.cut.file);
    assert_int_equal(file_size(t->gz_path), gz_kept.cut.file);
    assert_same_text(t, t->plain.committed, t->gz.committed);
    t->commits = 1; /* the second commit is gone */
    twin_rows(t, 40, 120, 0);
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* A failed attempt goes back to the page's start (a csv_boundary), after
 * marks and after rows written out; the page read again is exact. */
static void truncate_to_the_page_start(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "page_start", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 50, 0);
    twin_commit(t);
    twin_rows(t, 50, 100, 0); /* a complete page, not yet committed */
    twin_mark page = twin_boundary(t);
    twin_rows(t, 100, 130, 0);
    (void)twin_position(t);
    twin_rows(t, 130, 2000, 0); /* written out: the file grows past the page start */
    (void)twin_position(t);
    twin_rows(t, 2000, 2010, 0);
    assert_true(t->gz.written > page.gz.cut.file);
    twin_truncate(t, page);
    assert_int_equal(file_size(t->gz_path), page.gz.cut.file);
    twin_rows(t, 100, 200, 0); /* the page again */
    twin_commit(t);
    /* a boundary right after a commit, and a truncate to it */
    page = twin_boundary(t);
    twin_rows(t, 200, 220, 0);
    twin_truncate(t, page);
    twin_rows(t, 220, 230, 0);
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* A full page is cut back to where its last lac second began (the latest
 * mark): rows held uncompressed are dropped. */
static void truncate_to_the_latest_mark(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "mark", CSV_MODE_APPEND, 0, 0);
    twin_commit(t);
    for (unsigned page = 0; page < 20; page++) {
        unsigned base = page * 1000u;
        (void)twin_boundary(t);
        twin_rows(t, base, base + 40, 0);
        (void)twin_position(t);
        twin_rows(t, base + 40, base + 60, 0);
        twin_mark last = twin_position(t);
        twin_rows(t, base + 60, base + 70, 0);
        twin_truncate(t, last);
        if (page % 3 == 2)
            twin_commit(t);
    }
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* A second with more rows than the hold: the mark becomes a full-flush
 * point, and going back to it truncates the file there. Then the page
 * start before it still works too. */
static void truncate_to_a_mark_after_the_hold_overflowed(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "overflow", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 30, 0);
    twin_commit(t);
    twin_mark page = twin_boundary(t);
    twin_rows(t, 30, 60, 0);
    twin_mark last = twin_position(t);
    twin_rows(t, 60, 60 + 3 * GZOUT_HOLD_SIZE / 2000u, 1); /* past the hold */
    assert_int_equal(t->gz.gz->has_spilled, 1);
    assert_true(t->gz.written > page.gz.cut.file);
    twin_truncate(t, last);
    twin_rows(t, 500, 510, 0);
    twin_commit(t);
    /* again, and this time back to the page's start */
    page = twin_boundary(t);
    twin_rows(t, 600, 620, 0);
    (void)twin_position(t);
    twin_rows(t, 620, 620 + 2 * GZOUT_HOLD_SIZE / 2000u, 1);
    twin_truncate(t, page);
    twin_rows(t, 700, 720, 0);
    twin_commit(t);
    /* a mark after an overflow, then a truncate to that newer mark */
    (void)twin_boundary(t);
    last = twin_position(t);
    twin_rows(t, 800, 800 + 2 * GZOUT_HOLD_SIZE / 2000u, 1);
    last = twin_position(t);
    twin_rows(t, 900, 905, 0);
    twin_truncate(t, last);
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* A rollback drops everything after the last commit, written out or held. */
static void rollback_to_the_last_commit(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "rollback", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 20, 0);
    twin_commit(t);
    (void)twin_boundary(t);
    twin_rows(t, 20, 2000, 0);
    (void)twin_position(t);
    twin_rows(t, 2000, 2010, 0);
    assert_int_equal(csv_rollback(&t->plain), CSV_OK);
    assert_int_equal(csv_rollback(&t->gz), CSV_OK);
    assert_int_equal(file_size(t->gz_path), t->gz.committed);
    twin_rows(t, 3000, 3010, 0);
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* A crash: rows written out after the last commit stay in the file (the
 * process dies without closing properly). The next open at the committed
 * size cuts them away and appends a new member: still one valid file. */
static void reopen_after_a_crash_at_the_committed_size(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "crash", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 100, 0);
    twin_commit(t);
    uint64_t plain_committed = t->plain.committed;
    uint64_t gz_committed = t->gz.committed;
    (void)twin_boundary(t);
    twin_rows(t, 100, 3000, 0);
    (void)twin_position(t);
    twin_rows(t, 3000, 3010, 0);
    assert_true(file_size(t->gz_path) > gz_committed); /* a torn member after the commit */
    (void)port_file_close(&t->plain.file);             /* "kill -9" */
    (void)port_file_close(&t->gz.file);
    twin_open(t, "crash", CSV_MODE_APPEND, plain_committed, gz_committed);
    assert_int_equal(file_size(t->gz_path), gz_committed);
    twin_rows(t, 5000, 5100, 0);
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* REPLACE (apps, groups): pages with a retry, commits, one gzip member
 * published whole; the temporary file is gone. */
static void replace_writes_one_member(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "apps", CSV_MODE_REPLACE, 0, 0);
    twin_mark page = twin_boundary(t);
    twin_rows(t, 0, 10, 0);
    twin_truncate(t, page); /* a failed attempt */
    twin_rows(t, 0, 100, 0);
    assert_int_equal(csv_commit(&t->plain), CSV_OK);
    assert_int_equal(csv_commit(&t->gz), CSV_OK);
    (void)twin_boundary(t);
    twin_rows(t, 100, 200, 0);
    twin_finish(t);
    char tmp[2048];
    (void)snprintf(tmp, sizeof tmp, "%s.tmp", t->gz_path);
    assert_int_equal(access(tmp, F_OK), -1);
    /* one member: the gzip magic appears once, at the start, and the file
     * ends with the trailer of all the text */
    size_t size = (size_t)file_size(t->gz_path);
    assert_int_equal(read_prefix(t->gz_path, file_bytes, size), size);
    size_t plain = read_prefix(t->plain_path, text_a, sizeof text_a);
    uint32_t isize = (uint32_t)file_bytes[size - 4] | (uint32_t)file_bytes[size - 3] << 8 |
                     (uint32_t)file_bytes[size - 2] << 16 | (uint32_t)file_bytes[size - 1] << 24;
    assert_int_equal(isize, plain);
}

/* A mark before the last commit, or a held place older than the latest
 * mark, cannot be gone back to. */
static void truncate_to_a_given_up_place_is_usage(void **state)
{
    (void)state;
    twin *t = &the_twin;
    twin_open(t, "usage", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 10, 0);
    csv_mark before = csv_position(&t->gz);
    twin_rows(t, 10, 20, 0);
    assert_int_equal(csv_commit(&t->gz), CSV_OK);
    assert_int_equal(csv_truncate(&t->gz, before), CSV_ERR_USAGE);
    csv_mark older = csv_position(&t->gz);
    twin_rows(t, 20, 30, 0);
    (void)csv_position(&t->gz);
    twin_rows(t, 30, 40, 0);
    assert_int_equal(csv_truncate(&t->gz, older), CSV_ERR_USAGE);
    assert_int_equal(csv_rollback(&t->gz), CSV_OK);
    assert_int_equal(csv_finish(&t->gz), CSV_OK);
    assert_int_equal(csv_finish(&t->plain), CSV_OK);
}

/* A disk that fills up (RLIMIT_FSIZE, SIGXFSZ ignored): the failure is
 * sticky, a mark taken after it truncates nothing, and a rollback leaves
 * the committed gzip file; the sink then works again. */
static void a_full_disk_rolls_back_to_a_valid_file(void **state)
{
    (void)state;
    twin *t = &the_twin;
    t->commits = 0;
    twin_open(t, "nospc", CSV_MODE_APPEND, 0, 0);
    twin_rows(t, 0, 200, 0);
    twin_commit(t);
    uint64_t committed = t->gz.committed;
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = saved;
    small.rlim_cur = (rlim_t)committed + 3000;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    (void)csv_boundary(&t->gz);
    csv_status st = CSV_OK;
    uint32_t seed = 12345;
    for (unsigned i = 0; i < 5000 && st == CSV_OK; i++) {
        char noise[64];
        for (size_t k = 0; k < sizeof noise; k++) {
            seed = seed * 1103515245u + 12345u;
            noise[k] = (char)('a' + (seed >> 16) % 26u);
        }
        st = csv_row_begin(&t->gz);
        for (int f = 0; f < 3 && st == CSV_OK; f++)
            st = csv_field(&t->gz, noise, sizeof noise);
        if (st == CSV_OK)
            st = csv_row_end(&t->gz);
    }
    csv_mark after = csv_position(&t->gz);
    csv_status truncated = csv_truncate(&t->gz, after);
    uint64_t size_after_truncate = file_size(t->gz_path);
    csv_status rolled = csv_rollback(&t->gz);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    (void)signal(SIGXFSZ, old_handler);
    assert_int_equal(st, CSV_ERR_NOSPC);
    assert_int_not_equal(truncated, CSV_OK);
    assert_true(size_after_truncate >= committed);
    assert_int_equal(rolled, CSV_OK);
    assert_int_equal(file_size(t->gz_path), committed);
    assert_int_equal(csv_rollback(&t->plain), CSV_OK);
    twin_rows(t, 300, 310, 0);
    twin_commit(t);
    twin_finish(t);
    assert_every_commit_valid(t);
}

/* The deflate state fits its arena with room to spare. */
static void deflate_fits_its_arena(void **state)
{
    (void)state;
    static gzip_out g;
    assert_int_equal(gzout_start(&g, NULL, NULL, 0), GZOUT_OK);
    assert_true(g.za.peak <= sizeof g.arena);
    assert_true(g.za.peak + 2048 > sizeof g.arena);
    print_message("deflate arena: %zu of %zu bytes\n", g.za.peak, sizeof g.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_across_commits_inflate_to_the_plain_text),
        cmocka_unit_test(uncommit_goes_back_to_an_earlier_member),
        cmocka_unit_test(truncate_to_the_page_start),
        cmocka_unit_test(truncate_to_the_latest_mark),
        cmocka_unit_test(truncate_to_a_mark_after_the_hold_overflowed),
        cmocka_unit_test(rollback_to_the_last_commit),
        cmocka_unit_test(reopen_after_a_crash_at_the_committed_size),
        cmocka_unit_test(replace_writes_one_member),
        cmocka_unit_test(truncate_to_a_given_up_place_is_usage),
        cmocka_unit_test(a_full_disk_rolls_back_to_a_valid_file),
        cmocka_unit_test(deflate_fits_its_arena),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
