/* forward/spool.c: the durable queue (SQLite). Request threads hand events
 * to one writer thread, which commits many of them per transaction (group
 * commit) and only then releases their answers. */
#include "forward/spool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/clock.h"
#include "common/log.h"
#include "forward/seen.h"

#define PRUNE_EVERY_MS 60000
#define ANSWER_MAX_BYTES 512

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    " body TEXT NOT NULL, accepted_ms INTEGER NOT NULL);"
    /* Append-only: rows are written in time order and pruned from the
     * front, so no index is needed (lookups go to the in-memory set). */
    "CREATE TABLE IF NOT EXISTS seen_log ("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL, seen_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS dead ("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL,"
    " accepted_ms INTEGER NOT NULL, failed_ms INTEGER NOT NULL,"
    " status INTEGER NOT NULL, answer TEXT);";

enum stmt {
    ST_SEEN_PUT,
    ST_SEEN_FIRST_LIVE,
    ST_EVENT_PUT,
    ST_EVENT_DEL,
    ST_EVENT_NEXT,
    ST_DEAD_PUT,
    ST_SEEN_PRUNE,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_SEEN_PUT] = "INSERT INTO seen_log (id, seen_ms) VALUES (?1, ?2)",
    [ST_SEEN_FIRST_LIVE] = "SELECT seq FROM seen_log WHERE seen_ms >= ?1 "
                           "ORDER BY seq LIMIT 1",
    [ST_EVENT_PUT] = "INSERT INTO events (id, body, accepted_ms) "
                     "VALUES (?1, ?2, ?3)",
    [ST_EVENT_DEL] = "DELETE FROM events WHERE seq = ?1",
    [ST_EVENT_NEXT] = "SELECT seq, id, body FROM events WHERE seq > ?1 "
                      "ORDER BY seq LIMIT ?2",
    [ST_DEAD_PUT] = "INSERT OR REPLACE INTO dead (seq, id, body, accepted_ms,"
                    " failed_ms, status, answer) SELECT seq, id, body,"
                    " accepted_ms, ?2, ?3, ?4 FROM events WHERE seq = ?1",
    [ST_SEEN_PRUNE] = "DELETE FROM seen_log WHERE seq < ?1",
};

struct job {
    struct job *next;
    char **json;
    char **ids;
    bool *duplicate;
    size_t n;
    int64_t reserved; /* bytes counted against max_bytes at append */
    size_t marked;    /* ids checked against the duplicate window so far */
    gw_spool_done_fn done;
    void *ctx;
};

struct burial {
    struct burial *next;
    int64_t seq;
    long status;
    char answer[ANSWER_MAX_BYTES];
};

struct gw_spool {
    struct gw_spool_config cfg;
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    pthread_mutex_t db_lock; /* the connection: writer and forwarder */

    pthread_mutex_t q_lock; /* what waits for the writer */
    pthread_cond_t q_ready;
    struct job *jobs, **jobs_tail;
    int64_t *removals;
    size_t removal_count, removal_cap;
    struct burial *burials;
    bool stopping;
    pthread_t writer;
    bool writer_started;

    /* The forwarder sleeps until this many new rows (or a timeout). */
    pthread_mutex_t rows_lock;
    pthread_cond_t rows_ready;
    int64_t committed_seq;
    size_t wake_after_rows;
    int64_t wake_from_seq;
    bool interrupted; /* shutdown: no more waiting for a fuller batch */

    struct gw_seen *seen; /* NULL without a duplicate window */
    atomic_llong bytes;
    atomic_llong depth;
    int64_t read_error_logged_ms; /* under db_lock */
    int64_t last_prune_ms;
};

bool
gw_durability_parse(const char *name, enum gw_durability *out)
{
    static const char *const names[] = {"off", "crash", "power"};

    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum gw_durability)i;
            return true;
        }
    }
    return false;
}

static void
init_cond(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

static void
deadline_in(struct timespec *ts, int64_t ms)
{
    int64_t at = gw_clock_mono_ms() + (ms > 0 ? ms : 0);

    ts->tv_sec = at / 1000;
    ts->tv_nsec = (at % 1000) * 1000000;
}

static bool
exec_sql(sqlite3 *db, const char *sql, char *err, size_t err_len)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return false;
    }
    return true;
}

