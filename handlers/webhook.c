/* handlers/webhook.c: POST /v1/webhooks/<provider>, identity providers'
 * login webhooks: signature first, then the provider's unit (events/
 * providers/) turns each sign-in into a signed_in event. */
#include "handlers/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "handlers/accept.h"
#include "handlers/env.h"
#include "handlers/reply_map.h"
#include "metrics/metrics.h"

#define ROUTE_PREFIX "/v1/webhooks/"
#define ITEMS_METRIC "signin_gateway_webhook_items_total"
/* A verification challenge longer than this is not Okta's. */
#define CHALLENGE_MAX 256

/* The answer's needs, owned by gw_accept_events once handed over. */
struct answer {
    const struct gw_provider *provider;
    size_t ignored;
    struct json_object *echo; /* reference: the member sent back */
};

/* The events of one delivery, owned until handed over. */
struct delivery {
    struct gw_event *events;
    size_t count;
    size_t ignored;
};

static void
answer_free(void *arg)
{
    struct answer *a = arg;

    if (a != NULL) {
        json_object_put(a->echo);
        free(a);
    }
}

static void
delivery_free(struct delivery *d)
{
    for (size_t i = 0; d->events != NULL && i < d->count; i++) {
        gw_event_clear(&d->events[i]);
    }
    free(d->events);
}

/* The source of /v1/webhooks/<name>; replies 404 and returns NULL when
 * there is no such provider or it is not configured. */
static struct gw_webhook_source *
find_source(struct gw_request *req, const struct gw_webhook_env *w)
{
    const char *path = gw_request_path(req);
    const struct gw_provider *p = NULL;
    char message[256];

    if (w != NULL && strncmp(path, ROUTE_PREFIX, strlen(ROUTE_PREFIX)) == 0) {
        p = gw_provider_find(path + strlen(ROUTE_PREFIX));
    }
    if (p == NULL) {
        gw_reply_refuse(req, 404, "not_found",
                        "no webhook provider of that name (see README, "
                        "Identity-provider webhooks)",
                        NULL);
        return NULL;
    }
    for (size_t i = 0; i < w->source_count; i++) {
        if (w->sources[i].provider == p && w->sources[i].configured) {
            return &w->sources[i];
        }
    }
    snprintf(message, sizeof(message), "webhooks from %s are off: set %s",
             p->name, p->setting);
    gw_reply_refuse(req, 404, "not_configured", message, NULL);
    return NULL;
}

static const char *
signature_header(const struct gw_webhook_source *src)
{
    return src->provider->scheme == GW_SCHEME_HMAC_CUSTOM
               ? src->signature_header
               : src->provider->signature_header;
}

static enum gw_webhook_sig_result
check_signature(struct gw_request *req, const struct gw_webhook_source *src,
                int64_t now_ms)
{
    const struct gw_provider *p = src->provider;
    struct gw_webhook_signed r = {0};
    enum gw_jwt_result jrc;

    r.body = gw_request_body(req, &r.body_len);
    r.signature = gw_request_header(req, signature_header(src));
    if (p->id_header != NULL) {
        r.id = gw_request_header(req, p->id_header);
        r.timestamp = gw_request_header(req, p->timestamp_header);
    }
    switch (p->scheme) {
    case GW_SCHEME_STATIC:
        return gw_webhook_sig_static(src->secret, r.signature);
    case GW_SCHEME_STANDARD:
        return gw_webhook_sig_standard(src->secret, &r, now_ms,
                                       src->tolerance_s);
    case GW_SCHEME_WORKOS:
        return gw_webhook_sig_workos(src->secret, &r, now_ms, src->tolerance_s);
    case GW_SCHEME_HMAC_HEX:
        /* One revision of Logto's signer wrote "sha256=<hex>". */
        return gw_webhook_sig_hmac_body(src->secret, GW_WEBHOOK_HEX,
                                        "sha256=", &r);
    case GW_SCHEME_HMAC_CUSTOM:
        return gw_webhook_sig_hmac_body(src->secret, src->encoding,
                                        src->signature_prefix, &r);
    case GW_SCHEME_JWS_BODY:
        return gw_webhook_sig_jws_body(&src->policy, &src->keys, &r, now_ms,
                                       &jrc);
    case GW_SCHEME_BODY_JWT:
        return GW_WEBHOOK_SIG_OK; /* the token is read from the body */
    }
    return GW_WEBHOOK_SIG_MISMATCH;
}

