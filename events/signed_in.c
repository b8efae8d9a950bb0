/* events/signed_in.c: the signed_in event schema, built from a token or a
 * sender's event, validated and serialized. Pure: no I/O. */
#include "events/signed_in.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/b64.h"
#include "events/claims.h"
#include "events/timestamp.h"

#define EVENT_NAME "signed_in"
#define DERIVED_ID_HEX 32

static const char *const result_codes[] = {
    [GW_EVENT_OK] = "ok",
    [GW_EVENT_INVALID_BODY] = "invalid_body",
    [GW_EVENT_MISSING_FIELD] = "missing_field",
    [GW_EVENT_INVALID_FIELD] = "invalid_field",
    [GW_EVENT_UNKNOWN_FIELD] = "unknown_field",
    [GW_EVENT_CONFLICTING_FIELD] = "conflicting_field",
    [GW_EVENT_INVALID_TIMESTAMP] = "invalid_timestamp",
    [GW_EVENT_NOT_ALLOWED] = "event_not_allowed",
    [GW_EVENT_NO_MEMORY] = "no_memory",
};

const char *
gw_event_result_code(enum gw_event_result rc)
{
    if ((size_t)rc >= sizeof(result_codes) / sizeof(result_codes[0])) {
        return "unknown";
    }
    return result_codes[rc];
}

void
gw_event_clear(struct gw_event *ev)
{
    free(ev->json);
    ev->json = NULL;
    ev->json_len = 0;
    ev->id[0] = '\0';
}

static enum gw_event_result
fail(struct gw_event_error *err, enum gw_event_result rc, const char *field,
     const char *value, const char *message)
{
    snprintf(err->field, sizeof(err->field), "%.63s", field);
    snprintf(err->value, sizeof(err->value), "%.64s", value ? value : "");
    snprintf(err->message, sizeof(err->message), "%.191s", message);
    return rc;
}

/* A "\u0000" inside would cut the string short wherever it is used as
 * a C string (ids, names, comparisons): such values are not taken. */
static bool
has_nul(struct json_object *v)
{
    return strlen(json_object_get_string(v)) !=
           (size_t)json_object_get_string_len(v);
}

/* A string member that is present and non-empty; NULL, absent and "" are
 * all "not known" (fixtures' rule: absent in the event). */
static const char *
known_string(struct json_object *obj, const char *name)
{
    struct json_object *v;

    if (obj == NULL || !json_object_object_get_ex(obj, name, &v) ||
        !json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0 || has_nul(v)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static bool
add_string(struct json_object *obj, const char *key, const char *value)
{
    struct json_object *s = json_object_new_string(value);

    if (s == NULL) {
        return false;
    }
    if (json_object_object_add(obj, key, s) != 0) {
        json_object_put(s);
        return false;
    }
    return true;
}

/* Adds another reference of value under key. */
static bool
add_shared(struct json_object *obj, const char *key, struct json_object *v)
{
    json_object_get(v);
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

static enum gw_event_result
parse_time(struct json_object *v, const char *field, int64_t *ms,
           struct gw_event_error *err)
{
    char message[160];

    if (!json_object_is_type(v, json_type_string)) {
        return fail(err, GW_EVENT_INVALID_TIMESTAMP, field,
                    json_object_to_json_string(v),
                    "timestamp must be an RFC 3339 date-time string with an "
                    "offset, for example " GW_TIMESTAMP_EXAMPLE);
    }
    if (!gw_timestamp_parse(json_object_get_string(v),
                            (size_t)json_object_get_string_len(v), ms)) {
        snprintf(message, sizeof(message),
                 "%s is not an RFC 3339 date-time with an offset (Z or "
                 "+hh:mm); for example " GW_TIMESTAMP_EXAMPLE, field);
        return fail(err, GW_EVENT_INVALID_TIMESTAMP, field,
                    json_object_get_string(v), message);
    }
    return GW_EVENT_OK;
}

static void
derive_id(const char *text, size_t len, char *out)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)text, len, digest);
    gw_hex_encode(digest, DERIVED_ID_HEX / 2, out);
}

enum gw_event_result
gw_signed_in_finish(const struct gw_event_mapping *map,
                    struct json_object *event, struct json_object *props,
                    struct json_object *context, struct gw_event *out)
{
    struct json_object *holder = event;
    const char *text;
    size_t len;

