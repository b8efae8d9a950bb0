/* tests/unit/events/test_providers.c: every provider unit against the
 * fixture rows (tests/fixtures/idp, signatures aside), the event builder's
 * exact output, and the shared JSON readers. */
#include "events/providers/provider.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/b64.h"
#include "common/fileutil.h"
#include "common/json_strict.h"
#include "events/webhook_event.h"

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define FILE_MAX (1 << 20)
#define RECEIVE_MS INT64_C(1710000000123)

static int passed;
static int failed;

static const struct gw_event_mapping id_map = {
    .id_container = "properties",
    .id_key = "message_id",
};

static void
check_at(bool ok, const char *got, const char *name, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL line %d: %s (got %s)\n", line, name,
            got != NULL ? got : "-");
}

static struct json_object *
read_json(const char *path)
{
    struct json_object *obj = NULL;
    char *text = NULL;
    size_t len;

    if (gw_file_read(path, FILE_MAX, &text, &len) != 0) {
        return NULL;
    }
    if (gw_json_parse(text, len, &obj, NULL) != GW_JSON_OK) {
        obj = NULL;
    }
    free(text);
    return obj;
}

/* Two optional strings: equal, or both absent. */
static bool
same_member(struct json_object *a, struct json_object *b, const char *path)
{
    const char *x = gw_provider_string(a, path);
    const char *y = gw_provider_string(b, path);

    if (x == NULL || y == NULL) {
        return x == y;
    }
    return strcmp(x, y) == 0;
}

/* The oracle's six fields (fixtures README). */
static bool
matches_oracle(struct json_object *ev, struct json_object *want)
{
    static const char *const paths[] = {
        "event_name",
        "user_id",
        "timestamp",
        "properties.email",
        "properties.user_name",
        "context.group_id",
    };

    for (size_t i = 0; i < COUNT(paths); i++) {
        if (!same_member(ev, want, paths[i])) {
            return false;
        }
    }
    return true;
}

/* Firebase's item is the JWT payload; its signature is auth's business. */
static struct json_object *
firebase_claims(struct json_object *body)
{
    const char *jwt = gw_provider_string(body, "data.jwt");
    const char *dot1 = jwt != NULL ? strchr(jwt, '.') : NULL;
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    unsigned char *payload = NULL;
    struct json_object *claims = NULL;
    size_t len;

    if (dot2 == NULL || !gw_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1),
                                          &payload, &len)) {
        return NULL;
    }
    if (gw_json_parse((const char *)payload, len, &claims, NULL) !=
        GW_JSON_OK) {
        claims = NULL;
    }
    free(payload);
    return claims;
}

/* Maps every element of one delivery; events land in out (an array). */
static bool
map_delivery(const struct gw_provider *p, struct json_object *root,
             const char *delivery_id, struct json_object *out, size_t *ignored,
             const char *name)
{
    struct json_object *array = NULL;
    size_t n = 1;

    if (p->items != NULL && !p->items(root, &array)) {
        return false;
    }
    n = array != NULL ? json_object_array_length(array) : 1;
    for (size_t i = 0; i < n; i++) {
        struct gw_provider_input in = {
            array != NULL ? json_object_array_get_idx(array, i) : root,
            delivery_id, NULL};
        struct gw_provider_output o = {0};
        struct gw_event ev = {0};
        enum gw_provider_verdict v;

        gw_webhook_fields_init(&o.fields);
        v = p->map(&in, &o);
        if (v == GW_PROVIDER_IGNORED) {
            (*ignored)++;
        } else if (v == GW_PROVIDER_SIGNIN &&
                   gw_webhook_event_build(&id_map, p->name, &o.fields,
                                          RECEIVE_MS, &ev) == GW_EVENT_OK) {
            json_object_array_add(out, json_tokener_parse(ev.json));
            gw_event_clear(&ev);
        } else {
            CHECK(false, o.reason, name);
        }
        gw_webhook_fields_clear(&o.fields);
    }
    return true;
}

static char *
header_value(const char *dir, const char *c, const char *header)
{
    char path[512], *text = NULL, *line, *save = NULL, *found = NULL;
    size_t len, hlen = strlen(header);

    snprintf(path, sizeof(path), "%s/%s.headers", dir, c);
    if (gw_file_read(path, FILE_MAX, &text, &len) != 0) {
        return NULL;
    }
    for (line = strtok_r(text, "\n", &save); line != NULL && found == NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncasecmp(line, header, hlen) == 0 && line[hlen] == ':') {
            found = strdup(line + hlen + 2);
        }
    }
    free(text);
    return found;
}

