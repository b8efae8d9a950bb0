/* tests/unit/auth/test_keys.c: JWKS, PEM and HMAC secrets into keys, with
 * keys generated here and the public keys of Wycheproof's vector files. */
#include "auth/keys.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/fileutil.h"
#include "common/json_strict.h"

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

#define ALL_ALGS (GW_ALGS_HMAC | GW_ALGS_RSA | GW_ALGS_EC)
#define VECTOR_MAX_BYTES (4u << 20)

static int passed;
static int failed;

static void
check_at(bool ok, const char *label, const char *name, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL line %d: %s [%s]\n", line, label, name);
}

/* Setup that cannot go on (no memory, OpenSSL refusing a key) ends the
 * run: every later check would fail for a reason that is not the code's. */
static void
die(const char *what)
{
    fprintf(stderr, "unit.keys: cannot continue: %s\n", what);
    exit(2);
}

static void *
xmalloc(size_t len)
{
    void *p = malloc(len > 0 ? len : 1);

    if (p == NULL) {
        die("out of memory");
    }
    return p;
}

static char *fmt_new(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
fmt_new(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;

    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0) {
        die("out of memory");
    }
    va_end(ap);
    return out;
}

/* base64url without padding, independent of common/b64.c. */
static char *
b64url_new(const void *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        } else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    return out;
}

static char *
bn_param_b64(EVP_PKEY *pkey, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        die("key parameter");
    }
    n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    if (n < 0) {
        die("key parameter size");
    }
    return b64url_new(buf, (size_t)n);
}

/* A public JWK for pkey; members are extra JSON members ("" for none). */
static char *
jwk_new(EVP_PKEY *pkey, const char *members)
{
    const char *sep = members[0] != '\0' ? "," : "";
    char *a, *b, *jwk;

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        a = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        b = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        jwk = fmt_new("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", a, b,
                      sep, members);
    } else {
        a = bn_param_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        b = bn_param_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        jwk = fmt_new("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
                      "\"y\":\"%s\"%s%s}",
                      a, b, sep, members);
    }
    free(a);
    free(b);
    return jwk;
}

/* PEM text of pkey: "public" (SubjectPublicKeyInfo), "private" (PKCS #8)
 * or "traditional" (BEGIN RSA / EC PRIVATE KEY). */
