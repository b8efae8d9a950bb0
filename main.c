/* main.c: wires configuration, keys, forwarder and server; signals; exit
 * codes (0 clean stop, 1 runtime failure, 2 bad configuration). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "auth/devkeys.h"
#include "cli/check.h"
#include "cli/dlq.h"
#include "cli/healthcheck.h"
#include "cli/mint.h"
#include "cli/verify.h"
#include "common/clock.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/version.h"
#include "config/config.h"
#include "forward/forward.h"
#include "handlers/env.h"
#include "handlers/live.h"
#include "handlers/oidc.h"
#include "handlers/ready.h"
#include "handlers/webhook.h"
#include "metrics/metrics.h"

#define ERR_LEN 256
#define KEY_FILE_MAX ((size_t)1024 * 1024)
/* How long SIGTERM waits for requests under way before closing. */
#define SERVER_DRAIN_MS 5000

/* Comma lists from the configuration, split once at start-up. */
struct lists {
    char **subjects, **names, **events;
    size_t subject_count, name_count, event_count;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "signin-gateway %s: verifies sign-ins (ID tokens, service "
            "tokens) and forwards\nsigned_in events to a Track API.\n\n"
            "usage: signin-gateway [--config FILE] [--<setting> VALUE ...]\n"
            "       signin-gateway mint-token --help\n"
            "       signin-gateway dlq list|replay [--id ID] [settings]\n"
            "       signin-gateway check-config [settings]\n"
            "       signin-gateway verify --token TOKEN|--token-file FILE "
            "[--backend] [settings]\n"
            "       signin-gateway verify --webhook PROVIDER --body FILE "
            "--headers FILE [settings]\n"
            "       signin-gateway healthcheck [--path /healthz] [settings]\n"
            "       signin-gateway --version | --help\n\n",
            GW_VERSION);
    gw_config_print_help(out);
}

static bool
split_list(const char *text, char ***out, size_t *count)
{
    char *copy = strdup(text), *save = NULL, *tok;
    char **items = NULL;
    size_t n = 0;

    if (copy == NULL) {
        return false;
    }
    for (tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char **grown;

        while (*tok == ' ') {
            tok++;
        }
        tok[strcspn(tok, " ")] = '\0';
        if (*tok == '\0') {
            continue;
        }
        grown = realloc(items, (n + 1) * sizeof(char *));
        if (grown == NULL || (grown[n] = strdup(tok)) == NULL) {
            items = grown != NULL ? grown : items;
            break;
        }
        items = grown;
        n++;
    }
    free(copy);
    *out = items;
    *count = n;
    return true;
}

static void
free_list(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(items[i]);
    }
    free(items);
}

static bool
has_key_source(const struct gw_keys_config *kc)
{
    return kc->jwks_file[0] != '\0' || kc->hs_secret[0] != '\0' ||
           kc->hs_secret_file[0] != '\0' || kc->pem_file[0] != '\0';
}

static bool
load_file_into(struct gw_keyset *ks, const char *path, int kind,
               const char *kid, unsigned algs, char *err)
{
    char *text = NULL, msg[ERR_LEN];
    size_t len;
    bool ok;
    int e = gw_file_read(path, KEY_FILE_MAX, &text, &len);

    if (e != 0) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(e));
        return false;
    }
    if (kind == 0) {
        ok = gw_keyset_add_jwks(ks, text, len, algs, msg, sizeof(msg));
    } else if (kind == 1) {
        ok = gw_keyset_add_pem(ks, text, len, kid, algs, msg, sizeof(msg));
    } else {
        /* Secret files often end with the newline an editor adds. */
        if (len > 0 && text[len - 1] == '\n') {
            len--;
        }
        if (len > 0 && text[len - 1] == '\r') {
            len--;
        }
        ok = gw_keyset_add_secret(ks, text, len, kid, algs, msg, sizeof(msg));
        memset(text, 0, len);
    }
    free(text);
    if (!ok) {
        snprintf(err, ERR_LEN, "%.80s: %.160s", path, msg);
    }
    return ok;
}

static bool
load_keys(const char *who, const struct gw_keys_config *kc, int64_t leeway,
          struct gw_keyset *ks, struct gw_jwt_policy *policy, char *err)
{
    char bad[24], msg[ERR_LEN];
    unsigned algs;

