/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd.h — the subcommands. Each lives in cli/cmd_NAME.c and follows one shape:
 * int ret = 1; ...work...; ret = 0; out: free everything; return ret. */
#ifndef PINHOLE_CMD_H
#define PINHOLE_CMD_H

#include <stdio.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the subcommand's name; --help
						 * prints its usage to stdout and returns 0 */
	const char *summary;
	void (*summary_tail)(FILE *out);	/* NULL, or prints more of the summary: what
						 * lives in another table (compile's backends) */
};

int cmd_compile(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_aggregate(int argc, char **argv);

/* pinhole diff OLD NEW; with --live among the arguments it hands over to cmd_diff_live. */
int cmd_diff(int argc, char **argv);
/* pinhole diff --live (cli/cmd_diff_live.c, the netlink side): same arguments as cmd_diff. */
int cmd_diff_live(int argc, char **argv);
int cmd_explain(int argc, char **argv);
/* The kernel-facing commands (cli/cmd_apply.c and friends, backends/nft_netlink*.c). */
int cmd_apply(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_match(int argc, char **argv);
/* pinhole guard (cli/cmd_guard.c, matcher/guard*.c): the DNS/TLS allowlist daemon. */
int cmd_guard(int argc, char **argv);
/* pinhole verify (cli/cmd_verify.c, verify/): the DNS records a policy declares, checked. */
int cmd_verify(int argc, char **argv);

#endif
