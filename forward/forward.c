/* forward/forward.c: events from the spool to the upstream, batched and
 * retried by one background thread; removed only after a 2xx. */
#include "forward/forward.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "forward/retry.h"
#include "metrics/metrics.h"

/* How long one look at the spool may sleep, so that stop is noticed. */
#define IDLE_WAIT_MS 200

enum outcome { DELIVERED, ABANDONED };

struct gw_forward {
    struct gw_forward_config cfg;
    struct gw_spool *spool;
    struct gw_sender *sender;
    pthread_t thread;
    bool started;

    /* Waits between retries end early when shutdown begins. */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
    int64_t deadline_mono_ms; /* meaningful once stopping */
};

struct gw_forward *
gw_forward_new(const struct gw_forward_config *cfg, struct gw_spool *spool,
               char *err, size_t err_len)
{
    struct gw_forward *fwd = calloc(1, sizeof(*fwd));
    pthread_condattr_t attr;

    if (fwd == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    fwd->cfg = *cfg;
    fwd->spool = spool;
    fwd->sender = gw_sender_new(&cfg->sender, err, err_len);
    if (fwd->sender == NULL) {
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

static void
read_stop(struct gw_forward *fwd, bool *stopping, bool *past_deadline)
{
    pthread_mutex_lock(&fwd->mu);
    *stopping = fwd->stopping;
    *past_deadline = fwd->stopping &&
                     gw_clock_mono_ms() >= fwd->deadline_mono_ms;
    pthread_mutex_unlock(&fwd->mu);
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
        /* Our key or URL is wrong: nothing is discarded, a person must
         * act, so this is an error each time (at most every retry_max). */
        gw_metrics_add("signin_gateway_upstream_key_refused_total", NULL,
                       NULL, 1);
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

static enum outcome deliver(struct gw_forward *fwd, struct gw_spool_row *rows,
                            size_t n);

/* A batch refused for good: try its events one by one, so that only the
 * ones the upstream refuses go to the dead-letter table. */
static enum outcome
isolate(struct gw_forward *fwd, struct gw_spool_row *rows, size_t n,
        const struct gw_send_result *res)
{
    if (n == 1) {
        gw_spool_bury(fwd->spool, rows, res->status, res->answer);
        gw_metrics_add("signin_gateway_events_dead_lettered_total", NULL,
                       NULL, 1);
        gw_log(GW_LOG_ERROR, "forward", "event_dead_lettered",
               GW_F_INT("status", res->status), GW_F_STR("id", rows[0].id),
               GW_F_END);
        return DELIVERED;
    }
    for (size_t i = 0; i < n; i++) {
        if (deliver(fwd, rows + i, 1) == ABANDONED) {
            return ABANDONED;
        }
    }
    return DELIVERED;
}

/* Sends rows until they are delivered or buried, or shutdown's deadline
 * passes (ABANDONED: they stay in the spool). */
static enum outcome
deliver(struct gw_forward *fwd, struct gw_spool_row *rows, size_t n)
{
    struct gw_send_result res;
    char *json[n];
    unsigned attempt = 0;
    int64_t started = gw_clock_mono_ms();

    for (size_t i = 0; i < n; i++) {
        json[i] = rows[i].json;
    }
    for (;;) {
        enum gw_retry_kind kind;
        int64_t wait, sent_ms = gw_clock_mono_ms();

        gw_sender_send(fwd->sender, json, n, &res);
        gw_metrics_observe("signin_gateway_upstream_request_duration_seconds",
                           (double)(gw_clock_mono_ms() - sent_ms) / 1000.0);
        kind = gw_retry_classify(res.status);
        if (kind != GW_RETRY_DELIVERED) {
            gw_metrics_add("signin_gateway_upstream_errors_total", "status",
                           gw_metrics_status_label(res.status), 1);
        }
        gw_metrics_add("signin_gateway_upstream_requests_total", "outcome",
                       kind == GW_RETRY_DELIVERED ? "delivered" : "failed",
                       1);
        if (kind == GW_RETRY_DELIVERED) {
            gw_spool_remove(fwd->spool, rows, n);
            gw_metrics_add("signin_gateway_events_forwarded_total", NULL,
                           NULL, (int64_t)n);
            gw_log(GW_LOG_DEBUG, "forward", "batch_delivered",
                   GW_F_INT("events", n), GW_F_INT("attempts", attempt + 1),
                   GW_F_INT("ms", gw_clock_mono_ms() - started), GW_F_END);
            return DELIVERED;
        }
        if (kind == GW_RETRY_REFUSED) {
            return isolate(fwd, rows, n, &res);
        }
        wait = next_wait_ms(fwd, kind, attempt, &res);
        log_attempt(kind, &res, n, wait);
        attempt++;
        if (!pause_ms(fwd, wait)) {
            return ABANDONED;
        }
    }
}

static void *
run(void *arg)
{
    struct gw_forward *fwd = arg;
    struct gw_spool_row *rows = calloc(fwd->cfg.batch_max, sizeof(*rows));
    int64_t cursor = 0;

    if (rows == NULL) {
        gw_log(GW_LOG_ERROR, "forward", "no_memory", GW_F_END);
        return NULL;
    }
    for (;;) {
        bool stopping, past;
        size_t n;

        read_stop(fwd, &stopping, &past);
        if (past) {
            break;
        }
        n = gw_spool_next(fwd->spool, cursor, fwd->cfg.batch_max,
                          stopping ? 0 : IDLE_WAIT_MS,
                          stopping ? 0 : fwd->cfg.batch_ms, rows);
        if (n == 0) {
            if (stopping) {
                break; /* everything delivered */
            }
            continue;
        }
        if (deliver(fwd, rows, n) == DELIVERED) {
            cursor = rows[n - 1].seq;
        }
        gw_spool_rows_clear(rows, n);
        gw_metrics_set("signin_gateway_spool_events",
                       gw_spool_depth(fwd->spool));
    }
    free(rows);
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

int64_t
gw_forward_stop(struct gw_forward *fwd, int64_t deadline_ms)
{
    pthread_mutex_lock(&fwd->mu);
    fwd->stopping = true;
    fwd->deadline_mono_ms = gw_clock_mono_ms() + deadline_ms;
    pthread_cond_broadcast(&fwd->wake);
    pthread_mutex_unlock(&fwd->mu);
    gw_spool_interrupt(fwd->spool);
    if (fwd->started) {
        pthread_join(fwd->thread, NULL);
        fwd->started = false;
    }
    return gw_spool_depth(fwd->spool);
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
    pthread_mutex_destroy(&fwd->mu);
    pthread_cond_destroy(&fwd->wake);
    free(fwd);
}