    if (!gw_algs_parse_list(kc->algs, &algs, bad, sizeof(bad))) {
        snprintf(err, ERR_LEN, "%s.algs: unknown algorithm '%s'", who, bad);
        return false;
    }
    if ((kc->jwks_file[0] != '\0' &&
         !load_file_into(ks, kc->jwks_file, 0, NULL, algs, err)) ||
        (kc->pem_file[0] != '\0' &&
         !load_file_into(ks, kc->pem_file, 1, kc->pem_kid, algs, err)) ||
        (kc->hs_secret_file[0] != '\0' &&
         !load_file_into(ks, kc->hs_secret_file, 2, kc->hs_kid, algs, err))) {
        return false;
    }
    if (kc->hs_secret[0] != '\0' &&
        !gw_keyset_add_secret(ks, kc->hs_secret, strlen(kc->hs_secret),
                              kc->hs_kid, algs, msg, sizeof(msg))) {
        snprintf(err, ERR_LEN, "%s.hs_secret: %.200s", who, msg);
        return false;
    }
    policy->algs = algs;
    policy->iss = kc->iss[0] != '\0' ? kc->iss : NULL;
    policy->aud = kc->aud[0] != '\0' ? kc->aud : NULL;
    policy->leeway_s = leeway;
    gw_log(GW_LOG_INFO, "main", "keys_loaded", GW_F_STR("for", who),
           GW_F_INT("keys", ks->count), GW_F_INT("skipped", ks->skipped),
           GW_F_STR("iss", policy->iss), GW_F_STR("aud", policy->aud),
           GW_F_END);
    return true;
}

/* No key configured at all: the development set, said loudly. */
static bool
use_dev_keys(struct gw_config *cfg, char *err)
{
    char dir[PATH_MAX];
    struct {
        char **slot;
        const char *value;
    } sets[] = {
        {&cfg->auth.hs_secret_file, GW_DEVKEYS_HS_FILE},
        {&cfg->auth.jwks_file, GW_DEVKEYS_JWKS},
        {&cfg->backend.hs_secret_file, GW_DEVKEYS_BACKEND_FILE},
    };

    if (!gw_devkeys_ensure(cfg->data_dir, err, ERR_LEN)) {
        return false;
    }
    snprintf(dir, sizeof(dir), "%s/%s", cfg->data_dir, GW_DEVKEYS_DIR);
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        free(*sets[i].slot);
        if (asprintf(sets[i].slot, "%s/%s", dir, sets[i].value) < 0) {
            *sets[i].slot = NULL;
            snprintf(err, ERR_LEN, "out of memory");
            return false;
        }
    }
    free(cfg->auth.hs_kid);
    free(cfg->backend.hs_kid);
    free(cfg->auth.iss);
    free(cfg->auth.aud);
    free(cfg->backend.iss);
    free(cfg->backend.aud);
    cfg->auth.hs_kid = strdup(GW_DEVKEYS_HS_KID);
    cfg->backend.hs_kid = strdup(GW_DEVKEYS_BACKEND_KID);
    cfg->auth.iss = strdup(GW_DEVKEYS_ISS);
    cfg->auth.aud = strdup(GW_DEVKEYS_AUD);
    cfg->backend.iss = strdup(GW_DEVKEYS_ISS);
    cfg->backend.aud = strdup(GW_DEVKEYS_AUD);
    if (cfg->auth.hs_kid == NULL || cfg->backend.hs_kid == NULL ||
        cfg->auth.iss == NULL || cfg->auth.aud == NULL ||
        cfg->backend.iss == NULL || cfg->backend.aud == NULL) {
        snprintf(err, ERR_LEN, "out of memory");
        return false;
    }
    gw_log(GW_LOG_WARN, "main", "development_keys",
           GW_F_STR("message", "no key is configured: using development "
                               "keys; never use them in production"),
           GW_F_STR("dir", dir), GW_F_END);
    gw_log(GW_LOG_INFO, "main", "mint_hint",
           GW_F_STR("try", "signin-gateway mint-token --data-dir <data.dir> "
                           "--sub user-1 --email ada@example.com"),
           GW_F_END);
    return true;
}

static bool
setup_mapping(const struct gw_config *cfg, struct lists *l,
              struct gw_handler_env *env, char *err)
{
    const char *field = cfg->event_id_field, *dot = strchr(field, '.');
    struct gw_event_mapping *m = &env->mapping;

