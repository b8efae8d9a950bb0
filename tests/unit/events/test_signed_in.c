/* tests/unit/events/test_signed_in.c: the signed_in event built from token
 * claims and normalized from Track API events, compared as exact JSON text
 * (key order included), with the event ids recomputed here. */
#include "events/signed_in.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/sha.h>

#include "common/json_strict.h"

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Receive time used by every case: 2024-03-09T16:00:00.123Z. */
#define RECEIVE_MS INT64_C(1710000000123)
#define RECEIVE_TS "2024-03-09T16:00:00.123Z"

/* iat of the test tokens: 2023-11-14T22:13:20Z. */
#define IAT_TS "2023-11-14T22:13:20.000Z"

/* In expected JSON, stands for the event id computed by the test. */
#define ID_MARK "@ID@"

#define SEED_ITEM(ts)                                                          \
    "{\n"                                                                      \
    "    \"event\": \"signed_in\",\n"                                          \
    "    \"properties\": {\n"                                                  \
    "      \"email\": \"JohnDoe@acmelabs.com\",\n"                             \
    "      \"user_name\": \"John Doe\"\n"                                      \
    "    },\n"                                                                 \
    "    \"user_id\": \"3e474abe-5943-41fd-8b7b-4c87ad95b0c7\",\n"             \
    "    \"timestamp\": \"" ts "\",\n"                                         \
    "    \"context\": {\n"                                                     \
    "\t    \"group_id\": \"55444abe-41fd-5943-d95b-4c87ad95b674\"\n"           \
    "    }\n"                                                                  \
    "}"

static int passed;
static int failed;

static const char *const name_claims[] = {"name", "preferred_username"};
static const char *const event_names[] = {"signed_in"};

/* The mapping main.c builds from the defaults: auth.group_claim org_id,
 * auth.name_claims name,preferred_username, event.id_field
 * properties.message_id, track.event_names signed_in. */
static const struct gw_event_mapping default_map = {
    .group_claim = "org_id",
    .name_claims = name_claims,
    .name_claim_count = COUNT(name_claims),
    .id_container = "properties",
    .id_key = "message_id",
    .event_names = event_names,
    .event_name_count = COUNT(event_names),
};

static void
check_at(bool ok, const char *label, const char *name, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL line %d: %s [%s]\n", line, label, name);
}

static struct json_object *
parse(const char *text)
{
    struct json_object *obj = NULL;

    if (gw_json_parse(text, strlen(text), &obj, NULL) != GW_JSON_OK) {
        fprintf(stderr, "test input is not JSON: %s\n", text);
        abort();
    }
    return obj;
}

/* First 32 hex digits of SHA-256(text): the gateway's derived event id. */
static void
sha_id(const char *text, char out[33])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)text, strlen(text), digest);
    for (size_t i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
}

/* Replaces every occurrence of from in text by to; returns a new string. */
static char *
replace(const char *text, const char *from, const char *to)
{
    size_t from_len = strlen(from), len = 0;
    char *out = NULL;
    FILE *f = open_memstream(&out, &len);

    if (f == NULL) {
        abort();
    }
    for (const char *p = text;;) {
        const char *hit = strstr(p, from);

        if (hit == NULL) {
            fputs(p, f);
            break;
        }
        fwrite(p, 1, (size_t)(hit - p), f);
        fputs(to, f);
        p = hit + from_len;
    }
    if (fclose(f) != 0 || out == NULL) {
        abort();
    }
    return out;
}

/* A track event's id is derived from its normalized JSON before the id is
 * added: the expected text without its message_id member. */
static void
derived_track_id(const char *want_json, char out[33])
{
    char *pre = replace(want_json, ",\"message_id\":\"" ID_MARK "\"", "");
    char *bare = replace(pre, "\"message_id\":\"" ID_MARK "\"", "");

    sha_id(bare, out);
    free(bare);
    free(pre);
}

static void
report_json(const char *label, const char *want, const char *got)
{
    fprintf(stderr, "  %s\n    want: %s\n    got:  %s\n", label, want,
            got != NULL ? got : "(null)");
}

static bool
is_hex32(const char *id)
{
    if (strlen(id) != 32) {
        return false;
    }
    for (const char *p = id; *p != '\0'; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return false;
        }
    }
    return true;
}

struct claims_case {
    const char *name;
    const char *claims;
    const char *body; /* NULL: no body */
    enum gw_event_result want_rc;
    const char *want_json; /* ID_MARK for the id */
    const char *id_input;  /* hashed for the id; NULL: only 32 hex */
    const char *want_field;
    const char *want_value;
};

#define FULL_CLAIMS                                                            \
    "{\"iss\":\"https://idp.example\",\"sub\":\"user-1\",\"aud\":\"gw\","      \
    "\"exp\":1700003600,\"iat\":1700000000,\"jti\":\"tok-1\","                 \
    "\"email\":\"jo@example.com\",\"name\":\"Jo Doe\","                        \
    "\"preferred_username\":\"jo\",\"org_id\":\"org-9\"}"

