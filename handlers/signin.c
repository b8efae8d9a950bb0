/* handlers/signin.c: POST /v1/signed-in, a browser's sign-in call carrying
 * the user's own ID token. The identity comes from the token alone. */
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "handlers/accept.h"
#include "handlers/env.h"
#include "handlers/oidc.h"
#include "handlers/reply_map.h"

static void
reply_accepted(struct gw_request *req, const struct gw_event *events,
               const bool *duplicate, size_t n, void *ctx)
{
    struct json_object *answer = json_object_new_object();

    (void)duplicate;
    (void)n;
    (void)ctx;
    if (answer != NULL) {
        json_object_object_add(answer, "status",
                               json_object_new_string("accepted"));
        json_object_object_add(answer, "event_id",
                               json_object_new_string(events[0].id));
    }
    gw_reply_json(req, 202, answer);
}

static void
handle_signin(struct gw_request *req, void *ctx)
{
    struct gw_handler_env *env = ctx;
    struct gw_jwt_verified verified = {0};
    const struct gw_event_mapping *map;
    struct json_object *body = NULL;
    struct gw_event ev = {0};
    struct gw_event_error err;
    enum gw_event_result erc;
    const char *token;
    size_t token_len, body_len;
    int64_t now = gw_clock_now_ms();

    if (env->user_keys.count == 0 && env->oidc == NULL) {
        gw_reply_refuse(req, 404, "not_configured",
                        "browser sign-ins are off: set issuers.<name>.url, "
                        "auth.jwks_file, auth.pem_file or "
                        "auth.hs_secret_file", NULL);
        return;
    }
    if (!gw_reply_need_bearer(req, &token, &token_len)) {
        return;
    }
    if (!gw_oidc_signin_verify(env, req, token, token_len, now, &verified,
                               &map)) {
        goto out;
    }
    (void)gw_request_body(req, &body_len);
    if (body_len > 0 && !gw_reply_need_json(req, &body)) {
        goto out;
    }
    erc = gw_signed_in_from_claims(map, verified.claims, body, now, &ev,
                                   &err);
    if (erc != GW_EVENT_OK) {
        gw_reply_event_error(req, erc, &err, -1);
        goto out;
    }
    gw_accept_events(req, env, &ev, 1, reply_accepted, NULL, NULL);
out:
    gw_event_clear(&ev);
    json_object_put(body);
    gw_jwt_verified_clear(&verified);
}

struct gw_route
gw_signin_route(struct gw_handler_env *env)
{
    return (struct gw_route){"/v1/signed-in", "POST", handle_signin, env};
}
