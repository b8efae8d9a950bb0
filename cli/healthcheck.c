/* cli/healthcheck.c: the healthcheck subcommand. The runtime image has no
 * curl, so the binary probes itself, with the address the daemon reads
 * from the same environment. */
#include "cli/healthcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config/config.h"

#define URL_MAX 320

static size_t
on_body(char *data, size_t size, size_t count, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * count; /* the status says enough */
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: signin-gateway healthcheck [--path /healthz] "
                 "[--timeout-ms 2000] [settings]\nGETs the path on the "
                 "gateway's own listen address; exit 0 on 200.\n");
}

static bool
make_url(const struct gw_config *cfg, const char *path, char *url)
{
    const char *host = cfg->listen_host;
    bool v6 = strchr(host, ':') != NULL;

    /* A wildcard address listens on loopback too; probe it there. */
    if (strcmp(host, "0.0.0.0") == 0) {
        host = "127.0.0.1";
    } else if (strcmp(host, "::") == 0) {
        host = "::1";
    }
    if (path[0] != '/' || cfg->listen_port == 0) {
        return false;
    }
    snprintf(url, URL_MAX, "http://%s%s%s:%ld%.200s", v6 ? "[" : "", host,
             v6 ? "]" : "", cfg->listen_port, path);
    return true;
}

static int
probe(const char *url, long timeout_ms)
{
    CURL *curl = curl_easy_init();
    CURLcode rc;
    long status = 0;

    if (curl == NULL) {
        fprintf(stderr, "healthcheck: libcurl initialisation failed\n");
        return 1;
    }
    if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) !=
            CURLE_OK) {
        curl_easy_cleanup(curl);
        fprintf(stderr, "healthcheck: libcurl refused an option\n");
        return 1;
    }
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    printf("healthcheck: %s answered %ld\n", url, status);
    return status == 200 ? 0 : 1;
}

int
gw_healthcheck_main(int argc, char **argv)
{
    const char *path = "/healthz";
    long timeout_ms = 2000;
    struct gw_config *cfg;
    char err[256], url[URL_MAX];
    int first = 1, rc;

    while (first < argc) {
        if (strcmp(argv[first], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (first + 1 >= argc) {
            break;
        }
        if (strcmp(argv[first], "--path") == 0) {
            path = argv[first + 1];
        } else if (strcmp(argv[first], "--timeout-ms") == 0) {
            timeout_ms = strtol(argv[first + 1], NULL, 10);
        } else {
            break;
        }
        first += 2;
    }
    cfg = gw_config_load(argc, argv, first, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "healthcheck: %s\n", err);
        return 2;
    }
    if (timeout_ms <= 0 || !make_url(cfg, path, url)) {
        fprintf(stderr, "healthcheck: needs a path starting with / and a "
                "listen.port other than 0\n");
        gw_config_free(cfg);
        return 2;
    }
    gw_config_free(cfg);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "healthcheck: libcurl initialisation failed\n");
        return 1;
    }
    rc = probe(url, timeout_ms);
    curl_global_cleanup();
    return rc;
}
