/* auth/issuers.c: ID tokens of several OIDC issuers, each verified with its
 * own remote keys (auth/jwks.h) and its own policy. */
#include "auth/issuers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/b64.h"
#include "common/json_strict.h"
#include "metrics/metrics.h"

/* The index of the issuer the payload's iss names (unverified), or -1.
 * Anything malformed is left to gw_jwt_verify to name. */
static long
find_issuer(const struct gw_issuer *list, size_t count, const char *token,
            size_t len)
{
    const char *p1 = memchr(token, '.', len), *p2;
    struct json_object *payload = NULL, *iss;
    unsigned char *raw = NULL;
    size_t raw_len, offset;
    long found = -1;

    if (len > GW_JWT_MAX_LEN || p1 == NULL) {
        return -1;
    }
    p2 = memchr(p1 + 1, '.', len - (size_t)(p1 + 1 - token));
    if (p2 == NULL ||
        !gw_b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), &raw, &raw_len)) {
        return -1;
    }
    if (gw_json_parse((const char *)raw, raw_len, &payload, &offset) ==
            GW_JSON_OK &&
        json_object_is_type(payload, json_type_object) &&
        json_object_object_get_ex(payload, "iss", &iss) &&
        json_object_is_type(iss, json_type_string)) {
        for (size_t i = 0; i < count; i++) {
            if (strcmp(list[i].policy.iss, json_object_get_string(iss)) ==
                0) {
                found = (long)i;
                break;
            }
        }
    }
    json_object_put(payload);
    free(raw);
    return found;
}

static enum gw_jwt_result
verify_with(struct gw_jwks *jwks, size_t i, const struct gw_issuer *issuer,
            const char *token, size_t len, int64_t now_ms,
            struct gw_jwt_verified *out, bool *had_keys)
{
    struct gw_jwks_snapshot *snap;
    enum gw_jwt_result rc;
    bool stale;

    snap = gw_jwks_acquire(jwks, i, &stale);
    *had_keys = snap != NULL;
    if (snap == NULL) {
        memset(out, 0, sizeof(*out));
        return GW_JWT_UNKNOWN_KID;
    }
    /* No lock is held here: the snapshot cannot change under us. */
    rc = gw_jwt_verify(&issuer->policy, &snap->keys, token, len, now_ms,
                       out);
    gw_jwks_release(snap);
    if (rc == GW_JWT_OK && stale) {
        gw_metrics_add("signin_gateway_jwks_stale_verifications_total",
                       "issuer", issuer->name, 1);
    }
    return rc;
}

enum gw_issuers_result
gw_issuers_verify(const struct gw_issuer *list, size_t count,
                  struct gw_jwks *jwks, const char *token, size_t token_len,
                  int64_t now_ms, struct gw_jwt_verified *out,
                  enum gw_jwt_result *jrc, size_t *index)
{
    long i = find_issuer(list, count, token, token_len);
    enum gw_jwt_result rc;
    bool had_keys;

    memset(out, 0, sizeof(*out));
    if (i < 0) {
        return GW_ISSUERS_NOT_MINE;
    }
    rc = verify_with(jwks, (size_t)i, &list[i], token, token_len, now_ms, out,
                     &had_keys);
    if (!had_keys) {
        return GW_ISSUERS_KEYS_UNAVAILABLE;
    }
    /* A kid we lack may be the provider's new key: one refetch, bounded
     * per issuer by auth/jwks.c, then one more try. */
    if (rc == GW_JWT_UNKNOWN_KID &&
        gw_jwks_refetch(jwks, (size_t)i) == GW_JWKS_OK) {
        gw_jwt_verified_clear(out);
        rc = verify_with(jwks, (size_t)i, &list[i], token, token_len, now_ms,
                         out, &had_keys);
    }
    if (rc != GW_JWT_OK) {
        *jrc = rc;
        return GW_ISSUERS_REFUSED;
    }
    *index = (size_t)i;
    return GW_ISSUERS_OK;
}