/* A damaged file must stop the start, not be overwritten or skipped. */
static bool
check_integrity(sqlite3 *db, char *err, size_t err_len)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;

    if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) !=
        SQLITE_OK) {
        snprintf(err, err_len, "%s", sqlite3_errmsg(db));
        return false;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(st, 0);

        ok = verdict != NULL && strcmp(verdict, "ok") == 0;
        if (!ok) {
            snprintf(err, err_len, "integrity check failed: %.120s",
                     verdict != NULL ? verdict : "?");
        }
    } else {
        snprintf(err, err_len, "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return ok;
}

static bool
configure(struct gw_spool *sp, char *err, size_t err_len)
{
    const char *pragmas;

    switch (sp->cfg.durability) {
    case GW_DURABILITY_OFF:
        pragmas = "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;";
        break;
    case GW_DURABILITY_CRASH:
        /* WAL with NORMAL: a commit is in the OS once it returns, so a
         * killed process loses nothing; power loss may lose the last. */
        pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
        break;
    default:
        pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
        break;
    }
    if (sp->cfg.durability != GW_DURABILITY_OFF &&
        !check_integrity(sp->db, err, err_len)) {
        return false;
    }
    /* The user_version write proves at start that the file can be
     * written: a read-only spool would otherwise answer 503 forever. */
    if (!exec_sql(sp->db, pragmas, err, err_len) ||
        !exec_sql(sp->db, "PRAGMA busy_timeout=5000;", err, err_len) ||
        !exec_sql(sp->db, schema, err, err_len) ||
        !exec_sql(sp->db, "PRAGMA user_version=1;", err, err_len)) {
        return false;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(sp->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &sp->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, err_len, "%s", sqlite3_errmsg(sp->db));
            return false;
        }
    }
    return true;
}

static bool
count_waiting(struct gw_spool *sp, char *err, size_t err_len)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;

    if (sqlite3_prepare_v2(sp->db,
                           "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0),"
                           " COALESCE(MAX(seq), 0) FROM events",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        atomic_store(&sp->depth, sqlite3_column_int64(st, 0));
        atomic_store(&sp->bytes, sqlite3_column_int64(st, 1));
        sp->committed_seq = sqlite3_column_int64(st, 2);
        ok = true;
    } else {
        snprintf(err, err_len, "%s", sqlite3_errmsg(sp->db));
    }
    sqlite3_finalize(st);
    return ok;
}

static void *run_writer(void *arg);

/* Rebuilds the in-memory set from seen_log: duplicates are recognized
 * across a restart as within one run. */
static bool
load_seen(struct gw_spool *sp, char *err, size_t err_len)
{
    sqlite3_stmt *st = NULL;
    int64_t cutoff = gw_clock_now_ms() - sp->cfg.dedup_window_ms;
    bool ok = true;
    int rc;

    sp->seen = gw_seen_new(sp->cfg.dedup_window_ms);
    if (sp->seen == NULL ||
        sqlite3_prepare_v2(sp->db,
                           "SELECT id, seen_ms FROM seen_log "
                           "WHERE seen_ms >= ?1 ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s",
                 sp->seen == NULL ? "out of memory" : sqlite3_errmsg(sp->db));
        return false;
    }
    sqlite3_bind_int64(st, 1, cutoff);
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);

        ok = id == NULL || gw_seen_mark(sp->seen, id,
                                        sqlite3_column_int64(st, 1)) !=
                               GW_SEEN_NO_MEMORY;
    }
    if (ok && rc != SQLITE_DONE) {
        snprintf(err, err_len, "%s", sqlite3_errmsg(sp->db));
        ok = false;
    } else if (!ok) {
        snprintf(err, err_len, "out of memory for the seen ids");
    }
    sqlite3_finalize(st);
    return ok;
}

