/* handlers/oidc.h: browsers' ID tokens from the configured OIDC issuers:
 * their remote keys, policies and claim mappings, for /v1/signed-in. */
#ifndef GW_HANDLERS_OIDC_H
#define GW_HANDLERS_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "config/config.h"
#include "events/signed_in.h"
#include "handlers/env.h"
#include "server/server.h"

struct gw_oidc;

/* Builds the issuers of cfg (cfg->issuer_count > 0), starts fetching
 * their keys and waits up to oidc.startup_wait_ms for them; an issuer
 * still without keys then is logged and reported to /readyz, and its
 * tokens get 503 keys_unavailable until its keys arrive. base gives the
 * event id field and the like. cfg and base must outlive the result.
 * NULL with err filled on a bad setting. Owned: gw_oidc_free. */
struct gw_oidc *gw_oidc_load(const struct gw_config *cfg,
                             const struct gw_event_mapping *base, char *err,
                             size_t err_len);

/* Stops the key refresh and frees; accepts NULL. */
void gw_oidc_free(struct gw_oidc *oidc);

/* For POST /v1/signed-in: verifies token with the issuer its iss names,
 * else with the users' key files (auth.*). True with v->claims and *map
 * (the mapping of that issuer) set; false once a refusal was replied.
 * v must be cleared with gw_jwt_verified_clear either way. */
bool gw_oidc_signin_verify(struct gw_handler_env *env, struct gw_request *req,
                           const char *token, size_t token_len,
                           int64_t now_ms, struct gw_jwt_verified *v,
                           const struct gw_event_mapping **map);

#endif
