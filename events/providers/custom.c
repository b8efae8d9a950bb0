/* events/providers/custom.c: a provider the gateway does not ship,
 * described in configuration only: an HMAC header and a JSON path for
 * each field (webhooks.custom.*). */
#include <string.h>

#include "events/providers/provider.h"

static const char *
path_string(struct json_object *item, const char *path)
{
    return path != NULL ? gw_provider_string(item, path) : NULL;
}

static bool
counts(const struct gw_custom_map *m, struct json_object *item)
{
    const char *type;

    if (m->event_type_path == NULL) {
        return true;
    }
    type = gw_provider_string(item, m->event_type_path);
    for (size_t i = 0; type != NULL && i < m->event_type_count; i++) {
        if (strcmp(type, m->event_types[i]) == 0) {
            return true;
        }
    }
    return false;
}

static enum gw_provider_verdict
map(const struct gw_provider_input *in, struct gw_provider_output *out)
{
    const struct gw_custom_map *m = in->custom;
    struct gw_webhook_fields *f = &out->fields;

    if (!counts(m, in->item)) {
        out->reason = "event type not in webhooks.custom.event_types";
        return GW_PROVIDER_IGNORED;
    }
    f->user_id = path_string(in->item, m->user_id_path);
    if (f->user_id == NULL) {
        out->reason = "no string at webhooks.custom.user_id_path";
        out->field = m->user_id_path;
        return GW_PROVIDER_INVALID;
    }
    f->email = path_string(in->item, m->email_path);
    f->user_name = path_string(in->item, m->user_name_path);
    f->group_id = path_string(in->item, m->group_id_path);
    f->session_id = path_string(in->item, m->session_id_path);
    f->delivery_id = path_string(in->item, m->delivery_id_path);
    if (m->timestamp_path == NULL) {
        return GW_PROVIDER_SIGNIN;
    }
    return gw_provider_read_time(in->item, m->timestamp_path,
                                 m->timestamp_in_ms, out);
}

const struct gw_provider gw_provider_custom = {
    .name = "custom",
    .scheme = GW_SCHEME_HMAC_CUSTOM,
    .setting = "webhooks.custom.secret (with webhooks.custom."
               "signature_header and webhooks.custom.user_id_path)",
    .answer = GW_ANSWER_SUMMARY,
    .map = map,
};
