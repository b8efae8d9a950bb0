/* handlers/live.c: the handlers' environment as a swappable generation.
 * A request takes a reference under a short lock; a swap drops the
 * holder's reference; the last one out frees the old generation, so a
 * reload never frees keys a verification is still reading. */
#include "handlers/live.h"

#include <pthread.h>
#include <stdlib.h>

#define MAX_ROUTES 16

struct generation {
    struct gw_handler_env *env;
    void *owner;
    long refs; /* the holder's one, plus one per running handler */
};

struct wrapped {
    struct gw_live *live;
    gw_route_fn handle; /* the inner route's; its ctx becomes the env */
};

struct gw_live {
    pthread_mutex_t lock;
    struct generation *current;
    gw_live_free_fn free_fn;
    struct wrapped routes[MAX_ROUTES];
    size_t route_count;
};

static struct generation *
generation_new(struct gw_handler_env *env, void *owner)
{
    struct generation *g = calloc(1, sizeof(*g));

    if (g != NULL) {
        g->env = env;
        g->owner = owner;
        g->refs = 1;
    }
    return g;
}

struct gw_live *
gw_live_new(struct gw_handler_env *env, void *owner, gw_live_free_fn free_fn)
{
    struct gw_live *live = calloc(1, sizeof(*live));

    if (live == NULL) {
        return NULL;
    }
    live->current = generation_new(env, owner);
    if (live->current == NULL) {
        free(live);
        return NULL;
    }
    live->free_fn = free_fn;
    pthread_mutex_init(&live->lock, NULL);
    return live;
}

static struct generation *
acquire(struct gw_live *live)
{
    struct generation *g;

    pthread_mutex_lock(&live->lock);
    g = live->current;
    g->refs++;
    pthread_mutex_unlock(&live->lock);
    return g;
}

/* Freed outside the lock: releasing keys may take a while. */
static void
release(struct gw_live *live, struct generation *g)
{
    long left;

    pthread_mutex_lock(&live->lock);
    left = --g->refs;
    pthread_mutex_unlock(&live->lock);
    if (left == 0) {
        live->free_fn(g->owner);
        free(g);
    }
}

static void
on_request(struct gw_request *req, void *ctx)
{
    struct wrapped *w = ctx;
    struct generation *g = acquire(w->live);

    w->handle(req, g->env);
    release(w->live, g);
}

struct gw_route
gw_live_route(struct gw_live *live, struct gw_route inner)
{
    struct wrapped *w;

    if (live->route_count == MAX_ROUTES) {
        return inner; /* served from the first generation only */
    }
    w = &live->routes[live->route_count++];
    w->live = live;
    w->handle = inner.handle;
    inner.handle = on_request;
    inner.ctx = w;
    return inner;
}

bool
gw_live_swap(struct gw_live *live, struct gw_handler_env *env, void *owner)
{
    struct generation *g = generation_new(env, owner), *old;

    if (g == NULL) {
        return false;
    }
    pthread_mutex_lock(&live->lock);
    old = live->current;
    live->current = g;
    pthread_mutex_unlock(&live->lock);
    release(live, old);
    return true;
}

void
gw_live_free(struct gw_live *live)
{
    if (live == NULL) {
        return;
    }
    release(live, live->current);
    pthread_mutex_destroy(&live->lock);
    free(live);
}
