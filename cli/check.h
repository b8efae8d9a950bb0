/* cli/check.h: the check-config subcommand's checks beyond loading. */
#ifndef GW_CLI_CHECK_H
#define GW_CLI_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "handlers/env.h"

/* Checks what a start would create or write (spool and output folders),
 * then prints "check-config: ok" and a summary of the effective settings
 * to out (secrets never shown), or "check-config: <what is wrong>" to err.
 * has_keys: any key or webhook secret is configured. Returns the exit
 * code: 0 when the gateway would start, 2 when not. */
int gw_check_report(const struct gw_config *cfg,
                    const struct gw_handler_env *env, bool has_keys,
                    FILE *out, FILE *err);

#endif
