/* events/providers/firebase.c: Firebase Authentication / Identity
 * Platform blocking function beforeSignIn: a JWT signed by Google in the
 * body; its verified claims are the item mapped here. */
#include <string.h>

#include "events/providers/provider.h"

/* Firebase's uid limit (firebase-admin's blocking-token check). */
#define UID_MAX 128

static void
sign_in_method(const char *m, struct gw_webhook_fields *f)
{
    if (m == NULL) {
        return;
    }
    if (strcmp(m, "password") == 0) {
        f->auth_method = "password";
    } else if (strcmp(m, "emailLink") == 0) {
        f->auth_method = "magic_link";
    } else if (strcmp(m, "phone") == 0) {
        f->auth_method = "otp";
    } else if (strncmp(m, "saml.", 5) == 0 || strncmp(m, "oidc.", 5) == 0) {
        f->auth_method = "sso";
        f->identity_provider = m;
    } else if (strchr(m, '.') != NULL) {
        /* google.com, apple.com, github.com, ... */
        f->auth_method = "social";
        f->identity_provider = m;
    }
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *claims = in->item;
    const char *type = gw_provider_string(claims, "event_type");

    if (type == NULL || strcmp(type, "beforeSignIn") != 0) {
        out->reason = "blocking event other than beforeSignIn";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(claims, "sub");
    if (f->user_id == NULL || strlen(f->user_id) > UID_MAX) {
        out->reason = "sub must be a uid of 1 to 128 characters";
        out->field = "sub";
        return GW_PROVIDER_INVALID;
    }
    f->email = gw_provider_string(claims, "user_record.email");
    f->user_name = gw_provider_string(claims, "user_record.display_name");
    f->group_id = gw_provider_string(claims, "tenant_id");
    f->delivery_id = gw_provider_string(claims, "event_id");
    sign_in_method(gw_provider_string(claims, "sign_in_method"), f);
    return gw_provider_read_time(claims, "iat", false, out);
}

const struct gw_provider gw_provider_firebase = {
    .name = "firebase",
    .scheme = GW_SCHEME_BODY_JWT,
    .token_path = "data.jwt",
    .setting = "webhooks.firebase.jwks_file (with webhooks.firebase."
               "project_id and webhooks.firebase.audience)",
    /* {} lets the sign-in proceed unchanged. */
    .answer = GW_ANSWER_EMPTY,
    .map = map,
};