struct gw_spool *
gw_spool_open(const struct gw_spool_config *cfg, char *err, size_t err_len)
{
    struct gw_spool *sp = calloc(1, sizeof(*sp));
    const char *path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                SQLITE_OPEN_NOMUTEX;

    if (sp == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    sp->cfg = *cfg;
    sp->jobs_tail = &sp->jobs;
    pthread_mutex_init(&sp->db_lock, NULL);
    pthread_mutex_init(&sp->q_lock, NULL);
    pthread_mutex_init(&sp->rows_lock, NULL);
    init_cond(&sp->q_ready);
    init_cond(&sp->rows_ready);
    path = cfg->durability == GW_DURABILITY_OFF ? ":memory:" : cfg->path;
    if (sqlite3_open_v2(path, &sp->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "spool %s: %s", path,
                 sp->db != NULL ? sqlite3_errmsg(sp->db) : "out of memory");
        gw_spool_close(sp);
        return NULL;
    }
    if (!configure(sp, err, err_len) || !count_waiting(sp, err, err_len) ||
        (cfg->dedup_window_ms > 0 && !load_seen(sp, err, err_len))) {
        char detail[200];

        snprintf(detail, sizeof(detail), "%s", err);
        snprintf(err, err_len, "spool %s: %s", path, detail);
        gw_spool_close(sp);
        return NULL;
    }
    sp->last_prune_ms = gw_clock_now_ms();
    if (pthread_create(&sp->writer, NULL, run_writer, sp) != 0) {
        snprintf(err, err_len, "cannot start the spool writer");
        gw_spool_close(sp);
        return NULL;
    }
    sp->writer_started = true;
    return sp;
}

static void
job_free(struct job *job)
{
    for (size_t i = 0; i < job->n; i++) {
        free(job->json[i]);
        free(job->ids[i]);
    }
    free(job->json);
    free(job->ids);
    free(job->duplicate);
    free(job);
}

static struct job *
job_new(char **json, const char *const *ids, size_t n)
{
    struct job *job = calloc(1, sizeof(*job));

    if (job == NULL) {
        return NULL;
    }
    job->json = calloc(n, sizeof(char *));
    job->ids = calloc(n, sizeof(char *));
    job->duplicate = calloc(n, sizeof(bool));
    if (job->json == NULL || job->ids == NULL || job->duplicate == NULL) {
        job_free(job);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        job->ids[i] = strdup(ids[i]);
        if (job->ids[i] == NULL) {
            job_free(job);
            return NULL;
        }
    }
    /* Only now, when nothing can fail, the strings change hands. */
    for (size_t i = 0; i < n; i++) {
        job->json[i] = json[i];
        json[i] = NULL;
    }
    job->n = n;
    return job;
}

/* Are all these ids already seen within the window? Only asked when the
 * spool is full: a duplicate then still gets its 202, as it takes no room. */
static bool
all_seen(struct gw_spool *sp, const char *const *ids, size_t n)
{
    int64_t now = gw_clock_now_ms();

    if (sp->seen == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!gw_seen_contains(sp->seen, ids[i], now)) {
            return false;
        }
    }
    return true;
}

enum gw_spool_result
gw_spool_append(struct gw_spool *sp, char **json, const char *const *ids,
                size_t n, gw_spool_done_fn done, void *ctx)
{
    struct job *job;
    int64_t size = 0, before;

    for (size_t i = 0; i < n; i++) {
        size += (int64_t)strlen(json[i]);
    }
    if (size > sp->cfg.max_bytes) {
        return GW_SPOOL_TOO_LARGE;
    }
    /* Room is reserved now, not at commit: requests waiting for the same
     * commit must not all see the same free space. */
    before = atomic_fetch_add(&sp->bytes, size);
    if (before + size > sp->cfg.max_bytes) {
        atomic_fetch_sub(&sp->bytes, size);
        if (!all_seen(sp, ids, n)) {
            return GW_SPOOL_FULL;
        }
        size = 0;
    }
    job = job_new(json, ids, n);
    if (job == NULL) {
        atomic_fetch_sub(&sp->bytes, size);
        return GW_SPOOL_NO_MEMORY;
    }
    job->reserved = size;
    job->done = done;
    job->ctx = ctx;
    pthread_mutex_lock(&sp->q_lock);
    if (sp->stopping) {
        pthread_mutex_unlock(&sp->q_lock);
        /* Hand the strings back: the caller still owns them on failure. */
        for (size_t i = 0; i < n; i++) {
            json[i] = job->json[i];
            job->json[i] = NULL;
        }
        job_free(job);
        atomic_fetch_sub(&sp->bytes, size);
        return GW_SPOOL_STOPPING;
    }
    *sp->jobs_tail = job;
    sp->jobs_tail = &job->next;
    pthread_cond_signal(&sp->q_ready);
    pthread_mutex_unlock(&sp->q_lock);
    return GW_SPOOL_OK;
}

