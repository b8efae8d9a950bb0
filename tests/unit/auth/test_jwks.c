/* tests/unit/auth/test_jwks.c: the key cache's rules without a provider:
 * Cache-Control within bounds, https only, unknown-kid refetches limited
 * per interval, snapshots that outlive a swap. The provider itself is
 * played by tests/e2e/oidc_jwks.test.mjs. */

/* The source is included (STYLE.md, Tests) to reach its static steps. */
#include "auth/jwks.c"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond, name) check_at((cond), #cond, (name), __LINE__)

static int passed;
static int failed;

static void
check_at(bool ok, const char *what, const char *name, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL line %d: %s [%s]\n", line, what, name);
}

static const struct gw_jwks_config base_cfg = {
    .min_ttl_ms = 60 * 1000,
    .max_ttl_ms = 3600 * 1000,
    .refetch_interval_ms = 60 * 1000,
    .retry_max_ms = 1000,
    .timeout_ms = 1000,
    .max_bytes = 65536,
};

static void
test_jwks_clamps_cache_control_into_bounds(void)
{
    static const struct {
        const char *name;
        const char *header;
        int64_t want_ms;
    } cases[] = {
        {"max-age inside bounds", "public, max-age=600", 600 * 1000},
        {"below the minimum", "max-age=5", 60 * 1000},
        {"above the maximum", "max-age=864000", 3600 * 1000},
        {"no-store takes the minimum", "no-store, max-age=600", 60 * 1000},
        {"no-cache takes the minimum", "max-age=600, no-cache", 60 * 1000},
        {"case and spaces", " Public ,MAX-AGE=120 ", 120 * 1000},
        {"junk max-age ignored", "max-age=12x", 60 * 1000},
        {"negative ignored", "max-age=-5", 60 * 1000},
        {"huge ignored", "max-age=99999999999999999999", 60 * 1000},
        {"none given", "", 60 * 1000},
    };
    struct gw_jwks j = {.cfg = base_cfg};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fetch_buf b = {.max_age_s = -1};

        read_cache_control(cases[i].header, strlen(cases[i].header), &b);
        CHECK(lifetime_ms(&j, &b) == cases[i].want_ms, cases[i].name);
    }
}

static void
test_jwks_reads_cache_control_of_the_last_answer_only(void)
{
    struct fetch_buf b = {.max_age_s = -1};
    char h1[] = "HTTP/1.1 301 Moved\r\n", h2[] = "Cache-Control: max-age=7\r\n";
    char h3[] = "HTTP/1.1 200 OK\r\n", h4[] = "cache-control: max-age=900\r\n";

    on_header(h1, 1, strlen(h1), &b);
    on_header(h2, 1, strlen(h2), &b);
    CHECK(b.max_age_s == 7, "redirect's header read");
    on_header(h3, 1, strlen(h3), &b);
    CHECK(b.max_age_s == -1, "a new answer forgets the redirect's header");
    on_header(h4, 1, strlen(h4), &b);
    CHECK(b.max_age_s == 900, "final answer's header read");
}

static void
test_jwks_refuses_a_body_over_max_bytes(void)
{
    struct fetch_buf b = {.max = 8, .max_age_s = -1};
    char part[] = "12345";

    CHECK(on_body(part, 1, 5, &b) == 5, "first part taken");
    CHECK(on_body(part, 1, 5, &b) == 0, "past max_bytes: stop");
    CHECK(b.too_large, "too_large set");
    CHECK(strcmp(curl_reason(CURLE_WRITE_ERROR, &b), "too_large") == 0,
          "write error named too_large");
    free(b.data);
}

static void
test_jwks_refuses_plain_http_sources(void)
{
    static const struct gw_jwks_source bad[] = {
        {.name = "a", .issuer = "http://127.0.0.1:1"},
        {.name = "b", .issuer = "https://127.0.0.1:1",
         .jwks_url = "http://127.0.0.1:1/keys"},
        {.name = "c", .issuer = "ftp://127.0.0.1/"},
    };
    char err[160];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gw_jwks *j = gw_jwks_new(&base_cfg, &bad[i], 1, err,
                                        sizeof(err));

        CHECK(j == NULL, bad[i].name);
        CHECK(strstr(err, "https") != NULL, "the reason names https");
        gw_jwks_free(j);
    }
}

/* Port 1 on loopback refuses at once: every fetch fails fast. */
static void
test_jwks_limits_unknown_kid_refetches_per_interval(void)
{
    static const struct gw_jwks_source src = {
        .name = "down", .issuer = "https://127.0.0.1:1",
        .jwks_url = "https://127.0.0.1:1/keys", .algs = GW_ALGS_RSA};
    struct gw_jwks_status st;
    char err[160] = "";
    struct gw_jwks *j = gw_jwks_new(&base_cfg, &src, 1, err, sizeof(err));
    bool stale = true;

    CHECK(j != NULL, "created");
    if (j == NULL) {
        return;
    }
    CHECK(!gw_jwks_wait_ready(j, 300), "never ready: the provider is down");
    CHECK(gw_jwks_acquire(j, 0, &stale) == NULL, "no keys to acquire");
    CHECK(!stale, "no keys are not stale keys");
    CHECK(gw_jwks_refetch(j, 0) == GW_JWKS_FETCH_FAILED,
          "first unknown kid: a fetch ran and failed");
    CHECK(gw_jwks_refetch(j, 0) == GW_JWKS_RATE_LIMITED,
          "second within the interval: rate limited");
    CHECK(gw_jwks_refetch(j, 0) == GW_JWKS_RATE_LIMITED,
          "third within the interval: rate limited");
    CHECK(gw_jwks_status(j, &st, 1) == 1, "one source");
    CHECK(strcmp(st.state, "missing") == 0, "state missing");
    CHECK(st.last_error != NULL &&
              strcmp(st.last_error, "connect_failed") == 0,
          "last error connect_failed");
    CHECK(st.failures >= 2 && st.failures == st.fetches, "failures counted");
    gw_jwks_free(j);
}

static void
test_jwks_snapshot_outlives_its_replacement(void)
{
    struct gw_jwks_snapshot *snap = calloc(1, sizeof(*snap));
    char err[64];

    CHECK(snap != NULL, "allocated");
    if (snap == NULL) {
        return;
    }
    atomic_init(&snap->refs, 1);
    CHECK(gw_keyset_add_secret(&snap->keys,
                               "0123456789abcdef0123456789abcdef", 32, "k",
                               GW_ALG_HS256, err, sizeof(err)),
          "a key to hold");
    atomic_fetch_add(&snap->refs, 1); /* a request's reference */
    gw_jwks_release(snap);            /* the cache swapped it out */
    CHECK(snap->keys.count == 1 && strcmp(snap->keys.keys[0].kid, "k") == 0,
          "still readable by the request");
    gw_jwks_release(snap); /* the request ends: freed (LSan checks) */
    gw_jwks_release(NULL);
}

int
main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    gw_log_set_level(GW_LOG_ERROR);
    test_jwks_clamps_cache_control_into_bounds();
    test_jwks_reads_cache_control_of_the_last_answer_only();
    test_jwks_refuses_a_body_over_max_bytes();
    test_jwks_refuses_plain_http_sources();
    test_jwks_limits_unknown_kid_refetches_per_interval();
    test_jwks_snapshot_outlives_its_replacement();
    curl_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
