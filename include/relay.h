/*
 * relay.h - a response body handed to its consumer on a second thread.
 *
 * The agent's thread receives a body (socket, TLS, HTTP framing, gunzip)
 * and pushes its bytes into a fixed ring; a worker thread takes them out
 * and runs the consumer (record scanning, mapping, CSV) meanwhile, so that
 * on two processors the two halves overlap. Bytes reach the consumer in the
 * order pushed, in pieces of any size (the consumer is a sans-I/O parser
 * that gives the same result for any split). The ring is the only memory;
 * the worker's stack is RELAY_STACK_SIZE.
 *
 * A body ends with relay_drain, which waits until every byte pushed has
 * been consumed: after it the consumer's results may be read on the
 * pushing thread (the lock orders every write the worker made before it).
 * Between pushes and the drain, the pushing thread must not touch what the
 * consumer writes.
 *
 * Without a worker (relay_start asked for none, or the port has no
 * threads) relay_push runs the consumer itself: one code path either way.
 */
#ifndef COUNTLY_SYNC_RELAY_H
#define COUNTLY_SYNC_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "port.h"

typedef enum {
    RELAY_OK = 0,
    RELAY_ERR_STOPPED /* the consumer stopped this body: the rest was dropped */
} relay_status;

/* Consumes len > 0 bytes; 0 to go on, non-zero to stop the body. */
typedef int (*relay_fn)(void *user, const uint8_t *data, size_t len);

typedef struct {
    port_worker worker;
    relay_fn consume;
    void *user;
    int threaded; /* 1: the worker consumes; 0: relay_push does */

    /* shared with the worker, under the worker's lock */
    uint64_t written;          /* bytes pushed so far */
    uint64_t read;             /* bytes consumed or dropped so far */
    int stopped;               /* the consumer stopped the current body */
    int quit;                  /* the worker is to return */
    int pusher_waiting;        /* the pushing thread sleeps (ring full, or drain) */
    int consumer_waiting;      /* the worker sleeps (ring empty) */
    unsigned long full_waits;  /* pushes that found the ring full (statistics) */
    unsigned long empty_waits; /* times the worker found the ring empty */

    uint8_t ring[RELAY_RING_SIZE];
} relay;

/* Words for a status. */
const char *relay_strerror(relay_status status);

/* Prepares the relay for consume(user, ...); with threaded = 1 starts the
 * worker. Returns 1 when a worker runs, 0 when pushes will consume inline
 * (threaded = 0, or the port has no thread to give). */
int relay_start(relay *r, relay_fn consume, void *user, int threaded);

/* Hands len bytes on; waits while the ring is full. RELAY_ERR_STOPPED once
 * the consumer stopped the body (nothing more is consumed until the drain). */
relay_status relay_push(relay *r, const uint8_t *data, size_t len);

/* Ends the body: waits until every byte pushed was consumed or dropped.
 * RELAY_ERR_STOPPED when the consumer stopped it. Ready for the next body. */
relay_status relay_drain(relay *r);

/* Ends the worker (after the bytes still in the ring); safe without one. */
void relay_stop(relay *r);

#endif /* COUNTLY_SYNC_RELAY_H */