static char *
pem_new(EVP_PKEY *pkey, const char *form)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    bool ok = bio != NULL;
    long n;

    if (ok && strcmp(form, "public") == 0) {
        ok = PEM_write_bio_PUBKEY(bio, pkey) == 1;
    } else if (ok && strcmp(form, "private") == 0) {
        ok =
            PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1;
    } else if (ok) {
        ok = PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0,
                                                  NULL, NULL) == 1;
    }
    if (!ok) {
        die("PEM export");
    }
    n = BIO_get_mem_data(bio, &data);
    pem = xmalloc((size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    BIO_free(bio);
    return pem;
}

/* Strings built inside case tables, freed together when the test ends. */
static char *kept[64];
static size_t kept_count;

static char *
keep(char *s)
{
    if (kept_count == sizeof(kept) / sizeof(kept[0])) {
        die("too many kept strings");
    }
    kept[kept_count++] = s;
    return s;
}

static void
release_kept(void)
{
    while (kept_count > 0) {
        free(kept[--kept_count]);
    }
}

static char *
zeros_b64(size_t len)
{
    unsigned char zeros[128] = {0};

    return keep(b64url_new(zeros, len));
}

static struct {
    EVP_PKEY *rsa, *rsa1024, *ec, *p384, *ed25519;
} fx;

static void
fixture_setup(void)
{
    fx.rsa = EVP_RSA_gen(2048);
    fx.rsa1024 = EVP_RSA_gen(1024);
    fx.ec = EVP_EC_gen("P-256");
    fx.p384 = EVP_EC_gen("P-384");
    fx.ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (fx.rsa == NULL || fx.rsa1024 == NULL || fx.ec == NULL ||
        fx.p384 == NULL || fx.ed25519 == NULL) {
        die("key generation");
    }
}

static void
fixture_teardown(void)
{
    EVP_PKEY_free(fx.rsa);
    EVP_PKEY_free(fx.rsa1024);
    EVP_PKEY_free(fx.ec);
    EVP_PKEY_free(fx.p384);
    EVP_PKEY_free(fx.ed25519);
}

static bool
add_jwks(struct gw_keyset *ks, const char *jwks, unsigned algs, char *err,
         size_t err_len)
{
    return gw_keyset_add_jwks(ks, jwks, strlen(jwks), algs, err, err_len);
}

static bool
pem_starts_public(const struct gw_key *k)
{
    return k->pem != NULL && k->pem_len == strlen(k->pem) &&
           strncmp(k->pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0;
}

/* ---- JWKS ---- */

static void
test_keys_loads_rsa_ec_and_oct_jwks(void)
{
    unsigned char secret[32];
    char *rsa = jwk_new(fx.rsa, "\"kid\":\"r\",\"use\":\"sig\"");
    char *ec = jwk_new(fx.ec, "\"kid\":\"e\"");
    char *k, *jwks;
    struct gw_keyset ks = {0};
    char err[160] = "";
    bool ok;

    if (RAND_bytes(secret, sizeof(secret)) != 1) {
        die("RAND_bytes");
    }
    k = b64url_new(secret, sizeof(secret));
    jwks = fmt_new("{\"keys\":[%s,%s,{\"kty\":\"oct\",\"kid\":\"o\","
                   "\"k\":\"%s\"}]}",
                   rsa, ec, k);
    ok = add_jwks(&ks, jwks, ALL_ALGS, err, sizeof(err));
    CHECK(ok, "the JWKS loads", err);
    CHECK(ks.count == 3 && ks.skipped == 0, "three keys, none skipped",
          "RSA, EC, oct");
    if (ok && ks.count == 3) {
        CHECK(ks.keys[0].type == GW_KEY_RSA && ks.keys[0].algs == GW_ALGS_RSA &&
                  ks.keys[0].kid != NULL && strcmp(ks.keys[0].kid, "r") == 0 &&
                  ks.keys[0].pkey != NULL && pem_starts_public(&ks.keys[0]),
              "RSA key: type, algs, kid, PEM", "RSA");
        CHECK(ks.keys[1].type == GW_KEY_EC_P256 &&
                  ks.keys[1].algs == GW_ALG_ES256 && ks.keys[1].kid != NULL &&
                  strcmp(ks.keys[1].kid, "e") == 0 &&
                  pem_starts_public(&ks.keys[1]),
              "EC key: type, algs, kid, PEM", "EC P-256");
        CHECK(
            ks.keys[2].type == GW_KEY_OCT && ks.keys[2].algs == GW_ALG_HS256 &&
                ks.keys[2].secret != NULL &&
                ks.keys[2].secret->len == sizeof(secret) &&
                memcmp(ks.keys[2].secret->bytes, secret, sizeof(secret)) == 0 &&
                ks.keys[2].pkey == NULL,
            "oct key: type, algs, the secret's bytes", "oct");
    }
    gw_keyset_clear(&ks);
    free(jwks);
    free(k);
    free(ec);
    free(rsa);
}

static void
test_keys_adds_to_what_the_set_holds(void)
{
    char *a = jwk_new(fx.rsa, "\"kid\":\"a\"");
    char *b = jwk_new(fx.ec, "\"kid\":\"b\"");
    char *j1 = fmt_new("{\"keys\":[%s]}", a);
    char *j2 = fmt_new("{\"keys\":[%s]}", b);
    char *j3 = fmt_new("{\"keys\":[]}");
    struct gw_keyset ks = {0};
    char err[160] = "";

    CHECK(add_jwks(&ks, j1, ALL_ALGS, err, sizeof(err)) &&
              add_jwks(&ks, j2, ALL_ALGS, err, sizeof(err)) &&
              add_jwks(&ks, j3, ALL_ALGS, err, sizeof(err)),
          "three documents load", err);
    CHECK(ks.count == 2, "keys accumulate; an empty list adds none",
          "two documents");
    CHECK(!add_jwks(&ks, j1, ALL_ALGS, err, sizeof(err)),
          "a kid already in the set is refused", "same JWKS twice");
    gw_keyset_clear(&ks);
    CHECK(ks.count == 0 && ks.keys == NULL && ks.skipped == 0,
          "clear empties the set", "clear");
    gw_keyset_clear(&ks);
    CHECK(add_jwks(&ks, j1, ALL_ALGS, err, sizeof(err)) && ks.count == 1,
          "a cleared set is usable again", "reuse");
    gw_keyset_clear(&ks);
    free(j3);
    free(j2);
    free(j1);
    free(b);
    free(a);
}

struct jwks_case {
    const char *name;
    char *jwks;
    bool ok;
    size_t count, skipped;
};

static void
run_jwks_cases(struct jwks_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct gw_keyset ks = {0};
        char err[160] = "";
        bool ok = add_jwks(&ks, cases[i].jwks, ALL_ALGS, err, sizeof(err));

        CHECK(ok == cases[i].ok, cases[i].ok ? "loads" : "is refused",
              cases[i].name);
        if (ok && cases[i].ok) {
            CHECK(ks.count == cases[i].count && ks.skipped == cases[i].skipped,
                  "keys and skipped counted", cases[i].name);
        }
        if (!ok) {
            CHECK(err[0] != '\0', "the reason is given", cases[i].name);
        }
        gw_keyset_clear(&ks);
        free(cases[i].jwks);
    }
}

static void
test_keys_skips_and_counts_keys_not_for_signatures(void)
{
    char *sig = jwk_new(fx.rsa, "\"kid\":\"sig\"");
    char *enc = jwk_new(fx.rsa, "\"kid\":\"enc\",\"use\":\"enc\"");
    char *ec_enc = jwk_new(fx.ec, "\"kid\":\"ec-enc\",\"use\":\"enc\"");
    char *p384_x = bn_param_b64(fx.p384, OSSL_PKEY_PARAM_EC_PUB_X, 48);
    char *p384_y = bn_param_b64(fx.p384, OSSL_PKEY_PARAM_EC_PUB_Y, 48);
    char *ed_x = NULL;
    unsigned char raw[32];
    size_t raw_len = sizeof(raw);
    char *p384, *okp;

    if (EVP_PKEY_get_raw_public_key(fx.ed25519, raw, &raw_len) != 1) {
        die("Ed25519 public key");
    }
    ed_x = b64url_new(raw, raw_len);
    p384 = fmt_new("{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\","
                   "\"x\":\"%s\",\"y\":\"%s\",\"alg\":\"ES384\"}",
                   p384_x, p384_y);
    okp = fmt_new("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\","
                  "\"x\":\"%s\",\"alg\":\"EdDSA\"}",
                  ed_x);
    {
        struct jwks_case cases[] = {
            {"RSA use enc", fmt_new("{\"keys\":[%s,%s]}", enc, sig), true, 1,
             1},
            {"EC use enc", fmt_new("{\"keys\":[%s,%s]}", ec_enc, sig), true, 1,
             1},
            {"oct use enc",
             fmt_new("{\"keys\":[{\"kty\":\"oct\",\"use\":\"enc\",\"k\":"
                     "\"AAAA\"},%s]}",
                     sig),
             true, 1, 1},
            {"EC P-384", fmt_new("{\"keys\":[%s,%s]}", p384, sig), true, 1, 1},
            {"OKP Ed25519", fmt_new("{\"keys\":[%s,%s]}", okp, sig), true, 1,
             1},
            {"unknown kty",
             fmt_new("{\"keys\":[{\"kty\":\"XYZ\",\"kid\":\"x\"},%s]}", sig),
             true, 1, 1},
            {"all four kinds at once",
             fmt_new("{\"keys\":[%s,%s,%s,%s,%s]}", enc, p384, okp, sig,
                     ec_enc),
             true, 1, 4},
            {"only skipped keys", fmt_new("{\"keys\":[%s,%s]}", p384, okp),
             true, 0, 2},
            {"skipped keys may share a kid with a used one",
             fmt_new("{\"keys\":[%s,%s]}",
                     keep(jwk_new(fx.rsa, "\"kid\":\"sig\",\"use\":\"enc\"")),
                     sig),
             true, 1, 1},
            {"two keys without kid",
             fmt_new("{\"keys\":[%s,%s]}", okp, keep(jwk_new(fx.ec, ""))), true,
             1, 1},
        };

        run_jwks_cases(cases, sizeof(cases) / sizeof(cases[0]));
        release_kept();
    }
    free(okp);
    free(p384);
    free(ed_x);
    free(p384_y);
    free(p384_x);
    free(ec_enc);
    free(enc);
    free(sig);
}

static void
test_keys_skips_keys_whose_key_ops_exclude_verify(void)
{
    /* RFC 7517 4.3: key_ops names what a key is for. Wycheproof
     * json_web_signature tcId 355 and 356 (rejectWrongKeyOps) require a
     * key for encryption only to be refused for verification, as "use":
     * "enc" already is (tcId 353 and 354). */
    char *sig = jwk_new(fx.rsa, "\"kid\":\"sig\"");
    char *verify = jwk_new(fx.rsa, "\"kid\":\"v\",\"key_ops\":[\"verify\"]");
    char *rsa_enc = jwk_new(fx.rsa, "\"kid\":\"x\",\"key_ops\":[\"encrypt\"]");
    char *ec_enc = jwk_new(fx.ec, "\"kid\":\"y\",\"key_ops\":[\"encrypt\"]");
    struct jwks_case ok_cases[] = {
        {"key_ops verify", fmt_new("{\"keys\":[%s]}", verify), true, 1, 0},
    };
    const char *names[] = {"RSA key_ops encrypt (tcId 355)",
                           "EC key_ops encrypt (tcId 356)"};
    const char *jwks_keys[] = {rsa_enc, ec_enc};

    run_jwks_cases(ok_cases, 1);
    for (size_t i = 0; i < 2; i++) {
        struct gw_keyset ks = {0};
        char err[160] = "";
        char *jwks = fmt_new("{\"keys\":[%s,%s]}", jwks_keys[i], sig);
        bool ok = add_jwks(&ks, jwks, ALL_ALGS, err, sizeof(err));

        /* Skipped like "use":"enc"; refusing the whole document would
         * also keep the key out, so either passes. */
        CHECK(!ok || (ks.count == 1 && ks.skipped == 1),
              "the encryption key is not taken for verification", names[i]);
        gw_keyset_clear(&ks);
        free(jwks);
    }
    free(ec_enc);
    free(rsa_enc);
    free(verify);
    free(sig);
}

/* A JWK with one member's value replaced (the member must be present). */
static char *
jwk_with(EVP_PKEY *pkey, const char *kid, const char *member, const char *value)
{
    char *members = fmt_new("\"kid\":\"%s\"", kid);
    char *jwk = jwk_new(pkey, members);
    char *key = fmt_new("\"%s\":\"", member);
    char *at = strstr(jwk, key), *end, *out;

    if (at == NULL) {
        die("JWK member to replace");
    }
    at += strlen(key);
    end = strchr(at, '"');
    out = fmt_new("%.*s%s%s", (int)(at - jwk), jwk, value, end);
    free(key);
    free(jwk);
    free(members);
    return out;
}

static char *
ec_y_off_curve(void)
{
    BIGNUM *y = NULL;
    unsigned char buf[32];
    char *b64;

    if (EVP_PKEY_get_bn_param(fx.ec, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
        BN_bn2binpad(y, buf, 32) != 32) {
        die("EC y");
    }
    BN_free(y);
    buf[31] ^= 0x01; /* (x, y ^ 1) is not on the curve with this x */
    b64 = b64url_new(buf, 32);
    return b64;
}

static void
test_keys_refuses_malformed_jwks(void)
{
    char *rsa = jwk_new(fx.rsa, "\"kid\":\"r\"");
    char *rsa2 = jwk_new(fx.rsa, "\"kid\":\"r\",\"use\":\"sig\"");
    char *small = jwk_new(fx.rsa1024, "\"kid\":\"small\"");
    char *bad_y = ec_y_off_curve();
    char *x33 = zeros_b64(33), *x31 = zeros_b64(31), *k32 = zeros_b64(32);
    char *x = keep(bn_param_b64(fx.ec, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    struct jwks_case cases[] = {
        {"not JSON", fmt_new("keys"), false, 0, 0},
        {"lenient JSON",
         fmt_new("{'keys':[{'kty':'oct','k':'%s'}]}",
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
         false, 0, 0},
        {"no keys member", fmt_new("{\"key\":[%s]}", rsa), false, 0, 0},
        {"keys not an array", fmt_new("{\"keys\":%s}", rsa), false, 0, 0},
        {"a key not an object", fmt_new("{\"keys\":[\"%s\"]}", "r"), false, 0,
         0},
        {"a document that is an array", fmt_new("[%s]", rsa), false, 0, 0},
        {"missing kty", fmt_new("{\"keys\":[{\"kid\":\"a\",\"k\":\"AAAA\"}]}"),
         false, 0, 0},
        {"kty not a string",
         fmt_new("{\"keys\":[{\"kty\":7,\"kid\":\"a\",\"k\":\"AAAA\"}]}"),
         false, 0, 0},
        {"RSA e with '+'",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.rsa, "a", "e", "AQ+B"))),
         false, 0, 0},
        {"RSA e padded",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.rsa, "a", "e", "AQAB=="))),
         false, 0, 0},
        {"RSA n with a space",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.rsa, "a", "n", "AQ AB"))),
         false, 0, 0},
        {"RSA e missing",
         fmt_new("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}"
                 "]}"),
         false, 0, 0},
        {"RSA 1024 bits", fmt_new("{\"keys\":[%s]}", small), false, 0, 0},
        {"EC x with '/'",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.ec, "a", "x", "ab/c"))),
         false, 0, 0},
        {"EC x of 33 bytes",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.ec, "a", "x", x33))),
         false, 0, 0},
        {"EC x of 31 bytes",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.ec, "a", "x", x31))),
         false, 0, 0},
        {"EC point off the curve",
         fmt_new("{\"keys\":[%s]}", keep(jwk_with(fx.ec, "a", "y", bad_y))),
         false, 0, 0},
        {"EC y missing",
         fmt_new("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}"
                 "]}",
                 x),
         false, 0, 0},
        {"oct k with '='",
         fmt_new("{\"keys\":[{\"kty\":\"oct\",\"k\":\"%s=\"}]}", k32), false, 0,
         0},
        {"oct k missing", fmt_new("{\"keys\":[{\"kty\":\"oct\"}]}"), false, 0,
         0},
        {"oct k of 16 bytes",
         fmt_new("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAA\""
                 "}]}"),
         false, 0, 0},
        {"duplicate kid", fmt_new("{\"keys\":[%s,%s]}", rsa, rsa2), false, 0,
         0},
        {"duplicate kid across oct and RSA",
         fmt_new("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"r\",\"k\":\"%s\"},%s]}",
                 k32, rsa),
         false, 0, 0},
    };

    run_jwks_cases(cases, sizeof(cases) / sizeof(cases[0]));
    release_kept();
    free(bad_y);
    free(small);
    free(rsa2);
    free(rsa);
}

