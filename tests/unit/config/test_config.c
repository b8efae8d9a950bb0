/* tests/unit/config/test_config.c: defaults, the three sources (file,
 * environment, flags) and their precedence, value checks, secrets from
 * <VAR>_FILE, and what is derived after loading. */
#include "config/config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define ERR_LEN 256

/* Builds argv for gw_config_load: program name, then the given args. */
#define LOAD(err, ...) load_args(err, (const char *const[]){__VA_ARGS__, NULL})
#define LOAD_NONE(err) load_args(err, (const char *const[]){NULL})

extern char **environ;

static int passed;
static int failed;
static char tmp_dir[256];

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

static bool
str_is(const char *got, const char *want)
{
    return got != NULL && strcmp(got, want) == 0;
}

static bool
contains(const char *text, const char *part)
{
    return text != NULL && strstr(text, part) != NULL;
}

/* Each test starts from an environment without any GW_ variable, so that
 * the caller's shell (or CTest's GW_VECTORS) cannot change the result. */
static void
clear_gw_env(void)
{
    char name[256];
    bool again = true;

    while (again) {
        again = false;
        for (char **e = environ; *e != NULL; e++) {
            const char *eq = strchr(*e, '=');
            size_t len = eq != NULL ? (size_t)(eq - *e) : strlen(*e);

            if (strncmp(*e, "GW_", 3) == 0 && len < sizeof(name)) {
                memcpy(name, *e, len);
                name[len] = '\0';
                unsetenv(name);
                again = true; /* environ changed under us: rescan */
                break;
            }
        }
    }
}

/* args: NULL-terminated (a table row's unused slots are NULL). */
static struct gw_config *
load_args(char *err, const char *const *args)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = "signin-gateway";
    for (size_t i = 0; args[i] != NULL && argc < 31; i++) {
        argv[argc++] = (char *)args[i];
    }
    argv[argc] = NULL;
    err[0] = '\0';
    return gw_config_load(argc, argv, 1, err, ERR_LEN);
}

/* Writes text to a file in the test's temporary folder; returns its path
 * in a static buffer (valid until the next call). */
static const char *
write_temp(const char *name, const char *text)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return path;
}

static void
remove_temp_files(void)
{
    static const char *const names[] = {"gateway.conf", "refused.conf",
                                        "api-key", "hs.secret", "log.txt"};
    char path[512];

    for (size_t i = 0; i < COUNT(names); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
        unlink(path);
    }
    if (rmdir(tmp_dir) != 0) {
        perror(tmp_dir);
    }
}

