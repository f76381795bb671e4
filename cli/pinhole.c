/* pinhole.c — dispatch only: one table drives both the dispatch and `pinhole help`. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct command commands[] = {
	{ "compile", cmd_compile, "compile a rules file for a backend (nft, json)" },
	{ "check", cmd_check, "report errors and warnings in a rules file" },
	{ "fmt", cmd_fmt, "print a rules file in canonical form" },
	{ "aggregate", cmd_aggregate, "print the minimal CIDR cover of addresses and ranges" },
	{ "diff", cmd_diff, "show what a change to a rules file allows or stops allowing" },
	{ "match", cmd_match, "tell which names, ClientHellos and DNS answers a policy allows" },
	{ "explain", cmd_explain, "tell which rules and elements allow an address or name" },
	{ "apply", cmd_apply, "make the kernel's ruleset hold a policy, in one atomic transaction" },
	{ "confirm", cmd_confirm, "keep what 'apply --confirm' applied (stop the rollback)" },
	{ "show", cmd_show, "show what pinhole owns in the kernel now" },
	{ "remove", cmd_remove, "delete exactly what pinhole owns in the kernel" },
	{ "guard", cmd_guard, "keep name allowlists enforced: learn DNS answers, check TLS server names" },
	{ "verify", cmd_verify, "check in DNS the records a policy declares (CNAME, SPF, DKIM, MX)" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: pinhole COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'pinhole COMMAND --help' describes a command. See pinhole(8) and pinhole.rules(5).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("pinhole %s\n", PINHOLE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "pinhole: unknown command '%s'; valid commands:", name);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, "\nTry 'pinhole help'.\n");
	return 1;
}
