/* forward/forward.h: events from the spool to the upstream, batched and
 * retried by one background thread; removed only after a 2xx. */
#ifndef GW_FORWARD_FORWARD_H
#define GW_FORWARD_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forward/sender.h"
#include "forward/spool.h"

struct gw_forward_config {
    struct gw_sender_config sender;
    size_t batch_max;
    int64_t batch_ms;
    int64_t retry_base_ms;
    int64_t retry_max_ms;
};

struct gw_forward;

/* Reads from spool (borrowed: it must outlive the forwarder). NULL with
 * err filled on failure. */
struct gw_forward *gw_forward_new(const struct gw_forward_config *cfg,
                                  struct gw_spool *spool, char *err,
                                  size_t err_len);

/* Starts the forwarder thread; false when it cannot be created. */
bool gw_forward_start(struct gw_forward *fwd)
    __attribute__((warn_unused_result));

/* Delivers what the upstream takes until deadline_ms from now, then stops
 * the thread. What is left stays in the spool for the next start. Returns
 * the events still waiting. */
int64_t gw_forward_stop(struct gw_forward *fwd, int64_t deadline_ms);

void gw_forward_free(struct gw_forward *fwd);

#endif
