/* config/config.c: the key table, and loading from file, environment, flags. */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "config/issuers.h"

enum key_type { KEY_STR, KEY_INT, KEY_BOOL };

#define F_SECRET 1u
#define F_URL 2u /* logged without user:password@ and ?query */

struct key {
    const char *name;
    enum key_type type;
    size_t offset;
    const char *def;
    long min, max;
    unsigned flags;
    const char *help;
};

#define OFF(f) offsetof(struct gw_config, f)
#define STR(n, f, d, fl, h) {n, KEY_STR, OFF(f), d, 0, 0, fl, h}
#define INT(n, f, d, lo, hi, h) {n, KEY_INT, OFF(f), d, lo, hi, 0, h}
#define KEYS_ROWS(p, f, who)                                                  \
    STR(p ".jwks_file", f.jwks_file, "", 0, who " keys: JWKS file"),          \
        STR(p ".hs_secret", f.hs_secret, "", F_SECRET,                        \
            who " HMAC secret (prefer the _file form)"),                     \
        STR(p ".hs_secret_file", f.hs_secret_file, "", 0,                     \
            who " HMAC secret file (raw bytes; one final newline dropped)"),  \
        STR(p ".hs_kid", f.hs_kid, "", 0, "kid of that HMAC secret"),         \
        STR(p ".pem_file", f.pem_file, "", 0,                                 \
            who " RSA or EC P-256 public key, PEM"),                          \
        STR(p ".pem_kid", f.pem_kid, "", 0, "kid of that PEM key"),           \
        STR(p ".iss", f.iss, "", 0, "required iss claim (unset: any)"),       \
        STR(p ".aud", f.aud, "", 0, "required audience (unset: any)"),        \
        STR(p ".algs", f.algs, DEFAULT_ALGS, 0, "allowed JWS algorithms")

#define DEFAULT_ALGS "HS256,HS384,HS512,RS256,RS384,RS512,PS256,PS384,PS512,ES256"