static void
test_config_defaults_match_the_spec(void)
{
    char err[ERR_LEN];
    struct gw_config *cfg;
    const char *name = "defaults";

    clear_gw_env();
    cfg = LOAD_NONE(err);
    CHECK(cfg != NULL, "load with nothing set: ok", name);
    if (cfg == NULL) {
        fprintf(stderr, "  err: %s\n", err);
        return;
    }
    CHECK(str_is(cfg->listen_host, "127.0.0.1"), "listen.host", name);
    CHECK(cfg->listen_port == 8080, "listen.port", name);
    CHECK(cfg->listen_threads == 0, "listen.threads", name);
    CHECK(str_is(cfg->data_dir, "./data"), "data.dir", name);
    CHECK(cfg->body_max_bytes == 1048576, "limits.body_max_bytes", name);
    CHECK(cfg->track_max_events == 500, "limits.track_max_events", name);
    CHECK(str_is(cfg->auth.jwks_file, ""), "auth.jwks_file empty", name);
    CHECK(str_is(cfg->auth.hs_secret, ""), "auth.hs_secret empty", name);
    CHECK(str_is(cfg->auth.iss, ""), "auth.iss empty", name);
    CHECK(str_is(cfg->auth.algs, "HS256,HS384,HS512,RS256,RS384,RS512,"
                                 "PS256,PS384,PS512,ES256"),
          "auth.algs", name);
    CHECK(cfg->auth_leeway_s == 60, "auth.leeway_s", name);
    CHECK(str_is(cfg->auth_group_claim, "org_id"), "auth.group_claim", name);
    CHECK(str_is(cfg->auth_name_claims, "name,preferred_username"),
          "auth.name_claims", name);
    CHECK(str_is(cfg->backend.algs, cfg->auth.algs), "backend.algs", name);
    CHECK(str_is(cfg->backend.hs_secret_file, ""),
          "backend.hs_secret_file empty", name);
    CHECK(str_is(cfg->backend_subjects, ""), "backend.subjects empty", name);
    CHECK(str_is(cfg->track_event_names, "signed_in"), "track.event_names",
          name);
    CHECK(str_is(cfg->upstream_url, ""), "upstream.url empty", name);
    CHECK(str_is(cfg->upstream_api_key, ""), "upstream.api_key empty", name);
    CHECK(str_is(cfg->upstream_auth_header, "x-api-key"),
          "upstream.auth_header", name);
    CHECK(cfg->upstream_batch_max == 100, "upstream.batch_max", name);
    CHECK(cfg->upstream_batch_ms == 50, "upstream.batch_ms", name);
    CHECK(cfg->upstream_timeout_ms == 10000, "upstream.timeout_ms", name);
    CHECK(cfg->upstream_retry_base_ms == 200, "upstream.retry_base_ms", name);
    CHECK(cfg->upstream_retry_max_ms == 30000, "upstream.retry_max_ms", name);
    CHECK(cfg->spool_max_bytes == 1073741824L, "spool.max_bytes", name);
    CHECK(cfg->dedup_window_s == 86400, "dedup.window_s", name);
    CHECK(cfg->upstream_shutdown_ms == 10000, "upstream.shutdown_ms", name);
    CHECK(str_is(cfg->output_file, "./data/events.ndjson"),
          "output.file from data.dir", name);
    CHECK(str_is(cfg->event_id_field, "properties.message_id"),
          "event.id_field", name);
    CHECK(str_is(cfg->log_level, "info"), "log.level", name);
    CHECK(cfg->log_access, "log.access", name);
    gw_config_free(cfg);
}

static void
test_config_reads_each_key_from_its_environment_variable(void)
{
    char err[ERR_LEN];
    struct gw_config *cfg;
    const char *name = "environment";

    clear_gw_env();
    setenv("GW_LISTEN_PORT", "9090", 1);
    setenv("GW_LISTEN_HOST", "0.0.0.0", 1);
    setenv("GW_AUTH_LEEWAY_S", "5", 1);
    setenv("GW_BACKEND_SUBJECTS", "svc-a,svc-b", 1);
    setenv("GW_UPSTREAM_URL", "https://track.example/api/track", 1);
    setenv("GW_UPSTREAM_API_KEY", "env-key", 1);
    setenv("GW_LOG_ACCESS", "false", 1);
    setenv("GW_EVENT_ID_FIELD", "", 1);
    cfg = LOAD_NONE(err);
    CHECK(cfg != NULL, "load: ok", name);
    if (cfg != NULL) {
        CHECK(cfg->listen_port == 9090, "GW_LISTEN_PORT", name);
        CHECK(str_is(cfg->listen_host, "0.0.0.0"), "GW_LISTEN_HOST", name);
        CHECK(cfg->auth_leeway_s == 5, "GW_AUTH_LEEWAY_S", name);
        CHECK(str_is(cfg->backend_subjects, "svc-a,svc-b"),
              "GW_BACKEND_SUBJECTS", name);
        CHECK(str_is(cfg->upstream_url, "https://track.example/api/track"),
              "GW_UPSTREAM_URL", name);
        CHECK(str_is(cfg->upstream_api_key, "env-key"), "GW_UPSTREAM_API_KEY",
              name);
        CHECK(!cfg->log_access, "GW_LOG_ACCESS=false", name);
        CHECK(str_is(cfg->event_id_field, ""),
              "GW_EVENT_ID_FIELD empty: set to empty", name);
    }
    gw_config_free(cfg);
    clear_gw_env();
}

struct flag_case {
    const char *name;
    const char *args[4];
};

