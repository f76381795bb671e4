/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_explain.c — pinhole explain RULES TARGET: which rules and elements let TARGET through.
 * Exit status as grep(1): 0 allowed, 1 not allowed, 2 trouble. */
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "common.h"
#include "explain.h"
#include "explain_format.h"

static void explain_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole explain [--format text|json] [--local ADDRESS] [-D NAME=VALUE]... RULES TARGET\n"
		     "\n"
		     "Tells which rules of RULES allow TARGET, in which direction, and through which set\n"
		     "element (with its file:line); which rules would if the port or protocol fitted; and\n"
		     "sets that hold TARGET but no rule uses. TARGET is an address (192.0.2.1, 2001:db8::1),\n"
		     "an address with a port (192.0.2.1:25/tcp, [2001:db8::1]:443/tcp, 192.0.2.1:53 for\n"
		     "either protocol) or a name (ws1.marketo.com, ws1.marketo.com:443/tcp).\n"
		     "\n"
		     "A rule limited to some local hosts (allow out from @clients ...) allows only them:\n"
		     "--local asks for one, the client of an outbound connection or the server of an\n"
		     "inbound one.\n"
		     "\n"
		     "  -f, --format FORMAT    text (default) or json (schema in pinhole(8))\n"
		     "  -l, --local ADDRESS    the local end of the connection\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "  -h, --help             show this help\n"
		     "\n"
		     "Exit status: 0 allowed, 1 not allowed, 2 error.\n");
}

/* Returns 0 to go on, 1 after --help, -1 on a usage error (already reported). */
static int parse_args(int argc, char **argv, bool *json, const char **local, struct defines *defs)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "local", required_argument, NULL, 'l' },
		{ "define", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:l:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "text") || !strcmp(optarg, "json")) {
				*json = !strcmp(optarg, "json");
				break;
			}
			fprintf(stderr, "pinhole explain: unknown format '%s'; valid formats: text json\n", optarg);
			return -1;
		case 'l': *local = optarg; break;
		case 'D': if (cli_add_define(defs, optarg) < 0) return -1; break;
		case 'h': explain_usage(stdout); return 1;
		default: explain_usage(stderr); return -1;
		}
	}
	if (optind != argc - 2) {
		explain_usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	int ret = 2;
	bool json = false;
	struct defines defs = { 0 };
	struct explain_target target;
	const char *why, *local = NULL;
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct explanation *e = NULL;
	int parsed = d ? parse_args(argc, argv, &json, &local, &defs) : -1;
	if (parsed != 0) {
		ret = parsed > 0 ? 0 : 2;
		goto out;
	}
	const char *rules = argv[optind], *target_text = argv[optind + 1];
	if (explain_target_parse(target_text, &target, &why) < 0) {
		fprintf(stderr, "pinhole explain: '%s': %s\n", target_text, why);
		goto out;
	}
	if (local && explain_local_parse(local, &target, &why) < 0) {
		fprintf(stderr, "pinhole explain: --local '%s': %s\n", local, why);
		goto out;
	}
	if (!(p = cli_compile(rules, &defs, d)))
		goto out;
	if (!(e = policy_explain(p, &target, &why))) {
		fprintf(stderr, "pinhole explain: %s\n", why);
		goto out;
	}
	if (explanation_render(e, target_text, rules, json, stdout) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "pinhole explain: cannot write the answer\n");
		goto out;
	}
	ret = e->allowed ? 0 : 1;
out:
	if (d)
		cli_render(d);
	explanation_free(e);
	policy_free(p);
	diags_free(d);
	return ret;
}
