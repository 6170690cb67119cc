/*
 * relay.c - a body handed to its consumer on a second thread (relay.h).
 *
 * The ring holds the bytes written but not yet read: positions are byte
 * counts since the start (64 bits, never wrap), a position's slot is its
 * remainder by RELAY_RING_SIZE. The pusher owns the free part, the worker
 * the filled part; both counters change under the lock, and the worker
 * consumes outside it, in pieces of at most RELAY_PIECE bytes so that room
 * comes back to the pusher while a large span is read. Each side sleeps
 * only when it must, and is woken only when the other one sleeps and there
 * is a batch for it: the worker when a whole piece waits (or the drain
 * needs the rest), the pusher when half the ring has room (or the drain is
 * done, or the body stopped) - not after every piece, which would make
 * the two threads take turns piece by piece, a context switch each.
 */
#include "relay.h"

#include <string.h>

const char *relay_strerror(relay_status status)
{
    switch (status) {
    case RELAY_OK:
        return "ok";
    case RELAY_ERR_STOPPED:
        return "stopped by the consumer";
    }
    return "unknown relay status";
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* The next piece for the worker, lock held: its slot and length (0: none). */
static size_t next_piece(const relay *r, size_t *at)
{
    uint64_t filled = r->written - r->read;
    *at = (size_t)(r->read % RELAY_RING_SIZE);
    return min_size(min_size((size_t)filled, RELAY_RING_SIZE - *at), RELAY_PIECE);
}

/* The worker: consume what is written until told to quit with the ring empty. */
static void relay_main(void *arg)
{
    relay *r = arg;
    port_worker_lock(&r->worker);
    for (;;) {
        size_t at;
        size_t n = next_piece(r, &at);
        if (n == 0) {
            if (r->quit)
                break;
            r->empty_waits++;
            r->consumer_waiting = 1;
            port_worker_wait(&r->worker);
            r->consumer_waiting = 0;
            continue;
        }
        int drop = r->stopped;
        port_worker_unlock(&r->worker);
        int stop = !drop && r->consume(r->user, r->ring + at, n) != 0;
        port_worker_lock(&r->worker);
        r->read += n;
        if (stop)
            r->stopped = 1;
        if (r->pusher_waiting && (r->stopped || r->written - r->read <= RELAY_RING_SIZE / 2))
            port_worker_wake(&r->worker); /* room for a batch, the end of a drain, or a stop */
    }
    port_worker_unlock(&r->worker);
}

int relay_start(relay *r, relay_fn consume, void *user, int threaded)
{
    r->consume = consume;
    r->user = user;
    r->written = 0;
    r->read = 0;
    r->stopped = 0;
    r->quit = 0;
    r->pusher_waiting = 0;
    r->consumer_waiting = 0;
    r->full_waits = 0;
    r->empty_waits = 0;
    r->threaded = RELAY_THREADS && threaded &&
                  port_worker_start(&r->worker, relay_main, r, RELAY_STACK_SIZE) == PORT_OK;
    return r->threaded;
}

/* relay_push without a worker: the consumer runs here. */
static relay_status push_inline(relay *r, const uint8_t *data, size_t len)
{
    if (!r->stopped && len > 0 && r->consume(r->user, data, len) != 0)
        r->stopped = 1;
    return r->stopped ? RELAY_ERR_STOPPED : RELAY_OK;
}

/* Room for the pusher, lock held: waits for it; 0 when the body stopped. */
static size_t wait_for_room(relay *r, size_t *at)
{
    while (!r->stopped && r->written - r->read == RELAY_RING_SIZE) {
        r->full_waits++;
        r->pusher_waiting = 1;
        port_worker_wait(&r->worker);
        r->pusher_waiting = 0;
    }
    if (r->stopped)
        return 0;
    *at = (size_t)(r->written % RELAY_RING_SIZE);
    return min_size(RELAY_RING_SIZE - (size_t)(r->written - r->read), RELAY_RING_SIZE - *at);
}

relay_status relay_push(relay *r, const uint8_t *data, size_t len)
{
    relay_status st = RELAY_OK;
    if (!r->threaded)
        return push_inline(r, data, len);
    port_worker_lock(&r->worker);
    while (len > 0) {
        size_t at;
        size_t n = min_size(wait_for_room(r, &at), len);
        if (n == 0) {
            st = RELAY_ERR_STOPPED;
            break;
        }
        memcpy(r->ring + at, data, n); /* the free part is the pusher's alone */
        r->written += n;
        data += n;
        len -= n;
        if (r->consumer_waiting && r->written - r->read >= RELAY_PIECE)
            port_worker_wake(&r->worker); /* a whole piece (the drain wakes for less) */
    }
    port_worker_unlock(&r->worker);
    return st;
}

relay_status relay_drain(relay *r)
{
    relay_status st;
    if (!r->threaded) {
        st = r->stopped ? RELAY_ERR_STOPPED : RELAY_OK;
        r->stopped = 0;
        return st;
    }
    port_worker_lock(&r->worker);
    if (r->consumer_waiting && r->read != r->written)
        port_worker_wake(&r->worker); /* less than a piece is left */
    while (r->read != r->written) {
        r->pusher_waiting = 1;
        port_worker_wait(&r->worker);
        r->pusher_waiting = 0;
    }
    st = r->stopped ? RELAY_ERR_STOPPED : RELAY_OK;
    r->stopped = 0;
    port_worker_unlock(&r->worker);
    return st;
}

void relay_stop(relay *r)
{
    if (!r->threaded)
        return;
    port_worker_lock(&r->worker);
    r->quit = 1;
    port_worker_wake(&r->worker);
    port_worker_unlock(&r->worker);
    port_worker_join(&r->worker);
    r->threaded = 0;
}
