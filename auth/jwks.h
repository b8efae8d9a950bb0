/* auth/jwks.h: signing keys per issuer, fetched over HTTPS (OIDC discovery
 * or a JWKS URL) and refreshed off the request path. */
#ifndef GW_AUTH_JWKS_H
#define GW_AUTH_JWKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/keys.h"

struct gw_jwks;

enum gw_jwks_result {
    GW_JWKS_OK = 0,
    GW_JWKS_NO_KEYS,      /* no key set was ever fetched for the source */
    GW_JWKS_RATE_LIMITED, /* a refetch ran within refetch_interval_ms */
    GW_JWKS_FETCH_FAILED, /* the refetch ran and failed; old keys remain */
    GW_JWKS_NO_MEMORY,
};

/* Where one issuer's keys come from. Strings are borrowed and must outlive
 * the gw_jwks. */
struct gw_jwks_source {
    const char *name;     /* short label for logs and metrics */
    const char *issuer;   /* discovery at <issuer>/.well-known/... */
    const char *jwks_url; /* NULL or "": found through discovery */
    unsigned algs;        /* keys are narrowed to these algorithms */
};

struct gw_jwks_status;

/* Told each fetch's outcome, on the refresh thread, with no lock held
 * (for /readyz). status is valid during the call only. */
typedef void (*gw_jwks_report_fn)(void *ctx,
                                  const struct gw_jwks_status *status);

struct gw_jwks_config {
    const char *ca_file;         /* NULL or "": the system's CA store */
    int64_t min_ttl_ms;          /* Cache-Control max-age is clamped to */
    int64_t max_ttl_ms;          /* [min_ttl_ms, max_ttl_ms] */
    int64_t refetch_interval_ms; /* unknown-kid fetches: at most one per */
    int64_t retry_max_ms;        /* backoff cap after failed fetches */
    long timeout_ms;             /* per HTTPS request */
    size_t max_bytes;            /* largest document accepted */
    gw_jwks_report_fn report;    /* may be NULL */
    void *report_ctx;
};

/* One immutable key set. Readers hold a reference for as long as they
 * verify; the refresh thread swaps in a new one and drops its own. */
struct gw_jwks_snapshot {
    struct gw_keyset keys;
    atomic_int refs; /* private to auth/jwks.c */
};

/* What /readyz and the logs say about one source. */
struct gw_jwks_status {
    const char *name;
    const char *state;      /* "fresh", "stale" or "missing" */
    size_t key_count;
    int64_t age_ms;         /* since the keys were fetched; -1: never */
    int64_t fetches;        /* attempts, including failures */
    int64_t failures;
    const char *last_error; /* static code of the last failure, or NULL */
};

/* Starts the refresh thread, which fetches every source at once and then
 * before its keys expire. Returns NULL with err filled on failure (bad
 * URL, no memory, no thread). The caller owns the result: gw_jwks_free. */
struct gw_jwks *gw_jwks_new(const struct gw_jwks_config *cfg,
                            const struct gw_jwks_source *sources,
                            size_t count, char *err, size_t err_len);

/* Stops the thread and frees everything; accepts NULL. Snapshots still
 * held by callers must have been released before. */
void gw_jwks_free(struct gw_jwks *jwks);

/* Waits until every source has keys or timeout_ms passed; true when all
 * have keys. */
bool gw_jwks_wait_ready(struct gw_jwks *jwks, int64_t timeout_ms);

/* A reference to the source's current keys (NULL: none yet); *stale is
 * set when they are past their lifetime (the provider is unreachable).
 * Release with gw_jwks_release; the keys never change under the caller. */
struct gw_jwks_snapshot *gw_jwks_acquire(struct gw_jwks *jwks, size_t source,
                                         bool *stale);

/* Drops a reference from gw_jwks_acquire; accepts NULL. */
void gw_jwks_release(struct gw_jwks_snapshot *snap);

/* A token named a kid the keys lack: fetches now and waits for it (about
 * the fetch timeout at most). Fetches for unknown kids run at most once per
 * refetch_interval_ms per source, so random kids cannot flood the
 * provider; a caller arriving while one runs waits for that one. */
enum gw_jwks_result gw_jwks_refetch(struct gw_jwks *jwks, size_t source)
    __attribute__((warn_unused_result));

/* Fills out[0..n) for the first n sources (n = min(count, max)); returns
 * the number of sources. */
size_t gw_jwks_status(struct gw_jwks *jwks, struct gw_jwks_status *out,
                      size_t max);

#endif
