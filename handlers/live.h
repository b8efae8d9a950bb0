/* handlers/live.h: the handlers' environment as a swappable generation, so
 * that SIGHUP can bring new keys and secrets while requests run. */
#ifndef GW_HANDLERS_LIVE_H
#define GW_HANDLERS_LIVE_H

#include "handlers/env.h"

struct gw_live;

/* Releases one generation's owner once no request can still use it. */
typedef void (*gw_live_free_fn)(void *owner);

/* Holds env (borrowed from owner, which free_fn releases) as the first
 * generation. NULL when out of memory (owner is then not taken). */
struct gw_live *gw_live_new(struct gw_handler_env *env, void *owner,
                            gw_live_free_fn free_fn);

/* A route that runs inner's handler with whichever generation is current
 * when the request is dispatched; the generation stays alive until that
 * handler returns (handlers touch the env only while they run: replies
 * made later, once the spool commits, read nothing from it). At most 16
 * routes per gw_live. */
struct gw_route gw_live_route(struct gw_live *live, struct gw_route inner);

/* Makes env (of owner) current; the previous generation is freed when its
 * last request ends. Returns false when out of memory (nothing taken). */
bool gw_live_swap(struct gw_live *live, struct gw_handler_env *env,
                  void *owner) __attribute__((warn_unused_result));

/* Frees the holder and its current generation; no request may run. */
void gw_live_free(struct gw_live *live);

#endif
