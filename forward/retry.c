/* forward/retry.c: what an upstream answer means, and how long to wait. */
#include "forward/retry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/rand.h>

enum gw_retry_kind
gw_retry_classify(long status)
{
    if (status >= 200 && status < 300) {
        return GW_RETRY_DELIVERED;
    }
    if (status == 0 || status == 408 || status == 429 || status >= 500 ||
        status < 200) {
        return GW_RETRY_AGAIN;
    }
    /* 401/403: our key; 3xx, 404, 405: our URL. A fix of the settings
     * makes them go through: holding loses nothing, refusing would empty
     * the whole queue into the dead-letter table. */
    if (status == 401 || status == 403 || status == 404 || status == 405 ||
        (status >= 300 && status < 400)) {
        return GW_RETRY_HOLD;
    }
    return GW_RETRY_REFUSED;
}

int64_t
gw_retry_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms)
{
    int64_t ceiling = base_ms;
    uint64_t r = 0;

    for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++) {
        ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
    }
    if (ceiling > cap_ms) {
        ceiling = cap_ms;
    }
    if (ceiling == INT64_MAX) {
        ceiling--; /* room for the + 1 below */
    }
    /* Full jitter: replicas retrying together spread out instead of
     * hitting a recovering upstream in step. */
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) {
        return ceiling;
    }
    return (int64_t)(r % (uint64_t)(ceiling + 1));
}

bool
gw_retry_after_parse(const char *value, int64_t now_ms, int64_t *wait_ms)
{
    const char *p = value;
    time_t when;
    char *end;
    long long secs;

    while (*p == ' ') {
        p++;
    }
    if (isdigit((unsigned char)*p)) {
        secs = strtoll(p, &end, 10);
        while (*end == ' ') {
            end++;
        }
        if (*end != '\0') {
            return false;
        }
        *wait_ms = (secs > GW_RETRY_AFTER_MAX_S ? GW_RETRY_AFTER_MAX_S : secs) *
                   1000;
        return true;
    }
    when = curl_getdate(p, NULL);
    if (when < 0) {
        return false;
    }
    *wait_ms = (int64_t)when * 1000 - now_ms;
    if (*wait_ms < 0) {
        *wait_ms = 0;
    }
    if (*wait_ms > GW_RETRY_AFTER_MAX_S * 1000) {
        *wait_ms = GW_RETRY_AFTER_MAX_S * 1000;
    }
    return true;
}