static void
test_config_reads_flags_with_a_space_or_an_equals_sign(void)
{
    static const struct flag_case cases[] = {
        {"--listen-port 9", {"--listen-port", "9"}},
        {"--listen-port=9", {"--listen-port=9"}},
        {"last flag wins", {"--listen-port=1", "--listen-port", "9"}},
    };
    char err[ERR_LEN];

    clear_gw_env();
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct gw_config *cfg = load_args(err, cases[i].args);

        CHECK(cfg != NULL && cfg->listen_port == 9, "listen.port 9",
              cases[i].name);
        gw_config_free(cfg);
    }
}

static void
test_config_names_flags_after_keys_with_dashes(void)
{
    char err[ERR_LEN];
    struct gw_config *cfg;
    const char *name = "flag names";

    clear_gw_env();
    cfg = LOAD(err, "--auth-hs-secret-file", "/run/secrets/hs",
               "--upstream-batch-max=5", "--log-access", "0",
               "--backend-iss=svc-issuer", "--upstream-auth-header", "bearer",
               "--limits-track-max-events", "7");
    CHECK(cfg != NULL, "load: ok", name);
    if (cfg != NULL) {
        CHECK(str_is(cfg->auth.hs_secret_file, "/run/secrets/hs"),
              "--auth-hs-secret-file", name);
        CHECK(cfg->upstream_batch_max == 5, "--upstream-batch-max=5", name);
        CHECK(!cfg->log_access, "--log-access 0", name);
        CHECK(str_is(cfg->backend.iss, "svc-issuer"), "--backend-iss", name);
        CHECK(str_is(cfg->upstream_auth_header, "bearer"),
              "--upstream-auth-header bearer", name);
        CHECK(cfg->track_max_events == 7, "--limits-track-max-events", name);
    } else {
        fprintf(stderr, "  err: %s\n", err);
    }
    gw_config_free(cfg);

    /* The first argument to read may follow a subcommand. */
    {
        char *argv[] = {"signin-gateway", "serve", "--listen-port", "7", NULL};

        cfg = gw_config_load(4, argv, 2, err, ERR_LEN);
        CHECK(cfg != NULL && cfg->listen_port == 7,
              "flags read from argv[first]", "subcommand");
        gw_config_free(cfg);
    }
}

static void
test_config_takes_a_flag_over_env_over_file_over_default(void)
{
    char err[ERR_LEN], config_path[512];
    struct gw_config *cfg;
    const char *name = "precedence";

    clear_gw_env();
    snprintf(config_path, sizeof(config_path), "%s",
             write_temp("gateway.conf",
                        "# gateway settings\n"
                        "\n"
                        "listen.port = 1111\n"
                        "  upstream.batch_max=11  \n"
                        "log.level = debug\r\n"
                        "upstream.url = http://sink.local/track?a=b\n"));
    setenv("GW_LISTEN_PORT", "2222", 1);
    setenv("GW_UPSTREAM_BATCH_MAX", "22", 1);
    cfg = LOAD(err, "--config", config_path, "--listen-port", "3333");
    CHECK(cfg != NULL, "load: ok", name);
    if (cfg != NULL) {
        CHECK(cfg->listen_port == 3333, "flag beats env and file", name);
        CHECK(cfg->upstream_batch_max == 22, "env beats file", name);
        CHECK(str_is(cfg->log_level, "debug"), "file beats default (CRLF line)",
              name);
        CHECK(str_is(cfg->upstream_url, "http://sink.local/track?a=b"),
              "file value keeps its own '='", name);
        CHECK(cfg->upstream_timeout_ms == 10000, "default kept", name);
    } else {
        fprintf(stderr, "  err: %s\n", err);
    }
    gw_config_free(cfg);

    clear_gw_env();
    cfg = LOAD(err, "--listen-port=5", "--config", config_path);
    CHECK(cfg != NULL && cfg->listen_port == 5 && cfg->upstream_batch_max == 11,
          "file read, flag before --config still wins", "flag order");
    gw_config_free(cfg);

    {
        char arg[600];

        snprintf(arg, sizeof(arg), "--config=%s", config_path);
        cfg = LOAD(err, arg);
        CHECK(cfg != NULL && cfg->listen_port == 1111,
              "--config=FILE form read", "--config=");
        gw_config_free(cfg);
    }
}

