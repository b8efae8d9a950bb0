/* cli/verify.h: the verify subcommand, which explains step by step what
 * the gateway would decide about a token or a captured webhook. */
#ifndef GW_CLI_VERIFY_H
#define GW_CLI_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "handlers/env.h"

struct gw_verify_opts {
    const char *token;        /* borrowed from argv; NULL: token_file */
    const char *token_file;   /* "-": standard input */
    bool backend;             /* check as a /v1/track service token */
    const char *webhook;      /* a provider name: explain a webhook */
    const char *body_file;    /* the webhook's raw body */
    const char *headers_file; /* its headers, "Name: value" per line */
};

/* Reads verify's own options from argv (argv[0] is "verify"). Returns the
 * index of the first settings flag (at least 1), 0 after printing help,
 * or -1 after a usage error (printed). */
int gw_verify_parse(int argc, char **argv, struct gw_verify_opts *opts);

/* Explains the token (or, with opts->webhook, the captured delivery as
 * POST /v1/webhooks/<provider> would judge it) against env on out;
 * problems reading the input go to err. Returns 0 when the gateway would
 * accept it (a webhook: answer 200, sign-ins or not), 1 when it would
 * refuse it, 2 when it cannot be read. */
int gw_verify_run(const struct gw_verify_opts *opts,
                  const struct gw_handler_env *env, FILE *out, FILE *err);

#endif
