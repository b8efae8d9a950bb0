/* events/providers/workos.c: WorkOS webhooks: session.created without an
 * impersonator is the completed sign-in (authentication.* events are
 * steps, sent even while MFA is pending). */
#include <string.h>

#include "events/providers/provider.h"

static const char *
auth_method(const char *m)
{
    static const char *const names[][2] = {
        {"password", "password"}, {"oauth", "social"},   {"sso", "sso"},
        {"passkey", "passkey"},   {"magic_code", "otp"},
    };

    for (size_t i = 0; m != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(m, names[i][0]) == 0) {
            return names[i][1];
        }
    }
    return NULL;
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *data = gw_provider_get(in->item, "data");
    struct json_object *imp = gw_provider_get(data, "impersonator");
    const char *type = gw_provider_string(in->item, "event");

    if (type == NULL || strcmp(type, "session.created") != 0) {
        out->reason = "WorkOS event other than session.created";
        return GW_PROVIDER_IGNORED;
    }
    if (imp != NULL && !json_object_is_type(imp, json_type_null)) {
        out->reason = "impersonated session (data.impersonator is set)";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(data, "user_id");
    if (f->user_id == NULL) {
        out->reason = "a session.created event without data.user_id";
        out->field = "data.user_id";
        return GW_PROVIDER_INVALID;
    }
    f->group_id = gw_provider_string(data, "organization_id");
    f->session_id = gw_provider_string(data, "id");
    f->auth_method = auth_method(gw_provider_string(data, "auth_method"));
    f->delivery_id = gw_provider_string(in->item, "id");
    return gw_provider_read_time(data, "created_at", false, out);
}

const struct gw_provider gw_provider_workos = {
    .name = "workos",
    .scheme = GW_SCHEME_WORKOS,
    .signature_header = "WorkOS-Signature",
    .tolerance_s = 180,
    .setting = "webhooks.workos.secret",
    .answer = GW_ANSWER_SUMMARY,
    .map = map,
};
