/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pinhole.c — dispatch only: one table drives the dispatch, `pinhole help` and
 * `pinhole help COMMAND` (the command's own --help). */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "cmd.h"

/* " (nft, json, ...)": the backend table's names, so a new backend shows up here too. */
static void backend_names(FILE *out)
{
	for (size_t i = 0; backend_at(i); i++)
		fprintf(out, "%s%s", i ? ", " : " (", backend_at(i)->name);
	fprintf(out, ")");
}

static const struct command commands[] = {
	{ "compile", cmd_compile, "compile a rules file for a backend", backend_names },
	{ "check", cmd_check, "report errors and warnings in a rules file", NULL },
	{ "fmt", cmd_fmt, "print a rules file in canonical form", NULL },
	{ "aggregate", cmd_aggregate, "print the minimal CIDR cover of addresses and ranges", NULL },
	{ "diff", cmd_diff, "show what a change to a rules file allows or stops allowing", NULL },
	{ "match", cmd_match, "tell which names, ClientHellos and DNS answers a policy allows", NULL },
	{ "explain", cmd_explain, "tell which rules and elements allow an address or name", NULL },
	{ "apply", cmd_apply, "make the kernel's ruleset hold a policy, in one atomic transaction", NULL },
	{ "confirm", cmd_confirm, "keep what 'apply --confirm' applied (stop the rollback)", NULL },
	{ "show", cmd_show, "show what pinhole owns in the kernel now", NULL },
	{ "remove", cmd_remove, "delete exactly what pinhole owns in the kernel", NULL },
	{ "guard", cmd_guard, "keep name allowlists enforced: learn DNS answers, check TLS server names", NULL },
	{ "verify", cmd_verify, "check in DNS the records a policy declares (CNAME, SPF, DKIM, MX)", NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: pinhole COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "  %-10s %s", commands[i].name, commands[i].summary);
		if (commands[i].summary_tail)
			commands[i].summary_tail(out);
		fprintf(out, "\n");
	}
	fprintf(out, "\n'pinhole help COMMAND' or 'pinhole COMMAND --help' describes a command.\n"
		     "See pinhole(8) and pinhole.rules(5).\n");
}

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	fprintf(stderr, "pinhole: unknown command '%s'; valid commands:", name);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, "\nTry 'pinhole help'.\n");
	return NULL;
}

/* pinhole help [COMMAND]: the list of commands, or COMMAND --help. */
static int help(int argc, char **argv)
{
	if (argc < 3 || !strcmp(argv[2], "help")) {
		usage(stdout);
		return 0;
	}
	if (argc > 3) {
		fprintf(stderr, "Usage: pinhole help [COMMAND]\n");
		return 1;
	}
	const struct command *c = command_find(argv[2]);
	char *args[] = { argv[2], "--help", NULL };
	return c ? c->run(2, args) : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help"))
		return help(argc, argv);
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("pinhole %s\n", PINHOLE_VERSION);
		return 0;
	}
	const struct command *c = command_find(name);
	return c ? c->run(argc - 1, argv + 1) : 1;
}
