/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_check.c — pinhole check: every error and warning of a rules file, nothing else. */
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "common.h"

static void check_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole check [-W OPTION]... [-D NAME=VALUE]... RULES\n"
		     "\n"
		     "Reports every error and warning in RULES. Exit status 0 when there is no error\n"
		     "(with -W error: no warning either), 1 otherwise.\n"
		     "\n"
		     "  -W error               treat warnings as errors (error=NAME: only warning NAME;\n"
		     "                         no-NAME: do not report NAME; names: pinhole.rules(5))\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "  -h, --help             show this help\n");
}

static void summary(const char *path, const struct policy *p, size_t warnings)
{
	size_t names = 0, prefixes = 0;
	for (size_t i = 0; i < p->n_sets; i++) {
		names += p->sets[i].n_names + p->sets[i].n_regexes;
		prefixes += p->sets[i].n_v4 + p->sets[i].n_v6;
	}
	printf("%s: ok: %zu sets (%zu prefixes, %zu names), %zu rules, %zu warning%s\n", path, p->n_sets, prefixes,
	       names, p->n_rules, warnings, warnings == 1 ? "" : "s");
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "define", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ret = 1, c;
	struct defines defs = { 0 };
	struct diags *d = diags_new();
	struct policy *p = NULL;
	optind = 0;
	while (d && (c = getopt_long(argc, argv, "W:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'W': if (cli_warning_option(d, optarg) < 0) goto out; break;
		case 'D': if (cli_add_define(&defs, optarg) < 0) goto out; break;
		case 'h': check_usage(stdout); ret = 0; goto out;
		default: check_usage(stderr); goto out;
		}
	}
	if (!d || optind != argc - 1) {
		check_usage(stderr);
		goto out;
	}
	p = cli_compile(argv[optind], &defs, d);
	size_t warnings = diags_warnings(d);
	if (!p || diags_errors(d))
		goto out;
	cli_render(d);	/* warnings before the verdict */
	diags_free(d);
	d = NULL;
	summary(argv[optind], p, warnings);
	ret = 0;
out:
	if (d)
		cli_render(d);
	policy_free(p);
	diags_free(d);
	return ret;
}
