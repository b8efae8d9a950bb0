/* common/log.c: one JSON object per line on stderr; callers never build JSON. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define UNTRUSTED_MAX_BYTES 64

static atomic_int log_level = GW_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
};

void
gw_log_set_level(enum gw_log_level level)
{
    atomic_store(&log_level, (int)level);
}

bool
gw_log_level_parse(const char *name, enum gw_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
         i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum gw_log_level)i;
            return true;
        }
    }
    return false;
}

bool
gw_log_enabled(enum gw_log_level level)
{
    return (int)level <= atomic_load(&log_level);
}

static void
put_raw(struct line *l, const char *s, size_t n)
{
    /* Keep room for the closing "}\n". */
    if (l->len + n + 2 >= sizeof(l->buf)) {
        n = sizeof(l->buf) - l->len - 3;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void
put_escaped(struct line *l, const char *s, size_t max)
{
    char esc[8];
    size_t n = strlen(s);

    if (n > max) {
        n = max;
    }
    put_raw(l, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put_raw(l, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put_raw(l, esc, 6);
        } else {
            put_raw(l, (const char *)&c, 1);
        }
    }
    put_raw(l, "\"", 1);
}

static void
put_key(struct line *l, const char *key)
{
    put_raw(l, ",", 1);
    put_escaped(l, key, UNTRUSTED_MAX_BYTES);
    put_raw(l, ":", 1);
}

static void
put_field(struct line *l, const struct gw_log_field *f)
{
    char num[32];
    char masked[UNTRUSTED_MAX_BYTES + 4];
    const char *at;

    if (f->type != GW_LOG_F_INT && f->type != GW_LOG_F_BOOL &&
        f->str == NULL) {
        return;
    }
    put_key(l, f->key);
    switch (f->type) {
    case GW_LOG_F_STR:
        put_escaped(l, f->str, LINE_MAX_BYTES);
        break;
    case GW_LOG_F_UNTRUSTED:
        put_escaped(l, f->str, UNTRUSTED_MAX_BYTES);
        break;
    case GW_LOG_F_EMAIL:
        /* Only the domain is kept: a full address identifies a person. */
        at = strrchr(f->str, '@');
        snprintf(masked, sizeof(masked), "***%s", at != NULL ? at : "");
        put_escaped(l, masked, UNTRUSTED_MAX_BYTES);
        break;
    case GW_LOG_F_INT:
        snprintf(num, sizeof(num), "%lld", f->num);
        put_raw(l, num, strlen(num));
        break;
    case GW_LOG_F_BOOL:
        put_raw(l, f->num ? "true" : "false", f->num ? 4 : 5);
        break;
    case GW_LOG_F_END:
        break;
    }
}

static void
put_time(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char buf[40];
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof(buf), "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%03ldZ\"",
                          ts.tv_nsec / 1000000);
    put_raw(l, buf, n);
}

void
gw_log(enum gw_log_level level, const char *mod, const char *event, ...)
{
    struct line l;
    struct gw_log_field f;
    va_list ap;
    ssize_t w;

    if (!gw_log_enabled(level)) {
        return;
    }
    l.len = 0;
    put_time(&l);
    put_key(&l, "level");
    put_escaped(&l, level_names[level], 16);
    put_key(&l, "mod");
    put_escaped(&l, mod, 64);
    put_key(&l, "event");
    put_escaped(&l, event, 64);

    va_start(ap, event);
    for (;;) {
        f = va_arg(ap, struct gw_log_field);
        if (f.type == GW_LOG_F_END) {
            break;
        }
        put_field(&l, &f);
    }
    va_end(ap);

    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';
    w = write(STDERR_FILENO, l.buf, l.len);
    (void)w; /* nowhere left to report a failed log write */
}
