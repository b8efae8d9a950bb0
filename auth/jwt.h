/* auth/jwt.h: our token policy around libjwt's signature check. */
#ifndef GW_AUTH_JWT_H
#define GW_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "auth/keys.h"

enum gw_jwt_result {
    GW_JWT_OK = 0,
    GW_JWT_MALFORMED,
    GW_JWT_ALG_NOT_ALLOWED,
    GW_JWT_UNKNOWN_KID,
    GW_JWT_MISSING_KID,
    GW_JWT_BAD_SIGNATURE,
    GW_JWT_EXPIRED,
    GW_JWT_NOT_YET_VALID,
    GW_JWT_WRONG_ISSUER,
    GW_JWT_WRONG_AUDIENCE,
    GW_JWT_MISSING_CLAIM,
    GW_JWT_NO_MEMORY,
};

/* What a token must satisfy beyond its signature. */
struct gw_jwt_policy {
    unsigned algs;       /* allowlist; a key narrows it further */
    const char *iss;     /* NULL: any issuer */
    const char *aud;     /* NULL: any audience */
    int64_t leeway_s;    /* for exp, nbf and iat */
    unsigned flags;      /* GW_JWT_F_*; 0: users' ID-token rules */
};

/* Signatures that only bind a request body (FusionAuth's webhook JWS) carry
 * neither exp nor sub: these flags make the two optional; when present they
 * are still checked. */
#define GW_JWT_F_EXP_OPTIONAL 1u
#define GW_JWT_F_SUB_OPTIONAL 2u

/* Longest token accepted; real ID tokens are a few KiB. */
#define GW_JWT_MAX_LEN 16384

struct gw_jwt_verified {
    struct json_object *claims; /* owned: json_object_put */
    const char *missing_claim;  /* static; set with GW_JWT_MISSING_CLAIM */
    unsigned alg;               /* the header's algorithm, when known */
    char kid[65];               /* the header's kid, cut, for debug logs */
};

/* Verifies a compact JWS: header, algorithm against the policy and the
 * key, signature, then exp (required), nbf, iat, iss, aud and sub
 * (required, non-empty). now_ms is the wall clock. On GW_JWT_OK out->claims
 * holds the verified claims; otherwise it is NULL. The token is never
 * copied into out. */
enum gw_jwt_result gw_jwt_verify(const struct gw_jwt_policy *policy,
                                 const struct gw_keyset *keys,
                                 const char *token, size_t token_len,
                                 int64_t now_ms, struct gw_jwt_verified *out)
    __attribute__((warn_unused_result));

/* Releases what gw_jwt_verify put in out. */
void gw_jwt_verified_clear(struct gw_jwt_verified *out);

/* Stable snake_case code ("token_expired") for replies and metrics. */
const char *gw_jwt_result_code(enum gw_jwt_result rc);

/* Name of an algorithm bit ("RS256"). */
const char *gw_jwt_alg_name(unsigned alg);

#endif
