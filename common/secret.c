/* common/secret.c: key material that is compared in constant time and wiped. */
#include "common/secret.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct gw_secret *
gw_secret_new(const void *bytes, size_t len)
{
    struct gw_secret *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->bytes = malloc(len + 1);
    if (s->bytes == NULL) {
        free(s);
        return NULL;
    }
    if (len > 0) {
        memcpy(s->bytes, bytes, len);
    }
    s->bytes[len] = '\0';
    s->len = len;
    return s;
}

void
gw_secret_free(struct gw_secret *secret)
{
    if (secret == NULL) {
        return;
    }
    OPENSSL_cleanse(secret->bytes, secret->len);
    free(secret->bytes);
    free(secret);
}

bool
gw_secret_equal(const struct gw_secret *secret, const void *other, size_t len)
{
    /* The length is not secret (it shows in the header sent), the bytes are. */
    if (secret->len != len) {
        return false;
    }
    return CRYPTO_memcmp(secret->bytes, other, len) == 0;
}
