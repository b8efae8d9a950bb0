/* tests/unit/forward/test_outbox.c: the bounded queue between handlers and
 * the forwarder: order, all-or-nothing pushes, close, batch filling, and who
 * owns each event. Run under ASan: a lost or doubly freed event fails. */
#include "forward/outbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Waits that must end "at once" end well within this; generous, so that a
 * loaded CI machine or a sanitizer build does not fail them. */
#define PROMPT_MS 1500

static int passed;
static int failed;

static void
check_at(bool ok, const char *label, const char *name, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL line %d: %s [%s]\n", line, label, name);
}

static char *
event(const char *text)
{
    char *s = strdup(text);

    if (s == NULL) {
        abort();
    }
    return s;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void
free_all(char **events, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(events[i]);
        events[i] = NULL;
    }
}

static bool
all_null(char *const *events, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (events[i] != NULL) {
            return false;
        }
    }
    return true;
}

static void
test_outbox_hands_out_events_in_push_order(void)
{
    static const char *const want[] = {"a", "b", "c", "d", "e"};
    struct gw_outbox *ob = gw_outbox_new(10);
    char *first[3] = {event("a"), event("b"), event("c")};
    char *second[2] = {event("d"), event("e")};
    char *out[10] = {0};
    size_t n;
    bool in_order = true;

    CHECK(ob != NULL, "new: a queue", "order");
    CHECK(gw_outbox_push(ob, first, 3) == GW_OUTBOX_OK, "push 3: ok", "order");
    CHECK(all_null(first, 3), "push: the queue took each pointer", "order");
    CHECK(gw_outbox_push(ob, second, 2) == GW_OUTBOX_OK, "push 2: ok", "order");
    CHECK(all_null(second, 2), "push: the queue took each pointer", "order");
    CHECK(gw_outbox_depth(ob) == 5, "depth: 5 after two pushes", "order");

    n = gw_outbox_take(ob, out, 10, 0);
    CHECK(n == 5, "take: all 5", "order");
    for (size_t i = 0; i < n && i < COUNT(want); i++) {
        in_order = in_order && strcmp(out[i], want[i]) == 0;
    }
    CHECK(in_order, "take: a b c d e, in push order", "order");
    CHECK(gw_outbox_depth(ob) == 0, "depth: 0 after taking all", "order");

    free_all(out, n);
    gw_outbox_free(ob);
}

static void
test_outbox_take_moves_at_most_max_and_leaves_the_rest(void)
{
    struct gw_outbox *ob = gw_outbox_new(8);
    char *in[4] = {event("1"), event("2"), event("3"), event("4")};
    char *out[4] = {0};
    size_t n;

    CHECK(gw_outbox_push(ob, in, 4) == GW_OUTBOX_OK, "push 4: ok", "max");

    n = gw_outbox_take(ob, out, 3, 0);
    CHECK(n == 3, "take max 3: 3", "max");
    CHECK(n == 3 && strcmp(out[0], "1") == 0 && strcmp(out[2], "3") == 0,
          "take max 3: the oldest three", "max");
    CHECK(gw_outbox_depth(ob) == 1, "depth: 1 left", "max");
    free_all(out, n);

    n = gw_outbox_take(ob, out, 3, 0);
    CHECK(n == 1 && strcmp(out[0], "4") == 0, "take: the last one", "max");
    free_all(out, n);
    gw_outbox_free(ob);
}

static void
test_outbox_keeps_order_across_the_ring_wrapping_round(void)
{
    struct gw_outbox *ob = gw_outbox_new(3);
    char text[16], *in[2], *out[3] = {0};
    int next_in = 0, next_out = 0;
    bool ok = true;

    /* Two in, two out, 50 times over a ring of 3: head and tail wrap. */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 2; i++) {
            snprintf(text, sizeof(text), "%d", next_in++);
            in[i] = event(text);
        }
        ok = ok && gw_outbox_push(ob, in, 2) == GW_OUTBOX_OK;
        size_t n = gw_outbox_take(ob, out, 3, 0);

        for (size_t i = 0; i < n; i++) {
            snprintf(text, sizeof(text), "%d", next_out++);
            ok = ok && strcmp(out[i], text) == 0;
        }
        ok = ok && n == 2;
        free_all(out, n);
    }
    CHECK(ok, "ring: 100 events through a ring of 3, in order", "wrap");
    gw_outbox_free(ob);
}

