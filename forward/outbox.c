/* forward/outbox.c: the bounded in-memory queue between handlers and the
 * forwarder thread. */
#include "forward/outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct gw_outbox {
    pthread_mutex_t mu;
    pthread_cond_t readable;
    char **ring;
    size_t cap, head, count;
    size_t wake_at; /* the taker sleeps until count reaches this; 0: awake */
    bool closed;
};

struct gw_outbox *
gw_outbox_new(size_t max_events)
{
    struct gw_outbox *ob = calloc(1, sizeof(*ob));
    pthread_condattr_t attr;

    if (ob == NULL) {
        return NULL;
    }
    ob->ring = calloc(max_events, sizeof(char *));
    if (ob->ring == NULL) {
        free(ob);
        return NULL;
    }
    ob->cap = max_events;
    pthread_mutex_init(&ob->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ob->readable, &attr);
    pthread_condattr_destroy(&attr);
    return ob;
}

void
gw_outbox_free(struct gw_outbox *ob)
{
    if (ob == NULL) {
        return;
    }
    for (size_t i = 0; i < ob->count; i++) {
        free(ob->ring[(ob->head + i) % ob->cap]);
    }
    free(ob->ring);
    pthread_mutex_destroy(&ob->mu);
    pthread_cond_destroy(&ob->readable);
    free(ob);
}

enum gw_outbox_result
gw_outbox_push(struct gw_outbox *ob, char **events, size_t n)
{
    enum gw_outbox_result rc = GW_OUTBOX_OK;

    pthread_mutex_lock(&ob->mu);
    if (ob->closed) {
        rc = GW_OUTBOX_CLOSED;
    } else if (ob->cap - ob->count < n) {
        rc = GW_OUTBOX_FULL;
    } else {
        for (size_t i = 0; i < n; i++) {
            ob->ring[(ob->head + ob->count) % ob->cap] = events[i];
            events[i] = NULL;
            ob->count++;
        }
        /* Waking the taker for every event would cost a context switch per
         * request: only when its batch is full, or it waits for a first. */
        if (ob->wake_at != 0 && ob->count >= ob->wake_at) {
            pthread_cond_signal(&ob->readable);
        }
    }
    pthread_mutex_unlock(&ob->mu);
    return rc;
}

static void
deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

size_t
gw_outbox_take(struct gw_outbox *ob, char **out, size_t max,
               int64_t fill_wait_ms)
{
    struct timespec deadline;
    size_t n = 0;

    pthread_mutex_lock(&ob->mu);
    ob->wake_at = 1;
    while (ob->count == 0 && !ob->closed) {
        pthread_cond_wait(&ob->readable, &ob->mu);
    }
    /* A batch waits a little to fill: fewer, larger upstream requests. */
    deadline_after(&deadline, fill_wait_ms > 0 ? fill_wait_ms : 0);
    ob->wake_at = max;
    while (ob->count < max && !ob->closed &&
           pthread_cond_timedwait(&ob->readable, &ob->mu, &deadline) !=
               ETIMEDOUT) {
    }
    ob->wake_at = 0;
    while (n < max && ob->count > 0) {
        out[n++] = ob->ring[ob->head];
        ob->ring[ob->head] = NULL;
        ob->head = (ob->head + 1) % ob->cap;
        ob->count--;
    }
    pthread_mutex_unlock(&ob->mu);
    return n;
}

void
gw_outbox_close(struct gw_outbox *ob)
{
    pthread_mutex_lock(&ob->mu);
    ob->closed = true;
    pthread_cond_broadcast(&ob->readable);
    pthread_mutex_unlock(&ob->mu);
}

size_t
gw_outbox_depth(struct gw_outbox *ob)
{
    size_t n;

    pthread_mutex_lock(&ob->mu);
    n = ob->count;
    pthread_mutex_unlock(&ob->mu);
    return n;
}
