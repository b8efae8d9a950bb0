/* auth/jwks.c: signing keys per issuer, fetched over HTTPS (OIDC discovery
 * or a JWKS URL) and refreshed off the request path by one thread. */
#include "auth/jwks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "common/clock.h"
#include "common/json_strict.h"
#include "common/log.h"
#include "common/version.h"
#include "metrics/metrics.h"

#define DISCOVERY_PATH "/.well-known/openid-configuration"
#define RETRY_BASE_MS 500
#define MAX_REDIRECTS 3L
#define NEVER INT64_MIN
#define ERR_LEN 160

/* One HTTPS answer: body bounded by max, Cache-Control read on the way. */
struct fetch_buf {
    char *data;
    size_t len, cap, max;
    bool too_large;
    long max_age_s; /* -1: none given */
    bool no_store;  /* no-cache or no-store: the shortest lifetime */
};

/* State of one issuer's keys. Fields under "lock" are read by request
 * threads; the others belong to the refresh thread alone. */
struct source {
    struct gw_jwks_source cfg;
    /* refresh thread only */
    CURL *curl;
    char *discovered_url; /* jwks_uri of the discovery document */
    int64_t backoff_ms;
    /* under lock */
    struct gw_jwks_snapshot *snap; /* holds one reference */
    int64_t fetched_ms, expires_ms, due_ms; /* monotonic */
    int64_t forced_ms;   /* start of the last unknown-kid fetch */
    bool forced_pending; /* asked for, not yet begun */
    bool forced_running; /* begun, not yet done */
    uint64_t forced_gen; /* unknown-kid fetches completed */
    bool last_ok;
    int64_t fetches, failures;
    const char *last_error;
};

struct gw_jwks {
    struct gw_jwks_config cfg;
    struct source *sources;
    size_t count;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread: work was asked for, or stop */
    pthread_cond_t done; /* waiters: a fetch finished */
    pthread_t thread;
    bool started;
    bool stopping;
};

/* ------------------------------------------------------------ snapshots */

static void
snapshot_free(struct gw_jwks_snapshot *snap)
{
    gw_keyset_clear(&snap->keys);
    free(snap);
}

void
gw_jwks_release(struct gw_jwks_snapshot *snap)
{
    if (snap != NULL && atomic_fetch_sub(&snap->refs, 1) == 1) {
        snapshot_free(snap);
    }
}

struct gw_jwks_snapshot *
gw_jwks_acquire(struct gw_jwks *jwks, size_t source, bool *stale)
{
    struct source *s = &jwks->sources[source];
    struct gw_jwks_snapshot *snap;

    /* The lock only guards the pointer and the count: verification runs
     * on the snapshot after it is released. */
    pthread_mutex_lock(&jwks->lock);
    snap = s->snap;
    if (snap != NULL) {
        atomic_fetch_add(&snap->refs, 1);
    }
    *stale = snap != NULL && gw_clock_mono_ms() >= s->expires_ms;
    pthread_mutex_unlock(&jwks->lock);
    return snap;
}

