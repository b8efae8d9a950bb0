/* auth/keys.c: JWK, PEM and HMAC secrets into keys that know their algorithms. */
#include "auth/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "common/b64.h"
#include "common/json_strict.h"

#define RSA_MIN_BITS 2048
#define HMAC_MIN_BYTES 32

static const struct {
    const char *name;
    unsigned bit;
} alg_names[] = {
    {"HS256", GW_ALG_HS256}, {"HS384", GW_ALG_HS384}, {"HS512", GW_ALG_HS512},
    {"RS256", GW_ALG_RS256}, {"RS384", GW_ALG_RS384}, {"RS512", GW_ALG_RS512},
    {"PS256", GW_ALG_PS256}, {"PS384", GW_ALG_PS384}, {"PS512", GW_ALG_PS512},
    {"ES256", GW_ALG_ES256},
};

unsigned
gw_alg_parse(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        if (strlen(alg_names[i].name) == len &&
            memcmp(alg_names[i].name, name, len) == 0) {
            return alg_names[i].bit;
        }
    }
    return 0;
}

bool
gw_algs_parse_list(const char *list, unsigned *out, char *bad, size_t bad_len)
{
    unsigned mask = 0;
    const char *p = list;

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (n > 0) {
            unsigned bit = gw_alg_parse(p, n);

            if (bit == 0) {
                snprintf(bad, bad_len, "%.*s", (int)(n > 16 ? 16 : n), p);
                return false;
            }
            mask |= bit;
        }
        p = end != NULL ? end + 1 : p + n;
    }
    *out = mask;
    return true;
}

static struct gw_key *
append_key(struct gw_keyset *ks, const char *kid)
{
    struct gw_key *grown, *k;

    grown = realloc(ks->keys, (ks->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return NULL;
    }
    ks->keys = grown;
    k = &ks->keys[ks->count];
    memset(k, 0, sizeof(*k));
    if (kid != NULL && kid[0] != '\0') {
        k->kid = strdup(kid);
        if (k->kid == NULL) {
            return NULL;
        }
    }
    ks->count++;
    return k;
}

static bool kid_taken(const struct gw_keyset *ks, const char *kid);

/* A new, empty key at the end of the set; NULL with err filled when the
 * kid is already used or memory ran out. */
static struct gw_key *
new_key(struct gw_keyset *ks, const char *kid, char *err, size_t err_len)
{
    struct gw_key *k;

    if (kid_taken(ks, kid)) {
        snprintf(err, err_len, "kid '%.40s' used twice", kid);
        return NULL;
    }
    k = append_key(ks, kid);
    if (k == NULL) {
        snprintf(err, err_len, "out of memory");
    }
    return k;
}

static void
key_clear(struct gw_key *k)
{
    free(k->kid);
    gw_secret_free(k->secret);
    EVP_PKEY_free(k->pkey);
    free(k->pem);
    memset(k, 0, sizeof(*k));
}

/* Drops the last key after a failure while filling it. */
static void
drop_last(struct gw_keyset *ks)
{
    key_clear(&ks->keys[--ks->count]);
}

static bool
kid_taken(const struct gw_keyset *ks, const char *kid)
{
    if (kid == NULL || kid[0] == '\0') {
        return false;
    }
    for (size_t i = 0; i < ks->count; i++) {
        if (ks->keys[i].kid != NULL && strcmp(ks->keys[i].kid, kid) == 0) {
            return true;
        }
    }
    return false;
}

static unsigned
hmac_algs_for_length(size_t len)
{
    /* RFC 7518 section 3.2: a key at least as long as the hash output. */
    unsigned algs = 0;

    if (len >= 32) {
        algs |= GW_ALG_HS256;
    }
    if (len >= 48) {
        algs |= GW_ALG_HS384;
    }
    if (len >= 64) {
        algs |= GW_ALG_HS512;
    }
    return algs;
}

bool
gw_keyset_add_secret(struct gw_keyset *ks, const void *bytes, size_t len,
                     const char *kid, unsigned allowed_algs, char *err,
                     size_t err_len)
{
    struct gw_key *k;

    if (len < HMAC_MIN_BYTES) {
        snprintf(err, err_len, "HMAC secret of %zu bytes: at least %d needed",
                 len, HMAC_MIN_BYTES);
        return false;
    }
    k = new_key(ks, kid, err, err_len);
    if (k == NULL) {
        return false;
    }
    k->type = GW_KEY_OCT;
    k->algs = hmac_algs_for_length(len) & allowed_algs;
    k->secret = gw_secret_new(bytes, len);
    if (k->secret == NULL) {
        drop_last(ks);
        snprintf(err, err_len, "out of memory");
        return false;
    }
    return true;
}

static bool
export_pem(struct gw_key *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    if (bio == NULL) {
        return false;
    }
    if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1) {
        BIO_free(bio);
        return false;
    }
    n = BIO_get_mem_data(bio, &data);
    k->pem = malloc((size_t)n + 1);
    if (k->pem != NULL) {
        memcpy(k->pem, data, (size_t)n);
        k->pem[n] = '\0';
        k->pem_len = (size_t)n;
    }
    BIO_free(bio);
    return k->pem != NULL;
}

