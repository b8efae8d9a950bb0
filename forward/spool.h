/* forward/spool.h: the durable queue (SQLite). An event is acknowledged only
 * after the transaction holding it commits; duplicates within the window
 * are recognized here; refused events go to a dead-letter table. */
#ifndef GW_FORWARD_SPOOL_H
#define GW_FORWARD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum gw_durability {
    GW_DURABILITY_OFF = 0, /* in memory: lost on a crash */
    GW_DURABILITY_CRASH,   /* survives a process crash (WAL, no fsync) */
    GW_DURABILITY_POWER,   /* survives power loss (fsync per commit) */
};

enum gw_spool_result {
    GW_SPOOL_OK = 0,
    GW_SPOOL_FULL,     /* over spool.max_bytes: answer 503 */
    GW_SPOOL_TOO_LARGE, /* one submission larger than spool.max_bytes: 413 */
    GW_SPOOL_STOPPING, /* shutting down: answer 503 */
    GW_SPOOL_IO,       /* the store failed: answer 503, log at error */
    GW_SPOOL_NO_MEMORY,
};

struct gw_spool_config {
    const char *path; /* ignored with GW_DURABILITY_OFF */
    enum gw_durability durability;
    int64_t max_bytes;
    int64_t dedup_window_ms; /* 0: no duplicate detection */
};

/* One stored event, as the forwarder reads it. */
struct gw_spool_row {
    int64_t seq;
    char *id;   /* owned */
    char *json; /* owned */
};

/* Called from the spool's writer thread once a submission is settled:
 * committed (GW_SPOOL_OK; duplicate[i] marks events already seen) or not. */
typedef void (*gw_spool_done_fn)(void *ctx, enum gw_spool_result rc,
                                 const bool *duplicate);

struct gw_spool;

/* Opens (creating) and checks the store, counts what is waiting, starts
 * the writer thread. NULL with err filled when the store is unusable. */
struct gw_spool *gw_spool_open(const struct gw_spool_config *cfg, char *err,
                               size_t err_len);

/* Hands n events to the writer. On GW_SPOOL_OK takes ownership of each
 * json[i] (set to NULL) and will call done exactly once; otherwise takes
 * nothing and never calls done. ids are copied. */
enum gw_spool_result gw_spool_append(struct gw_spool *sp, char **json,
                                     const char *const *ids, size_t n,
                                     gw_spool_done_fn done, void *ctx)
    __attribute__((warn_unused_result));

/* Reads up to max waiting events with seq > after, oldest first, into
 * rows (the caller owns their strings: gw_spool_rows_clear). Waits up to
 * wait_ms for the first one and then up to fill_ms for max of them. */
size_t gw_spool_next(struct gw_spool *sp, int64_t after, size_t max,
                     int64_t wait_ms, int64_t fill_ms,
                     struct gw_spool_row *rows);

void gw_spool_rows_clear(struct gw_spool_row *rows, size_t n);

/* Ends any wait in gw_spool_next now and from then on (shutdown). */
void gw_spool_interrupt(struct gw_spool *sp);

/* Delivered: removes the events (in the writer's next transaction). */
void gw_spool_remove(struct gw_spool *sp, const struct gw_spool_row *rows,
                     size_t n);

/* Refused for good: moves one event to the dead-letter table with the
 * upstream's status and (cut) answer. */
void gw_spool_bury(struct gw_spool *sp, const struct gw_spool_row *row,
                   long status, const char *answer);

/* Events waiting (not yet removed), and their bytes. */
int64_t gw_spool_depth(struct gw_spool *sp);

/* Wall-clock ms at which the oldest waiting event was accepted; 0 when
 * none waits. */
int64_t gw_spool_oldest_ms(struct gw_spool *sp);

/* Refuses new events, commits what was handed over, stops the writer and
 * closes the store. Accepts NULL. */
void gw_spool_close(struct gw_spool *sp);

/* Offline tools on a spool file (the gateway may be running): list dead
 * letters to out, or move them back to the queue (id NULL: all). Return
 * the number of rows, or -1 with err filled. */
long gw_spool_dead_list(const char *path, FILE *out, char *err,
                        size_t err_len);
long gw_spool_dead_replay(const char *path, const char *id, char *err,
                          size_t err_len);

/* Parses "off", "crash" or "power". */
bool gw_durability_parse(const char *name, enum gw_durability *out);

#endif
