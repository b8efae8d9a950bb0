/* events/signed_in.h: the signed_in event schema, built from a token or a
 * sender's event, validated and serialized. Pure: no I/O. */
#ifndef GW_EVENTS_SIGNED_IN_H
#define GW_EVENTS_SIGNED_IN_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* Event ids are 32 lowercase hex digits when the gateway derives them. */
#define GW_EVENT_ID_MAX 128

enum gw_event_result {
    GW_EVENT_OK = 0,
    GW_EVENT_INVALID_BODY,
    GW_EVENT_MISSING_FIELD,
    GW_EVENT_INVALID_FIELD,
    GW_EVENT_UNKNOWN_FIELD,
    GW_EVENT_CONFLICTING_FIELD,
    GW_EVENT_INVALID_TIMESTAMP,
    GW_EVENT_NOT_ALLOWED,
    GW_EVENT_NO_MEMORY,
};

struct gw_event {
    char id[GW_EVENT_ID_MAX + 1];
    char *json; /* owned: the serialized event object */
    size_t json_len;
};

/* Why an event was refused: which field, the offending value (cut at 64
 * bytes, for the reply) and a sentence for a person. */
struct gw_event_error {
    char field[64];
    char value[65];
    char message[192];
};

struct gw_event_mapping {
    const char *group_claim;        /* claim for context.group_id */
    const char *const *name_claims; /* tried in order for user_name */
    size_t name_claim_count;
    const char *id_container;       /* "properties", "context" or NULL */
    const char *id_key;             /* NULL: the id is not emitted */
    const char *const *event_names; /* names /v1/track accepts */
    size_t event_name_count;
    const char *const *extra_claims; /* claims copied into properties */
    const char *const *extra_names;  /* ... under these names */
    size_t extra_claim_count;
};

/* Builds the event of a browser sign-in from verified claims and an
 * optional body object ({"timestamp", "properties"}). Identity comes only
 * from the claims. On success fills out (release with gw_event_clear). */
enum gw_event_result gw_signed_in_from_claims(
    const struct gw_event_mapping *map, struct json_object *claims,
    struct json_object *body, int64_t receive_ms, struct gw_event *out,
    struct gw_event_error *err) __attribute__((warn_unused_result));

/* Normalizes one event of a /v1/track body (the seed's format and the
 * Track API's: event or event_name, User_name or user_name, group_id at the
 * top or in context). On success fills out. */
enum gw_event_result gw_signed_in_from_track(
    const struct gw_event_mapping *map, struct json_object *item,
    int64_t receive_ms, struct gw_event *out, struct gw_event_error *err)
    __attribute__((warn_unused_result));

void gw_event_clear(struct gw_event *ev);

/* The event object every source emits, keys in this order: event_name,
 * user_id, timestamp (formatted from ts_ms), properties, context. Takes
 * a reference of its own to props and context. NULL on no memory or a
 * time outside years 0001-9999. */
struct json_object *gw_signed_in_skeleton(const char *name,
                                          const char *user_id, int64_t ts_ms,
                                          struct json_object *props,
                                          struct json_object *context);

/* Adds out->id where the mapping says (unless the sender put a value
 * there) and serializes event into out->json. props and context are the
 * objects given to gw_signed_in_skeleton. */
enum gw_event_result gw_signed_in_finish(const struct gw_event_mapping *map,
                                         struct json_object *event,
                                         struct json_object *props,
                                         struct json_object *context,
                                         struct gw_event *out)
    __attribute__((warn_unused_result));

/* Stable snake_case code of a result ("invalid_timestamp"). */
const char *gw_event_result_code(enum gw_event_result rc);

#endif
