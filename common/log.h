/* common/log.h: structured JSON-lines logging to stderr, four levels. */
#ifndef GW_COMMON_LOG_H
#define GW_COMMON_LOG_H

#include <stdbool.h>

enum gw_log_level {
    GW_LOG_ERROR = 0,
    GW_LOG_WARN,
    GW_LOG_INFO,
    GW_LOG_DEBUG,
};

enum gw_log_field_type {
    GW_LOG_F_END = 0,
    GW_LOG_F_STR,       /* trusted text, written in full */
    GW_LOG_F_UNTRUSTED, /* request-supplied text, cut at 64 bytes */
    GW_LOG_F_EMAIL,     /* an address, written as ***@domain */
    GW_LOG_F_INT,
    GW_LOG_F_BOOL,
};

struct gw_log_field {
    enum gw_log_field_type type;
    const char *key;
    const char *str;
    long long num;
};

#define GW_F_STR(k, v) ((struct gw_log_field){GW_LOG_F_STR, (k), (v), 0})
#define GW_F_UNTRUSTED(k, v)                                                  \
    ((struct gw_log_field){GW_LOG_F_UNTRUSTED, (k), (v), 0})
#define GW_F_EMAIL(k, v) ((struct gw_log_field){GW_LOG_F_EMAIL, (k), (v), 0})
#define GW_F_INT(k, v)                                                        \
    ((struct gw_log_field){GW_LOG_F_INT, (k), NULL, (long long)(v)})
#define GW_F_BOOL(k, v)                                                       \
    ((struct gw_log_field){GW_LOG_F_BOOL, (k), NULL, (v) ? 1 : 0})
#define GW_F_END ((struct gw_log_field){GW_LOG_F_END, NULL, NULL, 0})

/* Sets the most verbose level written; lines above it are dropped. */
void gw_log_set_level(enum gw_log_level level);

/* Parses "error", "warn", "info" or "debug"; returns false otherwise. */
bool gw_log_level_parse(const char *name, enum gw_log_level *out);

bool gw_log_enabled(enum gw_log_level level);

/* Writes one JSON object line: ts, level, mod, event, then the fields given
 * as struct gw_log_field values ending with GW_F_END. A NULL str is
 * skipped. The line is written with one write(2) so that threads do not
 * interleave. */
void gw_log(enum gw_log_level level, const char *mod, const char *event, ...);

#endif
