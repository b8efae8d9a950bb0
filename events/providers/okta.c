/* events/providers/okta.c: Okta event hooks: System Log events in
 * data.events[]; user.session.start with outcome SUCCESS is a sign-in. */
#include <string.h>

#include "events/providers/provider.h"

static const char *
auth_method(struct json_object *ev)
{
    const char *provider =
        gw_provider_string(ev, "authenticationContext.authenticationProvider");
    const char *cred =
        gw_provider_string(ev, "authenticationContext.credentialType");

    if (provider != NULL && strcmp(provider, "SOCIAL") == 0) {
        return "social";
    }
    if (provider != NULL && strcmp(provider, "FEDERATION") == 0) {
        return "sso";
    }
    if (cred == NULL) {
        return NULL;
    }
    if (strcmp(cred, "PASSWORD") == 0) {
        return "password";
    }
    if (strcmp(cred, "OTP") == 0 || strcmp(cred, "SMS") == 0 ||
        strcmp(cred, "EMAIL") == 0) {
        return "otp";
    }
    if (strcmp(cred, "ASSERTION") == 0) {
        return "sso";
    }
    return NULL;
}

static bool
items(struct json_object *body, struct json_object **array)
{
    struct json_object *events = gw_provider_get(body, "data.events");

    *array = events;
    return events != NULL && json_object_is_type(events, json_type_array);
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *ev = in->item;
    const char *type = gw_provider_string(ev, "eventType");
    const char *result = gw_provider_string(ev, "outcome.result");
    const char *login;

    if (type == NULL || strcmp(type, "user.session.start") != 0) {
        out->reason = "Okta eventType other than user.session.start";
        return GW_PROVIDER_IGNORED;
    }
    if (result == NULL || strcmp(result, "SUCCESS") != 0) {
        out->reason = "user.session.start whose outcome is not SUCCESS";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(ev, "actor.id");
    if (f->user_id == NULL) {
        out->reason = "a user.session.start event without actor.id";
        out->field = "actor.id";
        return GW_PROVIDER_INVALID;
    }
    login = gw_provider_string(ev, "actor.alternateId");
    f->email = login != NULL && strchr(login, '@') != NULL ? login : NULL;
    f->user_name = gw_provider_string(ev, "actor.displayName");
    f->session_id =
        gw_provider_string(ev, "authenticationContext.externalSessionId");
    f->auth_method = auth_method(ev);
    /* Redeliveries may come in a new envelope: the event's uuid, not the
     * envelope's eventId, names it (Okta's event hook guide). */
    f->delivery_id = gw_provider_string(ev, "uuid");
    return gw_provider_read_time(ev, "published", false, out);
}

const struct gw_provider gw_provider_okta = {
    .name = "okta",
    .scheme = GW_SCHEME_STATIC,
    .signature_header = "Authorization",
    .setting = "webhooks.okta.authorization",
    .challenge_header = "X-Okta-Verification-Challenge",
    .answer = GW_ANSWER_SUMMARY,
    .items = items,
    .map = map,
};
