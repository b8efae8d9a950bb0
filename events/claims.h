/* events/claims.h: claims of a verified ID token to event fields: claim
 * paths, the standard amr, sid and idp claims, and copied extra claims.
 * Pure: no I/O. */
#ifndef GW_EVENTS_CLAIMS_H
#define GW_EVENTS_CLAIMS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "events/signed_in.h"

/* Finds a claim by spec: first the whole spec as a top-level member (a
 * namespaced claim such as "https://example.com/org_id" holds dots), else
 * the spec as a dotted path into nested objects ("org.id"). Borrowed; NULL
 * when absent. */
struct json_object *gw_claims_find(struct json_object *claims,
                                   const char *spec);

/* The claim as a non-empty string, else NULL (absent, null, "", other
 * types). Borrowed. */
const char *gw_claims_string(struct json_object *claims, const char *spec);

/* Adds what the standard claims say: amr to properties.auth_method and
 * properties.mfa (RFC 8176 values), idp to properties.identity_provider,
 * sid to context.session_id; then map's extra claims into properties
 * under their names. Members already in props are kept. False only when
 * out of memory. */
bool gw_claims_enrich(const struct gw_event_mapping *map,
                      struct json_object *claims, struct json_object *props,
                      struct json_object *context)
    __attribute__((warn_unused_result));

#endif
