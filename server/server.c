/* server/server.c: the HTTP server (libmicrohttpd), routing, body limits and
 * replies. Knows nothing of tokens, events or forwarding. */
#include "server/server.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "common/clock.h"
#include "common/log.h"
#include "metrics/metrics.h"

#define MAX_REPLY_HEADERS 4
#define REQUEST_ID_MAX 64
/* Past the limit a chunked body is drained this far so that the client
 * can read its 413; beyond it the connection is cut. */
#define DRAIN_EXTRA_BYTES ((size_t)1024 * 1024)

struct gw_server {
    struct MHD_Daemon *daemon;
    const struct gw_route *routes;
    size_t route_count;
    size_t body_max_bytes;
    bool access_log;
    const struct gw_route *cors_route; /* NULL: no CORS */
    const char *const *cors_origins;
    size_t cors_origin_count;
    char cors_max_age[16];
    unsigned port;
    char id_prefix[9];
    atomic_uint_fast64_t id_counter;
    atomic_int suspended; /* requests waiting for another thread */
    atomic_int in_flight; /* requests begun and not completed */
    atomic_bool stopping; /* quiesced: new requests get 503 */
    pthread_mutex_t park_lock;
    bool closing;         /* under park_lock: no more suspensions */
};

struct reply_header {
    const char *name;
    char value[128];
};

struct gw_request {
    struct gw_server *srv;
    struct MHD_Connection *conn;
    const struct gw_route *route;
    const char *method;
    const char *url;
    const char *path_label; /* route path, or "unknown": bounded labels */
    int64_t start_ms;
    char id[REQUEST_ID_MAX + 1];
    char *body;
    size_t body_len, body_cap, drained;
    bool too_large;
    bool replied;
    bool dispatched; /* the handler ran; a later call only answers */
    bool preflight;  /* a CORS preflight from an allowed origin */
    bool suspended;  /* the answer comes from another thread */
    unsigned status;
    struct MHD_Response *response;
    const char *reason;
    struct reply_header headers[MAX_REPLY_HEADERS];
    size_t header_count;
};

static const char *
status_label(unsigned status)
{
    static const struct {
        unsigned code;
        const char *text;
    } labels[] = {{200, "200"}, {202, "202"}, {204, "204"}, {400, "400"},
                  {401, "401"}, {404, "404"}, {405, "405"}, {413, "413"},
                  {415, "415"}, {422, "422"}, {500, "500"}, {503, "503"}};

    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (labels[i].code == status) {
            return labels[i].text;
        }
    }
    return "other";
}