    if (!split_list(cfg->backend_subjects, &l->subjects, &l->subject_count) ||
        !split_list(cfg->auth_name_claims, &l->names, &l->name_count) ||
        !split_list(cfg->track_event_names, &l->events, &l->event_count)) {
        snprintf(err, ERR_LEN, "out of memory");
        return false;
    }
    m->group_claim = cfg->auth_group_claim;
    m->name_claims = (const char *const *)l->names;
    m->name_claim_count = l->name_count;
    m->event_names = (const char *const *)l->events;
    m->event_name_count = l->event_count;
    if (field[0] != '\0') {
        if (dot != NULL && !((dot - field == 10 &&
                              strncmp(field, "properties", 10) == 0) ||
                             (dot - field == 7 &&
                              strncmp(field, "context", 7) == 0))) {
            snprintf(err, ERR_LEN, "event.id_field: properties.<name>, "
                     "context.<name> or <name>");
            return false;
        }
        m->id_container = dot == NULL ? NULL
                                      : (field[0] == 'p' ? "properties"
                                                         : "context");
        m->id_key = dot == NULL ? field : dot + 1;
    }
    env->backend_subjects =
        l->subject_count > 0 ? (const char *const *)l->subjects : NULL;
    env->backend_subject_count = l->subject_count;
    env->track_max_events = (size_t)cfg->track_max_events;
    return true;
}

static struct gw_spool *
setup_spool(const struct gw_config *cfg, char *err)
{
    struct gw_spool_config sc = {
        .path = cfg->spool_path,
        .max_bytes = cfg->spool_max_bytes,
        .dedup_window_ms = cfg->dedup_window_s * 1000,
    };
    struct gw_spool *sp;
    char dir[PATH_MAX], *slash;
    int e;

    (void)gw_durability_parse(cfg->spool_durability, &sc.durability);
    snprintf(dir, sizeof(dir), "%s", cfg->spool_path);
    slash = strrchr(dir, '/');
    if (sc.durability != GW_DURABILITY_OFF && slash != NULL && slash != dir) {
        *slash = '\0';
        e = gw_file_mkdirs(dir, 0750);
        if (e != 0) {
            snprintf(err, ERR_LEN, "spool folder %.200s: %s", dir,
                     strerror(e));
            return NULL;
        }
    }
    sp = gw_spool_open(&sc, err, ERR_LEN);
    if (sp != NULL) {
        gw_log(GW_LOG_INFO, "main", "spool_open",
               GW_F_STR("path", sc.durability == GW_DURABILITY_OFF
                                    ? NULL
                                    : cfg->spool_path),
               GW_F_STR("durability", cfg->spool_durability),
               GW_F_INT("waiting", gw_spool_depth(sp)), GW_F_END);
    }
    return sp;
}

static struct gw_forward *
setup_forward(const struct gw_config *cfg, struct gw_spool *spool, char *err)
{
    struct gw_forward_config fc = {
        .sender = {.url = cfg->upstream_url,
                   .api_key = cfg->upstream_api_key,
                   .bearer = strcmp(cfg->upstream_auth_header, "bearer") == 0,
                   .timeout_ms = cfg->upstream_timeout_ms,
                   .file_path = cfg->output_file},
        .batch_max = (size_t)cfg->upstream_batch_max,
        .batch_ms = cfg->upstream_batch_ms,
        .retry_base_ms = cfg->upstream_retry_base_ms,
        .retry_max_ms = cfg->upstream_retry_max_ms,
    };
    struct gw_forward *fwd;
    char url[512];
    int e;

    if (cfg->upstream_url[0] == '\0') {
        e = gw_file_mkdirs(cfg->data_dir, 0750);
        if (e != 0) {
            snprintf(err, ERR_LEN, "data.dir %s: %s", cfg->data_dir,
                     strerror(e));
            return NULL;
        }
    }
    fwd = gw_forward_new(&fc, spool, err, ERR_LEN);
    if (fwd != NULL && !gw_forward_start(fwd)) {
        snprintf(err, ERR_LEN, "cannot start the forwarder thread");
        gw_forward_free(fwd);
        return NULL;
    }
    gw_config_redact_url(cfg->upstream_url, url, sizeof(url));
    gw_log(GW_LOG_INFO, "main", "output",
           GW_F_STR("upstream", cfg->upstream_url[0] ? url : NULL),
           GW_F_STR("file", cfg->upstream_url[0] ? NULL : cfg->output_file),
           GW_F_BOOL("api_key_set", cfg->upstream_api_key[0] != '\0'),
           GW_F_END);
    return fwd;
}