static void
test_keys_never_use_a_key_whose_alg_is_unknown(void)
{
    /* Refusing the document or skipping the key both keep it unused;
     * which one is the loader's choice, so either passes. */
    const char *members[] = {
        "\"kid\":\"a\",\"alg\":\"RS1\"",
        "\"kid\":\"a\",\"alg\":\"none\"",
        "\"kid\":\"a\",\"alg\":\"RSA-OAEP\"",
        "\"kid\":\"a\",\"alg\":\"rs256\"",
    };

    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        char *jwk = jwk_new(fx.rsa, members[i]);
        char *jwks = fmt_new("{\"keys\":[%s]}", jwk);
        struct gw_keyset ks = {0};
        char err[160] = "";
        bool ok = add_jwks(&ks, jwks, ALL_ALGS, err, sizeof(err));

        CHECK(!ok || ks.count == 0 || ks.keys[0].algs == 0,
              "the key verifies nothing", members[i]);
        gw_keyset_clear(&ks);
        free(jwks);
        free(jwk);
    }
}

static void
test_keys_error_messages_never_echo_key_material(void)
{
    const char *k = "c2VjcmV0LXNlY3JldC1zZWNyZXQ";
    char *jwks = fmt_new("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"s\","
                         "\"k\":\"%s\"}]}",
                         k);
    char *bad = fmt_new("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"s\","
                        "\"k\":\"%s!\"}]}",
                        k);
    unsigned char secret[31];
    struct gw_keyset ks = {0};
    char err[256] = "";

    memset(secret, 'Q', sizeof(secret));
    CHECK(!add_jwks(&ks, jwks, ALL_ALGS, err, sizeof(err)) &&
              strstr(err, k) == NULL && strstr(err, "secret-") == NULL,
          "a short oct key's error names neither k nor its bytes", err);
    err[0] = '\0';
    CHECK(!add_jwks(&ks, bad, ALL_ALGS, err, sizeof(err)) &&
              strstr(err, k) == NULL,
          "a bad oct key's error does not echo k", err);
    err[0] = '\0';
    CHECK(!gw_keyset_add_secret(&ks, secret, sizeof(secret), "q", ALL_ALGS, err,
                                sizeof(err)) &&
              strstr(err, "QQQQ") == NULL,
          "a short secret's error does not echo it", err);
    gw_keyset_clear(&ks);
    free(bad);
    free(jwks);
}

