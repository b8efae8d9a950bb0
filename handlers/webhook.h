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

/* A header of the delivery by name (any case), or NULL when absent. */
typedef const char *gw_webhook_header_fn(void *ctx, const char *name);

/* One line of explanation; untrusted parts are already cut. */
typedef void gw_webhook_step_fn(void *ctx, const char *line);

/* A captured delivery for gw_webhook_explain; every pointer borrowed. */
struct gw_webhook_probe {
    const char *provider; /* the <provider> of /v1/webhooks/<provider> */
    const char *body;
    size_t body_len;
    gw_webhook_header_fn *header_fn;
    void *header_ctx;
    gw_webhook_step_fn *step_fn; /* NULL: no explanation */
    void *step_ctx;
    int64_t now_ms;
};

/* What the endpoint would answer to a POST of the probe. */
struct gw_webhook_verdict {
    unsigned status;  /* 200, or the refusal's status */
    const char *code; /* static: "accepted" or the refusal's reason */
    char message[256];
    struct gw_event *events; /* owned: the events it would forward */
    size_t event_count;
    size_t ignored;
};

struct gw_handler_env;

/* Runs the endpoint's own checks on a captured POST, without HTTP, the
 * spool or the duplicate window (a redelivery is judged as new), telling
 * each step to probe->step_fn. Fills out (release with
 * gw_webhook_verdict_clear); false only when memory ran out. */
bool gw_webhook_explain(const struct gw_handler_env *env,
                        const struct gw_webhook_probe *probe,
                        struct gw_webhook_verdict *out)
    __attribute__((warn_unused_result));

/* Frees the verdict's events; accepts an empty verdict. */
void gw_webhook_verdict_clear(struct gw_webhook_verdict *v);

/* True when at least one provider is configured. */
bool gw_webhook_env_any(const struct gw_webhook_env *env);

/* Wipes secrets and frees; accepts NULL. */
void gw_webhook_env_free(struct gw_webhook_env *env);

#endif
