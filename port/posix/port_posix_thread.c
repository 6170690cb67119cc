/*
 * port_posix_thread.c - the second thread of the port contract (port.h) on
 * POSIX threads: one thread, one mutex and one condition variable, kept in
 * the caller's port_worker.
 */
#include "port.h"
#include "port_posix_hooks.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <unistd.h>

typedef struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void (*fn)(void *arg);
    void *arg;
} posix_worker;

_Static_assert(sizeof(posix_worker) <= PORT_WORKER_SIZE,
               "PORT_WORKER_SIZE is too small for this system's pthread types");
_Static_assert(alignof(posix_worker) <= 16, "port_worker is aligned to 16 bytes");

static posix_worker *worker_of(port_worker *w)
{
    return (posix_worker *)(void *)w->opaque;
}

unsigned port_cpu_count(void)
{
    if (PORT_HOOK_CPUS() != 0)
        return PORT_HOOK_CPUS();
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

/* pthread's start routine: the caller's function, without a result. */
static void *worker_main(void *opaque)
{
    posix_worker *pw = opaque;
    pw->fn(pw->arg);
    return NULL;
}

port_status port_worker_start(port_worker *w, void (*fn)(void *arg), void *arg, size_t stack_size)
{
    posix_worker *pw = worker_of(w);
    pthread_attr_t attr;
    int rc;
    pw->fn = fn;
    pw->arg = arg;
    if (pthread_mutex_init(&pw->lock, NULL) != 0)
        return PORT_ERR_IO;
    if (pthread_cond_init(&pw->cond, NULL) != 0) {
        pthread_mutex_destroy(&pw->lock);
        return PORT_ERR_IO;
    }
    /* The thread starts with the stop signals blocked (it inherits this
     * thread's mask), so they reach the agent's thread and end its waits. */
    sigset_t stops, old;
    (void)sigemptyset(&stops);
    (void)sigaddset(&stops, SIGTERM);
    (void)sigaddset(&stops, SIGINT);
    (void)sigaddset(&stops, SIGHUP);
    (void)pthread_sigmask(SIG_BLOCK, &stops, &old);
    rc = pthread_attr_init(&attr);
    if (rc == 0) {
        if (stack_size >= (size_t)PTHREAD_STACK_MIN)
            rc = pthread_attr_setstacksize(&attr, stack_size);
        if (rc == 0)
            rc = pthread_create(&pw->thread, &attr, worker_main, pw);
        pthread_attr_destroy(&attr);
    }
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&pw->cond);
        pthread_mutex_destroy(&pw->lock);
        return PORT_ERR_IO;
    }
    return PORT_OK;
}

void port_worker_join(port_worker *w)
{
    posix_worker *pw = worker_of(w);
    pthread_join(pw->thread, NULL);
    pthread_cond_destroy(&pw->cond);
    pthread_mutex_destroy(&pw->lock);
}

void port_worker_lock(port_worker *w)
{
    pthread_mutex_lock(&worker_of(w)->lock);
}

void port_worker_unlock(port_worker *w)
{
    pthread_mutex_unlock(&worker_of(w)->lock);
}

void port_worker_wait(port_worker *w)
{
    posix_worker *pw = worker_of(w);
    pthread_cond_wait(&pw->cond, &pw->lock);
}

void port_worker_wake(port_worker *w)
{
    pthread_cond_broadcast(&worker_of(w)->cond);
}
