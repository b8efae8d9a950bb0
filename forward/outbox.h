/* forward/outbox.h: the bounded in-memory queue between handlers and the
 * forwarder thread. */
#ifndef GW_FORWARD_OUTBOX_H
#define GW_FORWARD_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

enum gw_outbox_result {
    GW_OUTBOX_OK = 0,
    GW_OUTBOX_FULL,   /* no room for all of them: nothing was taken */
    GW_OUTBOX_CLOSED, /* shutting down */
};

struct gw_outbox;

/* A queue for at most max_events serialized events; NULL on no memory. */
struct gw_outbox *gw_outbox_new(size_t max_events);

/* Frees the queue and any events still in it; accepts NULL. */
void gw_outbox_free(struct gw_outbox *ob);

/* Appends n events, all or none. On GW_OUTBOX_OK takes ownership of each
 * string and sets events[i] to NULL. */
enum gw_outbox_result gw_outbox_push(struct gw_outbox *ob, char **events,
                                     size_t n)
    __attribute__((warn_unused_result));

/* Waits for at least one event, then up to fill_wait_ms for max of them,
 * and moves up to max into out (the caller owns them). Returns the count;
 * 0 only once the queue is closed and empty. */
size_t gw_outbox_take(struct gw_outbox *ob, char **out, size_t max,
                      int64_t fill_wait_ms);

/* Refuses further pushes and wakes the taker: it drains what is left
 * without waiting to fill a batch. */
void gw_outbox_close(struct gw_outbox *ob);

size_t gw_outbox_depth(struct gw_outbox *ob);

#endif