/* ------------------------------------------------------------ HTTPS */

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct fetch_buf *b = arg;
    size_t len = size * n;
    char *grown;

    if (b->len + len > b->max) {
        b->too_large = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        grown = realloc(b->data, cap);
        if (grown == NULL) {
            return 0;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* RFC 9111 5.2.2.1: max-age=N; no-cache and no-store ask for the shortest
 * lifetime we allow (keys must be cached to verify at all). */
static void
read_cache_control(const char *value, size_t len, struct fetch_buf *b)
{
    char text[256], *tok, *save = NULL;

    snprintf(text, sizeof(text), "%.*s", (int)(len < 255 ? len : 255), value);
    for (tok = strtok_r(text, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        tok[strcspn(tok, " \t\r\n")] = '\0';
        if (strncasecmp(tok, "max-age=", 8) == 0) {
            char *end;
            long v;

            errno = 0;
            v = strtol(tok + 8, &end, 10);
            if (errno == 0 && end != tok + 8 && *end == '\0' && v >= 0) {
                b->max_age_s = v;
            }
        } else if (strcasecmp(tok, "no-cache") == 0 ||
                   strcasecmp(tok, "no-store") == 0) {
            b->no_store = true;
        }
    }
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    struct fetch_buf *b = arg;
    size_t len = size * n;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new answer (after a redirect): its own headers count. */
        b->max_age_s = -1;
        b->no_store = false;
    } else if (len > 14 && strncasecmp(data, "cache-control:", 14) == 0) {
        read_cache_control(data + 14, len - 14, b);
    }
    return len;
}

static bool
setup_request(const struct gw_jwks *j, CURL *h, const char *url,
              struct fetch_buf *b)
{
    const char *ca = j->cfg.ca_file;

    /* https only, redirects too; TLS verification is never turned off. */
    return curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") ==
               CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS) ==
               CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
           (ca == NULL || ca[0] == '\0' ||
            curl_easy_setopt(h, CURLOPT_CAINFO, ca) == CURLE_OK) &&
           curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, j->cfg.timeout_ms) ==
               CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)j->cfg.max_bytes) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_WRITEDATA, b) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) ==
               CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_HEADERDATA, b) == CURLE_OK &&
           curl_easy_setopt(h, CURLOPT_USERAGENT,
                            "signin-gateway/" GW_VERSION) == CURLE_OK;
}

static const char *
curl_reason(CURLcode rc, const struct fetch_buf *b)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return "connect_failed";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return "tls_failed";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "insecure_url";
    case CURLE_FILESIZE_EXCEEDED:
        return "too_large";
    case CURLE_WRITE_ERROR:
        return b->too_large ? "too_large" : "no_memory";
    case CURLE_TOO_MANY_REDIRECTS:
        return "too_many_redirects";
    default:
        return "fetch_failed";
    }
}

/* GETs url into b; NULL on a 200 answer, else a static reason code. The
 * caller frees b->data in both cases. */
static const char *
http_get(const struct gw_jwks *j, struct source *s, const char *url,
         struct fetch_buf *b)
{
    long status = 0;
    CURLcode rc;

    memset(b, 0, sizeof(*b));
    b->max = j->cfg.max_bytes;
    b->max_age_s = -1;
    curl_easy_reset(s->curl); /* keeps the connection for the next call */
    if (!setup_request(j, s->curl, url, b)) {
        return "curl_setup";
    }
    rc = curl_easy_perform(s->curl);
    if (rc != CURLE_OK) {
        return curl_reason(rc, b);
    }
    if (curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status) !=
            CURLE_OK ||
        status != 200) {
        return "http_status";
    }
    if (b->data == NULL) {
        return "empty_body";
    }
    return NULL;
}

/* ------------------------------------------------------------ documents */

/* OIDC Discovery 4 and 4.3: the document lives under the issuer, and its
 * "issuer" must be exactly the one configured, or another party's keys
 * could be taken for this issuer's. */
static const char *
discover(const struct gw_jwks *j, struct source *s)
{
    struct fetch_buf b;
    struct json_object *doc = NULL, *v;
    const char *reason, *uri;
    size_t base_len = strlen(s->cfg.issuer), offset;
    char *url = NULL;

    while (base_len > 0 && s->cfg.issuer[base_len - 1] == '/') {
        base_len--;
    }
    if (asprintf(&url, "%.*s%s", (int)base_len, s->cfg.issuer,
                 DISCOVERY_PATH) < 0) {
        return "no_memory";
    }
    reason = http_get(j, s, url, &b);
    free(url);
    if (reason != NULL) {
        free(b.data);
        return reason;
    }
    reason = "bad_discovery";
    if (gw_json_parse(b.data, b.len, &doc, &offset) != GW_JSON_OK ||
        !json_object_is_type(doc, json_type_object)) {
        goto out;
    }
    if (!json_object_object_get_ex(doc, "issuer", &v) ||
        !json_object_is_type(v, json_type_string) ||
        strcmp(json_object_get_string(v), s->cfg.issuer) != 0) {
        reason = "issuer_mismatch";
        goto out;
    }
    if (!json_object_object_get_ex(doc, "jwks_uri", &v) ||
        !json_object_is_type(v, json_type_string)) {
        goto out;
    }
    uri = json_object_get_string(v);
    if (strncmp(uri, "https://", 8) != 0) {
        reason = "insecure_url";
        goto out;
    }
    free(s->discovered_url);
    s->discovered_url = strdup(uri);
    reason = s->discovered_url == NULL ? "no_memory" : NULL;
out:
    json_object_put(doc);
    free(b.data);
    return reason;
}

