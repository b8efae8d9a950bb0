/* tests/unit/events/test_timestamp.c: RFC 3339 parsing and canonical UTC
 * formatting, with expected instants computed here by timegm() and gmtime_r()
 * or taken from known constants, never from the code under test. */
#include "events/timestamp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond, label, name) check_at((cond), (label), (name), __LINE__)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Known instants (Python datetime, `date -u`): the first and the last
 * millisecond the contract allows, and the seed's valid sample. */
#define MIN_MS INT64_C(-62135596800000)  /* 0001-01-01T00:00:00.000Z */
#define MAX_MS INT64_C(253402300799999)  /* 9999-12-31T23:59:59.999Z */
#define SAMPLE_MS INT64_C(1714566896789) /* 2024-05-01T12:34:56.789Z */

#define MS_PER_DAY INT64_C(86400000)

/* Written before each parse; a refusal must leave it as it was. */
#define UNTOUCHED INT64_C(0x5a5a5a5a5a5a)

/* Random round-trip size and seed; a fixed seed makes a failure repeatable. */
#define RANDOM_COUNT 100000
#define RANDOM_SEED 20240501u

/* At most this many failing values of a loop are printed one by one. */
#define MAX_PRINTED 10

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

/* A civil date-time with its offset in minutes east of UTC. */
struct civil {
    int y, mo, d, h, mi, s, ms, offset_min;
};

/* The instant of a civil time, through the C library rather than the code
 * under test: timegm() for whole seconds, then the fraction and offset. */
static int64_t
expected_ms(const struct civil *c)
{
    struct tm tm = {0};

    tm.tm_year = c->y - 1900;
    tm.tm_mon = c->mo - 1;
    tm.tm_mday = c->d;
    tm.tm_hour = c->h;
    tm.tm_min = c->mi;
    tm.tm_sec = c->s;
    return (int64_t)timegm(&tm) * 1000 + c->ms - (int64_t)c->offset_min * 60000;
}

/* The canonical text of an instant, through gmtime_r() and snprintf(). */
static void
expected_text(int64_t ms, char *out, size_t out_len)
{
    int64_t secs = ms / 1000;
    int64_t frac = ms % 1000;
    struct tm tm;
    time_t t;

    /* C division truncates toward zero; the fraction of an instant before
     * 1970 still counts forward from the whole second below it. */
    if (frac < 0) {
        frac += 1000;
        secs--;
    }
    t = (time_t)secs;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, out_len, "gmtime_r failed");
        return;
    }
    snprintf(out, out_len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)frac);
}

/* Parses exactly len bytes from a heap copy with no terminating NUL, so a
 * read past len shows up under AddressSanitizer. */
static bool
parse_exact(const char *text, size_t len, int64_t *epoch_ms)
{
    char *copy;
    bool ok;

    if (text == NULL) {
        return gw_timestamp_parse(NULL, len, epoch_ms);
    }
    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(copy, text, len);
    ok = gw_timestamp_parse(copy, len, epoch_ms);
    free(copy);
    return ok;
}