struct refuse_case {
    const char *name;
    const char *env_name; /* NULL: use the flag */
    const char *env_value;
    const char *flag;
    const char *file_text;   /* written to a temporary --config file */
    const char *config_path; /* --config with this path as given */
    const char *message_part;
};

static void
check_refused(const struct refuse_case *c)
{
    char err[ERR_LEN], label[128];
    struct gw_config *cfg;

    clear_gw_env();
    if (c->env_name != NULL) {
        setenv(c->env_name, c->env_value, 1);
    }
    if (c->file_text != NULL) {
        char path[512];

        snprintf(path, sizeof(path), "%s",
                 write_temp("refused.conf", c->file_text));
        cfg = LOAD(err, "--config", path);
    } else if (c->config_path != NULL) {
        cfg = LOAD(err, "--config", c->config_path);
    } else if (c->flag != NULL) {
        cfg = LOAD(err, c->flag);
    } else {
        cfg = LOAD_NONE(err);
    }
    CHECK(cfg == NULL, "load refused: NULL", c->name);
    snprintf(label, sizeof(label), "message names '%s' (got: %.60s)",
             c->message_part, err);
    CHECK(contains(err, c->message_part), label, c->name);
    gw_config_free(cfg);
    clear_gw_env();
}

static void
test_config_refuses_unknown_keys_and_bad_values_with_a_message(void)
{
    static const struct refuse_case cases[] = {
        {"unknown key in file", NULL, NULL, NULL, "listen.prot = 1\n", NULL,
         "listen.prot"},
        {"file line without =", NULL, NULL, NULL, "listen.port 1\n", NULL, "="},
        {"unknown flag", NULL, NULL, "--listen-prot=1", NULL, NULL,
         "--listen-prot"},
        {"flag spelled with dots", NULL, NULL, "--listen.port=1", NULL, NULL,
         "--listen.port"},
        {"flag without a value", NULL, NULL, "--listen-port", NULL, NULL,
         "--listen-port"},
        {"int not a number (env)", "GW_LISTEN_PORT", "abc", NULL, NULL, NULL,
         "listen.port"},
        {"int with trailing text", "GW_LISTEN_PORT", "80x", NULL, NULL, NULL,
         "listen.port"},
        {"int empty", "GW_LISTEN_PORT", "", NULL, NULL, NULL, "listen.port"},
        {"int a fraction", NULL, NULL, "--upstream-batch-ms=1.5", NULL, NULL,
         "upstream.batch_ms"},
        {"int beyond long", "GW_UPSTREAM_TIMEOUT_MS", "99999999999999999999",
         NULL, NULL, NULL, "upstream.timeout_ms"},
        {"port above 65535", NULL, NULL, "--listen-port=65536", NULL, NULL,
         "listen.port"},
        {"port negative", "GW_LISTEN_PORT", "-1", NULL, NULL, NULL,
         "listen.port"},
        {"batch_max 0", NULL, NULL, NULL, "upstream.batch_max = 0\n", NULL,
         "upstream.batch_max"},
        {"body limit below 64", NULL, NULL, "--limits-body-max-bytes=63", NULL,
         NULL, "limits.body_max_bytes"},
        {"bool yes", "GW_LOG_ACCESS", "yes", NULL, NULL, NULL, "log.access"},
        {"bool empty", NULL, NULL, "--log-access=", NULL, NULL, "log.access"},
        {"auth_header basic", NULL, NULL, "--upstream-auth-header=basic", NULL,
         NULL, "upstream.auth_header"},
        {"auth_header empty", "GW_UPSTREAM_AUTH_HEADER", "", NULL, NULL, NULL,
         "upstream.auth_header"},
        {"upstream.url not http", "GW_UPSTREAM_URL", "ftp://x/", NULL, NULL,
         NULL, "upstream.url"},
        {"missing config file", NULL, NULL, NULL, NULL,
         "/nonexistent/no-such.conf", "no-such.conf"},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        check_refused(&cases[i]);
    }
}

struct accept_case {
    const char *name;
    const char *flag;
    long want_port;
    int want_access; /* -1: not checked */
};

