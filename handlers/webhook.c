/* handlers/webhook.c: POST /v1/webhooks/<provider>, identity providers'
 * login webhooks: signature first, then the provider's unit (events/
 * providers/) turns each sign-in into a signed_in event. */
#include "handlers/webhook.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

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

/* One delivery under check: from HTTP (req set: refusals are replied) or
 * from gw_webhook_explain (probe set: refusals are recorded, steps told).
 * Both run the same functions below. */
struct check {
    struct gw_request *req;
    const struct gw_webhook_probe *probe;
    struct gw_webhook_verdict *verdict;
};

static const char *
header(const struct check *c, const char *name)
{
    if (c->req != NULL) {
        return gw_request_header(c->req, name);
    }
    return c->probe->header_fn(c->probe->header_ctx, name);
}

static const char *
body_of(const struct check *c, size_t *len)
{
    if (c->req != NULL) {
        return gw_request_body(c->req, len);
    }
    *len = c->probe->body_len;
    return c->probe->body;
}

static bool
explaining(const struct check *c)
{
    return c->probe != NULL && c->probe->step_fn != NULL;
}

static void __attribute__((format(printf, 2, 3)))
step(const struct check *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!explaining(c)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->probe->step_fn(c->probe->step_ctx, line);
}

/* Replies (HTTP) or records (explain) a refusal. */
static void
refuse(struct check *c, unsigned status, const char *code, const char *message,
       const char *field)
{
    if (c->req != NULL) {
        gw_reply_refuse(c->req, status, code, message, field);
        return;
    }
    c->verdict->status = status;
    c->verdict->code = code;
    snprintf(c->verdict->message, sizeof(c->verdict->message), "%s%s%s%s",
             message, field != NULL ? " (field " : "",
             field != NULL ? field : "", field != NULL ? ")" : "");
}

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

/* The source of /v1/webhooks/<name>; refuses 404 and returns NULL when
 * there is no such provider or it is not configured. */
static struct gw_webhook_source *
find_source(struct check *c, const struct gw_webhook_env *w, const char *name)
{
    const struct gw_provider *p = NULL;
    char message[256];

    if (w != NULL && name != NULL) {
        p = gw_provider_find(name);
    }
    if (p == NULL) {
        step(c, "provider: \"%.64s\": no such provider", name ? name : "");
        refuse(c, 404, "not_found",
               "no webhook provider of that name (see README, "
               "Identity-provider webhooks)",
               NULL);
        return NULL;
    }
    for (size_t i = 0; i < w->source_count; i++) {
        if (w->sources[i].provider == p && w->sources[i].configured) {
            step(c, "provider: %s, configured", p->name);
            return &w->sources[i];
        }
    }
    step(c, "provider: %s, not configured: set %s", p->name, p->setting);
    snprintf(message, sizeof(message), "webhooks from %s are off: set %s",
             p->name, p->setting);
    refuse(c, 404, "not_configured", message, NULL);
    return NULL;
}

static const char *
signature_header(const struct gw_webhook_source *src)
{
    return src->provider->scheme == GW_SCHEME_HMAC_CUSTOM
               ? src->signature_header
               : src->provider->signature_header;
}

static const char *const scheme_names[] = {
    [GW_SCHEME_STATIC] = "a shared header value",
    [GW_SCHEME_STANDARD] = "Standard Webhooks (Svix): HMAC of id.ts.body",
    [GW_SCHEME_WORKOS] = "WorkOS: HMAC-SHA256 of t.body",
    [GW_SCHEME_HMAC_HEX] = "HMAC-SHA256 of the body, hex",
    [GW_SCHEME_HMAC_CUSTOM] = "HMAC-SHA256 of the body (custom settings)",
    [GW_SCHEME_JWS_BODY] = "a JWS holding the body's SHA-256",
    [GW_SCHEME_BODY_JWT] = "a JWT inside the body",
};

/* 8 hex of SHA-256: enough to tell entries apart, nothing to replay. */
static void
fingerprint(const char *text, size_t len, char out[9])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)text, len, md);
    snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

struct observed {
    const struct check *check;
    size_t entries;
};

static void
on_entry(void *ctx, const char *entry, size_t len, bool readable, bool matched)
{
    struct observed *o = ctx;
    char fp[9];

    fingerprint(entry, len, fp);
    step(o->check, "  entry %zu: %zu bytes, fingerprint %s: %s", ++o->entries,
         len, fp,
         !readable ? "unreadable, skipped"
                   : (matched ? "matches" : "does not match"));
}

static void
on_time(void *ctx, int64_t signed_ms, int64_t now_ms, int64_t tolerance_s,
        bool fresh)
{
    struct observed *o = ctx;

    step(o->check, "timestamp: %lld (%+lld s from now, tolerance %lld s): %s",
         (long long)(signed_ms / 1000),
         (long long)((signed_ms - now_ms) / 1000), (long long)tolerance_s,
         fresh ? "ok" : "outside the window");
}

