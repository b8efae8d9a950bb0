/* handlers/ready.c: GET /readyz. A load balancer sends traffic only to a
 * replica that can store events and verify tokens; the answer names what
 * is missing so that a person reading a probe failure knows where to look. */
#include "handlers/ready.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "metrics/metrics.h"

#define MAX_SETS 16
#define NAME_MAX_BYTES 32
#define DETAIL_MAX_BYTES 160

struct keyset_state {
    char name[NAME_MAX_BYTES];
    enum gw_ready_keys state;
    char detail[DETAIL_MAX_BYTES];
};

/* Process-wide, like the metrics: key sets report from any thread. The
 * names never move once written, so they serve as metric labels. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct keyset_state sets[MAX_SETS];
static size_t set_count;
static char spool_dir[PATH_MAX];
static char spool_file[PATH_MAX];
static atomic_bool stopping;

void
gw_ready_watch_spool(const char *path)
{
    char *slash;

    pthread_mutex_lock(&lock);
    spool_file[0] = '\0';
    spool_dir[0] = '\0';
    if (path != NULL) {
        snprintf(spool_file, sizeof(spool_file), "%s", path);
        snprintf(spool_dir, sizeof(spool_dir), "%s", path);
        slash = strrchr(spool_dir, '/');
        if (slash == NULL) {
            snprintf(spool_dir, sizeof(spool_dir), ".");
        } else if (slash == spool_dir) {
            slash[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    pthread_mutex_unlock(&lock);
}

void
gw_ready_keyset_report(const char *set, enum gw_ready_keys state,
                       const char *detail)
{
    struct keyset_state *s = NULL;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < set_count && s == NULL; i++) {
        if (strcmp(sets[i].name, set) == 0) {
            s = &sets[i];
        }
    }
    if (s == NULL && set_count < MAX_SETS) {
        s = &sets[set_count++];
        snprintf(s->name, sizeof(s->name), "%s", set);
    }
    if (s != NULL) {
        s->state = state;
        snprintf(s->detail, sizeof(s->detail), "%s",
                 detail != NULL ? detail : "");
        gw_metrics_inc2("signin_gateway_keyset_refreshes_total", "set",
                        s->name, "outcome",
                        state == GW_READY_KEYS_LOADED ? "ok" : "failed");
    }
    pthread_mutex_unlock(&lock);
}

void
gw_ready_set_stopping(void)
{
    atomic_store(&stopping, true);
}

static const char *
state_name(enum gw_ready_keys state)
{
    switch (state) {
    case GW_READY_KEYS_LOADED:
        return "loaded";
    case GW_READY_KEYS_STALE:
        return "stale";
    default:
        return "missing";
    }
}

/* SQLite writes its journal beside the file: the folder must take new
 * files, and a full disk fails every commit. */
static const char *
check_spool(char *problem, size_t len)
{
    struct statvfs fs;

    if (spool_file[0] == '\0') {
        return "memory";
    }
    /* The spool is open from the start, so the file exists; if it is
     * gone, someone removed it under the running gateway, and what it
     * holds would not survive a restart. */
    if (access(spool_file, F_OK) != 0) {
        snprintf(problem, len, "spool: %.200s is missing (removed while "
                 "running?)", spool_file);
        return "missing";
    }
    if (access(spool_dir, W_OK | X_OK) != 0 ||
        access(spool_file, W_OK) != 0) {
        snprintf(problem, len, "spool: %.200s is not writable", spool_file);
        return "not_writable";
    }
    if (statvfs(spool_dir, &fs) == 0 && fs.f_bavail == 0) {
        snprintf(problem, len, "spool: no free space for %.200s",
                 spool_file);
        return "disk_full";
    }
    return "ok";
}

static void
add_problem(struct json_object *list, const char *text)
{
    json_object_array_add(list, json_object_new_string(text));
}

static bool
fill_keys(struct json_object *keys, struct json_object *problems,
          bool *stale)
{
    char text[NAME_MAX_BYTES + DETAIL_MAX_BYTES + 32];
    bool ready = true;

    for (size_t i = 0; i < set_count; i++) {
        const struct keyset_state *s = &sets[i];

        json_object_object_add(keys, s->name,
                               json_object_new_string(state_name(s->state)));
        if (s->state == GW_READY_KEYS_STALE) {
            *stale = true;
        } else if (s->state == GW_READY_KEYS_MISSING) {
            ready = false;
            snprintf(text, sizeof(text), "keys %s: not loaded%s%s", s->name,
                     s->detail[0] != '\0' ? ": " : "", s->detail);
            add_problem(problems, text);
        }
    }
    return ready;
}

static void
handle_ready(struct gw_request *req, void *ctx)
{
    struct json_object *answer = json_object_new_object();
    struct json_object *keys = json_object_new_object();
    struct json_object *problems = json_object_new_array();
    char problem[PATH_MAX + 64] = "";
    const char *spool;
    bool ready, stale = false;

    (void)ctx;
    if (answer == NULL || keys == NULL || problems == NULL) {
        json_object_put(answer);
        json_object_put(keys);
        json_object_put(problems);
        gw_reply_error(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    pthread_mutex_lock(&lock);
    spool = check_spool(problem, sizeof(problem));
    if (problem[0] != '\0') {
        add_problem(problems, problem);
    }
    ready = fill_keys(keys, problems, &stale) && problem[0] == '\0';
    pthread_mutex_unlock(&lock);
    if (atomic_load(&stopping)) {
        ready = false;
        add_problem(problems, "shutting down (SIGTERM received)");
    }
    json_object_object_add(answer, "status",
                           json_object_new_string(ready ? "ready"
                                                        : "not_ready"));
    json_object_object_add(answer, "spool", json_object_new_string(spool));
    json_object_object_add(answer, "keys", keys);
    json_object_object_add(answer, "stale_keys",
                           json_object_new_boolean(stale));
    json_object_object_add(answer, "problems", problems);
    if (!ready) {
        gw_request_set_reason(req, "not_ready");
    }
    gw_reply_json(req, ready ? 200 : 503, answer);
}

struct gw_route
gw_ready_route(struct gw_handler_env *env)
{
    return (struct gw_route){"/readyz", "GET, HEAD", handle_ready, env};
}