static void
test_timestamp_parse_accepts_valid_date_times(void)
{
    static const struct {
        const char *name;
        const char *text;
        struct civil when;
    } cases[] = {
        {"seed valid sample",
         "2024-05-01T12:34:56.789Z",
         {2024, 5, 1, 12, 34, 56, 789, 0}},
        {"offset +02:00",
         "2024-05-01T14:34:56.789+02:00",
         {2024, 5, 1, 14, 34, 56, 789, 120}},
        {"offset -05:30",
         "2024-05-01T07:04:56.789-05:30",
         {2024, 5, 1, 7, 4, 56, 789, -330}},
        {"offset +00:00",
         "2024-05-01T12:34:56.789+00:00",
         {2024, 5, 1, 12, 34, 56, 789, 0}},
        {"offset -00:00",
         "2024-05-01T12:34:56.789-00:00",
         {2024, 5, 1, 12, 34, 56, 789, 0}},
        {"offset +23:59",
         "2024-05-01T23:59:59.999+23:59",
         {2024, 5, 1, 23, 59, 59, 999, 1439}},
        {"offset -23:59",
         "2024-05-01T00:00:00.000-23:59",
         {2024, 5, 1, 0, 0, 0, 0, -1439}},
        {"offset crosses back into a leap day",
         "2024-03-01T01:00:00+02:00",
         {2024, 3, 1, 1, 0, 0, 0, 120}},
        {"offset crosses into a new year",
         "2023-12-31T22:00:00.001-05:00",
         {2023, 12, 31, 22, 0, 0, 1, -300}},
        {"nine fraction digits truncated",
         "2024-05-01T12:34:56.789999999Z",
         {2024, 5, 1, 12, 34, 56, 789, 0}},
        {"fraction .9999 not rounded up",
         "2024-05-01T12:34:56.9999Z",
         {2024, 5, 1, 12, 34, 56, 999, 0}},
        {"long fraction truncated",
         "2024-05-01T12:34:56.1239876543210987654Z",
         {2024, 5, 1, 12, 34, 56, 123, 0}},
        {"one fraction digit",
         "2024-05-01T12:34:56.5Z",
         {2024, 5, 1, 12, 34, 56, 500, 0}},
        {"two fraction digits",
         "2024-05-01T12:34:56.05Z",
         {2024, 5, 1, 12, 34, 56, 50, 0}},
        {"fraction of zeros",
         "2024-05-01T12:34:56.000000Z",
         {2024, 5, 1, 12, 34, 56, 0, 0}},
        {"fraction with an offset",
         "2024-05-01T12:34:56.5+01:00",
         {2024, 5, 1, 12, 34, 56, 500, 60}},
        {"no fraction", "2024-05-01T12:34:56Z", {2024, 5, 1, 12, 34, 56, 0, 0}},
        {"lower-case t and z",
         "2024-05-01t12:34:56.789z",
         {2024, 5, 1, 12, 34, 56, 789, 0}},
        {"lower-case t with an offset",
         "2024-05-01t12:34:56-05:30",
         {2024, 5, 1, 12, 34, 56, 0, -330}},
        {"Feb 29 2024", "2024-02-29T00:00:00Z", {2024, 2, 29, 0, 0, 0, 0, 0}},
        {"Feb 29 2000",
         "2000-02-29T23:59:59.999Z",
         {2000, 2, 29, 23, 59, 59, 999, 0}},
        {"Feb 29 1600",
         "1600-02-29T06:07:08.009Z",
         {1600, 2, 29, 6, 7, 8, 9, 0}},
        {"Feb 28 2023", "2023-02-28T12:00:00Z", {2023, 2, 28, 12, 0, 0, 0, 0}},
        {"Dec 31", "2023-12-31T23:59:59Z", {2023, 12, 31, 23, 59, 59, 0, 0}},
        {"Apr 30", "2024-04-30T00:00:00Z", {2024, 4, 30, 0, 0, 0, 0, 0}},
        {"epoch", "1970-01-01T00:00:00Z", {1970, 1, 1, 0, 0, 0, 0, 0}},
        {"one ms before epoch",
         "1969-12-31T23:59:59.999Z",
         {1969, 12, 31, 23, 59, 59, 999, 0}},
        {"half a second before epoch",
         "1969-12-31T23:59:59.5Z",
         {1969, 12, 31, 23, 59, 59, 500, 0}},
        {"first instant of 0001",
         "0001-01-01T00:00:00Z",
         {1, 1, 1, 0, 0, 0, 0, 0}},
        {"0001 with an offset that stays in range",
         "0001-01-01T01:00:00+01:00",
         {1, 1, 1, 1, 0, 0, 0, 60}},
        {"0001 with a negative offset",
         "0001-01-01T00:00:00-01:00",
         {1, 1, 1, 0, 0, 0, 0, -60}},
        {"last instant of 9999",
         "9999-12-31T23:59:59.999Z",
         {9999, 12, 31, 23, 59, 59, 999, 0}},
        {"9999 with an offset that stays in range",
         "9999-12-31T22:59:59.999-01:00",
         {9999, 12, 31, 22, 59, 59, 999, -60}},
        {"9999 with a positive offset",
         "9999-12-31T23:59:59.999+01:00",
         {9999, 12, 31, 23, 59, 59, 999, 60}},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        int64_t got = UNTOUCHED;
        int64_t want = expected_ms(&cases[i].when);
        bool ok = parse_exact(cases[i].text, strlen(cases[i].text), &got);

        CHECK(ok, "parse accepts", cases[i].name);
        if (ok && got != want) {
            fprintf(stderr, "  %s: want %lld, got %lld\n", cases[i].text,
                    (long long)want, (long long)got);
        }
        CHECK(ok && got == want, "parse gives the exact epoch ms",
              cases[i].name);
    }
}

