/* events/providers/provider.c: the table of providers and the small JSON
 * readers their mapping functions share. Pure: no I/O. */
#include "events/providers/provider.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/timestamp.h"

extern const struct gw_provider gw_provider_auth0;
extern const struct gw_provider gw_provider_okta;
extern const struct gw_provider gw_provider_clerk;
extern const struct gw_provider gw_provider_workos;
extern const struct gw_provider gw_provider_supabase;
extern const struct gw_provider gw_provider_firebase;
extern const struct gw_provider gw_provider_keycloak;
extern const struct gw_provider gw_provider_logto;
extern const struct gw_provider gw_provider_fusionauth;
extern const struct gw_provider gw_provider_custom;

static const struct gw_provider *const table[] = {
    &gw_provider_auth0,    &gw_provider_okta,     &gw_provider_clerk,
    &gw_provider_workos,   &gw_provider_supabase, &gw_provider_firebase,
    &gw_provider_keycloak, &gw_provider_logto,    &gw_provider_fusionauth,
    &gw_provider_custom,
};

#define TABLE_COUNT (sizeof(table) / sizeof(table[0]))

/* Longest dotted path segment; longer member names are not looked up. */
#define SEGMENT_MAX 128

const struct gw_provider *
gw_provider_find(const char *name)
{
    for (size_t i = 0; i < TABLE_COUNT; i++) {
        if (strcmp(table[i]->name, name) == 0) {
            return table[i];
        }
    }
    return NULL;
}

size_t
gw_provider_count(void)
{
    return TABLE_COUNT;
}

const struct gw_provider *
gw_provider_at(size_t i)
{
    return i < TABLE_COUNT ? table[i] : NULL;
}

struct json_object *
gw_provider_get(struct json_object *obj, const char *path)
{
    char segment[SEGMENT_MAX];

    while (obj != NULL && path != NULL && *path != '\0') {
        size_t len = strcspn(path, ".");

        if (len >= sizeof(segment) ||
            !json_object_is_type(obj, json_type_object)) {
            return NULL;
        }
        memcpy(segment, path, len);
        segment[len] = '\0';
        if (!json_object_object_get_ex(obj, segment, &obj)) {
            return NULL;
        }
        path += len;
        path += *path == '.';
    }
    return obj;
}

const char *
gw_provider_string(struct json_object *obj, const char *path)
{
    struct json_object *v = gw_provider_get(obj, path);

    if (v == NULL || !json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0) {
        return NULL;
    }
    return json_object_get_string(v);
}

bool
gw_provider_time(struct json_object *v, bool in_ms, int64_t *ms)
{
    double n;

    if (json_object_is_type(v, json_type_string)) {
        return gw_timestamp_parse(json_object_get_string(v),
                                  (size_t)json_object_get_string_len(v), ms);
    }
    if (!json_object_is_type(v, json_type_int) &&
        !json_object_is_type(v, json_type_double)) {
        return false;
    }
    n = json_object_get_double(v);
    if (!in_ms) {
        n *= 1000.0;
    }
    /* Years 0001 to 9999, the range events can carry. */
    if (!isfinite(n) || n < -62135596800000.0 || n > 253402300799999.0) {
        return false;
    }
    *ms = (int64_t)floor(n);
    return true;
}

enum gw_provider_verdict
gw_provider_read_time(struct json_object *obj, const char *path, bool in_ms,
                      struct gw_provider_output *out)
{
    struct json_object *v = gw_provider_get(obj, path);

    if (v == NULL || json_object_is_type(v, json_type_null)) {
        return GW_PROVIDER_SIGNIN;
    }
    if (!gw_provider_time(v, in_ms, &out->fields.timestamp_ms)) {
        out->reason = "the sign-in time is not an RFC 3339 date-time with "
                      "an offset, nor epoch seconds or milliseconds";
        out->field = path;
        out->bad_timestamp = true;
        return GW_PROVIDER_INVALID;
    }
    out->fields.has_timestamp = true;
    return GW_PROVIDER_SIGNIN;
}

bool
gw_provider_join_name(struct gw_provider_output *out, const char *first,
                      const char *last)
{
    if (first == NULL || last == NULL) {
        out->fields.user_name = first != NULL ? first : last;
        return true;
    }
    if (asprintf(&out->fields.owned_name, "%s %s", first, last) < 0) {
        out->fields.owned_name = NULL;
        return false;
    }
    out->fields.user_name = out->fields.owned_name;
    return true;
}
