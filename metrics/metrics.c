/* metrics/metrics.c: counters and gauges, rendered as Prometheus text. */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limit: a fixed table. Series are few (routes x statuses, reasons); a
 * series past the table's end is dropped and counted in
 * signin_gateway_metrics_dropped_total rather than growing memory. */
#define MAX_SERIES 512

struct series {
    const char *name;
    const char *k1, *v1, *k2, *v2;
    atomic_llong value;
    bool gauge;
};

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
        fprintf(f, "# TYPE %s %s\n", table[i].name,
                table[i].gauge ? "gauge" : "counter");
        for (size_t j = i; j < count; j++) {
            if (strcmp(table[j].name, table[i].name) == 0) {
                render_one(f, &table[j]);
            }
        }
    }
    fprintf(f, "# TYPE signin_gateway_metrics_dropped_total counter\n"
               "signin_gateway_metrics_dropped_total %lld\n",
            (long long)atomic_load(&dropped));
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