static void
test_timestamp_parse_matches_known_constants(void)
{
    static const struct {
        const char *name;
        const char *text;
        int64_t ms;
    } cases[] = {
        {"seed valid sample", "2024-05-01T12:34:56.789Z", SAMPLE_MS},
        {"epoch", "1970-01-01T00:00:00.000Z", 0},
        {"one ms before epoch", "1969-12-31T23:59:59.999Z", -1},
        {"first instant of 0001", "0001-01-01T00:00:00.000Z", MIN_MS},
        {"last instant of 9999", "9999-12-31T23:59:59.999Z", MAX_MS},
        {"Feb 29 2024", "2024-02-29T00:00:00Z", INT64_C(1709164800000)},
        {"1900-03-01", "1900-03-01T00:00:00Z", INT64_C(-2203891200000)},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        int64_t got = UNTOUCHED;
        bool ok = parse_exact(cases[i].text, strlen(cases[i].text), &got);

        CHECK(ok && got == cases[i].ms, "parse equals the known constant",
              cases[i].name);
    }
}

static void
test_timestamp_parse_refuses_invalid_text(void)
{
    static const struct {
        const char *name;
        const char *text;
    } cases[] = {
        {"seed invalid sample", "20-11-23T22:28:55.111Z"},
        {"dot without digits", "2024-05-01T12:34:56.Z"},
        {"dot at the end", "2024-05-01T12:34:56."},
        {"dot before an offset", "2024-05-01T12:34:56.+02:00"},
        {"no offset", "2024-05-01T12:34:56.789"},
        {"no offset, no fraction", "2024-05-01T12:34:56"},
        {"date only", "2024-05-01"},
        {"date and T only", "2024-05-01T"},
        {"no seconds", "2024-05-01T12:34Z"},
        {"space instead of T", "2024-05-01 12:34:56.789Z"},
        {"underscore instead of T", "2024-05-01_12:34:56.789Z"},
        {"Feb 29 2023", "2023-02-29T00:00:00Z"},
        {"Feb 29 1900", "1900-02-29T00:00:00Z"},
        {"Feb 29 2100", "2100-02-29T00:00:00Z"},
        {"Feb 30 2024", "2024-02-30T00:00:00Z"},
        {"month 13", "2024-13-01T00:00:00Z"},
        {"month 00", "2024-00-01T00:00:00Z"},
        {"day 0", "2024-05-00T00:00:00Z"},
        {"day 32", "2024-05-32T00:00:00Z"},
        {"Apr 31", "2024-04-31T00:00:00Z"},
        {"Jun 31", "2024-06-31T00:00:00Z"},
        {"hour 24", "2024-05-01T24:00:00Z"},
        {"minute 60", "2024-05-01T12:60:00Z"},
        {"second 60", "2024-05-01T12:34:60Z"},
        {"leap second", "2016-12-31T23:59:60Z"},
        {"offset +24:00", "2024-05-01T12:34:56+24:00"},
        {"offset -24:00", "2024-05-01T12:34:56-24:00"},
        {"offset minute 60", "2024-05-01T12:34:56+02:60"},
        {"offset without colon", "2024-05-01T12:34:56+0200"},
        {"offset hours only", "2024-05-01T12:34:56+02"},
        {"offset with one hour digit", "2024-05-01T12:34:56+2:00"},
        {"offset sign only", "2024-05-01T12:34:56+"},
        {"Z and an offset", "2024-05-01T12:34:56Z+02:00"},
        {"trailing garbage", "2024-05-01T12:34:56.789Zjunk"},
        {"trailing space", "2024-05-01T12:34:56.789Z "},
        {"trailing newline", "2024-05-01T12:34:56.789Z\n"},
        {"double Z", "2024-05-01T12:34:56.789ZZ"},
        {"garbage after an offset", "2024-05-01T12:34:56+02:00x"},
        {"leading space", " 2024-05-01T12:34:56.789Z"},
        {"leading sign", "+2024-05-01T12:34:56.789Z"},
        {"negative year", "-0001-01-01T00:00:00Z"},
        {"five-digit year", "12024-05-01T12:34:56Z"},
        {"one-digit month", "2024-5-01T12:34:56Z"},
        {"one-digit day", "2024-05-1T12:34:56Z"},
        {"one-digit hour", "2024-05-01T1:34:56Z"},
        {"letter in the year", "2O24-05-01T12:34:56Z"},
        {"letter in the fraction", "2024-05-01T12:34:56.7a9Z"},
        {"comma fraction", "2024-05-01T12:34:56,789Z"},
        {"slashes in the date", "2024/05/01T12:34:56Z"},
        {"dots in the time", "2024-05-01T12.34.56Z"},
        {"year 0000", "0000-01-01T00:00:00Z"},
        {"offset pushes 0001 below range", "0001-01-01T00:00:00+01:00"},
        {"offset pushes 0001 by one ms", "0001-01-01T00:59:59.999+01:00"},
        {"offset pushes 9999 above range", "9999-12-31T23:59:59-01:00"},
        {"offset pushes 9999 by one ms", "9999-12-31T23:00:00.000-01:00"},
        {"empty string", ""},
        {"ISO week date", "2024-W18-3T12:34:56Z"},
        {"Unix seconds", "1714566896"},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        int64_t got = UNTOUCHED;
        bool ok = parse_exact(cases[i].text, strlen(cases[i].text), &got);

        if (ok) {
            fprintf(stderr, "  %s: want refusal, got %lld\n", cases[i].text,
                    (long long)got);
        }
        CHECK(!ok, "parse refuses", cases[i].name);
        CHECK(got == UNTOUCHED, "refusal leaves epoch_ms unwritten",
              cases[i].name);
    }
}

