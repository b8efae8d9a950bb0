/* handlers/reply_map.h: result reasons to HTTP replies, counted once. */
#ifndef GW_HANDLERS_REPLY_MAP_H
#define GW_HANDLERS_REPLY_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "auth/jwt.h"
#include "events/signed_in.h"
#include "server/server.h"

/* Refuses with a 4xx/5xx JSON error and counts the reason. */
void gw_reply_refuse(struct gw_request *req, unsigned status,
                     const char *code, const char *message,
                     const char *field);

/* 401 for a token that did not verify (never echoing the token). */
void gw_reply_token_error(struct gw_request *req, enum gw_jwt_result rc,
                          const struct gw_jwt_verified *v);

/* 400/422 for an event that did not validate; index < 0: not a batch. */
void gw_reply_event_error(struct gw_request *req, enum gw_event_result rc,
                          const struct gw_event_error *err, long index);

/* Finds the bearer token of the Authorization header (scheme name in any
 * case). Replies 401 missing_token and returns false when there is none. */
bool gw_reply_need_bearer(struct gw_request *req, const char **token,
                          size_t *len);

/* Parses a JSON body strictly, after checking Content-Type. Replies 415 or
 * 400 and returns false on failure; *out is a new reference otherwise. */
bool gw_reply_need_json(struct gw_request *req, struct json_object **out);

/* The checks of gw_reply_need_json without a request (content_type may be
 * NULL: absent). Returns 0 with *out a new reference, or the refusal's
 * status with *code (static) and message filled. */
unsigned gw_reply_json_check(const char *content_type, const char *body,
                             size_t len, struct json_object **out,
                             const char **code, char *message,
                             size_t message_len)
    __attribute__((warn_unused_result));

#endif
