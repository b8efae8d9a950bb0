/* tests/unit/forward/test_retry.c: what an upstream answer means, how long
 * the backoff waits, and how a Retry-After header is read. */
#include "forward/retry.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Draws per backoff case: the chance that full jitter over [0, c] never
 * lands in the lower or the upper half in 2000 draws is 2^-2000. */
#define DRAWS 2000

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

static const char *
kind_name(enum gw_retry_kind kind)
{
    switch (kind) {
    case GW_RETRY_DELIVERED:
        return "delivered";
    case GW_RETRY_AGAIN:
        return "again";
    case GW_RETRY_HOLD:
        return "hold";
    case GW_RETRY_REFUSED:
        return "refused";
    }
    return "?";
}

static void
test_classify_sorts_each_status_into_its_kind(void)
{
    static const struct {
        const char *name;
        long status;
        enum gw_retry_kind want;
    } cases[] = {
        {"200 ok", 200, GW_RETRY_DELIVERED},
        {"201 created", 201, GW_RETRY_DELIVERED},
        {"204 no content", 204, GW_RETRY_DELIVERED},
        {"301 moved: our URL is wrong", 301, GW_RETRY_HOLD},
        {"400 bad request", 400, GW_RETRY_REFUSED},
        {"401 our key", 401, GW_RETRY_HOLD},
        {"403 our key", 403, GW_RETRY_HOLD},
        {"404 not found: our URL, held", 404, GW_RETRY_HOLD},
        {"408 request timeout", 408, GW_RETRY_AGAIN},
        {"409 conflict", 409, GW_RETRY_REFUSED},
        {"422 unprocessable", 422, GW_RETRY_REFUSED},
        {"429 too many requests", 429, GW_RETRY_AGAIN},
        {"500 internal error", 500, GW_RETRY_AGAIN},
        {"502 bad gateway", 502, GW_RETRY_AGAIN},
        {"503 unavailable", 503, GW_RETRY_AGAIN},
        {"0 transport error", 0, GW_RETRY_AGAIN},
    };
    char label[96];

    for (size_t i = 0; i < COUNT(cases); i++) {
        enum gw_retry_kind got = gw_retry_classify(cases[i].status);

        snprintf(label, sizeof(label), "classify: want %s, got %s",
                 kind_name(cases[i].want), kind_name(got));
        CHECK(got == cases[i].want, label, cases[i].name);
    }
}

struct backoff_case {
    const char *name;
    unsigned attempt;
    int64_t base_ms;
    int64_t cap_ms;
    int64_t ceiling_ms; /* min(cap, base * 2^attempt) */
};

static void
check_backoff_draws(const struct backoff_case *c)
{
    int64_t lowest = INT64_MAX, highest = INT64_MIN;
    bool in_range = true;

    for (int i = 0; i < DRAWS; i++) {
        int64_t v = gw_retry_backoff_ms(c->attempt, c->base_ms, c->cap_ms);

        in_range = in_range && v >= 0 && v <= c->ceiling_ms;
        lowest = v < lowest ? v : lowest;
        highest = v > highest ? v : highest;
    }
    CHECK(in_range, "backoff: every draw within [0, min(cap, base*2^n)]",
          c->name);
    if (c->ceiling_ms >= 2) {
        /* Full jitter spreads over the whole range, not just its top. */
        CHECK(lowest < c->ceiling_ms / 2, "backoff: some draws low", c->name);
        CHECK(highest > c->ceiling_ms / 2, "backoff: some draws high", c->name);
    } else {
        CHECK(highest <= c->ceiling_ms, "backoff: a tiny ceiling holds",
              c->name);
    }
}

static void
test_backoff_stays_between_zero_and_the_doubled_base_or_the_cap(void)
{
    static const struct backoff_case cases[] = {
        {"attempt 0: base", 0, 200, 30000, 200},
        {"attempt 1: twice the base", 1, 200, 30000, 400},
        {"attempt 3", 3, 200, 30000, 1600},
        {"attempt 7: just under the cap", 7, 200, 30000, 25600},
        {"attempt 8: capped", 8, 200, 30000, 30000},
        {"attempt 1000: capped, no overflow", 1000, 200, 30000, 30000},
        {"attempt UINT_MAX: capped", UINT_MAX, 200, 30000, 30000},
        {"base above the cap: the cap", 0, 5000, 1000, 1000},
        {"largest configured values", 1000, 600000, 3600000, 3600000},
        {"base 1 ms", 0, 1, 30000, 1},
        {"cap equal to base", 5, 300, 300, 300},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        check_backoff_draws(&cases[i]);
    }
}

