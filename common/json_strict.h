/* common/json_strict.h: RFC 8259 validation in front of json-c's lenient parser. */
#ifndef GW_COMMON_JSON_STRICT_H
#define GW_COMMON_JSON_STRICT_H

#include <stddef.h>

#include <json-c/json.h>

enum gw_json_result {
    GW_JSON_OK = 0,
    GW_JSON_SYNTAX,      /* not RFC 8259 JSON */
    GW_JSON_TOO_DEEP,    /* nesting beyond the limit */
    GW_JSON_BAD_UTF8,    /* invalid UTF-8 or lone surrogate escape */
    GW_JSON_NO_MEMORY,
    GW_JSON_NUMBER_RANGE, /* an integer beyond 64 bits: json-c would clamp it */
};

/* Maximum nesting of arrays and objects accepted by gw_json_parse. */
#define GW_JSON_MAX_DEPTH 64

/* Checks that text[0..len) is exactly one RFC 8259 JSON value (surrounding
 * white space allowed), in valid UTF-8, nested at most max_depth deep,
 * with integers (no fraction or exponent) within int64/uint64 range.
 * On failure *error_offset (when not NULL) is the byte offset of the fault. */
enum gw_json_result gw_json_validate(const char *text, size_t len,
                                     size_t max_depth, size_t *error_offset)
    __attribute__((warn_unused_result));

/* Validates as above with GW_JSON_MAX_DEPTH, then parses with json-c.
 * On success *out receives a new reference (release with json_object_put);
 * on failure *out is NULL. */
enum gw_json_result gw_json_parse(const char *text, size_t len,
                                  struct json_object **out,
                                  size_t *error_offset)
    __attribute__((warn_unused_result));

/* Stable snake_case code for a result, for error bodies and metrics. */
const char *gw_json_result_code(enum gw_json_result rc);

#endif