static int64_t
lifetime_ms(const struct gw_jwks *j, const struct fetch_buf *b)
{
    int64_t ttl = j->cfg.min_ttl_ms;

    if (!b->no_store && b->max_age_s >= 0) {
        ttl = b->max_age_s > INT64_MAX / 1000 ? INT64_MAX
                                              : (int64_t)b->max_age_s * 1000;
    }
    if (ttl < j->cfg.min_ttl_ms) {
        ttl = j->cfg.min_ttl_ms;
    }
    if (ttl > j->cfg.max_ttl_ms) {
        ttl = j->cfg.max_ttl_ms;
    }
    return ttl;
}

/* Fetches and parses the source's key set (discovering its URL first when
 * needed). NULL with *out and *ttl_ms set, else a static reason code. */
static const char *
fetch_keys(const struct gw_jwks *j, struct source *s,
           struct gw_jwks_snapshot **out, int64_t *ttl_ms, char *detail)
{
    const char *url = s->cfg.jwks_url, *reason = NULL;
    struct gw_jwks_snapshot *snap;
    struct fetch_buf b;

    if (url == NULL || url[0] == '\0') {
        if (s->discovered_url == NULL) {
            reason = discover(j, s);
            if (reason != NULL) {
                return reason;
            }
        }
        url = s->discovered_url;
    }
    reason = http_get(j, s, url, &b);
    if (reason != NULL) {
        /* The provider may have moved its keys: discover again. */
        free(s->discovered_url);
        s->discovered_url = NULL;
        free(b.data);
        return reason;
    }
    snap = calloc(1, sizeof(*snap));
    if (snap == NULL) {
        free(b.data);
        return "no_memory";
    }
    atomic_init(&snap->refs, 1);
    /* A published key set never holds a shared secret: HS* stays off. */
    if (!gw_keyset_add_jwks(&snap->keys, b.data, b.len,
                            s->cfg.algs & ~GW_ALGS_HMAC, detail, ERR_LEN)) {
        reason = "bad_jwks";
    } else if (snap->keys.count == 0) {
        reason = "no_usable_keys";
    }
    if (reason != NULL) {
        snapshot_free(snap);
        free(b.data);
        return reason;
    }
    *ttl_ms = lifetime_ms(j, &b);
    *out = snap;
    free(b.data);
    return NULL;
}

/* ------------------------------------------------------------ the thread */

static bool
same_kids(const struct gw_keyset *a, const struct gw_keyset *b)
{
    if (a->count != b->count) {
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        const char *x = a->keys[i].kid, *y = b->keys[i].kid;

        if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0)) {
            return false;
        }
    }
    return true;
}

static void
log_success(const struct source *s, const struct gw_jwks_snapshot *old,
            const struct gw_jwks_snapshot *snap, int64_t ttl_ms)
{
    bool changed = old == NULL || !same_kids(&old->keys, &snap->keys);

    /* A new or rotated key set is a rare change (info); the same keys
     * fetched again are detail (debug). */
    gw_log(changed ? GW_LOG_INFO : GW_LOG_DEBUG, "auth",
           old == NULL ? "jwks_loaded"
                       : (changed ? "jwks_rotated" : "jwks_refreshed"),
           GW_F_STR("issuer", s->cfg.name),
           GW_F_INT("keys", snap->keys.count),
           GW_F_INT("skipped", snap->keys.skipped),
           GW_F_INT("ttl_s", ttl_ms / 1000), GW_F_END);
}

static void
log_failure(const struct source *s, const char *reason, const char *detail,
            int64_t retry_ms)
{
    /* With keys still cached the gateway works on (warn); without any,
     * this issuer's sign-ins cannot be verified (error). */
    gw_log(s->snap != NULL ? GW_LOG_WARN : GW_LOG_ERROR, "auth",
           s->snap != NULL ? "jwks_refresh_failed" : "jwks_unavailable",
           GW_F_STR("issuer", s->cfg.name), GW_F_STR("reason", reason),
           GW_F_STR("detail", detail[0] != '\0' ? detail : NULL),
           GW_F_BOOL("serving_cached_keys", s->snap != NULL),
           GW_F_INT("retry_ms", retry_ms), GW_F_END);
}