static const struct key keys[] = {
    STR("listen.host", listen_host, "127.0.0.1", 0, "address to listen on"),
    INT("listen.port", listen_port, "8080", 0, 65535,
        "TCP port; 0 picks a free one"),
    INT("listen.threads", listen_threads, "0", 0, 256,
        "server threads; 0 = one per CPU"),
    STR("data.dir", data_dir, "./data", 0,
        "state folder: development keys, file output"),
    INT("limits.body_max_bytes", body_max_bytes, "1048576", 64, 1L << 30,
        "largest request body (413 above)"),
    INT("limits.track_max_events", track_max_events, "500", 1, 100000,
        "most events in one /v1/track body (413 above)"),
    KEYS_ROWS("auth", auth, "users' ID-token"),
    INT("auth.leeway_s", auth_leeway_s, "60", 0, 3600,
        "clock leeway for exp, nbf, iat (seconds)"),
    STR("auth.group_claim", auth_group_claim, "org_id", 0,
        "claim giving context.group_id"),
    STR("auth.name_claims", auth_name_claims, "name,preferred_username", 0,
        "claims tried in order for properties.user_name"),
    KEYS_ROWS("backend", backend, "backends' service-token"),
    STR("backend.subjects", backend_subjects, "", 0,
        "allowed sub of service tokens, comma list (unset: any)"),
    STR("track.event_names", track_event_names, "signed_in", 0,
        "event names /v1/track accepts (422 otherwise)"),
    STR("upstream.url", upstream_url, "", F_URL,
        "Track API URL; unset: events go to output.file"),
    STR("upstream.api_key", upstream_api_key, "", F_SECRET,
        "Track API key"),
    STR("upstream.auth_header", upstream_auth_header, "x-api-key", 0,
        "x-api-key or bearer"),
    INT("upstream.batch_max", upstream_batch_max, "100", 1, 10000,
        "events per upstream request"),
    INT("upstream.batch_ms", upstream_batch_ms, "50", 0, 60000,
        "longest wait to fill a batch"),
    INT("upstream.timeout_ms", upstream_timeout_ms, "10000", 100, 600000,
        "upstream request timeout"),
    INT("upstream.retry_base_ms", upstream_retry_base_ms, "200", 1, 600000,
        "first retry backoff"),
    INT("upstream.retry_max_ms", upstream_retry_max_ms, "30000", 1, 3600000,
        "retry backoff cap"),
    INT("upstream.shutdown_ms", upstream_shutdown_ms, "10000", 0, 600000,
        "flush deadline on SIGTERM"),
    STR("spool.path", spool_path, "", 0,
        "the durable queue (default <data.dir>/spool.db)"),
    STR("spool.durability", spool_durability, "crash", 0,
        "off (memory), crash (survives a crash) or power (fsync)"),
    INT("spool.max_bytes", spool_max_bytes, "1073741824", 1024,
        1L << 40, "events waiting, in bytes, before 503 spool_full"),
    INT("dedup.window_s", dedup_window_s, "86400", 0, 30L * 86400,
        "an event id seen within this window is not sent again"),
    STR("output.file", output_file, "", 0,
        "NDJSON output without upstream (default <data.dir>/events.ndjson)"),
    STR("event.id_field", event_id_field, "properties.message_id", 0,
        "where the event id travels; empty: not sent"),
    STR("webhooks.auth0.authorization", webhooks.auth0_authorization, "",
        F_SECRET, "Auth0 log stream: its exact Authorization value"),
    STR("webhooks.okta.authorization", webhooks.okta_authorization, "",
        F_SECRET, "Okta event hook: its exact Authorization value"),
    STR("webhooks.clerk.secret", webhooks.clerk_secret, "", F_SECRET,
        "Clerk (Svix) signing secret, whsec_..."),
    INT("webhooks.clerk.tolerance_s", webhooks.clerk_tolerance_s, "300", 1,
        86400, "Clerk: accepted svix-timestamp skew, either side"),
    STR("webhooks.workos.secret", webhooks.workos_secret, "", F_SECRET,
        "WorkOS webhook secret"),
    INT("webhooks.workos.tolerance_s", webhooks.workos_tolerance_s, "180", 1,
        86400, "WorkOS: accepted WorkOS-Signature t= skew, either side"),
    STR("webhooks.supabase.secret", webhooks.supabase_secret, "", F_SECRET,
        "Supabase auth hook secret, v1,whsec_..."),
    INT("webhooks.supabase.tolerance_s", webhooks.supabase_tolerance_s, "300",
        1, 86400, "Supabase: accepted webhook-timestamp skew, either side"),
    STR("webhooks.firebase.jwks_file", webhooks.firebase_jwks_file, "", 0,
        "Firebase blocking functions: Google's signing keys, JWKS file"),
    STR("webhooks.firebase.project_id", webhooks.firebase_project_id, "", 0,
        "Firebase project id (iss https://securetoken.google.com/<id>)"),
    STR("webhooks.firebase.audience", webhooks.firebase_audience, "", 0,
        "Firebase: the function URL registered (the token's aud)"),
    STR("webhooks.keycloak.secret", webhooks.keycloak_secret, "", F_SECRET,
        "Keycloak ext-event-http sharedSecret"),
    STR("webhooks.logto.secret", webhooks.logto_secret, "", F_SECRET,
        "Logto webhook signing key"),
    STR("webhooks.fusionauth.jwks_file", webhooks.fusionauth_jwks_file, "",
        0, "FusionAuth webhook signing keys, JWKS file"),
    STR("webhooks.fusionauth.hmac_secret", webhooks.fusionauth_hmac_secret,
        "", F_SECRET, "FusionAuth HMAC signing key (its text is the key)"),
    STR("webhooks.fusionauth.hmac_kid", webhooks.fusionauth_hmac_kid, "", 0,
        "kid of that FusionAuth HMAC key"),
    STR("webhooks.custom.secret", webhooks.custom_secret, "", F_SECRET,
        "custom provider: HMAC-SHA256 key of the body signature"),
    STR("webhooks.custom.signature_header", webhooks.custom_signature_header,
        "", 0, "custom provider: header carrying the signature"),
    STR("webhooks.custom.signature_encoding",
        webhooks.custom_signature_encoding, "hex", 0,
        "custom provider: hex or base64"),
    STR("webhooks.custom.signature_prefix", webhooks.custom_signature_prefix,
        "", 0, "custom provider: text before the signature, e.g. sha256="),
    STR("webhooks.custom.event_type_path", webhooks.custom_event_type_path,
        "", 0, "custom provider: JSON path of the event type (unset: all)"),
    STR("webhooks.custom.event_types", webhooks.custom_event_types, "", 0,
        "custom provider: event types that are sign-ins, comma list"),
    STR("webhooks.custom.user_id_path", webhooks.custom_user_id_path, "", 0,
        "custom provider: JSON path of the user id (required)"),
    STR("webhooks.custom.email_path", webhooks.custom_email_path, "", 0,
        "custom provider: JSON path of the email"),
    STR("webhooks.custom.user_name_path", webhooks.custom_user_name_path, "",
        0, "custom provider: JSON path of the user's name"),
    STR("webhooks.custom.group_id_path", webhooks.custom_group_id_path, "",
        0, "custom provider: JSON path of the account (group) id"),
    STR("webhooks.custom.timestamp_path", webhooks.custom_timestamp_path, "",
        0, "custom provider: JSON path of the sign-in time"),
    STR("webhooks.custom.timestamp_unit", webhooks.custom_timestamp_unit, "s",
        0, "custom provider: s or ms, for numeric times"),
    STR("webhooks.custom.delivery_id_path", webhooks.custom_delivery_id_path,
        "", 0, "custom provider: JSON path of the delivery id"),
    STR("webhooks.custom.session_id_path", webhooks.custom_session_id_path,
        "", 0, "custom provider: JSON path of the session id"),
    INT("webhooks.max_events", webhooks.max_events, "500", 1, 100000,
        "most elements in one webhook batch (413 above)"),
    INT("log.summary_s", log_summary_s, "60", 1, 86400,
        "seconds between the info lines that sum rejections"),
    STR("oidc.ca_file", oidc_ca_file, "", 0,
        "CA bundle (PEM) for the issuers' HTTPS; unset: the system's"),
    INT("oidc.cache_min_s", oidc_cache_min_s, "300", 1, 86400,
        "shortest key lifetime, whatever Cache-Control says"),
    INT("oidc.cache_max_s", oidc_cache_max_s, "86400", 1, 30L * 86400,
        "longest key lifetime, whatever Cache-Control says"),
    INT("oidc.refetch_interval_s", oidc_refetch_interval_s, "60", 1, 86400,
        "an unknown kid refetches keys at most once per this, per issuer"),
    INT("oidc.retry_max_s", oidc_retry_max_s, "60", 1, 86400,
        "longest wait between fetches while the provider fails"),
    INT("oidc.fetch_timeout_ms", oidc_fetch_timeout_ms, "5000", 100, 60000,
        "per discovery or JWKS request"),
    INT("oidc.max_bytes", oidc_max_bytes, "262144", 1024, 16L << 20,
        "largest discovery or JWKS document"),
    INT("oidc.startup_wait_ms", oidc_startup_wait_ms, "5000", 0, 600000,
        "start-up waits this long for every issuer's keys, then serves"),
    STR("cors.allowed_origins", cors_allowed_origins, "", 0,
        "browser origins allowed to call /v1/signed-in, comma list"),
    INT("cors.max_age_s", cors_max_age_s, "600", 0, 86400,
        "how long a browser may cache a preflight answer"),
    STR("log.level", log_level, "info", 0, "error, warn, info or debug"),
    {"log.access", KEY_BOOL, OFF(log_access), "true", 0, 0, 0,
     "one access line per request"},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static char **
str_slot(struct gw_config *cfg, const struct key *k)
{
    return (char **)((char *)cfg + k->offset);
}

static void
env_name(const struct key *k, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "GW_");

    for (const char *p = k->name; *p != '\0' && n + 1 < len; p++) {
        out[n++] = (char)(*p == '.' ? '_' : toupper((unsigned char)*p));
    }
    out[n] = '\0';
}

