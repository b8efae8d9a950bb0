/* events/timestamp.c: RFC 3339 date-times in, canonical UTC milliseconds out.
 * Pure arithmetic: no locale, no time zone database, no allocation. */
#include "events/timestamp.h"

#include <ctype.h>

#define MS_PER_DAY 86400000LL
/* Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define EPOCH_DAYS 719468LL

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - EPOCH_DAYS;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += EPOCH_DAYS;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Reads exactly n digits at text[*at]. */
static bool
digits(const char *text, size_t len, size_t *at, int n, int *out)
{
    int v = 0;

    if (*at + (size_t)n > len) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        char c = text[*at + (size_t)i];

        if (!isdigit((unsigned char)c)) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *at += (size_t)n;
    *out = v;
    return true;
}

static bool
expect(const char *text, size_t len, size_t *at, char c)
{
    if (*at >= len || text[*at] != c) {
        return false;
    }
    (*at)++;
    return true;
}

/* The offset part: Z, or +hh:mm / -hh:mm; in minutes east of UTC. */
static bool
parse_offset(const char *text, size_t len, size_t *at, int *minutes)
{
    int sign, hh, mm;

    if (*at < len && (text[*at] == 'Z' || text[*at] == 'z')) {
        (*at)++;
        *minutes = 0;
        return true;
    }
    if (*at >= len || (text[*at] != '+' && text[*at] != '-')) {
        return false;
    }
    sign = text[*at] == '-' ? -1 : 1;
    (*at)++;
    if (!digits(text, len, at, 2, &hh) || !expect(text, len, at, ':') ||
        !digits(text, len, at, 2, &mm) || hh > 23 || mm > 59) {
        return false;
    }
    *minutes = sign * (hh * 60 + mm);
    return true;
}

bool
gw_timestamp_parse(const char *text, size_t len, int64_t *epoch_ms)
{
    int y, mo, d, h, mi, s, ms = 0, scale = 100, offset;
    size_t at = 0;
    int64_t total;

    if (!digits(text, len, &at, 4, &y) || !expect(text, len, &at, '-') ||
        !digits(text, len, &at, 2, &mo) || !expect(text, len, &at, '-') ||
        !digits(text, len, &at, 2, &d) || at >= len ||
        (text[at] != 'T' && text[at] != 't')) {
        return false;
    }
    at++;
    if (!digits(text, len, &at, 2, &h) || !expect(text, len, &at, ':') ||
        !digits(text, len, &at, 2, &mi) || !expect(text, len, &at, ':') ||
        !digits(text, len, &at, 2, &s)) {
        return false;
    }
    if (at < len && text[at] == '.') {
        at++;
        if (at >= len || !isdigit((unsigned char)text[at])) {
            return false;
        }
        /* Milliseconds are kept; further digits are truncated. */
        while (at < len && isdigit((unsigned char)text[at])) {
            ms += (text[at] - '0') * scale;
            scale /= 10;
            at++;
        }
    }
    if (!parse_offset(text, len, &at, &offset) || at != len) {
        return false;
    }
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || s > 59) {
        return false;
    }
    total = days_from_civil(y, mo, d) * MS_PER_DAY +
            ((int64_t)h * 3600 + (int64_t)mi * 60 + s) * 1000 + ms;
    total -= (int64_t)offset * 60000;
    /* After the offset the instant must still be within 0001-9999. */
    if (total < days_from_civil(1, 1, 1) * MS_PER_DAY ||
        total >= days_from_civil(10000, 1, 1) * MS_PER_DAY) {
        return false;
    }
    *epoch_ms = total;
    return true;
}

bool
gw_timestamp_format(int64_t epoch_ms, char *out)
{
    int64_t days, rem, y;
    int m, d, ms_of_day;

    if (epoch_ms < days_from_civil(1, 1, 1) * MS_PER_DAY ||
        epoch_ms >= days_from_civil(10000, 1, 1) * MS_PER_DAY) {
        return false;
    }
    days = epoch_ms / MS_PER_DAY;
    rem = epoch_ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    ms_of_day = (int)rem;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 'T';
    out[11] = (char)('0' + ms_of_day / 36000000);
    out[12] = (char)('0' + ms_of_day / 3600000 % 10);
    out[13] = ':';
    out[14] = (char)('0' + ms_of_day / 600000 % 6);
    out[15] = (char)('0' + ms_of_day / 60000 % 10);
    out[16] = ':';
    out[17] = (char)('0' + ms_of_day / 10000 % 6);
    out[18] = (char)('0' + ms_of_day / 1000 % 10);
    out[19] = '.';
    out[20] = (char)('0' + ms_of_day / 100 % 10);
    out[21] = (char)('0' + ms_of_day / 10 % 10);
    out[22] = (char)('0' + ms_of_day % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return true;
}
