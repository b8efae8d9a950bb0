/* events/webhook_event.h: a signed_in event from the fields a provider's
 * webhook gave, in the same shape as events/signed_in.c. Pure: no I/O. */
#ifndef GW_EVENTS_WEBHOOK_EVENT_H
#define GW_EVENTS_WEBHOOK_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "events/signed_in.h"

/* What a provider's webhook says about one sign-in. Strings are borrowed
 * from the parsed body (or static), except owned_name; NULL is unknown and
 * leaves the field out of the event. */
struct gw_webhook_fields {
    const char *user_id;
    const char *email;
    const char *user_name;
    const char *group_id;
    int64_t timestamp_ms;
    bool has_timestamp;      /* false: the time received */
    const char *auth_method; /* password, social, sso, passkey, ... */
    const char *identity_provider;
    int mfa; /* -1 unknown, 0 without, 1 with MFA */
    const char *session_id;
    const char *delivery_id; /* the provider's id of this delivery */
    char *owned_name;        /* owned: a name joined from two parts */
};

/* Empties f: every field unknown, mfa -1. */
void gw_webhook_fields_init(struct gw_webhook_fields *f);

/* Frees what f owns and empties it. */
void gw_webhook_fields_clear(struct gw_webhook_fields *f);

/* Builds {"event_name":"signed_in","user_id","timestamp","properties":
 * {email, user_name, auth_method, identity_provider, mfa},"context":
 * {group_id, session_id}} with the id at the mapping's id field. The id
 * is the delivery id when it has 1 to GW_EVENT_ID_MAX printable bytes,
 * else 32 hex digits of SHA-256 over provider, a newline and the delivery
 * id (or, without one, the event), so a redelivery names the same event.
 * f->user_id must be set. On success fills out (gw_event_clear). */
enum gw_event_result
gw_webhook_event_build(const struct gw_event_mapping *map, const char *provider,
                       const struct gw_webhook_fields *f, int64_t receive_ms,
                       struct gw_event *out)
    __attribute__((warn_unused_result));

#endif
