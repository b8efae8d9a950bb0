/* handlers/webhook.h: what /v1/webhooks/<provider> needs from the settings:
 * per provider its secret or keys and time window; built once at start. */
#ifndef GW_HANDLERS_WEBHOOK_H
#define GW_HANDLERS_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "auth/keys.h"
#include "auth/webhook_sig.h"
#include "common/secret.h"
#include "config/config.h"
#include "events/providers/provider.h"

/* One provider as configured. */
struct gw_webhook_source {
    const struct gw_provider *provider; /* borrowed from the table */
    bool configured;
    struct gw_secret *secret; /* owned: HMAC key or the static value */
    struct gw_keyset keys;    /* owned: JWS / JWT keys */
    struct gw_jwt_policy policy;
    char *iss; /* owned: the issuer policy.iss points to */
    int64_t tolerance_s;
    /* The custom provider's header scheme (borrowed from the config). */
    const char *signature_header;
    const char *signature_prefix;
    enum gw_webhook_encoding encoding;
};

struct gw_webhook_env {
    struct gw_webhook_source *sources; /* owned: one per provider */
    size_t source_count;
    struct gw_custom_map custom; /* paths borrowed from the config */
    char **event_types;          /* owned: custom.event_types split */
    size_t max_events;
};

/* Builds the webhook settings from cfg, which must outlive the result.
 * Reads key files. On failure writes a one-line reason into err (never a
 * secret) and returns NULL. Release with gw_webhook_env_free. */
struct gw_webhook_env *gw_webhook_env_load(const struct gw_config *cfg,
                                           int64_t leeway_s, char *err,
                                           size_t err_len);

/* True when at least one provider is configured. */
bool gw_webhook_env_any(const struct gw_webhook_env *env);

/* Wipes secrets and frees; accepts NULL. */
void gw_webhook_env_free(struct gw_webhook_env *env);

#endif
