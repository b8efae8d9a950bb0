/* cli/mint.c: the mint-token subcommand, tokens for trying the gateway with
 * its development keys. */
#include "cli/mint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <openssl/rand.h>

#include "auth/devkeys.h"
#include "common/b64.h"
#include "common/fileutil.h"

struct mint_options {
    const char *data_dir, *alg, *sub, *email, *name, *org;
    long ttl_s;
    int backend;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: signin-gateway mint-token [--data-dir DIR] "
            "[--alg HS256|RS256] [--backend]\n"
            "       [--sub ID] [--email ADDR] [--name NAME] [--org ID] "
            "[--ttl-s SECONDS]\n"
            "Prints a token signed with the development keys under "
            "DIR/" GW_DEVKEYS_DIR " (created by the\ngateway at its first "
            "start without configured keys). --backend signs a service\n"
            "token for /v1/track.\n");
}

static int
parse(int argc, char **argv, struct mint_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--backend") == 0) {
            o->backend = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (v == NULL) {
            fprintf(stderr, "mint-token: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--data-dir") == 0) {
            o->data_dir = v;
        } else if (strcmp(a, "--alg") == 0) {
            o->alg = v;
        } else if (strcmp(a, "--sub") == 0) {
            o->sub = v;
        } else if (strcmp(a, "--email") == 0) {
            o->email = v;
        } else if (strcmp(a, "--name") == 0) {
            o->name = v;
        } else if (strcmp(a, "--org") == 0) {
            o->org = v;
        } else if (strcmp(a, "--ttl-s") == 0) {
            o->ttl_s = strtol(v, NULL, 10);
        } else {
            fprintf(stderr, "mint-token: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

static int
add_claims(jwt_t *jwt, const struct mint_options *o)
{
    long now = (long)time(NULL);
    unsigned char rnd[16];
    char jti[33];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return -1;
    }
    /* A fresh jti per token: each minted token is a distinct sign-in. */
    gw_hex_encode(rnd, sizeof(rnd), jti);
    if (jwt_add_grant(jwt, "iss", GW_DEVKEYS_ISS) != 0 ||
        jwt_add_grant(jwt, "aud", GW_DEVKEYS_AUD) != 0 ||
        jwt_add_grant(jwt, "sub", o->sub) != 0 ||
        jwt_add_grant(jwt, "jti", jti) != 0 ||
        jwt_add_grant_int(jwt, "iat", now) != 0 ||
        jwt_add_grant_int(jwt, "exp", now + o->ttl_s) != 0) {
        return -1;
    }
    if ((o->email != NULL && jwt_add_grant(jwt, "email", o->email) != 0) ||
        (o->name != NULL && jwt_add_grant(jwt, "name", o->name) != 0) ||
        (o->org != NULL && jwt_add_grant(jwt, "org_id", o->org) != 0)) {
        return -1;
    }
    return 0;
}

static int
sign_and_print(const struct mint_options *o)
{
    char path[PATH_MAX], *key = NULL, *token = NULL;
    const char *file, *kid;
    size_t key_len;
    jwt_t *jwt = NULL;
    int rsa = strcmp(o->alg, "RS256") == 0, rc = 1, e;

    if (o->backend) {
        file = GW_DEVKEYS_BACKEND_FILE;
        kid = GW_DEVKEYS_BACKEND_KID;
    } else {
        file = rsa ? GW_DEVKEYS_RSA_PRIVATE : GW_DEVKEYS_HS_FILE;
        kid = rsa ? GW_DEVKEYS_RSA_KID : GW_DEVKEYS_HS_KID;
    }
    snprintf(path, sizeof(path), "%s/%s/%s", o->data_dir, GW_DEVKEYS_DIR,
             file);
    e = gw_file_read(path, (size_t)64 * 1024, &key, &key_len);
    if (e != 0) {
        fprintf(stderr, "mint-token: %s: %s (start the gateway once "
                "without keys to create them)\n", path, strerror(e));
        return 1;
    }
    if (jwt_new(&jwt) == 0 && add_claims(jwt, o) == 0 &&
        jwt_add_header(jwt, "kid", kid) == 0 &&
        jwt_set_alg(jwt, rsa && !o->backend ? JWT_ALG_RS256 : JWT_ALG_HS256,
                    (const unsigned char *)key, (int)key_len) == 0) {
        token = jwt_encode_str(jwt);
    }
    if (token != NULL) {
        printf("%s\n", token);
        rc = 0;
    } else {
        fprintf(stderr, "mint-token: signing failed\n");
    }
    free(token);
    jwt_free(jwt);
    memset(key, 0, key_len);
    free(key);
    return rc;
}

int
gw_mint_main(int argc, char **argv)
{
    struct mint_options o = {"./data", "HS256", "user-1", NULL, NULL, NULL,
                             3600, 0};
    int rc = parse(argc, argv, &o);

    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    if (strcmp(o.alg, "HS256") != 0 && strcmp(o.alg, "RS256") != 0) {
        fprintf(stderr, "mint-token: --alg is HS256 or RS256\n");
        return 2;
    }
    if (o.ttl_s <= 0) {
        fprintf(stderr, "mint-token: --ttl-s must be positive\n");
        return 2;
    }
    return sign_and_print(&o);
}
