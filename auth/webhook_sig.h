/* auth/webhook_sig.h: the signature schemes of identity providers' webhooks,
 * checked over the raw body bytes and compared in constant time. */
#ifndef GW_AUTH_WEBHOOK_SIG_H
#define GW_AUTH_WEBHOOK_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "auth/keys.h"
#include "common/secret.h"

enum gw_webhook_sig_result {
    GW_WEBHOOK_SIG_OK = 0,
    GW_WEBHOOK_SIG_MISSING,   /* no signature (or id, timestamp) header */
    GW_WEBHOOK_SIG_MALFORMED, /* a header that no scheme could read */
    GW_WEBHOOK_SIG_MISMATCH,  /* no listed signature matches the body */
    GW_WEBHOOK_SIG_STALE,     /* authentic, but outside the time window */
    GW_WEBHOOK_SIG_NO_MEMORY,
};

/* How a body HMAC is written in its header. */
enum gw_webhook_encoding { GW_WEBHOOK_HEX = 0, GW_WEBHOOK_BASE64 };

/* Watches a check's steps for `verify`; the gateway passes none. Entries
 * are borrowed signature text (never to be printed whole). */
struct gw_webhook_sig_observer {
    void (*on_entry_fn)(void *ctx, const char *entry, size_t len, bool readable,
                        bool matched);
    void (*on_time_fn)(void *ctx, int64_t signed_ms, int64_t now_ms,
                       int64_t tolerance_s, bool fresh);
    void *ctx;
};

/* One request as received: borrowed pointers; a NULL header is absent. */
struct gw_webhook_signed {
    const char *body;
    size_t body_len;
    const char *signature; /* the signature header's value */
    const char *id;        /* svix-id / webhook-id (Standard Webhooks) */
    const char *timestamp; /* svix-timestamp / webhook-timestamp */
    const struct gw_webhook_sig_observer *observer; /* NULL: none */
};

/* Most signature entries tried in one header: a rotation sends two or
 * three; more is an attempt to make the gateway spend CPU. */
#define GW_WEBHOOK_SIG_MAX_ENTRIES 16

/* Compares the header value with the configured one (Auth0 log streams,
 * Okta event hooks: a shared value, nothing signed). Both sides are hashed
 * first so that the time taken says nothing of either length. */
enum gw_webhook_sig_result
gw_webhook_sig_static(const struct gw_secret *expected, const char *value)
    __attribute__((warn_unused_result));

/* HMAC-SHA256 of the body alone (Keycloak's Phase Two sender, Logto, the
 * custom provider), in hex (any case) or standard base64, after an optional
 * prefix such as "sha256=" (a value without the prefix is read too). */
enum gw_webhook_sig_result
gw_webhook_sig_hmac_body(const struct gw_secret *key,
                         enum gw_webhook_encoding enc, const char *prefix,
                         const struct gw_webhook_signed *r)
    __attribute__((warn_unused_result));

/* Standard Webhooks / Svix: HMAC-SHA256 over "<id>.<timestamp>.<body>",
 * a list of "v1,<base64>" entries separated by spaces (or ", " as
 * Supabase joins them); any v1 entry may match, other versions are
 * skipped. Then the timestamp (unix seconds) must be within tolerance_s
 * of now_ms on either side. */
enum gw_webhook_sig_result gw_webhook_sig_standard(
    const struct gw_secret *key, const struct gw_webhook_signed *r,
    int64_t now_ms, int64_t tolerance_s) __attribute__((warn_unused_result));

/* WorkOS: "t=<epoch ms>, v1=<hex>" (items may repeat), HMAC-SHA256 over
 * "<t>.<body>"; then t within tolerance_s of now_ms on either side. */
enum gw_webhook_sig_result
gw_webhook_sig_workos(const struct gw_secret *key,
                      const struct gw_webhook_signed *r, int64_t now_ms,
                      int64_t tolerance_s) __attribute__((warn_unused_result));

/* FusionAuth: the signature header is a JWS verified with keys under
 * policy, whose claim request_body_sha256 must be the standard base64
 * SHA-256 of the body. *jwt_rc receives the token check's own result (for
 * a debug log line). */
enum gw_webhook_sig_result gw_webhook_sig_jws_body(
    const struct gw_jwt_policy *policy, const struct gw_keyset *keys,
    const struct gw_webhook_signed *r, int64_t now_ms,
    enum gw_jwt_result *jwt_rc) __attribute__((warn_unused_result));

/* Reads a Svix / Standard Webhooks secret as its dashboards show it:
 * "whsec_<base64>", optionally after "v1," (Supabase). Returns the key
 * bytes (gw_secret_free), or NULL when the text is not of that form or
 * memory ran out. */
struct gw_secret *gw_webhook_secret_decode(const char *text);

/* Stable snake_case code of a result ("bad_signature"). */
const char *gw_webhook_sig_result_code(enum gw_webhook_sig_result rc);

#endif
