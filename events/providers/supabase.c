/* events/providers/supabase.c: Supabase Auth's "Customize Access Token"
 * hook (Standard Webhooks signing). It runs at every token issuance; the
 * issuances that start a session count, as the fixtures say: a sign-in,
 * and the sign-up, invitation and recovery links that sign the user in. */
#include <string.h>

#include "events/providers/provider.h"

/* authentication_method values that start a session, and their
 * auth_method word; token_refresh, totp (a step-up) and email_change are
 * not sign-ins. */
static const char *const methods[][2] = {
    {"password", "password"}, {"oauth", "social"},
    {"otp", "otp"},           {"magiclink", "magic_link"},
    {"sso/saml", "sso"},      {"email/signup", "magic_link"},
    {"invite", "magic_link"}, {"recovery", "magic_link"},
};

static const char *
session_method(const char *m)
{
    for (size_t i = 0; m != NULL && i < sizeof(methods) / sizeof(methods[0]);
         i++) {
        if (strcmp(m, methods[i][0]) == 0) {
            return methods[i][1];
        }
    }
    return NULL;
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *claims = gw_provider_get(in->item, "claims");
    const char *method =
        session_method(gw_provider_string(in->item, "authentication_method"));
    const char *aal = gw_provider_string(claims, "aal");

    if (method == NULL) {
        out->reason = "authentication_method that starts no session";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(in->item, "user_id");
    if (f->user_id == NULL) {
        f->user_id = gw_provider_string(claims, "sub");
    }
    if (f->user_id == NULL) {
        out->reason = "a token issuance without user_id";
        out->field = "user_id";
        return GW_PROVIDER_INVALID;
    }
    f->auth_method = method;
    if (strcmp(method, "social") == 0 || strcmp(method, "sso") == 0) {
        f->identity_provider =
            gw_provider_string(claims, "app_metadata.provider");
    }
    f->email = gw_provider_string(claims, "email");
    f->user_name = gw_provider_string(claims, "user_metadata.full_name");
    if (f->user_name == NULL) {
        f->user_name = gw_provider_string(claims, "user_metadata.name");
    }
    if (aal != NULL) {
        f->mfa = strcmp(aal, "aal2") == 0;
    }
    f->session_id = gw_provider_string(claims, "session_id");
    f->delivery_id = in->delivery_id;
    /* Older hook payloads have no metadata: the token's iat is then the
     * moment of issuance. */
    if (gw_provider_get(in->item, "metadata.time") != NULL) {
        return gw_provider_read_time(in->item, "metadata.time", false, out);
    }
    return gw_provider_read_time(claims, "iat", false, out);
}

const struct gw_provider gw_provider_supabase = {
    .name = "supabase",
    .scheme = GW_SCHEME_STANDARD,
    .signature_header = "webhook-signature",
    .id_header = "webhook-id",
    .timestamp_header = "webhook-timestamp",
    .tolerance_s = 300,
    .setting = "webhooks.supabase.secret",
    /* The hook sits inside Supabase's token issuance: without the claims
     * back, the user's sign-in fails. */
    .answer = GW_ANSWER_ECHO,
    .answer_member = "claims",
    .map = map,
};
