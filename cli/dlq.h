/* cli/dlq.h: the dlq subcommand: list and replay dead letters. */
#ifndef GW_CLI_DLQ_H
#define GW_CLI_DLQ_H

/* Runs "signin-gateway dlq list|replay ..." (argv[0] is "dlq"); returns
 * the process exit code. */
int gw_dlq_main(int argc, char **argv);

#endif