static void
test_outbox_push_is_all_or_nothing_when_full(void)
{
    struct gw_outbox *ob = gw_outbox_new(3);
    char *two[2] = {event("a"), event("b")};
    char *more[2] = {event("c"), event("d")};
    char *one[1] = {event("e")};
    char *extra[1] = {event("f")};
    char *out[3] = {0};
    size_t n;

    CHECK(gw_outbox_push(ob, two, 2) == GW_OUTBOX_OK, "push 2 of 3: ok",
          "full");
    CHECK(gw_outbox_push(ob, more, 2) == GW_OUTBOX_FULL,
          "push 2 with room for 1: FULL", "full");
    CHECK(more[0] != NULL && more[1] != NULL && strcmp(more[0], "c") == 0 &&
              strcmp(more[1], "d") == 0,
          "FULL: the caller still owns both events", "full");
    CHECK(gw_outbox_depth(ob) == 2, "FULL: nothing was added", "full");

    CHECK(gw_outbox_push(ob, one, 1) == GW_OUTBOX_OK,
          "push 1 into the last slot: ok", "full");
    CHECK(gw_outbox_push(ob, extra, 1) == GW_OUTBOX_FULL,
          "push 1 into a full queue: FULL", "full");
    CHECK(extra[0] != NULL, "FULL: the caller still owns it", "full");

    n = gw_outbox_take(ob, out, 3, 0);
    CHECK(n == 3 && strcmp(out[0], "a") == 0 && strcmp(out[1], "b") == 0 &&
              strcmp(out[2], "e") == 0,
          "take: a b e, the refused batch left no trace", "full");

    free_all(out, n);
    free_all(more, 2);
    free_all(extra, 1);
    gw_outbox_free(ob);
}

static void
test_outbox_accepts_an_empty_push(void)
{
    struct gw_outbox *ob = gw_outbox_new(1);
    char *none[1] = {NULL};

    CHECK(gw_outbox_push(ob, none, 0) == GW_OUTBOX_OK, "push 0: ok",
          "empty push");
    CHECK(gw_outbox_depth(ob) == 0, "push 0: depth 0", "empty push");
    gw_outbox_free(ob);
}

static void
test_outbox_refuses_pushes_after_close_and_drains_without_waiting(void)
{
    struct gw_outbox *ob = gw_outbox_new(4);
    char *in[2] = {event("a"), event("b")};
    char *late[1] = {event("late")};
    char *out[4] = {0};
    int64_t start;
    size_t n;

    CHECK(gw_outbox_push(ob, in, 2) == GW_OUTBOX_OK, "push 2: ok", "close");
    gw_outbox_close(ob);

    CHECK(gw_outbox_push(ob, late, 1) == GW_OUTBOX_CLOSED,
          "push after close: CLOSED", "close");
    CHECK(late[0] != NULL && strcmp(late[0], "late") == 0,
          "CLOSED: the caller still owns the event", "close");

    /* A closed queue drains what is left at once: no batch fill wait. */
    start = now_ms();
    n = gw_outbox_take(ob, out, 4, 10000);
    CHECK(n == 2 && strcmp(out[0], "a") == 0 && strcmp(out[1], "b") == 0,
          "take after close: the 2 left, in order", "close");
    CHECK(now_ms() - start < PROMPT_MS, "take after close: no fill wait",
          "close");
    free_all(out, n);

    start = now_ms();
    CHECK(gw_outbox_take(ob, out, 4, 10000) == 0,
          "take when closed and empty: 0", "close");
    CHECK(now_ms() - start < PROMPT_MS, "take when closed and empty: at once",
          "close");

    free_all(late, 1);
    gw_outbox_free(ob);
}

