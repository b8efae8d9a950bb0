/* tests/unit/auth/test_jwt.c: the token policy against the RFC 7515 and
 * RFC 7520 examples, Wycheproof's JWS vectors and tokens signed here. */

/* The source is included (STYLE.md, Tests) to reach the signature step on
 * its own: gw_jwt_verify refuses a payload that is not a JSON object before
 * it checks any signature, and no Wycheproof JWS payload is one. */
#include "auth/jwt.c"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "auth/keys.h"
#include "common/fileutil.h"
#include "common/json_strict.h"

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)
#define CHECK_RC(got, want, name) check_rc_at((got), (want), (name), __LINE__)
#define EXPECT(name, policy, keys, token, want)                                \
    expect_at((name), (policy), (keys), (token), (want), __LINE__)

/* A fixed clock (2023-11-14T22:13:20Z) keeps every time check exact. */
#define NOW_S 1700000000LL
#define NOW_MS (NOW_S * 1000)
#define LEEWAY_S 60
#define ISS "https://idp.example"
#define AUD "gw-client"

/* The claims every policy case starts from: all of them hold at NOW_S. */
#define STD_CLAIMS "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"user-1\""
#define GOOD_CLAIMS "{" STD_CLAIMS ",\"iat\":@-10,\"exp\":@+600}"

#define HDR_RS256 "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}"
#define HDR_ES256 "{\"alg\":\"ES256\",\"kid\":\"ec-1\"}"
#define HDR_HS256 "{\"alg\":\"HS256\",\"kid\":\"hmac-1\"}"
#define HDR_PS256 "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}"

#define ALL_ALGS (GW_ALGS_HMAC | GW_ALGS_RSA | GW_ALGS_EC)
#define SIG_MAX 1024
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

static void
check_rc_at(enum gw_jwt_result got, enum gw_jwt_result want, const char *name,
            int line)
{
    char label[96];

    snprintf(label, sizeof(label), "want %s, got %s", gw_jwt_result_code(want),
             gw_jwt_result_code(got));
    check_at(got == want, label, name, line);
}

/* Setup that cannot go on (no memory, OpenSSL refusing to sign) ends the
 * run: every later check would fail for a reason that is not the code's. */
static void
die(const char *what)
{
    fprintf(stderr, "unit.jwt: cannot continue: %s\n", what);
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

/* base64url without padding, written here rather than taken from
 * common/b64.c so that tokens do not depend on the code they test. */
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

static bool
hex_decode(const char *hex, unsigned char *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);

    if (n % 2 != 0 || n / 2 > cap) {
        return false;
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;

        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            return false;
        }
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return true;
}

/* Expands "@+N" and "@-N" into NOW_S plus or minus N seconds. */
static char *
at_now(const char *tmpl)
{
    size_t cap = strlen(tmpl) * 2 + 64, n = 0;
    char *out = xmalloc(cap);

    while (*tmpl != '\0') {
        if (*tmpl == '@' && (tmpl[1] == '+' || tmpl[1] == '-')) {
            char *end;
            long long off = strtoll(tmpl + 1, &end, 10);

            n += (size_t)snprintf(out + n, cap - n, "%lld", NOW_S + off);
            tmpl = end;
        } else {
            out[n++] = *tmpl++;
        }
    }
    out[n] = '\0';
    return out;
}

/* ---- Signing with OpenSSL, independently of libjwt ---- */

struct signer {
    EVP_PKEY *pkey;             /* RSA or EC P-256; NULL for HMAC */
    unsigned char secret[1024]; /* HMAC; big enough for a public key PEM */
    size_t secret_len;
};

static const EVP_MD *
md_for(const char *alg)
{
    if (strlen(alg) == 5 && strcmp(alg + 2, "384") == 0) {
        return EVP_sha384();
    }
    if (strlen(alg) == 5 && strcmp(alg + 2, "512") == 0) {
        return EVP_sha512();
    }
    return EVP_sha256();
}

