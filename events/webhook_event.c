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

enum gw_event_result
gw_webhook_event_build(const struct gw_event_mapping *map, const char *provider,
                       const struct gw_webhook_fields *f, int64_t receive_ms,
                       struct gw_event *out)
{
    struct json_object *event = NULL;
    struct json_object *props = new_properties(f), *context = new_context(f);
    int64_t ts_ms = f->has_timestamp ? f->timestamp_ms : receive_ms;
    char ts[GW_TIMESTAMP_LEN];
    enum gw_event_result rc = GW_EVENT_NO_MEMORY;

    memset(out, 0, sizeof(*out));
    if (f->user_id == NULL) {
        rc = GW_EVENT_MISSING_FIELD;
        goto out;
    }
    if (props == NULL || context == NULL) {
        goto out;
    }
    /* A provider's time outside 0001-9999 is the sender's fault, not
     * memory's: tell them apart before building. */
    if (!gw_timestamp_format(ts_ms, ts)) {
        rc = GW_EVENT_INVALID_TIMESTAMP;
        goto out;
    }
    event = gw_signed_in_skeleton(EVENT_NAME, f->user_id, ts_ms, props,
                                  context);
    if (event == NULL || !choose_id(provider, f, event, out->id)) {
        goto out;
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