#define FULL_ID_INPUT "https://idp.example\nuser-1\ntok-1"

#define FULL_EVENT(ts, extra)                                                  \
    "{\"event_name\":\"signed_in\",\"user_id\":\"user-1\",\"timestamp\":\"" ts \
    "\",\"properties\":{\"email\":\"jo@example.com\",\"user_name\":"           \
    "\"Jo Doe\"" extra ",\"message_id\":\"" ID_MARK "\"},\"context\":{"        \
    "\"group_id\":\"org-9\"}}"

static const struct claims_case claims_cases[] = {
    {"full claims, no body", FULL_CLAIMS, NULL, GW_EVENT_OK,
     FULL_EVENT(IAT_TS, ""), FULL_ID_INPUT, NULL, NULL},
    {"full claims, empty body object", FULL_CLAIMS, "{}", GW_EVENT_OK,
     FULL_EVENT(IAT_TS, ""), FULL_ID_INPUT, NULL, NULL},
    {"no email, name or org: keys absent",
     "{\"iss\":\"i\",\"sub\":\"user-2\",\"iat\":1700000000,\"jti\":\"t2\"}",
     NULL, GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"user-2\",\"timestamp\":"
     "\"" IAT_TS "\",\"properties\":{\"message_id\":\"" ID_MARK
     "\"},\"context\":{}}",
     "i\nuser-2\nt2", NULL, NULL},
    {"empty and null claims: keys absent, never null or \"\"",
     "{\"iss\":\"i\",\"sub\":\"user-3\",\"iat\":1700000000,\"jti\":\"t3\","
     "\"email\":\"\",\"name\":null,\"preferred_username\":\"\","
     "\"org_id\":\"\"}",
     NULL, GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"user-3\",\"timestamp\":"
     "\"" IAT_TS "\",\"properties\":{\"message_id\":\"" ID_MARK
     "\"},\"context\":{}}",
     "i\nuser-3\nt3", NULL, NULL},
    {"no name: preferred_username",
     "{\"iss\":\"i\",\"sub\":\"u\",\"iat\":1700000000,\"jti\":\"t\","
     "\"preferred_username\":\"jo\"}",
     NULL, GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"u\",\"timestamp\":\"" IAT_TS
     "\",\"properties\":{\"user_name\":\"jo\",\"message_id\":\"" ID_MARK
     "\"},\"context\":{}}",
     "i\nu\nt", NULL, NULL},
    {"empty name: preferred_username",
     "{\"iss\":\"i\",\"sub\":\"u\",\"iat\":1700000000,\"jti\":\"t\","
     "\"name\":\"\",\"preferred_username\":\"jo\"}",
     NULL, GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"u\",\"timestamp\":\"" IAT_TS
     "\",\"properties\":{\"user_name\":\"jo\",\"message_id\":\"" ID_MARK
     "\"},\"context\":{}}",
     "i\nu\nt", NULL, NULL},
    {"org_id not a string: absent",
     "{\"iss\":\"i\",\"sub\":\"u\",\"iat\":1700000000,\"jti\":\"t\","
     "\"org_id\":42,\"email\":[\"a@b.c\"]}",
     NULL, GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"u\",\"timestamp\":\"" IAT_TS
     "\",\"properties\":{\"message_id\":\"" ID_MARK "\"},\"context\":{}}",
     "i\nu\nt", NULL, NULL},
    {"no jti: id from iat as decimal",
     "{\"iss\":\"https://idp.example\",\"sub\":\"user-1\",\"iat\":1700000000,"
     "\"email\":\"jo@example.com\",\"name\":\"Jo Doe\",\"org_id\":\"org-9\"}",
     NULL, GW_EVENT_OK, FULL_EVENT(IAT_TS, ""),
     "https://idp.example\nuser-1\n1700000000", NULL, NULL},
    {"empty jti: id from iat",
     "{\"iss\":\"https://idp.example\",\"sub\":\"user-1\",\"iat\":1700000000,"
     "\"jti\":\"\",\"email\":\"jo@example.com\",\"name\":\"Jo Doe\","
     "\"org_id\":\"org-9\"}",
     NULL, GW_EVENT_OK, FULL_EVENT(IAT_TS, ""),
     "https://idp.example\nuser-1\n1700000000", NULL, NULL},
    {"no iat: receive time", "{\"iss\":\"i\",\"sub\":\"u\",\"jti\":\"t\"}",
     NULL, GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"u\",\"timestamp\":"
     "\"" RECEIVE_TS "\",\"properties\":{\"message_id\":\"" ID_MARK
     "\"},\"context\":{}}",
     "i\nu\nt", NULL, NULL},
    {"iat with a fraction: milliseconds kept",
     "{\"iss\":\"i\",\"sub\":\"u\",\"jti\":\"t\",\"iat\":1700000000.25}", NULL,
     GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"u\",\"timestamp\":"
     "\"2023-11-14T22:13:20.250Z\",\"properties\":{\"message_id\":\"" ID_MARK
     "\"},\"context\":{}}",
     "i\nu\nt", NULL, NULL},
    {"body timestamp beats iat", FULL_CLAIMS,
     "{\"timestamp\":\"2024-05-01T12:34:56.789Z\"}", GW_EVENT_OK,
     FULL_EVENT("2024-05-01T12:34:56.789Z", ""), FULL_ID_INPUT, NULL, NULL},
    {"body timestamp with offset: UTC, fraction truncated", FULL_CLAIMS,
     "{\"timestamp\":\"2024-05-01T14:34:56.78999+02:00\"}", GW_EVENT_OK,
     FULL_EVENT("2024-05-01T12:34:56.789Z", ""), FULL_ID_INPUT, NULL, NULL},
    {"body properties merged, identity and id never overridden", FULL_CLAIMS,
     "{\"properties\":{\"plan\":\"pro\",\"email\":\"evil@x.test\","
     "\"user_name\":\"Evil\",\"User_name\":\"Evil2\","
     "\"message_id\":\"forged\",\"page\":\"/login\",\"n\":1.50}}",
     GW_EVENT_OK,
     FULL_EVENT(IAT_TS, ",\"plan\":\"pro\",\"page\":\"/login\",\"n\":1.50"),
     FULL_ID_INPUT, NULL, NULL},
    {"body email ignored even when the token has none",
     "{\"iss\":\"i\",\"sub\":\"u\",\"iat\":1700000000,\"jti\":\"t\"}",
     "{\"properties\":{\"email\":\"evil@x.test\",\"user_name\":\"Evil\"}}",
     GW_EVENT_OK,
     "{\"event_name\":\"signed_in\",\"user_id\":\"u\",\"timestamp\":\"" IAT_TS
     "\",\"properties\":{\"message_id\":\"" ID_MARK "\"},\"context\":{}}",
     "i\nu\nt", NULL, NULL},
    {"body properties null: none added", FULL_CLAIMS, "{\"properties\":null}",
     GW_EVENT_OK, FULL_EVENT(IAT_TS, ""), FULL_ID_INPUT, NULL, NULL},
    {"body unknown member refused", FULL_CLAIMS,
     "{\"user_id\":\"someone-else\"}", GW_EVENT_UNKNOWN_FIELD, NULL, NULL,
     "user_id", NULL},
    {"body properties an array", FULL_CLAIMS, "{\"properties\":[1]}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties", NULL},
    {"body properties a string", FULL_CLAIMS, "{\"properties\":\"x\"}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties", NULL},
    {"body not an object", FULL_CLAIMS, "[]", GW_EVENT_INVALID_BODY, NULL, NULL,
     NULL, NULL},
    {"body timestamp of the seed (two-digit year)", FULL_CLAIMS,
     "{\"timestamp\":\"20-11-23T22:28:55.111Z\"}", GW_EVENT_INVALID_TIMESTAMP,
     NULL, NULL, "timestamp", "20-11-23T22:28:55.111Z"},
    {"body timestamp without offset", FULL_CLAIMS,
     "{\"timestamp\":\"2024-05-01T12:34:56\"}", GW_EVENT_INVALID_TIMESTAMP,
     NULL, NULL, "timestamp", "2024-05-01T12:34:56"},
    {"body timestamp a number", FULL_CLAIMS, "{\"timestamp\":1700000000}",
     GW_EVENT_INVALID_TIMESTAMP, NULL, NULL, "timestamp", "1700000000"},
    {"body timestamp value cut at 64 bytes", FULL_CLAIMS,
     "{\"timestamp\":\"0123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789\"}",
     GW_EVENT_INVALID_TIMESTAMP, NULL, NULL, "timestamp",
     "0123456789012345678901234567890123456789012345678901234567890123"},
};

