/*
 * test_relay.c - a body handed to its consumer on a second thread.
 *
 * Every test runs with the worker and without it (relay_start threaded = 0):
 * the consumer must see the same bytes in the same order, in pieces of at
 * most RELAY_PIECE, and a stop must drop the rest of the body and nothing
 * of the next one. Bytes come from a generator the consumer replays, so a
 * byte lost, repeated or reordered anywhere in the ring is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "relay.h"

/* The n-th byte of body b. */
static uint8_t body_byte(unsigned b, uint64_t n)
{
    uint64_t x = (n + 1) * 0x9E3779B97F4A7C15u ^ (uint64_t)b * 0xC2B2AE3D27D4EB4Fu;
    x ^= x >> 29;
    return (uint8_t)(x * 0xBF58476D1CE4E5B9u >> 56);
}

typedef struct {
    unsigned body;          /* which body the bytes belong to */
    uint64_t seen;          /* bytes of that body consumed */
    uint64_t stop_at;       /* stop once this many were seen (0: never) */
    unsigned long calls;    /* consumer calls */
    unsigned long bad;      /* bytes that were not the expected ones */
    size_t largest;         /* largest piece */
    unsigned slow_every;    /* sleep 1 ms every this many calls (0: never) */
    relay *hold_until_full; /* first call waits until this relay's pusher found it full */
} consumer;

/* Waits (10 s at most) until the pusher of r has found the ring full; reads
 * the statistic under the relay's own lock, as the pusher writes it. */