static void
test_keys_narrow_their_algorithms(void)
{
    const char *k32 = zeros_b64(32), *k48 = zeros_b64(48);
    const char *k64 = zeros_b64(64);
    struct {
        const char *name;
        char *jwk;
        unsigned allowed, want;
    } cases[] = {
        {"RSA", jwk_new(fx.rsa, ""), ALL_ALGS, GW_ALGS_RSA},
        {"RSA, alg PS256", jwk_new(fx.rsa, "\"alg\":\"PS256\""), ALL_ALGS,
         GW_ALG_PS256},
        {"RSA, allowed RS256", jwk_new(fx.rsa, ""), GW_ALG_RS256, GW_ALG_RS256},
        {"RSA, alg PS256, allowed RS256", jwk_new(fx.rsa, "\"alg\":\"PS256\""),
         GW_ALG_RS256, 0},
        {"RSA, alg ES256", jwk_new(fx.rsa, "\"alg\":\"ES256\""), ALL_ALGS, 0},
        {"RSA, alg HS256", jwk_new(fx.rsa, "\"alg\":\"HS256\""), ALL_ALGS, 0},
        {"EC", jwk_new(fx.ec, ""), ALL_ALGS, GW_ALG_ES256},
        {"EC, allowed RSA only", jwk_new(fx.ec, ""), GW_ALGS_RSA, 0},
        {"EC, alg HS256", jwk_new(fx.ec, "\"alg\":\"HS256\""), ALL_ALGS, 0},
        {"oct 32 bytes", fmt_new("{\"kty\":\"oct\",\"k\":\"%s\"}", k32),
         ALL_ALGS, GW_ALG_HS256},
        {"oct 48 bytes", fmt_new("{\"kty\":\"oct\",\"k\":\"%s\"}", k48),
         ALL_ALGS, GW_ALG_HS256 | GW_ALG_HS384},
        {"oct 64 bytes", fmt_new("{\"kty\":\"oct\",\"k\":\"%s\"}", k64),
         ALL_ALGS, GW_ALGS_HMAC},
        {"oct 64 bytes, alg HS512",
         fmt_new("{\"kty\":\"oct\",\"k\":\"%s\",\"alg\":\"HS512\"}", k64),
         ALL_ALGS, GW_ALG_HS512},
        {"oct 32 bytes, alg HS512",
         fmt_new("{\"kty\":\"oct\",\"k\":\"%s\",\"alg\":\"HS512\"}", k32),
         ALL_ALGS, 0},
        {"oct 64 bytes, alg RS256",
         fmt_new("{\"kty\":\"oct\",\"k\":\"%s\",\"alg\":\"RS256\"}", k64),
         ALL_ALGS, 0},
        {"oct 64 bytes, allowed RSA only",
         fmt_new("{\"kty\":\"oct\",\"k\":\"%s\"}", k64), GW_ALGS_RSA, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_keyset ks = {0};
        char *jwks = fmt_new("{\"keys\":[%s]}", cases[i].jwk);
        char err[160] = "";
        bool ok = add_jwks(&ks, jwks, cases[i].allowed, err, sizeof(err));

        CHECK(ok && ks.count == 1, "loads", cases[i].name);
        if (ok && ks.count == 1) {
            char label[64];

            snprintf(label, sizeof(label), "algs 0x%x, want 0x%x",
                     ks.keys[0].algs, cases[i].want);
            CHECK(ks.keys[0].algs == cases[i].want, label, cases[i].name);
        }
        gw_keyset_clear(&ks);
        free(jwks);
        free(cases[i].jwk);
    }
    release_kept();
}

/* ---- PEM ---- */

static void
test_keys_loads_pem_public_keys(void)
{
    char *rsa = pem_new(fx.rsa, "public"), *ec = pem_new(fx.ec, "public");
    struct gw_keyset ks = {0};
    char err[160] = "";

    CHECK(gw_keyset_add_pem(&ks, rsa, strlen(rsa), "r", ALL_ALGS, err,
                            sizeof(err)),
          "RSA PEM loads", err);
    CHECK(gw_keyset_add_pem(&ks, ec, strlen(ec), NULL, ALL_ALGS, err,
                            sizeof(err)),
          "EC PEM loads", err);
    CHECK(gw_keyset_add_pem(&ks, rsa, strlen(rsa), "", GW_ALG_RS256, err,
                            sizeof(err)),
          "the same key again without kid loads", err);
    CHECK(ks.count == 3, "three keys", "PEM");
    if (ks.count == 3) {
        CHECK(ks.keys[0].type == GW_KEY_RSA && ks.keys[0].algs == GW_ALGS_RSA &&
                  ks.keys[0].kid != NULL && strcmp(ks.keys[0].kid, "r") == 0 &&
                  pem_starts_public(&ks.keys[0]),
              "RSA: type, algs, kid, PEM", "RSA PEM");
        CHECK(ks.keys[1].type == GW_KEY_EC_P256 &&
                  ks.keys[1].algs == GW_ALG_ES256 && ks.keys[1].kid == NULL &&
                  ks.keys[1].pem != NULL && strcmp(ks.keys[1].pem, ec) == 0,
              "EC: type, algs, no kid, PEM kept", "EC PEM");
        CHECK(ks.keys[2].kid == NULL && ks.keys[2].algs == GW_ALG_RS256,
              "an empty kid is no kid; allowed algs narrow", "RSA PEM again");
    }
    /* Text around the PEM block is ignored, as in a certificate bundle. */
    {
        char *noisy = fmt_new("# issuer key\n%s\n", rsa);

        CHECK(gw_keyset_add_pem(&ks, noisy, strlen(noisy), "noisy", ALL_ALGS,
                                err, sizeof(err)),
              "a PEM block with a comment line before it loads", err);
        free(noisy);
    }
    gw_keyset_clear(&ks);
    free(ec);
    free(rsa);
}

static void
test_keys_refuses_unusable_pem(void)
{
    char *ok_pem = pem_new(fx.ec, "public");
    char *rsa_pub = pem_new(fx.rsa, "public");
    char *cut = fmt_new("%.*s", (int)strlen(rsa_pub) / 2, rsa_pub);
    struct {
        const char *name;
        char *pem;
    } cases[] = {
        {"RSA private key (PKCS #8)", pem_new(fx.rsa, "private")},
        {"RSA private key (BEGIN RSA PRIVATE KEY)",
         pem_new(fx.rsa, "traditional")},
        {"EC private key (PKCS #8)", pem_new(fx.ec, "private")},
        {"EC private key (BEGIN EC PRIVATE KEY)",
         pem_new(fx.ec, "traditional")},
        {"RSA 1024 bits", pem_new(fx.rsa1024, "public")},
        {"EC P-384", pem_new(fx.p384, "public")},
        {"Ed25519", pem_new(fx.ed25519, "public")},
        {"garbage", fmt_new("not a key")},
        {"empty", fmt_new("%s", "")},
        {"PEM cut in half", fmt_new("%s", cut)},
        {"BEGIN line only", fmt_new("-----BEGIN PUBLIC KEY-----\n")},
        {"base64 body is junk",
         fmt_new("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
                 "\n")},
    };
    struct gw_keyset ks = {0};
    char err[160] = "";

    if (!gw_keyset_add_pem(&ks, ok_pem, strlen(ok_pem), "taken", ALL_ALGS, err,
                           sizeof(err))) {
        die(err);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t before = ks.count;

        err[0] = '\0';
        CHECK(!gw_keyset_add_pem(&ks, cases[i].pem, strlen(cases[i].pem), NULL,
                                 ALL_ALGS, err, sizeof(err)),
              "refused", cases[i].name);
        CHECK(err[0] != '\0' && strstr(err, "PRIVATE") == NULL &&
                  strstr(err, "MII") == NULL,
              "a reason is given, without key text", cases[i].name);
        CHECK(ks.count == before, "the set is unchanged", cases[i].name);
        free(cases[i].pem);
    }
    {
        size_t before = ks.count;

        CHECK(!gw_keyset_add_pem(&ks, rsa_pub, strlen(rsa_pub), "taken",
                                 ALL_ALGS, err, sizeof(err)) &&
                  ks.count == before,
              "a kid already in the set is refused", "duplicate kid");
    }
    gw_keyset_clear(&ks);
    free(cut);
    free(rsa_pub);
    free(ok_pem);
}

/* ---- HMAC secrets ---- */

static void
test_keys_hold_hmac_secrets_to_the_rfc_7518_lengths(void)
{
    const struct {
        size_t len;
        bool ok;
        unsigned algs;
    } cases[] = {
        {0, false, 0},
        {1, false, 0},
        {31, false, 0},
        {32, true, GW_ALG_HS256},
        {47, true, GW_ALG_HS256},
        {48, true, GW_ALG_HS256 | GW_ALG_HS384},
        {63, true, GW_ALG_HS256 | GW_ALG_HS384},
        {64, true, GW_ALGS_HMAC},
        {200, true, GW_ALGS_HMAC},
    };
    unsigned char bytes[200];

    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (unsigned char)i; /* starts with a NUL byte */
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_keyset ks = {0};
        char err[160] = "", name[48];
        bool ok = gw_keyset_add_secret(&ks, bytes, cases[i].len, "h", ALL_ALGS,
                                       err, sizeof(err));

        snprintf(name, sizeof(name), "secret of %zu bytes", cases[i].len);
        CHECK(ok == cases[i].ok, cases[i].ok ? "loads" : "is refused", name);
        if (ok) {
            CHECK(ks.count == 1 && ks.keys[0].type == GW_KEY_OCT &&
                      ks.keys[0].algs == cases[i].algs &&
                      ks.keys[0].secret != NULL &&
                      ks.keys[0].secret->len == cases[i].len &&
                      memcmp(ks.keys[0].secret->bytes, bytes, cases[i].len) ==
                          0,
                  "type, algs and every byte", name);
        } else {
            CHECK(ks.count == 0 && err[0] != '\0', "nothing added, a reason",
                  name);
        }
        gw_keyset_clear(&ks);
    }
}

