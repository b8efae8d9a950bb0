/* tests/unit/auth/test_webhook_sig.c: every webhook signature scheme
 * against published vectors and signatures computed here, with the time
 * window checked on both sides. */
#include "auth/webhook_sig.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/b64.h"

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)
#define CHECK_RC(got, want, name)                                              \
    check_at((got) == (want), gw_webhook_sig_result_code(got), (name), __LINE__)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The Standard Webhooks published vector (standard-webhooks/standard-
 * webhooks, libraries/go/webhook_test.go), also checked by sign.mjs. */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS "1614265330"
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SW_NOW_MS (1614265330LL * 1000)

static int passed;
static int failed;

static void
check_at(bool ok, const char *got, const char *name, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL line %d: %s (got %s)\n", line, name,
            got != NULL ? got : "-");
}

static void
hmac_hex(const char *key, const char *data, size_t len, char *out)
{
    unsigned char mac[32];
    unsigned mac_len = 0;

    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)data, len,
         mac, &mac_len);
    gw_hex_encode(mac, mac_len, out);
}

static void
test_standard_accepts_the_published_vector(void)
{
    struct gw_secret *key = gw_webhook_secret_decode(SW_SECRET);
    struct gw_webhook_signed r = {SW_BODY, strlen(SW_BODY), SW_SIG, SW_ID,
                                  SW_TS, NULL};
    static const struct {
        const char *name;
        const char *sig;
        enum gw_webhook_sig_result want;
    } lists[] = {
        {"the vector alone", SW_SIG, GW_WEBHOOK_SIG_OK},
        {"second of a space list (rotation)",
         "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " SW_SIG,
         GW_WEBHOOK_SIG_OK},
        {"Supabase's comma-space joiner", "v1,bm90IGl0, " SW_SIG ", v1,x",
         GW_WEBHOOK_SIG_OK},
        {"other versions skipped", "v2,abc " SW_SIG, GW_WEBHOOK_SIG_OK},
        {"only another version", "v1a,g0hM9SsE", GW_WEBHOOK_SIG_MALFORMED},
        {"a wrong v1", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
         GW_WEBHOOK_SIG_MISMATCH},
        {"empty", "", GW_WEBHOOK_SIG_MISSING},
    };

    CHECK(key != NULL && key->len == 24, NULL, "whsec_ secret decodes");
    for (size_t i = 0; key != NULL && i < COUNT(lists); i++) {
        r.signature = lists[i].sig;
        CHECK_RC(gw_webhook_sig_standard(key, &r, SW_NOW_MS, 300),
                 lists[i].want, lists[i].name);
    }
    r.signature = SW_SIG;
    r.body = "{\"test\": 2432232315}";
    CHECK_RC(gw_webhook_sig_standard(key, &r, SW_NOW_MS, 300),
             GW_WEBHOOK_SIG_MISMATCH, "a body one digit off");
    gw_secret_free(key);
}

static void
test_standard_refuses_outside_the_window_on_either_side(void)
{
    struct gw_secret *key = gw_webhook_secret_decode("v1," SW_SECRET);
    struct gw_webhook_signed r = {SW_BODY, strlen(SW_BODY), SW_SIG, SW_ID,
                                  SW_TS, NULL};
    static const struct {
        const char *name;
        int64_t skew_s;
        enum gw_webhook_sig_result want;
    } cases[] = {
        {"exactly on time", 0, GW_WEBHOOK_SIG_OK},
        {"300 s late: the edge", 300, GW_WEBHOOK_SIG_OK},
        {"301 s late", 301, GW_WEBHOOK_SIG_STALE},
        {"300 s early: the edge", -300, GW_WEBHOOK_SIG_OK},
        {"301 s early (a future timestamp)", -301, GW_WEBHOOK_SIG_STALE},
    };

    CHECK(key != NULL, NULL, "v1,whsec_ (Supabase form) decodes");
    for (size_t i = 0; key != NULL && i < COUNT(cases); i++) {
        CHECK_RC(gw_webhook_sig_standard(
                     key, &r, SW_NOW_MS + cases[i].skew_s * 1000, 300),
                 cases[i].want, cases[i].name);
    }
    r.timestamp = "16142653x0";
    CHECK_RC(gw_webhook_sig_standard(key, &r, SW_NOW_MS, 300),
             GW_WEBHOOK_SIG_MALFORMED, "a timestamp that is not a number");
    r.timestamp = NULL;
    CHECK_RC(gw_webhook_sig_standard(key, &r, SW_NOW_MS, 300),
             GW_WEBHOOK_SIG_MISSING, "no timestamp header");
    gw_secret_free(key);
    CHECK(gw_webhook_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == NULL,
          NULL, "a secret without whsec_ is refused");
    CHECK(gw_webhook_secret_decode("whsec_***") == NULL, NULL,
          "whsec_ with no base64 is refused");
}