/* Runs fn in a child, so that a sanitizer abort or a hang (alarm) in the
 * code under test fails one check instead of the whole program. */
static bool
child_succeeds(bool (*fn)(void), unsigned timeout_s)
{
    pid_t pid;
    int status = 0;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        alarm(timeout_s);
        _exit(fn() ? 0 : 1);
    }
    if (waitpid(pid, &status, 0) != pid) {
        return false;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool
draw_with_int64_max_cap(void)
{
    static const unsigned attempts[] = {62, 63, 64, 1000};

    for (size_t i = 0; i < COUNT(attempts); i++) {
        for (int j = 0; j < 100; j++) {
            if (gw_retry_backoff_ms(attempts[i], 1, INT64_MAX) < 0) {
                return false;
            }
        }
    }
    return true;
}

static void
test_backoff_does_not_overflow_with_an_int64_max_cap(void)
{
    /* Doubling toward a cap near INT64_MAX must stop before it overflows,
     * and the jitter range (ceiling + 1) must not wrap either. */
    CHECK(child_succeeds(draw_with_int64_max_cap, 10),
          "backoff: no signed overflow or negative wait with cap INT64_MAX",
          "attempts 62, 63, 64, 1000, base 1");
}

static void
test_backoff_with_a_zero_base_waits_zero(void)
{
    CHECK(gw_retry_backoff_ms(1000, 0, 30000) == 0, "backoff: base 0 gives 0",
          "attempt 1000, base 0");
}

/* An IMF-fixdate (RFC 9110 section 5.6.7) for t, as an upstream sends. */
static void
http_date(time_t t, char *out, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

struct after_case {
    const char *name;
    const char *value;
    int64_t now_ms;
    bool ok;
    int64_t want_ms;
};

static void
check_after(const struct after_case *c)
{
    int64_t wait_ms = -12345;
    bool ok = gw_retry_after_parse(c->value, c->now_ms, &wait_ms);
    char label[128];

    if (!c->ok) {
        CHECK(!ok, "retry-after: refused", c->name);
        return;
    }
    CHECK(ok, "retry-after: accepted", c->name);
    snprintf(label, sizeof(label), "retry-after: want %lld ms, got %lld",
             (long long)c->want_ms, (long long)wait_ms);
    CHECK(ok && wait_ms == c->want_ms, label, c->name);
}

static void
test_retry_after_reads_delay_seconds(void)
{
    static const struct after_case cases[] = {
        {"5 seconds", "5", 0, true, 5000},
        {"5 with spaces around", " 5 ", 0, true, 5000},
        {"0 seconds", "0", 0, true, 0},
        {"120 seconds", "120", 1700000000000, true, 120000},
        {"-1 refused", "-1", 0, false, 0},
        {"abc refused", "abc", 0, false, 0},
        {"empty refused", "", 0, false, 0},
        {"digits then letters refused", "5abc", 0, false, 0},
        {"a fraction refused", "1.5", 0, false, 0},
        {"two numbers refused", "5 5", 0, false, 0},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        check_after(&cases[i]);
    }
}

static void
test_retry_after_reads_an_http_date_relative_to_now(void)
{
    const time_t now_s = 1700000000; /* 2023-11-14T22:13:20Z */
    char ahead[64], past[64];

    http_date(now_s + 10, ahead, sizeof(ahead));
    http_date(now_s - 3600, past, sizeof(past));
    {
        const struct after_case cases[] = {
            {"date 10 s ahead", ahead, (int64_t)now_s * 1000, true, 10000},
            {"date 10 s ahead, now mid-second", ahead,
             (int64_t)now_s * 1000 + 500, true, 9500},
            {"date an hour ago: no wait", past, (int64_t)now_s * 1000, true, 0},
            {"date equal to now", ahead, (int64_t)(now_s + 10) * 1000, true, 0},
        };

        for (size_t i = 0; i < COUNT(cases); i++) {
            check_after(&cases[i]);
        }
    }
}

int
main(void)
{
    test_classify_sorts_each_status_into_its_kind();
    test_backoff_stays_between_zero_and_the_doubled_base_or_the_cap();
    test_backoff_does_not_overflow_with_an_int64_max_cap();
    test_backoff_with_a_zero_base_waits_zero();
    test_retry_after_reads_delay_seconds();
    test_retry_after_reads_an_http_date_relative_to_now();

    printf("unit.retry: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
