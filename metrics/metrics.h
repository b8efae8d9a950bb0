/* metrics/metrics.h: counters and gauges, rendered as Prometheus text. */
#ifndef GW_METRICS_METRICS_H
#define GW_METRICS_METRICS_H

#include <stdint.h>

/* Adds delta to the counter name{label_key="label_value"}; label_key may be
 * NULL for an unlabelled counter. Names and label values must be static or
 * outlive the process (they are stored by pointer). Thread-safe. */
void gw_metrics_add(const char *name, const char *label_key,
                    const char *label_value, int64_t delta);

/* Counter name{k1="v1",k2="v2"} += 1, for two labels. */
void gw_metrics_inc2(const char *name, const char *k1, const char *v1,
                     const char *k2, const char *v2);

/* Sets a gauge (same storage; rendered as a gauge). */
void gw_metrics_set(const char *name, int64_t value);

/* Reads a counter or gauge (0 when never touched). */
int64_t gw_metrics_get(const char *name, const char *label_key,
                       const char *label_value);

/* Renders every series as Prometheus text exposition into a new string;
 * caller frees. NULL when out of memory. */
char *gw_metrics_render(void);

#endif