    if (map->id_key != NULL) {
        if (map->id_container != NULL) {
            holder = strcmp(map->id_container, "context") == 0 ? context
                                                               : props;
        }
        if (!json_object_object_get_ex(holder, map->id_key, NULL) &&
            !add_string(holder, map->id_key, out->id)) {
            return GW_EVENT_NO_MEMORY;
        }
    }
    text = json_object_to_json_string_length(
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (text == NULL) {
        return GW_EVENT_NO_MEMORY;
    }
    out->json = strndup(text, len);
    if (out->json == NULL) {
        return GW_EVENT_NO_MEMORY;
    }
    out->json_len = len;
    return GW_EVENT_OK;
}

struct json_object *
gw_signed_in_skeleton(const char *name, const char *user_id, int64_t ts_ms,
                      struct json_object *props, struct json_object *context)
{
    struct json_object *event = json_object_new_object();
    char ts[GW_TIMESTAMP_LEN];

    if (event == NULL) {
        return NULL;
    }
    if (!gw_timestamp_format(ts_ms, ts) ||
        !add_string(event, "event_name", name) ||
        !add_string(event, "user_id", user_id) ||
        !add_string(event, "timestamp", ts) ||
        !add_shared(event, "properties", props) ||
        !add_shared(event, "context", context)) {
        json_object_put(event);
        return NULL;
    }
    return event;
}

static bool
is_id_member(const struct gw_event_mapping *map, const char *container,
             const char *key)
{
    return map->id_key != NULL && map->id_container != NULL &&
           strcmp(map->id_container, container) == 0 &&
           strcmp(map->id_key, key) == 0;
}

static enum gw_event_result
claims_identity(const struct gw_event_mapping *map, struct json_object *claims,
                struct json_object *props, struct json_object *context)
{
    const char *email = known_string(claims, "email"), *name = NULL;
    const char *group = gw_claims_string(claims, map->group_claim);

    for (size_t i = 0; i < map->name_claim_count && name == NULL; i++) {
        name = gw_claims_string(claims, map->name_claims[i]);
    }
    if ((email != NULL && !add_string(props, "email", email)) ||
        (name != NULL && !add_string(props, "user_name", name)) ||
        (group != NULL && !add_string(context, "group_id", group)) ||
        !gw_claims_enrich(map, claims, props, context)) {
        return GW_EVENT_NO_MEMORY;
    }
    return GW_EVENT_OK;
}

/* Extra properties from a browser's body: never the identity fields. */
static enum gw_event_result
body_properties(const struct gw_event_mapping *map, struct json_object *body,
                struct json_object *props, struct gw_event_error *err)
{
    struct json_object *extra;

    if (!json_object_object_get_ex(body, "properties", &extra) ||
        json_object_is_type(extra, json_type_null)) {
        return GW_EVENT_OK;
    }
    if (!json_object_is_type(extra, json_type_object)) {
        return fail(err, GW_EVENT_INVALID_FIELD, "properties", NULL,
                    "properties must be a JSON object");
    }
    json_object_object_foreach(extra, key, value)
    {
        /* The token's word on how the user signed in is not the page's
         * to make up either. */
        if (strcmp(key, "email") == 0 || strcmp(key, "user_name") == 0 ||
            strcmp(key, "User_name") == 0 ||
            strcmp(key, "auth_method") == 0 || strcmp(key, "mfa") == 0 ||
            strcmp(key, "identity_provider") == 0 ||
            is_id_member(map, "properties", key) ||
            json_object_object_get_ex(props, key, NULL)) {
            continue;
        }
        if (!add_shared(props, key, value)) {
            return GW_EVENT_NO_MEMORY;
        }
    }
    return GW_EVENT_OK;
}

static enum gw_event_result
body_check(struct json_object *body, struct gw_event_error *err)
{
    if (!json_object_is_type(body, json_type_object)) {
        return fail(err, GW_EVENT_INVALID_BODY, "", NULL,
                    "the body must be a JSON object");
    }
    json_object_object_foreach(body, key, value)
    {
        (void)value;
        if (strcmp(key, "timestamp") != 0 && strcmp(key, "properties") != 0) {
            return fail(err, GW_EVENT_UNKNOWN_FIELD, key, NULL,
                        "only timestamp and properties may be sent; the "
                        "user's identity comes from the token");
        }
    }
    return GW_EVENT_OK;
}

static int64_t
claims_time_ms(struct json_object *claims, int64_t fallback_ms)
{
    struct json_object *v;
    double iat;

    if (!json_object_object_get_ex(claims, "iat", &v) ||
        !(json_object_is_type(v, json_type_int) ||
          json_object_is_type(v, json_type_double))) {
        return fallback_ms;
    }
    iat = json_object_get_double(v);
    if (!isfinite(iat) || iat < -62135596800.0 || iat > 253402300799.0) {
        return fallback_ms;
    }
    return (int64_t)floor(iat * 1000.0);
}

static void
signin_id(struct json_object *claims, char *out)
{
    const char *iss = known_string(claims, "iss");
    const char *sub = known_string(claims, "sub");
    const char *jti = known_string(claims, "jti");
    struct json_object *iat = NULL;
    char *text = NULL;
    int n;

    /* One sign-in is one token: issuer, subject and the token's own id
     * (or issue time, or expiry: exp is always there) name it, so a
     * resent token gives the same id and two tokens do not share one. */
    if (jti == NULL && !json_object_object_get_ex(claims, "iat", &iat)) {
        json_object_object_get_ex(claims, "exp", &iat);
    }
    n = asprintf(&text, "%s\n%s\n%s", iss ? iss : "", sub ? sub : "",
                 jti ? jti : (iat ? json_object_get_string(iat) : ""));
    if (n < 0) {
        out[0] = '\0';
        return;
    }
    derive_id(text, (size_t)n, out);
    free(text);
}

enum gw_event_result
gw_signed_in_from_claims(const struct gw_event_mapping *map,
                         struct json_object *claims, struct json_object *body,
                         int64_t receive_ms, struct gw_event *out,
                         struct gw_event_error *err)
{
    struct json_object *props = json_object_new_object();
    struct json_object *context = json_object_new_object();
    struct json_object *event = NULL, *v;
    const char *sub = known_string(claims, "sub");
    int64_t ts_ms = claims_time_ms(claims, receive_ms);
    enum gw_event_result rc = GW_EVENT_NO_MEMORY;

