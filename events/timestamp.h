/* events/timestamp.h: ISO-8601 / RFC 3339 times in, canonical UTC out. */
#ifndef GW_EVENTS_TIMESTAMP_H
#define GW_EVENTS_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" plus the terminating NUL. */
#define GW_TIMESTAMP_LEN 25

/* An example of the accepted input form, quoted in error messages. */
#define GW_TIMESTAMP_EXAMPLE "2024-05-01T12:34:56.789Z"

/* Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|
 * -hh:mm)". 'T' and 'Z' may be lower case; any number of fraction digits
 * (extra digits truncated, never rounded). A date-time without an offset,
 * a date alone, out-of-range fields (month 13, Feb 30, hour 24), a leap
 * second ":60", years before 0001 or after 9999 after offset, and any
 * trailing byte are refused. On success writes milliseconds since the Unix
 * epoch (may be negative) to *epoch_ms and returns true. */
bool gw_timestamp_parse(const char *text, size_t len, int64_t *epoch_ms)
    __attribute__((warn_unused_result));

/* Formats epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out, which
 * holds at least GW_TIMESTAMP_LEN bytes. Returns false when the instant is
 * outside years 0001-9999. */
bool gw_timestamp_format(int64_t epoch_ms, char *out)
    __attribute__((warn_unused_result));

#endif