struct taker {
    struct gw_outbox *ob;
    char *out[8];
    size_t max;
    int64_t fill_wait_ms;
    size_t got;
    int64_t elapsed_ms;
};

static void *
run_take(void *arg)
{
    struct taker *t = arg;
    int64_t start = now_ms();

    t->got = gw_outbox_take(t->ob, t->out, t->max, t->fill_wait_ms);
    t->elapsed_ms = now_ms() - start;
    return NULL;
}

static void
test_outbox_take_on_an_empty_queue_wakes_on_close(void)
{
    struct taker t = {.ob = gw_outbox_new(4), .max = 4, .fill_wait_ms = 0};
    pthread_t th;

    CHECK(pthread_create(&th, NULL, run_take, &t) == 0, "thread started",
          "wake on close");
    sleep_ms(50);
    gw_outbox_close(t.ob);
    pthread_join(th, NULL);
    CHECK(t.got == 0, "take blocked on empty, then closed: 0", "wake on close");
    CHECK(t.elapsed_ms >= 40, "take waited for an event or the close",
          "wake on close");
    gw_outbox_free(t.ob);
}

struct pusher {
    struct gw_outbox *ob;
    int count;
    long gap_ms;
    int prefix;
    bool ok;
};

static void *
run_push(void *arg)
{
    struct pusher *p = arg;
    char text[32];

    p->ok = true;
    for (int i = 0; i < p->count; i++) {
        char *one[1];

        if (p->gap_ms > 0) {
            sleep_ms(p->gap_ms);
        }
        snprintf(text, sizeof(text), "%d:%d", p->prefix, i);
        one[0] = event(text);
        while (gw_outbox_push(p->ob, one, 1) == GW_OUTBOX_FULL) {
            sleep_ms(1);
        }
        p->ok = p->ok && one[0] == NULL;
        free(one[0]);
    }
    return NULL;
}

static void
test_outbox_take_returns_as_soon_as_a_batch_fills(void)
{
    struct gw_outbox *ob = gw_outbox_new(16);
    struct pusher p = {.ob = ob, .count = 4, .gap_ms = 20, .prefix = 0};
    char *out[4] = {0};
    pthread_t th;
    int64_t start = now_ms();
    size_t n;

    CHECK(pthread_create(&th, NULL, run_push, &p) == 0, "thread started",
          "batch fills");
    /* The first event arrives after 20 ms, the fourth after about 80 ms:
     * the take returns then, long before its 10 s fill wait. */
    n = gw_outbox_take(ob, out, 4, 10000);
    pthread_join(th, NULL);
    CHECK(n == 4, "take: a full batch of 4", "batch fills");
    CHECK(now_ms() - start < PROMPT_MS, "take: returned once max reached",
          "batch fills");
    CHECK(n == 4 && strcmp(out[0], "0:0") == 0 && strcmp(out[3], "0:3") == 0,
          "take: in push order", "batch fills");
    CHECK(p.ok, "push: each pointer taken", "batch fills");
    free_all(out, n);
    gw_outbox_free(ob);
}

static void
test_outbox_take_waits_the_fill_time_for_a_partial_batch(void)
{
    struct gw_outbox *ob = gw_outbox_new(16);
    char *in[1] = {event("only")};
    char *out[8] = {0};
    int64_t start, elapsed;
    size_t n;

    CHECK(gw_outbox_push(ob, in, 1) == GW_OUTBOX_OK, "push 1: ok",
          "partial batch");
    start = now_ms();
    n = gw_outbox_take(ob, out, 8, 100);
    elapsed = now_ms() - start;
    CHECK(n == 1, "take: the 1 event after the fill wait", "partial batch");
    CHECK(elapsed >= 90, "take: waited about 100 ms to fill", "partial batch");
    CHECK(elapsed < PROMPT_MS, "take: did not wait much longer",
          "partial batch");
    free_all(out, n);
    gw_outbox_free(ob);
}

