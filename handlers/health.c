/* handlers/health.c: GET /healthz (serving) and GET /metrics (Prometheus). */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "handlers/env.h"
#include "metrics/metrics.h"

static void
handle_health(struct gw_request *req, void *ctx)
{
    struct json_object *answer = json_object_new_object();

    (void)ctx;
    if (answer != NULL) {
        json_object_object_add(answer, "status", json_object_new_string("ok"));
    }
    gw_reply_json(req, 200, answer);
}

struct gw_route
gw_health_route(struct gw_handler_env *env)
{
    return (struct gw_route){"/healthz", "GET, HEAD", handle_health, env};
}

/* Spool gauges are read at scrape time: between batches the forwarder
 * does not touch them, and the oldest event ages while nothing happens. */
static void
sample_spool(struct gw_spool *spool)
{
    int64_t oldest;

    if (spool == NULL) {
        return;
    }
    oldest = gw_spool_oldest_ms(spool);
    gw_metrics_set("signin_gateway_spool_events", gw_spool_depth(spool));
    gw_metrics_set("signin_gateway_spool_oldest_event_age_seconds",
                   oldest > 0 && gw_clock_now_ms() > oldest
                       ? (gw_clock_now_ms() - oldest) / 1000
                       : 0);
}

static void
handle_metrics(struct gw_request *req, void *ctx)
{
    struct gw_handler_env *env = ctx;
    char *text;

    sample_spool(env != NULL ? env->spool : NULL);
    text = gw_metrics_render();
    if (text == NULL) {
        gw_reply_error(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    gw_reply_text(req, 200, "text/plain; version=0.0.4", text, strlen(text));
    free(text);
}

struct gw_route
gw_metrics_route(struct gw_handler_env *env)
{
    return (struct gw_route){"/metrics", "GET, HEAD", handle_metrics, env};
}
