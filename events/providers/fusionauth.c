/* events/providers/fusionauth.c: FusionAuth webhooks with "Sign events"
 * on: user.login.success is a sign-in. */
#include <string.h>

#include "events/providers/provider.h"

static const char *const social[] = {
    "APPLE",    "EPIC_GAMES", "FACEBOOK", "GOOGLE",  "LINKEDIN", "NINTENDO",
    "SONY_PSN", "STEAM",      "TWITCH",   "TWITTER", "XBOX",
};
static const char *const sso[] = {
    "SAMLv2",
    "SAMLv2IdPInitiated",
    "OpenIDConnect",
    "ExternalJWT",
};

static bool
listed(const char *value, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(value, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void
auth_method(const char *t, struct gw_webhook_fields *f)
{
    if (t == NULL) {
        return;
    }
    if (strcmp(t, "PASSWORD") == 0) {
        f->auth_method = "password";
    } else if (strcmp(t, "PASSWORDLESS") == 0) {
        f->auth_method = "magic_link";
    } else if (strcmp(t, "WEB_AUTHN") == 0) {
        f->auth_method = "passkey";
    } else if (listed(t, social, sizeof(social) / sizeof(social[0]))) {
        f->auth_method = "social";
        f->identity_provider = t;
    } else if (listed(t, sso, sizeof(sso) / sizeof(sso[0]))) {
        f->auth_method = "sso";
        f->identity_provider = t;
    }
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *ev = gw_provider_get(in->item, "event");
    struct json_object *user = gw_provider_get(ev, "user");
    const char *type = gw_provider_string(ev, "type");

    if (type == NULL || strcmp(type, "user.login.success") != 0) {
        out->reason = "FusionAuth event type other than user.login.success";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(user, "id");
    if (f->user_id == NULL) {
        out->reason = "a user.login.success event without event.user.id";
        out->field = "event.user.id";
        return GW_PROVIDER_INVALID;
    }
    f->email = gw_provider_string(user, "email");
    f->user_name = gw_provider_string(user, "fullName");
    if (f->user_name == NULL &&
        !gw_provider_join_name(out, gw_provider_string(user, "firstName"),
                               gw_provider_string(user, "lastName"))) {
        return GW_PROVIDER_NO_MEMORY;
    }
    if (f->user_name == NULL) {
        f->user_name = gw_provider_string(user, "username");
    }
    auth_method(gw_provider_string(ev, "authenticationType"), f);
    f->delivery_id = gw_provider_string(ev, "id");
    return gw_provider_read_time(ev, "createInstant", true, out);
}

const struct gw_provider gw_provider_fusionauth = {
    .name = "fusionauth",
    .scheme = GW_SCHEME_JWS_BODY,
    .signature_header = "X-FusionAuth-Signature-JWT",
    .setting = "webhooks.fusionauth.jwks_file or "
               "webhooks.fusionauth.hmac_secret",
    .answer = GW_ANSWER_SUMMARY,
    .map = map,
};
