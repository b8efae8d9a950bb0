/* forward/retry.h: what an upstream answer means, and how long to wait. */
#ifndef GW_FORWARD_RETRY_H
#define GW_FORWARD_RETRY_H

#include <stdbool.h>
#include <stdint.h>

enum gw_retry_kind {
    GW_RETRY_DELIVERED = 0, /* 2xx */
    GW_RETRY_AGAIN,         /* 408, 429, 5xx, timeouts, connection errors */
    GW_RETRY_HOLD,          /* 401/403 (our key), 3xx/404/405 (our URL):
                               retry slowly, never drop */
    GW_RETRY_REFUSED,       /* other 4xx: the upstream will never take it */
};

/* Classifies an HTTP status; status 0 means no answer (transport error). */
enum gw_retry_kind gw_retry_classify(long status);

/* Full-jitter exponential backoff: a random wait in [0, min(cap, base *
 * 2^attempt)] milliseconds. */
int64_t gw_retry_backoff_ms(unsigned attempt, int64_t base_ms,
                            int64_t cap_ms);

/* Longest Retry-After honoured: a larger one (or a date further ahead) is
 * cut to this, so that one answer cannot stall delivery for a day. */
#define GW_RETRY_AFTER_MAX_S 300LL

/* Parses a Retry-After value (delay seconds or an HTTP-date) into a wait
 * in milliseconds from now_ms (never negative, at most
 * GW_RETRY_AFTER_MAX_S). */
bool gw_retry_after_parse(const char *value, int64_t now_ms, int64_t *wait_ms)
    __attribute__((warn_unused_result));

#endif