static void
refuse_signature(struct gw_request *req, const struct gw_webhook_source *src,
                 enum gw_webhook_sig_result rc)
{
    const char *header = signature_header(src), *code;
    char message[192];

    if (rc == GW_WEBHOOK_SIG_NO_MEMORY) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    code = gw_webhook_sig_result_code(rc);
    switch (rc) {
    case GW_WEBHOOK_SIG_MISSING:
        snprintf(message, sizeof(message), "the %s header is missing%s", header,
                 src->provider->id_header ? " (or its id or "
                                            "timestamp header)"
                                          : "");
        break;
    case GW_WEBHOOK_SIG_STALE:
        snprintf(message, sizeof(message),
                 "the signature's time is more than %lld s away from the "
                 "gateway's clock (webhooks.%s.tolerance_s)",
                 (long long)src->tolerance_s, src->provider->name);
        break;
    case GW_WEBHOOK_SIG_MALFORMED:
        snprintf(message, sizeof(message), "the %s header cannot be read",
                 header);
        break;
    default:
        snprintf(message, sizeof(message),
                 "the %s header does not match this body and the "
                 "configured secret",
                 header);
        break;
    }
    gw_log(GW_LOG_DEBUG, "webhook", "delivery_refused",
           GW_F_STR("req", gw_request_id(req)),
           GW_F_STR("provider", src->provider->name), GW_F_STR("reason", code),
           GW_F_END);
    gw_reply_refuse(req, 401, code, message, NULL);
}

/* Okta's one-time GET: echo the challenge once the hook's secret holds. */
static void
answer_challenge(struct gw_request *req, const struct gw_webhook_source *src)
{
    const char *challenge;
    struct json_object *answer;
    enum gw_webhook_sig_result rc;

    if (src->provider->challenge_header == NULL) {
        gw_reply_header(req, "Allow", "POST");
        gw_reply_refuse(req, 405, "method_not_allowed",
                        "this provider's webhooks are POST only", NULL);
        return;
    }
    rc = check_signature(req, src, gw_clock_now_ms());
    if (rc != GW_WEBHOOK_SIG_OK) {
        refuse_signature(req, src, rc);
        return;
    }
    challenge = gw_request_header(req, src->provider->challenge_header);
    if (challenge == NULL || challenge[0] == '\0' ||
        strlen(challenge) > CHALLENGE_MAX) {
        gw_reply_refuse(req, 400, "missing_field",
                        "a verification GET carries the challenge header",
                        src->provider->challenge_header);
        return;
    }
    answer = json_object_new_object();
    if (answer != NULL) {
        json_object_object_add(answer, "verification",
                               json_object_new_string(challenge));
    }
    gw_reply_json(req, 200, answer);
}

/* Firebase: the delivery is a JWT inside the body, signed by Google. */
static bool
verify_body_jwt(struct gw_request *req, const struct gw_webhook_source *src,
                struct json_object *body, int64_t now_ms,
                struct json_object **claims)
{
    const char *token = gw_provider_string(body, src->provider->token_path);
    struct gw_jwt_verified v;
    enum gw_jwt_result rc;
    char message[96];

    if (token == NULL) {
        snprintf(message, sizeof(message), "the body has no %s token",
                 src->provider->token_path);
        gw_reply_refuse(req, 401, "missing_token", message, NULL);
        return false;
    }
    rc = gw_jwt_verify(&src->policy, &src->keys, token, strlen(token), now_ms,
                       &v);
    if (rc != GW_JWT_OK) {
        gw_reply_token_error(req, rc, &v);
        return false;
    }
    *claims = v.claims;
    return true;
}

static void
refuse_item(struct gw_request *req, const struct gw_provider_output *out,
            struct json_object *item, long index)
{
    struct gw_event_error err = {0};
    struct json_object *v = NULL;
    enum gw_event_result rc = out->bad_timestamp ? GW_EVENT_INVALID_TIMESTAMP
                                                 : GW_EVENT_MISSING_FIELD;