static void
test_config_accepts_edge_values_and_bool_spellings(void)
{
    static const struct accept_case cases[] = {
        {"port 0: any free port", "--listen-port=0", 0, -1},
        {"port 65535", "--listen-port=65535", 65535, -1},
        {"log.access true", "--log-access=true", 8080, 1},
        {"log.access false", "--log-access=false", 8080, 0},
        {"log.access 1", "--log-access=1", 8080, 1},
        {"log.access 0", "--log-access=0", 8080, 0},
    };
    char err[ERR_LEN];

    clear_gw_env();
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct gw_config *cfg = LOAD(err, cases[i].flag);

        CHECK(cfg != NULL, "load: ok", cases[i].name);
        if (cfg == NULL) {
            continue;
        }
        CHECK(cfg->listen_port == cases[i].want_port, "listen.port",
              cases[i].name);
        if (cases[i].want_access >= 0) {
            CHECK(cfg->log_access == (cases[i].want_access == 1), "log.access",
                  cases[i].name);
        }
        gw_config_free(cfg);
    }
}

static void
test_config_reads_a_secret_from_its_file_variable(void)
{
    char err[ERR_LEN];
    struct gw_config *cfg;
    const char *name = "GW_UPSTREAM_API_KEY_FILE";

    clear_gw_env();
    setenv("GW_UPSTREAM_API_KEY_FILE", write_temp("api-key", "k3y-from-file\n"),
           1);
    cfg = LOAD_NONE(err);
    CHECK(cfg != NULL, "load: ok", name);
    CHECK(cfg != NULL && str_is(cfg->upstream_api_key, "k3y-from-file"),
          "upstream.api_key from the file, trailing newline dropped", name);
    gw_config_free(cfg);

    clear_gw_env();
    setenv("GW_UPSTREAM_API_KEY_FILE", "/nonexistent/api-key", 1);
    cfg = LOAD_NONE(err);
    CHECK(cfg == NULL, "missing secret file: refused", name);
    CHECK(contains(err, "/nonexistent/api-key"), "message names the file",
          name);
    gw_config_free(cfg);
    clear_gw_env();
}

static void
test_config_reads_the_hs_secret_file_variable_once(void)
{
    char err[ERR_LEN], path[512];
    struct gw_config *cfg;
    const char *name = "GW_AUTH_HS_SECRET_FILE";

    /* GW_AUTH_HS_SECRET_FILE is the environment name of the key
     * auth.hs_secret_file (spec table). It must set that key only: if it
     * also fills auth.hs_secret as "<VAR>_FILE" of auth.hs_secret, the
     * gateway registers the same secret twice ("kid used twice" with
     * auth.hs_kid, missing_kid for every token without a kid). */
    clear_gw_env();
    snprintf(path, sizeof(path), "%s",
             write_temp("hs.secret", "0123456789abcdef0123456789abcdef\n"));
    setenv("GW_AUTH_HS_SECRET_FILE", path, 1);
    cfg = LOAD_NONE(err);
    CHECK(cfg != NULL, "load: ok", name);
    if (cfg != NULL) {
        CHECK(str_is(cfg->auth.hs_secret_file, path),
              "auth.hs_secret_file is the path", name);
        CHECK(str_is(cfg->auth.hs_secret, ""),
              "auth.hs_secret stays empty (the file is read once, as a key "
              "file)",
              name);
    }
    gw_config_free(cfg);
    clear_gw_env();
}

static void
test_config_derives_output_file_from_data_dir_unless_set(void)
{
    static const struct {
        const char *name;
        const char *args[4];
        const char *want;
    } cases[] = {
        {"flag data dir", {"--data-dir", "/srv/gw"}, "/srv/gw/events.ndjson"},
        {"flag data dir with =",
         {"--data-dir=/var/lib/gw"},
         "/var/lib/gw/events.ndjson"},
        {"explicit output file kept",
         {"--data-dir=/srv/gw", "--output-file=/tmp/out.ndjson"},
         "/tmp/out.ndjson"},
    };
    char err[ERR_LEN];
    struct gw_config *cfg;

    clear_gw_env();
    for (size_t i = 0; i < COUNT(cases); i++) {
        cfg = load_args(err, cases[i].args);
        CHECK(cfg != NULL && str_is(cfg->output_file, cases[i].want),
              "output.file", cases[i].name);
        gw_config_free(cfg);
    }

    setenv("GW_DATA_DIR", "/env/dir", 1);
    cfg = LOAD_NONE(err);
    CHECK(cfg != NULL && str_is(cfg->output_file, "/env/dir/events.ndjson"),
          "output.file", "env data dir");
    gw_config_free(cfg);
    clear_gw_env();
}

