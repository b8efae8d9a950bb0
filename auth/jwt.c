/* auth/jwt.c: our token policy around libjwt's signature check. */
#include "auth/jwt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/b64.h"
#include "common/json_strict.h"

struct compact_parts {
    const char *header_b64, *payload_b64, *sig_b64;
    size_t header_len, payload_len, sig_len;
    size_t signing_input_len; /* header.payload */
};

static const char *const result_codes[] = {
    [GW_JWT_OK] = "ok",
    [GW_JWT_MALFORMED] = "malformed_token",
    [GW_JWT_ALG_NOT_ALLOWED] = "alg_not_allowed",
    [GW_JWT_UNKNOWN_KID] = "unknown_kid",
    [GW_JWT_MISSING_KID] = "missing_kid",
    [GW_JWT_BAD_SIGNATURE] = "bad_signature",
    [GW_JWT_EXPIRED] = "token_expired",
    [GW_JWT_NOT_YET_VALID] = "token_not_yet_valid",
    [GW_JWT_WRONG_ISSUER] = "wrong_issuer",
    [GW_JWT_WRONG_AUDIENCE] = "wrong_audience",
    [GW_JWT_MISSING_CLAIM] = "missing_claim",
    [GW_JWT_NO_MEMORY] = "no_memory",
};

const char *
gw_jwt_result_code(enum gw_jwt_result rc)
{
    if ((size_t)rc >= sizeof(result_codes) / sizeof(result_codes[0])) {
        return "unknown";
    }
    return result_codes[rc];
}

const char *
gw_jwt_alg_name(unsigned alg)
{
    static const char *const names[] = {"HS256", "HS384", "HS512", "RS256",
                                        "RS384", "RS512", "PS256", "PS384",
                                        "PS512", "ES256"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (alg == 1u << i) {
            return names[i];
        }
    }
    return "none";
}

static bool
is_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static enum gw_jwt_result
split_compact(const char *token, size_t len, struct compact_parts *parts)
{
    const char *dot1 = NULL, *dot2 = NULL;

    if (len == 0 || len > GW_JWT_MAX_LEN) {
        return GW_JWT_MALFORMED;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];

        if (c == '.') {
            if (dot2 != NULL) {
                return GW_JWT_MALFORMED; /* JWE (5 parts) or junk */
            }
            if (dot1 == NULL) {
                dot1 = token + i;
            } else {
                dot2 = token + i;
            }
        } else if (!is_b64url_char(c)) {
            return GW_JWT_MALFORMED;
        }
    }
    if (dot2 == NULL || dot1 == token || dot2 == dot1 + 1) {
        return GW_JWT_MALFORMED;
    }
    parts->header_b64 = token;
    parts->header_len = (size_t)(dot1 - token);
    parts->payload_b64 = dot1 + 1;
    parts->payload_len = (size_t)(dot2 - dot1 - 1);
    parts->sig_b64 = dot2 + 1;
    parts->sig_len = len - (size_t)(dot2 + 1 - token);
    parts->signing_input_len = (size_t)(dot2 - token);
    return GW_JWT_OK;
}

/* Decodes one base64url part and parses it as a strict JSON object. */
static enum gw_jwt_result
decode_object(const char *b64, size_t len, struct json_object **out)
{
    unsigned char *raw = NULL;
    size_t raw_len, offset;
    struct json_object *obj = NULL;

    if (!gw_b64url_decode(b64, len, &raw, &raw_len)) {
        return GW_JWT_MALFORMED;
    }
    if (gw_json_parse((const char *)raw, raw_len, &obj, &offset) !=
        GW_JSON_OK) {
        free(raw);
        return GW_JWT_MALFORMED;
    }
    free(raw);
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return GW_JWT_MALFORMED;
    }
    *out = obj;
    return GW_JWT_OK;
}

/* Reads alg and kid from the header. "none" is refused here, before any
 * key is looked at: libjwt would accept it whenever it is given no key. */