static void
test_keys_copy_hmac_secrets(void)
{
    unsigned char bytes[32];
    struct gw_keyset ks = {0};
    char err[160] = "";

    memset(bytes, 0x5a, sizeof(bytes));
    if (!gw_keyset_add_secret(&ks, bytes, sizeof(bytes), "h", GW_ALGS_HMAC, err,
                              sizeof(err))) {
        die(err);
    }
    memset(bytes, 0, sizeof(bytes));
    CHECK(ks.count == 1 && ks.keys[0].secret != NULL &&
              ks.keys[0].secret->bytes[0] == 0x5a &&
              ks.keys[0].secret->bytes[31] == 0x5a,
          "the set owns a copy", "caller wipes its buffer");
    memset(bytes, 0x5a, sizeof(bytes));
    CHECK(!gw_keyset_add_secret(&ks, bytes, sizeof(bytes), "h", GW_ALGS_HMAC,
                                err, sizeof(err)) &&
              ks.count == 1,
          "a kid already in the set is refused", "duplicate kid");
    CHECK(gw_keyset_add_secret(&ks, bytes, sizeof(bytes), NULL, GW_ALGS_HMAC,
                               err, sizeof(err)) &&
              gw_keyset_add_secret(&ks, bytes, sizeof(bytes), NULL,
                                   GW_ALGS_HMAC, err, sizeof(err)) &&
              ks.count == 3,
          "keys without kid never clash", "no kid twice");
    gw_keyset_clear(&ks);
}