const char *
gw_request_header(struct gw_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
gw_request_path(const struct gw_request *req)
{
    return req->url;
}

const char *
gw_request_method(const struct gw_request *req)
{
    return req->method;
}

const char *
gw_request_body(const struct gw_request *req, size_t *len)
{
    *len = req->body_len;
    return req->body != NULL ? req->body : "";
}

const char *
gw_request_id(const struct gw_request *req)
{
    return req->id;
}

void
gw_request_set_reason(struct gw_request *req, const char *reason)
{
    req->reason = reason;
}

bool
gw_request_suspend(struct gw_request *req)
{
    struct gw_server *srv = req->srv;

    /* Once the daemon is about to stop, nothing may be parked: libmicrohttpd
     * aborts the process when it stops with a suspended connection. */
    pthread_mutex_lock(&srv->park_lock);
    if (srv->closing) {
        pthread_mutex_unlock(&srv->park_lock);
        return false;
    }
    atomic_fetch_add(&srv->suspended, 1);
    pthread_mutex_unlock(&srv->park_lock);
    req->suspended = true;
    MHD_suspend_connection(req->conn);
    return true;
}

void
gw_request_resume(struct gw_request *req)
{
    struct gw_server *srv = req->srv;

    /* After this call MHD may run and free the request at any moment. */
    MHD_resume_connection(req->conn);
    atomic_fetch_sub(&srv->suspended, 1);
}

void
gw_reply_header(struct gw_request *req, const char *name, const char *value)
{
    struct reply_header *h;

    if (req->header_count == MAX_REPLY_HEADERS) {
        return;
    }
    h = &req->headers[req->header_count++];
    h->name = name;
    snprintf(h->value, sizeof(h->value), "%s", value);
}

/* The request's Origin when the route takes CORS and the origin is one of
 * the configured ones, compared exactly (no wildcard, no suffix match). */
static const char *
cors_origin(struct gw_request *req)
{
    const char *origin;

    if (req->route == NULL || req->route != req->srv->cors_route) {
        return NULL;
    }
    origin = gw_request_header(req, "Origin");
    for (size_t i = 0; origin != NULL && i < req->srv->cors_origin_count;
         i++) {
        if (strcmp(req->srv->cors_origins[i], origin) == 0) {
            return origin;
        }
    }
    return NULL;
}

/* Fetch standard, CORS protocol: the allowed origin is echoed, never "*";
 * no Allow-Credentials, as the token travels in Authorization. */
static bool
add_cors(struct gw_request *req, struct MHD_Response *r)
{
    const char *origin = cors_origin(req);

    if (req->route != NULL && req->route == req->srv->cors_route &&
        MHD_add_response_header(r, "Vary", "Origin") != MHD_YES) {
        return false;
    }
    if (origin == NULL) {
        return true;
    }
    if (MHD_add_response_header(r, "Access-Control-Allow-Origin", origin) !=
            MHD_YES ||
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "Retry-After, X-Request-Id") != MHD_YES) {
        return false;
    }
    if (!req->preflight) {
        return true;
    }
    return MHD_add_response_header(r, "Access-Control-Allow-Methods",
                                   req->route->allow) == MHD_YES &&
           MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                   "Authorization, Content-Type") ==
               MHD_YES &&
           MHD_add_response_header(r, "Access-Control-Max-Age",
                                   req->srv->cors_max_age) == MHD_YES;
}

static void
reply_raw(struct gw_request *req, unsigned status, const char *type,
          const char *body, size_t len)
{
    struct MHD_Response *r;

    if (req->replied) {
        return;
    }
    r = MHD_create_response_from_buffer(len, (void *)body,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return;
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) !=
            MHD_YES ||
        MHD_add_response_header(r, "X-Request-Id", req->id) != MHD_YES ||
        !add_cors(req, r)) {
        MHD_destroy_response(r);
        return;
    }
    for (size_t i = 0; i < req->header_count; i++) {
        if (MHD_add_response_header(r, req->headers[i].name,
                                    req->headers[i].value) != MHD_YES) {
            MHD_destroy_response(r);
            return;
        }
    }
    req->response = r;
    req->status = status;
    req->replied = true;
}

void
gw_reply_json(struct gw_request *req, unsigned status,
              struct json_object *obj)
{
    const char *text;
    size_t len;

    if (obj == NULL) {
        gw_reply_error(req, 500, "internal_error", "out of memory", NULL);
        return;
    }
    text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (text == NULL) {
        json_object_put(obj);
        gw_reply_error(req, 500, "internal_error", "out of memory", NULL);
        return;
    }
    reply_raw(req, status, "application/json", text, len);
    json_object_put(obj);
}

void
gw_reply_error(struct gw_request *req, unsigned status, const char *code,
               const char *message, const char *field)
{
    struct json_object *obj = json_object_new_object();
    const char *text;
    size_t len;
    static const char fallback[] = "{\"error\":\"internal_error\","
                                   "\"message\":\"out of memory\"}";

    if (obj != NULL) {
        json_object_object_add(obj, "error", json_object_new_string(code));
        json_object_object_add(obj, "message",
                               json_object_new_string(message));
        if (field != NULL) {
            json_object_object_add(obj, "field",
                                   json_object_new_string(field));
        }
        text = json_object_to_json_string_length(
            obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
            &len);
        if (text != NULL) {
            reply_raw(req, status, "application/json", text, len);
        }
        json_object_put(obj);
    }
    if (!req->replied) {
        reply_raw(req, 500, "application/json", fallback,
                  sizeof(fallback) - 1);
    }
    if (req->reason == NULL) {
        req->reason = code;
    }
}

