/*
 * commit_policy.c - when the users stream commits (commit_policy.h).
 */
#include "commit_policy.h"

void commit_policy_init(commit_policy *p, uint32_t interval_ms, uint64_t max_bytes, uint64_t now_ms)
{
    p->interval_ms = interval_ms;
    p->max_bytes = max_bytes;
    p->last_ms = now_ms;
    p->pages = 0;
}

int commit_policy_page_done(commit_policy *p, uint64_t now_ms, uint64_t uncommitted)
{
    p->pages++;
    return now_ms - p->last_ms >= p->interval_ms || uncommitted >= p->max_bytes;
}

int commit_policy_pending(const commit_policy *p)
{
    return p->pages > 0;
}

void commit_policy_committed(commit_policy *p, uint64_t now_ms)
{
    p->last_ms = now_ms;
    p->pages = 0;
}
