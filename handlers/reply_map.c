/* handlers/reply_map.c: result reasons to HTTP replies, counted once. */
#include "handlers/reply_map.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/json_strict.h"
#include "common/log.h"
#include "metrics/metrics.h"

void
gw_reply_refuse(struct gw_request *req, unsigned status, const char *code,
                const char *message, const char *field)
{
    gw_metrics_add("signin_gateway_rejections_total", "reason", code, 1);
    gw_reply_error(req, status, code, message, field);
}

static const char *
token_message(enum gw_jwt_result rc)
{
    switch (rc) {
    case GW_JWT_MALFORMED:
        return "the token is not a well-formed signed JWT";
    case GW_JWT_ALG_NOT_ALLOWED:
        return "the token's algorithm is not allowed for this key";
    case GW_JWT_UNKNOWN_KID:
        return "no configured key has the token's kid";
    case GW_JWT_MISSING_KID:
        return "several keys could verify the token: it needs a kid";
    case GW_JWT_BAD_SIGNATURE:
        return "the token's signature does not verify";
    case GW_JWT_EXPIRED:
        return "the token has expired";
    case GW_JWT_NOT_YET_VALID:
        return "the token is not valid yet (nbf or iat in the future)";
    case GW_JWT_WRONG_ISSUER:
        return "the token's issuer is not the configured one";
    case GW_JWT_WRONG_AUDIENCE:
        return "the token is not meant for this audience";
    case GW_JWT_MISSING_CLAIM:
        return "the token lacks a required claim";
    default:
        return "the token was refused";
    }
}

void
gw_reply_token_error(struct gw_request *req, enum gw_jwt_result rc,
                     const struct gw_jwt_verified *v)
{
    const char *code = gw_jwt_result_code(rc);

    if (rc == GW_JWT_NO_MEMORY) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    gw_log(GW_LOG_DEBUG, "auth", "token_refused",
           GW_F_STR("req", gw_request_id(req)), GW_F_STR("reason", code),
           GW_F_STR("alg", v->alg ? gw_jwt_alg_name(v->alg) : NULL),
           GW_F_UNTRUSTED("kid", v->kid[0] ? v->kid : NULL), GW_F_END);
    gw_reply_header(req, "WWW-Authenticate",
                    "Bearer error=\"invalid_token\"");
    gw_reply_refuse(req, 401, code, token_message(rc),
                    rc == GW_JWT_MISSING_CLAIM ? v->missing_claim : NULL);
}

void
gw_reply_event_error(struct gw_request *req, enum gw_event_result rc,
                     const struct gw_event_error *err, long index)
{
    struct json_object *obj;
    const char *code = gw_event_result_code(rc);
    unsigned status = rc == GW_EVENT_NOT_ALLOWED ? 422 : 400;

    if (rc == GW_EVENT_NO_MEMORY) {
        gw_reply_refuse(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    gw_metrics_add("signin_gateway_rejections_total", "reason", code, 1);
    gw_request_set_reason(req, code);
    obj = json_object_new_object();
    if (obj == NULL) {
        gw_reply_error(req, 503, "no_memory", "try again later", NULL);
        return;
    }
    json_object_object_add(obj, "error", json_object_new_string(code));
    json_object_object_add(obj, "message",
                           json_object_new_string(err->message));
    if (err->field[0] != '\0') {
        json_object_object_add(obj, "field",
                               json_object_new_string(err->field));
    }
    if (index >= 0) {
        json_object_object_add(obj, "index", json_object_new_int64(index));
    }
    if (rc == GW_EVENT_INVALID_TIMESTAMP) {
        json_object_object_add(obj, "value",
                               json_object_new_string(err->value));
        json_object_object_add(obj, "example",
                               json_object_new_string("2024-05-01T12:34:56."
                                                      "789Z"));
    }
    gw_reply_json(req, status, obj);
}

bool
gw_reply_need_bearer(struct gw_request *req, const char **token, size_t *len)
{
    const char *h = gw_request_header(req, "Authorization");

    /* RFC 7235: the scheme name is case-insensitive. */
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        gw_reply_header(req, "WWW-Authenticate", "Bearer");
        gw_reply_refuse(req, 401, "missing_token",
                        "send Authorization: Bearer <token>", NULL);
        return false;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    *token = h;
    *len = strlen(h);
    while (*len > 0 && h[*len - 1] == ' ') {
        (*len)--;
    }
    if (*len == 0) {
        gw_reply_header(req, "WWW-Authenticate", "Bearer");
        gw_reply_refuse(req, 401, "missing_token",
                        "send Authorization: Bearer <token>", NULL);
        return false;
    }
    return true;
}

static bool
is_json_type(const char *ct)
{
    size_t n = strcspn(ct, ";");

    while (n > 0 && ct[n - 1] == ' ') {
        n--;
    }
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

unsigned
gw_reply_json_check(const char *content_type, const char *body, size_t len,
                    struct json_object **out, const char **code,
                    char *message, size_t message_len)
{
    size_t offset = 0;
    enum gw_json_result rc;

    *out = NULL;
    if (content_type == NULL || !is_json_type(content_type)) {
        *code = "unsupported_media_type";
        snprintf(message, message_len, "send Content-Type: application/json");
        return 415;
    }
    rc = gw_json_parse(body, len, out, &offset);
    if (rc == GW_JSON_NO_MEMORY) {
        *code = "no_memory";
        snprintf(message, message_len, "try again later");
        return 503;
    }
    if (rc != GW_JSON_OK) {
        *code = "invalid_json";
        snprintf(message, message_len,
                 "the body is not valid JSON (%s at byte %zu)",
                 gw_json_result_code(rc), offset);
        return 400;
    }
    return 0;
}

bool
gw_reply_need_json(struct gw_request *req, struct json_object **out)
{
    const char *body, *code = NULL;
    unsigned status;
    size_t len;
    char message[96];

    body = gw_request_body(req, &len);
    status = gw_reply_json_check(gw_request_header(req, "Content-Type"), body,
                                 len, out, &code, message, sizeof(message));
    if (status != 0) {
        gw_reply_refuse(req, status, code, message, NULL);
        return false;
    }
    return true;
}