/* One generation of what the handlers read: its configuration (owned,
 * except the start-up one, which main owns), the split lists, the env. */
struct gen {
    struct gw_config *cfg;
    bool owns_cfg;
    struct lists lists;
    struct gw_handler_env env;
};

static void
gen_free(void *arg)
{
    struct gen *g = arg;

    if (g == NULL) {
        return;
    }
    gw_keyset_clear(&g->env.user_keys);
    gw_keyset_clear(&g->env.backend_keys);
    gw_webhook_env_free(g->env.webhooks);
    gw_oidc_free(g->env.oidc);
    free_list(g->lists.subjects, g->lists.subject_count);
    free_list(g->lists.names, g->lists.name_count);
    free_list(g->lists.events, g->lists.event_count);
    if (g->owns_cfg) {
        gw_config_free(g->cfg);
    }
    free(g);
}

/* Builds the handlers' env from cfg: webhooks, keys (development keys when
 * none is configured and dev_keys is true), mapping. Takes cfg when
 * owns_cfg (freed on failure too). NULL with err filled on failure. */
static struct gen *
gen_build(struct gw_config *cfg, bool owns_cfg, bool dev_keys, char *err)
{
    struct gen *g = calloc(1, sizeof(*g));

    if (g == NULL) {
        snprintf(err, ERR_LEN, "out of memory");
        if (owns_cfg) {
            gw_config_free(cfg);
        }
        return NULL;
    }
    g->cfg = cfg;
    g->owns_cfg = owns_cfg;
    g->env.webhooks = gw_webhook_env_load(cfg, cfg->auth_leeway_s, err,
                                          ERR_LEN);
    if (g->env.webhooks == NULL) {
        goto fail;
    }
    /* A webhook secret is a configured key too: no development keys. */
    if (dev_keys && !has_key_source(&cfg->auth) &&
        !has_key_source(&cfg->backend) && cfg->issuer_count == 0 &&
        !gw_webhook_env_any(g->env.webhooks) && !use_dev_keys(cfg, err)) {
        goto fail;
    }
    if (!load_keys("auth", &cfg->auth, cfg->auth_leeway_s,
                   &g->env.user_keys, &g->env.user_policy, err) ||
        !load_keys("backend", &cfg->backend, cfg->auth_leeway_s,
                   &g->env.backend_keys, &g->env.backend_policy, err) ||
        !setup_mapping(cfg, &g->lists, &g->env, err)) {
        goto fail;
    }
    /* Issuers' keys are fetched (and awaited a bounded time) before this
     * generation serves, at start and on reload alike. */
    if (cfg->issuer_count > 0 &&
        (g->env.oidc = gw_oidc_load(cfg, &g->env.mapping, err, ERR_LEN)) ==
            NULL) {
        goto fail;
    }
    if (g->env.user_keys.count > 0) {
        gw_ready_keyset_report("auth", GW_READY_KEYS_LOADED, NULL);
    }
    if (g->env.backend_keys.count > 0) {
        gw_ready_keyset_report("backend", GW_READY_KEYS_LOADED, NULL);
    }
    return g;
fail:
    gen_free(g);
    return NULL;
}

/* What a reload needs: how the configuration was given, and what stays. */
struct reload_ctx {
    int argc;
    char **argv;
    const struct gw_config *start; /* the settings the process runs on */
    struct gw_live *live;
    struct gw_spool *spool;
};

/* Settings read once at start (sockets, spool, forwarder): a reload that
 * changes them says they wait for a restart. */
