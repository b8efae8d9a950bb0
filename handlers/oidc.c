/* handlers/oidc.c: browsers' ID tokens from the configured OIDC issuers:
 * their remote keys, policies and claim mappings, for /v1/signed-in. */
#include "handlers/oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/issuers.h"
#include "auth/jwks.h"
#include "common/log.h"
#include "handlers/ready.h"
#include "handlers/reply_map.h"

#define SET_PREFIX "issuer."

/* Comma lists of one issuer, split once. */
struct lists {
    char **names;        /* name_claims */
    char **extra_claims; /* extra_claims, the claim part */
    char **extra_names;  /* ... and the property name */
    size_t name_count, extra_count, extra_name_count;
};

struct gw_oidc {
    struct gw_jwks *jwks;
    struct gw_issuer *issuers;
    struct gw_jwks_source *sources;
    struct gw_event_mapping *maps;
    struct lists *lists;
    size_t count;
};

static void
free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count && items != NULL; i++) {
        free(items[i]);
    }
    free(items);
}

/* Appends text[0..len), trimmed; skips empty items. */
static bool
push(char ***items, size_t *count, const char *text, size_t len)
{
    char **grown;

    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t')) {
        len--;
    }
    if (len == 0) {
        return true;
    }
    grown = realloc(*items, (*count + 1) * sizeof(char *));
    if (grown == NULL) {
        return false;
    }
    *items = grown;
    grown[*count] = strndup(text, len);
    if (grown[*count] == NULL) {
        return false;
    }
    (*count)++;
    return true;
}

static bool
split(const char *text, char ***items, size_t *count)
{
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, ",");

        if (!push(items, count, p, n)) {
            return false;
        }
        p += n;
        p += *p == ',';
    }
    return true;
}

/* extra_claims items are "claim" or "claim=property". */
static bool
split_extra(const char *text, struct lists *l)
{
    char **raw = NULL;
    size_t n = 0;
    bool ok = split(text, &raw, &n);

    for (size_t i = 0; ok && i < n; i++) {
        const char *eq = strrchr(raw[i], '=');
        const char *name = eq != NULL ? eq + 1 : raw[i];

        ok = push(&l->extra_claims, &l->extra_count, raw[i],
                  eq != NULL ? (size_t)(eq - raw[i]) : strlen(raw[i])) &&
             push(&l->extra_names, &l->extra_name_count, name,
                  strlen(name)) &&
             l->extra_name_count == l->extra_count;
    }
    free_strings(raw, n);
    return ok;
}

/* Tells /readyz what the refresh thread found. */
static void
on_report(void *ctx, const struct gw_jwks_status *st)
{
    char set[40], detail[96];

    (void)ctx;
    snprintf(set, sizeof(set), SET_PREFIX "%s", st->name);
    snprintf(detail, sizeof(detail), "%s", st->last_error ? st->last_error
                                                          : "");
    if (st->key_count == 0) {
        gw_ready_keyset_report(set, GW_READY_KEYS_MISSING, detail);
    } else if (st->last_error != NULL) {
        /* The provider failed: the last good keys keep serving. */
        gw_ready_keyset_report(set, GW_READY_KEYS_STALE, detail);
    } else {
        gw_ready_keyset_report(set, GW_READY_KEYS_LOADED, NULL);
    }
}

static bool
build_one(const struct gw_config *cfg, const struct gw_event_mapping *base,
          struct gw_oidc *o, size_t i, char *err, size_t err_len)
{
    const struct gw_issuer_config *ic = &cfg->issuers[i];
    struct lists *l = &o->lists[i];
    unsigned algs;
    char bad[24];

    if (!gw_algs_parse_list(ic->algs, &algs, bad, sizeof(bad))) {
        snprintf(err, err_len, "issuers.%s.algs: unknown algorithm '%s'",
                 ic->name, bad);
        return false;
    }
    if (algs & GW_ALGS_HMAC) {
        snprintf(err, err_len, "issuers.%s.algs: HS* needs a shared secret, "
                 "which a published key set never holds", ic->name);
        return false;
    }
    if (!split(ic->name_claims, &l->names, &l->name_count) ||
        !split_extra(ic->extra_claims, l)) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    o->issuers[i] = (struct gw_issuer){
        .name = ic->name,
        .policy = {.algs = algs, .iss = ic->url, .aud = ic->aud,
                   .leeway_s = cfg->auth_leeway_s},
    };
    o->sources[i] = (struct gw_jwks_source){
        .name = ic->name, .issuer = ic->url, .jwks_url = ic->jwks_url,
        .algs = algs};
    o->maps[i] = *base;
    o->maps[i].group_claim = ic->group_claim;
    o->maps[i].name_claims = (const char *const *)l->names;
    o->maps[i].name_claim_count = l->name_count;
    o->maps[i].extra_claims = (const char *const *)l->extra_claims;
    o->maps[i].extra_names = (const char *const *)l->extra_names;
    o->maps[i].extra_claim_count = l->extra_count;
    return true;
}

