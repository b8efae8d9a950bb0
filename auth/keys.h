/* auth/keys.h: verification keys (JWK, PEM, HMAC secrets) and their algorithms. */
#ifndef GW_AUTH_KEYS_H
#define GW_AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/secret.h"

/* JWS algorithms, as bits of an allowlist. ES384/ES512 are not supported:
 * EC keys are P-256 only. */
enum gw_alg {
    GW_ALG_HS256 = 1u << 0,
    GW_ALG_HS384 = 1u << 1,
    GW_ALG_HS512 = 1u << 2,
    GW_ALG_RS256 = 1u << 3,
    GW_ALG_RS384 = 1u << 4,
    GW_ALG_RS512 = 1u << 5,
    GW_ALG_PS256 = 1u << 6,
    GW_ALG_PS384 = 1u << 7,
    GW_ALG_PS512 = 1u << 8,
    GW_ALG_ES256 = 1u << 9,
};

#define GW_ALGS_HMAC (GW_ALG_HS256 | GW_ALG_HS384 | GW_ALG_HS512)
#define GW_ALGS_RSA                                                           \
    (GW_ALG_RS256 | GW_ALG_RS384 | GW_ALG_RS512 | GW_ALG_PS256 |              \
     GW_ALG_PS384 | GW_ALG_PS512)
#define GW_ALGS_EC GW_ALG_ES256

enum gw_key_type { GW_KEY_OCT, GW_KEY_RSA, GW_KEY_EC_P256 };

struct gw_key {
    char *kid;                 /* NULL when the key has none */
    enum gw_key_type type;
    unsigned algs;             /* what this key may verify */
    struct gw_secret *secret;  /* GW_KEY_OCT */
    EVP_PKEY *pkey;            /* GW_KEY_RSA, GW_KEY_EC_P256 */
    char *pem;                 /* public key PEM, as libjwt takes it */
    size_t pem_len;
};

struct gw_keyset {
    struct gw_key *keys;
    size_t count;
    size_t skipped; /* JWKS entries not usable for signatures (enc, OKP) */
};

/* Parses an algorithm name ("RS256"); 0 when unknown, including "none". */
unsigned gw_alg_parse(const char *name, size_t len);

/* Parses a comma list of algorithm names into *out; false with the bad
 * name copied into bad (bad_len bytes) when one is unknown. */
bool gw_algs_parse_list(const char *list, unsigned *out, char *bad,
                        size_t bad_len);

/* Adds the keys of a JWKS document. Keys are limited to allowed_algs, to
 * their type and to their "alg" member. err receives the reason on
 * failure. Returns false on the first key that is malformed. */
bool gw_keyset_add_jwks(struct gw_keyset *ks, const char *json, size_t len,
                        unsigned allowed_algs, char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Adds an HMAC secret (at least 32 bytes; HS384 needs 48, HS512 64). */
bool gw_keyset_add_secret(struct gw_keyset *ks, const void *bytes,
                          size_t len, const char *kid, unsigned allowed_algs,
                          char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Adds an RSA (2048 bits or more) or EC P-256 public key from PEM. */
bool gw_keyset_add_pem(struct gw_keyset *ks, const char *pem, size_t len,
                       const char *kid, unsigned allowed_algs, char *err,
                       size_t err_len) __attribute__((warn_unused_result));

/* Releases every key of the set (not the set itself, which callers embed). */
void gw_keyset_clear(struct gw_keyset *ks);

#endif