/* ---- Wycheproof public keys ---- */

static struct json_object *
vector_load(const char *name)
{
    const char *base = getenv("GW_VECTORS");
    char *path = fmt_new("%s/%s", base != NULL ? base : "tests/vectors", name);
    struct json_object *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    bool ok;

    ok = gw_file_read(path, VECTOR_MAX_BYTES, &text, &len) == 0 &&
         gw_json_parse(text, len, &doc, NULL) == GW_JSON_OK;
    CHECK(ok, "vector file reads and parses", path);
    free(text);
    free(path);
    return ok ? doc : NULL;
}

static const char *
member_string(struct json_object *obj, const char *name)
{
    struct json_object *v;

    if (!json_object_object_get_ex(obj, name, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

/* Loads a JWK object alone (as a JWKS) and a PEM text; both must give one
 * key of the given type and algorithms. */
static void
check_public_key(struct json_object *jwk, const char *pem, const char *name,
                 enum gw_key_type type, unsigned algs)
{
    struct gw_keyset ks = {0};
    char err[160] = "";
    char *jwks =
        fmt_new("{\"keys\":[%s]}",
                json_object_to_json_string_ext(jwk, JSON_C_TO_STRING_PLAIN));

    CHECK(add_jwks(&ks, jwks, ALL_ALGS, err, sizeof(err)) && ks.count == 1 &&
              ks.keys[0].type == type && ks.keys[0].algs == algs,
          "the JWK loads with its type and algs", name);
    gw_keyset_clear(&ks);
    CHECK(pem != NULL &&
              gw_keyset_add_pem(&ks, pem, strlen(pem), NULL, ALL_ALGS, err,
                                sizeof(err)) &&
              ks.count == 1 && ks.keys[0].type == type,
          "the PEM loads with its type", name);
    gw_keyset_clear(&ks);
    free(jwks);
}

/* A coordinate in hex (any length, maybe a leading 00) as 32 bytes. */
static char *
coordinate_b64(const char *hex)
{
    BIGNUM *bn = NULL;
    unsigned char buf[32];

    if (hex == NULL || BN_hex2bn(&bn, hex) == 0 ||
        BN_bn2binpad(bn, buf, 32) != 32) {
        die("EC coordinate");
    }
    BN_free(bn);
    return b64url_new(buf, 32);
}

static struct json_object *
ec_jwk_from_hex(const char *wx, const char *wy)
{
    struct json_object *jwk = json_object_new_object();
    char *x = coordinate_b64(wx), *y = coordinate_b64(wy);

    if (jwk == NULL ||
        json_object_object_add(jwk, "kty", json_object_new_string("EC")) ||
        json_object_object_add(jwk, "crv", json_object_new_string("P-256")) ||
        json_object_object_add(jwk, "x", json_object_new_string(x)) ||
        json_object_object_add(jwk, "y", json_object_new_string(y))) {
        die("building a JWK");
    }
    free(x);
    free(y);
    return jwk;
}

static void
test_keys_load_every_wycheproof_public_key(void)
{
    struct json_object *ec =
        vector_load("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json");
    struct json_object *rsa =
        vector_load("wycheproof/rsa_signature_2048_sha256_test.json");
    struct json_object *groups, *group, *pk, *jwk;
    int count = 0;
    char name[64];

    /* The ECDSA groups' keys include small and large coordinates; some
     * groups carry no JWK, so each JWK is built from wx and wy at the full
     * length RFC 7518 6.2.1.2 asks for. */
    if (ec != NULL && json_object_object_get_ex(ec, "testGroups", &groups)) {
        for (size_t g = 0; g < json_object_array_length(groups); g++) {
            group = json_object_array_get_idx(groups, g);
            snprintf(name, sizeof(name), "ecdsa p1363 group %zu", g);
            CHECK(json_object_object_get_ex(group, "publicKey", &pk),
                  "group has a public key", name);
            jwk = ec_jwk_from_hex(member_string(pk, "wx"),
                                  member_string(pk, "wy"));
            check_public_key(jwk, member_string(group, "publicKeyPem"), name,
                             GW_KEY_EC_P256, GW_ALG_ES256);
            json_object_put(jwk);
            count++;
        }
    }
    /* RSA groups: e = 65537 and e = 3; their JWK says alg RS256. */
    if (rsa != NULL && json_object_object_get_ex(rsa, "testGroups", &groups)) {
        for (size_t g = 0; g < json_object_array_length(groups); g++) {
            group = json_object_array_get_idx(groups, g);
            snprintf(name, sizeof(name), "rsa 2048 group %zu", g);
            CHECK(json_object_object_get_ex(group, "publicKey", &pk) &&
                      json_object_object_get_ex(group, "keyJwk", &jwk),
                  "group has a key and a JWK", name);
            check_public_key(jwk, member_string(group, "publicKeyPem"), name,
                             GW_KEY_RSA, GW_ALG_RS256);
            count++;
        }
    }
    printf("unit.keys: %d Wycheproof public keys loaded as JWK and PEM\n",
           count);
    json_object_put(ec);
    json_object_put(rsa);
}

static void
test_keys_apply_the_length_rule_to_wycheproof_hmac_keys(void)
{
    struct json_object *doc = vector_load("wycheproof/hmac_sha256_test.json");
    struct json_object *groups, *tests, *v;
    int seen[3] = {0, 0, 0};

    if (doc == NULL || !json_object_object_get_ex(doc, "testGroups", &groups)) {
        json_object_put(doc);
        return;
    }
    for (size_t g = 0; g < json_object_array_length(groups); g++) {
        struct json_object *group = json_object_array_get_idx(groups, g);
        const char *hex;
        unsigned char key[128];
        size_t len;
        struct gw_keyset ks = {0};
        char err[160] = "", name[64];
        bool ok;

        json_object_object_get_ex(group, "tests", &tests);
        hex = member_string(json_object_array_get_idx(tests, 0), "key");
        json_object_object_get_ex(group, "keySize", &v);
        len = strlen(hex) / 2;
        for (size_t i = 0; i < len && i < sizeof(key); i++) {
            unsigned byte;

            if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
                die("hex key");
            }
            key[i] = (unsigned char)byte;
        }
        snprintf(name, sizeof(name), "HMAC key of %d bits (group %zu)",
                 json_object_get_int(v), g);
        ok = gw_keyset_add_secret(&ks, key, len, NULL, GW_ALGS_HMAC, err,
                                  sizeof(err));
        CHECK(ok == (len >= 32), len >= 32 ? "loads" : "is refused", name);
        seen[len < 32 ? 0 : len == 32 ? 1 : 2]++;
        gw_keyset_clear(&ks);
    }
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0,
          "short, exact and long keys were all met", "hmac_sha256_test.json");
    json_object_put(doc);
}

/* ---- Algorithm names ---- */

static void
test_alg_parse_knows_only_supported_names(void)
{
    const struct {
        const char *name;
        size_t len;
        unsigned want;
    } cases[] = {
        {"HS256", 5, GW_ALG_HS256},
        {"HS384", 5, GW_ALG_HS384},
        {"HS512", 5, GW_ALG_HS512},
        {"RS256", 5, GW_ALG_RS256},
        {"RS384", 5, GW_ALG_RS384},
        {"RS512", 5, GW_ALG_RS512},
        {"PS256", 5, GW_ALG_PS256},
        {"PS384", 5, GW_ALG_PS384},
        {"PS512", 5, GW_ALG_PS512},
        {"ES256", 5, GW_ALG_ES256},
        {"none", 4, 0},
        {"NONE", 4, 0},
        {"ES384", 5, 0},
        {"ES512", 5, 0},
        {"EdDSA", 5, 0},
        {"rs256", 5, 0},
        {"RS25", 4, 0},
        {"RS2566", 6, 0},
        {"", 0, 0},
        {"RS256 but longer", 5, GW_ALG_RS256},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(gw_alg_parse(cases[i].name, cases[i].len) == cases[i].want,
              "parses to its bit (0 when unknown)", cases[i].name);
    }
}

static void
test_algs_parse_list_reads_comma_lists(void)
{
    const struct {
        const char *list;
        size_t bad_len;
        bool ok;
        unsigned want;
        const char *bad;
    } cases[] = {
        {"RS256", 32, true, GW_ALG_RS256, ""},
        {"RS256,ES256", 32, true, GW_ALG_RS256 | GW_ALG_ES256, ""},
        {" RS256 , ES256 ", 32, true, GW_ALG_RS256 | GW_ALG_ES256, ""},
        {"RS256,RS256", 32, true, GW_ALG_RS256, ""},
        {"HS256,HS384,HS512,RS256,RS384,RS512,PS256,PS384,PS512,ES256", 32,
         true, ALL_ALGS, ""},
        {"rs256", 32, false, 0, "rs256"},
        {"RS256,none", 32, false, 0, "none"},
        {"ES256, ES384", 32, false, 0, "ES384"},
        {"RS256;ES256", 32, false, 0, "RS256;ES256"},
        {"RS256,HS256X", 32, false, 0, "HS256X"},
        {"RS256,AN-ALGORITHM-NAME-TOO-LONG", 32, false, 0, "AN-ALGORITHM-NAM"},
        {"RS256,WHATEVER", 4, false, 0, "WHA"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned out = 0xdeadu;
        char bad[32] = "";
        bool ok =
            gw_algs_parse_list(cases[i].list, &out, bad, cases[i].bad_len);

        CHECK(ok == cases[i].ok, cases[i].ok ? "accepted" : "refused",
              cases[i].list);
        if (cases[i].ok) {
            CHECK(out == cases[i].want, "the mask", cases[i].list);
        } else {
            CHECK(strcmp(bad, cases[i].bad) == 0,
                  "the bad name is given, cut to fit", cases[i].list);
            CHECK(out == 0xdeadu, "the mask is written on success only",
                  cases[i].list);
        }
    }
}

int
main(void)
{
    fixture_setup();

    test_keys_loads_rsa_ec_and_oct_jwks();
    test_keys_adds_to_what_the_set_holds();
    test_keys_skips_and_counts_keys_not_for_signatures();
    test_keys_skips_keys_whose_key_ops_exclude_verify();
    test_keys_refuses_malformed_jwks();
    test_keys_never_use_a_key_whose_alg_is_unknown();
    test_keys_error_messages_never_echo_key_material();
    test_keys_narrow_their_algorithms();
    test_keys_loads_pem_public_keys();
    test_keys_refuses_unusable_pem();
    test_keys_hold_hmac_secrets_to_the_rfc_7518_lengths();
    test_keys_copy_hmac_secrets();
    test_keys_load_every_wycheproof_public_key();
    test_keys_apply_the_length_rule_to_wycheproof_hmac_keys();
    test_alg_parse_knows_only_supported_names();
    test_algs_parse_list_reads_comma_lists();

    fixture_teardown();
    printf("unit.keys: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