static void
test_outbox_close_cuts_a_fill_wait_short(void)
{
    struct taker t = {.ob = gw_outbox_new(8), .max = 8, .fill_wait_ms = 10000};
    char *in[1] = {event("x")};
    pthread_t th;

    CHECK(gw_outbox_push(t.ob, in, 1) == GW_OUTBOX_OK, "push 1: ok",
          "close during fill");
    CHECK(pthread_create(&th, NULL, run_take, &t) == 0, "thread started",
          "close during fill");
    sleep_ms(50);
    gw_outbox_close(t.ob);
    pthread_join(th, NULL);
    CHECK(t.got == 1 && strcmp(t.out[0], "x") == 0,
          "take: the waiting event, handed out on close", "close during fill");
    CHECK(t.elapsed_ms < PROMPT_MS, "take: did not sit out the 10 s wait",
          "close during fill");
    free_all(t.out, t.got);
    gw_outbox_free(t.ob);
}

static void
test_outbox_loses_nothing_with_several_producers(void)
{
    enum { PRODUCERS = 4, EACH = 500 };
    struct gw_outbox *ob = gw_outbox_new(64);
    struct pusher p[PRODUCERS];
    pthread_t th[PRODUCERS];
    int next[PRODUCERS] = {0};
    char *out[32];
    bool in_order = true, pushed = true;
    int total = 0;

    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct pusher){.ob = ob, .count = EACH, .prefix = i};
        CHECK(pthread_create(&th[i], NULL, run_push, &p[i]) == 0,
              "thread started", "producers");
    }
    while (total < PRODUCERS * EACH) {
        size_t n = gw_outbox_take(ob, out, COUNT(out), 1);

        for (size_t i = 0; i < n; i++) {
            int who = -1, seq = -1;

            /* Each producer's own events keep their order. */
            if (sscanf(out[i], "%d:%d", &who, &seq) != 2 || who < 0 ||
                who >= PRODUCERS || seq != next[who]) {
                in_order = false;
            } else {
                next[who]++;
            }
            free(out[i]);
        }
        total += (int)n;
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        pushed = pushed && p[i].ok;
    }
    CHECK(total == PRODUCERS * EACH, "all 2000 events taken", "producers");
    CHECK(in_order, "each producer's events in its order", "producers");
    CHECK(pushed, "every push took its pointer", "producers");
    CHECK(gw_outbox_depth(ob) == 0, "nothing left", "producers");
    gw_outbox_free(ob);
}

static void
test_outbox_free_releases_events_still_queued(void)
{
    struct gw_outbox *ob = gw_outbox_new(4);
    char *in[3] = {event("left"), event("behind"), event("here")};
    char *out[1] = {0};
    char *again[2] = {event("wrapped"), event("round")};
    size_t n;

    /* Take one and push two so that the leftovers straddle the ring's
     * end; LeakSanitizer then reports any event the free misses. */
    CHECK(gw_outbox_push(ob, in, 3) == GW_OUTBOX_OK, "push 3: ok", "free");
    n = gw_outbox_take(ob, out, 1, 0);
    free_all(out, n);
    CHECK(gw_outbox_push(ob, again, 2) == GW_OUTBOX_OK, "push 2: ok", "free");
    CHECK(gw_outbox_depth(ob) == 4, "depth: 4 queued at free", "free");
    gw_outbox_free(ob);
    gw_outbox_free(NULL);
    CHECK(true, "free: queued events and NULL released", "free");
}

int
main(void)
{
    test_outbox_hands_out_events_in_push_order();
    test_outbox_take_moves_at_most_max_and_leaves_the_rest();
    test_outbox_keeps_order_across_the_ring_wrapping_round();
    test_outbox_push_is_all_or_nothing_when_full();
    test_outbox_accepts_an_empty_push();
    test_outbox_refuses_pushes_after_close_and_drains_without_waiting();
    test_outbox_take_on_an_empty_queue_wakes_on_close();
    test_outbox_take_returns_as_soon_as_a_batch_fills();
    test_outbox_take_waits_the_fill_time_for_a_partial_batch();
    test_outbox_close_cuts_a_fill_wait_short();
    test_outbox_loses_nothing_with_several_producers();
    test_outbox_free_releases_events_still_queued();

    printf("unit.outbox: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
