/* forward/sender.c: one upstream request (libcurl, kept alive) or one
 * append to the local NDJSON file. */
#include "forward/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/clock.h"
#include "common/version.h"
#include "forward/retry.h"

struct gw_sender {
    CURL *curl;
    struct curl_slist *headers;
    int fd; /* file output, or -1 */
    char *body;
    size_t body_cap;
    int64_t retry_after_ms;
    char answer[GW_SEND_ANSWER_MAX];
    size_t answer_len;
};

/* Keeps the start of the upstream's answer: a dead letter records why. */
static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
    struct gw_sender *s = ud;
    size_t len = size * n, room = sizeof(s->answer) - 1 - s->answer_len;

    if (len < room) {
        room = len;
    }
    memcpy(s->answer + s->answer_len, data, room);
    s->answer_len += room;
    s->answer[s->answer_len] = '\0';
    return len;
}

static size_t
on_header(char *line, size_t size, size_t n, void *ud)
{
    struct gw_sender *s = ud;
    size_t len = size * n;
    char value[128];

    if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
        size_t v = len - 12 < sizeof(value) - 1 ? len - 12 : sizeof(value) - 1;

        memcpy(value, line + 12, v);
        value[v] = '\0';
        value[strcspn(value, "\r\n")] = '\0';
        if (!gw_retry_after_parse(value, gw_clock_now_ms(),
                                  &s->retry_after_ms)) {
            s->retry_after_ms = -1;
        }
    }
    return len;
}

static bool
setup_curl(struct gw_sender *s, const struct gw_sender_config *cfg)
{
    char *auth = NULL;
    struct curl_slist *h;
    int n;

    s->curl = curl_easy_init();
    if (s->curl == NULL) {
        return false;
    }
    n = cfg->bearer ? asprintf(&auth, "Authorization: Bearer %s", cfg->api_key)
                    : asprintf(&auth, "x-api-key: %s", cfg->api_key);
    if (n < 0) {
        return false;
    }
    h = curl_slist_append(NULL, "Content-Type: application/json");
    s->headers = h;
    if (h != NULL && cfg->api_key[0] != '\0') {
        h = curl_slist_append(s->headers, auth);
    }
    if (h != NULL) {
        h = curl_slist_append(s->headers, "Expect:");
    }
    memset(auth, 0, (size_t)n);
    free(auth);
    if (h == NULL) {
        return false;
    }
    return curl_easy_setopt(s->curl, CURLOPT_URL, cfg->url) == CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers) ==
               CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, cfg->timeout_ms) ==
               CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_USERAGENT,
                            "signin-gateway/" GW_VERSION) == CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body) ==
               CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s) == CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header) ==
               CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s) == CURLE_OK &&
           curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&

           curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https") ==
               CURLE_OK;
}

struct gw_sender *
gw_sender_new(const struct gw_sender_config *cfg, char *err, size_t err_len)
{
    struct gw_sender *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->fd = -1;
    if (cfg->url == NULL || cfg->url[0] == '\0') {
        s->fd = open(cfg->file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                     0640);
        if (s->fd < 0) {
            snprintf(err, err_len, "output.file %s: %s", cfg->file_path,
                     strerror(errno));
            free(s);
            return NULL;
        }
        return s;
    }
    if (!setup_curl(s, cfg)) {
        snprintf(err, err_len, "cannot set up the upstream client");
        gw_sender_free(s);
        return NULL;
    }
    return s;
}

void
gw_sender_free(struct gw_sender *s)
{
    if (s == NULL) {
        return;
    }
    if (s->curl != NULL) {
        curl_easy_cleanup(s->curl);
    }
    curl_slist_free_all(s->headers);
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->body);
    free(s);
}

bool
gw_sender_is_file(const struct gw_sender *s)
{
    return s->fd >= 0;
}

/* Joins the events as "[e1,e2,...]" (or "e1\ne2\n" for the file) into the
 * sender's reused buffer. */
static bool
join(struct gw_sender *s, char *const *events, size_t n, bool lines,
     size_t *len)
{
    size_t need = 3, at = 0;

    for (size_t i = 0; i < n; i++) {
        need += strlen(events[i]) + 1;
    }
    if (need > s->body_cap) {
        char *grown = realloc(s->body, need);

        if (grown == NULL) {
            return false;
        }
        s->body = grown;
        s->body_cap = need;
    }
    if (!lines) {
        s->body[at++] = '[';
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(events[i]);

        if (!lines && i > 0) {
            s->body[at++] = ',';
        }
        memcpy(s->body + at, events[i], l);
        at += l;
        if (lines) {
            s->body[at++] = '\n';
        }
    }
    if (!lines) {
        s->body[at++] = ']';
    }
    s->body[at] = '\0';
    *len = at;
    return true;
}

static void
send_file(struct gw_sender *s, size_t len, struct gw_send_result *res)
{
    size_t done = 0;

    /* O_APPEND and one write per batch: lines of one batch stay whole. */
    while (done < len) {
        ssize_t w = write(s->fd, s->body + done, len - done);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            snprintf(res->detail, sizeof(res->detail), "%s", strerror(errno));
            return;
        }
        done += (size_t)w;
    }
    res->status = 200;
}

void
gw_sender_send(struct gw_sender *s, char *const *events, size_t n,
               struct gw_send_result *res)
{
    size_t len;
    CURLcode rc;

    res->status = 0;
    res->retry_after_ms = -1;
    res->detail[0] = '\0';
    res->answer[0] = '\0';
    if (!join(s, events, n, gw_sender_is_file(s), &len)) {
        snprintf(res->detail, sizeof(res->detail), "out of memory");
        return;
    }
    if (gw_sender_is_file(s)) {
        send_file(s, len, res);
        return;
    }
    s->retry_after_ms = -1;
    s->answer_len = 0;
    s->answer[0] = '\0';
    if (curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body) != CURLE_OK ||
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)len) != CURLE_OK) {
        snprintf(res->detail, sizeof(res->detail), "curl setup failed");
        return;
    }
    rc = curl_easy_perform(s->curl);
    if (rc != CURLE_OK) {
        snprintf(res->detail, sizeof(res->detail), "%s",
                 curl_easy_strerror(rc));
        return;
    }
    if (curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &res->status) !=
        CURLE_OK) {
        res->status = 0;
    }
    res->retry_after_ms = s->retry_after_ms;
    memcpy(res->answer, s->answer, s->answer_len + 1);
}