static void
run_case(const struct gw_provider *p, const char *dir, const char *c)
{
    char path[512], name[160];
    struct json_object *body, *want, *got = json_object_new_array();
    struct json_object *item;
    char *id = p->id_header != NULL ? header_value(dir, c, p->id_header) : NULL;
    size_t ignored = 0, n_want;

    snprintf(name, sizeof(name), "%s/%s", p->name, c);
    snprintf(path, sizeof(path), "%s/%s.body", dir, c);
    body = read_json(path);
    snprintf(path, sizeof(path), "%s/%s.expected.json", dir, c);
    want = read_json(path);
    item = p->scheme == GW_SCHEME_BODY_JWT ? firebase_claims(body)
                                           : json_object_get(body);
    CHECK(want != NULL && item != NULL && got != NULL, NULL, name);
    if (want != NULL && item != NULL && got != NULL &&
        !json_object_object_get_ex(want, "reject", NULL)) {
        CHECK(map_delivery(p, item, id, got, &ignored, name), NULL, name);
        if (json_object_object_get_ex(want, "ignored", NULL)) {
            /* A redelivery is the spool's to refuse, not the unit's. */
            CHECK(json_object_array_length(got) == 0 ||
                      strstr(c, "duplicate") != NULL,
                  json_object_to_json_string(got), name);
        } else {
            n_want = json_object_is_type(want, json_type_array)
                         ? json_object_array_length(want)
                         : 1;
            CHECK(json_object_array_length(got) == n_want,
                  json_object_to_json_string(got), name);
            for (size_t i = 0; i < n_want && i < json_object_array_length(got);
                 i++) {
                struct json_object *w =
                    json_object_is_type(want, json_type_array)
                        ? json_object_array_get_idx(want, i)
                        : want;

                CHECK(matches_oracle(json_object_array_get_idx(got, i), w),
                      json_object_to_json_string(
                          json_object_array_get_idx(got, i)),
                      name);
            }
        }
    }
    free(id);
    json_object_put(item);
    json_object_put(body);
    json_object_put(want);
    json_object_put(got);
}

static void
test_every_provider_maps_its_fixture_rows(void)
{
    const char *root = getenv("GW_FIXTURES");
    char dir[400], path[512];

    CHECK(root != NULL, NULL, "GW_FIXTURES names the fixtures folder");
    for (size_t i = 0; root != NULL && i < gw_provider_count(); i++) {
        const struct gw_provider *p = gw_provider_at(i);
        struct json_object *manifest, *cases;

        if (strcmp(p->name, "custom") == 0) {
            continue;
        }
        snprintf(dir, sizeof(dir), "%s/idp/%s", root, p->name);
        snprintf(path, sizeof(path), "%s/manifest.json", dir);
        manifest = read_json(path);
        CHECK(manifest != NULL, path, "every provider has fixtures");
        cases = gw_provider_get(manifest, "cases");
        for (size_t j = 0; cases != NULL && j < json_object_array_length(cases);
             j++) {
            const char *c =
                gw_provider_string(json_object_array_get_idx(cases, j), "name");
            const char *method = gw_provider_string(
                json_object_array_get_idx(cases, j), "method");

            if (method == NULL || strcmp(method, "POST") == 0) {
                run_case(p, dir, c);
            }
        }
        json_object_put(manifest);
    }
}

static void
test_webhook_event_has_the_schema_order_and_only_documented_fields(void)
{
    struct gw_webhook_fields f;
    struct gw_event ev;
    const char *want =
        "{\"event_name\":\"signed_in\",\"user_id\":\"u-1\",\"timestamp\":"
        "\"2024-05-01T12:34:56.789Z\",\"properties\":{\"email\":"
        "\"a@example.com\",\"user_name\":\"Ada\",\"auth_method\":\"sso\","
        "\"identity_provider\":\"okta\",\"mfa\":true,\"message_id\":"
        "\"dlv-1\"},\"context\":{\"group_id\":\"g-1\",\"session_id\":"
        "\"s-1\"}}";

    gw_webhook_fields_init(&f);
    f.user_id = "u-1";
    f.email = "a@example.com";
    f.user_name = "Ada";
    f.group_id = "g-1";
    f.timestamp_ms = INT64_C(1714566896789);
    f.has_timestamp = true;
    f.auth_method = "sso";
    f.identity_provider = "okta";
    f.mfa = 1;
    f.session_id = "s-1";
    f.delivery_id = "dlv-1";
    CHECK(gw_webhook_event_build(&id_map, "x", &f, RECEIVE_MS, &ev) ==
                  GW_EVENT_OK &&
              strcmp(ev.json, want) == 0,
          ev.json, "every field, in order");
    CHECK(strcmp(ev.id, "dlv-1") == 0, ev.id, "the delivery id is the id");
    gw_event_clear(&ev);

    gw_webhook_fields_init(&f);
    f.user_id = "u-1";
    f.email = "";
    f.mfa = 0;
    CHECK(gw_webhook_event_build(&id_map, "x", &f, RECEIVE_MS, &ev) ==
                  GW_EVENT_OK &&
              strstr(ev.json, "\"timestamp\":\"2024-03-09T16:00:00.123Z\"") &&
              strstr(ev.json, "\"properties\":{\"mfa\":false,") &&
              strstr(ev.json, "\"context\":{}") && strlen(ev.id) == 32,
          ev.json,
          "unknown time is the time received; \"\" absent; mfa false kept; "
          "no delivery id: a derived id");
    gw_event_clear(&ev);
}

