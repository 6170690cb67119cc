/*
 * window.c - the users window engine (contract in window.h).
 *
 * The position moves only at window_page_end, and only past records that
 * can never come back in a later request of this window: in a SECONDS or
 * MILLIS range past the lac seconds a page holds completely (a full page's
 * last second may continue in the next page, so it is cut and read again);
 * in a tie second or the NULL range past the last _id (sorted by _id, a
 * unique key). Every record is checked against the request it answers, so
 * a server that ignored the filter or the sort is an error, never a user
 * silently skipped or written twice.
 */
#include "window.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

/* Largest lac second a key may hold: far past any 13-digit millisecond
 * value, and small enough that lo + span never overflows. */
#define WINDOW_SECOND_MAX 100000000000000000LL

/* Sub-ranges grow at most this many times from one request to the next. */
#define WINDOW_GROWTH 4

const char *window_strerror(window_status status)
{
    switch (status) {
    case WINDOW_OK:
        return "ok";
    case WINDOW_ERR_KEY:
        return "a user whose _id or lac cannot be a paging position";
    case WINDOW_ERR_ORDER:
        return "a user outside the requested range or order";
    case WINDOW_ERR_FILTER_LONG:
        return "request filter longer than WINDOW_FILTER_MAX";
    case WINDOW_ERR_USAGE:
        return "window engine called out of order";
    }
    return "unknown window status";
}

/* ---- positions ------------------------------------------------------------------------------ */

/* The first position of a range. */
static void window_enter(window_position *pos, const window_bounds *b, window_range range)
{
    memset(pos, 0, sizeof *pos);
    pos->range = range;
    if (range == WINDOW_RANGE_SECONDS && !b->all_history) {
        pos->has_lo = 1;
        pos->lo = b->from;
        if (b->from >= b->to)
            pos->range = WINDOW_RANGE_DONE;
    } else if (range == WINDOW_RANGE_MILLIS) {
        pos->has_lo = 1;
        pos->lo = WINDOW_MILLIS_MIN;
    }
}

/* Moves to the range after the current one. */
static void window_next_range(window_engine *w)
{
    window_range next = WINDOW_RANGE_DONE;
    if (w->pos.range == WINDOW_RANGE_NULL)
        next = WINDOW_RANGE_SECONDS;
    else if (w->pos.range == WINDOW_RANGE_SECONDS && w->bounds.all_history)
        next = WINDOW_RANGE_MILLIS;
    window_enter(&w->pos, &w->bounds, next);
}

static void window_init(window_engine *w, const window_bounds *bounds, unsigned limit,
                        unsigned subrange_pages)
{
    memset(w, 0, sizeof *w);
    w->bounds = *bounds;
    w->limit = limit > 0 ? limit : 1;
    w->subrange_pages = subrange_pages > 0 ? subrange_pages : 1;
}

void window_start(window_engine *w, const window_bounds *bounds, unsigned limit,
                  unsigned subrange_pages)
{
    window_init(w, bounds, limit, subrange_pages);
    window_enter(&w->pos, bounds, bounds->all_history ? WINDOW_RANGE_NULL : WINDOW_RANGE_SECONDS);
}

void window_resume(window_engine *w, const window_bounds *bounds, const window_position *pos,
                   unsigned limit, unsigned subrange_pages)
{
    window_init(w, bounds, limit, subrange_pages);
    w->pos = *pos;
}

void window_position_legacy(window_position *pos, const window_bounds *bounds, int has_last,
                            int last_lac_null, int64_t last_lac, const char *last_id)
{
    window_enter(pos, bounds, bounds->all_history ? WINDOW_RANGE_NULL : WINDOW_RANGE_SECONDS);
    if (!has_last || (last_lac_null && !bounds->all_history))
        return;
    /* 0.1 sorted by lac then _id, users without lac first: everything up to
     * the last committed (lac, _id) was written. */
    pos->has_after = 1;
    (void)snprintf(pos->after_id, sizeof pos->after_id, "%s", last_id);
    if (last_lac_null)
        return;
    pos->range = bounds->all_history && last_lac >= WINDOW_MILLIS_MIN ? WINDOW_RANGE_MILLIS
                                                                      : WINDOW_RANGE_SECONDS;
    pos->has_lo = 1;
    pos->lo = last_lac;
    pos->tie = 1;
}

int window_done(const window_engine *w)
{
    return w->pos.range == WINDOW_RANGE_DONE;
}

const window_position *window_position_of(const window_engine *w)
{
    return &w->pos;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* A bounded text builder: overflow is sticky and reported once at the end. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
} window_text;

static void window_put(window_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->overflow || t->len + n >= t->cap) {
        t->overflow = 1;
        return;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

static void window_put_i64(window_text *t, int64_t v)
{
    char num[24];
    (void)snprintf(num, sizeof num, "%lld", (long long)v);
    window_put(t, num);
}

/* A JSON string of an _id (quotes, backslashes and control bytes escaped). */
static void window_put_id(window_text *t, const char *id)
{
    char esc[8];
    window_put(t, "\"");
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            (void)snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p < 0x20)
            (void)snprintf(esc, sizeof esc, "\\u%04x", *p);
        else
            (void)snprintf(esc, sizeof esc, "%c", *p);
        window_put(t, esc);
    }
    window_put(t, "\"");
}

