/*
 * test_window.c - unit tests of the users window engine (window.h).
 *
 * A fake MongoDB answers the engine's requests: it parses the filter the
 * engine wrote ({"lac":null}, {"lac":{"$gte":..,"$lt":..}}, an
 * "_id":{"$gt":..}), sorts by lac with ties in a new random order on every
 * request (or by _id), applies the limit and reports the count of the
 * filter as "total". A fake sink records the ids written and cuts back to
 * the last mark when the engine says so. Every scenario ends by checking
 * that each user of the window was written exactly once (or, for users
 * that left the window during the run, at most once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "window.h"

#define USERS_MAX 8192
#define NONE      INT64_MIN

typedef struct {
    int lac_kind; /* 0 number, 1 missing, 2 null */
    int64_t lac;  /* whole seconds (or milliseconds) */
    char id[48];
} user;

typedef struct {
    user users[USERS_MAX];
    int count;
    unsigned seed;
    /* server work, as dbviewer's count of every filter sees it */
    long requests;
    long count_keys;
    /* churn: users that leave the window after each page */
    int churn;
    int64_t churn_to;
    int churned[USERS_MAX];
} fake_db;

typedef struct {
    int written[USERS_MAX]; /* times each user was written */
    int log[USERS_MAX * 4]; /* user index per row, in order */
    int rows;
    int mark;
} fake_sink;

static fake_db db;
static fake_sink sink;

static unsigned next_rand(void)
{
    db.seed = db.seed * 1103515245u + 12345u;
    return (db.seed >> 8) & 0xffffffu;
}

static void add_user(int kind, int64_t lac)
{
    user *u = &db.users[db.count];
    u->lac_kind = kind;
    u->lac = lac;
    (void)snprintf(u->id, sizeof u->id, "%08x%08xu%05d", next_rand(), next_rand(), db.count);
    db.count++;
}

static void reset(unsigned seed)
{
    memset(&db, 0, sizeof db);
    memset(&sink, 0, sizeof sink);
    db.seed = seed;
}

/* ---- the fake server --------------------------------------------------------------- */

typedef struct {
    int lac_null;
    int64_t gte, lt; /* NONE when absent */
    int has_after;
    char after[64];
    int by_id;
} query;

static int64_t number_after(const char *f, const char *key)
{
    const char *p = strstr(f, key);
    return p == NULL ? NONE : strtoll(p + strlen(key), NULL, 10);
}

static void parse_query(const char *filter, const char *sort, query *q)
{
    memset(q, 0, sizeof *q);
    q->lac_null = strncmp(filter, "{\"lac\":null", 11) == 0;
    q->gte = number_after(filter, "\"$gte\":");
    q->lt = number_after(filter, "\"$lt\":");
    const char *gt = strstr(filter, "\"$gt\":\"");
    if (gt != NULL) {
        gt += 7;
        size_t n = (size_t)(strchr(gt, '"') - gt);
        memcpy(q->after, gt, n);
        q->after[n] = '\0';
        q->has_after = 1;
    }
    q->by_id = strcmp(sort, "{\"_id\":1}") == 0;
    assert_true(q->by_id || strcmp(sort, "{\"lac\":1}") == 0);
}

static int matches(const query *q, const user *u)
{
    if (q->lac_null) {
        if (u->lac_kind == 0)
            return 0;
    } else {
        if (u->lac_kind != 0)
            return 0;
        if (q->gte != NONE && u->lac < q->gte)
            return 0;
        if (q->lt != NONE && u->lac >= q->lt)
            return 0;
    }
    return !q->has_after || strcmp(u->id, q->after) > 0;
}

static const query *sort_query;
static int order_rand[USERS_MAX];

static int compare_users(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    if (sort_query->by_id)
        return strcmp(db.users[i].id, db.users[j].id);
    if (db.users[i].lac != db.users[j].lac)
        return db.users[i].lac < db.users[j].lac ? -1 : 1;
    return order_rand[i] - order_rand[j]; /* ties: a new order per request */
}