/* Records a fetch's outcome; called with the lock held. Returns the old
 * snapshot, to be released once the lock is dropped. */
static struct gw_jwks_snapshot *
apply_result(struct gw_jwks *j, struct source *s, const char *reason,
             const char *detail, struct gw_jwks_snapshot *snap,
             int64_t ttl_ms)
{
    int64_t now = gw_clock_mono_ms();
    struct gw_jwks_snapshot *old = NULL;

    s->fetches++;
    s->last_ok = reason == NULL;
    gw_metrics_inc2("signin_gateway_jwks_fetches_total", "issuer",
                    s->cfg.name, "outcome", reason != NULL ? reason : "ok");
    if (reason == NULL) {
        log_success(s, s->snap, snap, ttl_ms);
        old = s->snap;
        s->snap = snap;
        s->fetched_ms = now;
        s->expires_ms = now + ttl_ms;
        /* Refreshed before expiry, so requests never meet stale keys
         * while the provider answers. */
        s->due_ms = now + ttl_ms - ttl_ms / 5;
        s->backoff_ms = 0;
        s->last_error = NULL;
        return old;
    }
    s->failures++;
    s->last_error = reason;
    s->backoff_ms = s->backoff_ms == 0 ? RETRY_BASE_MS : s->backoff_ms * 2;
    if (s->backoff_ms > j->cfg.retry_max_ms) {
        s->backoff_ms = j->cfg.retry_max_ms;
    }
    s->due_ms = now + s->backoff_ms;
    log_failure(s, reason, detail, s->backoff_ms);
    return NULL;
}

static void
update_gauges(const struct gw_jwks *j)
{
    int64_t now = gw_clock_mono_ms(), stale = 0, missing = 0;

    for (size_t i = 0; i < j->count; i++) {
        const struct source *s = &j->sources[i];

        missing += s->snap == NULL;
        stale += s->snap != NULL && now >= s->expires_ms;
    }
    gw_metrics_set("signin_gateway_jwks_sources_stale", stale);
    gw_metrics_set("signin_gateway_jwks_sources_missing", missing);
}

static void
fill_status(const struct source *s, int64_t now, struct gw_jwks_status *out)
{
    *out = (struct gw_jwks_status){
        .name = s->cfg.name,
        .state = s->snap == NULL ? "missing"
                                 : (now >= s->expires_ms ? "stale" : "fresh"),
        .key_count = s->snap != NULL ? s->snap->keys.count : 0,
        .age_ms = s->snap != NULL ? now - s->fetched_ms : -1,
        .fetches = s->fetches,
        .failures = s->failures,
        .last_error = s->last_error,
    };
}

/* The source to fetch now (an unknown-kid request first), or count when
 * none is due; *next_ms is then the earliest due time. */
static size_t
pick_due(struct gw_jwks *j, int64_t now, int64_t *next_ms)
{
    size_t due = j->count;

    *next_ms = INT64_MAX;
    for (size_t i = 0; i < j->count; i++) {
        struct source *s = &j->sources[i];

        if (s->forced_pending) {
            return i;
        }
        if (s->due_ms <= now && due == j->count) {
            due = i;
        }
        if (s->due_ms < *next_ms) {
            *next_ms = s->due_ms;
        }
    }
    return due;
}

static void
wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t mono_ms)
{
    struct timespec ts;

    if (mono_ms == INT64_MAX) {
        pthread_cond_wait(cond, lock);
        return;
    }
    ts.tv_sec = (time_t)(mono_ms / 1000);
    ts.tv_nsec = (long)(mono_ms % 1000) * 1000000L;
    (void)pthread_cond_timedwait(cond, lock, &ts);
}

