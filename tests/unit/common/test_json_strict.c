/* tests/unit/common/test_json_strict.c: the strict validator against
 * JSONTestSuite and against what json-c alone would let through. */
#include "common/json_strict.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

/* A literal with its exact length, so that embedded NUL bytes count. */
#define TEXT(lit) lit, sizeof(lit) - 1

static int passed;
static int failed;

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

/* Copies text into a buffer of exactly len bytes, so that AddressSanitizer
 * catches any read past the end the caller allowed. */
static enum gw_json_result
parse_exact(const char *text, size_t len, struct json_object **out,
            size_t *error_offset)
{
    enum gw_json_result rc;
    char *copy;

    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        abort();
    }
    if (len > 0) {
        memcpy(copy, text, len);
    }
    rc = gw_json_parse(copy, len, out, error_offset);
    free(copy);
    return rc;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f;
    char *buf;
    long size;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }

    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

/* json-c gives JSON null as a NULL object, so a y_ file whose whole value
 * is null parses to NULL; every other y_ file must give an object. */
static bool
is_top_level_null(const char *text, size_t len)
{
    size_t start = 0;

    while (start < len && strchr(" \t\r\n", text[start]) != NULL) {
        start++;
    }
    while (len > start && strchr(" \t\r\n", text[len - 1]) != NULL) {
        len--;
    }
    return len - start == 4 && memcmp(text + start, "null", 4) == 0;
}

static void
check_vector(const char *name, const char *text, size_t len)
{
    struct json_object *obj = NULL;
    enum gw_json_result rc;

    rc = parse_exact(text, len, &obj, NULL);
    if (name[0] == 'y') {
        CHECK(rc == GW_JSON_OK, "y_ vector is accepted", name);
        CHECK(obj != NULL || is_top_level_null(text, len),
              "y_ vector gives an object", name);
    } else if (name[0] == 'n') {
        CHECK(rc != GW_JSON_OK && obj == NULL, "n_ vector is refused", name);
    } else {
        CHECK(rc == GW_JSON_OK || obj == NULL,
              "i_ vector gives no object when refused", name);
    }
    json_object_put(obj);
}

static void
test_json_follows_every_json_test_suite_verdict(void)
{
    const char *base = getenv("GW_VECTORS");
    char path[4096];
    struct dirent *entry;
    int counts[3] = {0, 0, 0};
    size_t len;
    char *text;
    DIR *dir;

    snprintf(path, sizeof(path), "%s/jsontestsuite",
             base != NULL ? base : "tests/vectors");
    dir = opendir(path);
    CHECK(dir != NULL, "vector directory opens", path);
    if (dir == NULL) {
        return;
    }

    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        const char *kind = strchr("yni", name[0]);

        if (name[0] == '\0' || kind == NULL || name[1] != '_') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/jsontestsuite/%s",
                 base != NULL ? base : "tests/vectors", name);
        text = read_file(path, &len);
        CHECK(text != NULL, "vector file reads", name);
        if (text == NULL) {
            continue;
        }
        counts[kind - "yni"]++;
        check_vector(name, text, len);
        free(text);
    }
    closedir(dir);

    CHECK(counts[0] > 0, "suite holds y_ vectors", "jsontestsuite");
    CHECK(counts[1] > 0, "suite holds n_ vectors", "jsontestsuite");
    CHECK(counts[2] > 0, "suite holds i_ vectors", "jsontestsuite");
}

struct json_case {
    const char *name;
    const char *text;
    size_t len;
    enum gw_json_result want;
    size_t want_offset; /* checked only when want is not GW_JSON_OK */
};

/* Each of these is accepted by json-c 0.16 on its own, or names a rule of
 * RFC 8259 that the validator must hold on its own. */