static void
test_timestamp_parse_refuses_null_and_embedded_nul(void)
{
    /* sizeof - 1 keeps every byte after the NUL inside len. */
    static const char nul_before_z[] = "2024-05-01T12:34:56.789\0Z";
    static const char nul_after_z[] = "2024-05-01T12:34:56.789Z\0";
    static const char nul_in_date[] = "2024-05\0-01T12:34:56.789Z";
    static const char nul_in_fraction[] = "2024-05-01T12:34:56.7\0"
                                          "89Z";
    static const struct {
        const char *name;
        const char *text;
        size_t len;
    } cases[] = {
        {"NULL with length 0", NULL, 0},
        {"text with length 0", "2024-05-01T12:34:56.789Z", 0},
        {"length one short of Z", "2024-05-01T12:34:56.789Z", 23},
        {"length cuts the offset", "2024-05-01T12:34:56+02:00", 22},
        {"length cuts the date", "2024-05-01T12:34:56Z", 7},
        {"NUL before Z", nul_before_z, sizeof(nul_before_z) - 1},
        {"NUL after Z", nul_after_z, sizeof(nul_after_z) - 1},
        {"NUL in the date", nul_in_date, sizeof(nul_in_date) - 1},
        {"NUL in the fraction", nul_in_fraction, sizeof(nul_in_fraction) - 1},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        int64_t got = UNTOUCHED;
        bool ok = parse_exact(cases[i].text, cases[i].len, &got);

        CHECK(!ok, "parse refuses", cases[i].name);
        CHECK(got == UNTOUCHED, "refusal leaves epoch_ms unwritten",
              cases[i].name);
    }
}

static void
test_timestamp_parse_reads_only_len_bytes(void)
{
    /* A valid prefix with garbage after it: len decides, not the NUL. */
    static const char text[] = "2024-05-01T12:34:56.789Zjunk";
    int64_t got = UNTOUCHED;
    bool ok = parse_exact(text, 24, &got);

    CHECK(ok && got == SAMPLE_MS, "parse stops at len", "prefix of 24 bytes");
}