/* Answers one request: the matching users' indexes in order, their count. */
static int answer(const char *filter, const char *sort, unsigned limit, int *out, int64_t *total)
{
    static int hits[USERS_MAX];
    query q;
    int n = 0;
    parse_query(filter, sort, &q);
    for (int i = 0; i < db.count; i++) {
        order_rand[i] = (int)next_rand();
        if (matches(&q, &db.users[i]))
            hits[n++] = i;
    }
    sort_query = &q;
    qsort(hits, (size_t)n, sizeof hits[0], compare_users);
    *total = n;
    db.requests++;
    db.count_keys += n;
    int m = n < (int)limit ? n : (int)limit;
    memcpy(out, hits, (size_t)m * sizeof out[0]);
    return m;
}

/* After a page: churn users leave the window (their lac moves to its end). */
static void churn_users(void)
{
    for (int k = 0; k < db.churn; k++) {
        int i = (int)(next_rand() % (unsigned)db.count);
        db.users[i].lac_kind = 0;
        db.users[i].lac = db.churn_to + (int64_t)(next_rand() % 100);
        db.churned[i] = 1;
    }
}

/* ---- driving the engine ---------------------------------------------------------- */

static void key_of(const user *u, window_key *k)
{
    char lac[32];
    const char *text = NULL;
    size_t len = 0;
    if (u->lac_kind == 0) {
        len = (size_t)snprintf(lac, sizeof lac, "%lld", (long long)u->lac);
        text = lac;
    } else if (u->lac_kind == 2) {
        text = "null";
        len = 4;
    }
    assert_int_equal(window_key_set(k, text, len, u->id, strlen(u->id)), WINDOW_OK);
}

/* One page: request, records, page end, cut. Returns the records read. */
static int run_page(window_engine *w)
{
    static int page[1024];
    char filter[WINDOW_FILTER_MAX];
    const char *sort = NULL;
    unsigned limit = 0;
    int64_t total = 0;
    assert_int_equal(window_request(w, filter, sizeof filter, &sort, &limit), WINDOW_OK);
    int n = answer(filter, sort, limit, page, &total);
    for (int i = 0; i < n; i++) {
        window_key k;
        window_action act;
        key_of(&db.users[page[i]], &k);
        assert_int_equal(window_record(w, &k, &act), WINDOW_OK);
        if (act == WINDOW_WRITE_MARK)
            sink.mark = sink.rows;
        sink.log[sink.rows++] = page[i];
    }
    window_outcome out;
    assert_int_equal(window_page_end(w, 1, total, &out), WINDOW_OK);
    if (out.cut) {
        assert_int_equal(out.cut_rows, (unsigned long)(sink.rows - sink.mark));
        sink.rows = sink.mark;
    }
    churn_users();
    return n;
}

/* The rows a run wrote, counted per user. */
static void tally(void)
{
    for (int r = 0; r < sink.rows; r++)
        sink.written[sink.log[r]]++;
}

static int in_window(const user *u, const window_bounds *b)
{
    if (b->all_history)
        return u->lac_kind != 0 || u->lac < b->to || u->lac >= WINDOW_MILLIS_MIN;
    return u->lac_kind == 0 && u->lac >= b->from && u->lac < b->to;
}

static long run_window(window_engine *w)
{
    long pages = 0;
    while (!window_done(w)) {
        (void)run_page(w);
        assert_true(++pages < 100000);
    }
    return pages;
}

/* Every user of the window (as it was at the start) exactly once; churned
 * users at most once; nobody outside the window. */
static void check_exactly_once(const window_bounds *b, const user *before)
{
    tally();
    for (int i = 0; i < db.count; i++) {
        int want = in_window(&before[i], b);
        if (db.churned[i])
            assert_true(sink.written[i] <= want);
        else if (sink.written[i] != want)
            fail_msg("user %d (lac %lld kind %d) written %d times, expected %d", i,
                     (long long)before[i].lac, before[i].lac_kind, sink.written[i], want);
    }
}

static user snapshot[USERS_MAX];

