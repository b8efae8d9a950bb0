/* handlers/webhook_config.c: the webhook settings turned into, per
 * provider, a secret or key set and a time window; built once at start. */
#include "handlers/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/fileutil.h"
#include "common/log.h"

#define KEY_FILE_MAX ((size_t)1024 * 1024)

static const char *
opt(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static bool
set_text_secret(struct gw_webhook_source *src, const char *text)
{
    src->secret = gw_secret_new(text, strlen(text));
    src->configured = src->secret != NULL;
    return src->configured;
}

/* Svix / Standard Webhooks secrets are base64 after whsec_. */
static bool
set_whsec(struct gw_webhook_source *src, const char *setting, const char *text,
          char *err, size_t err_len)
{
    src->secret = gw_webhook_secret_decode(text);
    if (src->secret == NULL) {
        snprintf(err, err_len,
                 "%s: expected whsec_<base64> (as the "
                 "provider's dashboard shows it)",
                 setting);
        return false;
    }
    src->configured = true;
    return true;
}

static bool
add_jwks_file(struct gw_keyset *ks, const char *setting, const char *path,
              unsigned algs, char *err, size_t err_len)
{
    char *text = NULL, msg[160];
    size_t len;
    bool ok;
    int e = gw_file_read(path, KEY_FILE_MAX, &text, &len);

    if (e != 0) {
        snprintf(err, err_len, "%s %.120s: %s", setting, path, strerror(e));
        return false;
    }
    ok = gw_keyset_add_jwks(ks, text, len, algs, msg, sizeof(msg));
    free(text);
    if (!ok) {
        snprintf(err, err_len, "%s %.80s: %s", setting, path, msg);
    }
    return ok;
}

static bool
setup_firebase(struct gw_webhook_source *src,
               const struct gw_webhooks_config *w, int64_t leeway_s, char *err,
               size_t err_len)
{
    if (opt(w->firebase_jwks_file) == NULL) {
        return true;
    }
    if (opt(w->firebase_project_id) == NULL ||
        opt(w->firebase_audience) == NULL) {
        snprintf(err, err_len,
                 "webhooks.firebase.jwks_file needs "
                 "webhooks.firebase.project_id and webhooks.firebase."
                 "audience");
        return false;
    }
    /* Google signs blocking tokens with RS256 only (firebase-admin's
     * blocking-token verifier). */
    if (!add_jwks_file(&src->keys, "webhooks.firebase.jwks_file",
                       w->firebase_jwks_file, GW_ALG_RS256, err, err_len)) {
        return false;
    }
    if (asprintf(&src->iss, "https://securetoken.google.com/%s",
                 w->firebase_project_id) < 0) {
        src->iss = NULL;
        snprintf(err, err_len, "out of memory");
        return false;
    }
    src->policy.algs = GW_ALG_RS256;
    src->policy.iss = src->iss;
    src->policy.aud = w->firebase_audience;
    src->policy.leeway_s = leeway_s;
    src->configured = true;
    return true;
}

static bool
setup_fusionauth(struct gw_webhook_source *src,
                 const struct gw_webhooks_config *w, int64_t leeway_s,
                 char *err, size_t err_len)
{
    const char *secret = opt(w->fusionauth_hmac_secret);
    char msg[160];
    unsigned algs = GW_ALGS_HMAC | GW_ALGS_RSA | GW_ALGS_EC;

    if (opt(w->fusionauth_jwks_file) != NULL &&
        !add_jwks_file(&src->keys, "webhooks.fusionauth.jwks_file",
                       w->fusionauth_jwks_file, algs, err, err_len)) {
        return false;
    }
    if (secret != NULL &&
        !gw_keyset_add_secret(&src->keys, secret, strlen(secret),
                              opt(w->fusionauth_hmac_kid), GW_ALGS_HMAC, msg,
                              sizeof(msg))) {
        snprintf(err, err_len, "webhooks.fusionauth.hmac_secret: %s", msg);
        return false;
    }
    /* The JWS binds a body, not a session: FusionAuth sets no exp and no
     * sub, so only the signature and the body hash decide. */
    src->policy.algs = algs;
    src->policy.leeway_s = leeway_s;
    src->policy.flags = GW_JWT_F_EXP_OPTIONAL | GW_JWT_F_SUB_OPTIONAL;
    src->configured = src->keys.count > 0;
    return true;
}

static bool
split_types(struct gw_webhook_env *env, const char *list)
{
    char *copy = strdup(list), *save = NULL, *tok;

    if (copy == NULL) {
        return false;
    }
    for (tok = strtok_r(copy, ", ", &save); tok != NULL;
         tok = strtok_r(NULL, ", ", &save)) {
        char **grown =
            realloc(env->event_types,
                    (env->custom.event_type_count + 1) * sizeof(char *));

        if (grown == NULL) {
            free(copy);
            return false;
        }
        env->event_types = grown;
        grown[env->custom.event_type_count] = strdup(tok);
        if (grown[env->custom.event_type_count] == NULL) {
            free(copy);
            return false;
        }
        env->custom.event_type_count++;
    }
    free(copy);
    env->custom.event_types = (const char *const *)env->event_types;
    return true;
}

static bool
setup_custom(struct gw_webhook_env *env, struct gw_webhook_source *src,
             const struct gw_webhooks_config *w, char *err, size_t err_len)
{
    struct gw_custom_map *m = &env->custom;

    if (opt(w->custom_secret) == NULL) {
        return true;
    }
    if (opt(w->custom_signature_header) == NULL ||
        opt(w->custom_user_id_path) == NULL) {
        snprintf(err, err_len,
                 "webhooks.custom.secret needs webhooks."
                 "custom.signature_header and webhooks.custom.user_id_path");
        return false;
    }
    if (strcmp(w->custom_signature_encoding, "hex") != 0 &&
        strcmp(w->custom_signature_encoding, "base64") != 0) {
        snprintf(err, err_len,
                 "webhooks.custom.signature_encoding: hex or "
                 "base64");
        return false;
    }
    if (strcmp(w->custom_timestamp_unit, "s") != 0 &&
        strcmp(w->custom_timestamp_unit, "ms") != 0) {
        snprintf(err, err_len, "webhooks.custom.timestamp_unit: s or ms");
        return false;
    }
    src->signature_header = w->custom_signature_header;
    src->signature_prefix = opt(w->custom_signature_prefix);
    src->encoding = w->custom_signature_encoding[0] == 'h' ? GW_WEBHOOK_HEX
                                                           : GW_WEBHOOK_BASE64;
    m->event_type_path = opt(w->custom_event_type_path);
    m->user_id_path = w->custom_user_id_path;
    m->email_path = opt(w->custom_email_path);
    m->user_name_path = opt(w->custom_user_name_path);
    m->group_id_path = opt(w->custom_group_id_path);
    m->timestamp_path = opt(w->custom_timestamp_path);
    m->timestamp_in_ms = strcmp(w->custom_timestamp_unit, "ms") == 0;
    m->delivery_id_path = opt(w->custom_delivery_id_path);
    m->session_id_path = opt(w->custom_session_id_path);
    if (!split_types(env, w->custom_event_types)) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    return set_text_secret(src, w->custom_secret);
}

/* The text settings: a static value or an HMAC key used as its bytes. */
static const char *
text_secret(const struct gw_webhooks_config *w, const char *name)
{
    static const struct {
        const char *name;
        size_t offset;
    } rows[] = {
        {"auth0", offsetof(struct gw_webhooks_config, auth0_authorization)},
        {"okta", offsetof(struct gw_webhooks_config, okta_authorization)},
        {"workos", offsetof(struct gw_webhooks_config, workos_secret)},
        {"keycloak", offsetof(struct gw_webhooks_config, keycloak_secret)},
        {"logto", offsetof(struct gw_webhooks_config, logto_secret)},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (strcmp(rows[i].name, name) == 0) {
            return *(char *const *)((const char *)w + rows[i].offset);
        }
    }
    return NULL;
}

static bool
setup_source(struct gw_webhook_env *env, struct gw_webhook_source *src,
             const struct gw_config *cfg, int64_t leeway_s, char *err,
             size_t err_len)
{
    const struct gw_webhooks_config *w = &cfg->webhooks;
    const char *name = src->provider->name, *text = text_secret(w, name);

    src->tolerance_s = src->provider->tolerance_s;
    if (strcmp(name, "clerk") == 0) {
        src->tolerance_s = w->clerk_tolerance_s;
        return opt(w->clerk_secret) == NULL ||
               set_whsec(src, "webhooks.clerk.secret", w->clerk_secret, err,
                         err_len);
    }
    if (strcmp(name, "supabase") == 0) {
        src->tolerance_s = w->supabase_tolerance_s;
        return opt(w->supabase_secret) == NULL ||
               set_whsec(src, "webhooks.supabase.secret", w->supabase_secret,
                         err, err_len);
    }
    if (strcmp(name, "workos") == 0) {
        src->tolerance_s = w->workos_tolerance_s;
    }
    if (strcmp(name, "firebase") == 0) {
        return setup_firebase(src, w, leeway_s, err, err_len);
    }
    if (strcmp(name, "fusionauth") == 0) {
        return setup_fusionauth(src, w, leeway_s, err, err_len);
    }
    if (strcmp(name, "custom") == 0) {
        return setup_custom(env, src, w, err, err_len);
    }
    if (opt(text) != NULL && !set_text_secret(src, text)) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    return true;
}

struct gw_webhook_env *
gw_webhook_env_load(const struct gw_config *cfg, int64_t leeway_s, char *err,
                    size_t err_len)
{
    struct gw_webhook_env *env = calloc(1, sizeof(*env));
    size_t n = gw_provider_count();

    if (env == NULL ||
        (env->sources = calloc(n, sizeof(*env->sources))) == NULL) {
        snprintf(err, err_len, "out of memory");
        gw_webhook_env_free(env);
        return NULL;
    }
    env->source_count = n;
    env->max_events = (size_t)cfg->webhooks.max_events;
    for (size_t i = 0; i < n; i++) {
        struct gw_webhook_source *src = &env->sources[i];

        src->provider = gw_provider_at(i);
        if (!setup_source(env, src, cfg, leeway_s, err, err_len)) {
            gw_webhook_env_free(env);
            return NULL;
        }
        if (src->configured) {
            gw_log(GW_LOG_INFO, "webhook", "provider_on",
                   GW_F_STR("provider", src->provider->name),
                   GW_F_INT("keys", src->keys.count), GW_F_END);
        }
    }
    return env;
}

bool
gw_webhook_env_any(const struct gw_webhook_env *env)
{
    for (size_t i = 0; i < env->source_count; i++) {
        if (env->sources[i].configured) {
            return true;
        }
    }
    return false;
}

void
gw_webhook_env_free(struct gw_webhook_env *env)
{
    if (env == NULL) {
        return;
    }
    for (size_t i = 0; env->sources != NULL && i < env->source_count; i++) {
        gw_secret_free(env->sources[i].secret);
        gw_keyset_clear(&env->sources[i].keys);
        free(env->sources[i].iss);
    }
    for (size_t i = 0; i < env->custom.event_type_count; i++) {
        free(env->event_types[i]);
    }
    free(env->event_types);
    free(env->sources);
    free(env);
}