static void
flag_name(const struct key *k, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "--");

    for (const char *p = k->name; *p != '\0' && n + 1 < len; p++) {
        out[n++] = (char)((*p == '.' || *p == '_') ? '-' : *p);
    }
    out[n] = '\0';
}

static const struct key *
find_key(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (strcmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

static enum gw_config_result
set_value(struct gw_config *cfg, const struct key *k, const char *value,
          char *err, size_t err_len)
{
    char *end, *copy;
    long num;

    switch (k->type) {
    case KEY_STR:
        copy = strdup(value);
        if (copy == NULL) {
            return GW_CONFIG_NO_MEMORY;
        }
        if ((k->flags & F_SECRET) && *str_slot(cfg, k) != NULL) {
            OPENSSL_cleanse(*str_slot(cfg, k), strlen(*str_slot(cfg, k)));
        }
        free(*str_slot(cfg, k));
        *str_slot(cfg, k) = copy;
        return GW_CONFIG_OK;
    case KEY_INT:
        errno = 0;
        num = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || num < k->min ||
            num > k->max) {
            snprintf(err, err_len, "%s: '%.32s' is not a whole number from "
                     "%ld to %ld", k->name, value, k->min, k->max);
            return GW_CONFIG_BAD_VALUE;
        }
        *(long *)((char *)cfg + k->offset) = num;
        return GW_CONFIG_OK;
    case KEY_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
            *(bool *)((char *)cfg + k->offset) = true;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
            *(bool *)((char *)cfg + k->offset) = false;
        } else {
            snprintf(err, err_len, "%s: '%.32s' is not true or false",
                     k->name, value);
            return GW_CONFIG_BAD_VALUE;
        }
        return GW_CONFIG_OK;
    }
    return GW_CONFIG_BAD_VALUE;
}

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

