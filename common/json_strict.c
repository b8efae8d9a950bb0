/* common/json_strict.c: a strict RFC 8259 pass in front of json-c, which on
 * its own accepts NaN, comments, single quotes and other non-JSON. */
#include "common/json_strict.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* The open containers are kept as one bit per level on the C stack, so that
 * validation never allocates. Limit: nesting deeper than STACK_MAX_DEPTH is
 * refused as too deep even when the caller allows more; gw_json_parse uses
 * GW_JSON_MAX_DEPTH, far below it. */
enum {
    STACK_MAX_DEPTH = 1024,
};

enum expect {
    EXPECT_VALUE,
    EXPECT_KEY,
    EXPECT_AFTER_VALUE,
};

/* On failure every step leaves p at the byte that broke the rule (or at end
 * when the input stops too early), which becomes the error offset. */
struct scan {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    size_t depth;
    size_t max_depth;
    unsigned char is_object[STACK_MAX_DEPTH / CHAR_BIT];
};

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259 section 2: only these four; form feed, vertical tab, NBSP and
 * a byte order mark are not white space. */
static bool
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A byte that may stand for itself inside a string. */
static bool
is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void
skip_ws(struct scan *s)
{
    while (s->p < s->end && is_ws(*s->p)) {
        s->p++;
    }
}

static void
skip_digits(struct scan *s)
{
    while (s->p < s->end && is_digit(*s->p)) {
        s->p++;
    }
}

static bool
top_is_object(const struct scan *s)
{
    size_t level = s->depth - 1;

    return (s->is_object[level / CHAR_BIT] >> (level % CHAR_BIT)) & 1u;
}

static enum gw_json_result
scan_literal(struct scan *s, const char *word)
{
    for (; *word != '\0'; word++) {
        if (s->p == s->end || *s->p != (unsigned char)*word) {
            return GW_JSON_SYNTAX;
        }
        s->p++;
    }
    return GW_JSON_OK;
}

/* number = [ minus ] int [ frac ] [ exp ], RFC 8259 section 6: no leading
 * zeros, no bare dot, no plus sign, no hex, no NaN or Infinity. What follows
 * the number is checked by the caller as a separator. */
/* json-c clamps integers beyond 64 bits without a word; forwarding a
 * changed number would be worse than refusing it (RFC 8259 section 6 lets
 * an implementation limit the range). */
static bool
integer_fits(const unsigned char *digits, size_t n, bool negative)
{
    const char *limit = negative ? "9223372036854775808"
                                 : "18446744073709551615";
    size_t limit_len = negative ? 19 : 20;

    if (n != limit_len) {
        return n < limit_len;
    }
    for (size_t i = 0; i < n; i++) {
        if (digits[i] != (unsigned char)limit[i]) {
            return digits[i] < (unsigned char)limit[i];
        }
    }
    return true;
}

static enum gw_json_result
scan_number(struct scan *s)
{
    const unsigned char *int_start;
    bool negative = false;

    if (*s->p == '-') {
        negative = true;
        s->p++;
    }
    if (s->p == s->end || !is_digit(*s->p)) {
        return GW_JSON_SYNTAX;
    }
    int_start = s->p;
    if (*s->p == '0') {
        s->p++;
    } else {
        skip_digits(s);
    }
    if ((s->p == s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E')) &&
        !integer_fits(int_start, (size_t)(s->p - int_start), negative)) {
        s->p = int_start;
        return GW_JSON_NUMBER_RANGE;
    }

    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s->p == s->end || !is_digit(*s->p)) {
            return GW_JSON_SYNTAX;
        }
        skip_digits(s);
    }

    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) {
            s->p++;
        }
        if (s->p == s->end || !is_digit(*s->p)) {
            return GW_JSON_SYNTAX;
        }
        skip_digits(s);
    }
    return GW_JSON_OK;
}