    memset(out, 0, sizeof(*out));
    if (props == NULL || context == NULL) {
        goto out;
    }
    if (body != NULL) {
        rc = body_check(body, err);
        if (rc == GW_EVENT_OK &&
            json_object_object_get_ex(body, "timestamp", &v) &&
            !json_object_is_type(v, json_type_null)) {
            rc = parse_time(v, "timestamp", &ts_ms, err);
        }
        if (rc != GW_EVENT_OK) {
            goto out;
        }
    }
    rc = claims_identity(map, claims, props, context);
    if (rc == GW_EVENT_OK && body != NULL) {
        rc = body_properties(map, body, props, err);
    }
    if (rc != GW_EVENT_OK) {
        goto out;
    }
    rc = GW_EVENT_NO_MEMORY;
    event = gw_signed_in_skeleton(EVENT_NAME, sub != NULL ? sub : "", ts_ms,
                                  props, context);
    if (event == NULL) {
        goto out;
    }
    signin_id(claims, out->id);
    rc = gw_signed_in_finish(map, event, props, context, out);
out:
    json_object_put(event);
    json_object_put(props);
    json_object_put(context);
    if (rc != GW_EVENT_OK) {
        gw_event_clear(out);
    }
    return rc;
}

static const char *const track_members[] = {
    "event", "event_name", "user_id", "timestamp",
    "properties", "group_id", "context",
};

static enum gw_event_result
track_check_members(struct json_object *item, struct gw_event_error *err)
{
    json_object_object_foreach(item, key, value)
    {
        bool known = false;

        (void)value;
        for (size_t i = 0; i < sizeof(track_members) / sizeof(char *); i++) {
            known = known || strcmp(key, track_members[i]) == 0;
        }
        if (!known) {
            return fail(err, GW_EVENT_UNKNOWN_FIELD, key, NULL,
                        "not a member of a Track API event");
        }
    }
    return GW_EVENT_OK;
}

/* A member that may be absent: NULL, JSON null and "" count as absent;
 * otherwise it must be a string. */
static enum gw_event_result
optional_string(struct json_object *obj, const char *name, const char *field,
                const char **out, struct gw_event_error *err)
{
    struct json_object *v;

    *out = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, name, &v) ||
        json_object_is_type(v, json_type_null)) {
        return GW_EVENT_OK;
    }
    if (!json_object_is_type(v, json_type_string) || has_nul(v)) {
        return fail(err, GW_EVENT_INVALID_FIELD, field, NULL,
                    "must be a string without NUL characters");
    }
    if (json_object_get_string_len(v) > 0) {
        *out = json_object_get_string(v);
    }
    return GW_EVENT_OK;
}

