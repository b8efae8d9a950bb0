/* metrics/metrics.c: counters and gauges, rendered as Prometheus text. */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limit: a fixed table. Series are few (routes x statuses, reasons); a
 * series past the table's end is dropped and counted in
 * gateway_metrics_dropped_total rather than growing memory on input. */
#define MAX_SERIES 512

struct series {
    const char *name;
    const char *k1, *v1, *k2, *v2;
    int64_t value;
    bool gauge;
};

static struct series table[MAX_SERIES];
static size_t series_count;
static int64_t dropped;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool
same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return a == b || strcmp(a, b) == 0;
}

static struct series *
find(const char *name, const char *k1, const char *v1, const char *k2,
     const char *v2, bool create)
{
    for (size_t i = 0; i < series_count; i++) {
        struct series *s = &table[i];

        if (same(s->name, name) && same(s->k1, k1) && same(s->v1, v1) &&
            same(s->k2, k2) && same(s->v2, v2)) {
            return s;
        }
    }
    if (!create) {
        return NULL;
    }
    if (series_count == MAX_SERIES) {
        dropped++;
        return NULL;
    }
    table[series_count] = (struct series){name, k1, v1, k2, v2, 0, false};
    return &table[series_count++];
}

void
gw_metrics_add(const char *name, const char *label_key,
               const char *label_value, int64_t delta)
{
    struct series *s;

    pthread_mutex_lock(&lock);
    s = find(name, label_key, label_value, NULL, NULL, true);
    if (s != NULL) {
        s->value += delta;
    }
    pthread_mutex_unlock(&lock);
}

void
gw_metrics_inc2(const char *name, const char *k1, const char *v1,
                const char *k2, const char *v2)
{
    struct series *s;

    pthread_mutex_lock(&lock);
    s = find(name, k1, v1, k2, v2, true);
    if (s != NULL) {
        s->value++;
    }
    pthread_mutex_unlock(&lock);
}

void
gw_metrics_set(const char *name, int64_t value)
{
    struct series *s;

    pthread_mutex_lock(&lock);
    s = find(name, NULL, NULL, NULL, NULL, true);
    if (s != NULL) {
        s->value = value;
        s->gauge = true;
    }
    pthread_mutex_unlock(&lock);
}

int64_t
gw_metrics_get(const char *name, const char *label_key,
               const char *label_value)
{
    struct series *s;
    int64_t v = 0;

    pthread_mutex_lock(&lock);
    s = find(name, label_key, label_value, NULL, NULL, false);
    if (s != NULL) {
        v = s->value;
    }
    pthread_mutex_unlock(&lock);
    return v;
}

static void
render_one(FILE *f, const struct series *s)
{
    fprintf(f, "%s", s->name);
    if (s->k1 != NULL) {
        fprintf(f, "{%s=\"%s\"", s->k1, s->v1);
        if (s->k2 != NULL) {
            fprintf(f, ",%s=\"%s\"", s->k2, s->v2);
        }
        fputc('}', f);
    }
    fprintf(f, " %lld\n", (long long)s->value);
}

char *
gw_metrics_render(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (f == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < series_count; i++) {
        bool first = true;

        /* TYPE once per name, before its first series. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(table[j].name, table[i].name) == 0) {
                first = false;
                break;
            }
        }
        if (!first) {
            continue;
        }
        fprintf(f, "# TYPE %s %s\n", table[i].name,
                table[i].gauge ? "gauge" : "counter");
        for (size_t j = i; j < series_count; j++) {
            if (strcmp(table[j].name, table[i].name) == 0) {
                render_one(f, &table[j]);
            }
        }
    }
    fprintf(f, "# TYPE gateway_metrics_dropped_total counter\n"
               "gateway_metrics_dropped_total %lld\n", (long long)dropped);
    pthread_mutex_unlock(&lock);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
