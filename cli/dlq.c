/* cli/dlq.c: the dlq subcommand. Events the upstream refused for good wait
 * in the spool's dead-letter table until a person lists and replays them
 * (the gateway may keep running meanwhile). */
#include "cli/dlq.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "forward/spool.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: signin-gateway dlq list [settings]\n"
            "       signin-gateway dlq replay [--id EVENT_ID] [settings]\n"
            "list prints one dead letter a line: id, upstream status, time "
            "(ms since 1970),\nanswer, event. replay moves them (or the one with "
            "--id) back to the queue. The spool\nis found as the gateway "
            "finds it: --spool-path, --data-dir, GW_* or --config.\n");
}

int
gw_dlq_main(int argc, char **argv)
{
    struct gw_config *cfg;
    const char *id = NULL;
    char err[256] = "";
    int first = 2;
    long n;

    if (argc < 2 || (strcmp(argv[1], "list") != 0 &&
                     strcmp(argv[1], "replay") != 0)) {
        usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (argc > 3 && strcmp(argv[2], "--id") == 0) {
        id = argv[3];
        first = 4;
    }
    cfg = gw_config_load(argc, argv, first, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "dlq: %s\n", err);
        return 2;
    }
    if (strcmp(argv[1], "list") == 0) {
        n = gw_spool_dead_list(cfg->spool_path, stdout, err, sizeof(err));
        if (n >= 0) {
            fprintf(stderr, "dlq: %ld dead letter(s)\n", n);
        }
    } else {
        n = gw_spool_dead_replay(cfg->spool_path, id, err, sizeof(err));
        if (n >= 0) {
            fprintf(stderr, "dlq: %ld event(s) back in the queue\n", n);
        }
    }
    gw_config_free(cfg);
    if (n < 0) {
        fprintf(stderr, "dlq: %s\n", err);
        return 1;
    }
    /* A named event that is not there is a mistake worth an exit code. */
    return id != NULL && n == 0 ? 1 : 0;
}
