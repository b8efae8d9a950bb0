/* cli/verify_webhook.c: verify --webhook, a captured delivery run through
 * the endpoint's own checks (handlers/webhook.c) without HTTP, each step
 * told. Secrets are never printed; signatures only as fingerprints. */
#include "cli/verify_webhook.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/fileutil.h"
#include "handlers/webhook.h"

/* As much as a captured body can hold; the endpoint's own limit,
 * limits.body_max_bytes, is not judged here. */
#define BODY_MAX_BYTES ((size_t)64 << 20)
#define HEADERS_MAX_BYTES ((size_t)64 << 10)
#define HEADERS_MAX 64

/* A .headers file: "Name: value" per line; text owns every string. */
struct headers {
    char *text;
    const char *names[HEADERS_MAX];
    const char *values[HEADERS_MAX];
    size_t count;
};

static char *
trim(char *s)
{
    size_t n;

    s += strspn(s, " \t");
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

/* Fills h from path; prints why not to err and returns false. */
static bool
read_headers(const char *path, struct headers *h, FILE *err)
{
    char *line, *next, *colon;
    size_t len, number = 0;
    int e;

    memset(h, 0, sizeof(*h));
    e = gw_file_read(path, HEADERS_MAX_BYTES, &h->text, &len);
    if (e != 0) {
        fprintf(err, "verify: %s: %s\n", path, strerror(e));
        return false;
    }
    for (line = h->text; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        number++;
        line = trim(line);
        if (line[0] == '\0') {
            continue;
        }
        colon = strchr(line, ':');
        if (colon == NULL || colon == line || h->count == HEADERS_MAX) {
            fprintf(err, "verify: %s:%zu: %s\n", path, number,
                    colon == NULL || colon == line
                        ? "not a \"Name: value\" line"
                        : "too many headers");
            return false;
        }
        *colon = '\0';
        h->names[h->count] = trim(line);
        h->values[h->count++] = trim(colon + 1);
    }
    return true;
}

static const char *
on_header(void *ctx, const char *name)
{
    const struct headers *h = ctx;

    for (size_t i = 0; i < h->count; i++) {
        if (strcasecmp(h->names[i], name) == 0) {
            return h->values[i];
        }
    }
    return NULL;
}

/* Lines hold cut untrusted text: control bytes are shown as '?'. */
static void
on_step(void *ctx, const char *line)
{
    FILE *out = ctx;

    for (const char *p = line; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
    }
    fputc('\n', out);
}

static int
print_verdict(FILE *out, const struct gw_webhook_verdict *v)
{
    if (v->status == 200) {
        fprintf(out,
                "result: accepted (200): %zu event(s), %zu ignored; "
                "duplicates are not looked up\n",
                v->event_count, v->ignored);
        return 0;
    }
    fprintf(out, "reason: %s\nresult: refused: %s (%u)\n", v->message, v->code,
            v->status);
    return 1;
}

int
gw_verify_webhook_run(const struct gw_verify_opts *opts,
                      const struct gw_handler_env *env, FILE *out, FILE *err)
{
    struct gw_webhook_verdict verdict = {0};
    struct gw_webhook_probe probe = {
        .provider = opts->webhook,
        .header_fn = on_header,
        .step_fn = on_step,
        .step_ctx = out,
    };
    struct headers h;
    char *body = NULL;
    size_t body_len = 0;
    int e, rc = 2;

    if (!read_headers(opts->headers_file, &h, err)) {
        goto out;
    }
    e = gw_file_read(opts->body_file, BODY_MAX_BYTES, &body, &body_len);
    if (e != 0) {
        fprintf(err, "verify: %s: %s\n", opts->body_file, strerror(e));
        goto out;
    }
    probe.body = body;
    probe.body_len = body_len;
    probe.header_ctx = &h;
    probe.now_ms = gw_clock_now_ms();

    fprintf(out,
            "webhook: POST /v1/webhooks/%.64s, body %zu bytes, %zu "
            "header(s)\n",
            opts->webhook, body_len, h.count);
    if (!gw_webhook_explain(env, &probe, &verdict)) {
        fprintf(err, "verify: out of memory\n");
        goto out;
    }
    rc = print_verdict(out, &verdict);

out:
    gw_webhook_verdict_clear(&verdict);
    free(body);
    free(h.text);
    return rc;
}
