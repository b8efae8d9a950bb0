/* handlers/health.c: GET /healthz (serving) and GET /metrics (Prometheus). */
#include <stdlib.h>
#include <string.h>

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

static void
handle_metrics(struct gw_request *req, void *ctx)
{
    char *text = gw_metrics_render();

    (void)ctx;
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
