/* handlers/ready.h: GET /readyz, ready when the spool can be written and
 * every key set is loaded, and the hook key sets report into. */
#ifndef GW_HANDLERS_READY_H
#define GW_HANDLERS_READY_H

#include <stdbool.h>

#include "handlers/env.h"

/* What a key set last reported. A set whose refresh failed but that keeps
 * keys from an earlier load is STALE: still ready, flagged in the answer. */
enum gw_ready_keys {
    GW_READY_KEYS_LOADED = 0,
    GW_READY_KEYS_STALE,
    GW_READY_KEYS_MISSING,
};

/* The /readyz route; env->spool is read for its path only through
 * gw_ready_watch_spool. */
struct gw_route gw_ready_route(struct gw_handler_env *env);

/* Names the spool file whose folder must stay writable (copied; NULL: the
 * spool is in memory and always writable). */
void gw_ready_watch_spool(const char *path);

/* Records a key set's state (set: a short name such as "auth", copied;
 * detail: why, for the answer, copied, may be NULL) and counts it in
 * signin_gateway_keyset_refreshes_total{set,outcome}. Thread-safe: a
 * background refresher may call it. At most 16 sets. */
void gw_ready_keyset_report(const char *set, enum gw_ready_keys state,
                            const char *detail);

/* From now on /readyz answers 503 shutting_down (SIGTERM received). */
void gw_ready_set_stopping(void);

#endif