/* Two spellings of one field: equal when both given, else a conflict. */
static enum gw_event_result
pick_one(const char *a, const char *b, const char *field, const char **out,
         struct gw_event_error *err)
{
    if (a != NULL && b != NULL && strcmp(a, b) != 0) {
        return fail(err, GW_EVENT_CONFLICTING_FIELD, field, b,
                    "given twice with different values");
    }
    *out = a != NULL ? a : b;
    return GW_EVENT_OK;
}

static enum gw_event_result
track_name(const struct gw_event_mapping *map, struct json_object *item,
           const char **name_out, struct gw_event_error *err)
{
    const char *a, *b, *name;
    enum gw_event_result rc;

    rc = optional_string(item, "event_name", "event_name", &a, err);
    if (rc == GW_EVENT_OK) {
        rc = optional_string(item, "event", "event", &b, err);
    }
    if (rc == GW_EVENT_OK) {
        rc = pick_one(a, b, "event", &name, err);
    }
    if (rc != GW_EVENT_OK) {
        return rc;
    }
    if (name == NULL) {
        return fail(err, GW_EVENT_MISSING_FIELD, "event_name", NULL,
                    "event_name (or event) is required");
    }
    for (size_t i = 0; i < map->event_name_count; i++) {
        if (strcmp(map->event_names[i], name) == 0) {
            *name_out = name;
            return GW_EVENT_OK;
        }
    }
    return fail(err, GW_EVENT_NOT_ALLOWED, "event_name", name,
                "this event name is not accepted (track.event_names)");
}

static enum gw_event_result
object_member(struct json_object *item, const char *name,
              struct json_object **out, struct gw_event_error *err)
{
    struct json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(item, name, &v) ||
        json_object_is_type(v, json_type_null)) {
        return GW_EVENT_OK;
    }
    if (!json_object_is_type(v, json_type_object)) {
        return fail(err, GW_EVENT_INVALID_FIELD, name, NULL,
                    "must be a JSON object");
    }
    *out = v;
    return GW_EVENT_OK;
}

/* Copies the sender's properties, User_name becoming user_name. */
static enum gw_event_result
track_properties(struct json_object *src, struct json_object *props,
                 struct gw_event_error *err)
{
    const char *upper, *lower, *name;
    enum gw_event_result rc;

    if (src == NULL) {
        return GW_EVENT_OK;
    }
    rc = optional_string(src, "user_name", "properties.user_name", &lower,
                         err);
    if (rc == GW_EVENT_OK) {
        rc = optional_string(src, "User_name", "properties.User_name",
                             &upper, err);
    }
    if (rc == GW_EVENT_OK) {
        rc = pick_one(lower, upper, "properties.User_name", &name, err);
    }
    if (rc != GW_EVENT_OK) {
        return rc;
    }
    json_object_object_foreach(src, key, value)
    {
        if (strcmp(key, "User_name") == 0 || strcmp(key, "user_name") == 0) {
            if (name != NULL &&
                !json_object_object_get_ex(props, "user_name", NULL) &&
                !add_string(props, "user_name", name)) {
                return GW_EVENT_NO_MEMORY;
            }
            continue;
        }
        if (!add_shared(props, key, value)) {
            return GW_EVENT_NO_MEMORY;
        }
    }
    return GW_EVENT_OK;
}

static enum gw_event_result
track_context(struct json_object *item, struct json_object *src,
              struct json_object *context, struct gw_event_error *err)
{
    const char *top, *inner, *group;
    enum gw_event_result rc;

    rc = optional_string(item, "group_id", "group_id", &top, err);
    if (rc == GW_EVENT_OK) {
        rc = optional_string(src, "group_id", "context.group_id", &inner,
                             err);
    }
    if (rc == GW_EVENT_OK) {
        rc = pick_one(inner, top, "group_id", &group, err);
    }
    if (rc != GW_EVENT_OK) {
        return rc;
    }
    if (group != NULL && !add_string(context, "group_id", group)) {
        return GW_EVENT_NO_MEMORY;
    }
    if (src == NULL) {
        return GW_EVENT_OK;
    }
    json_object_object_foreach(src, key, value)
    {
        if (strcmp(key, "group_id") != 0 && !add_shared(context, key, value)) {
            return GW_EVENT_NO_MEMORY;
        }
    }
    return GW_EVENT_OK;
}