static void
warn_restart_needed(const struct gw_config *a, const struct gw_config *b)
{
    char keys[ERR_LEN] = "";
    size_t n = 0;
    struct {
        const char *name;
        bool differs;
    } fixed[] = {
        {"listen.host", strcmp(a->listen_host, b->listen_host) != 0},
        {"listen.port", a->listen_port != b->listen_port},
        {"listen.threads", a->listen_threads != b->listen_threads},
        {"limits.body_max_bytes", a->body_max_bytes != b->body_max_bytes},
        {"upstream.url", strcmp(a->upstream_url, b->upstream_url) != 0},
        {"upstream.api_key",
         strcmp(a->upstream_api_key, b->upstream_api_key) != 0},
        {"upstream.auth_header",
         strcmp(a->upstream_auth_header, b->upstream_auth_header) != 0},
        {"spool.path", strcmp(a->spool_path, b->spool_path) != 0},
        {"spool.durability",
         strcmp(a->spool_durability, b->spool_durability) != 0},
        {"spool.max_bytes", a->spool_max_bytes != b->spool_max_bytes},
        {"output.file", strcmp(a->output_file, b->output_file) != 0},
        {"log.access", a->log_access != b->log_access},
    };

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (fixed[i].differs && n + strlen(fixed[i].name) + 2 < ERR_LEN) {
            n += (size_t)snprintf(keys + n, ERR_LEN - n, "%s%s",
                                  n > 0 ? "," : "", fixed[i].name);
        }
    }
    if (n > 0) {
        gw_log(GW_LOG_WARN, "main", "reload_needs_restart",
               GW_F_STR("keys", keys),
               GW_F_STR("message", "these settings are read at start only; "
                                   "restart to apply them"),
               GW_F_END);
    }
}

/* SIGHUP: the new configuration is built whole beside the old one and
 * swapped in only when every part of it loaded. */
static void
reload(const struct reload_ctx *rc)
{
    char err[ERR_LEN] = "";
    struct gw_config *cfg;
    enum gw_log_level level = GW_LOG_INFO;
    struct gen *g = NULL;

    cfg = gw_config_load(rc->argc, rc->argv, 1, err, sizeof(err));
    if (cfg != NULL && !gw_log_level_parse(cfg->log_level, &level)) {
        snprintf(err, ERR_LEN, "log.level: error, warn, info or debug");
        gw_config_free(cfg);
        cfg = NULL;
    }
    if (cfg != NULL) {
        warn_restart_needed(rc->start, cfg);
        g = gen_build(cfg, true, true, err);
    }
    if (g != NULL) {
        g->env.spool = rc->spool;
        if (!gw_live_swap(rc->live, &g->env, g)) {
            snprintf(err, ERR_LEN, "out of memory");
            gen_free(g);
            g = NULL;
        }
    }
    if (g == NULL) {
        gw_metrics_add("signin_gateway_reloads_total", "outcome", "refused",
                       1);
        gw_log(GW_LOG_ERROR, "main", "reload_refused", GW_F_STR("error", err),
               GW_F_STR("message", "the previous configuration keeps "
                                   "serving"),
               GW_F_END);
        return;
    }
    gw_log_set_level(level);
    gw_metrics_add("signin_gateway_reloads_total", "outcome", "ok", 1);
    gw_log(GW_LOG_INFO, "main", "reloaded",
           GW_F_INT("user_keys", g->env.user_keys.count),
           GW_F_INT("backend_keys", g->env.backend_keys.count), GW_F_END);
}

/* Rejections are counted and logged at debug one by one; this info line
 * sums them so that hostile traffic is visible without flooding. */
static void
log_rejections(void)
{
    char reasons[ERR_LEN];
    int64_t total = gw_metrics_delta_text("signin_gateway_rejections_total",
                                          reasons, sizeof(reasons));

    if (total > 0) {
        gw_log(GW_LOG_INFO, "main", "rejections", GW_F_INT("total", total),
               GW_F_STR("reasons", reasons), GW_F_END);
    }
}