/* Gives the key its type and algorithms from the EVP_PKEY it holds. */
static bool
classify_pkey(struct gw_key *k, unsigned allowed_algs, char *err,
              size_t err_len)
{
    char group[32];
    size_t group_len;

    if (EVP_PKEY_is_a(k->pkey, "RSA")) {
        if (EVP_PKEY_get_bits(k->pkey) < RSA_MIN_BITS) {
            snprintf(err, err_len, "RSA key of %d bits: at least %d needed",
                     EVP_PKEY_get_bits(k->pkey), RSA_MIN_BITS);
            return false;
        }
        k->type = GW_KEY_RSA;
        k->algs = GW_ALGS_RSA & allowed_algs;
    } else if (EVP_PKEY_is_a(k->pkey, "EC") &&
               EVP_PKEY_get_utf8_string_param(
                   k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                   &group_len) == 1 &&
               strcmp(group, "prime256v1") == 0) {
        k->type = GW_KEY_EC_P256;
        k->algs = GW_ALGS_EC & allowed_algs;
    } else {
        snprintf(err, err_len, "unsupported public key type (RSA or EC "
                 "P-256 only)");
        return false;
    }
    if (!export_pem(k)) {
        snprintf(err, err_len, "cannot export the public key");
        return false;
    }
    return true;
}

