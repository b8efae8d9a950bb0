/* events/providers/provider.h: one identity provider's webhook as a small,
 * table-like unit: endpoint name, signature scheme, which events count and
 * where each field is. Adding a provider is one file here and one row in
 * provider.c's table; the server and the forwarding never change. */
#ifndef GW_EVENTS_PROVIDERS_PROVIDER_H
#define GW_EVENTS_PROVIDERS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "events/webhook_event.h"

/* How a delivery proves where it comes from (auth/webhook_sig.h). */
enum gw_provider_scheme {
    GW_SCHEME_STATIC,      /* a shared header value (Auth0, Okta) */
    GW_SCHEME_STANDARD,    /* Svix / Standard Webhooks */
    GW_SCHEME_WORKOS,      /* WorkOS-Signature t=, v1= */
    GW_SCHEME_HMAC_HEX,    /* hex HMAC of the body in a header */
    GW_SCHEME_HMAC_CUSTOM, /* the custom provider's configured HMAC */
    GW_SCHEME_JWS_BODY,    /* a JWS binding the body's hash (FusionAuth) */
    GW_SCHEME_BODY_JWT,    /* a JWT inside the body (Firebase) */
};

/* What the provider expects as a success answer. */
enum gw_provider_answer {
    GW_ANSWER_SUMMARY, /* 200 {"status":"accepted","events":N,...} */
    GW_ANSWER_ECHO,    /* 200 {"<answer_member>": <the body's member>} */
    GW_ANSWER_EMPTY,   /* 200 {} */
};

enum gw_provider_verdict {
    GW_PROVIDER_SIGNIN = 0, /* a completed sign-in: out->fields are set */
    GW_PROVIDER_IGNORED,    /* authentic, not a sign-in */
    GW_PROVIDER_INVALID,    /* a sign-in the gateway cannot use: 400 */
    GW_PROVIDER_NO_MEMORY,
};

/* The custom provider's JSON paths (dotted member names), from settings. */
struct gw_custom_map {
    const char *event_type_path;    /* NULL: every delivery is a sign-in */
    const char *const *event_types; /* values of that path that count */
    size_t event_type_count;
    const char *user_id_path;
    const char *email_path;
    const char *user_name_path;
    const char *group_id_path;
    const char *timestamp_path;
    bool timestamp_in_ms; /* numbers: epoch ms, else seconds */
    const char *delivery_id_path;
    const char *session_id_path;
};

struct gw_provider_input {
    struct json_object *item;           /* a batch element, or the body */
    const char *delivery_id;            /* from a header; NULL: none */
    const struct gw_custom_map *custom; /* the custom provider only */
};

struct gw_provider_output {
    struct gw_webhook_fields fields; /* GW_PROVIDER_SIGNIN */
    const char *reason;              /* static: why ignored or invalid */
    const char *field;               /* static: the field at fault */
    bool bad_timestamp;              /* INVALID because of the time */
};

struct gw_provider {
    const char *name; /* POST /v1/webhooks/<name> */
    enum gw_provider_scheme scheme;
    const char *signature_header; /* NULL for GW_SCHEME_BODY_JWT */
    const char *id_header;        /* Standard Webhooks id header */
    const char *timestamp_header; /* Standard Webhooks time header */
    int64_t tolerance_s;          /* default window of timed schemes */
    const char *setting;          /* the setting that turns it on */
    const char *challenge_header; /* GET verification (Okta); NULL: none */
    const char *token_path;       /* GW_SCHEME_BODY_JWT: where the JWT is */
    enum gw_provider_answer answer;
    const char *answer_member; /* GW_ANSWER_ECHO */
    /* A batch's elements: *array is borrowed from body. NULL function:
     * the body is one element. False when the body is not of the shape. */
    bool (*items)(struct json_object *body, struct json_object **array);
    enum gw_provider_verdict (*map)(const struct gw_provider_input *in,
                                    struct gw_provider_output *out);
};

/* The provider served at /v1/webhooks/<name>, or NULL. */
const struct gw_provider *gw_provider_find(const char *name);

/* Every provider, for the configuration: i < gw_provider_count(). */
size_t gw_provider_count(void);
const struct gw_provider *gw_provider_at(size_t i);

/* The member at a dotted path ("data.user.email"), borrowed; NULL when
 * any step is missing or not an object. */
struct json_object *gw_provider_get(struct json_object *obj, const char *path);

/* The string at a dotted path when it is a non-empty string, else NULL
 * (absent, null, "" and other types are all unknown). */
const char *gw_provider_string(struct json_object *obj, const char *path);

/* A time: an RFC 3339 string, or a number of seconds (or milliseconds
 * when in_ms). False when v is neither or out of range. */
bool gw_provider_time(struct json_object *v, bool in_ms, int64_t *ms)
    __attribute__((warn_unused_result));

/* Reads the time at path into out->fields; absent leaves the time
 * received. Returns GW_PROVIDER_INVALID (bad_timestamp) on a bad value. */
enum gw_provider_verdict gw_provider_read_time(struct json_object *obj,
                                               const char *path, bool in_ms,
                                               struct gw_provider_output *out);

/* Sets out->fields.user_name to "first last", either alone when the
 * other is unknown; leaves it unset when both are. False when out of
 * memory. */
bool gw_provider_join_name(struct gw_provider_output *out, const char *first,
                           const char *last)
    __attribute__((warn_unused_result));

#endif