static enum gw_jwt_result
read_header(const struct compact_parts *parts, unsigned *alg,
            struct gw_jwt_verified *out)
{
    struct json_object *header = NULL, *v;
    enum gw_jwt_result rc;
    const char *name;

    rc = decode_object(parts->header_b64, parts->header_len, &header);
    if (rc != GW_JWT_OK) {
        return rc;
    }
    rc = GW_JWT_MALFORMED;
    if (!json_object_object_get_ex(header, "alg", &v) ||
        !json_object_is_type(v, json_type_string)) {
        goto out;
    }
    name = json_object_get_string(v);
    *alg = gw_alg_parse(name, (size_t)json_object_get_string_len(v));
    /* libjwt 1.10.2 refuses a typ other than "JWT"; saying so here gives
     * the sender a truthful reason instead of bad_signature. */
    if ((*alg & GW_ALGS_HMAC) &&
        json_object_object_get_ex(header, "typ", &v) &&
        (!json_object_is_type(v, json_type_string) ||
         strcasecmp(json_object_get_string(v), "JWT") != 0)) {
        goto out;
    }
    /* RFC 7515 4.1.11: a critical extension we do not know must fail. */
    if (json_object_object_get_ex(header, "crit", NULL)) {
        goto out;
    }
    if (json_object_object_get_ex(header, "kid", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            goto out;
        }
        strncpy(out->kid, json_object_get_string(v), sizeof(out->kid) - 1);
        out->kid[sizeof(out->kid) - 1] = '\0';
        if ((size_t)json_object_get_string_len(v) >= sizeof(out->kid)) {
            goto out; /* no key of ours has so long a kid */
        }
    }
    rc = *alg == 0 ? GW_JWT_ALG_NOT_ALLOWED : GW_JWT_OK;
out:
    json_object_put(header);
    return rc;
}

static enum gw_jwt_result
choose_key(const struct gw_keyset *keys, unsigned alg, const char *kid,
           const struct gw_key **key_out)
{
    const struct gw_key *found = NULL;
    size_t matches = 0;

    if (kid[0] != '\0') {
        for (size_t i = 0; i < keys->count; i++) {
            if (keys->keys[i].kid != NULL &&
                strcmp(keys->keys[i].kid, kid) == 0) {
                found = &keys->keys[i];
                break;
            }
        }
        if (found == NULL) {
            return GW_JWT_UNKNOWN_KID;
        }
    } else {
        for (size_t i = 0; i < keys->count; i++) {
            if (keys->keys[i].algs & alg) {
                found = &keys->keys[i];
                matches++;
            }
        }
        if (matches > 1) {
            return GW_JWT_MISSING_KID;
        }
    }
    /* The key decides what it may verify: an RSA key never becomes an
     * HMAC secret, whatever the header says. */
    if (found == NULL || !(found->algs & alg)) {
        return GW_JWT_ALG_NOT_ALLOWED;
    }
    *key_out = found;
    return GW_JWT_OK;
}

static const char *
digest_name(unsigned alg)
{
    if (alg & (GW_ALG_RS384 | GW_ALG_PS384)) {
        return "SHA384";
    }
    if (alg & (GW_ALG_RS512 | GW_ALG_PS512)) {
        return "SHA512";
    }
    return "SHA256";
}

/* JWS carries ECDSA signatures as raw r || s (RFC 7518 section 3.4);
 * OpenSSL verifies DER. Anything but 64 bytes for P-256 is refused. */
static unsigned char *
ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, size_t *der_len)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int n;

    if (raw_len != 64) {
        return NULL;
    }
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(raw, 32, NULL);
    s = BN_bin2bn(raw + 32, 32, NULL);
    if (sig == NULL || r == NULL || s == NULL ||
        ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    n = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (n <= 0) {
        return NULL;
    }
    *der_len = (size_t)n;
    return der;
}

/* RS*, PS* and ES256 with the key parsed once at load. libjwt 1.10.2 takes
 * public keys only as PEM text and parses it again on every call, which
 * under OpenSSL 3 costs about twenty times the RSA verification itself;
 * and it has no PS* at all. So public-key signatures go through OpenSSL
 * EVP here, with the same checks libjwt makes. */
