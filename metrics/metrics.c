/* metrics/metrics.c: counters and gauges, rendered as Prometheus text. */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"

/* Limit: a fixed table. Series are few (routes x statuses, reasons); a
 * series past the table's end is dropped and counted in
 * signin_gateway_metrics_dropped_total rather than growing memory. */
#define MAX_SERIES 512

struct series {
    const char *name;
    const char *k1, *v1, *k2, *v2;
    atomic_llong value;
    atomic_llong reported; /* value at the last gw_metrics_delta_text */
    bool gauge;
};

/* What each family means, for the HELP line (Prometheus text format);
 * a family not listed here gets a generic line. */
static const struct {
    const char *name;
    const char *help;
} helps[] = {
    {"signin_gateway_http_requests_total",
     "HTTP requests answered, by route and status"},
    {"signin_gateway_rejections_total",
     "requests refused, by reason (token, signature and body failures)"},
    {"signin_gateway_events_accepted_total",
     "events committed to the spool and acknowledged"},
    {"signin_gateway_events_deduplicated_total",
     "events acknowledged again without being stored (same event id)"},
    {"signin_gateway_events_ignored_total",
     "authentic webhook elements that are not sign-ins"},
    {"signin_gateway_events_forwarded_total",
     "events the upstream answered 2xx for"},
    {"signin_gateway_events_dead_lettered_total",
     "events the upstream refused for good (moved to the dead letters)"},
    {"signin_gateway_webhook_items_total",
     "webhook elements, by provider and outcome"},
    {"signin_gateway_upstream_requests_total",
     "upstream requests, by outcome"},
    {"signin_gateway_upstream_errors_total",
     "upstream requests not answered 2xx, by status (0: no answer)"},
    {"signin_gateway_upstream_key_refused_total",
     "upstream answers 401/403/3xx: the gateway's key or URL is wrong"},
    {"signin_gateway_upstream_request_duration_seconds",
     "time of one upstream request, answer or failure"},
    {"signin_gateway_spool_events", "events waiting in the spool"},
    {"signin_gateway_spool_oldest_event_age_seconds",
     "age of the oldest event waiting in the spool (0: none)"},
    {"signin_gateway_keyset_refreshes_total",
     "key-set loads and refreshes, by set and outcome"},
    {"signin_gateway_reloads_total", "SIGHUP reloads, by outcome"},
    {"signin_gateway_metrics_dropped_total",
     "series not recorded because the table was full"},
    {"signin_gateway_build_info", "build identity; the value is always 1"},
};

/* Upper bounds (seconds) shared by every histogram. */
static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5,   1,    2.5,   5,    10,  30};
#define BUCKET_COUNT (sizeof(buckets) / sizeof(buckets[0]))
#define MAX_HISTOGRAMS 4

struct histogram {
    const char *name;
    atomic_llong counts[BUCKET_COUNT]; /* per bucket, not cumulative */
    atomic_llong count;
    atomic_llong sum_us;
};

static struct histogram histograms[MAX_HISTOGRAMS];
static atomic_size_t histogram_count;

/* Series are only ever appended: a reader that sees series_count (acquire)
 * sees every entry below it complete, so counting takes no lock; only
 * creating a series does. */
static struct series table[MAX_SERIES];
static atomic_size_t series_count;
static atomic_llong dropped;
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

static bool
same(const char *a, const char *b)
{
    if (a == b) {
        return true;
    }
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static struct series *
lookup(size_t count, const char *name, const char *k1, const char *v1,
       const char *k2, const char *v2)
{
    for (size_t i = 0; i < count; i++) {
        struct series *s = &table[i];

        if (same(s->name, name) && same(s->v1, v1) && same(s->k1, k1) &&
            same(s->v2, v2) && same(s->k2, k2)) {
            return s;
        }
    }
    return NULL;
}

static struct series *
find(const char *name, const char *k1, const char *v1, const char *k2,
     const char *v2, bool create)
{
    size_t count = atomic_load_explicit(&series_count, memory_order_acquire);
    struct series *s = lookup(count, name, k1, v1, k2, v2);

    if (s != NULL || !create) {
        return s;
    }
    pthread_mutex_lock(&create_lock);
    count = atomic_load_explicit(&series_count, memory_order_relaxed);
    s = lookup(count, name, k1, v1, k2, v2);
    if (s == NULL && count < MAX_SERIES) {
        s = &table[count];
        s->name = name;
        s->k1 = k1;
        s->v1 = v1;
        s->k2 = k2;
        s->v2 = v2;
        atomic_store(&s->value, 0);
        atomic_store_explicit(&series_count, count + 1,
                              memory_order_release);
    } else if (s == NULL) {
        atomic_fetch_add(&dropped, 1);
    }
    pthread_mutex_unlock(&create_lock);
    return s;
}

void
gw_metrics_add(const char *name, const char *label_key,
               const char *label_value, int64_t delta)
{
    struct series *s = find(name, label_key, label_value, NULL, NULL, true);

    if (s != NULL) {
        atomic_fetch_add_explicit(&s->value, delta, memory_order_relaxed);
    }
}

void
gw_metrics_inc2(const char *name, const char *k1, const char *v1,
                const char *k2, const char *v2)
{
    struct series *s = find(name, k1, v1, k2, v2, true);

    if (s != NULL) {
        atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
    }
}

void
gw_metrics_set(const char *name, int64_t value)
{
    struct series *s = find(name, NULL, NULL, NULL, NULL, true);

    if (s != NULL) {
        s->gauge = true;
        atomic_store_explicit(&s->value, value, memory_order_relaxed);
    }
}

int64_t
gw_metrics_get(const char *name, const char *label_key,
               const char *label_value)
{
    struct series *s = find(name, label_key, label_value, NULL, NULL, false);

    return s != NULL ? atomic_load(&s->value) : 0;
}

static const char *
help_of(const char *name)
{
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        if (strcmp(helps[i].name, name) == 0) {
            return helps[i].help;
        }
    }
    return "signin-gateway series";
}

