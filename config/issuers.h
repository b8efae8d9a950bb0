/* config/issuers.h: the named entries issuers.<name>.<field> of the
 * settings, read from the file, the environment and flags. Used by
 * config/config.c only. */
#ifndef GW_CONFIG_ISSUERS_H
#define GW_CONFIG_ISSUERS_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

/* Sets "<name>.<field>" (the key after "issuers.") to value. */
enum gw_config_result gw_config_issuer_set(struct gw_config *cfg,
                                           const char *key,
                                           const char *value, char *err,
                                           size_t err_len)
    __attribute__((warn_unused_result));

/* Sets from a flag: arg is "<name>-<field-with-dashes>" (after
 * "--issuers-"), arg_len bytes of it. */
enum gw_config_result gw_config_issuer_flag(struct gw_config *cfg,
                                            const char *arg, size_t arg_len,
                                            const char *value, char *err,
                                            size_t err_len)
    __attribute__((warn_unused_result));

/* Reads every GW_ISSUERS_<NAME>_<FIELD> variable. */
enum gw_config_result gw_config_issuers_env(struct gw_config *cfg, char *err,
                                            size_t err_len)
    __attribute__((warn_unused_result));

/* Fills defaults, checks required fields and URLs, sorts by name. */
enum gw_config_result gw_config_issuers_check(struct gw_config *cfg,
                                              char *err, size_t err_len)
    __attribute__((warn_unused_result));

/* Frees cfg->issuers. */
void gw_config_issuers_free(struct gw_config *cfg);

/* The issuer keys for --help. */
void gw_config_issuers_help(FILE *out);

/* Logs each issuer's settings at debug, as gw_config_log does. */
void gw_config_issuers_log(const struct gw_config *cfg);

#endif