    snprintf(err.field, sizeof(err.field), "%.63s",
             out->field != NULL ? out->field : "");
    snprintf(err.message, sizeof(err.message), "%.191s", out->reason);
    if (out->bad_timestamp && out->field != NULL) {
        v = gw_provider_get(item, out->field);
        snprintf(err.value, sizeof(err.value), "%.64s",
                 v != NULL ? json_object_get_string(v) : "");
    }
    gw_reply_event_error(req, rc, &err, index);
}

static void
log_item(struct gw_request *req, const struct gw_provider *p,
         const struct gw_provider_output *out, bool signed_in)
{
    gw_metrics_inc2(ITEMS_METRIC, "provider", p->name, "outcome",
                    signed_in ? "signed_in" : "ignored");
    if (!signed_in) {
        gw_metrics_add("signin_gateway_events_ignored_total", NULL, NULL, 1);
    }
    if (!gw_log_enabled(GW_LOG_DEBUG)) {
        return;
    }
    if (signed_in) {
        gw_log(GW_LOG_DEBUG, "webhook", "sign_in",
               GW_F_STR("req", gw_request_id(req)),
               GW_F_STR("provider", p->name),
               GW_F_UNTRUSTED("user_id", out->fields.user_id),
               GW_F_EMAIL("email", out->fields.email), GW_F_END);
    } else {
        gw_log(GW_LOG_DEBUG, "webhook", "item_ignored",
               GW_F_STR("req", gw_request_id(req)),
               GW_F_STR("provider", p->name), GW_F_STR("reason", out->reason),
               GW_F_END);
    }
}

/* Maps one element: an event added to d, an ignored count, or a reply. */
static bool
map_item(struct gw_request *req, struct gw_handler_env *env,
         const struct gw_webhook_source *src, struct gw_provider_input *in,
         long index, int64_t now_ms, struct delivery *d)
{
    const struct gw_provider *p = src->provider;
    struct gw_provider_output out = {0};
    enum gw_provider_verdict verdict;
    enum gw_event_result rc = GW_EVENT_OK;

    gw_webhook_fields_init(&out.fields);
    verdict = p->map(in, &out);
    if (verdict == GW_PROVIDER_SIGNIN) {
        rc = gw_webhook_event_build(&env->mapping, p->name, &out.fields, now_ms,
                                    &d->events[d->count]);
        if (rc == GW_EVENT_OK) {
            d->count++;
            log_item(req, p, &out, true);
        }
    } else if (verdict == GW_PROVIDER_IGNORED) {
        d->ignored++;
        log_item(req, p, &out, false);
    } else if (verdict == GW_PROVIDER_INVALID) {
        refuse_item(req, &out, in->item, index);
    }
    if (verdict == GW_PROVIDER_NO_MEMORY || rc != GW_EVENT_OK) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
    }
    gw_webhook_fields_clear(&out.fields);
    return (verdict == GW_PROVIDER_SIGNIN && rc == GW_EVENT_OK) ||
           verdict == GW_PROVIDER_IGNORED;
}

/* The delivery's elements: a batch's array, or the body as one. */
static bool
split_items(struct gw_request *req, const struct gw_webhook_env *w,
            const struct gw_provider *p, struct json_object *root,
            struct json_object **array, size_t *count)
{
    char message[96];

    *array = NULL;
    *count = 1;
    if (p->items == NULL) {
        return true;
    }
    if (!p->items(root, array)) {
        snprintf(message, sizeof(message),
                 "the body is not a %s webhook delivery", p->name);
        gw_reply_refuse(req, 400, "invalid_body", message, NULL);
        return false;
    }
    *count = *array != NULL ? json_object_array_length(*array) : 1;
    if (*count > w->max_events) {
        snprintf(message, sizeof(message),
                 "at most %zu elements per delivery (webhooks.max_events)",
                 w->max_events);
        gw_reply_refuse(req, 413, "too_many_events", message, NULL);
        return false;
    }
    return true;
}

