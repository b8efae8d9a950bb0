/* cli/healthcheck.h: the healthcheck subcommand, a probe for container
 * images that ship no curl. */
#ifndef GW_CLI_HEALTHCHECK_H
#define GW_CLI_HEALTHCHECK_H

/* Runs "signin-gateway healthcheck [--path P] [--timeout-ms N] [settings]"
 * (argv[0] is "healthcheck"): GETs http://<listen.host>:<listen.port><P>
 * (default /healthz; a wildcard host is probed on loopback). Returns 0 on
 * a 200 answer, 1 otherwise, 2 on a usage or configuration error. */
int gw_healthcheck_main(int argc, char **argv);

#endif