static enum gw_json_result
scan_hex4(struct scan *s, unsigned *unit)
{
    unsigned value = 0;
    unsigned char c;
    int i;

    for (i = 0; i < 4; i++) {
        if (s->p == s->end) {
            return GW_JSON_SYNTAX;
        }
        c = *s->p;
        if (is_digit(c)) {
            value = value * 16 + (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            value = value * 16 + (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            value = value * 16 + (unsigned)(c - 'A' + 10);
        } else {
            return GW_JSON_SYNTAX;
        }
        s->p++;
    }
    *unit = value;
    return GW_JSON_OK;
}

/* A \u escape names a UTF-16 code unit (RFC 8259 section 7). A surrogate is
 * accepted only as a high one directly followed by an escaped low one: a
 * lone half cannot be turned into UTF-8, and json-c would pass it on as
 * bytes that later readers of the event refuse. */
static enum gw_json_result
scan_unicode_escape(struct scan *s, const unsigned char *escape)
{
    enum gw_json_result rc;
    unsigned unit;

    rc = scan_hex4(s, &unit);
    if (rc != GW_JSON_OK) {
        return rc;
    }
    if (unit < 0xD800 || unit > 0xDFFF) {
        return GW_JSON_OK;
    }
    if (unit > 0xDBFF || s->end - s->p < 2 || s->p[0] != '\\' ||
        s->p[1] != 'u') {
        s->p = escape;
        return GW_JSON_BAD_UTF8;
    }

    s->p += 2;
    rc = scan_hex4(s, &unit);
    if (rc != GW_JSON_OK) {
        return rc;
    }
    if (unit < 0xDC00 || unit > 0xDFFF) {
        s->p = escape;
        return GW_JSON_BAD_UTF8;
    }
    return GW_JSON_OK;
}

static enum gw_json_result
scan_escape(struct scan *s)
{
    const unsigned char *escape = s->p;

    s->p++;
    if (s->p == s->end) {
        return GW_JSON_SYNTAX;
    }

    switch (*s->p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        s->p++;
        return GW_JSON_OK;
    case 'u':
        s->p++;
        return scan_unicode_escape(s, escape);
    default:
        return GW_JSON_SYNTAX;
    }
}

/* One multi-byte UTF-8 sequence, by the table of RFC 3629 section 4: the
 * second byte's narrower ranges refuse overlong forms (C0, C1, E0 80-9F,
 * F0 80-8F), UTF-16 surrogates (ED A0-BF) and code points past U+10FFFF
 * (F4 90-BF, F5-FF). The error offset is the sequence's first byte. */
static enum gw_json_result
scan_utf8(struct scan *s)
{
    const unsigned char *p = s->p;
    unsigned char lead = p[0];
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    size_t n;
    size_t i;

    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return GW_JSON_BAD_UTF8;
    }

    if ((size_t)(s->end - p) < n || p[1] < low || p[1] > high) {
        return GW_JSON_BAD_UTF8;
    }
    for (i = 2; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return GW_JSON_BAD_UTF8;
        }
    }
    s->p += n;
    return GW_JSON_OK;
}

static enum gw_json_result
scan_string(struct scan *s)
{
    enum gw_json_result rc;
    unsigned char c;

    s->p++;
    for (;;) {
        while (s->p < s->end && is_plain(*s->p)) {
            s->p++;
        }
        if (s->p == s->end) {
            return GW_JSON_SYNTAX;
        }

        c = *s->p;
        if (c == '"') {
            s->p++;
            return GW_JSON_OK;
        }
        /* RFC 8259 section 7: U+0000 to U+001F must be escaped. */
        if (c < 0x20) {
            return GW_JSON_SYNTAX;
        }
        rc = c == '\\' ? scan_escape(s) : scan_utf8(s);
        if (rc != GW_JSON_OK) {
            return rc;
        }
    }
}

/* Opens an array or object; an empty one is closed at once, so that the
 * later steps only ever see a container holding at least one value. */
static enum gw_json_result
open_container(struct scan *s, enum expect *next)
{
    bool is_object = *s->p == '{';
    size_t level = s->depth;
    unsigned char bit = (unsigned char)(1u << (level % CHAR_BIT));

    if (level == s->max_depth) {
        return GW_JSON_TOO_DEEP;
    }
    if (is_object) {
        s->is_object[level / CHAR_BIT] |= bit;
    } else {
        s->is_object[level / CHAR_BIT] &= (unsigned char)~bit;
    }
    s->depth++;
    s->p++;

    skip_ws(s);
    if (s->p < s->end && *s->p == (is_object ? '}' : ']')) {
        s->p++;
        s->depth--;
        *next = EXPECT_AFTER_VALUE;
    } else {
        *next = is_object ? EXPECT_KEY : EXPECT_VALUE;
    }
    return GW_JSON_OK;
}

static enum gw_json_result
step_value(struct scan *s, enum expect *next)
{
    unsigned char c;

    if (s->p == s->end) {
        return GW_JSON_SYNTAX;
    }

    c = *s->p;
    *next = EXPECT_AFTER_VALUE;
    switch (c) {
    case '[':
    case '{':
        return open_container(s, next);
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        if (c == '-' || is_digit(c)) {
            return scan_number(s);
        }
        return GW_JSON_SYNTAX;
    }
}

static enum gw_json_result
step_key(struct scan *s, enum expect *next)
{
    enum gw_json_result rc;

    if (s->p == s->end || *s->p != '"') {
        return GW_JSON_SYNTAX;
    }
    rc = scan_string(s);
    if (rc != GW_JSON_OK) {
        return rc;
    }

    skip_ws(s);
    if (s->p == s->end || *s->p != ':') {
        return GW_JSON_SYNTAX;
    }
    s->p++;
    *next = EXPECT_VALUE;
    return GW_JSON_OK;
}

/* After a value inside a container: a comma, or the matching close. A
 * comma must be followed by another member, so "[1,]" and "{,}" fail in
 * the step that comes next. */
static enum gw_json_result
step_after_value(struct scan *s, enum expect *next)
{
    bool is_object = top_is_object(s);

    if (s->p == s->end) {
        return GW_JSON_SYNTAX;
    }
    if (*s->p == ',') {
        s->p++;
        *next = is_object ? EXPECT_KEY : EXPECT_VALUE;
        return GW_JSON_OK;
    }
    if (*s->p == (is_object ? '}' : ']')) {
        s->p++;
        s->depth--;
        *next = EXPECT_AFTER_VALUE;
        return GW_JSON_OK;
    }
    return GW_JSON_SYNTAX;
}

