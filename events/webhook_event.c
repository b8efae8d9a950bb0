/* events/webhook_event.c: a signed_in event from the fields a provider's
 * webhook gave, in the same shape as events/signed_in.c. Pure: no I/O. */
#include "events/webhook_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/b64.h"
#include "events/timestamp.h"

#define EVENT_NAME "signed_in"
#define DERIVED_ID_HEX 32

void
gw_webhook_fields_init(struct gw_webhook_fields *f)
{
    memset(f, 0, sizeof(*f));
    f->mfa = -1;
}

void
gw_webhook_fields_clear(struct gw_webhook_fields *f)
{
    free(f->owned_name);
    gw_webhook_fields_init(f);
}

/* Adds key: value when value is known (not NULL, not ""). */
static bool
add_known(struct json_object *obj, const char *key, const char *value)
{
    struct json_object *s;

    if (value == NULL || value[0] == '\0') {
        return true;
    }
    s = json_object_new_string(value);
    if (s == NULL) {
        return false;
    }
    if (json_object_object_add(obj, key, s) != 0) {
        json_object_put(s);
        return false;
    }
    return true;
}

static bool
add_object(struct json_object *obj, const char *key, struct json_object *v)
{
    if (v == NULL) {
        return false;
    }
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

/* Only the documented fields: nothing else of the payload is copied. */
static struct json_object *
new_properties(const struct gw_webhook_fields *f)
{
    struct json_object *p = json_object_new_object();

    if (p == NULL) {
        return NULL;
    }
    if (!add_known(p, "email", f->email) ||
        !add_known(p, "user_name", f->user_name) ||
        !add_known(p, "auth_method", f->auth_method) ||
        !add_known(p, "identity_provider", f->identity_provider) ||
        (f->mfa >= 0 &&
         !add_object(p, "mfa", json_object_new_boolean(f->mfa == 1)))) {
        json_object_put(p);
        return NULL;
    }
    return p;
}

static struct json_object *
new_context(const struct gw_webhook_fields *f)
{
    struct json_object *c = json_object_new_object();

    if (c == NULL) {
        return NULL;
    }
    if (!add_known(c, "group_id", f->group_id) ||
        !add_known(c, "session_id", f->session_id)) {
        json_object_put(c);
        return NULL;
    }
    return c;
}

static bool
is_usable_id(const char *id)
{
    size_t len = id != NULL ? strlen(id) : 0;

    if (len == 0 || len > GW_EVENT_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

static bool
hash_id(const char *provider, const char *text, size_t len, char *out)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, provider, strlen(provider)) == 1 &&
         EVP_DigestUpdate(ctx, "\n", 1) == 1 &&
         EVP_DigestUpdate(ctx, text, len) == 1 &&
         EVP_DigestFinal_ex(ctx, digest, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    if (ok) {
        gw_hex_encode(digest, DERIVED_ID_HEX / 2, out);
    }
    return ok;
}

static bool
serialize(struct json_object *event, struct gw_event *out)
{
    const char *text;
    size_t len;

    text = json_object_to_json_string_length(
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (text == NULL) {
        return false;
    }
    out->json = strndup(text, len);
    out->json_len = len;
    return out->json != NULL;
}

/* The id: the delivery id, or a hash naming this delivery. */
static bool
choose_id(const char *provider, const struct gw_webhook_fields *f,
          struct json_object *event, char *out)
{
    const char *text;
    size_t len;

    if (is_usable_id(f->delivery_id)) {
        snprintf(out, GW_EVENT_ID_MAX + 1, "%s", f->delivery_id);
        return true;
    }
    if (f->delivery_id != NULL && f->delivery_id[0] != '\0') {
        return hash_id(provider, f->delivery_id, strlen(f->delivery_id), out);
    }
    text = json_object_to_json_string_length(
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (text == NULL) {
        return false;
    }
    return hash_id(provider, text, len, out);
}

static bool
add_id(const struct gw_event_mapping *map, struct json_object *event,
       struct json_object *props, struct json_object *context, const char *id)
{
    struct json_object *holder = event;

    if (map->id_key == NULL) {
        return true;
    }
    if (map->id_container != NULL) {
        holder = strcmp(map->id_container, "context") == 0 ? context : props;
    }
    return json_object_object_get_ex(holder, map->id_key, NULL) ||
           add_known(holder, map->id_key, id);
}

enum gw_event_result
gw_webhook_event_build(const struct gw_event_mapping *map, const char *provider,
                       const struct gw_webhook_fields *f, int64_t receive_ms,
                       struct gw_event *out)
{
    struct json_object *event = json_object_new_object();
    struct json_object *props = new_properties(f), *context = new_context(f);
    char ts[GW_TIMESTAMP_LEN];
    enum gw_event_result rc = GW_EVENT_NO_MEMORY;

    memset(out, 0, sizeof(*out));
    if (event == NULL || props == NULL || context == NULL) {
        goto out;
    }
    if (!gw_timestamp_format(f->has_timestamp ? f->timestamp_ms : receive_ms,
                             ts)) {
        rc = GW_EVENT_INVALID_TIMESTAMP;
        goto out;
    }
    /* Same key order as every other event of the gateway. The event takes
     * a reference of its own to props and context: add_id writes there. */
    if (!add_known(event, "event_name", EVENT_NAME) ||
        !add_known(event, "user_id", f->user_id) ||
        !add_known(event, "timestamp", ts) ||
        !add_object(event, "properties", json_object_get(props)) ||
        !add_object(event, "context", json_object_get(context))) {
        goto out;
    }
    if (!choose_id(provider, f, event, out->id) ||
        !add_id(map, event, props, context, out->id) ||
        !serialize(event, out)) {
        goto out;
    }
    rc = GW_EVENT_OK;
out:
    json_object_put(event);
    json_object_put(props);
    json_object_put(context);
    if (rc != GW_EVENT_OK) {
        gw_event_clear(out);
    }
    return rc;
}