static enum gw_jwt_result
verify_pkey(const struct gw_key *key, unsigned alg, const char *token,
            const struct compact_parts *parts)
{
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL, *der = NULL;
    const unsigned char *check;
    size_t sig_len, check_len;
    enum gw_jwt_result rc = GW_JWT_BAD_SIGNATURE;

    if (!gw_b64url_decode(parts->sig_b64, parts->sig_len, &sig, &sig_len)) {
        return GW_JWT_MALFORMED;
    }
    check = sig;
    check_len = sig_len;
    if (alg == GW_ALG_ES256) {
        der = ecdsa_raw_to_der(sig, sig_len, &check_len);
        check = der;
        if (der == NULL) {
            goto out;
        }
    }
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        rc = GW_JWT_NO_MEMORY;
        goto out;
    }
    if (EVP_DigestVerifyInit_ex(md, &pctx, digest_name(alg), NULL, NULL,
                                key->pkey, NULL) != 1) {
        goto out;
    }
    if ((alg & (GW_ALG_PS256 | GW_ALG_PS384 | GW_ALG_PS512)) &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
             1)) {
        goto out;
    }
    if (EVP_DigestVerify(md, check, check_len, (const unsigned char *)token,
                         parts->signing_input_len) == 1) {
        rc = GW_JWT_OK;
    }
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    free(sig);
    return rc;
}

static enum gw_jwt_result
verify_libjwt(const struct gw_key *key, unsigned alg, const char *token,
              size_t token_len)
{
    const unsigned char *material;
    size_t material_len;
    char *copy;
    jwt_t *jwt = NULL;
    int err;
    enum gw_jwt_result rc = GW_JWT_BAD_SIGNATURE;

    material = key->secret->bytes;
    material_len = key->secret->len;
    copy = malloc(token_len + 1); /* libjwt takes a C string */
    if (copy == NULL) {
        return GW_JWT_NO_MEMORY;
    }
    memcpy(copy, token, token_len);
    copy[token_len] = '\0';
    err = jwt_decode(&jwt, copy, material, (int)material_len);
    free(copy);
    if (err == ENOMEM) {
        return GW_JWT_NO_MEMORY;
    }
    /* libjwt reads alg again with its own parser: it must agree with ours
     * (a header with two "alg" members could otherwise split the views). */
    if (err == 0 && jwt != NULL &&
        strcmp(jwt_alg_str(jwt_get_alg(jwt)), gw_jwt_alg_name(alg)) == 0) {
        rc = GW_JWT_OK;
    }
    jwt_free(jwt);
    return rc;
}

static bool
read_number(struct json_object *claims, const char *name, bool *present,
            double *value)
{
    struct json_object *v;

    *present = json_object_object_get_ex(claims, name, &v);
    if (!*present) {
        return true;
    }
    if (!json_object_is_type(v, json_type_int) &&
        !json_object_is_type(v, json_type_double)) {
        return false;
    }
    *value = json_object_get_double(v);
    return isfinite(*value);
}

/* A JSON string equal to s, all of it: "\u0000" cannot cut a claim short
 * of what the configuration asks for. */
static bool
string_is(struct json_object *v, const char *s)
{
    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == strlen(s) &&
           strcmp(json_object_get_string(v), s) == 0;
}

static bool
audience_matches(struct json_object *claims, const char *aud)
{
    struct json_object *v;

    if (!json_object_object_get_ex(claims, "aud", &v)) {
        return false;
    }
    if (json_object_is_type(v, json_type_string)) {
        return string_is(v, aud);
    }
    if (!json_object_is_type(v, json_type_array)) {
        return false;
    }
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *e = json_object_array_get_idx(v, i);

        if (string_is(e, aud)) {
            return true;
        }
    }
    return false;
}