/* Runs with the lock held; drops it for the network and the report. */
static void
fetch_one(struct gw_jwks *j, struct source *s)
{
    struct gw_jwks_snapshot *snap = NULL, *old;
    struct gw_jwks_status st;
    char detail[ERR_LEN] = "";
    const char *reason;
    int64_t ttl_ms = 0;
    bool forced = s->forced_pending;

    s->forced_pending = false;
    s->forced_running = forced;
    pthread_mutex_unlock(&j->lock);
    reason = fetch_keys(j, s, &snap, &ttl_ms, detail);
    pthread_mutex_lock(&j->lock);
    old = apply_result(j, s, reason, detail, snap, ttl_ms);
    if (forced) {
        s->forced_running = false;
        s->forced_gen++;
    }
    update_gauges(j);
    fill_status(s, gw_clock_mono_ms(), &st);
    pthread_cond_broadcast(&j->done);
    pthread_mutex_unlock(&j->lock);
    /* Requests may still verify with the old keys: the last one frees
     * them. */
    gw_jwks_release(old);
    if (j->cfg.report != NULL) {
        j->cfg.report(j->cfg.report_ctx, &st);
    }
    pthread_mutex_lock(&j->lock);
}

static void *
run(void *arg)
{
    struct gw_jwks *j = arg;
    int64_t next_ms;
    size_t i;

    pthread_mutex_lock(&j->lock);
    while (!j->stopping) {
        i = pick_due(j, gw_clock_mono_ms(), &next_ms);
        if (i == j->count) {
            wait_until(&j->wake, &j->lock, next_ms);
            continue;
        }
        fetch_one(j, &j->sources[i]);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* ------------------------------------------------------------ public */

enum gw_jwks_result
gw_jwks_refetch(struct gw_jwks *jwks, size_t source)
{
    struct source *s = &jwks->sources[source];
    int64_t now = gw_clock_mono_ms();
    int64_t deadline = now + 2 * (int64_t)jwks->cfg.timeout_ms + 1000;
    const char *outcome = "joined";
    enum gw_jwks_result rc;
    uint64_t gen;

    pthread_mutex_lock(&jwks->lock);
    if (!s->forced_pending && !s->forced_running) {
        if (s->forced_ms != NEVER &&
            now - s->forced_ms < jwks->cfg.refetch_interval_ms) {
            pthread_mutex_unlock(&jwks->lock);
            gw_metrics_inc2("signin_gateway_jwks_refetch_total", "issuer",
                            s->cfg.name, "outcome", "rate_limited");
            return GW_JWKS_RATE_LIMITED;
        }
        s->forced_ms = now;
        s->forced_pending = true;
        outcome = "fetched";
        pthread_cond_signal(&jwks->wake);
    }
    /* Whether this caller started the fetch or joined one under way, it
     * waits for that fetch to end: the next completed generation. */
    gen = s->forced_gen;
    while (s->forced_gen == gen && !jwks->stopping &&
           gw_clock_mono_ms() < deadline) {
        wait_until(&jwks->done, &jwks->lock, deadline);
    }
    rc = s->forced_gen != gen && s->last_ok ? GW_JWKS_OK
                                            : GW_JWKS_FETCH_FAILED;
    pthread_mutex_unlock(&jwks->lock);
    gw_metrics_inc2("signin_gateway_jwks_refetch_total", "issuer", s->cfg.name,
                    "outcome", outcome);
    return rc;
}

static bool
all_have_keys(const struct gw_jwks *j)
{
    for (size_t i = 0; i < j->count; i++) {
        if (j->sources[i].snap == NULL) {
            return false;
        }
    }
    return true;
}

bool
gw_jwks_wait_ready(struct gw_jwks *jwks, int64_t timeout_ms)
{
    int64_t deadline = gw_clock_mono_ms() + timeout_ms;
    bool ready;

    pthread_mutex_lock(&jwks->lock);
    while (!all_have_keys(jwks) && gw_clock_mono_ms() < deadline) {
        wait_until(&jwks->done, &jwks->lock, deadline);
    }
    ready = all_have_keys(jwks);
    pthread_mutex_unlock(&jwks->lock);
    return ready;
}

size_t
gw_jwks_status(struct gw_jwks *jwks, struct gw_jwks_status *out, size_t max)
{
    int64_t now = gw_clock_mono_ms();

    pthread_mutex_lock(&jwks->lock);
    for (size_t i = 0; i < jwks->count && i < max; i++) {
        fill_status(&jwks->sources[i], now, &out[i]);
    }
    pthread_mutex_unlock(&jwks->lock);
    return jwks->count;
}

static bool
check_source(const struct gw_jwks_source *src, char *err, size_t err_len)
{
    const char *url = src->jwks_url != NULL && src->jwks_url[0] != '\0'
                          ? src->jwks_url
                          : src->issuer;

    if (url == NULL || strncmp(url, "https://", 8) != 0) {
        snprintf(err, err_len, "issuer %s: keys are fetched over https "
                 "only: '%.80s'", src->name, url != NULL ? url : "");
        return false;
    }
    return true;
}

static bool
init_sync(struct gw_jwks *j)
{
    pthread_condattr_t attr;
    bool ok;

    if (pthread_condattr_init(&attr) != 0) {
        return false;
    }
    /* Waits are measured on the monotonic clock, as every deadline is. */
    ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
         pthread_mutex_init(&j->lock, NULL) == 0;
    if (ok && pthread_cond_init(&j->wake, &attr) != 0) {
        pthread_mutex_destroy(&j->lock);
        ok = false;
    }
    if (ok && pthread_cond_init(&j->done, &attr) != 0) {
        pthread_cond_destroy(&j->wake);
        pthread_mutex_destroy(&j->lock);
        ok = false;
    }
    pthread_condattr_destroy(&attr);
    return ok;
}

static void
free_sources(struct gw_jwks *j)
{
    for (size_t i = 0; i < j->count; i++) {
        struct source *s = &j->sources[i];

        if (s->curl != NULL) {
            curl_easy_cleanup(s->curl);
        }
        free(s->discovered_url);
        gw_jwks_release(s->snap);
    }
    free(j->sources);
}

static bool
init_sources(struct gw_jwks *j, const struct gw_jwks_source *sources,
             char *err, size_t err_len)
{
    for (size_t i = 0; i < j->count; i++) {
        struct source *s = &j->sources[i];

        s->cfg = sources[i];
        s->forced_ms = NEVER;
        if (!check_source(&sources[i], err, err_len)) {
            return false;
        }
        s->curl = curl_easy_init();
        if (s->curl == NULL) {
            snprintf(err, err_len, "cannot create a libcurl handle");
            return false;
        }
    }
    return true;
}

struct gw_jwks *
gw_jwks_new(const struct gw_jwks_config *cfg,
            const struct gw_jwks_source *sources, size_t count, char *err,
            size_t err_len)
{
    struct gw_jwks *j = calloc(1, sizeof(*j));

    if (j == NULL ||
        (j->sources = calloc(count > 0 ? count : 1, sizeof(*j->sources))) ==
            NULL) {
        snprintf(err, err_len, "out of memory");
        free(j);
        return NULL;
    }
    j->cfg = *cfg;
    j->count = count;
    if (!init_sources(j, sources, err, err_len)) {
        free_sources(j);
        free(j);
        return NULL;
    }
    if (!init_sync(j)) {
        snprintf(err, err_len, "cannot create the JWKS locks");
        free_sources(j);
        free(j);
        return NULL;
    }
    if (pthread_create(&j->thread, NULL, run, j) != 0) {
        snprintf(err, err_len, "cannot start the JWKS refresh thread");
        gw_jwks_free(j);
        return NULL;
    }
    j->started = true;
    return j;
}

void
gw_jwks_free(struct gw_jwks *jwks)
{
    if (jwks == NULL) {
        return;
    }
    if (jwks->started) {
        pthread_mutex_lock(&jwks->lock);
        jwks->stopping = true;
        pthread_cond_signal(&jwks->wake);
        pthread_cond_broadcast(&jwks->done);
        pthread_mutex_unlock(&jwks->lock);
        pthread_join(jwks->thread, NULL);
    }
    free_sources(jwks);
    pthread_cond_destroy(&jwks->done);
    pthread_cond_destroy(&jwks->wake);
    pthread_mutex_destroy(&jwks->lock);
    free(jwks);
}
