/* metrics/metrics.h: counters and gauges, rendered as Prometheus text. */
#ifndef GW_METRICS_METRICS_H
#define GW_METRICS_METRICS_H

#include <stddef.h>
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

/* Adds one observation (seconds) to the histogram name; at most a few
 * histograms exist, all with the same buckets (5 ms to 30 s). */
void gw_metrics_observe(const char *name, double seconds);

/* A static label for an HTTP status ("429"; "0" for no answer, "other"). */
const char *gw_metrics_status_label(long status);

/* Writes "v1=n,v2=m" for the series of name (by first label value) that
 * grew since the previous call, with n the growth, into out; returns the
 * total growth. For one caller at a time (the periodic summary). */
int64_t gw_metrics_delta_text(const char *name, char *out, size_t len);

#endif