static bool
sign_pkey(const char *alg, EVP_PKEY *pkey, const char *input, size_t len,
          unsigned char *sig, size_t *sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok;

    ok = md != NULL &&
         EVP_DigestSignInit(md, &pctx, md_for(alg), NULL, pkey) == 1;
    /* RFC 7518 section 3.5: MGF1 with the same hash, salt as long as it. */
    if (ok && alg[0] == 'P') {
        ok =
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    ok = ok && EVP_DigestSign(md, sig, sig_len, (const unsigned char *)input,
                              len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* RFC 7518 section 3.4: a JWS carries r || s, 32 bytes each, not DER. */
static bool
der_to_raw(const unsigned char *der, size_t der_len, unsigned char *raw)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r, *s;
    bool ok;

    if (sig == NULL) {
        return false;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

/* Signs input the way alg names; "none" and unknown names sign nothing.
 * ES256 signatures come out in DER when der_form is set. */
static size_t
sign_input(const char *alg, const struct signer *s, const char *input,
           size_t len, bool der_form, unsigned char sig[SIG_MAX])
{
    unsigned char der[SIG_MAX];
    unsigned int mac_len = 0;
    size_t n = SIG_MAX;

    if (alg[0] == 'H') {
        if (HMAC(md_for(alg), s->secret, (int)s->secret_len,
                 (const unsigned char *)input, len, sig, &mac_len) == NULL) {
            die("HMAC");
        }
        return mac_len;
    }
    if (alg[0] == 'R' || alg[0] == 'P') {
        if (!sign_pkey(alg, s->pkey, input, len, sig, &n)) {
            die("RSA signature");
        }
        return n;
    }
    if (alg[0] == 'E') {
        if (!sign_pkey(alg, s->pkey, input, len, der, &n)) {
            die("ECDSA signature");
        }
        if (der_form) {
            memcpy(sig, der, n);
            return n;
        }
        if (!der_to_raw(der, n, sig)) {
            die("ECDSA signature to r || s");
        }
        return 64;
    }
    return 0;
}

/* header.payload.signature from JSON texts; sign_alg picks the primitive
 * (it may differ from the header's alg, to build attacks). */
static char *
token_build(const char *header, const char *payload, const char *sign_alg,
            const struct signer *s, bool der_form)
{
    char *h = b64url_new(header, strlen(header));
    char *p = b64url_new(payload, strlen(payload));
    char *input = fmt_new("%s.%s", h, p);
    unsigned char sig[SIG_MAX];
    size_t sig_len;
    char *sig64, *token;

    sig_len = sign_input(sign_alg, s, input, strlen(input), der_form, sig);
    sig64 = b64url_new(sig, sig_len);
    token = fmt_new("%s.%s", input, sig64);
    free(h);
    free(p);
    free(input);
    free(sig64);
    return token;
}

static char *
token_new(const char *header, const char *payload, const char *sign_alg,
          const struct signer *s)
{
    return token_build(header, payload, sign_alg, s, false);
}

/* A token whose payload is a claims template (see at_now). */
static char *
token_claims(const char *header, const char *tmpl, const char *sign_alg,
             const struct signer *s)
{
    char *payload = at_now(tmpl);
    char *token = token_new(header, payload, sign_alg, s);

    free(payload);
    return token;
}

static char *
public_pem_new(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long n;

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        die("PEM export");
    }
    n = BIO_get_mem_data(bio, &data);
    pem = xmalloc((size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    BIO_free(bio);
    return pem;
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

/* ---- The keys every policy case uses ---- */

static struct {
    struct signer rsa;      /* kid rsa-1 */
    struct signer rsa2;     /* never loaded: signs as a stranger */
    struct signer ec;       /* kid ec-1 */
    struct signer hmac;     /* kid hmac-1, 64 random bytes */
    struct signer attacker; /* an EC key of the attacker's */
    struct gw_keyset keys;
    struct gw_jwt_policy policy;
} fx;

static void
add_pem_or_die(struct gw_keyset *ks, EVP_PKEY *pkey, const char *kid,
               unsigned algs)
{
    char *pem = public_pem_new(pkey);
    char err[160];

    if (!gw_keyset_add_pem(ks, pem, strlen(pem), kid, algs, err, sizeof(err))) {
        fprintf(stderr, "unit.jwt: %s: %s\n", kid, err);
        die("loading a generated key");
    }
    free(pem);
}

static void
add_jwks_or_die(struct gw_keyset *ks, const char *jwks)
{
    char err[160];

    if (!gw_keyset_add_jwks(ks, jwks, strlen(jwks), ALL_ALGS, err,
                            sizeof(err))) {
        fprintf(stderr, "unit.jwt: %s\n", err);
        die("loading a generated JWKS");
    }
}

static void
fixture_setup(void)
{
    char err[160];

    fx.rsa.pkey = EVP_RSA_gen(2048);
    fx.rsa2.pkey = EVP_RSA_gen(2048);
    fx.ec.pkey = EVP_EC_gen("P-256");
    fx.attacker.pkey = EVP_EC_gen("P-256");
    fx.hmac.secret_len = 64;
    if (fx.rsa.pkey == NULL || fx.rsa2.pkey == NULL || fx.ec.pkey == NULL ||
        fx.attacker.pkey == NULL ||
        RAND_bytes(fx.hmac.secret, (int)fx.hmac.secret_len) != 1) {
        die("key generation");
    }
    add_pem_or_die(&fx.keys, fx.rsa.pkey, "rsa-1", GW_ALGS_RSA);
    add_pem_or_die(&fx.keys, fx.ec.pkey, "ec-1", GW_ALGS_EC);
    if (!gw_keyset_add_secret(&fx.keys, fx.hmac.secret, fx.hmac.secret_len,
                              "hmac-1", GW_ALGS_HMAC, err, sizeof(err))) {
        die(err);
    }
    fx.policy.algs = GW_ALG_RS256 | GW_ALG_ES256 | GW_ALG_HS256 | GW_ALG_PS256;
    fx.policy.iss = ISS;
    fx.policy.aud = AUD;
    fx.policy.leeway_s = LEEWAY_S;
}

static void
fixture_teardown(void)
{
    EVP_PKEY_free(fx.rsa.pkey);
    EVP_PKEY_free(fx.rsa2.pkey);
    EVP_PKEY_free(fx.ec.pkey);
    EVP_PKEY_free(fx.attacker.pkey);
    OPENSSL_cleanse(fx.hmac.secret, sizeof(fx.hmac.secret));
    gw_keyset_clear(&fx.keys);
}

/* ---- Running the verifier ---- */

/* Runs gw_jwt_verify on an exact-length copy of token, with no NUL after
 * it, so that AddressSanitizer sees any read past token_len. */
static enum gw_jwt_result
verify_exact(const struct gw_jwt_policy *policy, const struct gw_keyset *keys,
             const char *token, size_t len, int64_t now_ms,
             struct gw_jwt_verified *out)
{
    char *copy = xmalloc(len);
    enum gw_jwt_result rc;

    memcpy(copy, token, len);
    rc = gw_jwt_verify(policy, keys, copy, len, now_ms, out);
    free(copy);
    return rc;
}

static void
expect_at(const char *name, const struct gw_jwt_policy *policy,
          const struct gw_keyset *keys, const char *token,
          enum gw_jwt_result want, int line)
{
    struct gw_jwt_verified out;
    enum gw_jwt_result rc;

    rc = verify_exact(policy, keys, token, strlen(token), NOW_MS, &out);
    check_rc_at(rc, want, name, line);
    check_at(rc == GW_JWT_OK ? out.claims != NULL : out.claims == NULL,
             "claims are handed over on success only", name, line);
    gw_jwt_verified_clear(&out);
}

/* The signature step alone: split, header, key choice, then the check
 * gw_jwt_verify would run, with no policy allowlist and no payload rule. */
static enum gw_jwt_result
signature_step(const struct gw_keyset *keys, const char *token)
{
    struct compact_parts parts = {0};
    struct gw_jwt_verified out;
    const struct gw_key *key = NULL;
    enum gw_jwt_result rc;
    unsigned alg = 0;

    memset(&out, 0, sizeof(out));
    rc = split_compact(token, strlen(token), &parts);
    if (rc == GW_JWT_OK) {
        rc = read_header(&parts, &alg, &out);
    }
    if (rc == GW_JWT_OK) {
        rc = choose_key(keys, alg, out.kid, &key);
    }
    if (rc != GW_JWT_OK) {
        return rc;
    }
    if (alg & (GW_ALG_PS256 | GW_ALG_PS384 | GW_ALG_PS512)) {
        return verify_pkey(key, alg, token, &parts);
    }
    return verify_libjwt(key, alg, token, strlen(token));
}

static char *
vector_path(const char *name)
{
    const char *base = getenv("GW_VECTORS");

    return fmt_new("%s/%s", base != NULL ? base : "tests/vectors", name);
}

/* Reads and parses a vector file; NULL (and a failed check) when absent. */
static struct json_object *
vector_load(const char *name)
{
    char *path = vector_path(name), *text = NULL;
    struct json_object *doc = NULL;
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

/* ---- Algorithms and keys ---- */

struct alg_case {
    const char *name;
    const char *header;
    const char *sign_alg;
    const struct signer *signer;
};

static void
test_jwt_accepts_each_supported_algorithm(void)
{
    const struct alg_case cases[] = {
        {"RS256", HDR_RS256, "RS256", &fx.rsa},
        {"ES256", HDR_ES256, "ES256", &fx.ec},
        {"HS256", HDR_HS256, "HS256", &fx.hmac},
        {"PS256", HDR_PS256, "PS256", &fx.rsa},
        {"RS384", "{\"alg\":\"RS384\",\"kid\":\"rsa-1\"}", "RS384", &fx.rsa},
        {"RS512", "{\"alg\":\"RS512\",\"kid\":\"rsa-1\"}", "RS512", &fx.rsa},
        {"PS384", "{\"alg\":\"PS384\",\"kid\":\"rsa-1\"}", "PS384", &fx.rsa},
        {"PS512", "{\"alg\":\"PS512\",\"kid\":\"rsa-1\"}", "PS512", &fx.rsa},
        {"HS384", "{\"alg\":\"HS384\",\"kid\":\"hmac-1\"}", "HS384", &fx.hmac},
        {"HS512", "{\"alg\":\"HS512\",\"kid\":\"hmac-1\"}", "HS512", &fx.hmac},
        {"typ JWT, spaces and CRLF in the header",
         "{\"typ\":\"JWT\",\r\n \"alg\":\"RS256\", \"kid\" : \"rsa-1\"}",
         "RS256", &fx.rsa},
    };
    struct gw_jwt_policy all = fx.policy;

    all.algs = ALL_ALGS;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *token = token_claims(cases[i].header, GOOD_CLAIMS,
                                   cases[i].sign_alg, cases[i].signer);

        EXPECT(cases[i].name, i < 4 ? &fx.policy : &all, &fx.keys, token,
               GW_JWT_OK);
        free(token);
    }
}

static void
test_jwt_hands_over_the_verified_claims(void)
{
    char *token = token_claims(HDR_ES256, GOOD_CLAIMS, "ES256", &fx.ec);
    struct gw_jwt_verified out;
    struct json_object *sub = NULL;
    enum gw_jwt_result rc;

    rc = verify_exact(&fx.policy, &fx.keys, token, strlen(token), NOW_MS, &out);
    CHECK_RC(rc, GW_JWT_OK, "ES256 token");
    CHECK(out.claims != NULL &&
              json_object_object_get_ex(out.claims, "sub", &sub) &&
              strcmp(json_object_get_string(sub), "user-1") == 0,
          "claims carry the token's sub", "ES256 token");
    CHECK(out.alg == GW_ALG_ES256, "alg is reported", "ES256 token");
    CHECK(strcmp(out.kid, "ec-1") == 0, "kid is reported", "ES256 token");
    CHECK(out.missing_claim == NULL, "no missing claim on success",
          "ES256 token");
    gw_jwt_verified_clear(&out);
    CHECK(out.claims == NULL, "clear releases the claims", "ES256 token");
    gw_jwt_verified_clear(&out);
    free(token);
}

static void
test_jwt_rejects_alg_none(void)
{
    const struct {
        const char *name;
        const char *header;
        const char *sign_alg; /* a signature part made with this */
        enum gw_jwt_result want;
    } cases[] = {
        {"none, empty signature", "{\"alg\":\"none\"}", "none",
         GW_JWT_ALG_NOT_ALLOWED},
        {"none with a kid of ours", "{\"alg\":\"none\",\"kid\":\"hmac-1\"}",
         "none", GW_JWT_ALG_NOT_ALLOWED},
        {"none with an HS256 signature part",
         "{\"alg\":\"none\",\"kid\":\"hmac-1\"}", "HS256",
         GW_JWT_ALG_NOT_ALLOWED},
        {"NONE", "{\"alg\":\"NONE\"}", "none", GW_JWT_ALG_NOT_ALLOWED},
        {"None", "{\"alg\":\"None\"}", "none", GW_JWT_ALG_NOT_ALLOWED},
        {"nOnE", "{\"alg\":\"nOnE\"}", "none", GW_JWT_ALG_NOT_ALLOWED},
        {"empty alg", "{\"alg\":\"\"}", "none", GW_JWT_ALG_NOT_ALLOWED},
        {"hs256 in lower case", "{\"alg\":\"hs256\",\"kid\":\"hmac-1\"}",
         "HS256", GW_JWT_ALG_NOT_ALLOWED},
        {"last of two alg members is none",
         "{\"alg\":\"HS256\",\"kid\":\"hmac-1\",\"alg\":\"none\"}", "none",
         GW_JWT_ALG_NOT_ALLOWED},
    };
    struct gw_jwt_policy any = fx.policy;
    char *token, *two_parts;

    /* Even a policy with every bit set has no bit for "none". */
    any.algs = ~0u;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        token = token_claims(cases[i].header, GOOD_CLAIMS, cases[i].sign_alg,
                             &fx.hmac);
        EXPECT(cases[i].name, &any, &fx.keys, token, cases[i].want);
        free(token);
    }

    token = token_claims("{\"alg\":\"none\"}", GOOD_CLAIMS, "none", NULL);
    two_parts = fmt_new("%.*s", (int)(strlen(token) - 1), token);
    EXPECT("none without the signature part", &any, &fx.keys, two_parts,
           GW_JWT_MALFORMED);
    free(two_parts);
    free(token);
}

/* An HMAC signer keyed with the text of a public key PEM. */
static void
pem_as_secret(const struct gw_key *key, struct signer *s)
{
    if (key->pem_len > sizeof(s->secret)) {
        die("PEM longer than the signer's secret");
    }
    memset(s, 0, sizeof(*s));
    memcpy(s->secret, key->pem, key->pem_len);
    s->secret_len = key->pem_len;
}

static void
test_jwt_rejects_key_confusion(void)
{
    struct gw_keyset rsa_only = {0};
    struct signer rsa_pem = {0}, ec_pem = {0};
    char *token;

    /* The classic attack: HMAC keyed with the public key text the gateway
     * holds, hoping the verifier hands that text to HMAC as a secret. */
    pem_as_secret(&fx.keys.keys[0], &rsa_pem);
    pem_as_secret(&fx.keys.keys[1], &ec_pem);
    add_pem_or_die(&rsa_only, fx.rsa.pkey, NULL, GW_ALGS_RSA);

    token = token_claims("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", GOOD_CLAIMS,
                         "HS256", &rsa_pem);
    EXPECT("HS256 keyed with the RSA PEM, kid of the RSA key", &fx.policy,
           &fx.keys, token, GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"HS256\"}", GOOD_CLAIMS, "HS256", &rsa_pem);
    EXPECT("HS256 keyed with the RSA PEM, no kid, only the RSA key", &fx.policy,
           &rsa_only, token, GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"HS256\",\"kid\":\"ec-1\"}", GOOD_CLAIMS,
                         "HS256", &ec_pem);
    EXPECT("HS256 keyed with the EC PEM, kid of the EC key", &fx.policy,
           &fx.keys, token, GW_JWT_ALG_NOT_ALLOWED);
    free(token);

    token = token_claims("{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", GOOD_CLAIMS,
                         "ES256", &fx.ec);
    EXPECT("ES256 token under the RSA key", &fx.policy, &fx.keys, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"RS256\",\"kid\":\"ec-1\"}", GOOD_CLAIMS,
                         "RS256", &fx.rsa);
    EXPECT("RS256 token under the EC key", &fx.policy, &fx.keys, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"PS256\",\"kid\":\"ec-1\"}", GOOD_CLAIMS,
                         "PS256", &fx.rsa);
    EXPECT("PS256 token under the EC key", &fx.policy, &fx.keys, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"RS256\",\"kid\":\"hmac-1\"}", GOOD_CLAIMS,
                         "RS256", &fx.rsa);
    EXPECT("RS256 token under the HMAC secret", &fx.policy, &fx.keys, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", GOOD_CLAIMS,
                         "HS256", &fx.hmac);
    EXPECT("HS256 token under the RSA key", &fx.policy, &fx.keys, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    gw_keyset_clear(&rsa_only);
}

static void
test_jwt_selects_the_key_by_kid(void)
{
    struct gw_keyset two_rsa = {0}, one_each = {0}, long_kid = {0};
    char kid64[65], *header, *token;

    add_pem_or_die(&two_rsa, fx.rsa.pkey, "a", GW_ALGS_RSA);
    add_pem_or_die(&two_rsa, fx.rsa2.pkey, "b", GW_ALGS_RSA);
    add_pem_or_die(&one_each, fx.rsa.pkey, "a", GW_ALGS_RSA);
    add_pem_or_die(&one_each, fx.ec.pkey, "e", GW_ALGS_EC);

    token = token_claims("{\"alg\":\"RS256\",\"kid\":\"rsa-9\"}", GOOD_CLAIMS,
                         "RS256", &fx.rsa);
    EXPECT("unknown kid", &fx.policy, &fx.keys, token, GW_JWT_UNKNOWN_KID);
    free(token);
    token = token_claims("{\"alg\":\"RS256\",\"kid\":\"RSA-1\"}", GOOD_CLAIMS,
                         "RS256", &fx.rsa);
    EXPECT("kid differs in case only", &fx.policy, &fx.keys, token,
           GW_JWT_UNKNOWN_KID);
    free(token);
    token = token_claims("{\"alg\":\"RS256\",\"kid\":\"b\"}", GOOD_CLAIMS,
                         "RS256", &fx.rsa);
    EXPECT("kid of another key of the set", &fx.policy, &two_rsa, token,
           GW_JWT_BAD_SIGNATURE);
    free(token);

    token = token_claims("{\"alg\":\"RS256\"}", GOOD_CLAIMS, "RS256", &fx.rsa);
    EXPECT("no kid, two RSA keys could verify", &fx.policy, &two_rsa, token,
           GW_JWT_MISSING_KID);
    EXPECT("no kid, exactly one RSA key", &fx.policy, &one_each, token,
           GW_JWT_OK);
    free(token);
    token = token_claims("{\"alg\":\"ES256\"}", GOOD_CLAIMS, "ES256", &fx.ec);
    EXPECT("no kid, exactly one EC key", &fx.policy, &one_each, token,
           GW_JWT_OK);
    EXPECT("no kid, no key for the alg", &fx.policy, &two_rsa, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);

    /* out->kid holds 64 bytes: that much is a usable kid, one more is not. */
    memset(kid64, 'k', 64);
    kid64[64] = '\0';
    add_pem_or_die(&long_kid, fx.rsa.pkey, kid64, GW_ALGS_RSA);
    header = fmt_new("{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid64);
    token = token_claims(header, GOOD_CLAIMS, "RS256", &fx.rsa);
    EXPECT("kid of 64 bytes", &fx.policy, &long_kid, token, GW_JWT_OK);
    free(token);
    free(header);
    header = fmt_new("{\"alg\":\"RS256\",\"kid\":\"%sk\"}", kid64);
    token = token_claims(header, GOOD_CLAIMS, "RS256", &fx.rsa);
    EXPECT("kid of 65 bytes", &fx.policy, &long_kid, token, GW_JWT_MALFORMED);
    free(token);
    free(header);

    gw_keyset_clear(&two_rsa);
    gw_keyset_clear(&one_each);
    gw_keyset_clear(&long_kid);
}

/* ---- Claims ---- */

struct claims_case {
    const char *name;
    const char *claims; /* template for at_now */
    enum gw_jwt_result want;
    const char *missing; /* out->missing_claim with GW_JWT_MISSING_CLAIM */
};

static void
run_claims_cases(const struct claims_case *cases, size_t count,
                 const struct gw_jwt_policy *policy)
{
    for (size_t i = 0; i < count; i++) {
        char *token =
            token_claims(HDR_RS256, cases[i].claims, "RS256", &fx.rsa);
        struct gw_jwt_verified out;
        enum gw_jwt_result rc;

        rc = verify_exact(policy, &fx.keys, token, strlen(token), NOW_MS, &out);
        CHECK_RC(rc, cases[i].want, cases[i].name);
        CHECK(rc == GW_JWT_OK ? out.claims != NULL : out.claims == NULL,
              "claims are handed over on success only", cases[i].name);
        if (cases[i].missing != NULL) {
            CHECK(out.missing_claim != NULL &&
                      strcmp(out.missing_claim, cases[i].missing) == 0,
                  "the missing claim is named", cases[i].name);
        }
        gw_jwt_verified_clear(&out);
        free(token);
    }
}

static void
test_jwt_checks_times_with_leeway(void)
{
    const struct claims_case cases[] = {
        {"all times hold", GOOD_CLAIMS, GW_JWT_OK, NULL},
        {"exp missing", "{" STD_CLAIMS ",\"iat\":@-10}", GW_JWT_MISSING_CLAIM,
         "exp"},
        {"expired beyond leeway", "{" STD_CLAIMS ",\"exp\":@-61}",
         GW_JWT_EXPIRED, NULL},
        {"expired exactly by the leeway", "{" STD_CLAIMS ",\"exp\":@-60}",
         GW_JWT_EXPIRED, NULL},
        {"expired within leeway", "{" STD_CLAIMS ",\"exp\":@-59}", GW_JWT_OK,
         NULL},
        /* "@-60.5" reads as NOW_S - 60 + 0.5: 59.5 s past. */
        {"expired 59.5 s ago", "{" STD_CLAIMS ",\"exp\":@-60.5}", GW_JWT_OK,
         NULL},
        {"expired 60.5 s ago", "{" STD_CLAIMS ",\"exp\":@-61.5}",
         GW_JWT_EXPIRED, NULL},
        {"exp as a string", "{" STD_CLAIMS ",\"exp\":\"@+600\"}",
         GW_JWT_MALFORMED, NULL},
        {"exp null", "{" STD_CLAIMS ",\"exp\":null}", GW_JWT_MALFORMED, NULL},
        {"exp true", "{" STD_CLAIMS ",\"exp\":true}", GW_JWT_MALFORMED, NULL},
        {"nbf beyond leeway", "{" STD_CLAIMS ",\"nbf\":@+61,\"exp\":@+600}",
         GW_JWT_NOT_YET_VALID, NULL},
        {"nbf within leeway", "{" STD_CLAIMS ",\"nbf\":@+60,\"exp\":@+600}",
         GW_JWT_OK, NULL},
        {"nbf in the past", "{" STD_CLAIMS ",\"nbf\":@-3600,\"exp\":@+600}",
         GW_JWT_OK, NULL},
        {"nbf as a string", "{" STD_CLAIMS ",\"nbf\":\"0\",\"exp\":@+600}",
         GW_JWT_MALFORMED, NULL},
        {"iat beyond leeway", "{" STD_CLAIMS ",\"iat\":@+61,\"exp\":@+600}",
         GW_JWT_NOT_YET_VALID, NULL},
        {"iat within leeway", "{" STD_CLAIMS ",\"iat\":@+60,\"exp\":@+600}",
         GW_JWT_OK, NULL},
        {"iat as an array", "{" STD_CLAIMS ",\"iat\":[1],\"exp\":@+600}",
         GW_JWT_MALFORMED, NULL},
    };

    run_claims_cases(cases, sizeof(cases) / sizeof(cases[0]), &fx.policy);
}

static void
test_jwt_checks_issuer_audience_and_subject(void)
{
#define T ",\"exp\":@+600"
#define IA "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""
#define IS "\"iss\":\"" ISS "\",\"sub\":\"user-1\""
#define AS "\"aud\":\"" AUD "\",\"sub\":\"user-1\""
    const struct claims_case cases[] = {
        {"iss mismatch", "{\"iss\":\"https://evil.example\"," AS T "}",
         GW_JWT_WRONG_ISSUER, NULL},
        {"iss with a trailing slash", "{\"iss\":\"" ISS "/\"," AS T "}",
         GW_JWT_WRONG_ISSUER, NULL},
        {"iss missing", "{" AS T "}", GW_JWT_WRONG_ISSUER, NULL},
        {"iss not a string", "{\"iss\":[\"" ISS "\"]," AS T "}",
         GW_JWT_WRONG_ISSUER, NULL},
        {"aud string", "{" IS ",\"aud\":\"" AUD "\"" T "}", GW_JWT_OK, NULL},
        {"aud array containing ours",
         "{" IS ",\"aud\":[\"other\",\"" AUD "\"]" T "}", GW_JWT_OK, NULL},
        {"aud array not containing ours",
         "{" IS ",\"aud\":[\"other\",\"gw\"]" T "}", GW_JWT_WRONG_AUDIENCE,
         NULL},
        {"aud array of non-strings", "{" IS ",\"aud\":[1,null]" T "}",
         GW_JWT_WRONG_AUDIENCE, NULL},
        {"aud empty array", "{" IS ",\"aud\":[]" T "}", GW_JWT_WRONG_AUDIENCE,
         NULL},
        {"aud missing", "{" IS T "}", GW_JWT_WRONG_AUDIENCE, NULL},
        {"aud longer than ours", "{" IS ",\"aud\":\"" AUD "x\"" T "}",
         GW_JWT_WRONG_AUDIENCE, NULL},
        {"aud a prefix of ours", "{" IS ",\"aud\":\"gw-clien\"" T "}",
         GW_JWT_WRONG_AUDIENCE, NULL},
        {"aud a number", "{" IS ",\"aud\":7" T "}", GW_JWT_WRONG_AUDIENCE,
         NULL},
        {"sub missing", "{" IA T "}", GW_JWT_MISSING_CLAIM, "sub"},
        {"sub empty", "{" IA ",\"sub\":\"\"" T "}", GW_JWT_MISSING_CLAIM,
         "sub"},
        {"sub a number", "{" IA ",\"sub\":42" T "}", GW_JWT_MISSING_CLAIM,
         "sub"},
        {"sub null", "{" IA ",\"sub\":null" T "}", GW_JWT_MISSING_CLAIM, "sub"},
        {"empty claims set", "{}", GW_JWT_MISSING_CLAIM, "exp"},
    };
    const struct claims_case open_cases[] = {
        {"no iss or aud asked: none given", "{\"sub\":\"u\"" T "}", GW_JWT_OK,
         NULL},
        {"no iss or aud asked: any given",
         "{\"iss\":\"x\",\"aud\":[\"y\"],\"sub\":\"u\"" T "}", GW_JWT_OK, NULL},
        {"no iss or aud asked: sub still required", "{\"iss\":\"x\"" T "}",
         GW_JWT_MISSING_CLAIM, "sub"},
    };
    struct gw_jwt_policy open_policy = fx.policy;
#undef T
#undef IA
#undef IS
#undef AS

    run_claims_cases(cases, sizeof(cases) / sizeof(cases[0]), &fx.policy);
    open_policy.iss = NULL;
    open_policy.aud = NULL;
    run_claims_cases(open_cases, sizeof(open_cases) / sizeof(open_cases[0]),
                     &open_policy);
}

static void
test_jwt_rejects_lenient_json_in_claims(void)
{
    /* json-c alone would take each of these; the payload is signed right,
     * so only the strict parser stands between them and the claims. */
    const struct claims_case cases[] = {
        {"NaN", "{" STD_CLAIMS ",\"exp\":NaN}", GW_JWT_MALFORMED, NULL},
        {"Infinity", "{" STD_CLAIMS ",\"exp\":Infinity}", GW_JWT_MALFORMED,
         NULL},
        {"single quotes", "{'iss':'" ISS "','sub':'u','exp':@+600}",
         GW_JWT_MALFORMED, NULL},
        {"trailing comma", "{" STD_CLAIMS ",\"exp\":@+600,}", GW_JWT_MALFORMED,
         NULL},
        {"comment", "{" STD_CLAIMS ",/* c */\"exp\":@+600}", GW_JWT_MALFORMED,
         NULL},
        {"unquoted key", "{" STD_CLAIMS ",exp:@+600}", GW_JWT_MALFORMED, NULL},
        {"hex number", "{" STD_CLAIMS ",\"exp\":0x7fffffff}", GW_JWT_MALFORMED,
         NULL},
        {"leading zero", "{" STD_CLAIMS ",\"exp\":0@+600}", GW_JWT_MALFORMED,
         NULL},
        {"byte order mark", "\xef\xbb\xbf" GOOD_CLAIMS, GW_JWT_MALFORMED, NULL},
        {"raw control byte in a string",
         "{" STD_CLAIMS ",\"x\":\"a\tb\","
         "\"exp\":@+600}",
         GW_JWT_MALFORMED, NULL},
        {"invalid UTF-8", "{" STD_CLAIMS ",\"x\":\"\xc0\xaf\",\"exp\":@+600}",
         GW_JWT_MALFORMED, NULL},
        {"lone surrogate escape",
         "{" STD_CLAIMS ",\"x\":\"\\ud800\",\"exp\":@+600}", GW_JWT_MALFORMED,
         NULL},
        {"two values", GOOD_CLAIMS " {}", GW_JWT_MALFORMED, NULL},
        {"payload an array", "[" GOOD_CLAIMS "]", GW_JWT_MALFORMED, NULL},
        {"payload a string", "\"" ISS "\"", GW_JWT_MALFORMED, NULL},
        {"payload a number", "1700000000", GW_JWT_MALFORMED, NULL},
        {"payload null", "null", GW_JWT_MALFORMED, NULL},
        {"payload text", "Payload", GW_JWT_MALFORMED, NULL},
    };

    run_claims_cases(cases, sizeof(cases) / sizeof(cases[0]), &fx.policy);
}

/* ---- Malformed tokens ---- */

struct malformed_case {
    const char *name;
    char *token;
    enum gw_jwt_result want;
};

static void
test_jwt_rejects_malformed_tokens(void)
{
    char *good = token_claims(HDR_RS256, GOOD_CLAIMS, "RS256", &fx.rsa);
    const char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    int hl = (int)(dot1 - good), pl = (int)(dot2 - dot1 - 1);
    const char *h = good, *p = dot1 + 1, *s = dot2 + 1;
    struct malformed_case cases[] = {
        {"empty token", fmt_new("%s", ""), GW_JWT_MALFORMED},
        {"one part", fmt_new("%.*s", hl, h), GW_JWT_MALFORMED},
        {"two parts", fmt_new("%.*s.%.*s", hl, h, pl, p), GW_JWT_MALFORMED},
        {"four parts", fmt_new("%s.%s", good, s), GW_JWT_MALFORMED},
        {"four parts, the last empty", fmt_new("%s.", good), GW_JWT_MALFORMED},
        {"five parts (JWE shape)", fmt_new("%s.%s.%s", good, s, s),
         GW_JWT_MALFORMED},
        {"empty header", fmt_new(".%.*s.%s", pl, p, s), GW_JWT_MALFORMED},
        {"empty payload", fmt_new("%.*s..%s", hl, h, s), GW_JWT_MALFORMED},
        {"only dots", fmt_new(".."), GW_JWT_MALFORMED},
        {"'+' in the header", fmt_new("+%s", good), GW_JWT_MALFORMED},
        {"'/' in the signature", fmt_new("%s/", good), GW_JWT_MALFORMED},
        {"'=' padding on the payload",
         fmt_new("%.*s.%.*s=.%s", hl, h, pl, p, s), GW_JWT_MALFORMED},
        {"'=' padding on the signature", fmt_new("%s==", good),
         GW_JWT_MALFORMED},
        {"space in the payload", fmt_new("%.*s. %.*s.%s", hl, h, pl, p, s),
         GW_JWT_MALFORMED},
        {"trailing newline", fmt_new("%s\n", good), GW_JWT_MALFORMED},
        {"Bearer prefix left on", fmt_new("Bearer %s", good), GW_JWT_MALFORMED},
        {"payload of impossible length (4n+1)",
         fmt_new("%.*s.%.*sA.%s", hl, h, pl, p, s), GW_JWT_MALFORMED},
        {"JSON serialization",
         fmt_new("{\"payload\":\"%.*s\",\"protected\":\"%.*s\","
                 "\"signature\":\"%s\"}",
                 pl, p, hl, h, s),
         GW_JWT_MALFORMED},
        {"header not JSON",
         token_claims("alg=RS256", GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"header a JSON array",
         token_claims("[\"RS256\",\"rsa-1\"]", GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"header a JSON string",
         token_claims("\"RS256\"", GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"header with trailing bytes",
         token_claims(HDR_RS256 "x", GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"header in lenient JSON",
         token_claims("{'alg':'RS256','kid':'rsa-1'}", GOOD_CLAIMS, "RS256",
                      &fx.rsa),
         GW_JWT_MALFORMED},
        {"header without alg",
         token_claims("{\"kid\":\"rsa-1\"}", GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"alg not a string",
         token_claims("{\"alg\":[\"RS256\"],\"kid\":\"rsa-1\"}", GOOD_CLAIMS,
                      "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"alg null",
         token_claims("{\"alg\":null,\"kid\":\"rsa-1\"}", GOOD_CLAIMS, "RS256",
                      &fx.rsa),
         GW_JWT_MALFORMED},
        {"kid a number",
         token_claims("{\"alg\":\"RS256\",\"kid\":7}", GOOD_CLAIMS, "RS256",
                      &fx.rsa),
         GW_JWT_MALFORMED},
        {"kid an object",
         token_claims("{\"alg\":\"RS256\",\"kid\":{\"id\":\"rsa-1\"}}",
                      GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"kid null",
         token_claims("{\"alg\":\"RS256\",\"kid\":null}", GOOD_CLAIMS, "RS256",
                      &fx.rsa),
         GW_JWT_MALFORMED},
        {"crit present",
         token_claims("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"]"
                      ",\"exp\":1}",
                      GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"crit an empty array",
         token_claims("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[]}",
                      GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
        {"crit with b64 false (RFC 7797)",
         token_claims("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"b64\":false,"
                      "\"crit\":[\"b64\"]}",
                      GOOD_CLAIMS, "RS256", &fx.rsa),
         GW_JWT_MALFORMED},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT(cases[i].name, &fx.policy, &fx.keys, cases[i].token,
               cases[i].want);
        free(cases[i].token);
    }
    free(good);
}

static void
test_jwt_rejects_a_nul_byte_inside_the_token(void)
{
    char *good = token_claims(HDR_RS256, GOOD_CLAIMS, "RS256", &fx.rsa);
    size_t len = strlen(good);
    struct gw_jwt_verified out;
    enum gw_jwt_result rc;
    char *with_nul = xmalloc(len + 2);

    /* The length says where the token ends, not a NUL: a NUL inside is a
     * byte outside base64url, and nothing after it may be ignored. */
    memcpy(with_nul, good, len);
    with_nul[len] = '\0';
    with_nul[len + 1] = 'A';
    rc = verify_exact(&fx.policy, &fx.keys, with_nul, len + 2, NOW_MS, &out);
    CHECK_RC(rc, GW_JWT_MALFORMED, "NUL and a byte after the signature");
    CHECK(out.claims == NULL, "no claims", "NUL after the signature");
    gw_jwt_verified_clear(&out);
    rc = verify_exact(&fx.policy, &fx.keys, good, len - 1, NOW_MS, &out);
    CHECK(rc != GW_JWT_OK && out.claims == NULL,
          "a token cut by one byte is refused", "length one short");
    gw_jwt_verified_clear(&out);
    free(with_nul);
    free(good);
}

/* Claims padded with pad bytes of a "pad" member. */
static char *
padded_claims(size_t pad)
{
    char *tmpl =
        fmt_new("{" STD_CLAIMS ",\"exp\":@+600,\"pad\":\"%0*d\"}", (int)pad, 0);
    char *claims = at_now(tmpl);

    free(tmpl);
    return claims;
}

static void
test_jwt_rejects_tokens_longer_than_the_limit(void)
{
    size_t header_len = strlen(HDR_RS256), pad = 0, sig_b64 = 342;
    char *claims, *longest, *over, *junk;
    char name[96];

    /* The longest RS256 token within the limit, found by length alone
     * (base64url of n bytes is ceil(4n/3) characters), then the next. */
    for (;;) {
        size_t n;

        claims = padded_claims(pad + 1);
        n = (4 * header_len + 2) / 3 + 1 + (4 * strlen(claims) + 2) / 3 + 1 +
            sig_b64;
        free(claims);
        if (n > GW_JWT_MAX_LEN) {
            break;
        }
        pad++;
    }
    claims = padded_claims(pad);
    longest = token_new(HDR_RS256, claims, "RS256", &fx.rsa);
    free(claims);
    claims = padded_claims(pad + 1);
    over = token_new(HDR_RS256, claims, "RS256", &fx.rsa);
    free(claims);

    snprintf(name, sizeof(name), "signed token of %zu bytes (limit %d)",
             strlen(longest), GW_JWT_MAX_LEN);
    CHECK(strlen(longest) <= GW_JWT_MAX_LEN &&
              strlen(longest) >= GW_JWT_MAX_LEN - 2,
          "the token is at the limit", name);
    EXPECT(name, &fx.policy, &fx.keys, longest, GW_JWT_OK);
    snprintf(name, sizeof(name), "signed token of %zu bytes (limit %d)",
             strlen(over), GW_JWT_MAX_LEN);
    EXPECT(name, &fx.policy, &fx.keys, over, GW_JWT_MALFORMED);

    junk = xmalloc(4 * GW_JWT_MAX_LEN + 1);
    memset(junk, 'A', 4 * GW_JWT_MAX_LEN);
    junk[4 * GW_JWT_MAX_LEN] = '\0';
    junk[10] = '.';
    junk[20] = '.';
    EXPECT("64 KiB of base64url", &fx.policy, &fx.keys, junk, GW_JWT_MALFORMED);
    free(junk);
    free(longest);
    free(over);
}

/* ---- Policy and key narrowing ---- */

static void
test_jwt_refuses_algorithms_outside_the_policy(void)
{
    struct gw_jwt_policy rs_only = fx.policy;
    const struct alg_case cases[] = {
        {"ES256 with an RS256-only policy", HDR_ES256, "ES256", &fx.ec},
        {"HS256 with an RS256-only policy", HDR_HS256, "HS256", &fx.hmac},
        {"PS256 with an RS256-only policy", HDR_PS256, "PS256", &fx.rsa},
        {"RS384 with an RS256-only policy",
         "{\"alg\":\"RS384\",\"kid\":\"rsa-1\"}", "RS384", &fx.rsa},
        {"ES384 (not supported)", "{\"alg\":\"ES384\",\"kid\":\"ec-1\"}",
         "ES384", &fx.ec},
        {"ES512 (not supported)", "{\"alg\":\"ES512\",\"kid\":\"ec-1\"}",
         "ES512", &fx.ec},
        {"EdDSA (not supported)", "{\"alg\":\"EdDSA\",\"kid\":\"ec-1\"}",
         "none", &fx.ec},
    };
    char *token;

    rs_only.algs = GW_ALG_RS256;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        token = token_claims(cases[i].header, GOOD_CLAIMS, cases[i].sign_alg,
                             cases[i].signer);
        EXPECT(cases[i].name, &rs_only, &fx.keys, token,
               GW_JWT_ALG_NOT_ALLOWED);
        free(token);
    }
    token = token_claims(HDR_RS256, GOOD_CLAIMS, "RS256", &fx.rsa);
    EXPECT("RS256 with an RS256-only policy", &rs_only, &fx.keys, token,
           GW_JWT_OK);
    rs_only.algs = 0;
    EXPECT("RS256 with an empty allowlist", &rs_only, &fx.keys, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
}

static void
test_jwt_lets_a_jwk_alg_member_narrow_its_key(void)
{
    struct gw_keyset ks = {0};
    char *jwk = jwk_new(fx.rsa.pkey, "\"kid\":\"rs-only\",\"alg\":\"RS256\"");
    char *jwks = fmt_new("{\"keys\":[%s]}", jwk);
    char *token;

    add_jwks_or_die(&ks, jwks);
    token = token_claims("{\"alg\":\"RS256\",\"kid\":\"rs-only\"}", GOOD_CLAIMS,
                         "RS256", &fx.rsa);
    EXPECT("RS256 under an RS256 JWK", &fx.policy, &ks, token, GW_JWT_OK);
    free(token);
    token = token_claims("{\"alg\":\"PS256\",\"kid\":\"rs-only\"}", GOOD_CLAIMS,
                         "PS256", &fx.rsa);
    EXPECT("PS256 under an RS256 JWK", &fx.policy, &ks, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"PS256\"}", GOOD_CLAIMS, "PS256", &fx.rsa);
    EXPECT("PS256 without kid, only an RS256 JWK", &fx.policy, &ks, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    gw_keyset_clear(&ks);
    free(jwks);
    free(jwk);
}

static void
test_jwt_holds_hmac_secrets_to_the_rfc_7518_length(void)
{
    struct gw_keyset ks = {0};
    struct signer s43 = {0}, s48 = {0};
    struct gw_jwt_policy hs = fx.policy;
    char err[160];
    char *token;

    hs.algs = GW_ALGS_HMAC;
    memset(s43.secret, 0x43, 43);
    s43.secret_len = 43;
    memset(s48.secret, 0x48, 48);
    s48.secret_len = 48;
    CHECK(!gw_keyset_add_secret(&ks, s43.secret, 31, "short", GW_ALGS_HMAC, err,
                                sizeof(err)),
          "a 31-byte secret is refused at load", "HMAC 31 bytes");
    CHECK(ks.count == 0, "nothing is added", "HMAC 31 bytes");
    if (!gw_keyset_add_secret(&ks, s43.secret, 43, "k43", GW_ALGS_HMAC, err,
                              sizeof(err)) ||
        !gw_keyset_add_secret(&ks, s48.secret, 48, "k48", GW_ALGS_HMAC, err,
                              sizeof(err))) {
        die(err);
    }

    token = token_claims("{\"alg\":\"HS384\",\"kid\":\"k43\"}", GOOD_CLAIMS,
                         "HS384", &s43);
    EXPECT("HS384 under a 43-byte secret", &hs, &ks, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    token = token_claims("{\"alg\":\"HS256\",\"kid\":\"k43\"}", GOOD_CLAIMS,
                         "HS256", &s43);
    EXPECT("HS256 under a 43-byte secret", &hs, &ks, token, GW_JWT_OK);
    free(token);
    token = token_claims("{\"alg\":\"HS384\",\"kid\":\"k48\"}", GOOD_CLAIMS,
                         "HS384", &s48);
    EXPECT("HS384 under a 48-byte secret", &hs, &ks, token, GW_JWT_OK);
    free(token);
    token = token_claims("{\"alg\":\"HS512\",\"kid\":\"k48\"}", GOOD_CLAIMS,
                         "HS512", &s48);
    EXPECT("HS512 under a 48-byte secret", &hs, &ks, token,
           GW_JWT_ALG_NOT_ALLOWED);
    free(token);
    gw_keyset_clear(&ks);
}

static void
test_jwt_uses_every_byte_of_a_binary_hmac_secret(void)
{
    struct gw_keyset ks = {0};
    struct signer bin = {0}, tail_differs;
    char err[160];
    char *token;

    /* NUL bytes inside: a secret handled as a C string would end at 4. */
    for (size_t i = 0; i < 40; i++) {
        bin.secret[i] = (unsigned char)(i * 37 + 11);
    }
    bin.secret[4] = 0x00;
    bin.secret[20] = 0x00;
    bin.secret_len = 40;
    tail_differs = bin;
    tail_differs.secret[39] ^= 0x01;
    if (!gw_keyset_add_secret(&ks, bin.secret, bin.secret_len, "bin",
                              GW_ALGS_HMAC, err, sizeof(err))) {
        die(err);
    }
    token = token_claims("{\"alg\":\"HS256\",\"kid\":\"bin\"}", GOOD_CLAIMS,
                         "HS256", &bin);
    EXPECT("signed with the whole binary secret", &fx.policy, &ks, token,
           GW_JWT_OK);
    free(token);
    token = token_claims("{\"alg\":\"HS256\",\"kid\":\"bin\"}", GOOD_CLAIMS,
                         "HS256", &tail_differs);
    EXPECT("signed with a secret differing in its last byte", &fx.policy, &ks,
           token, GW_JWT_BAD_SIGNATURE);
    free(token);
    gw_keyset_clear(&ks);
}

/* ---- Signatures ---- */

/* Rewrites one base64url character of the signature in place. */
static void
flip_sig_char(char *token, size_t from_end)
{
    char *c = token + strlen(token) - 1 - from_end;

    *c = *c == 'A' ? 'B' : 'A';
}

static void
test_jwt_rejects_modified_signatures_and_content(void)
{
    const struct alg_case algs[] = {
        {"RS256", HDR_RS256, "RS256", &fx.rsa},
        {"ES256", HDR_ES256, "ES256", &fx.ec},
        {"HS256", HDR_HS256, "HS256", &fx.hmac},
        {"PS256", HDR_PS256, "PS256", &fx.rsa},
    };
    char name[96];

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const struct alg_case *a = &algs[i];
        char *good =
            token_claims(a->header, GOOD_CLAIMS, a->sign_alg, a->signer);
        char *other = token_claims(a->header,
                                   "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
                                   "\",\"sub\":\"admin\",\"exp\":@+600}",
                                   a->sign_alg, a->signer);
        const char *gp = strchr(good, '.'), *gs = strrchr(good, '.');
        const char *op = strchr(other, '.'), *os = strrchr(other, '.');
        char *t;

        t = fmt_new("%s", good);
        flip_sig_char(t, 5);
        snprintf(name, sizeof(name), "%s: a signature byte changed", a->name);
        EXPECT(name, &fx.policy, &fx.keys, t, GW_JWT_BAD_SIGNATURE);
        free(t);

        t = fmt_new("%.*s%.*s%s", (int)(gp - good), good, (int)(os - op), op,
                    gs);
        snprintf(name, sizeof(name), "%s: payload swapped", a->name);
        EXPECT(name, &fx.policy, &fx.keys, t, GW_JWT_BAD_SIGNATURE);
        free(t);

        t = fmt_new("%.*s.", (int)(gs - good), good);
        snprintf(name, sizeof(name), "%s: empty signature", a->name);
        EXPECT(name, &fx.policy, &fx.keys, t, GW_JWT_BAD_SIGNATURE);
        free(t);

        t = fmt_new("%.*s", (int)(strlen(good) - 4), good);
        snprintf(name, sizeof(name), "%s: signature cut short", a->name);
        {
            struct gw_jwt_verified out;
            enum gw_jwt_result rc =
                verify_exact(&fx.policy, &fx.keys, t, strlen(t), NOW_MS, &out);

            CHECK(rc == GW_JWT_BAD_SIGNATURE || rc == GW_JWT_MALFORMED,
                  "refused as bad signature or malformed", name);
            CHECK(out.claims == NULL, "no claims", name);
            gw_jwt_verified_clear(&out);
        }
        free(t);

        t = fmt_new("%.*s.%.*s%s", (int)(gp - good), good,
                    (int)(gs - good) - (int)(gp - good) - 1, gp + 1, os);
        snprintf(name, sizeof(name), "%s: another token's signature", a->name);
        EXPECT(name, &fx.policy, &fx.keys, t, GW_JWT_BAD_SIGNATURE);
        free(t);
        free(good);
        free(other);
    }
}

static void
test_jwt_rejects_a_header_alg_changed_after_signing(void)
{
    char *rs = token_claims(HDR_RS256, GOOD_CLAIMS, "RS256", &fx.rsa);
    char *ps_header = b64url_new(HDR_PS256, strlen(HDR_PS256));
    const char *rs384 = "{\"alg\":\"RS384\",\"kid\":\"rsa-1\"}";
    char *rs384_header = b64url_new(rs384, strlen(rs384));
    const char *rest = strchr(rs, '.');
    struct gw_jwt_policy all = fx.policy;
    char *t;

    all.algs = ALL_ALGS;
    t = fmt_new("%s%s", ps_header, rest);
    EXPECT("RS256 signature under a PS256 header", &all, &fx.keys, t,
           GW_JWT_BAD_SIGNATURE);
    free(t);
    t = fmt_new("%s%s", rs384_header, rest);
    EXPECT("RS256 signature under an RS384 header", &all, &fx.keys, t,
           GW_JWT_BAD_SIGNATURE);
    free(t);
    free(rs384_header);
    free(ps_header);
    free(rs);
}

static void
test_jwt_rejects_an_es256_signature_in_der_form(void)
{
    char *claims = at_now(GOOD_CLAIMS);
    char *t = token_build(HDR_ES256, claims, "ES256", &fx.ec, true);

    EXPECT("ES256 signature as DER instead of r || s", &fx.policy, &fx.keys, t,
           GW_JWT_BAD_SIGNATURE);
    free(t);
    free(claims);
}

/* Sets the lowest unused bit of the signature's last character: the bytes
 * decode the same, yet the token is a second, different string. */
static char *
with_unused_bit_set(const char *token)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *t = fmt_new("%s", token);
    char *last = t + strlen(t) - 1;
    const char *at = strchr(alphabet, *last);

    *last = alphabet[(at - alphabet) | 1];
    return t;
}

static void
test_jwt_rejects_signatures_with_nonzero_unused_bits(void)
{
    /* common/b64.h refuses such text for the header, the payload and PSS
     * signatures ("two encodings would decode alike"); the signature of
     * every algorithm must get the same rule, or a token has twins that
     * differ in their text (and fingerprint) but verify alike. */
    const struct alg_case algs[] = {
        {"RS256", HDR_RS256, "RS256", &fx.rsa},
        {"ES256", HDR_ES256, "ES256", &fx.ec},
        {"HS256", HDR_HS256, "HS256", &fx.hmac},
        {"PS256", HDR_PS256, "PS256", &fx.rsa},
    };
    char name[96];

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char *good = token_claims(algs[i].header, GOOD_CLAIMS, algs[i].sign_alg,
                                  algs[i].signer);
        char *twin = with_unused_bit_set(good);
        struct gw_jwt_verified out;
        enum gw_jwt_result rc;

        snprintf(name, sizeof(name), "%s: unused bit set in the signature",
                 algs[i].name);
        rc = verify_exact(&fx.policy, &fx.keys, twin, strlen(twin), NOW_MS,
                          &out);
        CHECK(rc != GW_JWT_OK && out.claims == NULL, "the twin is refused",
              name);
        gw_jwt_verified_clear(&out);
        free(twin);
        free(good);
    }
}

static void
test_jwt_ignores_keys_named_in_the_header(void)
{
    char *jwk = jwk_new(fx.attacker.pkey, "\"kid\":\"ec-1\"");
    char *header;
    char *token;

    /* RFC 7515 4.1.3 and 4.1.2: jwk and jku are the sender's claims about
     * its key; trusting them lets anyone sign. */
    header = fmt_new("{\"alg\":\"ES256\",\"kid\":\"ec-1\",\"jwk\":%s}", jwk);
    token = token_claims(header, GOOD_CLAIMS, "ES256", &fx.attacker);
    EXPECT("embedded jwk with our kid", &fx.policy, &fx.keys, token,
           GW_JWT_BAD_SIGNATURE);
    free(token);
    free(header);
    header = fmt_new("{\"alg\":\"ES256\",\"jwk\":%s}", jwk);
    token = token_claims(header, GOOD_CLAIMS, "ES256", &fx.attacker);
    EXPECT("embedded jwk, no kid", &fx.policy, &fx.keys, token,
           GW_JWT_BAD_SIGNATURE);
    free(token);
    free(header);
    token = token_claims("{\"alg\":\"ES256\",\"kid\":\"ec-1\","
                         "\"jku\":\"https://evil.example/jwks\","
                         "\"x5u\":\"https://evil.example/c.pem\"}",
                         GOOD_CLAIMS, "ES256", &fx.attacker);
    EXPECT("jku and x5u", &fx.policy, &fx.keys, token, GW_JWT_BAD_SIGNATURE);
    free(token);
    token = token_claims("{\"alg\":\"ES256\",\"kid\":\"attacker\"}",
                         GOOD_CLAIMS, "ES256", &fx.attacker);
    EXPECT("the attacker's own kid", &fx.policy, &fx.keys, token,
           GW_JWT_UNKNOWN_KID);
    free(token);
    free(jwk);
}

static void
test_jwt_refuses_keys_meant_for_encryption(void)
{
    /* Wycheproof json_web_signature tcId 353 to 356 (rejectWrongUse,
     * rejectWrongKeyOps): a key published for encryption must not verify.
     * Their payload ("foo") is refused before any key is used, so the
     * same keys are built here around a real claims set. */
    const struct {
        const char *name;
        const char *members;
    } cases[] = {
        {"RSA, use enc (tcId 353)", "\"kid\":\"k\",\"use\":\"enc\""},
        {"RSA, key_ops encrypt (tcId 355)",
         "\"kid\":\"k\",\"key_ops\":[\"encrypt\"]"},
        {"RSA, key_ops wrapKey only",
         "\"kid\":\"k\",\"key_ops\":[\"wrapKey\"]"},
    };
    char *token = token_claims("{\"alg\":\"RS256\",\"kid\":\"k\"}", GOOD_CLAIMS,
                               "RS256", &fx.rsa);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_keyset ks = {0};
        char *jwk = jwk_new(fx.rsa.pkey, cases[i].members);
        char *jwks = fmt_new("{\"keys\":[%s]}", jwk);
        struct gw_jwt_verified out;
        enum gw_jwt_result rc;

        add_jwks_or_die(&ks, jwks);
        rc = verify_exact(&fx.policy, &ks, token, strlen(token), NOW_MS, &out);
        CHECK(rc != GW_JWT_OK && out.claims == NULL,
              "a claims token under the key is refused", cases[i].name);
        gw_jwt_verified_clear(&out);
        gw_keyset_clear(&ks);
        free(jwks);
        free(jwk);
    }
    free(token);
}

static void
test_jwt_leaves_claims_null_on_failure(void)
{
    static int sentinel;
    char *expired = token_claims(HDR_RS256, "{" STD_CLAIMS ",\"exp\":@-999}",
                                 "RS256", &fx.rsa);
    char *no_sub = token_claims(
        HDR_RS256, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":@+600}",
        "RS256", &fx.rsa);
    const struct {
        const char *name;
        const char *token;
    } cases[] = {
        {"empty", ""},
        {"two parts", "a.b"},
        {"header without alg", "e30.e30."},
        {"alg none", "eyJhbGciOiJub25lIn0.e30."},
        {"expired, after the signature held", expired},
        {"no sub, after every other check held", no_sub},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_jwt_verified out;
        enum gw_jwt_result rc;

        /* A caller's stale pointer must not survive a failed call. */
        out.claims = (struct json_object *)&sentinel;
        rc = gw_jwt_verify(&fx.policy, &fx.keys, cases[i].token,
                           strlen(cases[i].token), NOW_MS, &out);
        CHECK(rc != GW_JWT_OK, "refused", cases[i].name);
        CHECK(out.claims == NULL, "claims are NULL after a failure",
              cases[i].name);
        gw_jwt_verified_clear(&out);
    }
    free(no_sub);
    free(expired);
}

static void
test_jwt_names_every_result_and_algorithm(void)
{
    static const char *const codes[] = {
        "ok",
        "malformed_token",
        "alg_not_allowed",
        "unknown_kid",
        "missing_kid",
        "bad_signature",
        "token_expired",
        "token_not_yet_valid",
        "wrong_issuer",
        "wrong_audience",
        "missing_claim",
        "no_memory",
    };
    static const char *const algs[] = {"HS256", "HS384", "HS512", "RS256",
                                       "RS384", "RS512", "PS256", "PS384",
                                       "PS512", "ES256"};

    for (int i = 0; i <= GW_JWT_NO_MEMORY; i++) {
        CHECK(strcmp(gw_jwt_result_code((enum gw_jwt_result)i), codes[i]) == 0,
              "stable result code", codes[i]);
    }
    CHECK(strcmp(gw_jwt_result_code((enum gw_jwt_result)(GW_JWT_NO_MEMORY + 1)),
                 "unknown") == 0,
          "a value past the enum", "unknown");
    for (unsigned i = 0; i < 10; i++) {
        CHECK(strcmp(gw_jwt_alg_name(1u << i), algs[i]) == 0 &&
                  gw_alg_parse(algs[i], strlen(algs[i])) == 1u << i,
              "name and bit agree", algs[i]);
    }
    CHECK(strcmp(gw_jwt_alg_name(0), "none") == 0 &&
              strcmp(gw_jwt_alg_name(GW_ALG_RS256 | GW_ALG_ES256), "none") == 0,
          "no name for no bit or two bits", "none");
}

/* ---- RFC 7515 / RFC 7520 examples ---- */

/* RFC 7515's tokens expire 2011-03-22T18:43:00Z (exp 1300819380). */
#define RFC_EXP_MS 1300819380000LL
#define RFC_BEFORE_EXP_MS (RFC_EXP_MS - 60000)

struct rfc_case {
    const char *id;
    const char *key_field; /* member of "key" given to the gateway, or NULL */
    bool key_loads;
    int64_t now_ms;
    const char *iss; /* the policy's issuer */
    bool tamper;     /* change one signature byte first */
    enum gw_jwt_result want;
    const char *why;
};

static const struct rfc_case rfc_cases[] = {
    {"rfc7515-A.1-HS256", "jwk", true, NOW_MS, NULL, false, GW_JWT_EXPIRED,
     "signature holds; exp is 2011"},
    {"rfc7515-A.1-HS256", "secret_hex", true, RFC_BEFORE_EXP_MS, "joe", false,
     GW_JWT_MISSING_CLAIM, "known answer: signature, exp, iss hold; no sub"},
    {"rfc7515-A.1-HS256", "jwk", true, RFC_BEFORE_EXP_MS, ISS, false,
     GW_JWT_WRONG_ISSUER, "signature holds; iss is joe"},
    {"rfc7515-A.1-HS256", "jwk", true, RFC_BEFORE_EXP_MS, "joe", true,
     GW_JWT_BAD_SIGNATURE, "one signature byte changed"},
    {"rfc7515-A.2-RS256", "jwk_public", true, NOW_MS, NULL, false,
     GW_JWT_EXPIRED, "signature holds; exp is 2011"},
    {"rfc7515-A.2-RS256", "jwk_public", true, RFC_BEFORE_EXP_MS, "joe", false,
     GW_JWT_MISSING_CLAIM, "known answer: signature, exp, iss hold; no sub"},
    {"rfc7515-A.2-RS256", "public_pem", true, RFC_BEFORE_EXP_MS, "joe", false,
     GW_JWT_MISSING_CLAIM, "known answer with the PEM form of the key"},
    {"rfc7515-A.2-RS256", "jwk_public", true, RFC_BEFORE_EXP_MS, "joe", true,
     GW_JWT_BAD_SIGNATURE, "one signature byte changed"},
    {"rfc7515-A.3-ES256", "jwk_public", true, NOW_MS, NULL, false,
     GW_JWT_EXPIRED, "signature holds; exp is 2011"},
    {"rfc7515-A.3-ES256", "jwk_public", true, RFC_BEFORE_EXP_MS, "joe", false,
     GW_JWT_MISSING_CLAIM, "known answer: signature, exp, iss hold; no sub"},
    {"rfc7515-A.3-ES256", "public_pem", true, RFC_BEFORE_EXP_MS, "joe", false,
     GW_JWT_MISSING_CLAIM, "known answer with the PEM form of the key"},
    {"rfc7515-A.3-ES256", "jwk_public", true, RFC_BEFORE_EXP_MS, "joe", true,
     GW_JWT_BAD_SIGNATURE, "one signature byte changed"},
    {"rfc7515-A.4-ES512", "public_pem", false, RFC_BEFORE_EXP_MS, NULL, false,
     GW_JWT_ALG_NOT_ALLOWED, "P-521 key refused; ES512 not supported"},
    {"rfc7515-A.4-ES512", "jwk_public", false, RFC_BEFORE_EXP_MS, NULL, false,
     GW_JWT_ALG_NOT_ALLOWED, "P-521 JWK skipped; ES512 not supported"},
    {"rfc7515-A.5-none", NULL, false, RFC_BEFORE_EXP_MS, NULL, false,
     GW_JWT_ALG_NOT_ALLOWED, "unsecured JWS"},
    {"rfc7520-4.1-RS256", "jwk_public", true, NOW_MS, NULL, false,
     GW_JWT_MALFORMED, "payload is text, not a claims set"},
    {"rfc7520-4.3-ES512", "jwk_public", false, NOW_MS, NULL, false,
     GW_JWT_ALG_NOT_ALLOWED, "P-521 JWK skipped; ES512 not supported"},
    {"rfc7520-4.4-HS256", "jwk", true, NOW_MS, NULL, false, GW_JWT_MALFORMED,
     "payload is text, not a claims set"},
    {"rfc7520-4.5-HS256-detached", "jwk", true, NOW_MS, NULL, false,
     GW_JWT_MALFORMED, "detached (empty) payload"},
};

static struct json_object *
rfc_example(struct json_object *doc, const char *id)
{
    struct json_object *list;

    if (!json_object_object_get_ex(doc, "examples", &list)) {
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *eid = member_string(e, "id");

        if (eid != NULL && strcmp(eid, id) == 0) {
            return e;
        }
    }
    return NULL;
}

/* Gives the gateway the example's key the way key_field says; true when
 * the gateway took it as a usable key. */
static bool
rfc_load_key(struct gw_keyset *ks, struct json_object *example,
             const char *key_field)
{
    struct json_object *key, *v;
    unsigned char secret[128];
    size_t secret_len;
    char err[160];
    char *jwks;
    bool ok;

    if (key_field == NULL || !json_object_object_get_ex(example, "key", &key) ||
        !json_object_object_get_ex(key, key_field, &v)) {
        return false;
    }
    if (strcmp(key_field, "public_pem") == 0) {
        return gw_keyset_add_pem(ks, json_object_get_string(v),
                                 (size_t)json_object_get_string_len(v), NULL,
                                 ALL_ALGS, err, sizeof(err));
    }
    if (strcmp(key_field, "secret_hex") == 0) {
        return hex_decode(json_object_get_string(v), secret, sizeof(secret),
                          &secret_len) &&
               gw_keyset_add_secret(ks, secret, secret_len, NULL, ALL_ALGS, err,
                                    sizeof(err));
    }
    jwks = fmt_new("{\"keys\":[%s]}",
                   json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    ok = gw_keyset_add_jwks(ks, jwks, strlen(jwks), ALL_ALGS, err,
                            sizeof(err)) &&
         ks->count == 1;
    free(jwks);
    return ok;
}

static void
run_rfc_case(struct json_object *doc, const struct rfc_case *c)
{
    struct json_object *example = rfc_example(doc, c->id), *v;
    struct gw_jwt_policy policy = {ALL_ALGS, c->iss, NULL, 0, 0};
    struct gw_keyset ks = {0};
    struct gw_jwt_verified out;
    enum gw_jwt_result rc;
    char name[160];
    char *token;

    snprintf(name, sizeof(name), "%s, key %s: %s", c->id,
             c->key_field != NULL ? c->key_field : "none", c->why);
    CHECK(example != NULL, "the example is in the vector file", name);
    if (example == NULL) {
        return;
    }
    CHECK(rfc_load_key(&ks, example, c->key_field) == c->key_loads,
          c->key_loads ? "the key loads" : "the key is not taken", name);
    token = fmt_new("%s", member_string(example, "token"));
    if (c->tamper) {
        flip_sig_char(token, 3);
    }
    rc = verify_exact(&policy, &ks, token, strlen(token), c->now_ms, &out);
    CHECK_RC(rc, c->want, name);
    CHECK(out.claims == NULL, "no claims from an RFC example", name);
    /* A result decided after the signature check agrees with the file. */
    if (rc == GW_JWT_EXPIRED || rc == GW_JWT_MISSING_CLAIM ||
        rc == GW_JWT_WRONG_ISSUER) {
        CHECK(json_object_object_get_ex(example, "signature_valid", &v) &&
                  json_object_get_boolean(v),
              "file says the signature is valid", name);
    }
    gw_jwt_verified_clear(&out);
    gw_keyset_clear(&ks);
    free(token);
}

static void
test_jwt_answers_the_rfc_examples(void)
{
    struct json_object *doc = vector_load("rfc-jws-examples.json");
    struct json_object *list;

    if (doc == NULL) {
        return;
    }
    for (size_t i = 0; i < sizeof(rfc_cases) / sizeof(rfc_cases[0]); i++) {
        run_rfc_case(doc, &rfc_cases[i]);
    }
    /* Every example in the file has at least one expectation here. */
    if (json_object_object_get_ex(doc, "examples", &list)) {
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            const char *id =
                member_string(json_object_array_get_idx(list, i), "id");
            bool covered = false;

            for (size_t j = 0; j < sizeof(rfc_cases) / sizeof(rfc_cases[0]);
                 j++) {
                covered =
                    covered || (id != NULL && strcmp(rfc_cases[j].id, id) == 0);
            }
            CHECK(covered, "example has an expectation",
                  id != NULL ? id : "(no id)");
        }
    }
    printf("unit.jwt: RFC 7520 4.1 and 4.4 sign text, not claims: their "
           "signatures are not checked (libjwt needs a JSON payload, see "
           "test_jwt_signature_step_needs_a_json_payload)\n");
    json_object_put(doc);
}

/* ---- Wycheproof ---- */

/* What the gateway answers for Wycheproof's "valid" JWS vectors. None of
 * their payloads is a JSON object, so a valid signature still ends in
 * malformed_token unless something earlier refuses the token. */
static const struct {
    int tc_id;
    enum gw_jwt_result want;
    const char *why;
} wycheproof_valid_answers[] = {
    {346, GW_JWT_ALG_NOT_ALLOWED, "PS384 token, the JWK's alg says PS256"},
    {347, GW_JWT_ALG_NOT_ALLOWED, "ES512 is not supported"},
    {350, GW_JWT_ALG_NOT_ALLOWED, "PS384 token, the JWK's alg says PS256"},
    {351, GW_JWT_ALG_NOT_ALLOWED, "ES512 is not supported"},
    /* Stricter than Wycheproof by choice: '?' is not base64url (RFC 7515
     * section 2), and the MAC covers the text without it. */
    {372, GW_JWT_MALFORMED, "'?' inside the header text"},
    {373, GW_JWT_MALFORMED, "'?' inside the payload text"},
};

static enum gw_jwt_result
wycheproof_valid_answer(int tc_id)
{
    for (size_t i = 0; i < sizeof(wycheproof_valid_answers) /
                               sizeof(wycheproof_valid_answers[0]);
         i++) {
        if (wycheproof_valid_answers[i].tc_id == tc_id) {
            return wycheproof_valid_answers[i].want;
        }
    }
    return GW_JWT_MALFORMED;
}

/* Loads a group's key as a one-key JWKS; without_alg drops the JWK's alg
 * member, so that the signature step can be tried under any algorithm. */
static void
wycheproof_group_keys(struct json_object *group, bool without_alg,
                      struct gw_keyset *ks)
{
    struct json_object *key, *copy = NULL;
    char err[160];
    char *jwks;

    if (!json_object_object_get_ex(group, "public", &key) &&
        !json_object_object_get_ex(group, "private", &key)) {
        return;
    }
    if (json_object_deep_copy(key, &copy, NULL) != 0) {
        die("copying a JWK");
    }
    if (without_alg) {
        json_object_object_del(copy, "alg");
    }
    jwks =
        fmt_new("{\"keys\":[%s]}",
                json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
    /* Every group key loads or is skipped (enc, P-521): none is refused. */
    CHECK(
        gw_keyset_add_jwks(ks, jwks, strlen(jwks), ALL_ALGS, err, sizeof(err)),
        "the group's key is taken or skipped", member_string(group, "comment"));
    free(jwks);
    json_object_put(copy);
}

struct wycheproof_counts {
    int vectors, valid, wrong_alg, pss_checked, pss_valid;
};

/* One group's keys: as published, and without the JWK's alg member. */
struct wycheproof_group {
    struct gw_keyset keys, any_alg;
    unsigned key_alg; /* the JWK's alg member as a bit; 0 when absent */
};

static void
wycheproof_group_load(struct json_object *group, struct wycheproof_group *wg)
{
    struct json_object *key;
    const char *alg;

    memset(wg, 0, sizeof(*wg));
    wycheproof_group_keys(group, false, &wg->keys);
    wycheproof_group_keys(group, true, &wg->any_alg);
    if (json_object_object_get_ex(group, "public", &key) ||
        json_object_object_get_ex(group, "private", &key)) {
        alg = member_string(key, "alg");
        wg->key_alg = alg != NULL ? gw_alg_parse(alg, strlen(alg)) : 0;
    }
}

/* The PSS step alone, under the key without its alg member. A vector
 * whose header names another algorithm than the key's alg member is
 * invalid for that reason only (its signature may be genuine), and the
 * full path must have answered alg_not_allowed for it instead. */
static void
wycheproof_pss_step(const char *jws, bool valid, const char *name,
                    const struct wycheproof_group *wg,
                    struct wycheproof_counts *counts)
{
    struct compact_parts parts = {0};
    struct gw_jwt_verified out;
    enum gw_jwt_result rc;
    unsigned alg = 0;

    memset(&out, 0, sizeof(out));
    if (split_compact(jws, strlen(jws), &parts) != GW_JWT_OK ||
        read_header(&parts, &alg, &out) != GW_JWT_OK ||
        !(alg & (GW_ALG_PS256 | GW_ALG_PS384 | GW_ALG_PS512)) ||
        wg->any_alg.count != 1 ||
        (!valid && wg->key_alg != 0 && alg != wg->key_alg)) {
        return;
    }
    counts->pss_checked++;
    rc = verify_pkey(&wg->any_alg.keys[0], alg, jws, &parts);
    if (valid) {
        counts->pss_valid++;
        CHECK_RC(rc, GW_JWT_OK, name);
    } else {
        CHECK(rc != GW_JWT_OK, "PSS step refuses", name);
    }
}

/* The header's algorithm, or 0 when the token has no readable header. */
static unsigned
header_alg(const char *jws)
{
    struct compact_parts parts = {0};
    struct gw_jwt_verified out;
    unsigned alg = 0;

    memset(&out, 0, sizeof(out));
    if (split_compact(jws, strlen(jws), &parts) != GW_JWT_OK ||
        read_header(&parts, &alg, &out) != GW_JWT_OK) {
        return 0;
    }
    return alg;
}

static void
wycheproof_run_vector(struct json_object *t, const struct wycheproof_group *wg,
                      struct wycheproof_counts *counts)
{
    struct gw_jwt_policy policy = {ALL_ALGS, NULL, NULL, 0, 0};
    struct gw_jwt_verified out;
    struct json_object *v = NULL;
    const char *jws = member_string(t, "jws");
    const char *result = member_string(t, "result");
    bool valid = strcmp(result, "valid") == 0;
    unsigned alg = header_alg(jws);
    enum gw_jwt_result rc;
    char name[160];
    int tc_id;

    json_object_object_get_ex(t, "tcId", &v);
    tc_id = json_object_get_int(v);
    snprintf(name, sizeof(name), "tcId %d %s (%s)", tc_id,
             member_string(t, "comment"), result);
    counts->vectors++;

    rc = verify_exact(&policy, &wg->keys, jws, strlen(jws), NOW_MS, &out);
    if (valid) {
        counts->valid++;
        CHECK_RC(rc, wycheproof_valid_answer(tc_id), name);
    } else if (alg != 0 && wg->key_alg != 0 && alg != wg->key_alg) {
        /* WrongPrimitive and symmetric-confusion vectors. */
        counts->wrong_alg++;
        CHECK_RC(rc, GW_JWT_ALG_NOT_ALLOWED, name);
    } else {
        CHECK(rc != GW_JWT_OK, "refused", name);
    }
    CHECK(out.claims == NULL, "no claims", name);
    gw_jwt_verified_clear(&out);

    /* PSS is the gateway's own code (libjwt 1.10.2 has none): its step is
     * checked alone against the verdicts. */
    wycheproof_pss_step(jws, valid, name, wg, counts);
}

static void
test_jwt_follows_wycheproof_jws_verdicts(void)
{
    struct json_object *doc =
        vector_load("wycheproof/json_web_signature_test.json");
    struct wycheproof_counts counts = {0};
    struct json_object *groups, *tests;

    if (doc == NULL) {
        return;
    }
    CHECK(json_object_object_get_ex(doc, "testGroups", &groups),
          "file has testGroups", "json_web_signature_test.json");
    for (size_t g = 0; g < json_object_array_length(groups); g++) {
        struct json_object *group = json_object_array_get_idx(groups, g);
        struct wycheproof_group wg;

        wycheproof_group_load(group, &wg);
        json_object_object_get_ex(group, "tests", &tests);
        for (size_t i = 0; i < json_object_array_length(tests); i++) {
            wycheproof_run_vector(json_object_array_get_idx(tests, i), &wg,
                                  &counts);
        }
        gw_keyset_clear(&wg.keys);
        gw_keyset_clear(&wg.any_alg);
    }
    CHECK(counts.vectors == 401, "all 401 vectors ran",
          "json_web_signature_test.json");
    CHECK(counts.pss_checked > counts.pss_valid && counts.pss_valid > 0,
          "the PSS step met valid and invalid vectors",
          "json_web_signature_test.json");
    printf("unit.jwt: wycheproof JWS: %d vectors through gw_jwt_verify (%d "
           "valid, answered as the table says; %d refused for naming "
           "another alg than their key's); PSS step checked alone on %d "
           "(%d valid); HS/RS/ES signature steps not checked alone: libjwt "
           "needs a JSON payload and these payloads are not JSON\n",
           counts.vectors, counts.valid, counts.wrong_alg, counts.pss_checked,
           counts.pss_valid);
    json_object_put(doc);
}

static void
test_jwt_signature_step_needs_a_json_payload(void)
{
    char *text = token_new(HDR_HS256, "foo", "HS256", &fx.hmac);
    char *json = token_new(HDR_HS256, "{}", "HS256", &fx.hmac);
    char *pss = token_new(HDR_PS256, "foo", "PS256", &fx.rsa);

    /* Why the Wycheproof HS/RS/ES vectors are not run through the
     * signature step alone: libjwt parses the payload as JSON inside
     * jwt_decode and fails a right MAC over text. If a libjwt upgrade
     * changes this, those vectors can be checked alone too. */
    CHECK_RC(signature_step(&fx.keys, text), GW_JWT_BAD_SIGNATURE,
             "libjwt: right HS256 MAC over the text foo");
    CHECK_RC(signature_step(&fx.keys, json), GW_JWT_OK,
             "libjwt: right HS256 MAC over {}");
    CHECK_RC(signature_step(&fx.keys, pss), GW_JWT_OK,
             "own PSS step: right PS256 signature over the text foo");
    free(text);
    free(json);
    free(pss);
}

/* True when msg could be a JWS signing input: two base64url parts, the
 * first a JSON object with an alg. */
static bool
is_signing_input(const unsigned char *msg, size_t len)
{
    const unsigned char *dot = memchr(msg, '.', len);
    unsigned char *raw = NULL;
    struct json_object *header = NULL;
    size_t raw_len;
    bool ok;

    if (dot == NULL || dot == msg) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (msg + i != dot && !is_b64url_char(msg[i])) {
            return false;
        }
    }
    ok = gw_b64url_decode((const char *)msg, (size_t)(dot - msg), &raw,
                          &raw_len) &&
         gw_json_parse((const char *)raw, raw_len, &header, NULL) ==
             GW_JSON_OK &&
         json_object_is_type(header, json_type_object) &&
         json_object_object_get_ex(header, "alg", NULL);
    json_object_put(header);
    free(raw);
    return ok;
}

static void
test_jwt_skips_wycheproof_message_vectors(void)
{
    static const char *const files[] = {
        "wycheproof/hmac_sha256_test.json",
        "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
        "wycheproof/rsa_signature_2048_sha256_test.json",
    };

    /* These sign arbitrary messages; a JWS signs its own header, so a
     * vector can reach gw_jwt_verify only if its message happens to be
     * "header.payload". Their keys are used in test_keys.c instead. */
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        struct json_object *doc = vector_load(files[f]), *groups, *tests;
        int vectors = 0, formable = 0;

        if (doc == NULL) {
            continue;
        }
        json_object_object_get_ex(doc, "testGroups", &groups);
        for (size_t g = 0; g < json_object_array_length(groups); g++) {
            json_object_object_get_ex(json_object_array_get_idx(groups, g),
                                      "tests", &tests);
            for (size_t i = 0; i < json_object_array_length(tests); i++) {
                const char *hex =
                    member_string(json_object_array_get_idx(tests, i), "msg");
                unsigned char *msg = xmalloc(strlen(hex) / 2 + 1);
                size_t len = 0;

                vectors++;
                if (hex_decode(hex, msg, strlen(hex) / 2 + 1, &len) &&
                    is_signing_input(msg, len)) {
                    formable++;
                }
                free(msg);
            }
        }
        CHECK(vectors > 0 && formable == 0,
              "no message is a JWS signing input (drive any that is)",
              files[f]);
        printf("unit.jwt: skipped %s: %d vectors, %d with a message of "
               "the form header.payload\n",
               files[f], vectors, formable);
        json_object_put(doc);
    }
}

int
main(void)
{
    fixture_setup();

    test_jwt_accepts_each_supported_algorithm();
    test_jwt_hands_over_the_verified_claims();
    test_jwt_rejects_alg_none();
    test_jwt_rejects_key_confusion();
    test_jwt_selects_the_key_by_kid();
    test_jwt_checks_times_with_leeway();
    test_jwt_checks_issuer_audience_and_subject();
    test_jwt_rejects_lenient_json_in_claims();
    test_jwt_rejects_malformed_tokens();
    test_jwt_rejects_a_nul_byte_inside_the_token();
    test_jwt_rejects_tokens_longer_than_the_limit();
    test_jwt_refuses_algorithms_outside_the_policy();
    test_jwt_lets_a_jwk_alg_member_narrow_its_key();
    test_jwt_holds_hmac_secrets_to_the_rfc_7518_length();
    test_jwt_uses_every_byte_of_a_binary_hmac_secret();
    test_jwt_rejects_modified_signatures_and_content();
    test_jwt_rejects_a_header_alg_changed_after_signing();
    test_jwt_rejects_an_es256_signature_in_der_form();
    test_jwt_rejects_signatures_with_nonzero_unused_bits();
    test_jwt_ignores_keys_named_in_the_header();
    test_jwt_refuses_keys_meant_for_encryption();
    test_jwt_leaves_claims_null_on_failure();
    test_jwt_names_every_result_and_algorithm();
    test_jwt_answers_the_rfc_examples();
    test_jwt_follows_wycheproof_jws_verdicts();
    test_jwt_signature_step_needs_a_json_payload();
    test_jwt_skips_wycheproof_message_vectors();

    fixture_teardown();
    printf("unit.jwt: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
