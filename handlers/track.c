/* handlers/track.c: POST /v1/track, a trusted backend's batch of events in
 * the Track API's (or the seed's) format, under a service token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "handlers/accept.h"
#include "handlers/env.h"
#include "handlers/reply_map.h"

struct batch {
    struct gw_event *events; /* owned until handed to gw_accept_events */
    size_t count;
};

static void
batch_free(struct batch *b)
{
    for (size_t i = 0; b->events != NULL && i < b->count; i++) {
        gw_event_clear(&b->events[i]);
    }
    free(b->events);
}

static bool
subject_allowed(const struct gw_handler_env *env, struct json_object *claims)
{
    struct json_object *sub;

    if (env->backend_subjects == NULL) {
        return true;
    }
    if (!json_object_object_get_ex(claims, "sub", &sub)) {
        return false;
    }
    for (size_t i = 0; i < env->backend_subject_count; i++) {
        if (strcmp(env->backend_subjects[i], json_object_get_string(sub)) ==
            0) {
            return true;
        }
    }
    return false;
}

static bool
authorize(struct gw_request *req, struct gw_handler_env *env, int64_t now)
{
    struct gw_jwt_verified verified;
    enum gw_jwt_result rc;
    const char *token;
    size_t len;
    bool ok;

    if (!gw_reply_need_bearer(req, &token, &len)) {
        return false;
    }
    rc = gw_jwt_verify(&env->backend_policy, &env->backend_keys, token, len,
                       now, &verified);
    if (rc != GW_JWT_OK) {
        gw_reply_token_error(req, rc, &verified);
        return false;
    }
    ok = subject_allowed(env, verified.claims);
    gw_jwt_verified_clear(&verified);
    if (!ok) {
        gw_reply_header(req, "WWW-Authenticate",
                        "Bearer error=\"insufficient_scope\"");
        gw_reply_refuse(req, 401, "subject_not_allowed",
                        "this service token's subject is not in "
                        "backend.subjects", NULL);
    }
    return ok;
}

/* Checks the body's shape; *count is the number of events. */
static bool
check_shape(struct gw_request *req, struct gw_handler_env *env,
            struct json_object *body, size_t *count)
{
    char message[96];

    if (json_object_is_type(body, json_type_object)) {
        *count = 1;
        return true;
    }
    if (!json_object_is_type(body, json_type_array)) {
        gw_reply_refuse(req, 400, "invalid_body",
                        "the body must be an event object or an array of "
                        "events", NULL);
        return false;
    }
    *count = json_object_array_length(body);
    if (*count == 0) {
        gw_reply_refuse(req, 400, "empty_batch", "the array has no events",
                        NULL);
        return false;
    }
    if (*count > env->track_max_events) {
        snprintf(message, sizeof(message),
                 "at most %zu events per request (limits.track_max_events)",
                 env->track_max_events);
        gw_reply_refuse(req, 413, "too_many_events", message, NULL);
        return false;
    }
    return true;
}

/* Normalizes every event; all or nothing. */
static bool
normalize_all(struct gw_request *req, struct gw_handler_env *env,
              struct json_object *body, size_t count, int64_t now,
              struct batch *b)
{
    bool is_array = json_object_is_type(body, json_type_array);

    b->events = calloc(count, sizeof(*b->events));
    if (b->events == NULL) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        struct json_object *item =
            is_array ? json_object_array_get_idx(body, i) : body;
        struct gw_event_error err;
        enum gw_event_result rc;

        rc = gw_signed_in_from_track(&env->mapping, item, now,
                                     &b->events[i], &err);
        if (rc != GW_EVENT_OK) {
            gw_reply_event_error(req, rc, &err, is_array ? (long)i : -1);
            return false;
        }
        b->count++;
    }
    return true;
}

static void
reply_accepted(struct gw_request *req, const struct gw_event *events,
               const bool *duplicate, size_t n, void *ctx)
{
    struct json_object *answer = json_object_new_object();
    struct json_object *ids = json_object_new_array();

    if (answer == NULL || ids == NULL) {
        json_object_put(answer);
        json_object_put(ids);
        gw_reply_json(req, 202, NULL);
        return;
    }
    (void)duplicate;
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(ids, json_object_new_string(events[i].id));
    }
    json_object_object_add(answer, "status",
                           json_object_new_string("accepted"));
    json_object_object_add(answer, "count",
                           json_object_new_int64((int64_t)n));
    json_object_object_add(answer, "event_ids", ids);
    gw_reply_json(req, 202, answer);
}

static void
handle_track(struct gw_request *req, void *ctx)
{
    struct gw_handler_env *env = ctx;
    struct json_object *body = NULL;
    struct batch b = {0};
    int64_t now = gw_clock_now_ms();
    size_t count;

    if (env->backend_keys.count == 0) {
        gw_reply_refuse(req, 404, "not_configured",
                        "/v1/track is off: set backend.hs_secret_file, "
                        "backend.jwks_file or backend.pem_file", NULL);
        return;
    }
    if (!authorize(req, env, now) || !gw_reply_need_json(req, &body) ||
        !check_shape(req, env, body, &count) ||
        !normalize_all(req, env, body, count, now, &b)) {
        goto out;
    }
    gw_accept_events(req, env, b.events, b.count, reply_accepted, NULL, NULL);
out:
    batch_free(&b);
    json_object_put(body);
}

struct gw_route
gw_track_route(struct gw_handler_env *env)
{
    return (struct gw_route){"/v1/track", "POST", handle_track, env};
}
