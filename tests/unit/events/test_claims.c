/* tests/unit/events/test_claims.c: claim paths and the standard claims
 * (amr, sid, idp) to event fields, one table row per case. */
#include "events/claims.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static int passed;
static int failed;

static void
check(bool ok, const char *name, const char *what, const char *got)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL [%s] %s (got %s)\n", name, what, got);
}

static void
test_claims_find_namespaced_then_dotted_paths(void)
{
    static const struct {
        const char *name, *claims, *spec, *want; /* want NULL: absent */
    } cases[] = {
        {"plain", "{\"org_id\":\"o1\"}", "org_id", "o1"},
        {"namespaced URL claim", "{\"https://x.example/org\":\"o2\"}",
         "https://x.example/org", "o2"},
        {"nested path", "{\"org\":{\"id\":\"o3\"}}", "org.id", "o3"},
        {"whole name wins over the path",
         "{\"a.b\":\"flat\",\"a\":{\"b\":\"deep\"}}", "a.b", "flat"},
        {"path through a non-object", "{\"org\":\"x\"}", "org.id", NULL},
        {"empty string is absent", "{\"org_id\":\"\"}", "org_id", NULL},
        {"number is not a string", "{\"org_id\":7}", "org_id", NULL},
        {"empty segment", "{\"a\":{\"\":\"x\"}}", "a..", NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *c = json_tokener_parse(cases[i].claims);
        const char *got = gw_claims_string(c, cases[i].spec);

        check(cases[i].want == NULL
                  ? got == NULL
                  : got != NULL && strcmp(got, cases[i].want) == 0,
              cases[i].name, "claim value", got ? got : "(absent)");
        json_object_put(c);
    }
}

static void
test_claims_enrich_maps_amr_sid_and_idp(void)
{
    static const struct {
        const char *name, *claims, *props, *context;
    } cases[] = {
        {"password with otp: mfa", "{\"amr\":[\"pwd\",\"otp\"]}",
         "{\"auth_method\":\"password\",\"mfa\":true}", "{}"},
        {"otp first then pwd: password ranks first",
         "{\"amr\":[\"otp\",\"pwd\"]}",
         "{\"auth_method\":\"password\",\"mfa\":true}", "{}"},
        {"password alone", "{\"amr\":[\"pwd\"]}",
         "{\"auth_method\":\"password\",\"mfa\":false}", "{}"},
        {"hardware key: passkey", "{\"amr\":[\"hwk\",\"user\"]}",
         "{\"auth_method\":\"passkey\",\"mfa\":false}", "{}"},
        {"key and fingerprint: two kinds", "{\"amr\":[\"swk\",\"fpt\"]}",
         "{\"auth_method\":\"passkey\",\"mfa\":true}", "{}"},
        {"sms: otp", "{\"amr\":[\"sms\"]}",
         "{\"auth_method\":\"otp\",\"mfa\":false}", "{}"},
        {"mfa alone", "{\"amr\":[\"mfa\"]}", "{\"mfa\":true}", "{}"},
        {"unknown values", "{\"amr\":[\"xyz\",7]}", "{\"mfa\":false}", "{}"},
        {"empty amr", "{\"amr\":[]}", "{}", "{}"},
        {"amr not an array", "{\"amr\":\"pwd\"}", "{}", "{}"},
        {"sid and idp", "{\"sid\":\"s-1\",\"idp\":\"google.com\"}",
         "{\"identity_provider\":\"google.com\"}",
         "{\"session_id\":\"s-1\"}"},
        {"empty sid and idp absent", "{\"sid\":\"\",\"idp\":null}", "{}",
         "{}"},
    };
    const struct gw_event_mapping map = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *c = json_tokener_parse(cases[i].claims);
        struct json_object *p = json_object_new_object();
        struct json_object *x = json_object_new_object();
        struct json_object *wp = json_tokener_parse(cases[i].props);
        struct json_object *wx = json_tokener_parse(cases[i].context);

        check(gw_claims_enrich(&map, c, p, x), cases[i].name, "enrich ok",
              "false");
        check(json_object_equal(p, wp), cases[i].name, "properties",
              json_object_to_json_string(p));
        check(json_object_equal(x, wx), cases[i].name, "context",
              json_object_to_json_string(x));
        json_object_put(c);
        json_object_put(p);
        json_object_put(x);
        json_object_put(wp);
        json_object_put(wx);
    }
}

static void
test_claims_enrich_copies_extra_claims_without_overriding(void)
{
    static const char *const claims_list[] = {"https://x.example/plan",
                                              "dept", "missing", "email"};
    static const char *const names[] = {"plan", "dept", "missing", "email"};
    const struct gw_event_mapping map = {.extra_claims = claims_list,
                                         .extra_names = names,
                                         .extra_claim_count = 4};
    struct json_object *c = json_tokener_parse(
        "{\"https://x.example/plan\":\"pro\",\"dept\":{\"id\":3},"
        "\"email\":\"other@example.com\"}");
    struct json_object *p = json_tokener_parse("{\"email\":\"a@b.example\"}");
    struct json_object *x = json_object_new_object();
    struct json_object *want = json_tokener_parse(
        "{\"email\":\"a@b.example\",\"plan\":\"pro\",\"dept\":{\"id\":3}}");

    check(gw_claims_enrich(&map, c, p, x), "extra", "enrich ok", "false");
    check(json_object_equal(p, want), "extra claims", "properties",
          json_object_to_json_string(p));
    json_object_put(c);
    json_object_put(p);
    json_object_put(x);
    json_object_put(want);
}

int
main(void)
{
    test_claims_find_namespaced_then_dotted_paths();
    test_claims_enrich_maps_amr_sid_and_idp();
    test_claims_enrich_copies_extra_claims_without_overriding();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