static void
check_claims_case(const struct claims_case *c)
{
    struct json_object *claims = parse(c->claims);
    struct json_object *body = c->body != NULL ? parse(c->body) : NULL;
    struct gw_event ev;
    struct gw_event_error err = {{0}, {0}, {0}};
    enum gw_event_result rc;
    char label[320], id[GW_EVENT_ID_MAX + 1];

    rc = gw_signed_in_from_claims(&default_map, claims, body, RECEIVE_MS, &ev,
                                  &err);
    snprintf(label, sizeof(label), "result: want %s, got %s",
             gw_event_result_code(c->want_rc), gw_event_result_code(rc));
    CHECK(rc == c->want_rc, label, c->name);

    if (rc == GW_EVENT_OK && c->want_rc == GW_EVENT_OK) {
        char *want;

        if (c->id_input != NULL) {
            sha_id(c->id_input, id);
            CHECK(strcmp(ev.id, id) == 0,
                  "id: first 32 hex of SHA-256(iss \\n sub \\n jti|iat)",
                  c->name);
        } else {
            snprintf(id, sizeof(id), "%s", ev.id);
        }
        CHECK(is_hex32(ev.id), "id: 32 lowercase hex", c->name);
        want = replace(c->want_json, ID_MARK, id);
        CHECK(ev.json != NULL && strcmp(ev.json, want) == 0, "json: exact text",
              c->name);
        if (ev.json == NULL || strcmp(ev.json, want) != 0) {
            report_json(c->name, want, ev.json);
        }
        CHECK(ev.json != NULL && ev.json_len == strlen(ev.json),
              "json_len: the text's length", c->name);
        free(want);
        gw_event_clear(&ev);
    } else if (rc != GW_EVENT_OK) {
        CHECK(ev.json == NULL, "failure: no json handed out", c->name);
        if (c->want_field != NULL) {
            snprintf(label, sizeof(label), "err.field: want %s, got %s",
                     c->want_field, err.field);
            CHECK(strcmp(err.field, c->want_field) == 0, label, c->name);
        }
        if (c->want_value != NULL) {
            snprintf(label, sizeof(label), "err.value: want %.40s, got %.40s",
                     c->want_value, err.value);
            CHECK(strcmp(err.value, c->want_value) == 0, label, c->name);
        }
        CHECK(err.message[0] != '\0', "err.message: a sentence", c->name);
    } else {
        gw_event_clear(&ev);
    }
    json_object_put(body);
    json_object_put(claims);
}