static int
step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Is id already seen within the window? Records it when not: in memory
 * at once, and in seen_log within the same transaction as the event. */
static int
check_and_mark(struct gw_spool *sp, const char *id, int64_t now, bool *dup)
{
    sqlite3_stmt *put = sp->st[ST_SEEN_PUT];
    int rc;

    *dup = false;
    if (sp->seen == NULL) {
        return SQLITE_OK;
    }
    switch (gw_seen_mark(sp->seen, id, now)) {
    case GW_SEEN_DUPLICATE:
        *dup = true;
        return SQLITE_OK;
    case GW_SEEN_NO_MEMORY:
        return SQLITE_NOMEM;
    case GW_SEEN_NEW:
        break;
    }
    sqlite3_bind_text(put, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(put, 2, now);
    rc = step_done(put);
    if (rc != SQLITE_DONE) {
        gw_seen_forget(sp->seen, id);
        return rc;
    }
    return SQLITE_OK;
}

static int
store_job(struct gw_spool *sp, struct job *job, int64_t now, int64_t *bytes,
          int64_t *rows, int64_t *last_seq)
{
    sqlite3_stmt *put = sp->st[ST_EVENT_PUT];
    int rc;

    for (size_t i = 0; i < job->n; i++) {
        rc = check_and_mark(sp, job->ids[i], now, &job->duplicate[i]);
        if (rc != SQLITE_OK) {
            return rc;
        }
        job->marked = i + 1;
        if (job->duplicate[i]) {
            continue;
        }
        sqlite3_bind_text(put, 1, job->ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(put, 2, job->json[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(put, 3, now);
        rc = step_done(put);
        if (rc != SQLITE_DONE) {
            return rc;
        }
        *bytes += (int64_t)strlen(job->json[i]);
        *last_seq = sqlite3_last_insert_rowid(sp->db);
        (*rows)++;
    }
    return SQLITE_OK;
}

static int
apply_removals(struct gw_spool *sp, const int64_t *seqs, size_t n,
               struct burial *burials)
{
    sqlite3_stmt *del = sp->st[ST_EVENT_DEL], *dead = sp->st[ST_DEAD_PUT];
    int rc;

    for (struct burial *b = burials; b != NULL; b = b->next) {
        sqlite3_bind_int64(dead, 1, b->seq);
        sqlite3_bind_int64(dead, 2, gw_clock_now_ms());
        sqlite3_bind_int64(dead, 3, b->status);
        sqlite3_bind_text(dead, 4, b->answer, -1, SQLITE_STATIC);
        rc = step_done(dead);
        if (rc != SQLITE_DONE) {
            return rc;
        }
        sqlite3_bind_int64(del, 1, b->seq);
        rc = step_done(del);
        if (rc != SQLITE_DONE) {
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(del, 1, seqs[i]);
        rc = step_done(del);
        if (rc != SQLITE_DONE) {
            return rc;
        }
    }
    return SQLITE_OK;
}

struct batch {
    struct job *jobs;
    int64_t *removals;
    size_t removal_count;
    struct burial *burials;
};

/* seen_log is in time order: everything before the first row still in
 * the window goes, by rowid, without an index. */
static int
prune_seen(struct gw_spool *sp, int64_t now)
{
    sqlite3_stmt *first = sp->st[ST_SEEN_FIRST_LIVE];
    int64_t keep_from = INT64_MAX;
    int rc;

    sqlite3_bind_int64(first, 1, now - sp->cfg.dedup_window_ms);
    rc = sqlite3_step(first);
    if (rc == SQLITE_ROW) {
        keep_from = sqlite3_column_int64(first, 0);
    }
    sqlite3_reset(first);
    sqlite3_clear_bindings(first);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return rc;
    }
    sqlite3_bind_int64(sp->st[ST_SEEN_PRUNE], 1, keep_from);
    rc = step_done(sp->st[ST_SEEN_PRUNE]);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    gw_seen_compact(sp->seen, now);
    return SQLITE_OK;
}

/* A rolled-back batch stored nothing: its ids were never seen. */
static void
forget_marks(struct gw_spool *sp, struct job *jobs)
{
    if (sp->seen == NULL) {
        return;
    }
    for (struct job *j = jobs; j != NULL; j = j->next) {
        for (size_t i = 0; i < j->marked; i++) {
            if (!j->duplicate[i]) {
                gw_seen_forget(sp->seen, j->ids[i]);
            }
        }
    }
}

/* One transaction for everything that waited: the cost of a commit (an
 * fsync at the power-loss level) is shared by all of it. */
static int
commit_batch(struct gw_spool *sp, struct batch *b, int64_t *bytes,
             int64_t *rows, int64_t *last_seq)
{
    int64_t now = gw_clock_now_ms();
    int rc = sqlite3_exec(sp->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

    for (struct job *j = b->jobs; j != NULL && rc == SQLITE_OK; j = j->next) {
        rc = store_job(sp, j, now, bytes, rows, last_seq);
    }
    if (rc == SQLITE_OK) {
        rc = apply_removals(sp, b->removals, b->removal_count, b->burials);
    }
    if (rc == SQLITE_OK && sp->seen != NULL &&
        now - sp->last_prune_ms >= PRUNE_EVERY_MS) {
        rc = prune_seen(sp, now);
        sp->last_prune_ms = now;
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(sp->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        gw_log(GW_LOG_ERROR, "spool", "commit_failed",
               GW_F_STR("error", sqlite3_errmsg(sp->db)), GW_F_END);
        sqlite3_exec(sp->db, "ROLLBACK", NULL, NULL, NULL);
        forget_marks(sp, b->jobs);
    }
    return rc;
}

static void
settle(struct gw_spool *sp, struct batch *b, int rc, int64_t bytes,
       int64_t rows)
{
    size_t removed = b->removal_count;
    int64_t reserved = 0;

    for (struct burial *x = b->burials; x != NULL; x = x->next) {
        removed++;
    }
    for (struct job *j = b->jobs; j != NULL; j = j->next) {
        reserved += j->reserved;
    }
    /* What was reserved becomes what was stored (duplicates take none);
     * after a failed commit nothing was stored. */
    atomic_fetch_add(&sp->bytes, (rc == SQLITE_OK ? bytes : 0) - reserved);
    if (rc == SQLITE_OK) {
        atomic_fetch_add(&sp->depth, rows - (int64_t)removed);
    }
    for (struct job *j = b->jobs, *next; j != NULL; j = next) {
        next = j->next;
        if (j->done != NULL) {
            j->done(j->ctx, rc == SQLITE_OK ? GW_SPOOL_OK : GW_SPOOL_IO,
                    j->duplicate);
        }
        job_free(j);
    }
    for (struct burial *x = b->burials, *next; x != NULL; x = next) {
        next = x->next;
        free(x);
    }
    free(b->removals);
}

static bool
take_batch(struct gw_spool *sp, struct batch *b)
{
    bool more;

    pthread_mutex_lock(&sp->q_lock);
    while (sp->jobs == NULL && sp->removal_count == 0 &&
           sp->burials == NULL && !sp->stopping) {
        pthread_cond_wait(&sp->q_ready, &sp->q_lock);
    }
    b->jobs = sp->jobs;
    b->removals = sp->removals;
    b->removal_count = sp->removal_count;
    b->burials = sp->burials;
    more = b->jobs != NULL || b->removal_count > 0 || b->burials != NULL ||
           !sp->stopping;
    sp->jobs = NULL;
    sp->jobs_tail = &sp->jobs;
    sp->removals = NULL;
    sp->removal_count = sp->removal_cap = 0;
    sp->burials = NULL;
    pthread_mutex_unlock(&sp->q_lock);
    return more;
}

static void
announce_rows(struct gw_spool *sp, int64_t last)
{
    pthread_mutex_lock(&sp->rows_lock);
    if (last > sp->committed_seq) {
        sp->committed_seq = last;
    }
    if (sp->wake_after_rows > 0 &&
        sp->committed_seq - sp->wake_from_seq >= (int64_t)sp->wake_after_rows) {
        pthread_cond_signal(&sp->rows_ready);
    }
    pthread_mutex_unlock(&sp->rows_lock);
}

static void *
run_writer(void *arg)
{
    struct gw_spool *sp = arg;
    struct batch b;

    while (take_batch(sp, &b)) {
        int64_t bytes = 0, rows = 0, last_seq = 0;
        int rc;

        pthread_mutex_lock(&sp->db_lock);
        rc = commit_batch(sp, &b, &bytes, &rows, &last_seq);
        if (rc == SQLITE_OK && last_seq > 0) {
            announce_rows(sp, last_seq);
        }
        pthread_mutex_unlock(&sp->db_lock);
        settle(sp, &b, rc, bytes, rows);
    }
    return NULL;
}

size_t
gw_spool_next(struct gw_spool *sp, int64_t after, size_t max,
              int64_t wait_ms, int64_t fill_ms, struct gw_spool_row *rows)
{
    sqlite3_stmt *st = sp->st[ST_EVENT_NEXT];
    struct timespec ts;
    size_t n = 0;
    int step = SQLITE_DONE;

    /* Sleep until one event, then a full batch, is committed past after. */
    pthread_mutex_lock(&sp->rows_lock);
    for (int phase = 0; phase < 2; phase++) {
        size_t want = phase == 0 ? 1 : max;

        deadline_in(&ts, phase == 0 ? wait_ms : fill_ms);
        sp->wake_from_seq = after;
        sp->wake_after_rows = want;
        while (sp->committed_seq - after < (int64_t)want &&
               !sp->interrupted &&
               pthread_cond_timedwait(&sp->rows_ready, &sp->rows_lock,
                                      &ts) == 0) {
        }
        if (sp->committed_seq <= after) {
            break;
        }
    }
    sp->wake_after_rows = 0;
    pthread_mutex_unlock(&sp->rows_lock);

    pthread_mutex_lock(&sp->db_lock);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 1);
        const char *body = (const char *)sqlite3_column_text(st, 2);

        rows[n].seq = sqlite3_column_int64(st, 0);
        rows[n].id = strdup(id != NULL ? id : "");
        rows[n].json = strdup(body != NULL ? body : "");
        if (rows[n].id == NULL || rows[n].json == NULL) {
            free(rows[n].id);
            free(rows[n].json);
            break;
        }
        n++;
    }
    if (n < max && step != SQLITE_DONE && step != SQLITE_ROW &&
        gw_clock_mono_ms() - sp->read_error_logged_ms >= 60000) {
        /* Nothing can be delivered while this lasts: say so, once a
         * minute. */
        sp->read_error_logged_ms = gw_clock_mono_ms();
        gw_log(GW_LOG_ERROR, "spool", "read_failed",
               GW_F_STR("error", sqlite3_errmsg(sp->db)), GW_F_END);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&sp->db_lock);
    return n;
}

void
gw_spool_interrupt(struct gw_spool *sp)
{
    pthread_mutex_lock(&sp->rows_lock);
    sp->interrupted = true;
    pthread_cond_broadcast(&sp->rows_ready);
    pthread_mutex_unlock(&sp->rows_lock);
}

void
gw_spool_rows_clear(struct gw_spool_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].json);
        rows[i].id = NULL;
        rows[i].json = NULL;
    }
}

void
gw_spool_remove(struct gw_spool *sp, const struct gw_spool_row *rows,
                size_t n)
{
    int64_t bytes = 0;

    pthread_mutex_lock(&sp->q_lock);
    if (sp->removal_count + n > sp->removal_cap) {
        size_t cap = (sp->removal_count + n) * 2;
        int64_t *grown = realloc(sp->removals, cap * sizeof(int64_t));

        if (grown == NULL) {
            /* Left in the spool: sent again after a restart, which the
             * event id lets the upstream recognize. */
            pthread_mutex_unlock(&sp->q_lock);
            return;
        }
        sp->removals = grown;
        sp->removal_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        sp->removals[sp->removal_count++] = rows[i].seq;
        bytes += (int64_t)strlen(rows[i].json);
    }
    pthread_cond_signal(&sp->q_ready);
    pthread_mutex_unlock(&sp->q_lock);
    /* Room is given back at once: the rows are as good as gone. */
    atomic_fetch_sub(&sp->bytes, bytes);
}

void
gw_spool_bury(struct gw_spool *sp, const struct gw_spool_row *row,
              long status, const char *answer)
{
    struct burial *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        return; /* stays queued; retried after a restart */
    }
    b->seq = row->seq;
    b->status = status;
    snprintf(b->answer, sizeof(b->answer), "%s", answer != NULL ? answer : "");
    pthread_mutex_lock(&sp->q_lock);
    b->next = sp->burials;
    sp->burials = b;
    pthread_cond_signal(&sp->q_ready);
    pthread_mutex_unlock(&sp->q_lock);
    atomic_fetch_sub(&sp->bytes, (int64_t)strlen(row->json));
}