/* Iterative, one byte at a time through a three-state loop: the depth is
 * bounded by the bit stack, never by the C call stack. */
static enum gw_json_result
scan_text(struct scan *s)
{
    enum expect next = EXPECT_VALUE;
    enum gw_json_result rc;

    do {
        skip_ws(s);
        switch (next) {
        case EXPECT_VALUE:
            rc = step_value(s, &next);
            break;
        case EXPECT_KEY:
            rc = step_key(s, &next);
            break;
        case EXPECT_AFTER_VALUE:
        default:
            rc = step_after_value(s, &next);
            break;
        }
        if (rc != GW_JSON_OK) {
            return rc;
        }
    } while (s->depth > 0 || next != EXPECT_AFTER_VALUE);

    skip_ws(s);
    return s->p == s->end ? GW_JSON_OK : GW_JSON_SYNTAX;
}

enum gw_json_result
gw_json_validate(const char *text, size_t len, size_t max_depth,
                 size_t *error_offset)
{
    struct scan s;
    enum gw_json_result rc;

    /* Empty input is not a JSON text, and an empty buffer may be NULL. */
    if (len == 0) {
        if (error_offset != NULL) {
            *error_offset = 0;
        }
        return GW_JSON_SYNTAX;
    }

    s.start = (const unsigned char *)text;
    s.p = s.start;
    s.end = s.start + len;
    s.depth = 0;
    s.max_depth = max_depth < STACK_MAX_DEPTH ? max_depth : STACK_MAX_DEPTH;

    rc = scan_text(&s);
    if (rc != GW_JSON_OK && error_offset != NULL) {
        *error_offset = (size_t)(s.p - s.start);
    }
    return rc;
}

static enum gw_json_result
tokener_result(enum json_tokener_error jerr)
{
    if (jerr == json_tokener_error_size) {
        return GW_JSON_NO_MEMORY;
    }
    if (jerr == json_tokener_error_depth) {
        return GW_JSON_TOO_DEEP;
    }
    return GW_JSON_SYNTAX;
}

/* Runs json-c over text that already passed validation. json-c reads the
 * text as a stream: a top-level number or literal that reaches the end of
 * the buffer leaves it waiting for more, and since the caller's text need
 * not be NUL terminated, the terminator it wants is fed as a second chunk. */
static enum gw_json_result
run_tokener(struct json_tokener *tok, const char *text, size_t len,
            struct json_object **out, size_t *error_offset)
{
    struct json_object *obj;
    enum json_tokener_error jerr;
    size_t end;

    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && end == len) {
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    } else if (jerr == json_tokener_success && end != len) {
        /* json-c stopped before the end: it read the text differently from
         * the validator, and the tail must not be ignored silently. */
        json_object_put(obj);
        obj = NULL;
        jerr = json_tokener_error_parse_unexpected;
    }

    if (jerr != json_tokener_success) {
        json_object_put(obj);
        if (error_offset != NULL) {
            *error_offset = end;
        }
        return tokener_result(jerr);
    }

    /* JSON null is json-c's NULL object, so success may hand back NULL. */
    *out = obj;
    return GW_JSON_OK;
}

enum gw_json_result
gw_json_parse(const char *text, size_t len, struct json_object **out,
              size_t *error_offset)
{
    struct json_tokener *tok;
    enum gw_json_result rc;

    *out = NULL;

    /* json-c takes the length as an int; the offset reported is the first
     * byte it could not address. Request body limits keep real input far
     * below this. */
    if (len > INT_MAX) {
        if (error_offset != NULL) {
            *error_offset = (size_t)INT_MAX;
        }
        return GW_JSON_NO_MEMORY;
    }

    rc = gw_json_validate(text, len, GW_JSON_MAX_DEPTH, error_offset);
    if (rc != GW_JSON_OK) {
        return rc;
    }

    /* json-c counts the value inside the innermost container as one more
     * level than the containers themselves. */
    tok = json_tokener_new_ex(GW_JSON_MAX_DEPTH + 1);
    if (tok == NULL) {
        if (error_offset != NULL) {
            *error_offset = 0;
        }
        return GW_JSON_NO_MEMORY;
    }

    rc = run_tokener(tok, text, len, out, error_offset);
    json_tokener_free(tok);
    return rc;
}

const char *
gw_json_result_code(enum gw_json_result rc)
{
    switch (rc) {
    case GW_JSON_OK:
        return "ok";
    case GW_JSON_SYNTAX:
        return "invalid_json";
    case GW_JSON_TOO_DEEP:
        return "json_too_deep";
    case GW_JSON_BAD_UTF8:
        return "invalid_utf8";
    case GW_JSON_NO_MEMORY:
        return "no_memory";
    case GW_JSON_NUMBER_RANGE:
        return "number_out_of_range";
    }
    return "unknown";
}
