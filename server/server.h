/* server/server.h: the HTTP server (libmicrohttpd), routing, body limits and
 * replies. Knows nothing of tokens, events or forwarding. */
#ifndef GW_SERVER_SERVER_H
#define GW_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct gw_request;
struct gw_server;

/* A route handler must call one gw_reply* function exactly once. */
typedef void (*gw_route_fn)(struct gw_request *req, void *ctx);

struct gw_route {
    const char *path;   /* exact match; a path ending in a slash and a star
                           takes one more path segment there */
    const char *allow;  /* methods, e.g. "POST" or "GET, HEAD" */
    gw_route_fn handle;
    void *ctx;
};

struct gw_server_config {
    const char *host;
    unsigned port;         /* 0: any free port */
    unsigned threads;      /* 0: one per CPU */
    size_t body_max_bytes;
    bool access_log;
    /* Exact origins ("https://app.example.com") allowed to call the route
     * at cors_path from a browser; borrowed, must outlive the server.
     * Other origins and routes get no CORS headers. */
    const char *cors_path;
    const char *const *cors_origins;
    size_t cors_origin_count;
    unsigned cors_max_age_s; /* how long a preflight answer is cached */
};

/* Starts listening; NULL with err filled on failure. The routes must
 * outlive the server. */
struct gw_server *gw_server_start(const struct gw_server_config *cfg,
                                  const struct gw_route *routes,
                                  size_t route_count, char *err,
                                  size_t err_len);

/* The port actually bound. */
unsigned gw_server_port(const struct gw_server *srv);

/* Stops accepting new connections; requests under way go on. */
void gw_server_quiesce(struct gw_server *srv);

/* Waits up to wait_ms for requests under way, closes everything, frees
 * the server. */
void gw_server_stop(struct gw_server *srv, int64_t wait_ms);

/* Parks the request: the handler returns without replying, and another
 * thread later calls a gw_reply_* function and then gw_request_resume.
 * Call only from the handler, before handing the request to that thread.
 * Returns false (nothing parked: reply at once) once the server stops. */
bool gw_request_suspend(struct gw_request *req)
    __attribute__((warn_unused_result));

/* Sends the reply set while suspended. The request must not be touched
 * after this call: it may already be complete and freed. */
void gw_request_resume(struct gw_request *req);

/* A request header (case-insensitive), borrowed; NULL when absent. */
const char *gw_request_header(struct gw_request *req, const char *name);

const char *gw_request_method(const struct gw_request *req);

/* The request path as sent (borrowed; no query string). */
const char *gw_request_path(const struct gw_request *req);

/* The whole body (NUL-terminated, borrowed) and its length. */
const char *gw_request_body(const struct gw_request *req, size_t *len);

/* The request id: the client's X-Request-Id when sane, else made here. */
const char *gw_request_id(const struct gw_request *req);

/* Names why the request was refused, for the access log and metrics;
 * reason must be a static string. */
void gw_request_set_reason(struct gw_request *req, const char *reason);

/* Adds a header to the reply about to be sent (value is copied). At most
 * four per request. */
void gw_reply_header(struct gw_request *req, const char *name,
                     const char *value);

/* Replies with a JSON document; takes the caller's reference to obj. */
void gw_reply_json(struct gw_request *req, unsigned status,
                   struct json_object *obj);

/* Replies with len bytes of body (copied) of the given media type. */
void gw_reply_text(struct gw_request *req, unsigned status, const char *type,
                   const char *body, size_t len);

/* Replies {"error": code, "message": message[, "field": field]}. */
void gw_reply_error(struct gw_request *req, unsigned status,
                    const char *code, const char *message, const char *field);

#endif