static void
explain_headers(const struct check *c, const struct gw_webhook_source *src,
                const struct gw_webhook_signed *r)
{
    const struct gw_provider *p = src->provider;

    step(c, "scheme: %s", scheme_names[p->scheme]);
    if (p->scheme == GW_SCHEME_BODY_JWT) {
        step(c, "header: none (the token is the body's %s)", p->token_path);
        return;
    }
    if (r->signature != NULL) {
        step(c, "header %s: present, %zu bytes", signature_header(src),
             strlen(r->signature));
    } else {
        step(c, "header %s: absent", signature_header(src));
    }
    if (p->id_header != NULL) {
        step(c, "header %s: %s%.64s%s", p->id_header, r->id ? "\"" : "",
             r->id != NULL ? r->id : "absent", r->id ? "\"" : "");
        step(c, "header %s: %s%.32s%s", p->timestamp_header,
             r->timestamp ? "\"" : "",
             r->timestamp != NULL ? r->timestamp : "absent",
             r->timestamp ? "\"" : "");
    }
}

static enum gw_webhook_sig_result
check_signature(const struct check *c, const struct gw_webhook_source *src,
                int64_t now_ms)
{
    const struct gw_provider *p = src->provider;
    struct observed o = {c, 0};
    struct gw_webhook_sig_observer observer = {on_entry, on_time, &o};
    struct gw_webhook_signed r = {0};
    enum gw_webhook_sig_result rc = GW_WEBHOOK_SIG_MISMATCH;
    enum gw_jwt_result jrc = GW_JWT_OK;

    r.body = body_of(c, &r.body_len);
    r.signature =
        signature_header(src) != NULL ? header(c, signature_header(src)) : NULL;
    if (p->id_header != NULL) {
        r.id = header(c, p->id_header);
        r.timestamp = header(c, p->timestamp_header);
    }
    if (explaining(c)) {
        r.observer = &observer;
        explain_headers(c, src, &r);
    }
    switch (p->scheme) {
    case GW_SCHEME_STATIC:
        rc = gw_webhook_sig_static(src->secret, r.signature);
        break;
    case GW_SCHEME_STANDARD:
        rc = gw_webhook_sig_standard(src->secret, &r, now_ms, src->tolerance_s);
        break;
    case GW_SCHEME_WORKOS:
        rc = gw_webhook_sig_workos(src->secret, &r, now_ms, src->tolerance_s);
        break;
    case GW_SCHEME_HMAC_HEX:
        /* One revision of Logto's signer wrote "sha256=<hex>". */
        rc = gw_webhook_sig_hmac_body(src->secret, GW_WEBHOOK_HEX,
                                      "sha256=", &r);
        break;
    case GW_SCHEME_HMAC_CUSTOM:
        rc = gw_webhook_sig_hmac_body(src->secret, src->encoding,
                                      src->signature_prefix, &r);
        break;
    case GW_SCHEME_JWS_BODY:
        rc =
            gw_webhook_sig_jws_body(&src->policy, &src->keys, &r, now_ms, &jrc);
        step(c, "  token check: %s", gw_jwt_result_code(jrc));
        break;
    case GW_SCHEME_BODY_JWT:
        return GW_WEBHOOK_SIG_OK; /* the token is read from the body */
    }
    step(c, "signature: %s",
         rc == GW_WEBHOOK_SIG_OK ? "valid" : gw_webhook_sig_result_code(rc));
    return rc;
}

static void
refuse_signature(struct check *c, const struct gw_webhook_source *src,
                 enum gw_webhook_sig_result rc)
{
    const char *name = signature_header(src), *code;
    char message[192];

    if (rc == GW_WEBHOOK_SIG_NO_MEMORY) {
        refuse(c, 503, "no_memory", "try again later", NULL);
        return;
    }
    code = gw_webhook_sig_result_code(rc);
    switch (rc) {
    case GW_WEBHOOK_SIG_MISSING:
        snprintf(message, sizeof(message), "the %s header is missing%s", name,
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
                 name);
        break;
    default:
        snprintf(message, sizeof(message),
                 "the %s header does not match this body and the "
                 "configured secret",
                 name);
        break;
    }
    if (c->req != NULL) {
        gw_log(GW_LOG_DEBUG, "webhook", "delivery_refused",
               GW_F_STR("req", gw_request_id(c->req)),
               GW_F_STR("provider", src->provider->name),
               GW_F_STR("reason", code), GW_F_END);
    }
    refuse(c, 401, code, message, NULL);
}

