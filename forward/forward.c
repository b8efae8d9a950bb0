/* forward/forward.c: accepted events to the upstream, batched and retried
 * by one background thread. */
#include "forward/forward.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "forward/outbox.h"
#include "forward/retry.h"
#include "metrics/metrics.h"

struct gw_forward {
    struct gw_forward_config cfg;
    struct gw_outbox *outbox;
    struct gw_sender *sender;
    pthread_t thread;
    bool started;

    /* Waits between retries end early when shutdown begins. */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
    int64_t deadline_mono_ms; /* meaningful once stopping */
    atomic_size_t lost;
};

struct gw_forward *
gw_forward_new(const struct gw_forward_config *cfg, char *err,
               size_t err_len)
{
    struct gw_forward *fwd = calloc(1, sizeof(*fwd));
    pthread_condattr_t attr;

    if (fwd == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    fwd->cfg = *cfg;
    fwd->outbox = gw_outbox_new(cfg->queue_max_events);
    if (fwd->outbox == NULL) {
        snprintf(err, err_len, "out of memory for the queue");
        free(fwd);
        return NULL;
    }
    fwd->sender = gw_sender_new(&cfg->sender, err, err_len);
    if (fwd->sender == NULL) {
        gw_outbox_free(fwd->outbox);
        free(fwd);
        return NULL;
    }
    pthread_mutex_init(&fwd->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&fwd->wake, &attr);
    pthread_condattr_destroy(&attr);
    return fwd;
}

/* Sleeps up to ms; returns false when shutdown's deadline passes first. */
static bool
pause_ms(struct gw_forward *fwd, int64_t ms)
{
    struct timespec ts;
    int64_t until = gw_clock_mono_ms() + ms;
    bool in_time = true;

    pthread_mutex_lock(&fwd->mu);
    for (;;) {
        int64_t now = gw_clock_mono_ms(), limit = until;

        if (fwd->stopping && now >= fwd->deadline_mono_ms) {
            in_time = false;
            break;
        }
        if (now >= until) {
            break;
        }
        if (fwd->stopping && fwd->deadline_mono_ms < limit) {
            limit = fwd->deadline_mono_ms;
        }
        ts.tv_sec = limit / 1000;
        ts.tv_nsec = (limit % 1000) * 1000000;
        pthread_cond_timedwait(&fwd->wake, &fwd->mu, &ts);
    }
    pthread_mutex_unlock(&fwd->mu);
    return in_time;
}

static bool
past_deadline(struct gw_forward *fwd)
{
    bool past;

    pthread_mutex_lock(&fwd->mu);
    past = fwd->stopping && gw_clock_mono_ms() >= fwd->deadline_mono_ms;
    pthread_mutex_unlock(&fwd->mu);
    return past;
}

static int64_t
next_wait_ms(struct gw_forward *fwd, enum gw_retry_kind kind,
             unsigned attempt, const struct gw_send_result *res)
{
    int64_t wait;

    if (kind == GW_RETRY_HOLD) {
        return fwd->cfg.retry_max_ms;
    }
    wait = gw_retry_backoff_ms(attempt, fwd->cfg.retry_base_ms,
                               fwd->cfg.retry_max_ms);
    /* Retry-After is the upstream's own floor: never come back sooner. */
    if (res->retry_after_ms > wait) {
        wait = res->retry_after_ms;
    }
    return wait;
}

static void
log_attempt(enum gw_retry_kind kind, const struct gw_send_result *res,
            size_t n, int64_t wait_ms)
{
    if (kind == GW_RETRY_HOLD) {
        gw_log(GW_LOG_ERROR, "forward", "upstream_refused_key",
               GW_F_INT("status", res->status), GW_F_INT("events", n),
               GW_F_INT("retry_in_ms", wait_ms),
               GW_F_STR("hint", "check upstream.api_key and upstream.url"),
               GW_F_END);
        return;
    }
    gw_log(GW_LOG_WARN, "forward", "batch_retry",
           GW_F_INT("status", res->status),
           GW_F_STR("detail", res->detail[0] ? res->detail : NULL),
           GW_F_INT("events", n), GW_F_INT("retry_in_ms", wait_ms), GW_F_END);
}

/* Sends one batch until it is delivered, refused for good, or shutdown's
 * deadline passes. */
static void
deliver(struct gw_forward *fwd, char **batch, size_t n)
{
    struct gw_send_result res;
    unsigned attempt = 0;
    int64_t started = gw_clock_mono_ms();

    for (;;) {
        enum gw_retry_kind kind;
        int64_t wait;

        gw_sender_send(fwd->sender, batch, n, &res);
        kind = gw_retry_classify(res.status);
        gw_metrics_add("signin_gateway_upstream_requests_total", "outcome",
                       kind == GW_RETRY_DELIVERED ? "delivered" : "failed",
                       1);
        if (kind == GW_RETRY_DELIVERED) {
            gw_metrics_add("signin_gateway_events_forwarded_total", NULL,
                           NULL, (int64_t)n);
            gw_log(GW_LOG_DEBUG, "forward", "batch_delivered",
                   GW_F_INT("events", n), GW_F_INT("attempts", attempt + 1),
                   GW_F_INT("ms", gw_clock_mono_ms() - started), GW_F_END);
            return;
        }
        if (kind == GW_RETRY_REFUSED) {
            /* Limit: without the durable spool there is no dead-letter
             * table yet; the batch is dropped, logged and counted. */
            gw_metrics_add("signin_gateway_events_dropped_total", "reason",
                           "upstream_refused", (int64_t)n);
            gw_log(GW_LOG_ERROR, "forward", "batch_refused",
                   GW_F_INT("status", res.status), GW_F_INT("events", n),
                   GW_F_END);
            return;
        }
        wait = next_wait_ms(fwd, kind, attempt, &res);
        log_attempt(kind, &res, n, wait);
        attempt++;
        if (past_deadline(fwd) || !pause_ms(fwd, wait)) {
            atomic_fetch_add(&fwd->lost, n);
            gw_metrics_add("signin_gateway_events_dropped_total", "reason",
                           "shutdown", (int64_t)n);
            return;
        }
    }
}

static void *
run(void *arg)
{
    struct gw_forward *fwd = arg;
    char **batch = calloc(fwd->cfg.batch_max, sizeof(char *));
    size_t n;

    if (batch == NULL) {
        gw_log(GW_LOG_ERROR, "forward", "no_memory", GW_F_END);
        return NULL;
    }
    while ((n = gw_outbox_take(fwd->outbox, batch, fwd->cfg.batch_max,
                               fwd->cfg.batch_ms)) > 0) {
        if (past_deadline(fwd)) {
            atomic_fetch_add(&fwd->lost, n);
        } else {
            deliver(fwd, batch, n);
        }
        for (size_t i = 0; i < n; i++) {
            free(batch[i]);
            batch[i] = NULL;
        }
        gw_metrics_set("signin_gateway_queue_events",
                       (int64_t)gw_outbox_depth(fwd->outbox));
    }
    free(batch);
    return NULL;
}

bool
gw_forward_start(struct gw_forward *fwd)
{
    if (pthread_create(&fwd->thread, NULL, run, fwd) != 0) {
        return false;
    }
    fwd->started = true;
    return true;
}

enum gw_forward_result
gw_forward_submit(struct gw_forward *fwd, char **events, size_t n)
{
    switch (gw_outbox_push(fwd->outbox, events, n)) {
    case GW_OUTBOX_OK:
        gw_metrics_add("signin_gateway_events_accepted_total", NULL, NULL,
                       (int64_t)n);
        return GW_FORWARD_OK;
    case GW_OUTBOX_FULL:
        return GW_FORWARD_FULL;
    case GW_OUTBOX_CLOSED:
        break;
    }
    return GW_FORWARD_STOPPING;
}

size_t
gw_forward_stop(struct gw_forward *fwd, int64_t deadline_ms)
{
    size_t left;

    pthread_mutex_lock(&fwd->mu);
    fwd->stopping = true;
    fwd->deadline_mono_ms = gw_clock_mono_ms() + deadline_ms;
    pthread_cond_broadcast(&fwd->wake);
    pthread_mutex_unlock(&fwd->mu);
    gw_outbox_close(fwd->outbox);
    if (fwd->started) {
        pthread_join(fwd->thread, NULL);
        fwd->started = false;
    }
    left = atomic_load(&fwd->lost) + gw_outbox_depth(fwd->outbox);
    return left;
}

void
gw_forward_free(struct gw_forward *fwd)
{
    if (fwd == NULL) {
        return;
    }
    if (fwd->started) {
        (void)gw_forward_stop(fwd, 0);
    }
    gw_sender_free(fwd->sender);
    gw_outbox_free(fwd->outbox);
    pthread_mutex_destroy(&fwd->mu);
    pthread_cond_destroy(&fwd->wake);
    free(fwd);
}
