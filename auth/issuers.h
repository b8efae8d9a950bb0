/* auth/issuers.h: ID tokens of several OIDC issuers, each verified with its
 * own remote keys (auth/jwks.h) and its own policy. */
#ifndef GW_AUTH_ISSUERS_H
#define GW_AUTH_ISSUERS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jwks.h"
#include "auth/jwt.h"

/* One issuer: its name (logs, metrics) and policy; policy.iss is the exact
 * iss claim and must be set. Entry i uses source i of the gw_jwks. */
struct gw_issuer {
    const char *name;
    struct gw_jwt_policy policy;
};

enum gw_issuers_result {
    GW_ISSUERS_OK = 0,
    GW_ISSUERS_NOT_MINE,         /* the token's iss is none of the list */
    GW_ISSUERS_REFUSED,          /* the token failed: see *jrc */
    GW_ISSUERS_KEYS_UNAVAILABLE, /* the issuer's keys were never fetched */
};

/* Verifies a compact JWS with the keys of the issuer its iss claim names.
 * The unverified iss only picks the key set: that issuer's policy then
 * requires the same iss, so a token passes only under the issuer whose key
 * signed it. An unknown kid triggers one rate-limited refetch (a key
 * rotation) and a second try. On GW_ISSUERS_OK out->claims holds the
 * verified claims and *index the issuer; *jrc is set on GW_ISSUERS_REFUSED.
 * out must be cleared with gw_jwt_verified_clear in every case. */
enum gw_issuers_result gw_issuers_verify(const struct gw_issuer *list,
                                         size_t count, struct gw_jwks *jwks,
                                         const char *token, size_t token_len,
                                         int64_t now_ms,
                                         struct gw_jwt_verified *out,
                                         enum gw_jwt_result *jrc,
                                         size_t *index)
    __attribute__((warn_unused_result));

#endif
