/* events/providers/auth0.c: Auth0 Log Streams (custom webhook, content
 * format "JSON array" or "JSON object"): a batch of tenant logs, of which
 * only type "s" (Success Login) is a sign-in. */
#include <string.h>

#include "events/providers/provider.h"

/* Auth0's strategy_type, in the gateway's auth_method words. */
static const char *
auth_method(struct json_object *data)
{
    const char *type = gw_provider_string(data, "strategy_type");
    const char *strategy = gw_provider_string(data, "strategy");

    if (type == NULL) {
        return NULL;
    }
    if (strcmp(type, "database") == 0) {
        return "password";
    }
    if (strcmp(type, "social") == 0) {
        return "social";
    }
    if (strcmp(type, "enterprise") == 0) {
        return "sso";
    }
    if (strcmp(type, "passwordless") == 0 && strategy != NULL &&
        strcmp(strategy, "sms") == 0) {
        return "otp";
    }
    /* Passwordless email may be a code or a link: Auth0's log does not
     * say which, so the method stays unknown. */
    return NULL;
}

static bool
items(struct json_object *body, struct json_object **array)
{
    if (json_object_is_type(body, json_type_array)) {
        *array = body;
        return true;
    }
    /* The "JSON object" content format sends one log per request. */
    *array = NULL;
    return json_object_is_type(body, json_type_object);
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *data = gw_provider_get(in->item, "data");
    const char *type = gw_provider_string(data, "type");
    const char *login, *method;

    if (type == NULL || strcmp(type, "s") != 0) {
        out->reason = "Auth0 log type other than s (Success Login)";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(data, "user_id");
    if (f->user_id == NULL) {
        out->reason = "a Success Login log without data.user_id";
        out->field = "data.user_id";
        return GW_PROVIDER_INVALID;
    }
    /* A database login's user_name is what the user typed: the address
     * when it is one (fixtures README, rule 3). */
    login = gw_provider_string(data, "user_name");
    f->user_name = login;
    f->email = login != NULL && strchr(login, '@') != NULL ? login : NULL;
    f->group_id = gw_provider_string(data, "organization_id");
    f->session_id = gw_provider_string(data, "details.session_id");
    f->delivery_id = gw_provider_string(in->item, "log_id");
    if (f->delivery_id == NULL) {
        f->delivery_id = gw_provider_string(data, "log_id");
    }
    method = auth_method(data);
    f->auth_method = method;
    if (method != NULL &&
        (strcmp(method, "social") == 0 || strcmp(method, "sso") == 0)) {
        f->identity_provider = gw_provider_string(data, "strategy");
    }
    return gw_provider_read_time(data, "date", false, out);
}

const struct gw_provider gw_provider_auth0 = {
    .name = "auth0",
    .scheme = GW_SCHEME_STATIC,
    .signature_header = "Authorization",
    .setting = "webhooks.auth0.authorization",
    .answer = GW_ANSWER_SUMMARY,
    .items = items,
    .map = map,
};