/* ,"_id":{"$gt":"<after>"} when continuing after an _id. */
static void window_put_after(window_text *t, const window_position *pos)
{
    if (!pos->has_after)
        return;
    window_put(t, ",\"_id\":{\"$gt\":");
    window_put_id(t, pos->after_id);
    window_put(t, "}");
}

/* Picks the upper bound of a SECONDS or MILLIS request. */
static void window_choose_hi(window_engine *w)
{
    window_position *pos = &w->pos;
    int range_has_hi = pos->range == WINDOW_RANGE_SECONDS;
    if (pos->sub_hi <= pos->lo || !pos->has_lo)
        pos->sub_hi = pos->has_lo && pos->span > 0 ? pos->lo + pos->span : 0;
    if (range_has_hi && (pos->sub_hi == 0 || pos->sub_hi >= w->bounds.to))
        pos->sub_hi = 0; /* the rest of the range */
    w->req_has_hi = range_has_hi || pos->sub_hi != 0;
    w->req_hi = pos->sub_hi != 0 ? pos->sub_hi : w->bounds.to;
}

window_status window_request(window_engine *w, char *filter, size_t cap, const char **sort,
                             unsigned *limit)
{
    window_position *pos = &w->pos;
    window_text t = {filter, cap, 0, 0};
    if (pos->range == WINDOW_RANGE_DONE || cap == 0)
        return WINDOW_ERR_USAGE;
    filter[0] = '\0';
    if (pos->range == WINDOW_RANGE_NULL) {
        window_put(&t, "{\"lac\":null");
        window_put_after(&t, pos);
        *sort = "{\"_id\":1}";
    } else if (pos->tie) {
        window_put(&t, "{\"lac\":{\"$gte\":");
        window_put_i64(&t, pos->lo);
        window_put(&t, ",\"$lt\":");
        window_put_i64(&t, pos->lo + 1);
        window_put(&t, "}");
        window_put_after(&t, pos);
        *sort = "{\"_id\":1}";
    } else {
        window_choose_hi(w);
        window_put(&t, "{\"lac\":{");
        if (pos->has_lo) {
            window_put(&t, "\"$gte\":");
            window_put_i64(&t, pos->lo);
        }
        if (w->req_has_hi) {
            window_put(&t, pos->has_lo ? ",\"$lt\":" : "\"$lt\":");
            window_put_i64(&t, w->req_hi);
        }
        window_put(&t, "}");
        *sort = "{\"lac\":1}";
    }
    window_put(&t, "}");
    if (t.overflow)
        return WINDOW_ERR_FILTER_LONG;
    *limit = w->limit;
    w->in_flight = 1;
    w->req = *pos;
    w->records = 0;
    w->seconds = 0;
    w->tail_rows = 0;
    return WINDOW_OK;
}

/* ---- records --------------------------------------------------------------------------------- */

/* floor() of a JSON number's text; 0 when it is not one or out of range. */
static int window_parse_second(const char *s, size_t len, int64_t *out)
{
    text_integer v;
    if (!text_json_integer(s, len, &v) || v.digits > 19 || v.magnitude >= WINDOW_SECOND_MAX)
        return 0;
    int64_t whole = (int64_t)v.magnitude;
    *out = v.negative ? -whole - (v.fraction ? 1 : 0) : whole;
    return 1;
}

window_status window_key_set(window_key *key, const char *lac, size_t lac_len, const char *id,
                             size_t id_len)
{
    memset(key, 0, sizeof *key);
    if (id_len == 0 || id_len > WINDOW_ID_MAX || memchr(id, '\0', id_len) != NULL)
        return WINDOW_ERR_KEY;
    memcpy(key->id, id, id_len);
    key->id_len = id_len;
    if (lac == NULL || (lac_len == 4 && memcmp(lac, "null", 4) == 0)) {
        key->lac_null = 1;
        return WINDOW_OK;
    }
    return window_parse_second(lac, lac_len, &key->second) ? WINDOW_OK : WINDOW_ERR_KEY;
}

/* Binary (MongoDB's simple collation) order of two _ids. */
static int window_id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* NULL range and tie seconds: _ids strictly ascending after the position. */
static int window_id_in_order(const window_engine *w, const window_key *key)
{
    if (w->records > 0)
        return window_id_cmp(w->last.id, w->last.id_len, key->id, key->id_len) < 0;
    if (!w->req.has_after)
        return 1;
    return window_id_cmp(w->req.after_id, strlen(w->req.after_id), key->id, key->id_len) < 0;
}

/* SECONDS and MILLIS: inside [lo, hi) and never before the previous record. */
static int window_second_in_order(const window_engine *w, const window_key *key)
{
    if (key->lac_null)
        return 0;
    if (w->req.has_lo && key->second < w->req.lo)
        return 0;
    if (w->req_has_hi && key->second >= w->req_hi)
        return 0;
    return w->records == 0 || key->second >= w->last.second;
}

