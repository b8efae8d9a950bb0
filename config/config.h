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
    long upstream_queue_max_events;
    long upstream_shutdown_ms;

    char *output_file;
    char *event_id_field;
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

/* Logs the effective configuration at info, secrets masked. */
void gw_config_log(const struct gw_config *cfg);

#endif