static void
test_ids_that_cannot_travel_are_hashed(void)
{
    struct gw_webhook_fields f;
    struct gw_event a, b;
    char long_id[200];

    memset(long_id, 'k', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    gw_webhook_fields_init(&f);
    f.user_id = "u";
    f.delivery_id = long_id;
    CHECK(gw_webhook_event_build(&id_map, "p", &f, 0, &a) == GW_EVENT_OK &&
              strlen(a.id) == 32,
          a.id, "an id over 128 bytes becomes a hash");
    f.delivery_id = "has space";
    CHECK(gw_webhook_event_build(&id_map, "p", &f, 0, &b) == GW_EVENT_OK &&
              strlen(b.id) == 32 && strcmp(a.id, b.id) != 0,
          b.id, "an id with a space becomes another hash");
    gw_event_clear(&a);
    gw_event_clear(&b);
}

static void
test_provider_time_reads_strings_seconds_and_milliseconds(void)
{
    static const struct {
        const char *name;
        const char *json;
        bool in_ms;
        bool ok;
        int64_t ms;
    } cases[] = {
        {"RFC 3339, 9 digits truncated", "\"2024-05-01T12:34:56.789123456Z\"",
         false, true, INT64_C(1714566896789)},
        {"offset applied", "\"2024-05-01T14:34:56.5+02:00\"", false, true,
         INT64_C(1714566896500)},
        {"epoch seconds", "1714566895", false, true, INT64_C(1714566895000)},
        {"epoch milliseconds", "1714566896789", true, true,
         INT64_C(1714566896789)},
        {"no offset", "\"2024-05-01T12:34:56\"", false, false, 0},
        {"a word", "\"yesterday\"", false, false, 0},
        {"a boolean", "true", false, false, 0},
        {"past year 9999", "1e15", false, false, 0},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        struct json_object *v = json_tokener_parse(cases[i].json);
        int64_t ms = 0;
        bool ok = gw_provider_time(v, cases[i].in_ms, &ms);

        CHECK(ok == cases[i].ok && (!ok || ms == cases[i].ms), cases[i].json,
              cases[i].name);
        json_object_put(v);
    }
}

static void
test_custom_provider_follows_its_paths(void)
{
    const char *const types[] = {"login.succeeded"};
    struct gw_custom_map m = {
        .event_type_path = "type",
        .event_types = types,
        .event_type_count = 1,
        .user_id_path = "user.id",
        .email_path = "user.email",
        .timestamp_path = "at",
        .timestamp_in_ms = true,
        .delivery_id_path = "id",
    };
    struct json_object *item = json_tokener_parse(
        "{\"id\":\"d1\",\"type\":\"login.succeeded\",\"at\":1714566896789,"
        "\"user\":{\"id\":\"u9\",\"email\":\"u9@example.com\"}}");
    struct gw_provider_input in = {item, NULL, &m};
    struct gw_provider_output out = {0};
    const struct gw_provider *p = gw_provider_find("custom");

    gw_webhook_fields_init(&out.fields);
    CHECK(p != NULL && p->map(&in, &out) == GW_PROVIDER_SIGNIN &&
              strcmp(out.fields.user_id, "u9") == 0 &&
              out.fields.timestamp_ms == INT64_C(1714566896789) &&
              strcmp(out.fields.delivery_id, "d1") == 0,
          out.reason, "a configured sign-in");
    json_object_object_add(item, "type", json_object_new_string("logout"));
    CHECK(p != NULL && p->map(&in, &out) == GW_PROVIDER_IGNORED, out.reason,
          "a type outside the list is ignored");
    json_object_object_add(item, "type",
                           json_object_new_string("login.succeeded"));
    json_object_object_del(json_object_object_get(item, "user"), "id");
    CHECK(p != NULL && p->map(&in, &out) == GW_PROVIDER_INVALID &&
              strcmp(out.field, "user.id") == 0,
          out.reason, "no user id: invalid, naming the path");
    gw_webhook_fields_clear(&out.fields);
    json_object_put(item);
    CHECK(gw_provider_find("nope") == NULL, NULL, "unknown name");
}

int
main(void)
{
    test_every_provider_maps_its_fixture_rows();
    test_webhook_event_has_the_schema_order_and_only_documented_fields();
    test_ids_that_cannot_travel_are_hashed();
    test_provider_time_reads_strings_seconds_and_milliseconds();
    test_custom_provider_follows_its_paths();

    printf("unit.providers: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