void
gw_reply_text(struct gw_request *req, unsigned status, const char *type,
              const char *body, size_t len)
{
    reply_raw(req, status, type, body, len);
}

static bool
is_sane_id(const char *id)
{
    size_t n = 0;

    for (; id[n] != '\0'; n++) {
        unsigned char c = (unsigned char)id[n];

        if (n == REQUEST_ID_MAX ||
            !(isalnum(c) || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return n > 0;
}

static void
assign_id(struct gw_request *req)
{
    const char *given = gw_request_header(req, "X-Request-Id");
    uint64_t n;

    if (given != NULL && is_sane_id(given)) {
        snprintf(req->id, sizeof(req->id), "%s", given);
        return;
    }
    n = atomic_fetch_add(&req->srv->id_counter, 1);
    snprintf(req->id, sizeof(req->id), "%s%012llx", req->srv->id_prefix,
             (unsigned long long)n);
}

/* Exact paths, or one more path segment when the route ends in "/" "*". */
static const struct gw_route *
find_route(const struct gw_server *srv, const char *url)
{
    for (size_t i = 0; i < srv->route_count; i++) {
        const char *path = srv->routes[i].path;
        size_t len = strlen(path);

        if (len >= 2 && path[len - 1] == '*' && path[len - 2] == '/') {
            if (strncmp(path, url, len - 1) == 0 && url[len - 1] != '\0' &&
                strchr(url + len - 1, '/') == NULL) {
                return &srv->routes[i];
            }
        } else if (strcmp(path, url) == 0) {
            return &srv->routes[i];
        }
    }
    return NULL;
}

static bool
method_allowed(const char *allow, const char *method)
{
    size_t n = strlen(method);

    for (const char *p = allow; *p != '\0';) {
        size_t len = strcspn(p, ", ");

        if (len == n && strncmp(p, method, n) == 0) {
            return true;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return false;
}

static enum MHD_Result
send_reply(struct gw_request *req)
{
    enum MHD_Result rc;

    if (!req->replied) {
        gw_reply_error(req, 500, "internal_error", "no reply", NULL);
    }
    if (req->response == NULL) {
        return MHD_NO;
    }
    rc = MHD_queue_response(req->conn, req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    return rc;
}

/* Decisions that need no body: route, method, declared length. */
static bool
refuse_early(struct gw_request *req)
{
    const char *cl;
    char *end;
    unsigned long long declared;

    if (atomic_load(&req->srv->stopping)) {
        /* Keep-alive clients still send after quiesce: tell them to go. */
        gw_reply_header(req, "Retry-After", "1");
        gw_reply_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
        gw_reply_error(req, 503, "shutting_down",
                       "the gateway is shutting down; retry", NULL);
        return true;
    }
    if (req->route == NULL) {
        gw_reply_error(req, 404, "not_found", "no such endpoint", NULL);
        return true;
    }
    if (strcmp(req->method, "OPTIONS") == 0) {
        /* A preflight from an allowed origin gets the CORS answer; any
         * other OPTIONS, the plain one, which a browser treats as a
         * refusal. */
        req->preflight =
            cors_origin(req) != NULL &&
            gw_request_header(req, "Access-Control-Request-Method") != NULL;
        gw_reply_header(req, MHD_HTTP_HEADER_ALLOW, req->route->allow);
        gw_reply_json(req, 204, json_object_new_object());
        return true;
    }
    if (!method_allowed(req->route->allow, req->method)) {
        gw_reply_header(req, MHD_HTTP_HEADER_ALLOW, req->route->allow);
        gw_reply_error(req, 405, "method_not_allowed",
                       "method not allowed on this endpoint", NULL);
        return true;
    }
    cl = gw_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        declared = strtoull(cl, &end, 10);
        if (*end != '\0' || declared <= req->srv->body_max_bytes) {
            return false;
        }
        /* A body a little too large is read and dropped, so that the
         * client, still sending, gets to read its 413 rather than a reset;
         * a far larger one is refused at once. */
        req->too_large = true;
        if (declared > req->srv->body_max_bytes + DRAIN_EXTRA_BYTES) {
            gw_reply_error(req, 413, "body_too_large",
                           "the body is larger than limits.body_max_bytes",
                           NULL);
            return true;
        }
    }
    return false;
}

static bool
append_body(struct gw_request *req, const char *data, size_t len)
{
    size_t need = req->body_len + len + 1;

    if (req->body_len + len > req->srv->body_max_bytes) {
        req->too_large = true;
        return false;
    }
    if (need > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap * 2 : 4096;
        char *grown;

        while (cap < need) {
            cap *= 2;
        }
        grown = realloc(req->body, cap);
        if (grown == NULL) {
            return false;
        }
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return true;
}

static struct gw_request *
request_new(struct gw_server *srv, struct MHD_Connection *conn,
            const char *url, const char *method)
{
    struct gw_request *req = calloc(1, sizeof(*req));

    if (req == NULL) {
        return NULL;
    }
    req->srv = srv;
    req->conn = conn;
    req->method = method;
    req->url = url;
    req->start_ms = gw_clock_mono_ms();
    req->route = find_route(srv, url);
    req->path_label = req->route != NULL ? req->route->path : "unknown";
    assign_id(req);
    atomic_fetch_add(&srv->in_flight, 1);
    return req;
}

static enum MHD_Result
on_upload(struct gw_request *req, const char *data, size_t *size)
{
    if (!req->too_large && !append_body(req, data, *size) &&
        !req->too_large) {
        return MHD_NO; /* out of memory: drop the connection */
    }
    if (req->too_large) {
        req->drained += *size;
        if (req->drained > DRAIN_EXTRA_BYTES) {
            return MHD_NO;
        }
    }
    *size = 0;
    return MHD_YES;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    struct gw_server *srv = cls;
    struct gw_request *req = *con_cls;

    (void)version;
    if (req == NULL) {
        req = request_new(srv, conn, url, method);
        if (req == NULL) {
            return MHD_NO;
        }
        *con_cls = req;
        /* Refusing before the body is read spares reading it. */
        if (refuse_early(req)) {
            return send_reply(req);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        return on_upload(req, upload, upload_size);
    }
    if (req->dispatched) {
        return send_reply(req); /* resumed: the answer is ready */
    }
    req->dispatched = true;
    if (req->too_large) {
        gw_reply_error(req, 413, "body_too_large",
                       "the body is larger than limits.body_max_bytes", NULL);
    } else {
        req->route->handle(req, req->route->ctx);
        if (req->suspended) {
            return MHD_YES;
        }
    }
    return send_reply(req);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct gw_server *srv = cls;
    struct gw_request *req = *con_cls;
    const char *status;

    (void)conn;
    if (req == NULL) {
        return;
    }
    status = req->replied ? status_label(req->status) : "none";
    gw_metrics_inc2("signin_gateway_http_requests_total", "route",
                    req->path_label, "status", status);
    if (srv->access_log && gw_log_enabled(GW_LOG_INFO)) {
        gw_log(GW_LOG_INFO, "server", "access", GW_F_STR("req", req->id),
               GW_F_UNTRUSTED("method", req->method),
               GW_F_STR("route", req->path_label),
               GW_F_INT("status", req->replied ? req->status : 0),
               GW_F_INT("ms", gw_clock_mono_ms() - req->start_ms),
               GW_F_STR("reason", req->reason),
               GW_F_BOOL("completed", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK),
               GW_F_END);
    }
    if (req->response != NULL) {
        MHD_destroy_response(req->response);
    }
    free(req->body);
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[256];

    (void)cls;
    vsnprintf(text, sizeof(text), fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    /* Mostly malformed requests from clients: detail, not an alarm. */
    gw_log(GW_LOG_DEBUG, "server", "http_library", GW_F_STR("text", text),
           GW_F_END);
}

static bool
make_address(const char *host, unsigned port, struct sockaddr_storage *ss,
             socklen_t *len, bool *v6)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
        *v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        *v6 = true;
        return true;
    }
    return false;
}

struct gw_server *
gw_server_start(const struct gw_server_config *cfg,
                const struct gw_route *routes, size_t route_count, char *err,
                size_t err_len)
{
    struct gw_server *srv = calloc(1, sizeof(*srv));
    struct sockaddr_storage addr;
    socklen_t addr_len;
    const union MHD_DaemonInfo *info;
    unsigned threads = cfg->threads;
    unsigned char rnd[4];
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    bool v6;

    if (srv == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (!make_address(cfg->host, cfg->port, &addr, &addr_len, &v6)) {
        snprintf(err, err_len, "listen.host '%.64s' is not an IPv4 or IPv6 "
                 "address", cfg->host);
        free(srv);
        return NULL;
    }
    if (v6) {
        flags |= MHD_USE_IPv6;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        threads = n > 0 ? (unsigned)n : 1;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        memset(rnd, 0, sizeof(rnd));
    }
    snprintf(srv->id_prefix, sizeof(srv->id_prefix), "%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3]);
    pthread_mutex_init(&srv->park_lock, NULL);
    srv->routes = routes;
    srv->route_count = route_count;
    srv->body_max_bytes = cfg->body_max_bytes;
    srv->access_log = cfg->access_log;
    srv->cors_origins = cfg->cors_origins;
    srv->cors_origin_count = cfg->cors_origin_count;
    srv->cors_route = cfg->cors_path != NULL && cfg->cors_origin_count > 0
                          ? find_route(srv, cfg->cors_path)
                          : NULL;
    snprintf(srv->cors_max_age, sizeof(srv->cors_max_age), "%u",
             cfg->cors_max_age_s);
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_access, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        /* Slow clients are cut after 30 s idle. The per-connection pool
         * holds the headers (a 16 KiB token fits); the library wipes it
         * for every request, so it is kept at 32 KiB, not more. */
        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
        MHD_OPTION_CONNECTION_LIMIT, 8192u, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        1024u, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        snprintf(err, err_len, "cannot listen on %s:%u (in use, or no "
                 "permission)", cfg->host, cfg->port);
        free(srv);
        return NULL;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : cfg->port;
    return srv;
}

unsigned
gw_server_port(const struct gw_server *srv)
{
    return srv->port;
}

void
gw_server_quiesce(struct gw_server *srv)
{
    MHD_socket fd;

    atomic_store(&srv->stopping, true);
    fd = MHD_quiesce_daemon(srv->daemon);

    if (fd != MHD_INVALID_SOCKET) {
        close(fd);
    }
}

void
gw_server_stop(struct gw_server *srv, int64_t wait_ms)
{
    int64_t until = gw_clock_mono_ms() + wait_ms;
    struct timespec pause = {0, 10L * 1000000};

    if (srv == NULL) {
        return;
    }
    /* Requests under way are answered before the daemon goes. Parked ones
     * (waiting for the spool) must all be resumed first whatever the
     * wait: the spool's writer answers each of them. */
    while (atomic_load(&srv->in_flight) > 0 && gw_clock_mono_ms() < until) {
        nanosleep(&pause, NULL);
    }
    pthread_mutex_lock(&srv->park_lock);
    srv->closing = true;
    pthread_mutex_unlock(&srv->park_lock);
    while (atomic_load(&srv->suspended) > 0) {
        nanosleep(&pause, NULL);
    }
    MHD_stop_daemon(srv->daemon);
    pthread_mutex_destroy(&srv->park_lock);
    free(srv);
}