static const struct json_case json_cases[] = {
    {"rejects_nan", TEXT("[NaN]"), GW_JSON_SYNTAX, 1},
    {"rejects_infinity", TEXT("[-Infinity]"), GW_JSON_SYNTAX, 2},
    {"rejects_leading_zero", TEXT("[012]"), GW_JSON_SYNTAX, 2},
    {"rejects_negative_leading_zero", TEXT("-01"), GW_JSON_SYNTAX, 2},
    {"rejects_plus_sign", TEXT("[+1]"), GW_JSON_SYNTAX, 1},
    {"rejects_bare_fraction_dot", TEXT("[1.]"), GW_JSON_SYNTAX, 3},
    {"rejects_hex_number", TEXT("[0x1F]"), GW_JSON_SYNTAX, 2},
    {"rejects_single_quote_string", TEXT("['a']"), GW_JSON_SYNTAX, 1},
    {"rejects_single_quote_key", TEXT("{'a':1}"), GW_JSON_SYNTAX, 1},
    {"rejects_unquoted_key", TEXT("{a:1}"), GW_JSON_SYNTAX, 1},
    {"rejects_raw_tab_in_string", TEXT("[\"a\tb\"]"), GW_JSON_SYNTAX, 3},
    {"rejects_raw_newline_in_string", TEXT("\"a\nb\""), GW_JSON_SYNTAX, 2},
    {"rejects_raw_nul_in_string", TEXT("\"a\0b\""), GW_JSON_SYNTAX, 2},
    {"rejects_nul_after_value", TEXT("{}\0"), GW_JSON_SYNTAX, 2},
    {"rejects_trailing_comma_in_array", TEXT("[1,]"), GW_JSON_SYNTAX, 3},
    {"rejects_trailing_comma_in_object", TEXT("{\"a\":1,}"), GW_JSON_SYNTAX,
     7},
    {"rejects_line_comment", TEXT("{} // note"), GW_JSON_SYNTAX, 3},
    {"rejects_block_comment", TEXT("[1 /* n */]"), GW_JSON_SYNTAX, 3},
    {"rejects_hash_comment", TEXT("[1] #"), GW_JSON_SYNTAX, 4},
    {"rejects_bad_escape", TEXT("[\"\\x41\"]"), GW_JSON_SYNTAX, 3},
    {"rejects_short_unicode_escape", TEXT("[\"\\u12\"]"), GW_JSON_SYNTAX, 6},
    {"rejects_capital_u_escape", TEXT("[\"\\U0041\"]"), GW_JSON_SYNTAX, 3},
    {"rejects_form_feed_as_space", TEXT("[\f1]"), GW_JSON_SYNTAX, 1},
    {"rejects_byte_order_mark", TEXT("\xEF\xBB\xBF{}"), GW_JSON_SYNTAX, 0},
    {"rejects_two_values", TEXT("{} {}"), GW_JSON_SYNTAX, 3},
    {"rejects_mismatched_close", TEXT("[1}"), GW_JSON_SYNTAX, 2},
    {"rejects_capital_true", TEXT("True"), GW_JSON_SYNTAX, 0},
    {"rejects_truncated_literal", TEXT("[tru"), GW_JSON_SYNTAX, 4},
    {"rejects_unterminated_string", TEXT("\"abc"), GW_JSON_SYNTAX, 4},
    {"rejects_empty_input", TEXT(""), GW_JSON_SYNTAX, 0},
    {"rejects_only_white_space", TEXT(" \n"), GW_JSON_SYNTAX, 2},
    {"rejects_lone_high_surrogate_escape", TEXT("[\"\\uD800\"]"),
     GW_JSON_BAD_UTF8, 2},
    {"rejects_lone_low_surrogate_escape", TEXT("[\"a\\uDC00\"]"),
     GW_JSON_BAD_UTF8, 3},
    {"rejects_reversed_surrogate_escapes", TEXT("\"\\uDC00\\uD800\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_high_surrogate_then_letter", TEXT("\"\\uD834x\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_high_surrogate_then_bmp_escape", TEXT("\"\\uD834\\u0041\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_overlong_slash", TEXT("[\"\xC0\xAF\"]"), GW_JSON_BAD_UTF8, 2},
    {"rejects_overlong_nul", TEXT("[\"\xC0\x80\"]"), GW_JSON_BAD_UTF8, 2},
    {"rejects_overlong_three_bytes", TEXT("\"\xE0\x80\xAF\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_overlong_four_bytes", TEXT("\"\xF0\x80\x80\xAF\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_utf8_encoded_surrogate", TEXT("\"\xED\xA0\x80\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_code_point_past_10ffff", TEXT("\"\xF4\x90\x80\x80\""),
     GW_JSON_BAD_UTF8, 1},
    {"rejects_lone_continuation_byte", TEXT("\"\x80\""), GW_JSON_BAD_UTF8, 1},
    {"rejects_truncated_sequence", TEXT("\"\xE2\x82\""), GW_JSON_BAD_UTF8, 1},
    {"rejects_sequence_cut_by_end", TEXT("\"\xE2\x82"), GW_JSON_BAD_UTF8, 1},
    {"rejects_latin1_byte", TEXT("[\"\xE9\"]"), GW_JSON_BAD_UTF8, 2},
    {"rejects_ff_byte", TEXT("\"\xFF\""), GW_JSON_BAD_UTF8, 1},
    {"rejects_non_ascii_outside_string", TEXT("[\xC3\xA9]"), GW_JSON_SYNTAX,
     1},
    {"accepts_paired_surrogate_escape", TEXT("\"\\uD834\\uDD1E\""),
     GW_JSON_OK, 0},
    {"accepts_last_code_point", TEXT("\"\xF4\x8F\xBF\xBF\""), GW_JSON_OK, 0},
    {"accepts_escaped_nul", TEXT("[\"\\u0000\"]"), GW_JSON_OK, 0},
    {"accepts_all_simple_escapes", TEXT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
     GW_JSON_OK, 0},
    {"accepts_delete_character", TEXT("\"\x7F\""), GW_JSON_OK, 0},
    {"accepts_exponent_forms", TEXT("[0e0,-0.5E+3,1e-2,10]"), GW_JSON_OK, 0},
    {"accepts_white_space_around", TEXT(" \t\r\n{ \"a\" : [ ] }\n"),
     GW_JSON_OK, 0},
    {"accepts_empty_key", TEXT("{\"\":0}"), GW_JSON_OK, 0},
};

static void
test_json_refuses_lenient_forms_and_accepts_strict_ones(void)
{
    const struct json_case *c;
    struct json_object *obj;
    enum gw_json_result rc;
    size_t offset;
    size_t i;

    for (i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
        c = &json_cases[i];
        obj = NULL;
        offset = SIZE_MAX;
        rc = parse_exact(c->text, c->len, &obj, &offset);
        CHECK(rc == c->want, gw_json_result_code(rc), c->name);
        if (c->want != GW_JSON_OK) {
            CHECK(obj == NULL, "no object on failure", c->name);
            CHECK(offset == c->want_offset, "error offset", c->name);
        } else {
            CHECK(obj != NULL, "object on success", c->name);
            CHECK(offset == SIZE_MAX, "offset untouched on success", c->name);
        }
        json_object_put(obj);
    }
}

/* "[[[...1...]]]" or "{"a":{"a":...1...}}" nested depth times. */
static char *
make_nested(size_t depth, bool objects, size_t *len)
{
    const char *open = objects ? "{\"a\":" : "[";
    size_t open_len = strlen(open);
    size_t i;
    char *text;
    char *p;

    text = malloc(depth * (open_len + 1) + 1);
    if (text == NULL) {
        abort();
    }
    p = text;
    for (i = 0; i < depth; i++) {
        memcpy(p, open, open_len);
        p += open_len;
    }
    *p++ = '1';
    for (i = 0; i < depth; i++) {
        *p++ = objects ? '}' : ']';
    }
    *len = (size_t)(p - text);
    return text;
}

static void
check_nesting(size_t depth, bool objects, enum gw_json_result want,
              const char *name)
{
    struct json_object *obj = NULL;
    enum gw_json_result rc;
    size_t len;
    char *text;

    text = make_nested(depth, objects, &len);
    rc = parse_exact(text, len, &obj, NULL);
    CHECK(rc == want, gw_json_result_code(rc), name);
    CHECK((obj != NULL) == (want == GW_JSON_OK), "object only on success",
          name);
    json_object_put(obj);
    free(text);
}

static void
test_json_accepts_nesting_up_to_the_depth_limit(void)
{
    check_nesting(GW_JSON_MAX_DEPTH, false, GW_JSON_OK, "arrays_at_limit");
    check_nesting(GW_JSON_MAX_DEPTH, true, GW_JSON_OK, "objects_at_limit");
    check_nesting(0, false, GW_JSON_OK, "scalar_alone");
}

static void
test_json_rejects_nesting_past_the_depth_limit(void)
{
    struct json_object *obj = NULL;
    size_t offset = 0;
    size_t len;
    char *text;

    check_nesting(GW_JSON_MAX_DEPTH + 1, false, GW_JSON_TOO_DEEP,
                  "arrays_past_limit");
    check_nesting(GW_JSON_MAX_DEPTH + 1, true, GW_JSON_TOO_DEEP,
                  "objects_past_limit");
    check_nesting(100000, false, GW_JSON_TOO_DEEP, "arrays_100000_deep");

    text = make_nested(GW_JSON_MAX_DEPTH + 1, false, &len);
    CHECK(gw_json_parse(text, len, &obj, &offset) == GW_JSON_TOO_DEEP,
          "too deep", "offset_of_deep_bracket");
    CHECK(offset == GW_JSON_MAX_DEPTH, "offset is the bracket past the limit",
          "offset_of_deep_bracket");
    free(text);
}

static void
test_json_validate_honours_caller_depth(void)
{
    size_t len;
    char *text;

    CHECK(gw_json_validate(TEXT("1"), 0, NULL) == GW_JSON_OK,
          "scalar needs no depth", "depth_0_scalar");
    CHECK(gw_json_validate(TEXT("[]"), 0, NULL) == GW_JSON_TOO_DEEP,
          "container needs depth 1", "depth_0_array");
    CHECK(gw_json_validate(TEXT("[[],{}]"), 2, NULL) == GW_JSON_OK,
          "siblings do not add depth", "depth_2_siblings");

    /* The bit stack caps depth at 1024 whatever the caller asks for. */
    text = make_nested(1024, false, &len);
    CHECK(gw_json_validate(text, len, SIZE_MAX, NULL) == GW_JSON_OK,
          "1024 levels validate", "depth_1024");
    free(text);
    text = make_nested(1025, true, &len);
    CHECK(gw_json_validate(text, len, SIZE_MAX, NULL) == GW_JSON_TOO_DEEP,
          "1025 levels are too deep", "depth_1025");
    free(text);
}

static void
test_json_keeps_embedded_nul_in_strings(void)
{
    struct json_object *obj = NULL;
    struct json_object *item;
    enum gw_json_result rc;

    rc = parse_exact(TEXT("[\"a\\u0000b\"]"), &obj, NULL);
    CHECK(rc == GW_JSON_OK, "escaped NUL parses", "embedded_nul");
    item = json_object_array_get_idx(obj, 0);
    CHECK(json_object_get_string_len(item) == 3, "string keeps 3 bytes",
          "embedded_nul");
    CHECK(memcmp(json_object_get_string(item), "a\0b", 3) == 0,
          "bytes are a NUL b", "embedded_nul");
    json_object_put(obj);
}

static void
test_json_decodes_paired_surrogate_escape(void)
{
    struct json_object *obj = NULL;
    enum gw_json_result rc;

    rc = parse_exact(TEXT("\"\\uD834\\uDD1E\""), &obj, NULL);
    CHECK(rc == GW_JSON_OK, "pair parses", "g_clef");
    CHECK(json_object_get_string_len(obj) == 4 &&
              memcmp(json_object_get_string(obj), "\xF0\x9D\x84\x9E", 4) == 0,
          "pair becomes one 4-byte UTF-8 sequence", "g_clef");
    json_object_put(obj);
}

/* json-c waits for a delimiter after a top-level number or literal; the
 * parser must still finish when the value ends exactly at len. */
static void
test_json_parses_top_level_scalars_ending_the_buffer(void)
{
    struct json_object *obj = NULL;
    enum gw_json_result rc;

    rc = parse_exact(TEXT("-12"), &obj, NULL);
    CHECK(rc == GW_JSON_OK && json_object_get_int(obj) == -12,
          "number at end", "number");
    json_object_put(obj);

    obj = NULL;
    rc = parse_exact(TEXT("2.5e1"), &obj, NULL);
    CHECK(rc == GW_JSON_OK && json_object_get_double(obj) == 25.0,
          "real at end", "real");
    json_object_put(obj);

    obj = NULL;
    rc = parse_exact(TEXT("false"), &obj, NULL);
    CHECK(rc == GW_JSON_OK && json_object_is_type(obj, json_type_boolean),
          "literal at end", "false");
    json_object_put(obj);

    obj = NULL;
    rc = parse_exact(TEXT("null"), &obj, NULL);
    CHECK(rc == GW_JSON_OK && obj == NULL, "null is json-c's NULL", "null");
    json_object_put(obj);

    obj = NULL;
    rc = parse_exact(TEXT("7 \n"), &obj, NULL);
    CHECK(rc == GW_JSON_OK && json_object_get_int(obj) == 7,
          "number then white space", "number_space");
    json_object_put(obj);
}

/* Past json-c's 4 KiB first buffer and its default depth of 32. */
static void
test_json_parses_long_input(void)
{
    enum { COUNT = 50000 };
    struct json_object *obj = NULL;
    enum gw_json_result rc;
    size_t len = 0;
    char *text;
    int i;

    text = malloc((size_t)COUNT * 8 + 2);
    if (text == NULL) {
        abort();
    }
    text[len++] = '[';
    for (i = 0; i < COUNT; i++) {
        len += (size_t)sprintf(text + len, "%s\"%04d\"", i > 0 ? "," : "",
                               i % 10000);
    }
    text[len++] = ']';

    rc = parse_exact(text, len, &obj, NULL);
    CHECK(rc == GW_JSON_OK, "long array parses", "long_array");
    CHECK(json_object_array_length(obj) == COUNT, "all items kept",
          "long_array");
    json_object_put(obj);
    free(text);
}

static void
test_json_refuses_input_json_c_cannot_address(void)
{
    struct json_object *obj = NULL;
    size_t offset = 0;
    char byte = '1';

    /* The size is refused before any byte is read, so the short buffer is
     * never overrun; ASan would say so if that changed. */
    CHECK(gw_json_parse(&byte, (size_t)INT_MAX + 1, &obj, &offset) ==
              GW_JSON_NO_MEMORY,
          "over 2 GiB refused", "huge_len");
    CHECK(obj == NULL && offset == (size_t)INT_MAX, "no object, offset",
          "huge_len");
}

static void
test_json_result_codes_are_stable(void)
{
    CHECK(strcmp(gw_json_result_code(GW_JSON_OK), "ok") == 0, "ok", "codes");
    CHECK(strcmp(gw_json_result_code(GW_JSON_SYNTAX), "invalid_json") == 0,
          "syntax", "codes");
    CHECK(strcmp(gw_json_result_code(GW_JSON_TOO_DEEP), "json_too_deep") == 0,
          "too deep", "codes");
    CHECK(strcmp(gw_json_result_code(GW_JSON_BAD_UTF8), "invalid_utf8") == 0,
          "bad utf8", "codes");
    CHECK(strcmp(gw_json_result_code(GW_JSON_NO_MEMORY), "no_memory") == 0,
          "no memory", "codes");
}

int
main(void)
{
    test_json_follows_every_json_test_suite_verdict();
    test_json_refuses_lenient_forms_and_accepts_strict_ones();
    test_json_accepts_nesting_up_to_the_depth_limit();
    test_json_rejects_nesting_past_the_depth_limit();
    test_json_validate_honours_caller_depth();
    test_json_keeps_embedded_nul_in_strings();
    test_json_decodes_paired_surrogate_escape();
    test_json_parses_top_level_scalars_ending_the_buffer();
    test_json_parses_long_input();
    test_json_refuses_input_json_c_cannot_address();
    test_json_result_codes_are_stable();

    printf("unit.json_strict: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