int64_t
gw_spool_depth(struct gw_spool *sp)
{
    return atomic_load(&sp->depth);
}

void
gw_spool_close(struct gw_spool *sp)
{
    if (sp == NULL) {
        return;
    }
    if (sp->writer_started) {
        pthread_mutex_lock(&sp->q_lock);
        sp->stopping = true;
        pthread_cond_signal(&sp->q_ready);
        pthread_mutex_unlock(&sp->q_lock);
        pthread_join(sp->writer, NULL);
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(sp->st[i]);
    }
    if (sp->db != NULL) {
        sqlite3_close(sp->db);
    }
    free(sp->removals);
    gw_seen_free(sp->seen);
    pthread_mutex_destroy(&sp->db_lock);
    pthread_mutex_destroy(&sp->q_lock);
    pthread_mutex_destroy(&sp->rows_lock);
    pthread_cond_destroy(&sp->q_ready);
    pthread_cond_destroy(&sp->rows_ready);
    free(sp);
}

static sqlite3 *
open_offline(const char *path, char *err, size_t err_len)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
            SQLITE_OK ||
        !exec_sql(db, "PRAGMA busy_timeout=5000;", err, err_len)) {
        snprintf(err, err_len, "spool %s: %s", path,
                 db != NULL ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

long
gw_spool_dead_list(const char *path, FILE *out, char *err, size_t err_len)
{
    sqlite3 *db = open_offline(path, err, err_len);
    sqlite3_stmt *st = NULL;
    long n = 0;

    if (db == NULL) {
        return -1;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT id, status, failed_ms, answer, body "
                           "FROM dead ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "%s\t%d\t%lld\t%s\t%s\n",
                (const char *)sqlite3_column_text(st, 0),
                sqlite3_column_int(st, 1),
                (long long)sqlite3_column_int64(st, 2),
                sqlite3_column_text(st, 3) != NULL
                    ? (const char *)sqlite3_column_text(st, 3)
                    : "",
                (const char *)sqlite3_column_text(st, 4));
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

long
gw_spool_dead_replay(const char *path, const char *id, char *err,
                     size_t err_len)
{
    static const char move[] =
        "INSERT INTO events (id, body, accepted_ms) SELECT id, body,"
        " accepted_ms FROM dead WHERE ?1 IS NULL OR id = ?1 ORDER BY seq;";
    static const char drop[] = "DELETE FROM dead WHERE ?1 IS NULL OR id = ?1";
    sqlite3 *db = open_offline(path, err, err_len);
    sqlite3_stmt *ins = NULL, *del = NULL;
    long n = -1;

    if (db == NULL) {
        return -1;
    }
    if (exec_sql(db, "BEGIN IMMEDIATE", err, err_len) &&
        sqlite3_prepare_v2(db, move, -1, &ins, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, drop, -1, &del, NULL) == SQLITE_OK &&
        (id == NULL ? sqlite3_bind_null(ins, 1)
                    : sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC)) ==
            SQLITE_OK &&
        (id == NULL ? sqlite3_bind_null(del, 1)
                    : sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC)) ==
            SQLITE_OK &&
        sqlite3_step(ins) == SQLITE_DONE) {
        n = sqlite3_changes(db);
        if (sqlite3_step(del) != SQLITE_DONE ||
            !exec_sql(db, "COMMIT", err, err_len)) {
            n = -1;
        }
    }
    if (n < 0) {
        if (err[0] == '\0') {
            snprintf(err, err_len, "%s", sqlite3_errmsg(db));
        }
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_close(db);
    return n;
}

int64_t
gw_spool_oldest_ms(struct gw_spool *sp)
{
    sqlite3_stmt *st = NULL;
    int64_t oldest = 0;

    /* seq follows acceptance order: the first row is the oldest. */
    pthread_mutex_lock(&sp->db_lock);
    if (sqlite3_prepare_v2(sp->db,
                           "SELECT accepted_ms FROM events ORDER BY seq "
                           "LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        oldest = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sp->db_lock);
    return oldest;
}