bool
gw_keyset_add_pem(struct gw_keyset *ks, const char *pem, size_t len,
                  const char *kid, unsigned allowed_algs, char *err,
                  size_t err_len)
{
    struct gw_key *k;
    BIO *bio;

    k = new_key(ks, kid, err, err_len);
    if (k == NULL) {
        return false;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio != NULL) {
        k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (k->pkey == NULL) {
        snprintf(err, err_len, "not a PEM public key (BEGIN PUBLIC KEY)");
        drop_last(ks);
        return false;
    }
    if (!classify_pkey(k, allowed_algs, err, err_len)) {
        drop_last(ks);
        return false;
    }
    return true;
}

static const char *
member_str(struct json_object *obj, const char *name)
{
    struct json_object *v;

    if (!json_object_object_get_ex(obj, name, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static BIGNUM *
member_bn(struct json_object *jwk, const char *name)
{
    const char *text = member_str(jwk, name);
    unsigned char *raw = NULL;
    size_t raw_len;
    BIGNUM *bn;

    if (text == NULL || !gw_b64url_decode(text, strlen(text), &raw,
                                          &raw_len)) {
        return NULL;
    }
    bn = BN_bin2bn(raw, (int)raw_len, NULL);
    free(raw);
    return bn;
}

static EVP_PKEY *
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *
rsa_from_jwk(struct json_object *jwk)
{
    BIGNUM *n = member_bn(jwk, "n"), *e = member_bn(jwk, "e");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;

    if (n != NULL && e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
        pkey = pkey_from_params("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static EVP_PKEY *
ec_from_jwk(struct json_object *jwk)
{
    const char *x = member_str(jwk, "x"), *y = member_str(jwk, "y");
    unsigned char *xb = NULL, *yb = NULL, point[65];
    size_t xl = 0, yl = 0;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (x == NULL || y == NULL ||
        !gw_b64url_decode(x, strlen(x), &xb, &xl) ||
        !gw_b64url_decode(y, strlen(y), &yb, &yl) || xl != 32 || yl != 32) {
        goto out;
    }
    point[0] = 0x04; /* uncompressed point: x || y */
    memcpy(point + 1, xb, 32);
    memcpy(point + 33, yb, 32);
    bld = OSSL_PARAM_BLD_new();
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point)) == 1) {
        pkey = pkey_from_params("EC", bld);
    }
out:
    OSSL_PARAM_BLD_free(bld);
    free(xb);
    free(yb);
    return pkey;
}

/* RFC 7517 4.3: a key whose key_ops leave out "verify" must not verify. */
static bool
may_verify(struct json_object *jwk)
{
    struct json_object *ops;

    if (!json_object_object_get_ex(jwk, "key_ops", &ops)) {
        return true;
    }
    if (!json_object_is_type(ops, json_type_array)) {
        return false;
    }
    for (size_t i = 0; i < json_object_array_length(ops); i++) {
        struct json_object *op = json_object_array_get_idx(ops, i);

        if (json_object_is_type(op, json_type_string) &&
            strcmp(json_object_get_string(op), "verify") == 0) {
            return true;
        }
    }
    return false;
}

/* Adds one JWK; *skipped is set for keys that are not for our signatures:
 * "use" other than sig, key_ops without verify, an algorithm we do not
 * verify (RSA-OAEP, ES512, ...), key types and curves we do not take. */
static bool
add_jwk(struct gw_keyset *ks, struct json_object *jwk, unsigned allowed,
        bool *skipped, char *err, size_t err_len)
{
    const char *kty = member_str(jwk, "kty"), *kid = member_str(jwk, "kid");
    const char *use = member_str(jwk, "use"), *alg = member_str(jwk, "alg");
    struct gw_key *k;

    *skipped = false;
    if (kty == NULL) {
        snprintf(err, err_len, "a JWK without kty");
        return false;
    }
    if ((use != NULL && strcmp(use, "sig") != 0) || !may_verify(jwk) ||
        (alg != NULL && gw_alg_parse(alg, strlen(alg)) == 0) ||
        (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0 &&
         strcmp(kty, "oct") != 0) ||
        (strcmp(kty, "EC") == 0 && !(member_str(jwk, "crv") != NULL &&
                                     strcmp(member_str(jwk, "crv"),
                                            "P-256") == 0))) {
        *skipped = true;
        return true;
    }
    if (alg != NULL) {
        allowed &= gw_alg_parse(alg, strlen(alg));
    }
    if (strcmp(kty, "oct") == 0) {
        const char *kb64 = member_str(jwk, "k");
        unsigned char *raw = NULL;
        size_t raw_len;
        bool ok;

        if (kb64 == NULL ||
            !gw_b64url_decode(kb64, strlen(kb64), &raw, &raw_len)) {
            snprintf(err, err_len, "oct JWK: k is not base64url");
            return false;
        }
        ok = gw_keyset_add_secret(ks, raw, raw_len, kid, allowed, err,
                                  err_len);
        OPENSSL_cleanse(raw, raw_len);
        free(raw);
        return ok;
    }
    k = new_key(ks, kid, err, err_len);
    if (k == NULL) {
        return false;
    }
    k->pkey = strcmp(kty, "RSA") == 0 ? rsa_from_jwk(jwk) : ec_from_jwk(jwk);
    if (k->pkey == NULL) {
        snprintf(err, err_len, "JWK '%.40s': bad %s key parameters",
                 kid != NULL ? kid : "", kty);
        drop_last(ks);
        return false;
    }
    if (!classify_pkey(k, allowed, err, err_len)) {
        drop_last(ks);
        return false;
    }
    return true;
}

bool
gw_keyset_add_jwks(struct gw_keyset *ks, const char *json, size_t len,
                   unsigned allowed_algs, char *err, size_t err_len)
{
    struct json_object *doc = NULL, *list;
    size_t offset = 0;
    bool ok = true;

    if (gw_json_parse(json, len, &doc, &offset) != GW_JSON_OK) {
        snprintf(err, err_len, "JWKS is not JSON (byte %zu)", offset);
        return false;
    }
    if (!json_object_object_get_ex(doc, "keys", &list) ||
        !json_object_is_type(list, json_type_array)) {
        snprintf(err, err_len, "JWKS has no \"keys\" array");
        json_object_put(doc);
        return false;
    }
    for (size_t i = 0; ok && i < json_object_array_length(list); i++) {
        struct json_object *jwk = json_object_array_get_idx(list, i);
        bool skipped;

        if (!json_object_is_type(jwk, json_type_object)) {
            snprintf(err, err_len, "JWKS key %zu is not an object", i);
            ok = false;
            break;
        }
        ok = add_jwk(ks, jwk, allowed_algs, &skipped, err, err_len);
        if (skipped) {
            ks->skipped++;
        }
    }
    json_object_put(doc);
    return ok;
}

void
gw_keyset_clear(struct gw_keyset *ks)
{
    for (size_t i = 0; i < ks->count; i++) {
        key_clear(&ks->keys[i]);
    }
    free(ks->keys);
    ks->keys = NULL;
    ks->count = 0;
    ks->skipped = 0;
}