static void wait_for_a_full_ring(relay *r)
{
    for (int i = 0; i < 10000; i++) {
        port_worker_lock(&r->worker);
        unsigned long waits = r->full_waits;
        port_worker_unlock(&r->worker);
        if (waits > 0)
            return;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

static int consume(void *user, const uint8_t *data, size_t len)
{
    consumer *c = user;
    if (c->calls++ == 0 && c->hold_until_full != NULL)
        wait_for_a_full_ring(c->hold_until_full);
    if (len > c->largest)
        c->largest = len;
    for (size_t i = 0; i < len; i++)
        if (data[i] != body_byte(c->body, c->seen + i))
            c->bad++;
    c->seen += len;
    if (c->slow_every != 0 && c->calls % c->slow_every == 0) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return c->stop_at != 0 && c->seen >= c->stop_at;
}

static relay the_relay; /* large: not on the stack */

/* Ends the worker even when a test failed half-way. */
static int stop_worker(void **state)
{
    (void)state;
    relay_stop(&the_relay);
    return 0;
}

/* Pushes `total` bytes of body b in fragments of 1..max_piece bytes (seeded);
 * returns the status of the last push. */
static relay_status push_body(relay *r, unsigned b, uint64_t total, size_t max_piece, unsigned seed)
{
    static uint8_t buf[300 * 1024];
    uint64_t sent = 0;
    relay_status st = RELAY_OK;
    srand(seed);
    while (sent < total && st == RELAY_OK) {
        size_t n = 1 + (size_t)rand() % max_piece;
        if (n > total - sent)
            n = (size_t)(total - sent);
        if (n > sizeof buf)
            n = sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = body_byte(b, sent + i);
        st = relay_push(r, buf, n);
        sent += n;
    }
    return st;
}

static void bodies_arrive_whole(int threaded)
{
    consumer c = {0};
    relay *r = &the_relay;
    int started = relay_start(r, consume, &c, threaded);
    assert_int_equal(started, threaded);
    for (unsigned b = 0; b < 4; b++) {
        c.body = b;
        c.seen = 0;
        uint64_t total = 1000000u + 77777u * b;
        size_t max_piece = b == 1 ? 3 : b == 2 ? 3 * RELAY_RING_SIZE / 2 : 20000;
        assert_int_equal(push_body(r, b, b == 1 ? 50000 : total, max_piece, b), RELAY_OK);
        assert_int_equal(relay_drain(r), RELAY_OK);
        assert_int_equal(c.seen, b == 1 ? 50000 : total); /* all of it, after the drain */
        assert_int_equal(c.bad, 0);
    }
    if (threaded)
        assert_true(c.largest <= RELAY_PIECE); /* inline, a push is one piece */
    relay_push(r, (const uint8_t *)"", 0);     /* nothing to hand on */
    assert_int_equal(relay_drain(r), RELAY_OK);
    relay_stop(r);
    relay_stop(r); /* twice is harmless */
}

static void bodies_arrive_whole_threaded(void **state)
{
    (void)state;
    bodies_arrive_whole(1);
}

static void bodies_arrive_whole_inline(void **state)
{
    (void)state;
    bodies_arrive_whole(0);
}

/* The consumer stops a body: the rest is dropped, the next body is whole. */
static void a_stop_drops_the_rest(int threaded)
{
    consumer c = {0};
    relay *r = &the_relay;
    assert_int_equal(relay_start(r, consume, &c, threaded), threaded);
    c.body = 7;
    c.stop_at = 123456;
    relay_status last = push_body(r, 7, 5 * RELAY_RING_SIZE, 4000, 1);
    if (!threaded)
        assert_int_equal(last, RELAY_ERR_STOPPED); /* at once */
    assert_int_equal(relay_drain(r), RELAY_ERR_STOPPED);
    /* consumed up to the piece that said stop, never beyond */
    assert_true(c.seen >= c.stop_at);
    assert_true(c.seen < c.stop_at + RELAY_PIECE);
    assert_int_equal(c.bad, 0);
    unsigned long calls = c.calls;
    assert_int_equal(relay_push(r, (const uint8_t *)"x", 0), RELAY_OK);
    assert_int_equal(c.calls, calls);

    c.stop_at = 0;
    c.body = 8;
    c.seen = 0;
    assert_int_equal(push_body(r, 8, 400000, 9000, 2), RELAY_OK);
    assert_int_equal(relay_drain(r), RELAY_OK);
    assert_int_equal(c.seen, 400000);
    assert_int_equal(c.bad, 0);
    relay_stop(r);
}

static void a_stop_drops_the_rest_threaded(void **state)
{
    (void)state;
    a_stop_drops_the_rest(1);
}

static void a_stop_drops_the_rest_inline(void **state)
{
    (void)state;
    a_stop_drops_the_rest(0);
}

/* A stop seen by the pusher: its push says so, and later pushes too. */
static void pushes_after_a_stop_say_so(void **state)
{
    (void)state;
    consumer c = {0};
    relay *r = &the_relay;
    assert_int_equal(relay_start(r, consume, &c, 1), 1);
    c.stop_at = 1;
    relay_status st = RELAY_OK;
    uint8_t byte = body_byte(0, 0);
    /* the ring fills up once the worker stopped consuming: a push must
     * then see the stop rather than wait for room forever */
    assert_int_equal(relay_push(r, &byte, 1), RELAY_OK);
    for (int i = 0; i < 100000 && st == RELAY_OK; i++)
        st = push_body(r, 99, RELAY_RING_SIZE, 1000, (unsigned)i);
    assert_int_equal(st, RELAY_ERR_STOPPED);
    assert_int_equal(relay_push(r, &byte, 1), RELAY_ERR_STOPPED);
    assert_int_equal(relay_drain(r), RELAY_ERR_STOPPED);
    assert_true(c.seen >= 1 && c.seen <= RELAY_PIECE); /* the piece that held the byte */
    relay_stop(r);
}

/* Both sides wait at times: a consumer held back fills the ring (the pusher
 * waits), a slow pusher empties it (the worker waits); the bytes stay whole.
 * The consumer's first call waits for the pusher's wait, so the first half
 * does not depend on how the two threads are scheduled. */
static void both_sides_wait(void **state)
{
    (void)state;
    consumer c = {0};
    relay *r = &the_relay;
    assert_int_equal(relay_start(r, consume, &c, 1), 1);
    c.hold_until_full = r;
    c.slow_every = 8;
    c.body = 3;
    assert_int_equal(push_body(r, 3, 8 * RELAY_RING_SIZE, 60000, 3), RELAY_OK);
    assert_int_equal(relay_drain(r), RELAY_OK);
    assert_true(r->full_waits > 0);
    c.slow_every = 0;
    c.body = 4;
    c.seen = 0;
    for (int i = 0; i < 20; i++) {
        uint8_t b = body_byte(4, (uint64_t)i);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        assert_int_equal(relay_push(r, &b, 1), RELAY_OK);
    }
    assert_int_equal(relay_drain(r), RELAY_OK);
    assert_true(r->empty_waits > 0);
    assert_int_equal(c.seen, 20);
    assert_int_equal(c.bad, 0);
    relay_stop(r);
}

static void words_for_statuses(void **state)
{
    (void)state;
    assert_string_equal(relay_strerror(RELAY_OK), "ok");
    assert_string_equal(relay_strerror(RELAY_ERR_STOPPED), "stopped by the consumer");
    assert_string_equal(relay_strerror((relay_status)99), "unknown relay status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(bodies_arrive_whole_threaded, stop_worker),
        cmocka_unit_test_teardown(bodies_arrive_whole_inline, stop_worker),
        cmocka_unit_test_teardown(a_stop_drops_the_rest_threaded, stop_worker),
        cmocka_unit_test_teardown(a_stop_drops_the_rest_inline, stop_worker),
        cmocka_unit_test_teardown(pushes_after_a_stop_say_so, stop_worker),
        cmocka_unit_test_teardown(both_sides_wait, stop_worker),
        cmocka_unit_test(words_for_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