/* Okta's one-time GET: echo the challenge once the hook's secret holds. */
static void
answer_challenge(struct gw_request *req, const struct gw_webhook_source *src)
{
    struct check c = {.req = req};
    const char *challenge;
    struct json_object *answer;
    enum gw_webhook_sig_result rc;

    if (src->provider->challenge_header == NULL) {
        gw_reply_header(req, "Allow", "POST");
        gw_reply_refuse(req, 405, "method_not_allowed",
                        "this provider's webhooks are POST only", NULL);
        return;
    }
    rc = check_signature(&c, src, gw_clock_now_ms());
    if (rc != GW_WEBHOOK_SIG_OK) {
        refuse_signature(&c, src, rc);
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

/* Content-Type and strict JSON, as every JSON endpoint checks them. */
static bool
need_json(struct check *c, struct json_object **body)
{
    const char *text, *code = NULL;
    char message[96];
    unsigned status;
    size_t len;

    text = body_of(c, &len);
    status = gw_reply_json_check(header(c, "Content-Type"), text, len, body,
                                 &code, message, sizeof(message));
    if (status != 0) {
        step(c, "body: %zu bytes, refused: %s", len, message);
        refuse(c, status, code, message, NULL);
        return false;
    }
    step(c, "body: %zu bytes of JSON", len);
    return true;
}

/* Firebase: the delivery is a JWT inside the body, signed by Google. */
static bool
verify_body_jwt(struct check *c, const struct gw_webhook_source *src,
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
        step(c, "token: absent");
        refuse(c, 401, "missing_token", message, NULL);
        return false;
    }
    rc = gw_jwt_verify(&src->policy, &src->keys, token, strlen(token), now_ms,
                       &v);
    step(c, "token: %zu bytes, check: %s", strlen(token),
         gw_jwt_result_code(rc));
    if (rc != GW_JWT_OK) {
        if (c->req != NULL) {
            gw_reply_token_error(c->req, rc, &v);
        } else {
            refuse(c, rc == GW_JWT_NO_MEMORY ? 503 : 401,
                   rc == GW_JWT_NO_MEMORY ? "no_memory"
                                          : gw_jwt_result_code(rc),
                   "the token was refused", NULL);
        }
        gw_jwt_verified_clear(&v);
        return false;
    }
    *claims = v.claims;
    return true;
}

static void
refuse_item(struct check *c, const struct gw_provider_output *out,
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
    if (c->req != NULL) {
        gw_reply_event_error(c->req, rc, &err, index);
        return;
    }
    refuse(c, 400, gw_event_result_code(rc), err.message,
           err.field[0] != '\0' ? err.field : NULL);
}

static void
log_item(const struct check *c, const struct gw_provider *p,
         const struct gw_provider_output *out, bool signed_in)
{
    if (c->req == NULL) {
        return; /* explaining: nothing served, nothing to count */
    }
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
               GW_F_STR("req", gw_request_id(c->req)),
               GW_F_STR("provider", p->name),
               GW_F_UNTRUSTED("user_id", out->fields.user_id),
               GW_F_EMAIL("email", out->fields.email), GW_F_END);
    } else {
        gw_log(GW_LOG_DEBUG, "webhook", "item_ignored",
               GW_F_STR("req", gw_request_id(c->req)),
               GW_F_STR("provider", p->name), GW_F_STR("reason", out->reason),
               GW_F_END);
    }
}

static void
explain_item(const struct check *c, size_t index, enum gw_provider_verdict v,
             const struct gw_provider_output *out, const struct gw_event *ev)
{
    switch (v) {
    case GW_PROVIDER_SIGNIN:
        step(c, "item %zu: sign-in", index);
        if (ev != NULL) {
            step(c, "  event: %.440s", ev->json);
        }
        break;
    case GW_PROVIDER_IGNORED:
        step(c, "item %zu: ignored: %s", index, out->reason);
        break;
    case GW_PROVIDER_INVALID:
        step(c, "item %zu: refused: %s%s%s", index, out->reason,
             out->field != NULL ? ", field " : "",
             out->field != NULL ? out->field : "");
        break;
    case GW_PROVIDER_NO_MEMORY:
        break;
    }
}

/* Maps one element: an event added to d, an ignored count, or a refusal. */
static bool
map_item(struct check *c, const struct gw_handler_env *env,
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
            explain_item(c, index < 0 ? 0 : (size_t)index, verdict, &out,
                         &d->events[d->count]);
            d->count++;
            log_item(c, p, &out, true);
        }
    } else if (verdict == GW_PROVIDER_IGNORED) {
        explain_item(c, index < 0 ? 0 : (size_t)index, verdict, &out, NULL);
        d->ignored++;
        log_item(c, p, &out, false);
    } else if (verdict == GW_PROVIDER_INVALID) {
        explain_item(c, index < 0 ? 0 : (size_t)index, verdict, &out, NULL);
        refuse_item(c, &out, in->item, index);
    }
    if (verdict == GW_PROVIDER_NO_MEMORY || rc != GW_EVENT_OK) {
        refuse(c, 503, "no_memory", "try again later", NULL);
    }
    gw_webhook_fields_clear(&out.fields);
    return (verdict == GW_PROVIDER_SIGNIN && rc == GW_EVENT_OK) ||
           verdict == GW_PROVIDER_IGNORED;
}