static void
test_timestamp_format_writes_the_canonical_text(void)
{
    static const struct {
        const char *name;
        int64_t ms;
        const char *text;
    } cases[] = {
        {"epoch", 0, "1970-01-01T00:00:00.000Z"},
        {"one ms after epoch", 1, "1970-01-01T00:00:00.001Z"},
        {"one ms before epoch", -1, "1969-12-31T23:59:59.999Z"},
        {"one second before epoch", -1000, "1969-12-31T23:59:59.000Z"},
        {"one day and one ms before epoch", -MS_PER_DAY - 1,
         "1969-12-30T23:59:59.999Z"},
        {"seed valid sample", SAMPLE_MS, "2024-05-01T12:34:56.789Z"},
        {"Feb 29 2024", INT64_C(1709164800000), "2024-02-29T00:00:00.000Z"},
        {"end of Feb 29 2000", INT64_C(951868799999),
         "2000-02-29T23:59:59.999Z"},
        {"Feb 29 1600", INT64_C(-11670976371991), "1600-02-29T06:07:08.009Z"},
        {"Mar 1 1900", INT64_C(-2203891200000), "1900-03-01T00:00:00.000Z"},
        {"first instant of 0001", MIN_MS, "0001-01-01T00:00:00.000Z"},
        {"last instant of 9999", MAX_MS, "9999-12-31T23:59:59.999Z"},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        /* Exactly GW_TIMESTAMP_LEN bytes, so an overrun trips ASan. */
        char out[GW_TIMESTAMP_LEN];
        bool ok = gw_timestamp_format(cases[i].ms, out);

        CHECK(ok, "format accepts", cases[i].name);
        if (ok && strcmp(out, cases[i].text) != 0) {
            fprintf(stderr, "  %lld: want %s, got %.*s\n",
                    (long long)cases[i].ms, cases[i].text, GW_TIMESTAMP_LEN - 1,
                    out);
        }
        CHECK(ok && memcmp(out, cases[i].text, GW_TIMESTAMP_LEN) == 0,
              "format writes the exact text", cases[i].name);
    }
}

static void
test_timestamp_format_refuses_outside_years_0001_to_9999(void)
{
    static const struct {
        const char *name;
        int64_t ms;
    } cases[] = {
        {"one ms before 0001", MIN_MS - 1},
        {"one day before 0001", MIN_MS - MS_PER_DAY},
        {"year 10000", MAX_MS + 1},
        {"one day after 9999", MAX_MS + MS_PER_DAY},
        {"INT64_MIN", INT64_MIN},
        {"INT64_MAX", INT64_MAX},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        char out[GW_TIMESTAMP_LEN];
        char fill[GW_TIMESTAMP_LEN];
        bool ok;

        memset(out, 'x', sizeof(out));
        memset(fill, 'x', sizeof(fill));
        ok = gw_timestamp_format(cases[i].ms, out);
        CHECK(!ok, "format refuses", cases[i].name);
        CHECK(memcmp(out, fill, sizeof(out)) == 0,
              "refusal leaves out unwritten", cases[i].name);
    }
}

static void
test_timestamp_round_trip_gives_the_canonical_form(void)
{
    static const struct {
        const char *name;
        const char *text;
        const char *canonical;
    } cases[] = {
        {"canonical stays", "2024-05-01T12:34:56.789Z",
         "2024-05-01T12:34:56.789Z"},
        {"lower case", "2024-05-01t12:34:56.789z", "2024-05-01T12:34:56.789Z"},
        {"no fraction", "2024-05-01T12:34:56Z", "2024-05-01T12:34:56.000Z"},
        {"one fraction digit", "2024-05-01T12:34:56.5Z",
         "2024-05-01T12:34:56.500Z"},
        {"nine fraction digits", "2024-05-01T12:34:56.789999999Z",
         "2024-05-01T12:34:56.789Z"},
        {"offset +02:00", "2024-05-01T14:34:56.789+02:00",
         "2024-05-01T12:34:56.789Z"},
        {"offset -05:30", "2024-05-01T07:04:56.789-05:30",
         "2024-05-01T12:34:56.789Z"},
        {"offset +00:00", "2024-05-01T12:34:56.789+00:00",
         "2024-05-01T12:34:56.789Z"},
        {"offset +00:59", "2024-05-01T00:30:00+00:59",
         "2024-04-30T23:31:00.000Z"},
        {"offset -23:59", "2024-05-01T23:59:59.999-23:59",
         "2024-05-02T23:58:59.999Z"},
        {"back into a leap day", "2024-03-01T01:00:00+02:00",
         "2024-02-29T23:00:00.000Z"},
        {"into a new year", "2023-12-31T22:00:00.001-05:00",
         "2024-01-01T03:00:00.001Z"},
        {"leap day 2000", "2000-02-29T12:00:00.000000001Z",
         "2000-02-29T12:00:00.000Z"},
        {"before epoch", "1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"},
        {"epoch with offset", "1970-01-01T05:30:00+05:30",
         "1970-01-01T00:00:00.000Z"},
        {"lower limit via offset", "0001-01-01T01:00:00+01:00",
         "0001-01-01T00:00:00.000Z"},
        {"upper limit via offset", "9999-12-31T22:59:59.999-01:00",
         "9999-12-31T23:59:59.999Z"},
    };

    for (size_t i = 0; i < COUNT(cases); i++) {
        char out[GW_TIMESTAMP_LEN];
        int64_t ms = UNTOUCHED;
        bool ok = parse_exact(cases[i].text, strlen(cases[i].text), &ms) &&
                  gw_timestamp_format(ms, out);

        if (ok && strcmp(out, cases[i].canonical) != 0) {
            fprintf(stderr, "  %s: want %s, got %s\n", cases[i].text,
                    cases[i].canonical, out);
        }
        CHECK(ok && strcmp(out, cases[i].canonical) == 0,
              "format(parse(text)) is canonical", cases[i].name);
    }
}