/* The sender's own id, when the id field already holds one. */
static enum gw_event_result
sender_id(const struct gw_event_mapping *map, struct json_object *event,
          struct json_object *props, struct json_object *context,
          struct gw_event *out, struct gw_event_error *err)
{
    struct json_object *holder = event, *v;
    char field[96];

    if (map->id_key == NULL) {
        return GW_EVENT_OK;
    }
    if (map->id_container != NULL) {
        holder = strcmp(map->id_container, "context") == 0 ? context : props;
    }
    if (!json_object_object_get_ex(holder, map->id_key, &v)) {
        return GW_EVENT_OK;
    }
    if (json_object_is_type(v, json_type_null)) {
        /* null is "not given", as everywhere: the id is derived. */
        json_object_object_del(holder, map->id_key);
        return GW_EVENT_OK;
    }
    snprintf(field, sizeof(field), "%s%s%s",
             map->id_container ? map->id_container : "",
             map->id_container ? "." : "", map->id_key);
    if (!json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0 || has_nul(v) ||
        json_object_get_string_len(v) > GW_EVENT_ID_MAX) {
        return fail(err, GW_EVENT_INVALID_FIELD, field, NULL,
                    "the event id must be a string of 1 to 128 bytes");
    }
    snprintf(out->id, sizeof(out->id), "%s", json_object_get_string(v));
    return GW_EVENT_OK;
}

static enum gw_event_result
track_fields(const struct gw_event_mapping *map, struct json_object *item,
             int64_t *ts_ms, const char **name, const char **user_id,
             struct gw_event_error *err)
{
    struct json_object *v;
    enum gw_event_result rc;

    rc = track_check_members(item, err);
    if (rc == GW_EVENT_OK) {
        rc = track_name(map, item, name, err);
    }
    if (rc == GW_EVENT_OK) {
        rc = optional_string(item, "user_id", "user_id", user_id, err);
    }
    if (rc != GW_EVENT_OK) {
        return rc;
    }
    if (*user_id == NULL) {
        return fail(err, GW_EVENT_MISSING_FIELD, "user_id", NULL,
                    "user_id is required: a non-empty string");
    }
    if (json_object_object_get_ex(item, "timestamp", &v) &&
        !json_object_is_type(v, json_type_null)) {
        rc = parse_time(v, "timestamp", ts_ms, err);
    }
    return rc;
}

enum gw_event_result
gw_signed_in_from_track(const struct gw_event_mapping *map,
                        struct json_object *item, int64_t receive_ms,
                        struct gw_event *out, struct gw_event_error *err)
{
    struct json_object *props = NULL, *context = NULL, *event = NULL;
    struct json_object *src_props, *src_context;
    const char *name = NULL, *user_id = NULL, *text;
    int64_t ts_ms = receive_ms;
    size_t len;
    enum gw_event_result rc;

    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(item, json_type_object)) {
        return fail(err, GW_EVENT_INVALID_BODY, "", NULL,
                    "each event must be a JSON object");
    }
    rc = track_fields(map, item, &ts_ms, &name, &user_id, err);
    if (rc == GW_EVENT_OK) {
        rc = object_member(item, "properties", &src_props, err);
    }
    if (rc == GW_EVENT_OK) {
        rc = object_member(item, "context", &src_context, err);
    }
    if (rc != GW_EVENT_OK) {
        return rc;
    }
    rc = GW_EVENT_NO_MEMORY;
    props = json_object_new_object();
    context = json_object_new_object();
    if (props == NULL || context == NULL) {
        goto out;
    }
    rc = track_properties(src_props, props, err);
    if (rc == GW_EVENT_OK) {
        rc = track_context(item, src_context, context, err);
    }
    if (rc != GW_EVENT_OK) {
        goto out;
    }
    rc = GW_EVENT_NO_MEMORY;
    event = gw_signed_in_skeleton(name, user_id, ts_ms, props, context);
    if (event == NULL) {
        goto out;
    }
    rc = sender_id(map, event, props, context, out, err);
    if (rc != GW_EVENT_OK) {
        goto out;
    }
    if (out->id[0] == '\0') {
        /* No id from the sender: the normalized event names itself, so a
         * retried request gives the same id. */
        text = json_object_to_json_string_length(
            event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
            &len);
        if (text == NULL) {
            goto out;
        }
        derive_id(text, len, out->id);
    }
    rc = gw_signed_in_finish(map, event, props, context, out);
out:
    json_object_put(event);
    json_object_put(props);
    json_object_put(context);
    if (rc != GW_EVENT_OK) {
        gw_event_clear(out);
    }
    return rc;
}