static void sync_and_check(const window_bounds *b, unsigned limit)
{
    window_engine w;
    memcpy(snapshot, db.users, sizeof snapshot);
    window_start(&w, b, limit, 4);
    (void)run_window(&w);
    check_exactly_once(b, snapshot);
}

/* ---- scenarios ---------------------------------------------------------------------- */

static const window_bounds INCREMENTAL = {1000, 5000, 0};
static const window_bounds ALL_HISTORY = {0, 5000, 1};

/* Many users per second: ties split across pages at every page size. */
static void ties_split_across_pages(void **state)
{
    (void)state;
    for (unsigned limit = 1; limit <= 12; limit++) {
        reset(limit);
        for (int i = 0; i < 400; i++)
            add_user(0, 900 + (int64_t)(next_rand() % 150) * 30);
        sync_and_check(&INCREMENTAL, limit);
    }
}

/* One second holds far more users than a page: read by _id. */
static void tie_group_larger_than_a_page(void **state)
{
    (void)state;
    reset(7);
    for (int i = 0; i < 50; i++)
        add_user(0, 1500 + i);
    for (int i = 0; i < 700; i++)
        add_user(0, 2000);
    for (int i = 0; i < 50; i++)
        add_user(0, 2001 + i);
    sync_and_check(&INCREMENTAL, 25);
    reset(8); /* the whole window is one second */
    for (int i = 0; i < 333; i++)
        add_user(0, 1000);
    sync_and_check(&INCREMENTAL, 10);
}

/* Users leave the window after every page, the last written ones too. */
static void users_leave_the_window(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 5; seed++) {
        reset(seed * 11);
        for (int i = 0; i < 2000; i++)
            add_user(0, 1000 + (int64_t)(next_rand() % 4000));
        db.churn = 40;
        db.churn_to = INCREMENTAL.to;
        window_engine w;
        memcpy(snapshot, db.users, sizeof snapshot);
        window_start(&w, &INCREMENTAL, 50, 4);
        long pages = run_window(&w);
        check_exactly_once(&INCREMENTAL, snapshot);
        /* leaving users cost nothing: about one request per page of users */
        assert_true(pages <= 2000 / 50 * 2 + 10);
    }
}

/* The engine's own cut-off write: the last written user leaves at once. */
static void last_written_user_leaves(void **state)
{
    (void)state;
    reset(3);
    for (int i = 0; i < 300; i++)
        add_user(0, 1000 + i / 3);
    window_engine w;
    memcpy(snapshot, db.users, sizeof snapshot);
    window_start(&w, &INCREMENTAL, 20, 4);
    while (!window_done(&w)) {
        (void)run_page(&w);
        if (sink.rows > 0) { /* the last row written leaves the window */
            user *u = &db.users[sink.log[sink.rows - 1]];
            u->lac = INCREMENTAL.to + 5;
            db.churned[sink.log[sink.rows - 1]] = 1;
        }
    }
    check_exactly_once(&INCREMENTAL, snapshot);
}

static void empty_windows(void **state)
{
    (void)state;
    reset(4);
    window_engine w;
    sync_and_check(&INCREMENTAL, 10); /* no users at all */
    for (int i = 0; i < 20; i++)
        add_user(0, 100 + i); /* all before the window */
    sync_and_check(&INCREMENTAL, 10);
    const window_bounds nothing = {5000, 5000, 0};
    window_start(&w, &nothing, 10, 4);
    assert_true(window_done(&w));
}

/* All history: users without lac, with lac null, with 13-digit lac. */
static void missing_null_and_millisecond_lac(void **state)
{
    (void)state;
    for (unsigned limit = 1; limit <= 40; limit += 13) {
        reset(limit + 100);
        for (int i = 0; i < 500; i++) {
            unsigned r = next_rand() % 10;
            if (r == 0)
                add_user(1, 0);
            else if (r == 1)
                add_user(2, 0);
            else if (r == 2)
                add_user(0, 1717000000000LL + (int64_t)(next_rand() % 50) * 1000);
            else if (r == 3)
                add_user(0, 6000 + (int64_t)(next_rand() % 50)); /* after the window */
            else
                add_user(0, -20 + (int64_t)(next_rand() % 300) * 17);
        }
        sync_and_check(&ALL_HISTORY, limit);
    }
}

