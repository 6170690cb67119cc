/*
 * commit_policy.h - when the users stream commits (sans-I/O).
 *
 * A commit (rows flushed and fsync'ed, then the state replaced) costs two
 * or three fsyncs: doing one per page made them a large share of a sync.
 * Pages are therefore committed in groups: when AGENT_COMMIT_INTERVAL_MS
 * have passed since the last commit, or AGENT_COMMIT_BYTES of rows wait
 * uncommitted, and always at the end of a window and before a failure
 * ends the run. A crash loses no committed row and re-reads at most the
 * pages written since the last commit.
 */
#ifndef COUNTLY_SYNC_COMMIT_POLICY_H
#define COUNTLY_SYNC_COMMIT_POLICY_H

#include <stdint.h>

#include "options.h"

typedef struct {
    uint32_t interval_ms; /* commit at least this long after the last one */
    uint64_t max_bytes;   /* ... or once this many bytes wait */
    uint64_t last_ms;     /* clock of the last commit */
    unsigned long pages;  /* complete pages not committed yet */
} commit_policy;

/* Starts counting at now_ms (a commit just happened, or nothing is pending). */
void commit_policy_init(commit_policy *p, uint32_t interval_ms, uint64_t max_bytes,
                        uint64_t now_ms);

/* A complete page was written; 1 when the pages written so far should be
 * committed now (uncommitted: bytes written since the last commit). */
int commit_policy_page_done(commit_policy *p, uint64_t now_ms, uint64_t uncommitted);

/* 1 when complete pages wait for a commit. */
int commit_policy_pending(const commit_policy *p);

/* The pages were committed at now_ms. */
void commit_policy_committed(commit_policy *p, uint64_t now_ms);

#endif /* COUNTLY_SYNC_COMMIT_POLICY_H */
