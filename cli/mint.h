/* cli/mint.h: the mint-token subcommand, tokens for trying the gateway. */
#ifndef GW_CLI_MINT_H
#define GW_CLI_MINT_H

/* Runs "signin-gateway mint-token ..." (argv[0] is "mint-token"); returns
 * the process exit code. */
int gw_mint_main(int argc, char **argv);

#endif
