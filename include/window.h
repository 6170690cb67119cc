/*
 * window.h - the users window engine: which /o/db request comes next, and
 * what to do with each user it returns. Sans-I/O: no network, no files, no
 * globals; the caller (src/agent.c) fetches pages, writes rows and commits.
 *
 * A window is one app's users with last activity (lac) in [from, to); an
 * all-history window is every user with lac < to, a legacy millisecond
 * lac (>= 10^12) or no lac (missing or null). It is read in ranges, each
 * with requests a MongoDB index answers (README "How users are paged"):
 *
 *   NULL     {"lac":null}, sort {"_id":1}, continuing after the last _id
 *            (all history only; the lac index holds these users under null)
 *   SECONDS  {"lac":{"$gte":lo,"$lt":hi}}, sort {"lac":1}: keyset paging on
 *            the {lac:-1} index, no skip. A long range is read in
 *            sub-ranges of about WINDOW_SUBRANGE_PAGES pages, sized from
 *            the "total" the server reports, so that dbviewer's count of
 *            every request's filter stays bounded too.
 *   MILLIS   {"lac":{"$gte":1000000000000}} the same way (all history only)
 *
 * Ties. MongoDB returns users that share a sort key in no guaranteed order,
 * so positions are never taken inside a group of users sharing one lac
 * second: a full page is cut before the records of its last second (the
 * caller drops those rows again) and the next request starts at that
 * second. Only when a whole page is one second is that second read on its
 * own, {"lac":{"$gte":s,"$lt":s+1},"_id":{"$gt":last}} sorted by _id.
 *
 * Every position the engine reaches (window_position) can be saved; a
 * window resumed from it reads every user of the window not yet read
 * exactly once. Users whose lac moves on during the run leave the window
 * (lac only grows, and the window ends at the run start); they cost
 * nothing and are read by the next run.
 *
 * Calls, per page:
 *   window_request     the next request (filter, sort, limit)
 *   window_record      each record's key, in order: write it or fail
 *   window_page_end    the page is complete: cut or not, next position
 * and window_done between pages.
 */
#ifndef COUNTLY_SYNC_WINDOW_H
#define COUNTLY_SYNC_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

/* Legacy millisecond lac values start here (13 digits). */
#define WINDOW_MILLIS_MIN 1000000000000LL

typedef enum {
    WINDOW_OK = 0,
    WINDOW_ERR_KEY,         /* a record's _id or lac cannot be a position */
    WINDOW_ERR_ORDER,       /* a record outside the requested range or order */
    WINDOW_ERR_FILTER_LONG, /* the request does not fit the caller's buffer */
    WINDOW_ERR_USAGE        /* a call out of order (no request in flight, ...) */
} window_status;

/* The ranges of a window, read in this order. */
typedef enum {
    WINDOW_RANGE_NULL = 0, /* all history: users without lac */
    WINDOW_RANGE_SECONDS,  /* lac in [from, to) (all history: lac < to) */
    WINDOW_RANGE_MILLIS,   /* all history: lac >= WINDOW_MILLIS_MIN */
    WINDOW_RANGE_DONE
} window_range;

/* Which users a window holds. */
typedef struct {
    int64_t from; /* first lac second (ignored with all_history) */
    int64_t to;   /* end of the window (exclusive): the run start */
    int all_history;
} window_bounds;

/* Where reading stands: everything before it is read, nothing after it. */
typedef struct {
    window_range range;
    int has_lo;     /* SECONDS/MILLIS: lo is set (all history starts open) */
    int64_t lo;     /* next lac second to read (inclusive) */
    int64_t sub_hi; /* end of the current sub-range (exclusive); 0 = not chosen */
    int64_t span;   /* seconds of the next sub-range; 0 = the whole range */
    int tie;        /* reading the one second lo by _id */
    int has_after;  /* NULL or tie: continue after after_id */
    char after_id[WINDOW_ID_MAX + 1];
} window_position;

/* A record's sort key. */
typedef struct {
    int lac_null;   /* lac missing or null */
    int64_t second; /* floor(lac) otherwise */
    size_t id_len;
    char id[WINDOW_ID_MAX + 1];
} window_key;

/* What to do with one record. */
typedef enum {
    WINDOW_WRITE = 0, /* write its row */
    WINDOW_WRITE_MARK /* a new lac second begins: remember the output position
                         before writing its row (window_page_end may cut there) */
} window_action;

/* What a complete page came to. */
typedef struct {
    int cut;                /* drop the rows written since the last mark */
    unsigned long cut_rows; /* how many rows that drops */
} window_outcome;

/* One window being read. */
typedef struct {
    window_bounds bounds;
    window_position pos; /* committed-to-be position (after window_page_end) */
    unsigned limit;      /* records per page */
    unsigned subrange_pages;
    /* the request in flight */
    int in_flight;
    window_position req; /* the position it was made from */
    int req_has_hi;
    int64_t req_hi; /* its upper bound (exclusive) */
    /* the page so far */
    unsigned long records;
    unsigned long seconds;   /* distinct lac seconds seen */
    unsigned long tail_rows; /* records of the last second seen */
    int64_t first_second;
    window_key last;
} window_engine;

/* Words for a status. */
const char *window_strerror(window_status status);

/* Starts reading a window from its beginning, limit records per page
 * (>= 1), sub-ranges of about subrange_pages pages (>= 1). */
void window_start(window_engine *w, const window_bounds *bounds, unsigned limit,
                  unsigned subrange_pages);

/* Resumes a window at a position window_position_of saved earlier. */
void window_resume(window_engine *w, const window_bounds *bounds, const window_position *pos,
                   unsigned limit, unsigned subrange_pages);

/* The position of the window for a state written by release 0.1 (skip
 * paging sorted by lac, _id): continue after the last committed record,
 * (last_lac or no lac when last_lac_null, last_id); has_last = 0 when no
 * record of the window was committed. */
void window_position_legacy(window_position *pos, const window_bounds *bounds, int has_last,
                            int last_lac_null, int64_t last_lac, const char *last_id);

/* 1 when every range of the window has been read. */
int window_done(const window_engine *w);

/* The current position (valid between pages: save it after a commit). */
const window_position *window_position_of(const window_engine *w);

/* Writes the next request's filter (JSON, NUL-terminated) into filter
 * (cap bytes) and points *sort at its sort document; *limit is the page
 * size. Starts a page. */
window_status window_request(window_engine *w, char *filter, size_t cap, const char **sort,
                             unsigned *limit);

/* Fills a key from a record's raw lac value (JSON text; NULL when the
 * record has no lac) and its decoded _id. */
window_status window_key_set(window_key *key, const char *lac, size_t lac_len, const char *id,
                             size_t id_len);

/* Takes the next record of the page (in the server's order); checks that it
 * is inside the request's range and order. */
window_status window_record(window_engine *w, const window_key *key, window_action *action);

/* Ends the page: total is the server's count of the request's filter
 * (has_total 0 when it sent none). Says whether to cut, and moves the
 * position past what this page read for good. */
window_status window_page_end(window_engine *w, int has_total, int64_t total,
                              window_outcome *outcome);

/* Forgets the records of the page in flight: its attempt failed and the
 * same request is sent again. The position stays. */
void window_page_reset(window_engine *w);

#endif /* COUNTLY_SYNC_WINDOW_H */
