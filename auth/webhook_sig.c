/* auth/webhook_sig.c: the signature schemes of identity providers' webhooks,
 * checked over the raw body bytes and compared in constant time. */
#include "auth/webhook_sig.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/b64.h"

#define MAC_LEN 32
/* Timestamps longer than this are not times: refused before strtoll. */
#define TIME_DIGITS_MAX 15

struct part {
    const void *data;
    size_t len;
};

static const char *const result_codes[] = {
    [GW_WEBHOOK_SIG_OK] = "ok",
    [GW_WEBHOOK_SIG_MISSING] = "missing_signature",
    [GW_WEBHOOK_SIG_MALFORMED] = "malformed_signature",
    [GW_WEBHOOK_SIG_MISMATCH] = "bad_signature",
    [GW_WEBHOOK_SIG_STALE] = "stale_timestamp",
    [GW_WEBHOOK_SIG_NO_MEMORY] = "no_memory",
};

const char *
gw_webhook_sig_result_code(enum gw_webhook_sig_result rc)
{
    if ((size_t)rc >= sizeof(result_codes) / sizeof(result_codes[0])) {
        return "unknown";
    }
    return result_codes[rc];
}

/* HMAC-SHA256 over the concatenation of parts, without copying them. */
static bool
hmac_parts(const struct gw_secret *key, const struct part *parts, size_t n,
           unsigned char out[MAC_LEN])
{
    OSSL_PARAM params[2];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    size_t out_len = 0;
    bool ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_MAC_init(ctx, key->bytes, key->len, params) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len) == 1;
    }
    ok = ok && EVP_MAC_final(ctx, out, &out_len, MAC_LEN) == 1 &&
         out_len == MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Decodes exactly MAC_LEN bytes of hex. */