/* Save the position after every page; resuming from each one with the rows
 * committed up to it gives every user exactly once. */
static void resume_from_every_position(void **state)
{
    (void)state;
    static window_position saved[4096];
    static int rows_at[4096];
    const window_bounds *cases[2] = {&INCREMENTAL, &ALL_HISTORY};
    for (int c = 0; c < 2; c++) {
        reset(40 + (unsigned)c);
        for (int i = 0; i < 600; i++) {
            unsigned r = next_rand() % 12;
            if (r == 0)
                add_user(1 + (int)(next_rand() % 2), 0);
            else if (r == 1)
                add_user(0, 1717000000000LL + (int64_t)(next_rand() % 9));
            else
                add_user(0, 1000 + (int64_t)(next_rand() % 40) * 97);
        }
        const window_bounds *b = cases[c];
        window_engine w;
        window_start(&w, b, 7, 3);
        int n = 0;
        saved[n] = *window_position_of(&w);
        rows_at[n++] = 0;
        while (!window_done(&w)) {
            (void)run_page(&w);
            saved[n] = *window_position_of(&w);
            rows_at[n++] = sink.rows;
            assert_true(n < 4096);
        }
        for (int k = 0; k < n; k++) {
            memset(sink.written, 0, sizeof sink.written);
            sink.rows = rows_at[k]; /* what was committed when position k was saved */
            window_resume(&w, b, &saved[k], 7, 3);
            (void)run_window(&w);
            check_exactly_once(b, db.users);
        }
    }
}

/* A state of release 0.1 (skip paging sorted by lac, _id, users without lac
 * first): resuming after any committed prefix writes the rest exactly once. */
