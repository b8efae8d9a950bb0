/* handlers/accept.h: hands normalized events to the spool and answers
 * once they are accepted; shared by every endpoint that takes events. */
#ifndef GW_HANDLERS_ACCEPT_H
#define GW_HANDLERS_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>

#include "events/signed_in.h"
#include "handlers/env.h"
#include "server/server.h"

/* Builds the success answer once the events are accepted. duplicate[i] is
 * true for an event whose id was already accepted within the duplicate
 * window (acknowledged again, not queued again). Must call one gw_reply_*
 * function on req. */
typedef void (*gw_accept_reply_fn)(struct gw_request *req,
                                   const struct gw_event *events,
                                   const bool *duplicate, size_t n,
                                   void *ctx);

/* Stores n events in the spool and answers through reply_fn once they are
 * committed, or 503 when the gateway cannot take them. Takes ownership of
 * every events[i].json (set to NULL) and of ctx, released with ctx_free
 * (may be NULL) after reply_fn ran or the request failed. n may be 0:
 * reply_fn is then called at once. The
 * answer may come later from another thread; the caller must return
 * without replying. */
void gw_accept_events(struct gw_request *req, struct gw_handler_env *env,
                      struct gw_event *events, size_t n,
                      gw_accept_reply_fn reply_fn, void *ctx,
                      void (*ctx_free)(void *));

#endif