static enum gw_config_result
load_file(struct gw_config *cfg, const char *path, char *err, size_t err_len)
{
    enum gw_config_result rc = GW_CONFIG_OK;
    char *text = NULL, *line, *save = NULL;
    size_t len, lineno = 0;
    int e;

    e = gw_file_read(path, 1 << 20, &text, &len);
    if (e != 0) {
        snprintf(err, err_len, "config file %s: %s", path, strerror(e));
        return GW_CONFIG_IO;
    }
    for (line = strtok_r(text, "\n", &save); line != NULL && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq, *name, *value;
        const struct key *k;

        lineno++;
        line = trim(line);
        if (*line == '\0' || *line == '#') {
            continue;
        }
        eq = strchr(line, '=');
        if (eq == NULL) {
            snprintf(err, err_len, "%s: a line without '=': %.40s", path,
                     line);
            rc = GW_CONFIG_BAD_VALUE;
            break;
        }
        *eq = '\0';
        name = trim(line);
        value = trim(eq + 1);
        k = find_key(name);
        if (k == NULL && strncmp(name, "issuers.", 8) == 0) {
            rc = gw_config_issuer_set(cfg, name + 8, value, err, err_len);
            continue;
        }
        if (k == NULL) {
            snprintf(err, err_len, "%s: unknown key '%.40s'", path, name);
            rc = GW_CONFIG_UNKNOWN_KEY;
            break;
        }
        rc = set_value(cfg, k, value, err, err_len);
    }
    free(text);
    return rc;
}

/* A secret may come from <VAR>_FILE, as container platforms mount them. */
static enum gw_config_result
load_env_file(struct gw_config *cfg, const struct key *k, const char *path,
              char *err, size_t err_len)
{
    enum gw_config_result rc;
    char *text = NULL;
    size_t len;
    int e;

    e = gw_file_read(path, (size_t)64 * 1024, &text, &len);
    if (e != 0) {
        snprintf(err, err_len, "%s_FILE %s: %s", k->name, path, strerror(e));
        return GW_CONFIG_IO;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) {
        text[--len] = '\0';
    }
    rc = set_value(cfg, k, text, err, err_len);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

/* auth.hs_secret has its own auth.hs_secret_file key, whose variable is
 * GW_AUTH_HS_SECRET_FILE: that key reads the file, not the _FILE form. */
static bool
has_file_key(const struct key *k)
{
    char name[128];

    snprintf(name, sizeof(name), "%s_file", k->name);
    return find_key(name) != NULL;
}

static enum gw_config_result
load_env(struct gw_config *cfg, char *err, size_t err_len)
{
    char name[128], file_name[140];

    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *v;
        enum gw_config_result rc = GW_CONFIG_OK;

        env_name(&keys[i], name, sizeof(name));
        v = getenv(name);
        if (v != NULL) {
            rc = set_value(cfg, &keys[i], v, err, err_len);
        } else if ((keys[i].flags & F_SECRET) && !has_file_key(&keys[i])) {
            snprintf(file_name, sizeof(file_name), "%s_FILE", name);
            v = getenv(file_name);
            if (v != NULL) {
                rc = load_env_file(cfg, &keys[i], v, err, err_len);
            }
        }
        if (rc != GW_CONFIG_OK) {
            return rc;
        }
    }
    return gw_config_issuers_env(cfg, err, err_len);
}