static int legacy_cmp(const void *x, const void *y)
{
    const user *a = &db.users[*(const int *)x], *b = &db.users[*(const int *)y];
    int an = a->lac_kind != 0, bn = b->lac_kind != 0;
    if (an != bn)
        return bn - an;
    if (!an && a->lac != b->lac)
        return a->lac < b->lac ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void legacy_state_resumes(void **state)
{
    (void)state;
    static int order[USERS_MAX];
    const window_bounds *cases[2] = {&INCREMENTAL, &ALL_HISTORY};
    for (int c = 0; c < 2; c++) {
        reset(70 + (unsigned)c);
        for (int i = 0; i < 200; i++)
            add_user(next_rand() % 9 == 0 ? 1 : 0, 1000 + (int64_t)(next_rand() % 30) * 7);
        const window_bounds *b = cases[c];
        int n = 0;
        for (int i = 0; i < db.count; i++)
            if (in_window(&db.users[i], b))
                order[n++] = i;
        qsort(order, (size_t)n, sizeof order[0], legacy_cmp);
        for (int p = 0; p <= n; p++) {
            window_position pos;
            window_engine w;
            const user *last = p > 0 ? &db.users[order[p - 1]] : NULL;
            window_position_legacy(&pos, b, p > 0, last != NULL && last->lac_kind != 0,
                                   last != NULL ? last->lac : 0, last != NULL ? last->id : "");
            memset(sink.written, 0, sizeof sink.written);
            for (int r = 0; r < p; r++)
                sink.log[r] = order[r];
            sink.rows = p;
            window_resume(&w, b, &pos, 6, 3);
            (void)run_window(&w);
            check_exactly_once(b, db.users);
        }
    }
}

/* dbviewer counts every request's filter: with sub-ranges that work stays
 * linear in the window's users. */
static void count_work_is_linear(void **state)
{
    (void)state;
    reset(99);
    for (int i = 0; i < 8000; i++)
        add_user(0, 1000 + (int64_t)(next_rand() % 4000));
    window_engine w;
    memcpy(snapshot, db.users, sizeof snapshot);
    window_start(&w, &INCREMENTAL, 50, 16);
    long pages = run_window(&w);
    check_exactly_once(&INCREMENTAL, snapshot);
    /* one count of the whole window, then sub-ranges of about 16 pages */
    assert_true(db.count_keys <= 8000 + 16L * 50 * pages);
    assert_true(pages <= 8000 / 50 * 3 / 2);
    /* skew: most users in the last tenth of the window */
    reset(98);
    for (int i = 0; i < 8000; i++)
        add_user(0, i % 10 ? 4600 + (int64_t)(next_rand() % 400)
                           : 1000 + (int64_t)(next_rand() % 3600));
    memcpy(snapshot, db.users, sizeof snapshot);
    window_start(&w, &INCREMENTAL, 50, 16);
    pages = run_window(&w);
    check_exactly_once(&INCREMENTAL, snapshot);
    assert_true(db.count_keys <= 30L * 8000);
}

/* ---- the requests' exact shape, keys, and a server that ignores the query ---- */

static void request_shapes(void **state)
{
    (void)state;
    window_engine w;
    char f[WINDOW_FILTER_MAX];
    const char *sort;
    unsigned limit;
    window_outcome out;
    window_action act;
    window_key k;
    window_start(&w, &ALL_HISTORY, 2, 4);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(f, "{\"lac\":null}");
    assert_string_equal(sort, "{\"_id\":1}");
    assert_int_equal(limit, 2);
    assert_int_equal(window_key_set(&k, NULL, 0, "a\"b", 3), WINDOW_OK);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_OK);
    assert_int_equal(window_key_set(&k, "null", 4, "c", 1), WINDOW_OK);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_OK);
    assert_int_equal(window_page_end(&w, 1, 9, &out), WINDOW_OK);
    assert_int_equal(out.cut, 0);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(f, "{\"lac\":null,\"_id\":{\"$gt\":\"c\"}}");
    assert_int_equal(window_page_end(&w, 1, 0, &out), WINDOW_OK);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(f, "{\"lac\":{\"$lt\":5000}}");
    assert_string_equal(sort, "{\"lac\":1}");
    /* a full page of one second: cut whole, then that second by _id */
    assert_int_equal(window_key_set(&k, "1717.25", 7, "x", 1), WINDOW_OK);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_OK);
    assert_int_equal(act, WINDOW_WRITE_MARK);
    assert_int_equal(window_key_set(&k, "1717", 4, "w", 1), WINDOW_OK);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_OK);
    assert_int_equal(act, WINDOW_WRITE);
    assert_int_equal(window_page_end(&w, 1, 100, &out), WINDOW_OK);
    assert_int_equal(out.cut, 1);
    assert_int_equal(out.cut_rows, 2);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(f, "{\"lac\":{\"$gte\":1717,\"$lt\":1718}}");
    assert_string_equal(sort, "{\"_id\":1}");
    assert_int_equal(window_page_end(&w, 1, 0, &out), WINDOW_OK);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_true(strncmp(f, "{\"lac\":{\"$gte\":1718,\"$lt\":", 26) == 0);
    assert_string_equal(sort, "{\"lac\":1}");
    /* the legacy millisecond range is open at the top */
    window_position pos;
    window_position_legacy(&pos, &ALL_HISTORY, 1, 0, 1717000000123LL, "z");
    window_resume(&w, &ALL_HISTORY, &pos, 2, 4);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(
        f, "{\"lac\":{\"$gte\":1717000000123,\"$lt\":1717000000124},\"_id\":{\"$gt\":\"z\"}}");
    assert_int_equal(window_page_end(&w, 1, 0, &out), WINDOW_OK);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(f, "{\"lac\":{\"$gte\":1717000000124}}");
    assert_int_equal(window_page_end(&w, 1, 0, &out), WINDOW_OK);
    assert_true(window_done(&w));
}

