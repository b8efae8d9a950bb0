/* events/providers/keycloak.c: Keycloak events sent by the Phase Two
 * keycloak-events HTTP sender (ext-event-http with a sharedSecret): a
 * LOGIN event is a sign-in. */
#include <string.h>

#include "events/providers/provider.h"

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *ev = in->item;
    const char *type = gw_provider_string(ev, "type");
    const char *login;

    /* CLIENT_LOGIN is a service account, LOGIN_ERROR a failure. */
    if (type == NULL || strcmp(type, "LOGIN") != 0) {
        out->reason = "Keycloak event type other than LOGIN";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(ev, "userId");
    if (f->user_id == NULL) {
        out->reason = "a LOGIN event without userId";
        out->field = "userId";
        return GW_PROVIDER_INVALID;
    }
    login = gw_provider_string(ev, "details.username");
    f->user_name = login;
    f->email = gw_provider_string(ev, "details.email");
    if (f->email == NULL && login != NULL && strchr(login, '@') != NULL) {
        f->email = login;
    }
    /* A brokered login names the upstream identity provider's alias. */
    f->identity_provider = gw_provider_string(ev, "details.identity_provider");
    f->session_id = gw_provider_string(ev, "sessionId");
    /* Older Keycloak versions send no id: the event then names itself. */
    f->delivery_id = gw_provider_string(ev, "id");
    return gw_provider_read_time(ev, "time", true, out);
}

const struct gw_provider gw_provider_keycloak = {
    .name = "keycloak",
    .scheme = GW_SCHEME_HMAC_HEX,
    .signature_header = "X-Keycloak-Signature",
    .setting = "webhooks.keycloak.secret",
    .answer = GW_ANSWER_SUMMARY,
    .map = map,
};
