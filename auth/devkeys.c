/* auth/devkeys.c: the development key set used while no key is configured. */
#include "auth/devkeys.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "common/b64.h"
#include "common/fileutil.h"

static bool
path_in(char *out, size_t len, const char *data_dir, const char *name)
{
    return snprintf(out, len, "%s/%s/%s", data_dir, GW_DEVKEYS_DIR, name) <
           (int)len;
}

static bool
write_secret(const char *data_dir, const char *name, char *err,
             size_t err_len)
{
    char path[PATH_MAX], text[64];
    unsigned char raw[32];
    size_t n;
    int e;

    if (!path_in(path, sizeof(path), data_dir, name)) {
        snprintf(err, err_len, "data.dir path too long");
        return false;
    }
    if (access(path, R_OK) == 0) {
        return true;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        snprintf(err, err_len, "no randomness for %s", name);
        return false;
    }
    /* The base64url text itself is the key, as many providers show it. */
    n = gw_b64url_encode(raw, sizeof(raw), text);
    e = gw_file_write_atomic(path, text, n, 0600);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(text, sizeof(text));
    if (e != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(e));
        return false;
    }
    return true;
}

static char *
bn_param_b64url(EVP_PKEY *pkey, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char *raw = NULL;
    char *text = NULL;
    int n;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        return NULL;
    }
    n = BN_num_bytes(bn);
    raw = malloc((size_t)n);
    text = malloc((size_t)n / 3 * 4 + 8);
    if (raw != NULL && text != NULL) {
        BN_bn2bin(bn, raw);
        gw_b64url_encode(raw, (size_t)n, text);
    } else {
        free(text);
        text = NULL;
    }
    free(raw);
    BN_free(bn);
    return text;
}

static bool
write_pem(const char *path, EVP_PKEY *pkey, bool private_part, char *err,
          size_t err_len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int ok, e;

    if (bio == NULL) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    ok = private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
                                                 NULL, NULL)
                      : PEM_write_bio_PUBKEY(bio, pkey);
    if (ok != 1) {
        BIO_free(bio);
        snprintf(err, err_len, "cannot encode %s", path);
        return false;
    }
    n = BIO_get_mem_data(bio, &data);
    e = gw_file_write_atomic(path, data, (size_t)n,
                             private_part ? 0600 : 0644);
    BIO_free(bio);
    if (e != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(e));
        return false;
    }
    return true;
}

static bool
write_jwks(const char *path, EVP_PKEY *pkey, char *err, size_t err_len)
{
    char *n = bn_param_b64url(pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64url(pkey, OSSL_PKEY_PARAM_RSA_E);
    char *doc = NULL;
    int len, werr = ENOMEM;

    if (n != NULL && e != NULL) {
        len = asprintf(&doc,
                       "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"%s\","
                       "\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\","
                       "\"e\":\"%s\"}]}\n",
                       GW_DEVKEYS_RSA_KID, n, e);
        if (len < 0) {
            doc = NULL;
        } else {
            werr = gw_file_write_atomic(path, doc, (size_t)len, 0644);
        }
    }
    free(n);
    free(e);
    free(doc);
    if (werr != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(werr));
        return false;
    }
    return true;
}

static bool
write_rsa(const char *data_dir, char *err, size_t err_len)
{
    char priv[PATH_MAX], pub[PATH_MAX], jwks[PATH_MAX];
    EVP_PKEY *pkey;
    bool ok;

    if (!path_in(priv, sizeof(priv), data_dir, GW_DEVKEYS_RSA_PRIVATE) ||
        !path_in(pub, sizeof(pub), data_dir, GW_DEVKEYS_RSA_PUBLIC) ||
        !path_in(jwks, sizeof(jwks), data_dir, GW_DEVKEYS_JWKS)) {
        snprintf(err, err_len, "data.dir path too long");
        return false;
    }
    if (access(priv, R_OK) == 0 && access(jwks, R_OK) == 0) {
        return true;
    }
    pkey = EVP_RSA_gen(2048);
    if (pkey == NULL) {
        snprintf(err, err_len, "RSA key generation failed");
        return false;
    }
    ok = write_pem(priv, pkey, true, err, err_len) &&
         write_pem(pub, pkey, false, err, err_len) &&
         write_jwks(jwks, pkey, err, err_len);
    EVP_PKEY_free(pkey);
    return ok;
}

bool
gw_devkeys_ensure(const char *data_dir, char *err, size_t err_len)
{
    char dir[PATH_MAX];
    int e;

    if (snprintf(dir, sizeof(dir), "%s/%s", data_dir, GW_DEVKEYS_DIR) >=
        (int)sizeof(dir)) {
        snprintf(err, err_len, "data.dir path too long");
        return false;
    }
    e = gw_file_mkdirs(dir, 0700);
    if (e != 0) {
        snprintf(err, err_len, "%s: %s", dir, strerror(e));
        return false;
    }
    return write_secret(data_dir, GW_DEVKEYS_HS_FILE, err, err_len) &&
           write_secret(data_dir, GW_DEVKEYS_BACKEND_FILE, err, err_len) &&
           write_rsa(data_dir, err, err_len);
}