static enum gw_jwt_result
check_times(struct json_object *claims, const struct gw_jwt_policy *policy,
            int64_t now_ms, struct gw_jwt_verified *out)
{
    double exp = 0, nbf = 0, iat = 0;
    double now = (double)now_ms / 1000.0, leeway = (double)policy->leeway_s;
    bool has_exp, has_nbf, has_iat;

    if (!read_number(claims, "exp", &has_exp, &exp) ||
        !read_number(claims, "nbf", &has_nbf, &nbf) ||
        !read_number(claims, "iat", &has_iat, &iat)) {
        return GW_JWT_MALFORMED;
    }
    if (!has_exp && !(policy->flags & GW_JWT_F_EXP_OPTIONAL)) {
        out->missing_claim = "exp";
        return GW_JWT_MISSING_CLAIM;
    }
    /* RFC 7519 4.1.4: the current time must be before exp. */
    if (has_exp && now >= exp + leeway) {
        return GW_JWT_EXPIRED;
    }
    if ((has_nbf && nbf > now + leeway) || (has_iat && iat > now + leeway)) {
        return GW_JWT_NOT_YET_VALID;
    }
    return GW_JWT_OK;
}

static enum gw_jwt_result
check_claims(struct json_object *claims, const struct gw_jwt_policy *policy,
             int64_t now_ms, struct gw_jwt_verified *out)
{
    enum gw_jwt_result rc;
    struct json_object *v;

    rc = check_times(claims, policy, now_ms, out);
    if (rc != GW_JWT_OK) {
        return rc;
    }
    if (policy->iss != NULL &&
        !(json_object_object_get_ex(claims, "iss", &v) &&
          string_is(v, policy->iss))) {
        return GW_JWT_WRONG_ISSUER;
    }
    if (policy->aud != NULL && !audience_matches(claims, policy->aud)) {
        return GW_JWT_WRONG_AUDIENCE;
    }
    if (policy->flags & GW_JWT_F_SUB_OPTIONAL) {
        return GW_JWT_OK;
    }
    if (!json_object_object_get_ex(claims, "sub", &v) ||
        !json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0 ||
        strlen(json_object_get_string(v)) !=
            (size_t)json_object_get_string_len(v)) {
        out->missing_claim = "sub";
        return GW_JWT_MISSING_CLAIM;
    }
    return GW_JWT_OK;
}

enum gw_jwt_result
gw_jwt_verify(const struct gw_jwt_policy *policy,
              const struct gw_keyset *keys, const char *token,
              size_t token_len, int64_t now_ms, struct gw_jwt_verified *out)
{
    struct compact_parts parts = {0};
    struct json_object *claims = NULL;
    const struct gw_key *key = NULL;
    unsigned alg = 0;
    enum gw_jwt_result rc;

    memset(out, 0, sizeof(*out));

    rc = split_compact(token, token_len, &parts);
    if (rc != GW_JWT_OK) {
        return rc;
    }
    rc = read_header(&parts, &alg, out);
    out->alg = alg;
    if (rc != GW_JWT_OK) {
        return rc;
    }
    if (!(policy->algs & alg)) {
        return GW_JWT_ALG_NOT_ALLOWED;
    }
    rc = choose_key(keys, alg, out->kid, &key);
    if (rc != GW_JWT_OK) {
        return rc;
    }
    /* The payload must be a JSON object before anything spends a
     * signature check on it; its values are read only after. */
    rc = decode_object(parts.payload_b64, parts.payload_len, &claims);
    if (rc != GW_JWT_OK) {
        return rc;
    }
    if (key->type == GW_KEY_OCT) {
        rc = verify_libjwt(key, alg, token, token_len);
    } else {
        rc = verify_pkey(key, alg, token, &parts);
    }
    if (rc == GW_JWT_OK) {
        rc = check_claims(claims, policy, now_ms, out);
    }
    if (rc != GW_JWT_OK) {
        json_object_put(claims);
        return rc;
    }
    out->claims = claims;
    return GW_JWT_OK;
}

void
gw_jwt_verified_clear(struct gw_jwt_verified *out)
{
    json_object_put(out->claims);
    out->claims = NULL;
}
