/* handlers/accept.c: hands normalized events to the spool and answers once
 * they are committed; shared by every endpoint that takes events. The
 * request is parked meanwhile, so no server thread waits for a commit. */
#include "handlers/accept.h"

#include <stdlib.h>
#include <string.h>

#include "handlers/reply_map.h"
#include "metrics/metrics.h"

struct pending {
    struct gw_request *req;
    struct gw_event *events; /* ids for the answer; json already handed */
    size_t n;
    gw_accept_reply_fn reply_fn;
    void *ctx;
    void (*ctx_free)(void *);
};

static void
pending_free(struct pending *p)
{
    if (p->ctx_free != NULL) {
        p->ctx_free(p->ctx);
    }
    free(p->events);
    free(p);
}

static void
count_outcome(const bool *duplicate, size_t n)
{
    int64_t dups = 0;

    for (size_t i = 0; i < n; i++) {
        dups += duplicate[i] ? 1 : 0;
    }
    gw_metrics_add("signin_gateway_events_accepted_total", NULL, NULL,
                   (int64_t)n - dups);
    if (dups > 0) {
        gw_metrics_add("signin_gateway_events_deduplicated_total", NULL, NULL,
                       dups);
    }
}

static void
refuse(struct gw_request *req, enum gw_spool_result rc)
{
    if (rc == GW_SPOOL_TOO_LARGE) {
        gw_reply_refuse(req, 413, "body_too_large",
                        "these events alone exceed spool.max_bytes", NULL);
        return;
    }
    gw_reply_header(req, "Retry-After", "1");
    switch (rc) {
    case GW_SPOOL_FULL:
        gw_reply_refuse(req, 503, "spool_full",
                        "the gateway holds as many events as spool.max_bytes "
                        "allows; retry later", NULL);
        break;
    case GW_SPOOL_STOPPING:
        gw_reply_refuse(req, 503, "shutting_down",
                        "the gateway is shutting down; retry", NULL);
        break;
    default:
        gw_reply_refuse(req, 503, "spool_unavailable",
                        "the event could not be stored; retry", NULL);
        break;
    }
}

/* Runs on the spool's writer thread once the events are committed. */
static void
on_spooled(void *arg, enum gw_spool_result rc, const bool *duplicate)
{
    struct pending *p = arg;
    struct gw_request *req = p->req;

    if (rc == GW_SPOOL_OK) {
        count_outcome(duplicate, p->n);
        p->reply_fn(req, p->events, duplicate, p->n, p->ctx);
    } else {
        refuse(req, rc);
    }
    pending_free(p);
    gw_request_resume(req);
}

void
gw_accept_events(struct gw_request *req, struct gw_handler_env *env,
                 struct gw_event *events, size_t n,
                 gw_accept_reply_fn reply_fn, void *ctx,
                 void (*ctx_free)(void *))
{
    struct pending *p = NULL;
    char **json = NULL;
    const char **ids = NULL;
    bool none[1] = {false};
    enum gw_spool_result rc = GW_SPOOL_NO_MEMORY;

    if (n == 0) {
        reply_fn(req, events, none, 0, ctx);
        goto out;
    }
    p = calloc(1, sizeof(*p));
    json = calloc(n, sizeof(char *));
    ids = calloc(n, sizeof(char *));
    if (p == NULL || json == NULL || ids == NULL ||
        (p->events = calloc(n, sizeof(*p->events))) == NULL) {
        refuse(req, rc);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(p->events[i].id, events[i].id, sizeof(events[i].id));
        json[i] = events[i].json;
        ids[i] = events[i].id;
    }
    *p = (struct pending){req, p->events, n, reply_fn, ctx, ctx_free};
    /* Parked before the hand-over: the writer may answer at once. */
    if (!gw_request_suspend(req)) {
        refuse(req, GW_SPOOL_STOPPING);
        goto out;
    }
    rc = gw_spool_append(env->spool, json, ids, n, on_spooled, p);
    for (size_t i = 0; i < n; i++) {
        events[i].json = json[i]; /* NULL where the spool took it */
    }
    if (rc == GW_SPOOL_OK) {
        free(json);
        free(ids);
        return; /* on_spooled answers and frees p and ctx */
    }
    refuse(req, rc);
    pending_free(p);
    free(json);
    free(ids);
    gw_request_resume(req);
    return;
out:
    if (p != NULL) {
        free(p->events);
        free(p);
    }
    free(json);
    free(ids);
    if (ctx_free != NULL) {
        ctx_free(ctx);
    }
}
