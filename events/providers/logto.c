/* events/providers/logto.c: Logto webhooks: the PostSignIn interaction
 * hook is a sign-in. Logto sends no delivery id and no signing time. */
#include <string.h>

#include "events/providers/provider.h"

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *ev = in->item;
    const char *type = gw_provider_string(ev, "event");

    if (type == NULL || strcmp(type, "PostSignIn") != 0) {
        out->reason = "Logto event other than PostSignIn";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(ev, "userId");
    if (f->user_id == NULL) {
        f->user_id = gw_provider_string(ev, "user.id");
    }
    if (f->user_id == NULL) {
        out->reason = "a PostSignIn event without userId";
        out->field = "userId";
        return GW_PROVIDER_INVALID;
    }
    f->email = gw_provider_string(ev, "user.primaryEmail");
    f->user_name = gw_provider_string(ev, "user.name");
    if (f->user_name == NULL) {
        f->user_name = gw_provider_string(ev, "user.username");
    }
    f->session_id = gw_provider_string(ev, "sessionId");
    return gw_provider_read_time(ev, "createdAt", false, out);
}

const struct gw_provider gw_provider_logto = {
    .name = "logto",
    .scheme = GW_SCHEME_HMAC_HEX,
    .signature_header = "logto-signature-sha-256",
    .setting = "webhooks.logto.secret",
    .answer = GW_ANSWER_SUMMARY,
    .map = map,
};
