/* common/secret.h: key material that is compared in constant time and wiped. */
#ifndef GW_COMMON_SECRET_H
#define GW_COMMON_SECRET_H

#include <stdbool.h>
#include <stddef.h>

struct gw_secret {
    unsigned char *bytes; /* owned; a NUL follows, not counted in len */
    size_t len;
};

/* Copies len bytes into a new secret; NULL when out of memory. */
struct gw_secret *gw_secret_new(const void *bytes, size_t len);

/* Wipes and frees; accepts NULL. */
void gw_secret_free(struct gw_secret *secret);

/* Constant-time comparison of the secret with len bytes at other. */
bool gw_secret_equal(const struct gw_secret *secret, const void *other,
                     size_t len);

#endif