static void keys_are_parsed_strictly(void **state)
{
    (void)state;
    window_key k;
    const struct {
        const char *text;
        int ok;
        int64_t second;
    } cases[] = {
        {"1717650000", 1, 1717650000},
        {"1717650000.999", 1, 1717650000},
        {"-0.5", 1, -1},
        {"-3", 1, -3},
        {"1.7e9", 1, 1700000000},
        {"17176500001E-1", 1, 1717650000},
        {"1717650000123", 1, 1717650000123LL},
        {"0", 1, 0},
        {"1e300", 0, 0},
        {"abc", 0, 0},
        {"\"1717650000\"", 0, 0},
        {"", 0, 0},
        {"true", 0, 0},
        {"12a", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        window_status st = window_key_set(&k, cases[i].text, strlen(cases[i].text), "id", 2);
        assert_int_equal(st == WINDOW_OK, cases[i].ok);
        if (cases[i].ok)
            assert_int_equal(k.second, cases[i].second);
    }
    assert_int_equal(window_key_set(&k, "1", 1, "", 0), WINDOW_ERR_KEY);
    char long_id[WINDOW_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id);
    assert_int_equal(window_key_set(&k, "1", 1, long_id, WINDOW_ID_MAX + 1), WINDOW_ERR_KEY);
    assert_int_equal(window_key_set(&k, "1", 1, long_id, WINDOW_ID_MAX), WINDOW_OK);
    assert_int_equal(window_key_set(&k, "1", 1, "a\0b", 3), WINDOW_ERR_KEY);
}

/* A server that ignores the filter or the sort is caught, never trusted. */
static void records_out_of_order_are_refused(void **state)
{
    (void)state;
    window_engine w;
    char f[WINDOW_FILTER_MAX];
    const char *sort;
    unsigned limit;
    window_action act;
    window_key k;
    window_start(&w, &INCREMENTAL, 10, 4);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_USAGE);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    (void)window_key_set(&k, "999", 3, "a", 1); /* before the window */
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER);
    (void)window_key_set(&k, "5000", 4, "a", 1); /* at its end */
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER);
    (void)window_key_set(&k, NULL, 0, "a", 1); /* no lac */
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER);
    (void)window_key_set(&k, "2000", 4, "a", 1);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_OK);
    (void)window_key_set(&k, "1999", 4, "b", 1); /* not sorted */
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER);
    /* by _id: strictly ascending after the position */
    window_start(&w, &ALL_HISTORY, 10, 4);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    (void)window_key_set(&k, NULL, 0, "m", 1);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_OK);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER); /* the same _id again */
    (void)window_key_set(&k, NULL, 0, "l", 1);
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER);
    (void)window_key_set(&k, "5", 1, "n", 1); /* has a lac */
    assert_int_equal(window_record(&w, &k, &act), WINDOW_ERR_ORDER);
    /* an _id that needs escaping cannot break out of the filter */
    window_position pos;
    window_position_legacy(&pos, &ALL_HISTORY, 1, 1, 0, "x\"},\"$where\":\"1\\\n");
    window_resume(&w, &ALL_HISTORY, &pos, 10, 4);
    assert_int_equal(window_request(&w, f, sizeof f, &sort, &limit), WINDOW_OK);
    assert_string_equal(
        f, "{\"lac\":null,\"_id\":{\"$gt\":\"x\\\"},\\\"$where\\\":\\\"1\\\\\\u000a\"}}");
    assert_int_equal(window_request(&w, f, 20, &sort, &limit), WINDOW_ERR_FILTER_LONG);
    assert_string_equal(window_strerror(WINDOW_ERR_ORDER),
                        "a user outside the requested range or order");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ties_split_across_pages),
        cmocka_unit_test(tie_group_larger_than_a_page),
        cmocka_unit_test(users_leave_the_window),
        cmocka_unit_test(last_written_user_leaves),
        cmocka_unit_test(empty_windows),
        cmocka_unit_test(missing_null_and_millisecond_lac),
        cmocka_unit_test(resume_from_every_position),
        cmocka_unit_test(legacy_state_resumes),
        cmocka_unit_test(count_work_is_linear),
        cmocka_unit_test(request_shapes),
        cmocka_unit_test(keys_are_parsed_strictly),
        cmocka_unit_test(records_out_of_order_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