static struct histogram *
find_histogram(const char *name)
{
    size_t count = atomic_load_explicit(&histogram_count,
                                        memory_order_acquire);
    struct histogram *h = NULL;

    for (size_t i = 0; i < count; i++) {
        if (strcmp(histograms[i].name, name) == 0) {
            return &histograms[i];
        }
    }
    pthread_mutex_lock(&create_lock);
    count = atomic_load_explicit(&histogram_count, memory_order_relaxed);
    for (size_t i = 0; i < count && h == NULL; i++) {
        if (strcmp(histograms[i].name, name) == 0) {
            h = &histograms[i];
        }
    }
    if (h == NULL && count < MAX_HISTOGRAMS) {
        h = &histograms[count];
        h->name = name;
        atomic_store_explicit(&histogram_count, count + 1,
                              memory_order_release);
    } else if (h == NULL) {
        atomic_fetch_add(&dropped, 1);
    }
    pthread_mutex_unlock(&create_lock);
    return h;
}

void
gw_metrics_observe(const char *name, double seconds)
{
    struct histogram *h = find_histogram(name);
    size_t b = 0;

    if (h == NULL) {
        return;
    }
    if (seconds < 0) {
        seconds = 0;
    }
    while (b < BUCKET_COUNT && seconds > buckets[b]) {
        b++;
    }
    /* The last slot past the buckets is the +Inf bucket's own share. */
    if (b < BUCKET_COUNT) {
        atomic_fetch_add_explicit(&h->counts[b], 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&h->sum_us, (long long)(seconds * 1e6),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

static void
render_histograms(FILE *f)
{
    size_t count = atomic_load_explicit(&histogram_count,
                                        memory_order_acquire);

    for (size_t i = 0; i < count; i++) {
        struct histogram *h = &histograms[i];
        long long total = atomic_load(&h->count), cumulative = 0;

        fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", h->name,
                help_of(h->name), h->name);
        for (size_t b = 0; b < BUCKET_COUNT; b++) {
            cumulative += atomic_load(&h->counts[b]);
            /* Counts move while rendering: never above the total. */
            if (cumulative > total) {
                cumulative = total;
            }
            fprintf(f, "%s_bucket{le=\"%g\"} %lld\n", h->name, buckets[b],
                    cumulative);
        }
        fprintf(f, "%s_bucket{le=\"+Inf\"} %lld\n%s_sum %.6f\n"
                   "%s_count %lld\n",
                h->name, total, h->name,
                (double)atomic_load(&h->sum_us) / 1e6, h->name, total);
    }
}

const char *
gw_metrics_status_label(long status)
{
    static const char *const labels[] = {
        "0",   "200", "202", "204", "301", "302", "307", "308", "400",
        "401", "403", "404", "405", "408", "409", "413", "415", "422",
        "429", "500", "502", "503", "504"};

    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strtol(labels[i], NULL, 10) == status) {
            return labels[i];
        }
    }
    return "other";
}

int64_t
gw_metrics_delta_text(const char *name, char *out, size_t len)
{
    size_t count = atomic_load_explicit(&series_count, memory_order_acquire);
    size_t used = 0;
    int64_t total = 0;

    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        long long now, grew;
        int n;

        if (strcmp(table[i].name, name) != 0) {
            continue;
        }
        now = atomic_load(&table[i].value);
        grew = now - atomic_exchange(&table[i].reported, now);
        if (grew <= 0) {
            continue;
        }
        total += grew;
        n = snprintf(out + used, len - used, "%s%s=%lld", used ? "," : "",
                     table[i].v1 != NULL ? table[i].v1 : "all", grew);
        if (n > 0 && (size_t)n < len - used) {
            used += (size_t)n;
        }
    }
    return total;
}

static void
render_one(FILE *f, struct series *s)
{
    fprintf(f, "%s", s->name);
    if (s->k1 != NULL) {
        fprintf(f, "{%s=\"%s\"", s->k1, s->v1);
        if (s->k2 != NULL) {
            fprintf(f, ",%s=\"%s\"", s->k2, s->v2);
        }
        fputc('}', f);
    }
    fprintf(f, " %lld\n", (long long)atomic_load(&s->value));
}

char *
gw_metrics_render(void)
{
    size_t count = atomic_load_explicit(&series_count, memory_order_acquire);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (f == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        bool first = true;

        /* TYPE once per name, then every series of that name. */
        for (size_t j = 0; j < i && first; j++) {
            first = strcmp(table[j].name, table[i].name) != 0;
        }
        if (!first) {
            continue;
        }
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", table[i].name,
                help_of(table[i].name), table[i].name,
                table[i].gauge ? "gauge" : "counter");
        for (size_t j = i; j < count; j++) {
            if (strcmp(table[j].name, table[i].name) == 0) {
                render_one(f, &table[j]);
            }
        }
    }
    render_histograms(f);
    fprintf(f, "# HELP signin_gateway_metrics_dropped_total %s\n"
               "# TYPE signin_gateway_metrics_dropped_total counter\n"
               "signin_gateway_metrics_dropped_total %lld\n",
            help_of("signin_gateway_metrics_dropped_total"),
            (long long)atomic_load(&dropped));
    fprintf(f, "# HELP signin_gateway_build_info %s\n"
               "# TYPE signin_gateway_build_info gauge\n"
               "signin_gateway_build_info{version=\"%s\"} 1\n",
            help_of("signin_gateway_build_info"), GW_VERSION);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