static bool
collect(struct gw_request *req, struct gw_handler_env *env,
        const struct gw_webhook_source *src, struct json_object *root,
        int64_t now_ms, struct delivery *d)
{
    const struct gw_provider *p = src->provider;
    struct json_object *array;
    struct gw_provider_input in = {.custom = &env->webhooks->custom};
    size_t count;

    if (!split_items(req, env->webhooks, p, root, &array, &count)) {
        return false;
    }
    d->events = calloc(count > 0 ? count : 1, sizeof(*d->events));
    if (d->events == NULL) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
        return false;
    }
    if (p->id_header != NULL) {
        in.delivery_id = gw_request_header(req, p->id_header);
    }
    for (size_t i = 0; i < count; i++) {
        in.item = array != NULL ? json_object_array_get_idx(array, i) : root;
        if (!map_item(req, env, src, &in, array != NULL ? (long)i : -1, now_ms,
                      d)) {
            return false;
        }
    }
    return true;
}

static void
reply_accepted(struct gw_request *req, const struct gw_event *events,
               const bool *duplicate, size_t n, void *ctx)
{
    struct answer *a = ctx;
    struct json_object *obj = json_object_new_object(), *ids;
    size_t dups = 0;

    for (size_t i = 0; i < n; i++) {
        dups += duplicate[i] ? 1 : 0;
    }
    if (obj == NULL || a->provider->answer == GW_ANSWER_EMPTY) {
        gw_reply_json(req, 200, obj);
        return;
    }
    if (a->provider->answer == GW_ANSWER_ECHO) {
        /* The provider's own document, unchanged: nothing of ours. */
        json_object_object_add(obj, a->provider->answer_member,
                               json_object_get(a->echo));
        gw_reply_json(req, 200, obj);
        return;
    }
    ids = json_object_new_array();
    for (size_t i = 0; ids != NULL && i < n; i++) {
        json_object_array_add(ids, json_object_new_string(events[i].id));
    }
    json_object_object_add(obj, "status", json_object_new_string("accepted"));
    json_object_object_add(obj, "events",
                           json_object_new_int64((int64_t)(n - dups)));
    json_object_object_add(obj, "duplicates",
                           json_object_new_int64((int64_t)dups));
    json_object_object_add(obj, "ignored",
                           json_object_new_int64((int64_t)a->ignored));
    json_object_object_add(obj, "event_ids", ids);
    gw_reply_json(req, 200, obj);
}

static void
hand_over(struct gw_request *req, struct gw_handler_env *env,
          const struct gw_provider *p, struct json_object *body,
          struct delivery *d)
{
    struct answer *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    a->provider = p;
    a->ignored = d->ignored;
    if (p->answer == GW_ANSWER_ECHO) {
        a->echo = json_object_get(gw_provider_get(body, p->answer_member));
    }
    gw_accept_events(req, env, d->events, d->count, reply_accepted, a,
                     answer_free);
}

static void
handle_webhook(struct gw_request *req, void *ctx)
{
    struct gw_handler_env *env = ctx;
    struct gw_webhook_source *src = find_source(req, env->webhooks);
    struct json_object *body = NULL, *claims = NULL;
    struct delivery d = {0};
    enum gw_webhook_sig_result rc;
    int64_t now = gw_clock_now_ms();

    if (src == NULL) {
        return;
    }
    if (strcmp(gw_request_method(req), "GET") == 0) {
        answer_challenge(req, src);
        return;
    }
    /* The signature is over the raw bytes: checked before any parsing. */
    rc = check_signature(req, src, now);
    if (rc != GW_WEBHOOK_SIG_OK) {
        refuse_signature(req, src, rc);
        return;
    }
    if (!gw_reply_need_json(req, &body) ||
        (src->provider->scheme == GW_SCHEME_BODY_JWT &&
         !verify_body_jwt(req, src, body, now, &claims)) ||
        !collect(req, env, src, claims != NULL ? claims : body, now, &d)) {
        goto out;
    }
    hand_over(req, env, src->provider, body, &d);
out:
    delivery_free(&d);
    json_object_put(claims);
    json_object_put(body);
}

struct gw_route
gw_webhook_route(struct gw_handler_env *env)
{
    return (struct gw_route){ROUTE_PREFIX "*", "GET, POST", handle_webhook,
                             env};
}