window_status window_record(window_engine *w, const window_key *key, window_action *action)
{
    const window_position *req = &w->req;
    *action = WINDOW_WRITE;
    if (!w->in_flight)
        return WINDOW_ERR_USAGE;
    if (req->range == WINDOW_RANGE_NULL) {
        if (!key->lac_null || !window_id_in_order(w, key))
            return WINDOW_ERR_ORDER;
    } else if (req->tie) {
        if (key->lac_null || key->second != req->lo || !window_id_in_order(w, key))
            return WINDOW_ERR_ORDER;
    } else {
        if (!window_second_in_order(w, key))
            return WINDOW_ERR_ORDER;
        if (w->records == 0 || key->second != w->last.second) {
            *action = WINDOW_WRITE_MARK;
            w->seconds++;
            w->tail_rows = 0;
        }
        w->tail_rows++;
    }
    if (w->records == 0)
        w->first_second = key->second;
    w->records++;
    w->last = *key;
    return WINDOW_OK;
}

/* ---- pages ----------------------------------------------------------------------------------- */

/* The next sub-range's length from what this request saw: about
 * subrange_pages pages at the density the server's count reports (or, for
 * a range open at the top, the density of the page itself). */
static void window_update_span(window_engine *w, int has_total, int64_t total)
{
    double target = (double)w->subrange_pages * (double)w->limit;
    int64_t lo = w->req.has_lo ? w->req.lo : w->first_second;
    int64_t prev = w->req.has_lo && w->req_has_hi ? w->req_hi - w->req.lo : 0;
    double est = 0;
    if (w->records > 0 && has_total && total > 0 && w->req_has_hi) {
        double len = (double)(w->req_hi > lo ? w->req_hi - lo : 1);
        est = len * target / (double)total;
    } else if (w->records >= w->limit) {
        double len = (double)(w->last.second - w->first_second + 1);
        est = len * target / (double)w->records;
    } else if (prev > 0) {
        est = (double)prev * WINDOW_GROWTH;
    }
    if (prev > 0 && est > (double)prev * WINDOW_GROWTH)
        est = (double)prev * WINDOW_GROWTH;
    if (est > (double)WINDOW_SECOND_MAX)
        est = (double)WINDOW_SECOND_MAX;
    if (est == 0 && prev == 0) {
        w->pos.span = 0; /* nothing learned: keep reading the whole range */
        return;
    }
    w->pos.span = est < 1 ? 1 : (int64_t)est;
}

/* SECONDS or MILLIS, not a tie second: cut a full page before its last
 * second, or move past an exhausted sub-range. */
static void window_range_page_end(window_engine *w, int has_total, int64_t total,
                                  window_outcome *out)
{
    window_position *pos = &w->pos;
    window_update_span(w, has_total, total);
    if (w->records < w->limit) {
        int range_end =
            !w->req_has_hi || (pos->range == WINDOW_RANGE_SECONDS && w->req_hi >= w->bounds.to);
        if (range_end) {
            window_next_range(w);
            return;
        }
        pos->has_lo = 1;
        pos->lo = w->req_hi;
        pos->sub_hi = 0;
        if (pos->range == WINDOW_RANGE_MILLIS)
            pos->span = 0; /* open at the top: the next request reads to its end */
        return;
    }
    out->cut = 1;
    out->cut_rows = w->seconds >= 2 ? w->tail_rows : w->records;
    pos->has_lo = 1;
    pos->lo = w->last.second;
    pos->tie = w->seconds < 2; /* a whole page of one second: read it by _id */
    pos->has_after = 0;
    int64_t next_hi = pos->span > 0 ? pos->lo + pos->span : 0;
    if (w->req_has_hi && (next_hi == 0 || next_hi > w->req_hi))
        next_hi = w->req_hi;
    pos->sub_hi = next_hi;
}

window_status window_page_end(window_engine *w, int has_total, int64_t total,
                              window_outcome *outcome)
{
    window_position *pos = &w->pos;
    memset(outcome, 0, sizeof *outcome);
    if (!w->in_flight)
        return WINDOW_ERR_USAGE;
    w->in_flight = 0;
    int full = w->records >= w->limit;
    if (pos->range == WINDOW_RANGE_NULL || pos->tie) {
        if (full) {
            pos->has_after = 1;
            memcpy(pos->after_id, w->last.id, w->last.id_len + 1);
        } else if (pos->range == WINDOW_RANGE_NULL) {
            window_next_range(w);
        } else {
            pos->tie = 0;
            pos->has_after = 0;
            pos->lo++;
            if (pos->range == WINDOW_RANGE_SECONDS && pos->lo >= w->bounds.to)
                window_next_range(w);
        }
        return WINDOW_OK;
    }
    window_range_page_end(w, has_total, total, outcome);
    return WINDOW_OK;
}

void window_page_reset(window_engine *w)
{
    w->records = 0;
    w->seconds = 0;
    w->tail_rows = 0;
}