static int
wait_for_stop(const sigset_t *signals, const struct reload_ctx *rc,
              long summary_s)
{
    int64_t next_ms = gw_clock_mono_ms() + summary_s * 1000;
    int sig;

    for (;;) {
        int64_t left = next_ms - gw_clock_mono_ms();
        struct timespec wait = {0, 0};

        if (left > 0) {
            wait.tv_sec = left / 1000;
            wait.tv_nsec = (left % 1000) * 1000000;
        }
        sig = sigtimedwait(signals, NULL, &wait);
        if (gw_clock_mono_ms() >= next_ms) {
            log_rejections();
            next_ms += summary_s * 1000;
        }
        if (sig < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (sig < 0) {
            return SIGTERM;
        }
        if (sig == SIGHUP) {
            reload(rc);
            continue;
        }
        return sig;
    }
}

static int
serve(struct gw_config *cfg, const struct reload_ctx *rctx,
      struct gw_forward *fwd, const sigset_t *signals)
{
    /* Every handler reads the env of the generation current when its
     * request is dispatched (SIGHUP swaps it). */
    struct gw_route routes[] = {
        gw_live_route(rctx->live, gw_signin_route(NULL)),
        gw_live_route(rctx->live, gw_track_route(NULL)),
        gw_live_route(rctx->live, gw_health_route(NULL)),
        gw_live_route(rctx->live, gw_metrics_route(NULL)),
        gw_live_route(rctx->live, gw_webhook_route(NULL)),
        gw_ready_route(NULL)};
    struct gw_server_config sc = {
        .host = cfg->listen_host,
        .port = (unsigned)cfg->listen_port,
        .threads = (unsigned)cfg->listen_threads,
        .body_max_bytes = (size_t)cfg->body_max_bytes,
        .access_log = cfg->log_access,
        /* Browsers call the sign-in route from the app's origins. */
        .cors_path = gw_signin_route(NULL).path,
        .cors_max_age_s = (unsigned)cfg->cors_max_age_s,
    };
    struct gw_server *srv;
    char err[ERR_LEN], **origins = NULL;
    size_t origin_count = 0;
    int64_t left;
    int sig;

    /* CORS origins are read at start only (a reload keeps them). */
    if (!split_list(cfg->cors_allowed_origins, &origins, &origin_count)) {
        return 1;
    }
    sc.cors_origins = (const char *const *)origins;
    sc.cors_origin_count = origin_count;
    srv = gw_server_start(&sc, routes, sizeof(routes) / sizeof(routes[0]),
                          err, sizeof(err));
    if (srv == NULL) {
        free_list(origins, origin_count);
        gw_log(GW_LOG_ERROR, "server", "listen_failed", GW_F_STR("error", err),
               GW_F_END);
        return 1;
    }
    gw_log(GW_LOG_INFO, "server", "listening",
           GW_F_STR("host", cfg->listen_host),
           GW_F_INT("port", gw_server_port(srv)),
           GW_F_STR("version", GW_VERSION), GW_F_END);
    sig = wait_for_stop(signals, rctx, cfg->log_summary_s);
    gw_ready_set_stopping();
    gw_log(GW_LOG_INFO, "main", "stopping", GW_F_INT("signal", sig),
           GW_F_END);
    /* No new connections; what is under way is answered; then the
     * upstream gets until the deadline; the rest waits in the spool. */
    gw_server_quiesce(srv);
    gw_server_stop(srv, SERVER_DRAIN_MS);
    free_list(origins, origin_count);
    left = gw_forward_stop(fwd, cfg->upstream_shutdown_ms);
    if (left > 0) {
        gw_log(strcmp(cfg->spool_durability, "off") == 0 ? GW_LOG_ERROR
                                                         : GW_LOG_INFO,
               "main", "events_left_in_spool", GW_F_INT("events", left),
               GW_F_STR("message",
                        strcmp(cfg->spool_durability, "off") == 0
                            ? "spool.durability is off: they are lost"
                            : "they are sent after the next start"),
               GW_F_END);
    }
    gw_log(GW_LOG_INFO, "main", "stopped", GW_F_END);
    return 0;
}

static int
run(struct gw_config *cfg, const sigset_t *signals, int argc, char **argv)
{
    struct reload_ctx rctx = {argc, argv, cfg, NULL, NULL};
    struct gw_forward *fwd = NULL;
    struct gen *gen = NULL;
    enum gw_log_level level;
    char err[ERR_LEN] = "";
    int rc = 2;

    if (!gw_log_level_parse(cfg->log_level, &level)) {
        fprintf(stderr, "log.level: error, warn, info or debug\n");
        return 2;
    }
    gw_log_set_level(level);
    gw_config_log(cfg);
    gen = gen_build(cfg, false, true, err);
    if (gen == NULL) {
        goto out;
    }
    rc = 1;
    rctx.spool = setup_spool(cfg, err);
    if (rctx.spool == NULL) {
        goto out;
    }
    gen->env.spool = rctx.spool;
    gw_ready_watch_spool(strcmp(cfg->spool_durability, "off") == 0
                             ? NULL
                             : cfg->spool_path);
    fwd = setup_forward(cfg, rctx.spool, err);
    if (fwd == NULL) {
        goto out;
    }
    rctx.live = gw_live_new(&gen->env, gen, gen_free);
    if (rctx.live == NULL) {
        snprintf(err, ERR_LEN, "out of memory");
        goto out;
    }
    gen = NULL; /* the live holder owns it now */
    rc = serve(cfg, &rctx, fwd, signals);
out:
    if (err[0] != '\0') {
        gw_log(GW_LOG_ERROR, "main", "start_failed", GW_F_STR("error", err),
               GW_F_END);
    }
    gw_forward_free(fwd);
    gw_live_free(rctx.live);
    gen_free(gen);
    gw_spool_close(rctx.spool);
    return rc;
}

/* check-config: the same loading as a start, without listening, without
 * creating anything; says exactly what is wrong. */
static int
check_config(int argc, char **argv)
{
    char err[ERR_LEN] = "";
    struct gw_config *cfg;
    enum gw_log_level level;
    struct gen *g;
    int rc;

    if (argc > 2 && strcmp(argv[2], "--help") == 0) {
        printf("usage: signin-gateway check-config [--config FILE] "
               "[settings]\nLoads the configuration as a start would "
               "(keys, secrets, webhooks, spool\nfolder) and prints what "
               "is wrong; exit 0 when it would start, 2 when not.\n");
        return 0;
    }
    /* The daemon's info lines (keys_loaded) are not this command's output. */
    gw_log_set_level(GW_LOG_ERROR);
    cfg = gw_config_load(argc, argv, 2, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "check-config: %s\n", err);
        return 2;
    }
    if (!gw_log_level_parse(cfg->log_level, &level)) {
        fprintf(stderr, "check-config: log.level: '%.32s' is not error, "
                "warn, info or debug\n", cfg->log_level);
        gw_config_free(cfg);
        return 2;
    }
    g = gen_build(cfg, true, false, err);
    if (g == NULL) {
        fprintf(stderr, "check-config: %s\n", err);
        return 2;
    }
    rc = gw_check_report(g->cfg, &g->env, has_key_source(&cfg->auth) ||
                         has_key_source(&cfg->backend) ||
                         gw_webhook_env_any(g->env.webhooks), stdout,
                         stderr);
    gen_free(g);
    return rc;
}

