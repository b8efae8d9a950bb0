/* cli/verify_webhook.h: verify --webhook, a captured identity-provider
 * delivery explained step by step. */
#ifndef GW_CLI_VERIFY_WEBHOOK_H
#define GW_CLI_VERIFY_WEBHOOK_H

#include <stdio.h>

#include "cli/verify.h"
#include "handlers/env.h"

/* Reads opts->body_file and opts->headers_file and explains, on out, what
 * POST /v1/webhooks/<opts->webhook> would answer with env's settings.
 * Returns 0 for a 200 answer, 1 for a refusal, 2 when the files cannot be
 * read (said on err). */
int gw_verify_webhook_run(const struct gw_verify_opts *opts,
                          const struct gw_handler_env *env, FILE *out,
                          FILE *err);

#endif