static void
test_config_help_lists_each_flag_and_variable(void)
{
    static const char *const wanted[] = {
        "--listen-port",          "GW_LISTEN_PORT",
        "--auth-hs-secret-file",  "GW_UPSTREAM_API_KEY",
        "--upstream-auth-header", "GW_EVENT_ID_FIELD",
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL) {
        CHECK(false, "open_memstream", "help");
        return;
    }
    gw_config_print_help(f);
    fclose(f);
    for (size_t i = 0; i < COUNT(wanted); i++) {
        CHECK(contains(text, wanted[i]), "help mentions it", wanted[i]);
    }
    free(text);
}

/* Runs gw_config_log with stderr sent to a file; returns what it wrote. */
static char *
captured_config_log(const struct gw_config *cfg)
{
    char path[512];
    int fd, saved;
    FILE *f;
    char *text;
    long size;

    snprintf(path, sizeof(path), "%s/log.txt", tmp_dir);
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    saved = dup(2);
    if (fd < 0 || saved < 0) {
        abort();
    }
    fflush(stderr);
    dup2(fd, 2);
    close(fd);
    gw_log_set_level(GW_LOG_DEBUG);
    gw_config_log(cfg);
    gw_log_set_level(GW_LOG_INFO);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
        abort();
    }
    rewind(f);
    text = calloc(1, (size_t)size + 1);
    if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
        abort();
    }
    fclose(f);
    return text;
}

static void
test_config_log_masks_secrets(void)
{
    char err[ERR_LEN];
    struct gw_config *cfg;
    char *log;
    const char *name = "config log";

    clear_gw_env();
    cfg = LOAD(err, "--upstream-api-key", "very-secret-api-key",
               "--backend-hs-secret=another-secret-value-0123456789",
               "--listen-port=4242");
    CHECK(cfg != NULL, "load: ok", name);
    if (cfg == NULL) {
        return;
    }
    log = captured_config_log(cfg);
    CHECK(contains(log, "4242"), "log shows an ordinary value", name);
    CHECK(contains(log, "(set)"), "log says a secret is set", name);
    CHECK(!contains(log, "very-secret-api-key"), "api key never logged", name);
    CHECK(!contains(log, "another-secret-value"), "hs secret never logged",
          name);
    free(log);
    gw_config_free(cfg);
    gw_config_free(NULL);
}

int
main(void)
{
    const char *base = getenv("TMPDIR");
    size_t len;

    /* mkdtemp's template ends in six 'X' characters that it replaces. */
    len = (size_t)snprintf(tmp_dir, sizeof(tmp_dir) - 6, "%s/gw-test-config-",
                           base != NULL && base[0] != '\0' ? base : "/tmp");
    if (len >= sizeof(tmp_dir) - 7) {
        fprintf(stderr, "TMPDIR too long\n");
        return 1;
    }
    memset(tmp_dir + len, 'X', 6);
    tmp_dir[len + 6] = '\0';
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    test_config_defaults_match_the_spec();
    test_config_reads_each_key_from_its_environment_variable();
    test_config_reads_flags_with_a_space_or_an_equals_sign();
    test_config_names_flags_after_keys_with_dashes();
    test_config_takes_a_flag_over_env_over_file_over_default();
    test_config_refuses_unknown_keys_and_bad_values_with_a_message();
    test_config_accepts_edge_values_and_bool_spellings();
    test_config_reads_a_secret_from_its_file_variable();
    test_config_reads_the_hs_secret_file_variable_once();
    test_config_derives_output_file_from_data_dir_unless_set();
    test_config_help_lists_each_flag_and_variable();
    test_config_log_masks_secrets();

    remove_temp_files();
    printf("unit.config: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
