/* events/providers/clerk.c: Clerk webhooks, delivered by Svix:
 * session.created without an impersonating actor is a sign-in. */
#include <string.h>

#include "events/providers/provider.h"

/* The address whose id is primary_email_address_id, not simply the
 * first: a user may have several. */
static const char *
primary_email(struct json_object *user)
{
    const char *primary = gw_provider_string(user, "primary_email_address_id");
    struct json_object *list = gw_provider_get(user, "email_addresses");

    if (primary == NULL || list == NULL ||
        !json_object_is_type(list, json_type_array)) {
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *id = gw_provider_string(e, "id");

        if (id != NULL && strcmp(id, primary) == 0) {
            return gw_provider_string(e, "email_address");
        }
    }
    return NULL;
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    struct gw_webhook_fields *f = &out->fields;
    struct json_object *data = gw_provider_get(in->item, "data");
    struct json_object *user = gw_provider_get(data, "user");
    struct json_object *actor = gw_provider_get(data, "actor");
    const char *type = gw_provider_string(in->item, "type");

    if (type == NULL || strcmp(type, "session.created") != 0) {
        out->reason = "Clerk event type other than session.created";
        return GW_PROVIDER_IGNORED;
    }
    if (actor != NULL && !json_object_is_type(actor, json_type_null)) {
        out->reason = "impersonated session (data.actor is set)";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = gw_provider_string(data, "user_id");
    if (f->user_id == NULL) {
        out->reason = "a session.created event without data.user_id";
        out->field = "data.user_id";
        return GW_PROVIDER_INVALID;
    }
    /* Older payloads carry no data.user: then only the id and time. */
    if (!gw_provider_join_name(out, gw_provider_string(user, "first_name"),
                               gw_provider_string(user, "last_name"))) {
        return GW_PROVIDER_NO_MEMORY;
    }
    if (f->user_name == NULL) {
        f->user_name = gw_provider_string(user, "username");
    }
    f->email = primary_email(user);
    f->group_id = gw_provider_string(data, "last_active_organization_id");
    f->session_id = gw_provider_string(data, "id");
    f->delivery_id = in->delivery_id;
    /* data.created_at is the session's start; the envelope's timestamp is
     * when Clerk emitted the event. */
    return gw_provider_read_time(data, "created_at", true, out);
}

const struct gw_provider gw_provider_clerk = {
    .name = "clerk",
    .scheme = GW_SCHEME_STANDARD,
    .signature_header = "svix-signature",
    .id_header = "svix-id",
    .timestamp_header = "svix-timestamp",
    .tolerance_s = 300,
    .setting = "webhooks.clerk.secret",
    .answer = GW_ANSWER_SUMMARY,
    .map = map,
};