static const struct key *
find_flag(const char *arg, size_t arg_len)
{
    char flag[128];

    for (size_t i = 0; i < KEY_COUNT; i++) {
        flag_name(&keys[i], flag, sizeof(flag));
        if (strlen(flag) == arg_len && strncmp(flag, arg, arg_len) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

static enum gw_config_result
load_flags(struct gw_config *cfg, int argc, char **argv, int first,
           char *err, size_t err_len)
{
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '='), *value;
        size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        const struct key *k;
        enum gw_config_result rc;

        if (strncmp(arg, "--config", name_len) == 0 && name_len == 8) {
            i += eq == NULL; /* handled before the environment */
            continue;
        }
        k = find_flag(arg, name_len);
        if (k == NULL && strncmp(arg, "--issuers-", 10) == 0 &&
            name_len > 10 && (eq != NULL || i + 1 < argc)) {
            rc = gw_config_issuer_flag(cfg, arg + 10, name_len - 10,
                                       eq != NULL ? eq + 1 : argv[++i], err,
                                       err_len);
            if (rc != GW_CONFIG_OK) {
                return rc;
            }
            continue;
        }
        if (k == NULL) {
            snprintf(err, err_len, "unknown option '%.40s' (see --help)",
                     arg);
            return GW_CONFIG_UNKNOWN_KEY;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, err_len, "option %.40s needs a value", arg);
            return GW_CONFIG_BAD_VALUE;
        }
        rc = set_value(cfg, k, value, err, err_len);
        if (rc != GW_CONFIG_OK) {
            return rc;
        }
    }
    return GW_CONFIG_OK;
}

static const char *
config_file_arg(int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++) {
        if (strncmp(argv[i], "--config=", 9) == 0) {
            return argv[i] + 9;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            return argv[i + 1];
        }
    }
    return NULL;
}

static enum gw_config_result
check(struct gw_config *cfg, char *err, size_t err_len)
{
    char path[PATH_MAX];
    enum gw_config_result rc = gw_config_issuers_check(cfg, err, err_len);

    if (rc != GW_CONFIG_OK) {
        return rc;
    }
    if (strcmp(cfg->upstream_auth_header, "x-api-key") != 0 &&
        strcmp(cfg->upstream_auth_header, "bearer") != 0) {
        snprintf(err, err_len, "upstream.auth_header: must be x-api-key or "
                 "bearer");
        return GW_CONFIG_BAD_VALUE;
    }
    if (cfg->upstream_url[0] != '\0' &&
        strncmp(cfg->upstream_url, "http://", 7) != 0 &&
        strncmp(cfg->upstream_url, "https://", 8) != 0) {
        snprintf(err, err_len, "upstream.url: must start with http:// or "
                 "https://");
        return GW_CONFIG_BAD_VALUE;
    }
    if (strcmp(cfg->spool_durability, "off") != 0 &&
        strcmp(cfg->spool_durability, "crash") != 0 &&
        strcmp(cfg->spool_durability, "power") != 0) {
        snprintf(err, err_len, "spool.durability: off, crash or power");
        return GW_CONFIG_BAD_VALUE;
    }
    if (cfg->spool_path[0] == '\0') {
        snprintf(path, sizeof(path), "%s/spool.db", cfg->data_dir);
        free(cfg->spool_path);
        cfg->spool_path = strdup(path);
        if (cfg->spool_path == NULL) {
            return GW_CONFIG_NO_MEMORY;
        }
    }
    if (cfg->output_file[0] == '\0') {
        snprintf(path, sizeof(path), "%s/events.ndjson", cfg->data_dir);
        free(cfg->output_file);
        cfg->output_file = strdup(path);
        if (cfg->output_file == NULL) {
            return GW_CONFIG_NO_MEMORY;
        }
    }
    return GW_CONFIG_OK;
}

