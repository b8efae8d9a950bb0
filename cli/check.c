/* cli/check.c: check-config, for the person about to deploy: everything a
 * start would refuse, found without starting, in the start's own words. */
#include "cli/check.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handlers/webhook.h"

/* A start creates missing folders (mkdir -p): the nearest existing one
 * must take new entries, and an existing file must be writable. */
static bool
check_writable(const char *key, const char *path, char *why, size_t len)
{
    char dir[PATH_MAX];
    struct stat st;
    char *slash;

    if (access(path, F_OK) == 0) {
        if (access(path, W_OK) != 0) {
            snprintf(why, len, "%s: %.200s is not writable (%s)", key, path,
                     strerror(errno));
            return false;
        }
        return true;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    for (;;) {
        slash = strrchr(dir, '/');
        if (slash == NULL) {
            snprintf(dir, sizeof(dir), ".");
        } else if (slash == dir) {
            dir[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (access(dir, F_OK) == 0 || slash == NULL || slash == dir) {
            break;
        }
    }
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(why, len, "%s: cannot create %.200s: %.200s is not a "
                 "folder", key, path, dir);
        return false;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(why, len, "%s: cannot create %.200s: folder %.200s is not "
                 "writable (%s)", key, path, dir, strerror(errno));
        return false;
    }
    return true;
}

static void
print_webhooks(const struct gw_handler_env *env, FILE *out)
{
    const struct gw_webhook_env *w = env->webhooks;
    size_t shown = 0;

    fprintf(out, "  webhooks: ");
    for (size_t i = 0; w != NULL && i < w->source_count; i++) {
        if (w->sources[i].configured) {
            fprintf(out, "%s%s", shown++ > 0 ? ", " : "",
                    w->sources[i].provider->name);
        }
    }
    fprintf(out, "%s\n", shown == 0 ? "none" : "");
}

static void
print_summary(const struct gw_config *cfg, const struct gw_handler_env *env,
              FILE *out)
{
    bool memory = strcmp(cfg->spool_durability, "off") == 0;

    fprintf(out, "check-config: ok\n");
    fprintf(out, "  listen: %s:%ld\n", cfg->listen_host, cfg->listen_port);
    fprintf(out, "  users' keys (auth.*): %zu, iss %s, aud %s\n",
            env->user_keys.count, cfg->auth.iss[0] ? cfg->auth.iss : "any",
            cfg->auth.aud[0] ? cfg->auth.aud : "any");
    fprintf(out, "  backend keys (backend.*): %zu, iss %s, aud %s\n",
            env->backend_keys.count,
            cfg->backend.iss[0] ? cfg->backend.iss : "any",
            cfg->backend.aud[0] ? cfg->backend.aud : "any");
    print_webhooks(env, out);
    if (cfg->upstream_url[0] != '\0') {
        fprintf(out, "  upstream: %s (api key %s, %s)\n", cfg->upstream_url,
                cfg->upstream_api_key[0] ? "set" : "NOT set",
                cfg->upstream_auth_header);
    } else {
        fprintf(out, "  upstream: none; events go to %s\n", cfg->output_file);
    }
    fprintf(out, "  spool: %s (durability %s)\n",
            memory ? "in memory" : cfg->spool_path, cfg->spool_durability);
}

int
gw_check_report(const struct gw_config *cfg,
                const struct gw_handler_env *env, bool has_keys, FILE *out,
                FILE *err)
{
    char why[PATH_MAX + 128];

    if (strcmp(cfg->spool_durability, "off") != 0 &&
        !check_writable("spool.path", cfg->spool_path, why, sizeof(why))) {
        fprintf(err, "check-config: %s\n", why);
        return 2;
    }
    if (cfg->upstream_url[0] == '\0' &&
        !check_writable("output.file", cfg->output_file, why, sizeof(why))) {
        fprintf(err, "check-config: %s\n", why);
        return 2;
    }
    print_summary(cfg, env, out);
    if (!has_keys) {
        fprintf(out, "warning: no key is configured: a start would create "
                "development keys under %s/dev-keys; never in production\n",
                cfg->data_dir);
    }
    if (cfg->upstream_url[0] != '\0' && cfg->upstream_api_key[0] == '\0') {
        fprintf(out, "warning: upstream.url is set but upstream.api_key is "
                "empty: the Track API will likely refuse every batch\n");
    }
    return 0;
}
