/* forward/seen.c: the event ids seen within the duplicate window, held in
 * memory. A table in SQLite keyed by these ids (random hashes) cost every
 * insert a random page write: about 40 % of the gateway's throughput at
 * bench load. Here an id is its 128-bit SHA-256 prefix in an open-
 * addressing table; a collision needs about 2^64 ids. */
#include "forward/seen.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#define MIN_SLOTS 1024

struct slot {
    uint64_t h1, h2;
    int64_t seen_ms; /* 0: empty; older than the window: expired */
};

struct gw_seen {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t cap;  /* a power of two */
    size_t used; /* slots not empty, expired ones included */
    int64_t window_ms;
};

struct key {
    uint64_t h1, h2;
};

static struct key
key_of(const char *id)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    struct key k;

    SHA256((const unsigned char *)id, strlen(id), d);
    memcpy(&k.h1, d, sizeof(k.h1));
    memcpy(&k.h2, d + 8, sizeof(k.h2));
    return k;
}

struct gw_seen *
gw_seen_new(int64_t window_ms)
{
    struct gw_seen *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->slots = calloc(MIN_SLOTS, sizeof(struct slot));
    if (s->slots == NULL) {
        free(s);
        return NULL;
    }
    s->cap = MIN_SLOTS;
    s->window_ms = window_ms;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void
gw_seen_free(struct gw_seen *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_destroy(&s->lock);
    free(s->slots);
    free(s);
}

/* The slot holding k, or the empty slot where it would go. Expired slots
 * stay in place so that probe chains through them remain whole. */
static struct slot *
probe(struct slot *slots, size_t cap, struct key k)
{
    size_t i = (size_t)k.h1 & (cap - 1);

    for (;;) {
        struct slot *sl = &slots[i];

        if (sl->seen_ms == 0 || (sl->h1 == k.h1 && sl->h2 == k.h2)) {
            return sl;
        }
        i = (i + 1) & (cap - 1);
    }
}

/* Moves the live slots into a table sized for them (load at most 1/4). */
static bool
rebuild(struct gw_seen *s, int64_t now_ms)
{
    int64_t cutoff = now_ms - s->window_ms;
    size_t live = 0, cap = MIN_SLOTS;
    struct slot *fresh;

    for (size_t i = 0; i < s->cap; i++) {
        live += s->slots[i].seen_ms != 0 && s->slots[i].seen_ms >= cutoff;
    }
    while (cap < live * 4) {
        cap *= 2;
    }
    fresh = calloc(cap, sizeof(struct slot));
    if (fresh == NULL) {
        return false;
    }
    for (size_t i = 0; i < s->cap; i++) {
        struct slot *old = &s->slots[i];

        if (old->seen_ms != 0 && old->seen_ms >= cutoff) {
            *probe(fresh, cap, (struct key){old->h1, old->h2}) = *old;
        }
    }
    free(s->slots);
    s->slots = fresh;
    s->cap = cap;
    s->used = live;
    return true;
}

enum gw_seen_result
gw_seen_mark(struct gw_seen *s, const char *id, int64_t now_ms)
{
    struct key k = key_of(id);
    enum gw_seen_result rc = GW_SEEN_NEW;
    struct slot *sl;

    pthread_mutex_lock(&s->lock);
    if ((s->used + 1) * 2 > s->cap && !rebuild(s, now_ms)) {
        pthread_mutex_unlock(&s->lock);
        return GW_SEEN_NO_MEMORY;
    }
    sl = probe(s->slots, s->cap, k);
    if (sl->seen_ms != 0 && sl->seen_ms >= now_ms - s->window_ms) {
        rc = GW_SEEN_DUPLICATE;
    } else {
        if (sl->seen_ms == 0) {
            s->used++;
        }
        *sl = (struct slot){k.h1, k.h2, now_ms};
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

bool
gw_seen_contains(struct gw_seen *s, const char *id, int64_t now_ms)
{
    struct key k = key_of(id);
    struct slot *sl;
    bool seen;

    pthread_mutex_lock(&s->lock);
    sl = probe(s->slots, s->cap, k);
    seen = sl->seen_ms != 0 && sl->seen_ms >= now_ms - s->window_ms;
    pthread_mutex_unlock(&s->lock);
    return seen;
}

void
gw_seen_forget(struct gw_seen *s, const char *id)
{
    struct key k = key_of(id);
    struct slot *sl;

    pthread_mutex_lock(&s->lock);
    sl = probe(s->slots, s->cap, k);
    if (sl->seen_ms != 0) {
        sl->seen_ms = 1; /* expired, not empty: chains stay whole */
    }
    pthread_mutex_unlock(&s->lock);
}

void
gw_seen_compact(struct gw_seen *s, int64_t now_ms)
{
    pthread_mutex_lock(&s->lock);
    /* Failing to shrink only keeps memory a while longer. */
    (void)rebuild(s, now_ms);
    pthread_mutex_unlock(&s->lock);
}

size_t
gw_seen_count(struct gw_seen *s)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = s->used;
    pthread_mutex_unlock(&s->lock);
    return n;
}
