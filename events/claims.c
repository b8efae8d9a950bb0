/* events/claims.c: claims of a verified ID token to event fields: claim
 * paths, the standard amr, sid and idp claims, and copied extra claims.
 * Pure: no I/O. */
#include "events/claims.h"

#include <string.h>

/* RFC 8176 section 2: which kind of factor a method is. */
enum factor { F_NONE = 0, F_KNOW = 1, F_HAVE = 2, F_ARE = 4 };

static const struct {
    const char *amr;
    const char *method; /* the gateway's auth_method word, or NULL */
    enum factor factor;
} amr_table[] = {
    {"pwd", "password", F_KNOW}, {"pin", NULL, F_KNOW},
    {"kba", NULL, F_KNOW},       {"hwk", "passkey", F_HAVE},
    {"swk", "passkey", F_HAVE},  {"otp", "otp", F_HAVE},
    {"sms", "otp", F_HAVE},      {"tel", "otp", F_HAVE},
    {"sc", NULL, F_HAVE},        {"pop", NULL, F_HAVE},
    {"fpt", NULL, F_ARE},        {"face", NULL, F_ARE},
    {"iris", NULL, F_ARE},       {"retina", NULL, F_ARE},
    {"vbm", NULL, F_ARE},
};

/* The primary method when several are listed: a password sign-in with an
 * OTP second step is a password sign-in (with mfa true). */
static const char *const method_rank[] = {"password", "passkey", "otp"};

struct json_object *
gw_claims_find(struct json_object *claims, const char *spec)
{
    struct json_object *cur = claims, *v;
    char part[128];
    const char *p = spec;

    if (claims == NULL || spec == NULL || spec[0] == '\0') {
        return NULL;
    }
    if (json_object_object_get_ex(claims, spec, &v)) {
        return v;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, ".");

        if (n == 0 || n >= sizeof(part) ||
            !json_object_is_type(cur, json_type_object)) {
            return NULL;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (!json_object_object_get_ex(cur, part, &cur)) {
            return NULL;
        }
        p += n;
        p += *p == '.';
    }
    return cur;
}

const char *
gw_claims_string(struct json_object *claims, const char *spec)
{
    struct json_object *v = gw_claims_find(claims, spec);

    if (v == NULL || !json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0) {
        return NULL;
    }
    return json_object_get_string(v);
}

/* Adds key: v unless key is there already; takes v in every case. */
static bool
add_new(struct json_object *obj, const char *key, struct json_object *v)
{
    if (v == NULL) {
        return false;
    }
    if (json_object_object_get_ex(obj, key, NULL)) {
        json_object_put(v);
        return true;
    }
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

/* The best-ranked auth_method word an amr value gives; *kinds collects
 * the factor kinds seen. */
static const char *
rank_method(const char *value, const char *best, unsigned *kinds)
{
    size_t rank_count = sizeof(method_rank) / sizeof(method_rank[0]);

    for (size_t k = 0; k < sizeof(amr_table) / sizeof(amr_table[0]); k++) {
        if (strcmp(value, amr_table[k].amr) != 0) {
            continue;
        }
        *kinds |= (unsigned)amr_table[k].factor;
        for (size_t r = 0; amr_table[k].method != NULL && r < rank_count;
             r++) {
            if (method_rank[r] == best) {
                break; /* what we have ranks higher */
            }
            if (strcmp(method_rank[r], amr_table[k].method) == 0) {
                return method_rank[r];
            }
        }
    }
    return best;
}

/* amr: the primary method, and mfa whenever amr is given ("mfa" listed,
 * or factors of two kinds: RFC 8176's reading of multi-factor). */
static bool
add_amr(struct json_object *claims, struct json_object *props)
{
    struct json_object *amr = gw_claims_find(claims, "amr");
    const char *method = NULL;
    unsigned kinds = 0;
    bool mfa_listed = false;
    size_t n;

    if (amr == NULL || !json_object_is_type(amr, json_type_array) ||
        (n = json_object_array_length(amr)) == 0) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(amr, i);
        const char *v;

        if (!json_object_is_type(e, json_type_string)) {
            continue;
        }
        v = json_object_get_string(e);
        mfa_listed = mfa_listed || strcmp(v, "mfa") == 0;
        method = rank_method(v, method, &kinds);
    }
    if (method != NULL &&
        !add_new(props, "auth_method", json_object_new_string(method))) {
        return false;
    }
    /* Two bits set: two kinds of factor. */
    return add_new(props, "mfa",
                   json_object_new_boolean(mfa_listed ||
                                           (kinds & (kinds - 1)) != 0));
}

static bool
add_extra(const struct gw_event_mapping *map, struct json_object *claims,
          struct json_object *props)
{
    for (size_t i = 0; i < map->extra_claim_count; i++) {
        struct json_object *v = gw_claims_find(claims, map->extra_claims[i]);

        if (v == NULL || json_object_is_type(v, json_type_null) ||
            (json_object_is_type(v, json_type_string) &&
             json_object_get_string_len(v) == 0)) {
            continue; /* absent, never null or "" (README) */
        }
        if (!add_new(props, map->extra_names[i], json_object_get(v))) {
            return false;
        }
    }
    return true;
}

bool
gw_claims_enrich(const struct gw_event_mapping *map,
                 struct json_object *claims, struct json_object *props,
                 struct json_object *context)
{
    const char *idp = gw_claims_string(claims, "idp");
    const char *sid = gw_claims_string(claims, "sid");

    if (!add_amr(claims, props)) {
        return false;
    }
    if (idp != NULL && !add_new(props, "identity_provider",
                                json_object_new_string(idp))) {
        return false;
    }
    if (sid != NULL &&
        !add_new(context, "session_id", json_object_new_string(sid))) {
        return false;
    }
    return add_extra(map, claims, props);
}