/* A uniform-enough value in [MIN_MS, MAX_MS] from rand(), which gives only
 * 31 bits on glibc: three draws make 62, then a modulo of a 49-bit span. */
static int64_t
random_ms(void)
{
    uint64_t span = (uint64_t)(MAX_MS - MIN_MS) + 1;
    uint64_t r = ((uint64_t)rand() << 31) ^ (uint64_t)rand();

    r = (r << 31) ^ (uint64_t)rand();
    return MIN_MS + (int64_t)(r % span);
}

/* One value's round trip; returns false and prints (while under the limit)
 * when parse(format(v)) != v or format(v) differs from gmtime_r(). */
static bool
round_trips(int64_t v, int *printed)
{
    char out[GW_TIMESTAMP_LEN];
    char want[64];
    int64_t back = UNTOUCHED;
    bool ok;

    expected_text(v, want, sizeof(want));
    ok = gw_timestamp_format(v, out) && strcmp(out, want) == 0 &&
         parse_exact(out, strlen(out), &back) && back == v;
    if (!ok && *printed < MAX_PRINTED) {
        (*printed)++;
        fprintf(stderr, "  %lld: want %s, back %lld\n", (long long)v, want,
                (long long)back);
    }
    return ok;
}

static void
test_timestamp_round_trips_random_instants(void)
{
    int bad = 0;
    int printed = 0;

    srand(RANDOM_SEED);
    for (int i = 0; i < RANDOM_COUNT; i++) {
        bad += !round_trips(random_ms(), &printed);
    }
    CHECK(bad == 0, "random instants round-trip", "100000 values");
}

static void
test_timestamp_round_trips_near_the_limits_and_epoch(void)
{
    static const struct {
        const char *name;
        int64_t from;
    } ranges[] = {
        {"first 2000 ms of 0001", MIN_MS},
        {"last 2000 ms of 9999", MAX_MS - 1999},
        {"2000 ms around epoch", -1000},
        {"2000 ms around Mar 1 2024", INT64_C(1709251200000) - 1000},
    };

    for (size_t i = 0; i < COUNT(ranges); i++) {
        int bad = 0;
        int printed = 0;

        for (int64_t v = ranges[i].from; v < ranges[i].from + 2000; v++) {
            bad += !round_trips(v, &printed);
        }
        CHECK(bad == 0, "every ms round-trips", ranges[i].name);
    }
}

int
main(void)
{
    test_timestamp_parse_accepts_valid_date_times();
    test_timestamp_parse_matches_known_constants();
    test_timestamp_parse_refuses_invalid_text();
    test_timestamp_parse_refuses_null_and_embedded_nul();
    test_timestamp_parse_reads_only_len_bytes();
    test_timestamp_format_writes_the_canonical_text();
    test_timestamp_format_refuses_outside_years_0001_to_9999();
    test_timestamp_round_trip_gives_the_canonical_form();
    test_timestamp_round_trips_random_instants();
    test_timestamp_round_trips_near_the_limits_and_epoch();

    printf("unit.timestamp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
