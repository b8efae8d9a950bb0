/* forward/sender.h: one upstream request (libcurl, kept alive) or one
 * append to the local NDJSON file. */
#ifndef GW_FORWARD_SENDER_H
#define GW_FORWARD_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_sender_config {
    const char *url;          /* NULL or "": write to file_path instead */
    const char *api_key;      /* may be "" */
    bool bearer;              /* Authorization: Bearer instead of x-api-key */
    long timeout_ms;
    const char *file_path;
};

#define GW_SEND_ANSWER_MAX 512

struct gw_send_result {
    long status;           /* HTTP status; 0 = no answer */
    int64_t retry_after_ms; /* -1 when the upstream gave none */
    char detail[128];      /* transport error or file error, for logs */
    char answer[GW_SEND_ANSWER_MAX]; /* start of the upstream's answer */
};

struct gw_sender;

/* NULL with err filled when the sender cannot be set up. */
struct gw_sender *gw_sender_new(const struct gw_sender_config *cfg,
                                char *err, size_t err_len);

void gw_sender_free(struct gw_sender *s);

/* Delivers events (each one serialized JSON object): upstream as one JSON
 * array, or to the file as one line each. File writes report 200 or 0. */
void gw_sender_send(struct gw_sender *s, char *const *events, size_t n,
                    struct gw_send_result *res);

/* True when events go to the local file rather than an upstream. */
bool gw_sender_is_file(const struct gw_sender *s);

#endif
