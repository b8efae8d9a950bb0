/* handlers/env.h: what the endpoint handlers share: keys, policies, the
 * event mapping and the spool. Filled by main.c, read-only after. */
#ifndef GW_HANDLERS_ENV_H
#define GW_HANDLERS_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/jwt.h"
#include "auth/keys.h"
#include "events/signed_in.h"
#include "forward/spool.h"
#include "server/server.h"

struct gw_webhook_env;
struct gw_oidc;

struct gw_handler_env {
    struct gw_keyset user_keys;
    struct gw_jwt_policy user_policy;
    struct gw_keyset backend_keys;
    struct gw_jwt_policy backend_policy;
    const char *const *backend_subjects; /* NULL: any subject */
    size_t backend_subject_count;
    struct gw_event_mapping mapping;
    struct gw_spool *spool;
    size_t track_max_events;
    struct gw_webhook_env *webhooks; /* handlers/webhook.h; owned by main */
    struct gw_oidc *oidc; /* handlers/oidc.h; NULL: no issuers; main's */
};

/* One route per endpoint; each handler file exports its own. */
struct gw_route gw_signin_route(struct gw_handler_env *env);
struct gw_route gw_track_route(struct gw_handler_env *env);
struct gw_route gw_health_route(struct gw_handler_env *env);
struct gw_route gw_metrics_route(struct gw_handler_env *env);
struct gw_route gw_webhook_route(struct gw_handler_env *env);

#endif