/* verify: explains, step by step, what the gateway would decide about a
 * token or a captured webhook, with the keys, secrets and policy of this
 * configuration. */
static int
verify(int argc, char **argv)
{
    struct gw_verify_opts opts = {0};
    char err[ERR_LEN] = "";
    struct gw_config *cfg;
    struct gen *g;
    int first, rc;

    first = gw_verify_parse(argc - 1, argv + 1, &opts);
    if (first <= 0) {
        return first == 0 ? 0 : 2;
    }
    gw_log_set_level(GW_LOG_ERROR);
    cfg = gw_config_load(argc, argv, first + 1, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "verify: %s\n", err);
        return 2;
    }
    g = gen_build(cfg, true, true, err);
    if (g == NULL) {
        fprintf(stderr, "verify: %s\n", err);
        return 2;
    }
    rc = gw_verify_run(&opts, &g->env, stdout, stderr);
    gen_free(g);
    return rc;
}

int
main(int argc, char **argv)
{
    struct gw_config *cfg;
    char err[ERR_LEN];
    sigset_t signals;
    int rc;

    if (argc > 1 && strcmp(argv[1], "mint-token") == 0) {
        return gw_mint_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "dlq") == 0) {
        return gw_dlq_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "healthcheck") == 0) {
        return gw_healthcheck_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "check-config") == 0) {
        return check_config(argc, argv);
    }
    if (argc > 1 && strcmp(argv[1], "verify") == 0) {
        return verify(argc, argv);
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
                     strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("signin-gateway %s\n", GW_VERSION);
        return 0;
    }
    cfg = gw_config_load(argc, argv, 1, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "signin-gateway: %s\n", err);
        return 2;
    }
    /* Signals are taken by sigwait in this thread only: every thread
     * started from here on inherits the blocked mask. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "signin-gateway: libcurl initialisation failed\n");
        gw_config_free(cfg);
        return 1;
    }
    rc = run(cfg, &signals, argc, argv);
    curl_global_cleanup();
    gw_config_free(cfg);
    return rc;
}