struct gw_config *
gw_config_load(int argc, char **argv, int first, char *err, size_t err_len)
{
    struct gw_config *cfg = calloc(1, sizeof(*cfg));
    enum gw_config_result rc = GW_CONFIG_OK;
    const char *file;

    if (cfg == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < KEY_COUNT && rc == GW_CONFIG_OK; i++) {
        rc = set_value(cfg, &keys[i], keys[i].def, err, err_len);
    }
    file = config_file_arg(argc, argv, first);
    if (rc == GW_CONFIG_OK && file != NULL) {
        rc = load_file(cfg, file, err, err_len);
    }
    if (rc == GW_CONFIG_OK) {
        rc = load_env(cfg, err, err_len);
    }
    if (rc == GW_CONFIG_OK) {
        rc = load_flags(cfg, argc, argv, first, err, err_len);
    }
    if (rc == GW_CONFIG_OK) {
        rc = check(cfg, err, err_len);
    }
    if (rc != GW_CONFIG_OK) {
        if (rc == GW_CONFIG_NO_MEMORY) {
            snprintf(err, err_len, "out of memory");
        }
        gw_config_free(cfg);
        return NULL;
    }
    return cfg;
}

void
gw_config_free(struct gw_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (keys[i].type != KEY_STR) {
            continue;
        }
        char *s = *str_slot(cfg, &keys[i]);
        if (s != NULL && (keys[i].flags & F_SECRET)) {
            OPENSSL_cleanse(s, strlen(s));
        }
        free(s);
    }
    gw_config_issuers_free(cfg);
    free(cfg);
}

void
gw_config_print_help(FILE *out)
{
    char env[128], flag[128];

    fprintf(out, "Settings (flag, environment variable, default):\n");
    for (size_t i = 0; i < KEY_COUNT; i++) {
        flag_name(&keys[i], flag, sizeof(flag));
        env_name(&keys[i], env, sizeof(env));
        fprintf(out, "  %-28s %-30s [%s]\n      %s%s\n", flag, env,
                keys[i].def, keys[i].help,
                (keys[i].flags & F_SECRET) ? " (secret; also <VAR>_FILE)"
                                           : "");
    }
    gw_config_issuers_help(out);
}

void
gw_config_redact_url(const char *url, char *out, size_t len)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end != NULL ? scheme_end + 3 : url;
    size_t host_len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', host_len);
    size_t path_len;

    /* Credentials may hide in the userinfo or the query string. */
    if (at != NULL) {
        host_len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    path_len = strcspn(host + host_len, "?#");
    snprintf(out, len, "%.*s%.*s%.*s",
             (int)(scheme_end != NULL ? scheme_end + 3 - url : 0), url,
             (int)host_len, host, (int)path_len, host + host_len);
}

void
gw_config_log(const struct gw_config *cfg)
{
    char num[32], url[512];

    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct key *k = &keys[i];
        const char *value;

        switch (k->type) {
        case KEY_STR:
            value = *(char *const *)((const char *)cfg + k->offset);
            if ((k->flags & F_SECRET) && value[0] != '\0') {
                value = "(set)";
            } else if (k->flags & F_URL) {
                gw_config_redact_url(value, url, sizeof(url));
                value = url;
            }
            break;
        case KEY_INT:
            snprintf(num, sizeof(num), "%ld",
                     *(const long *)((const char *)cfg + k->offset));
            value = num;
            break;
        default:
            value = *(const bool *)((const char *)cfg + k->offset) ? "true"
                                                                    : "false";
            break;
        }
        gw_log(GW_LOG_DEBUG, "config", "setting", GW_F_STR("key", k->name),
               GW_F_STR("value", value), GW_F_END);
    }
    gw_config_issuers_log(cfg);
}