static void
test_signed_in_from_claims_builds_the_exact_event(void)
{
    for (size_t i = 0; i < COUNT(claims_cases); i++) {
        check_claims_case(&claims_cases[i]);
    }
}

static void
test_signed_in_from_claims_follows_the_mapping(void)
{
    static const char *const names[] = {"preferred_username", "name"};
    const struct gw_event_mapping map = {
        .group_claim = "tenant",
        .name_claims = names,
        .name_claim_count = COUNT(names),
        .id_container = NULL,
        .id_key = "message_id",
        .event_names = event_names,
        .event_name_count = COUNT(event_names),
    };
    const struct gw_event_mapping no_id = {
        .group_claim = "org_id",
        .name_claims = name_claims,
        .name_claim_count = COUNT(name_claims),
        .id_container = "properties",
        .id_key = NULL,
        .event_names = event_names,
        .event_name_count = COUNT(event_names),
    };
    struct json_object *claims =
        parse("{\"iss\":\"i\",\"sub\":\"u\",\"iat\":1700000000,\"jti\":\"t\","
              "\"name\":\"Jo Doe\",\"preferred_username\":\"jo\","
              "\"org_id\":\"org-9\",\"tenant\":\"ten-1\"}");
    struct gw_event ev;
    struct gw_event_error err;
    char id[33], *want;

    sha_id("i\nu\nt", id);
    CHECK(gw_signed_in_from_claims(&map, claims, NULL, RECEIVE_MS, &ev, &err) ==
              GW_EVENT_OK,
          "result: ok", "mapping: tenant, preferred_username first, top id");
    want = replace("{\"event_name\":\"signed_in\",\"user_id\":\"u\","
                   "\"timestamp\":\"" IAT_TS "\",\"properties\":{"
                   "\"user_name\":\"jo\"},\"context\":{\"group_id\":"
                   "\"ten-1\"},\"message_id\":\"" ID_MARK "\"}",
                   ID_MARK, id);
    CHECK(ev.json != NULL && strcmp(ev.json, want) == 0, "json: exact text",
          "mapping: tenant, preferred_username first, top id");
    if (ev.json == NULL || strcmp(ev.json, want) != 0) {
        report_json("mapping", want, ev.json);
    }
    free(want);
    gw_event_clear(&ev);

    CHECK(gw_signed_in_from_claims(&no_id, claims, NULL, RECEIVE_MS, &ev,
                                   &err) == GW_EVENT_OK,
          "result: ok", "mapping: id not emitted");
    CHECK(ev.json != NULL && strstr(ev.json, "message_id") == NULL,
          "json: no message_id member", "mapping: id not emitted");
    CHECK(strcmp(ev.id, id) == 0, "id: still derived for the reply",
          "mapping: id not emitted");
    gw_event_clear(&ev);
    json_object_put(claims);
}

struct track_case {
    const char *name;
    const char *item;
    enum gw_event_result want_rc;
    const char *want_json; /* ID_MARK: derived from the normalized event */
    const char *want_id;   /* the sender's id; NULL: derived */
    const char *want_field;
    const char *want_value;
};

#define SEED_EVENT(ts, props, context)                                         \
    "{\"event_name\":\"signed_in\",\"user_id\":"                               \
    "\"3e474abe-5943-41fd-8b7b-4c87ad95b0c7\",\"timestamp\":\"" ts             \
    "\",\"properties\":{" props "},\"context\":{" context "}}"

#define SEED_PROPS                                                             \
    "\"email\":\"JohnDoe@acmelabs.com\",\"user_name\":\"John Doe\","           \
    "\"message_id\":\"" ID_MARK "\""

#define SEED_CONTEXT "\"group_id\":\"55444abe-41fd-5943-d95b-4c87ad95b674\""

