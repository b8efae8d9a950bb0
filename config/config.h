/* config/config.h: every setting in one table; file, environment and flags. */
#ifndef GW_CONFIG_CONFIG_H
#define GW_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

/* Where one set of verification keys comes from (users' or backends'). */
struct gw_keys_config {
    char *jwks_file;
    char *hs_secret; /* SECRET */
    char *hs_secret_file;
    char *hs_kid;
    char *pem_file;
    char *pem_kid;
    char *iss;
    char *aud;
    char *algs;
};

/* Identity providers' webhooks (/v1/webhooks/<provider>); an empty secret
 * or key leaves that provider off (404 not_configured). */
struct gw_webhooks_config {
    char *auth0_authorization;    /* SECRET */
    char *okta_authorization;     /* SECRET */
    char *clerk_secret;           /* SECRET */
    long clerk_tolerance_s;
    char *workos_secret;          /* SECRET */
    long workos_tolerance_s;
    char *supabase_secret;        /* SECRET */
    long supabase_tolerance_s;
    char *firebase_jwks_file;
    char *firebase_project_id;
    char *firebase_audience;
    char *keycloak_secret;        /* SECRET */
    char *logto_secret;           /* SECRET */
    char *fusionauth_jwks_file;
    char *fusionauth_hmac_secret; /* SECRET */
    char *fusionauth_hmac_kid;
    char *custom_secret;          /* SECRET */
    char *custom_signature_header;
    char *custom_signature_encoding;
    char *custom_signature_prefix;
    char *custom_event_type_path;
    char *custom_event_types;
    char *custom_user_id_path;
    char *custom_email_path;
    char *custom_user_name_path;
    char *custom_group_id_path;
    char *custom_timestamp_path;
    char *custom_timestamp_unit;
    char *custom_delivery_id_path;
    char *custom_session_id_path;
    long max_events;
};

/* One OIDC issuer of browsers' ID tokens: issuers.<name>.<field>, named
 * entries of a list (config/issuers.c says how names are read). */
struct gw_issuer_config {
    char *name; /* [a-z0-9], 1 to GW_ISSUER_NAME_MAX bytes */
    char *url;  /* the issuer (iss); discovery below it */
    char *jwks_url;
    char *aud;
    char *algs;
    char *group_claim;
    char *name_claims;
    char *extra_claims;
};

#define GW_ISSUERS_MAX 8
#define GW_ISSUER_NAME_MAX 24

struct gw_config {
    char *listen_host;
    long listen_port;
    long listen_threads;
    char *data_dir;
    long body_max_bytes;
    long track_max_events;

    struct gw_keys_config auth;
    long auth_leeway_s;
    char *auth_group_claim;
    char *auth_name_claims;

    struct gw_keys_config backend;
    char *backend_subjects;

    char *track_event_names;

    char *upstream_url;
    char *upstream_api_key; /* SECRET */
    char *upstream_auth_header;
    long upstream_batch_max;
    long upstream_batch_ms;
    long upstream_timeout_ms;
    long upstream_retry_base_ms;
    long upstream_retry_max_ms;
    long upstream_shutdown_ms;

    char *spool_path;
    char *spool_durability;
    long spool_max_bytes;
    long dedup_window_s;

    char *output_file;
    char *event_id_field;
    struct gw_webhooks_config webhooks;
    long log_summary_s;
    struct gw_issuer_config *issuers; /* issuer_count, sorted by name */
    size_t issuer_count;
    char *oidc_ca_file;
    long oidc_cache_min_s;
    long oidc_cache_max_s;
    long oidc_refetch_interval_s;
    long oidc_retry_max_s;
    long oidc_fetch_timeout_ms;
    long oidc_max_bytes;
    long oidc_startup_wait_ms;
    char *cors_allowed_origins;
    long cors_max_age_s;
    char *log_level;
    bool log_access;
};

enum gw_config_result {
    GW_CONFIG_OK = 0,
    GW_CONFIG_UNKNOWN_KEY,
    GW_CONFIG_BAD_VALUE,
    GW_CONFIG_IO,
    GW_CONFIG_NO_MEMORY,
};

/* Builds the configuration from defaults, then the file named by --config
 * (if any), the environment (GW_*), then the flags in argv[first..argc).
 * On failure writes a one-line explanation into err and returns NULL.
 * The result is owned by the caller: gw_config_free. */
struct gw_config *gw_config_load(int argc, char **argv, int first,
                                 char *err, size_t err_len);

void gw_config_free(struct gw_config *cfg);

/* Writes the key table (name, env name, default, description) to out. */
void gw_config_print_help(FILE *out);

/* Writes url without its userinfo and query string, for logs. */
void gw_config_redact_url(const char *url, char *out, size_t len);

/* Logs the effective configuration at info, secrets masked. */
void gw_config_log(const struct gw_config *cfg);

#endif