static bool
hex_mac(const char *text, size_t len, unsigned char out[MAC_LEN])
{
    if (len != (size_t)2 * MAC_LEN) {
        return false;
    }
    for (size_t i = 0; i < MAC_LEN; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* Decodes standard base64 that must hold exactly MAC_LEN bytes. */
static bool
base64_mac(const char *text, size_t len, unsigned char out[MAC_LEN])
{
    unsigned char *bytes = NULL;
    size_t n = 0;
    bool ok;

    /* 32 bytes are 44 characters with padding; longer is not a MAC. */
    if (len == 0 || len > 44 || !gw_b64_decode(text, len, &bytes, &n)) {
        return false;
    }
    ok = n == MAC_LEN;
    if (ok) {
        memcpy(out, bytes, MAC_LEN);
    }
    free(bytes);
    return ok;
}

static bool
mac_equal(const unsigned char *a, const unsigned char *b)
{
    return CRYPTO_memcmp(a, b, MAC_LEN) == 0;
}

static void
observe_entry(const struct gw_webhook_signed *r, const char *entry, size_t len,
              bool readable, bool matched)
{
    if (r->observer != NULL && r->observer->on_entry_fn != NULL) {
        r->observer->on_entry_fn(r->observer->ctx, entry, len, readable,
                                 matched);
    }
}

static void
observe_time(const struct gw_webhook_signed *r, int64_t signed_ms,
             int64_t now_ms, int64_t tolerance_s, bool fresh)
{
    if (r->observer != NULL && r->observer->on_time_fn != NULL) {
        r->observer->on_time_fn(r->observer->ctx, signed_ms, now_ms,
                                tolerance_s, fresh);
    }
}

enum gw_webhook_sig_result
gw_webhook_sig_static(const struct gw_secret *expected, const char *value)
{
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];

    if (value == NULL || value[0] == '\0') {
        return GW_WEBHOOK_SIG_MISSING;
    }
    SHA256(expected->bytes, expected->len, want);
    SHA256((const unsigned char *)value, strlen(value), got);
    if (CRYPTO_memcmp(want, got, sizeof(want)) != 0) {
        return GW_WEBHOOK_SIG_MISMATCH;
    }
    return GW_WEBHOOK_SIG_OK;
}

enum gw_webhook_sig_result
gw_webhook_sig_hmac_body(const struct gw_secret *key,
                         enum gw_webhook_encoding enc, const char *prefix,
                         const struct gw_webhook_signed *r)
{
    unsigned char want[MAC_LEN], got[MAC_LEN];
    struct part body = {r->body, r->body_len};
    const char *sig = r->signature;
    size_t len, plen = prefix != NULL ? strlen(prefix) : 0;
    bool ok;

    if (sig == NULL || sig[0] == '\0') {
        return GW_WEBHOOK_SIG_MISSING;
    }
    if (plen > 0 && strncmp(sig, prefix, plen) == 0) {
        sig += plen;
    }
    len = strlen(sig);
    ok = enc == GW_WEBHOOK_HEX ? hex_mac(sig, len, got)
                               : base64_mac(sig, len, got);
    if (!ok) {
        observe_entry(r, sig, len, false, false);
        return GW_WEBHOOK_SIG_MALFORMED;
    }
    if (!hmac_parts(key, &body, 1, want)) {
        return GW_WEBHOOK_SIG_NO_MEMORY;
    }
    ok = mac_equal(want, got);
    observe_entry(r, sig, len, true, ok);
    return ok ? GW_WEBHOOK_SIG_OK : GW_WEBHOOK_SIG_MISMATCH;
}

/* A whole decimal number of at most TIME_DIGITS_MAX digits. */
static bool
parse_time(const char *text, size_t len, int64_t *out)
{
    int64_t v = 0;

    if (len == 0 || len > TIME_DIGITS_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
}

static bool
is_fresh(int64_t signed_ms, int64_t now_ms, int64_t tolerance_s)
{
    int64_t skew = now_ms - signed_ms;

    /* Either side: a time in the future is as suspect as an old one. */
    return skew <= tolerance_s * 1000 && -skew <= tolerance_s * 1000;
}

/* Walks "v1,<b64> v1,<b64>" (or joined by ", "): true when an entry of
 * version v1 equals want. *seen counts the v1 entries that decoded. */
static bool
standard_any_match(const struct gw_webhook_signed *r,
                   const unsigned char want[MAC_LEN], size_t *seen)
{
    unsigned char got[MAC_LEN];
    const char *p = r->signature;
    bool match = false;

    for (size_t n = 0; *p != '\0' && n < GW_WEBHOOK_SIG_MAX_ENTRIES; n++) {
        size_t len;

        p += strspn(p, " ");
        len = strcspn(p, " ");
        if (len > 0 && p[len - 1] == ',') {
            len--; /* the comma of Supabase's ", " joiner */
        }
        /* Every entry is decoded and compared, matched or not, so the
         * time taken does not say which entry matched. */
        if (len > 3 && strncmp(p, "v1,", 3) == 0 &&
            base64_mac(p + 3, len - 3, got)) {
            bool equal = mac_equal(want, got);

            (*seen)++;
            match = equal || match;
            observe_entry(r, p, len, true, equal);
        } else if (len > 0) {
            observe_entry(r, p, len, false, false);
        }
        p += strcspn(p, " ");
    }
    return match;
}

enum gw_webhook_sig_result
gw_webhook_sig_standard(const struct gw_secret *key,
                        const struct gw_webhook_signed *r, int64_t now_ms,
                        int64_t tolerance_s)
{
    unsigned char want[MAC_LEN];
    struct part parts[5];
    size_t seen = 0;
    int64_t ts;

    if (r->signature == NULL || r->id == NULL || r->timestamp == NULL ||
        r->signature[0] == '\0') {
        return GW_WEBHOOK_SIG_MISSING;
    }
    if (!parse_time(r->timestamp, strlen(r->timestamp), &ts) ||
        r->id[0] == '\0') {
        return GW_WEBHOOK_SIG_MALFORMED;
    }
    parts[0] = (struct part){r->id, strlen(r->id)};
    parts[1] = (struct part){".", 1};
    parts[2] = (struct part){r->timestamp, strlen(r->timestamp)};
    parts[3] = (struct part){".", 1};
    parts[4] = (struct part){r->body, r->body_len};
    if (!hmac_parts(key, parts, 5, want)) {
        return GW_WEBHOOK_SIG_NO_MEMORY;
    }
    if (!standard_any_match(r, want, &seen)) {
        return seen == 0 ? GW_WEBHOOK_SIG_MALFORMED : GW_WEBHOOK_SIG_MISMATCH;
    }
    /* Freshness is judged only for an authentic message: a forger learns
     * nothing about the window. */
    if (ts > INT64_MAX / 1000) {
        return GW_WEBHOOK_SIG_STALE;
    }
    if (!is_fresh(ts * 1000, now_ms, tolerance_s)) {
        observe_time(r, ts * 1000, now_ms, tolerance_s, false);
        return GW_WEBHOOK_SIG_STALE;
    }
    observe_time(r, ts * 1000, now_ms, tolerance_s, true);
    return GW_WEBHOOK_SIG_OK;
}

/* The items of "t=<ms>, v1=<hex>[, v1=<hex>]": the t text and whether any
 * v1 equals the HMAC under key. */
struct workos_header {
    const char *t;
    size_t t_len;
    const char *v1[GW_WEBHOOK_SIG_MAX_ENTRIES];
    size_t v1_len[GW_WEBHOOK_SIG_MAX_ENTRIES];
    size_t v1_count;
};

static bool
workos_parse(const char *header, struct workos_header *h)
{
    const char *p = header;

    memset(h, 0, sizeof(*h));
    while (*p != '\0') {
        size_t len;

        p += strspn(p, " ,");
        len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ') {
            len--;
        }
        if (len > 2 && strncmp(p, "t=", 2) == 0 && h->t == NULL) {
            h->t = p + 2;
            h->t_len = len - 2;
        } else if (len > 3 && strncmp(p, "v1=", 3) == 0 &&
                   h->v1_count < GW_WEBHOOK_SIG_MAX_ENTRIES) {
            h->v1[h->v1_count] = p + 3;
            h->v1_len[h->v1_count++] = len - 3;
        }
        p += strcspn(p, ",");
    }
    return h->t != NULL && h->v1_count > 0;
}

enum gw_webhook_sig_result
gw_webhook_sig_workos(const struct gw_secret *key,
                      const struct gw_webhook_signed *r, int64_t now_ms,
                      int64_t tolerance_s)
{
    unsigned char want[MAC_LEN], got[MAC_LEN];
    struct workos_header h;
    struct part parts[3];
    bool match = false;
    int64_t t;

    if (r->signature == NULL || r->signature[0] == '\0') {
        return GW_WEBHOOK_SIG_MISSING;
    }
    if (!workos_parse(r->signature, &h) || !parse_time(h.t, h.t_len, &t)) {
        return GW_WEBHOOK_SIG_MALFORMED;
    }
    parts[0] = (struct part){h.t, h.t_len};
    parts[1] = (struct part){".", 1};
    parts[2] = (struct part){r->body, r->body_len};
    if (!hmac_parts(key, parts, 3, want)) {
        return GW_WEBHOOK_SIG_NO_MEMORY;
    }
    for (size_t i = 0; i < h.v1_count; i++) {
        bool readable = hex_mac(h.v1[i], h.v1_len[i], got);
        bool equal = readable && mac_equal(want, got);

        match = equal || match;
        observe_entry(r, h.v1[i], h.v1_len[i], readable, equal);
    }
    if (!match) {
        return GW_WEBHOOK_SIG_MISMATCH;
    }
    match = is_fresh(t, now_ms, tolerance_s);
    observe_time(r, t, now_ms, tolerance_s, match);
    return match ? GW_WEBHOOK_SIG_OK : GW_WEBHOOK_SIG_STALE;
}

enum gw_webhook_sig_result
gw_webhook_sig_jws_body(const struct gw_jwt_policy *policy,
                        const struct gw_keyset *keys,
                        const struct gw_webhook_signed *r, int64_t now_ms,
                        enum gw_jwt_result *jwt_rc)
{
    unsigned char digest[SHA256_DIGEST_LENGTH], claimed[MAC_LEN];
    struct gw_jwt_verified v;
    struct json_object *hash;
    enum gw_webhook_sig_result rc = GW_WEBHOOK_SIG_MISMATCH;

    *jwt_rc = GW_JWT_OK;
    if (r->signature == NULL || r->signature[0] == '\0') {
        return GW_WEBHOOK_SIG_MISSING;
    }
    *jwt_rc = gw_jwt_verify(policy, keys, r->signature, strlen(r->signature),
                            now_ms, &v);
    if (*jwt_rc == GW_JWT_NO_MEMORY) {
        return GW_WEBHOOK_SIG_NO_MEMORY;
    }
    if (*jwt_rc != GW_JWT_OK) {
        return *jwt_rc == GW_JWT_MALFORMED ? GW_WEBHOOK_SIG_MALFORMED
                                           : GW_WEBHOOK_SIG_MISMATCH;
    }
    SHA256((const unsigned char *)r->body, r->body_len, digest);
    if (json_object_object_get_ex(v.claims, "request_body_sha256", &hash) &&
        json_object_is_type(hash, json_type_string) &&
        base64_mac(json_object_get_string(hash),
                   (size_t)json_object_get_string_len(hash), claimed) &&
        mac_equal(digest, claimed)) {
        rc = GW_WEBHOOK_SIG_OK;
    }
    gw_jwt_verified_clear(&v);
    return rc;
}

struct gw_secret *
gw_webhook_secret_decode(const char *text)
{
    unsigned char *bytes = NULL;
    struct gw_secret *secret;
    size_t len = 0;

    if (strncmp(text, "v1,", 3) == 0) {
        text += 3;
    }
    if (strncmp(text, "whsec_", 6) != 0 ||
        !gw_b64_decode(text + 6, strlen(text + 6), &bytes, &len)) {
        return NULL;
    }
    secret = len > 0 ? gw_secret_new(bytes, len) : NULL;
    OPENSSL_cleanse(bytes, len);
    free(bytes);
    return secret;
}