static void
test_workos_checks_t_and_every_v1(void)
{
    const char *secret = "ujsiZX5dHtw9TLUYq61MmaIIc", *body = "{\"a\":1}";
    struct gw_secret *key = gw_secret_new(secret, strlen(secret));
    char signed_text[64], hex[65], header[256];
    struct gw_webhook_signed r = {body, strlen(body), header, NULL, NULL, NULL};
    int64_t t = 1714566897123LL;

    snprintf(signed_text, sizeof(signed_text), "%lld.%s", (long long)t, body);
    hmac_hex(secret, signed_text, strlen(signed_text), hex);
    snprintf(header, sizeof(header), "t=%lld, v1=%s", (long long)t, hex);
    CHECK_RC(gw_webhook_sig_workos(key, &r, t, 180), GW_WEBHOOK_SIG_OK,
             "t=, v1= as WorkOS sends it");
    snprintf(header, sizeof(header), " v1=%064d ,t=%lld,v1=%s", 0, (long long)t,
             hex);
    CHECK_RC(gw_webhook_sig_workos(key, &r, t, 180), GW_WEBHOOK_SIG_OK,
             "items reordered, spaces around them, a second v1");
    CHECK_RC(gw_webhook_sig_workos(key, &r, t + 181000, 180),
             GW_WEBHOOK_SIG_STALE, "181 s old");
    CHECK_RC(gw_webhook_sig_workos(key, &r, t - 181000, 180),
             GW_WEBHOOK_SIG_STALE, "181 s in the future");
    CHECK_RC(gw_webhook_sig_workos(key, &r, t + 180000, 180), GW_WEBHOOK_SIG_OK,
             "180 s old: the edge");
    snprintf(header, sizeof(header), "t=%lld, v1=%s", (long long)t + 1, hex);
    CHECK_RC(gw_webhook_sig_workos(key, &r, t, 180), GW_WEBHOOK_SIG_MISMATCH,
             "t changed: the signature no longer matches");
    snprintf(header, sizeof(header), "v1=%s", hex);
    CHECK_RC(gw_webhook_sig_workos(key, &r, t, 180), GW_WEBHOOK_SIG_MALFORMED,
             "no t=");
    gw_secret_free(key);
}

static void
test_hmac_body_reads_hex_base64_and_a_prefix(void)
{
    const char *secret = "O29XYGZRGyhQCLnvx7wXjTbeC11zTGD6";
    const char *body = "{\"type\":\"LOGIN\"}";
    struct gw_secret *key = gw_secret_new(secret, strlen(secret));
    char hex[65], upper[65], prefixed[80], b64[64];
    unsigned char mac[32];
    unsigned mac_len = 0;
    struct gw_webhook_signed r = {body, strlen(body), hex, NULL, NULL, NULL};
    int n = 0;

    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body,
         strlen(body), mac, &mac_len);
    gw_hex_encode(mac, mac_len, hex);
    for (size_t i = 0; i <= 64; i++) {
        upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
    }
    snprintf(prefixed, sizeof(prefixed), "sha256=%s", hex);
    n = EVP_EncodeBlock((unsigned char *)b64, mac, 32);
    b64[n] = '\0';
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_HEX, NULL, &r),
             GW_WEBHOOK_SIG_OK, "lowercase hex");
    r.signature = upper;
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_HEX, NULL, &r),
             GW_WEBHOOK_SIG_OK, "uppercase hex");
    r.signature = prefixed;
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_HEX, "sha256=", &r),
             GW_WEBHOOK_SIG_OK, "sha256= prefix");
    r.signature = b64;
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_BASE64, NULL, &r),
             GW_WEBHOOK_SIG_OK, "base64");
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_HEX, NULL, &r),
             GW_WEBHOOK_SIG_MALFORMED, "base64 where hex is expected");
    r.signature = hex;
    r.body_len--;
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_HEX, NULL, &r),
             GW_WEBHOOK_SIG_MISMATCH, "one byte of the body missing");
    r.signature = NULL;
    CHECK_RC(gw_webhook_sig_hmac_body(key, GW_WEBHOOK_HEX, NULL, &r),
             GW_WEBHOOK_SIG_MISSING, "no header");
    gw_secret_free(key);
}