static void
wait_for_keys(struct gw_oidc *o, int64_t wait_ms)
{
    struct gw_jwks_status st[GW_ISSUERS_MAX];
    size_t n;

    if (gw_jwks_wait_ready(o->jwks, wait_ms)) {
        return;
    }
    /* Decided: the gateway serves without them. Sign-ins of the other
     * issuers and of the key files work; this issuer's get 503 until its
     * provider answers, and /readyz says not ready meanwhile. */
    n = gw_jwks_status(o->jwks, st, GW_ISSUERS_MAX);
    for (size_t i = 0; i < n && i < GW_ISSUERS_MAX; i++) {
        if (st[i].key_count == 0) {
            gw_log(GW_LOG_WARN, "main", "issuer_keys_missing",
                   GW_F_STR("issuer", st[i].name),
                   GW_F_STR("reason", st[i].last_error),
                   GW_F_STR("message", "serving without this issuer's keys; "
                                       "its sign-ins get 503 until they "
                                       "are fetched"),
                   GW_F_END);
        }
    }
}

static struct gw_jwks_config
jwks_config(const struct gw_config *cfg)
{
    return (struct gw_jwks_config){
        .ca_file = cfg->oidc_ca_file,
        .min_ttl_ms = cfg->oidc_cache_min_s * 1000,
        .max_ttl_ms = cfg->oidc_cache_max_s * 1000,
        .refetch_interval_ms = cfg->oidc_refetch_interval_s * 1000,
        .retry_max_ms = cfg->oidc_retry_max_s * 1000,
        .timeout_ms = cfg->oidc_fetch_timeout_ms,
        .max_bytes = (size_t)cfg->oidc_max_bytes,
        .report = on_report,
    };
}

struct gw_oidc *
gw_oidc_load(const struct gw_config *cfg, const struct gw_event_mapping *base,
             char *err, size_t err_len)
{
    struct gw_oidc *o = calloc(1, sizeof(*o));
    struct gw_jwks_config jc = jwks_config(cfg);
    size_t n = cfg->issuer_count;
    char set[40];

    if (o == NULL || (o->issuers = calloc(n, sizeof(*o->issuers))) == NULL ||
        (o->sources = calloc(n, sizeof(*o->sources))) == NULL ||
        (o->maps = calloc(n, sizeof(*o->maps))) == NULL ||
        (o->lists = calloc(n, sizeof(*o->lists))) == NULL) {
        snprintf(err, err_len, "out of memory");
        gw_oidc_free(o);
        return NULL;
    }
    o->count = n;
    for (size_t i = 0; i < n; i++) {
        if (!build_one(cfg, base, o, i, err, err_len)) {
            gw_oidc_free(o);
            return NULL;
        }
        snprintf(set, sizeof(set), SET_PREFIX "%s", cfg->issuers[i].name);
        gw_ready_keyset_report(set, GW_READY_KEYS_MISSING, "not fetched yet");
    }
    o->jwks = gw_jwks_new(&jc, o->sources, n, err, err_len);
    if (o->jwks == NULL) {
        gw_oidc_free(o);
        return NULL;
    }
    wait_for_keys(o, cfg->oidc_startup_wait_ms);
    return o;
}

void
gw_oidc_free(struct gw_oidc *oidc)
{
    if (oidc == NULL) {
        return;
    }
    gw_jwks_free(oidc->jwks);
    for (size_t i = 0; i < oidc->count && oidc->lists != NULL; i++) {
        struct lists *l = &oidc->lists[i];

        free_strings(l->names, l->name_count);
        free_strings(l->extra_claims, l->extra_count);
        free_strings(l->extra_names, l->extra_name_count);
    }
    free(oidc->lists);
    free(oidc->maps);
    free(oidc->sources);
    free(oidc->issuers);
    free(oidc);
}

/* The verdict of the issuers; true when the key files should try. */
static bool
issuers_verdict(struct gw_handler_env *env, struct gw_request *req,
                enum gw_issuers_result r, enum gw_jwt_result jrc,
                struct gw_jwt_verified *v)
{
    switch (r) {
    case GW_ISSUERS_REFUSED:
        gw_reply_token_error(req, jrc, v);
        return false;
    case GW_ISSUERS_KEYS_UNAVAILABLE:
        /* Not the token's fault: the provider's keys never arrived. */
        gw_reply_header(req, "Retry-After", "5");
        gw_reply_refuse(req, 503, "keys_unavailable",
                        "the issuer's signing keys could not be fetched "
                        "yet; retry later", NULL);
        return false;
    default:
        if (env->user_keys.count == 0) {
            gw_reply_token_error(req, GW_JWT_WRONG_ISSUER, v);
            return false;
        }
        return true;
    }
}

bool
gw_oidc_signin_verify(struct gw_handler_env *env, struct gw_request *req,
                      const char *token, size_t token_len, int64_t now_ms,
                      struct gw_jwt_verified *v,
                      const struct gw_event_mapping **map)
{
    struct gw_oidc *o = env->oidc;
    enum gw_jwt_result jrc = GW_JWT_OK;
    enum gw_issuers_result r;
    size_t index = 0;

    *map = &env->mapping;
    if (o != NULL) {
        r = gw_issuers_verify(o->issuers, o->count, o->jwks, token, token_len,
                              now_ms, v, &jrc, &index);
        if (r == GW_ISSUERS_OK) {
            *map = &o->maps[index];
            return true;
        }
        if (!issuers_verdict(env, req, r, jrc, v)) {
            return false;
        }
    }
    jrc = gw_jwt_verify(&env->user_policy, &env->user_keys, token, token_len,
                        now_ms, v);
    if (jrc != GW_JWT_OK) {
        gw_reply_token_error(req, jrc, v);
        return false;
    }
    return true;
}
