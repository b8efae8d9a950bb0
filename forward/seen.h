/* forward/seen.h: the event ids seen within the duplicate window, held in
 * memory (the spool keeps an append-only copy to reload at start). */
#ifndef GW_FORWARD_SEEN_H
#define GW_FORWARD_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_seen_result {
    GW_SEEN_NEW = 0,   /* not seen within the window: now marked */
    GW_SEEN_DUPLICATE, /* seen within the window */
    GW_SEEN_NO_MEMORY,
};

struct gw_seen;

/* A set for ids seen within window_ms; NULL when out of memory. */
struct gw_seen *gw_seen_new(int64_t window_ms);

void gw_seen_free(struct gw_seen *s);

/* Tells whether id was seen within the window before now_ms, and marks it
 * seen at now_ms when it was not. Thread-safe. */
enum gw_seen_result gw_seen_mark(struct gw_seen *s, const char *id,
                                 int64_t now_ms)
    __attribute__((warn_unused_result));

/* Whether id was seen within the window before now_ms; marks nothing. */
bool gw_seen_contains(struct gw_seen *s, const char *id, int64_t now_ms);

/* Undoes a mark whose commit failed: the id counts as never seen. */
void gw_seen_forget(struct gw_seen *s, const char *id);

/* Drops the ids older than the window, giving their memory back. */
void gw_seen_compact(struct gw_seen *s, int64_t now_ms);

/* Ids held (including expired ones not yet compacted). */
size_t gw_seen_count(struct gw_seen *s);

#endif