static void
test_static_value_must_match_whole(void)
{
    const char *want = "Bearer a0-logstream-test-ISdkmRYtbbfDzHkjMzPzV";
    struct gw_secret *s = gw_secret_new(want, strlen(want));

    CHECK_RC(gw_webhook_sig_static(s, want), GW_WEBHOOK_SIG_OK, "equal");
    CHECK_RC(gw_webhook_sig_static(s, "Bearer a0-logstream-test-ISdk"),
             GW_WEBHOOK_SIG_MISMATCH, "a prefix of the value");
    CHECK_RC(gw_webhook_sig_static(s, "bearer a0-logstream-test-ISdkmRYt"
                                      "bbfDzHkjMzPzV"),
             GW_WEBHOOK_SIG_MISMATCH, "another case");
    CHECK_RC(gw_webhook_sig_static(s, NULL), GW_WEBHOOK_SIG_MISSING, "absent");
    gw_secret_free(s);
}

/* FusionAuth: an HS256 JWS with only request_body_sha256. */
static void
test_jws_body_binds_the_body_hash(void)
{
    const char *secret = "Y2pdu/81HN3y0bC2SL2bBR4jDX7bh3uvFyKuzNkp3e8=";
    const char *body = "{\"event\":{\"type\":\"user.login.success\"}}";
    unsigned char digest[32], mac[32];
    unsigned mac_len = 0;
    char hash_b64[64], claims[128], header_b64[128], claims_b64[256];
    char input[512], sig_b64[64], token[640];
    struct gw_keyset ks = {0};
    struct gw_jwt_policy policy = {GW_ALGS_HMAC, NULL, NULL, 60,
                                   GW_JWT_F_EXP_OPTIONAL |
                                       GW_JWT_F_SUB_OPTIONAL};
    struct gw_webhook_signed r = {body, strlen(body), token, NULL, NULL, NULL};
    enum gw_jwt_result jrc;
    char err[128];
    int n;

    CHECK(gw_keyset_add_secret(&ks, secret, strlen(secret), "hk", GW_ALGS_HMAC,
                               err, sizeof(err)),
          err, "the HMAC key loads");
    SHA256((const unsigned char *)body, strlen(body), digest);
    n = EVP_EncodeBlock((unsigned char *)hash_b64, digest, 32);
    hash_b64[n] = '\0';
    snprintf(claims, sizeof(claims), "{\"request_body_sha256\":\"%s\"}",
             hash_b64);
    gw_b64url_encode((const unsigned char *)"{\"alg\":\"HS256\",\"kid\":"
                                            "\"hk\"}",
                     26, header_b64);
    gw_b64url_encode((const unsigned char *)claims, strlen(claims), claims_b64);
    snprintf(input, sizeof(input), "%s.%s", header_b64, claims_b64);
    HMAC(EVP_sha256(), secret, (int)strlen(secret),
         (const unsigned char *)input, strlen(input), mac, &mac_len);
    gw_b64url_encode(mac, mac_len, sig_b64);
    snprintf(token, sizeof(token), "%s.%s", input, sig_b64);

    CHECK_RC(gw_webhook_sig_jws_body(&policy, &ks, &r, 0, &jrc),
             GW_WEBHOOK_SIG_OK, "no exp, no sub: the body hash decides");
    r.body_len--;
    CHECK_RC(gw_webhook_sig_jws_body(&policy, &ks, &r, 0, &jrc),
             GW_WEBHOOK_SIG_MISMATCH, "another body");
    r.body_len++;
    policy.flags = 0;
    CHECK_RC(gw_webhook_sig_jws_body(&policy, &ks, &r, 0, &jrc),
             GW_WEBHOOK_SIG_MISMATCH, "ID-token rules would want exp");
    CHECK(jrc == GW_JWT_MISSING_CLAIM, gw_jwt_result_code(jrc), "and say so");
    r.signature = NULL;
    CHECK_RC(gw_webhook_sig_jws_body(&policy, &ks, &r, 0, &jrc),
             GW_WEBHOOK_SIG_MISSING, "no header");
    gw_keyset_clear(&ks);
}

static void
test_webhook_sig_result_codes_are_stable_strings(void)
{
    CHECK(strcmp(gw_webhook_sig_result_code(GW_WEBHOOK_SIG_STALE),
                 "stale_timestamp") == 0,
          NULL, "stale_timestamp");
    CHECK(strcmp(gw_webhook_sig_result_code(GW_WEBHOOK_SIG_MISMATCH),
                 "bad_signature") == 0,
          NULL, "bad_signature");
    CHECK(strcmp(gw_webhook_sig_result_code(GW_WEBHOOK_SIG_MISSING),
                 "missing_signature") == 0,
          NULL, "missing_signature");
}

int
main(void)
{
    test_standard_accepts_the_published_vector();
    test_standard_refuses_outside_the_window_on_either_side();
    test_workos_checks_t_and_every_v1();
    test_hmac_body_reads_hex_base64_and_a_prefix();
    test_static_value_must_match_whole();
    test_jws_body_binds_the_body_hash();
    test_webhook_sig_result_codes_are_stable_strings();

    printf("unit.webhook_sig: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
