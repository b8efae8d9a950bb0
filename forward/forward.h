/* forward/forward.h: accepted events to the upstream, batched and retried
 * by one background thread. */
#ifndef GW_FORWARD_FORWARD_H
#define GW_FORWARD_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "forward/sender.h"

enum gw_forward_result {
    GW_FORWARD_OK = 0,
    GW_FORWARD_FULL,     /* queue full: answer 503 with Retry-After */
    GW_FORWARD_STOPPING, /* shutting down: answer 503 */
};

struct gw_forward_config {
    struct gw_sender_config sender;
    size_t batch_max;
    int64_t batch_ms;
    int64_t retry_base_ms;
    int64_t retry_max_ms;
    size_t queue_max_events;
};

struct gw_forward;

/* NULL with err filled on failure. */
struct gw_forward *gw_forward_new(const struct gw_forward_config *cfg,
                                  char *err, size_t err_len);

/* Starts the forwarder thread; false when it cannot be created. */
bool gw_forward_start(struct gw_forward *fwd)
    __attribute__((warn_unused_result));

/* Queues n serialized events, all or none. On GW_FORWARD_OK takes
 * ownership of each string and sets events[i] to NULL. */
enum gw_forward_result gw_forward_submit(struct gw_forward *fwd,
                                         char **events, size_t n)
    __attribute__((warn_unused_result));

/* Refuses new events, delivers what is queued until deadline_ms (from
 * now), then stops the thread. Returns how many events were left
 * undelivered. */
size_t gw_forward_stop(struct gw_forward *fwd, int64_t deadline_ms);

void gw_forward_free(struct gw_forward *fwd);

#endif