#define MIN_EVENT(ts, props, context)                                          \
    "{\"event_name\":\"signed_in\",\"user_id\":\"u1\",\"timestamp\":\"" ts     \
    "\",\"properties\":{" props "},\"context\":{" context "}}"

#define ID_ONLY "\"message_id\":\"" ID_MARK "\""

static const struct track_case track_cases[] = {
    {"seed sample as published: invalid timestamp",
     SEED_ITEM("20-11-23T22:28:55.111Z"), GW_EVENT_INVALID_TIMESTAMP, NULL,
     NULL, "timestamp", "20-11-23T22:28:55.111Z"},
    {"seed sample with a four-digit year",
     SEED_ITEM("2023-11-20T22:28:55.111Z"), GW_EVENT_OK,
     SEED_EVENT("2023-11-20T22:28:55.111Z", SEED_PROPS, SEED_CONTEXT), NULL,
     NULL, NULL},

    /* Event name: two spellings, one allowlist. */
    {"event_name alone", "{\"event_name\":\"signed_in\",\"user_id\":\"u1\"}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, ID_ONLY, ""), NULL, NULL, NULL},
    {"event and event_name equal",
     "{\"event\":\"signed_in\",\"event_name\":\"signed_in\","
     "\"user_id\":\"u1\"}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, ID_ONLY, ""), NULL, NULL, NULL},
    {"event and event_name different",
     "{\"event\":\"signed_in\",\"event_name\":\"signed_up\","
     "\"user_id\":\"u1\"}",
     GW_EVENT_CONFLICTING_FIELD, NULL, NULL, "event", NULL},
    {"event not a string", "{\"event\":1,\"user_id\":\"u1\"}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "event", NULL},
    {"no event name", "{\"user_id\":\"u1\"}", GW_EVENT_MISSING_FIELD, NULL,
     NULL, "event_name", NULL},
    {"event name null, event given",
     "{\"event_name\":null,\"event\":\"signed_in\",\"user_id\":\"u1\"}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, ID_ONLY, ""), NULL, NULL, NULL},
    {"event name not in the allowlist",
     "{\"event\":\"signed_out\",\"user_id\":\"u1\"}", GW_EVENT_NOT_ALLOWED,
     NULL, NULL, "event_name", "signed_out"},
    {"event name differs only in case",
     "{\"event\":\"Signed_In\",\"user_id\":\"u1\"}", GW_EVENT_NOT_ALLOWED, NULL,
     NULL, "event_name", "Signed_In"},

    /* user_id. */
    {"user_id missing", "{\"event\":\"signed_in\"}", GW_EVENT_MISSING_FIELD,
     NULL, NULL, "user_id", NULL},
    {"user_id empty", "{\"event\":\"signed_in\",\"user_id\":\"\"}",
     GW_EVENT_MISSING_FIELD, NULL, NULL, "user_id", NULL},
    {"user_id null", "{\"event\":\"signed_in\",\"user_id\":null}",
     GW_EVENT_MISSING_FIELD, NULL, NULL, "user_id", NULL},
    {"user_id a number", "{\"event\":\"signed_in\",\"user_id\":42}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "user_id", NULL},

    /* Members. */
    {"unknown top-level member",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"anonymous_id\":\"a\"}",
     GW_EVENT_UNKNOWN_FIELD, NULL, NULL, "anonymous_id", NULL},
    {"properties an array",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":[]}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties", NULL},
    {"context a string",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"context\":\"x\"}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "context", NULL},
    {"item not an object", "[{\"event\":\"signed_in\",\"user_id\":\"u1\"}]",
     GW_EVENT_INVALID_BODY, NULL, NULL, NULL, NULL},
    {"null members are absent",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"timestamp\":null,"
     "\"properties\":null,\"context\":null,\"group_id\":null}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, ID_ONLY, ""), NULL, NULL, NULL},

    /* User_name. */
    {"User_name renamed user_name",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"plan\":\"pro\",\"User_name\":\"John Doe\",\"x\":1}}",
     GW_EVENT_OK,
     MIN_EVENT(RECEIVE_TS,
               "\"plan\":\"pro\",\"user_name\":\"John Doe\",\"x\":1," ID_ONLY,
               ""),
     NULL, NULL, NULL},
    {"User_name and user_name equal: one user_name",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"User_name\":\"Jo\",\"user_name\":\"Jo\"}}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, "\"user_name\":\"Jo\"," ID_ONLY, ""),
     NULL, NULL, NULL},
    {"User_name and user_name different",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"User_name\":\"Jo\",\"user_name\":\"Joe\"}}",
     GW_EVENT_CONFLICTING_FIELD, NULL, NULL, "properties.User_name", NULL},
    {"User_name not a string",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"User_name\":7}}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties.User_name", NULL},
    {"User_name null, user_name given",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"User_name\":null,\"user_name\":\"Jo\"}}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, "\"user_name\":\"Jo\"," ID_ONLY, ""),
     NULL, NULL, NULL},

    /* group_id. */
    {"top-level group_id into context",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"group_id\":\"g1\"}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, ID_ONLY, "\"group_id\":\"g1\""), NULL,
     NULL, NULL},
    {"top-level and context group_id equal",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"group_id\":\"g1\","
     "\"context\":{\"group_id\":\"g1\"}}",
     GW_EVENT_OK, MIN_EVENT(RECEIVE_TS, ID_ONLY, "\"group_id\":\"g1\""), NULL,
     NULL, NULL},
    {"top-level and context group_id different",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"group_id\":\"g1\","
     "\"context\":{\"group_id\":\"g2\"}}",
     GW_EVENT_CONFLICTING_FIELD, NULL, NULL, "group_id", NULL},
    {"group_id not a string",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"group_id\":5}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "group_id", NULL},
    {"context members pass through, group_id first",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"context\":{"
     "\"ip\":\"203.0.113.7\",\"group_id\":\"g1\",\"device\":{\"os\":\"linux\","
     "\"tags\":[1,\"a\",null,true]}}}",
     GW_EVENT_OK,
     MIN_EVENT(RECEIVE_TS, ID_ONLY,
               "\"group_id\":\"g1\",\"ip\":\"203.0.113.7\",\"device\":{"
               "\"os\":\"linux\",\"tags\":[1,\"a\",null,true]}"),
     NULL, NULL, NULL},

    /* Other properties pass through as sent. json-c keeps a parsed
     * number's text, so 1.50 stays 1.50 and 1e400 stays 1e400. */
    {"properties pass through unchanged",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"price\":1.50,\"huge\":1e400,\"tiny\":-2.5E-3,\"count\":7,"
     "\"big\":12345678901234567890,\"ok\":false,\"none\":null,"
     "\"name\":\"Zo\\u00eb \xf0\x9f\x98\x80\",\"path\":\"/a/b\","
     "\"nested\":{\"a\":[{\"b\":{}}],\"c\":\"d\"}}}",
     GW_EVENT_OK,
     MIN_EVENT(RECEIVE_TS,
               "\"price\":1.50,\"huge\":1e400,\"tiny\":-2.5E-3,\"count\":7,"
               "\"big\":12345678901234567890,\"ok\":false,\"none\":null,"
               "\"name\":\"Zo\xc3\xab \xf0\x9f\x98\x80\",\"path\":\"/a/b\","
               "\"nested\":{\"a\":[{\"b\":{}}],\"c\":\"d\"}," ID_ONLY,
               ""),
     NULL, NULL, NULL},

    /* The sender's id. */
    {"properties.message_id a string: the event id",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"message_id\":\"msg-1\",\"plan\":\"pro\"}}",
     GW_EVENT_OK,
     MIN_EVENT(RECEIVE_TS, "\"message_id\":\"msg-1\",\"plan\":\"pro\"", ""),
     "msg-1", NULL, NULL},
    {"properties.message_id a number",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"message_id\":42}}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties.message_id", NULL},
    {"properties.message_id empty",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"message_id\":\"\"}}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties.message_id", NULL},
    {"properties.message_id of 129 bytes",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"properties\":{"
     "\"message_id\":\"0123456789012345678901234567890123456789012345678901"
     "2345678901234567890123456789012345678901234567890123456789012345678901"
     "2345678\"}}",
     GW_EVENT_INVALID_FIELD, NULL, NULL, "properties.message_id", NULL},

    /* Timestamps: normalized to UTC, fraction truncated to 3 digits. */
    {"offset +01:00 to UTC",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20T23:28:55.111+01:00\"}",
     GW_EVENT_OK, MIN_EVENT("2023-11-20T22:28:55.111Z", ID_ONLY, ""), NULL,
     NULL, NULL},
    {"offset -05:30 to UTC",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20T16:58:55.111-05:30\"}",
     GW_EVENT_OK, MIN_EVENT("2023-11-20T22:28:55.111Z", ID_ONLY, ""), NULL,
     NULL, NULL},
    {"offset across midnight and a month",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-12-01T01:00:00.000+02:00\"}",
     GW_EVENT_OK, MIN_EVENT("2023-11-30T23:00:00.000Z", ID_ONLY, ""), NULL,
     NULL, NULL},
    {"fraction truncated, never rounded",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20T22:28:55.1119999Z\"}",
     GW_EVENT_OK, MIN_EVENT("2023-11-20T22:28:55.111Z", ID_ONLY, ""), NULL,
     NULL, NULL},
    {"one fraction digit padded",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20T22:28:55.5Z\"}",
     GW_EVENT_OK, MIN_EVENT("2023-11-20T22:28:55.500Z", ID_ONLY, ""), NULL,
     NULL, NULL},
    {"no fraction, lower-case t and z",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20t22:28:55z\"}",
     GW_EVENT_OK, MIN_EVENT("2023-11-20T22:28:55.000Z", ID_ONLY, ""), NULL,
     NULL, NULL},
    {"timestamp without offset",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20T22:28:55.111\"}",
     GW_EVENT_INVALID_TIMESTAMP, NULL, NULL, "timestamp",
     "2023-11-20T22:28:55.111"},
    {"timestamp a date alone",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-11-20\"}",
     GW_EVENT_INVALID_TIMESTAMP, NULL, NULL, "timestamp", "2023-11-20"},
    {"timestamp February 30",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\","
     "\"timestamp\":\"2023-02-30T00:00:00Z\"}",
     GW_EVENT_INVALID_TIMESTAMP, NULL, NULL, "timestamp",
     "2023-02-30T00:00:00Z"},
    {"timestamp a number",
     "{\"event\":\"signed_in\",\"user_id\":\"u1\",\"timestamp\":1700000000}",
     GW_EVENT_INVALID_TIMESTAMP, NULL, NULL, "timestamp", "1700000000"},
};

static void
check_track_case(const struct track_case *c)
{
    struct json_object *item = parse(c->item);
    struct gw_event ev;
    struct gw_event_error err = {{0}, {0}, {0}};
    enum gw_event_result rc;
    char label[320], id[GW_EVENT_ID_MAX + 1];

    rc = gw_signed_in_from_track(&default_map, item, RECEIVE_MS, &ev, &err);
    snprintf(label, sizeof(label), "result: want %s, got %s (field %s)",
             gw_event_result_code(c->want_rc), gw_event_result_code(rc),
             rc != GW_EVENT_OK ? err.field : "-");
    CHECK(rc == c->want_rc, label, c->name);

    if (rc == GW_EVENT_OK && c->want_rc == GW_EVENT_OK) {
        char *want;

        if (c->want_id != NULL) {
            snprintf(id, sizeof(id), "%s", c->want_id);
        } else {
            derived_track_id(c->want_json, id);
        }
        snprintf(label, sizeof(label), "id: want %s, got %s", id, ev.id);
        CHECK(strcmp(ev.id, id) == 0, label, c->name);
        want = replace(c->want_json, ID_MARK, id);
        CHECK(ev.json != NULL && strcmp(ev.json, want) == 0,
              "json: exact normalized text", c->name);
        if (ev.json == NULL || strcmp(ev.json, want) != 0) {
            report_json(c->name, want, ev.json);
        }
        CHECK(ev.json != NULL && ev.json_len == strlen(ev.json),
              "json_len: the text's length", c->name);
        free(want);
        gw_event_clear(&ev);
    } else if (rc != GW_EVENT_OK) {
        CHECK(ev.json == NULL, "failure: no json handed out", c->name);
        if (c->want_field != NULL) {
            snprintf(label, sizeof(label), "err.field: want %s, got %s",
                     c->want_field, err.field);
            CHECK(strcmp(err.field, c->want_field) == 0, label, c->name);
        }
        if (c->want_value != NULL) {
            snprintf(label, sizeof(label), "err.value: want %.40s, got %.40s",
                     c->want_value, err.value);
            CHECK(strcmp(err.value, c->want_value) == 0, label, c->name);
        }
        CHECK(err.message[0] != '\0', "err.message: a sentence", c->name);
    } else {
        gw_event_clear(&ev);
    }
    json_object_put(item);
}

static void
test_signed_in_from_track_normalizes_each_event(void)
{
    for (size_t i = 0; i < COUNT(track_cases); i++) {
        check_track_case(&track_cases[i]);
    }
}

static bool
track_id(const char *text, char out[GW_EVENT_ID_MAX + 1])
{
    struct json_object *item = parse(text);
    struct gw_event ev;
    struct gw_event_error err;
    bool ok;

    ok = gw_signed_in_from_track(&default_map, item, RECEIVE_MS, &ev, &err) ==
         GW_EVENT_OK;
    snprintf(out, GW_EVENT_ID_MAX + 1, "%s", ok ? ev.id : "");
    gw_event_clear(&ev);
    json_object_put(item);
    return ok;
}

static void
test_signed_in_from_track_derives_a_stable_id_per_event(void)
{
    const char *a = "{\"event\":\"signed_in\",\"user_id\":\"u1\","
                    "\"timestamp\":\"2023-11-20T22:28:55.111Z\"}";
    /* The same instant written another way normalizes to the same event. */
    const char *a_offset = "{\"event_name\":\"signed_in\",\"user_id\":\"u1\","
                           "\"timestamp\":\"2023-11-20T23:28:55.111+01:00\"}";
    const char *b = "{\"event\":\"signed_in\",\"user_id\":\"u2\","
                    "\"timestamp\":\"2023-11-20T22:28:55.111Z\"}";
    const char *a_later = "{\"event\":\"signed_in\",\"user_id\":\"u1\","
                          "\"timestamp\":\"2023-11-20T22:28:55.112Z\"}";
    char id1[GW_EVENT_ID_MAX + 1], id2[GW_EVENT_ID_MAX + 1];
    char id3[GW_EVENT_ID_MAX + 1], id4[GW_EVENT_ID_MAX + 1];
    char id5[GW_EVENT_ID_MAX + 1];

    CHECK(track_id(a, id1) && track_id(a, id2), "both calls ok", "stable id");
    CHECK(strcmp(id1, id2) == 0, "same event twice: same id", "stable id");
    CHECK(is_hex32(id1), "derived id: 32 lowercase hex", "stable id");
    CHECK(track_id(a_offset, id3) && strcmp(id1, id3) == 0,
          "same normalized event: same id", "stable id");
    CHECK(track_id(b, id4) && strcmp(id1, id4) != 0, "another user: another id",
          "stable id");
    CHECK(track_id(a_later, id5) && strcmp(id1, id5) != 0,
          "another millisecond: another id", "stable id");
}

static void
test_signed_in_from_track_keeps_an_allowed_event_name(void)
{
    static const char *const names[] = {"signed_in", "signed_up"};
    const struct gw_event_mapping map = {
        .group_claim = "org_id",
        .name_claims = name_claims,
        .name_claim_count = COUNT(name_claims),
        .id_container = "properties",
        .id_key = "message_id",
        .event_names = names,
        .event_name_count = COUNT(names),
    };
    struct json_object *item =
        parse("{\"event\":\"signed_up\",\"user_id\":\"u1\",\"properties\":{"
              "\"message_id\":\"m1\"}}");
    const char *want = "{\"event_name\":\"signed_up\",\"user_id\":\"u1\","
                       "\"timestamp\":\"" RECEIVE_TS "\",\"properties\":{"
                       "\"message_id\":\"m1\"},\"context\":{}}";
    struct gw_event ev;
    struct gw_event_error err;

    /* track.event_names may list more than signed_in; an accepted event
     * keeps its own name instead of being relabelled. */
    CHECK(gw_signed_in_from_track(&map, item, RECEIVE_MS, &ev, &err) ==
              GW_EVENT_OK,
          "result: ok", "signed_up allowed");
    CHECK(ev.json != NULL && strcmp(ev.json, want) == 0,
          "json: event_name signed_up", "signed_up allowed");
    if (ev.json == NULL || strcmp(ev.json, want) != 0) {
        report_json("signed_up allowed", want, ev.json);
    }
    gw_event_clear(&ev);
    json_object_put(item);
}

static void
test_signed_in_from_track_never_alters_a_large_integer(void)
{
    const char *text = "{\"event\":\"signed_in\",\"user_id\":\"u1\","
                       "\"properties\":{\"n\":123456789012345678901234}}";
    struct json_object *item = NULL;
    struct gw_event ev = {{0}, NULL, 0};
    struct gw_event_error err;
    bool refused, unchanged = false;

    /* Beyond 64 bits json-c clamps to 18446744073709551615: the gateway
     * must either forward the digits as sent or refuse the body, never
     * forward another number. */
    refused = gw_json_parse(text, strlen(text), &item, NULL) != GW_JSON_OK;
    if (!refused) {
        refused = gw_signed_in_from_track(&default_map, item, RECEIVE_MS, &ev,
                                          &err) != GW_EVENT_OK;
        unchanged = !refused && ev.json != NULL &&
                    strstr(ev.json, "\"n\":123456789012345678901234") != NULL;
        if (!refused && !unchanged) {
            report_json("24-digit integer", "...\"n\":123456789012345678901234",
                        ev.json);
        }
    }
    CHECK(refused || unchanged,
          "a 24-digit integer is forwarded as sent or refused",
          "24-digit integer");
    gw_event_clear(&ev);
    json_object_put(item);
}

static void
test_signed_in_result_codes_are_stable_strings(void)
{
    static const struct {
        enum gw_event_result rc;
        const char *code;
    } codes[] = {
        {GW_EVENT_OK, "ok"},
        {GW_EVENT_INVALID_BODY, "invalid_body"},
        {GW_EVENT_MISSING_FIELD, "missing_field"},
        {GW_EVENT_INVALID_FIELD, "invalid_field"},
        {GW_EVENT_UNKNOWN_FIELD, "unknown_field"},
        {GW_EVENT_CONFLICTING_FIELD, "conflicting_field"},
        {GW_EVENT_INVALID_TIMESTAMP, "invalid_timestamp"},
        {GW_EVENT_NOT_ALLOWED, "event_not_allowed"},
    };

    for (size_t i = 0; i < COUNT(codes); i++) {
        CHECK(strcmp(gw_event_result_code(codes[i].rc), codes[i].code) == 0,
              "result code", codes[i].code);
    }
    CHECK(strcmp(gw_event_result_code((enum gw_event_result)99), "unknown") ==
              0,
          "result code out of range", "99");
}

int
main(void)
{
    test_signed_in_from_claims_builds_the_exact_event();
    test_signed_in_from_claims_follows_the_mapping();
    test_signed_in_from_track_normalizes_each_event();
    test_signed_in_from_track_derives_a_stable_id_per_event();
    test_signed_in_from_track_keeps_an_allowed_event_name();
    test_signed_in_from_track_never_alters_a_large_integer();
    test_signed_in_result_codes_are_stable_strings();

    printf("unit.signed_in: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
