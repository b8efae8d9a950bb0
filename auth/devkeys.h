/* auth/devkeys.h: the development key set used while no key is configured. */
#ifndef GW_AUTH_DEVKEYS_H
#define GW_AUTH_DEVKEYS_H

#include <stdbool.h>
#include <stddef.h>

#define GW_DEVKEYS_DIR "dev-keys"
#define GW_DEVKEYS_ISS "signin-gateway-dev"
#define GW_DEVKEYS_AUD "signin-gateway-dev"
#define GW_DEVKEYS_HS_FILE "hs256.secret"
#define GW_DEVKEYS_HS_KID "dev-hs256"
#define GW_DEVKEYS_RSA_PRIVATE "rsa-private.pem"
#define GW_DEVKEYS_RSA_PUBLIC "rsa-public.pem"
#define GW_DEVKEYS_JWKS "jwks.json"
#define GW_DEVKEYS_RSA_KID "dev-rs256"
#define GW_DEVKEYS_BACKEND_FILE "backend-hs256.secret"
#define GW_DEVKEYS_BACKEND_KID "dev-backend"

/* Creates <data_dir>/dev-keys/ with an HS256 secret, an RSA-2048 key pair
 * and its JWKS, and a backend HS256 secret, unless they exist already
 * (then they are kept, so tokens minted earlier stay valid). Private files
 * are written 0600. Returns false with err filled on failure. */
bool gw_devkeys_ensure(const char *data_dir, char *err, size_t err_len)
    __attribute__((warn_unused_result));

#endif