/* The delivery's elements: a batch's array, or the body as one. */
static bool
split_items(struct check *c, const struct gw_webhook_env *w,
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
        step(c, "shape: %s", message);
        refuse(c, 400, "invalid_body", message, NULL);
        return false;
    }
    *count = *array != NULL ? json_object_array_length(*array) : 1;
    step(c, "shape: %zu element(s)", *count);
    if (*count > w->max_events) {
        snprintf(message, sizeof(message),
                 "at most %zu elements per delivery (webhooks.max_events)",
                 w->max_events);
        refuse(c, 413, "too_many_events", message, NULL);
        return false;
    }
    return true;
}

static bool
collect(struct check *c, const struct gw_handler_env *env,
        const struct gw_webhook_source *src, struct json_object *root,
        int64_t now_ms, struct delivery *d)
{
    const struct gw_provider *p = src->provider;
    struct json_object *array;
    struct gw_provider_input in = {.custom = &env->webhooks->custom};
    size_t count;

    if (!split_items(c, env->webhooks, p, root, &array, &count)) {
        return false;
    }
    d->events = calloc(count > 0 ? count : 1, sizeof(*d->events));
    if (d->events == NULL) {
        refuse(c, 503, "no_memory", "try again later", NULL);
        return false;
    }
    if (p->id_header != NULL) {
        in.delivery_id = header(c, p->id_header);
    }
    for (size_t i = 0; i < count; i++) {
        in.item = array != NULL ? json_object_array_get_idx(array, i) : root;
        if (!map_item(c, env, src, &in, array != NULL ? (long)i : -1, now_ms,
                      d)) {
            return false;
        }
    }
    return true;
}

/* Everything after the provider is known, for a POST: signature over the
 * raw bytes first, then JSON, then each element. False: refused. */
static bool
check_delivery(struct check *c, const struct gw_handler_env *env,
               const struct gw_webhook_source *src, int64_t now_ms,
               struct json_object **body, struct json_object **claims,
               struct delivery *d)
{
    enum gw_webhook_sig_result rc = check_signature(c, src, now_ms);

    if (rc != GW_WEBHOOK_SIG_OK) {
        refuse_signature(c, src, rc);
        return false;
    }
    if (!need_json(c, body) ||
        (src->provider->scheme == GW_SCHEME_BODY_JWT &&
         !verify_body_jwt(c, src, *body, now_ms, claims))) {
        return false;
    }
    return collect(c, env, src, *claims != NULL ? *claims : *body, now_ms, d);
}

bool
gw_webhook_explain(const struct gw_handler_env *env,
                   const struct gw_webhook_probe *probe,
                   struct gw_webhook_verdict *out)
{
    struct check c = {.probe = probe, .verdict = out};
    const struct gw_webhook_source *src;
    struct json_object *body = NULL, *claims = NULL;
    struct delivery d = {0};

    memset(out, 0, sizeof(*out));
    src = find_source(&c, env->webhooks, probe->provider);
    if (src != NULL &&
        check_delivery(&c, env, src, probe->now_ms, &body, &claims, &d)) {
        out->status = 200;
        out->code = "accepted";
        out->events = d.events;
        out->event_count = d.count;
        out->ignored = d.ignored;
        d.events = NULL;
    }
    delivery_free(&d);
    json_object_put(claims);
    json_object_put(body);
    return out->status != 503;
}

void
gw_webhook_verdict_clear(struct gw_webhook_verdict *v)
{
    for (size_t i = 0; v->events != NULL && i < v->event_count; i++) {
        gw_event_clear(&v->events[i]);
    }
    free(v->events);
    v->events = NULL;
    v->event_count = 0;
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
    struct check c = {.req = req};
    const char *path = gw_request_path(req);
    struct gw_webhook_source *src;
    struct json_object *body = NULL, *claims = NULL;
    struct delivery d = {0};

    src = find_source(&c, env->webhooks,
                      strncmp(path, ROUTE_PREFIX, strlen(ROUTE_PREFIX)) == 0
                          ? path + strlen(ROUTE_PREFIX)
                          : NULL);
    if (src == NULL) {
        return;
    }
    if (strcmp(gw_request_method(req), "GET") == 0) {
        answer_challenge(req, src);
        return;
    }
    if (check_delivery(&c, env, src, gw_clock_now_ms(), &body, &claims, &d)) {
        hand_over(req, env, src->provider, body, &d);
    }
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
