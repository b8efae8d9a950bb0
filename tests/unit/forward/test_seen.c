/* tests/unit/forward/test_seen.c: the in-memory set of ids seen within the
 * duplicate window. */
#include <stdio.h>
#include <string.h>

#include "forward/seen.h"

static int passed, failed;

#define CHECK(cond, label)                                                    \
    do {                                                                      \
        if (cond) {                                                           \
            passed++;                                                         \
        } else {                                                              \
            failed++;                                                         \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, label);   \
        }                                                                     \
    } while (0)

static void
test_seen_marks_new_and_reports_duplicates(void)
{
    struct gw_seen *s = gw_seen_new(1000);

    CHECK(gw_seen_mark(s, "a", 5000) == GW_SEEN_NEW, "first a is new");
    CHECK(gw_seen_mark(s, "a", 5500) == GW_SEEN_DUPLICATE, "a again");
    CHECK(gw_seen_mark(s, "b", 5500) == GW_SEEN_NEW, "b is new");
    CHECK(gw_seen_contains(s, "a", 5900), "a contained in the window");
    CHECK(!gw_seen_contains(s, "c", 5900), "c never seen");
    gw_seen_free(s);
}

static void
test_seen_forgets_ids_older_than_the_window(void)
{
    struct gw_seen *s = gw_seen_new(1000);

    CHECK(gw_seen_mark(s, "a", 5000) == GW_SEEN_NEW, "a new");
    CHECK(!gw_seen_contains(s, "a", 6001), "a expired after the window");
    CHECK(gw_seen_mark(s, "a", 6001) == GW_SEEN_NEW, "a new again");
    CHECK(gw_seen_mark(s, "a", 6500) == GW_SEEN_DUPLICATE,
          "a duplicate of its renewal");
    gw_seen_free(s);
}

static void
test_seen_forget_undoes_a_mark(void)
{
    struct gw_seen *s = gw_seen_new(1000);

    CHECK(gw_seen_mark(s, "x", 5000) == GW_SEEN_NEW, "x new");
    gw_seen_forget(s, "x");
    CHECK(!gw_seen_contains(s, "x", 5001), "x forgotten");
    CHECK(gw_seen_mark(s, "x", 5002) == GW_SEEN_NEW, "x new after forget");
    gw_seen_free(s);
}

static void
test_seen_keeps_every_id_while_growing_and_compacting(void)
{
    struct gw_seen *s = gw_seen_new(100000);
    char id[32];
    int missing = 0, wrong = 0;

    for (int i = 0; i < 50000; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        wrong += gw_seen_mark(s, id, 1000 + i) != GW_SEEN_NEW;
    }
    CHECK(wrong == 0, "50000 distinct ids are all new");
    for (int i = 0; i < 50000; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        missing += !gw_seen_contains(s, id, 60000);
    }
    CHECK(missing == 0, "every id found after growing");
    /* At 126000 the ids marked before 26000 (the first 25000) are past the
     * 100000 ms window. */
    gw_seen_compact(s, 126000);
    CHECK(gw_seen_count(s) == 25000, "compact keeps only live ids");
    missing = 0;
    for (int i = 25000; i < 50000; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        missing += !gw_seen_contains(s, id, 126000);
    }
    CHECK(missing == 0, "live ids found after compacting");
    CHECK(!gw_seen_contains(s, "id-10", 126000), "expired id gone");
    gw_seen_free(s);
}

int
main(void)
{
    test_seen_marks_new_and_reports_duplicates();
    test_seen_forgets_ids_older_than_the_window();
    test_seen_forget_undoes_a_mark();
    test_seen_keeps_every_id_while_growing_and_compacting();
    printf("unit.seen: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
