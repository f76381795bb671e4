/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_apply.c — pinhole apply: the arguments, and the words for what apply/ did
 * (apply_policy: the policy into the kernel as one atomic netlink batch that carries only
 * the difference; --dry-run has the kernel validate it; --confirm keeps a snapshot and
 * restores it unless `pinhole confirm` comes in time). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "apply_json.h"
#include "cmd.h"
#include "cmd_apply.h"

struct apply_args {
	bool dry_run, use_cache, quiet, json;
	long confirm;			/* seconds; 0: no commit-confirmed */
	struct defines defs;
	const char *rules;
};

static void apply_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole apply [--dry-run] [--confirm SECONDS] [-D NAME=VALUE]... [--no-cache]\n"
		     "                     [--format text|json] RULES\n"
		     "\n"
		     "Makes the kernel's nftables ruleset hold what RULES wants, in one atomic transaction\n"
		     "that carries only the difference. Table mode (default): pinhole owns table inet TABLE\n"
		     "(option table); sets-only mode (option mode sets-only): pinhole fills its sets in a\n"
		     "table you made. Nothing else in the ruleset is read for changing or touched.\n"
		     "\n"
		     "  -n, --dry-run          print the plan and have the kernel check the batch without\n"
		     "                         committing it (exit 0 no changes, 1 changes, 2 error)\n"
		     "      --confirm SECONDS  restore the previous state after SECONDS unless\n"
		     "                         'pinhole confirm' is run in time\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of the rules file\n"
		     "      --no-cache         read the elements from the kernel even when the last-applied\n"
		     "                         state says nobody changed them\n"
		     "  -q, --quiet            print only errors (and --confirm's reminder)\n"
		     "  -f, --format FORMAT    text (default) or json: one document with the plan, the\n"
		     "                         counts and the kernel's answer, for programs\n"
		     "  -h, --help             show this help\n"
		     "\n"
		     "State: $PINHOLE_STATE_DIR (default /var/lib/pinhole); pending confirmations:\n"
		     "$PINHOLE_RUN_DIR (default /run/pinhole). See pinhole(8), APPLY.\n");
}

static int parse_args(int argc, char **argv, struct apply_args *a)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },	{ "confirm", required_argument, NULL, 'C' },
		{ "define", required_argument, NULL, 'D' }, { "no-cache", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },	{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	{ 0 },
	};
	int c;
	char *end;
	optind = 0;
	while ((c = getopt_long(argc, argv, "nD:qf:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': a->dry_run = true; break;
		case 'C':
			a->confirm = strtol(optarg, &end, 10);
			if (*end || a->confirm < 1 || a->confirm > 86400) {
				fprintf(stderr, "pinhole apply: --confirm wants seconds from 1 to 86400, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'N': a->use_cache = false; break;
		case 'q': a->quiet = true; break;
		case 'f':
			if (cli_format_json("apply", optarg, &a->json) < 0)
				return -1;
			break;
		case 'h': apply_usage(stdout); return 1;
		default: apply_usage(stderr); return -1;
		}
	}
	if (optind != argc - 1 || (a->dry_run && a->confirm)) {
		apply_usage(stderr);
		return -1;
	}
	a->rules = argv[optind];
	return 0;
}

/* The options of a: what to apply and how, reported as it happens through rep. */
static struct apply_options options(const struct apply_args *a, struct report *rep)
{
	struct apply_options o;
	cli_apply_options(&o);
	o.rules = a->rules;
	o.defines = a->defs.v;
	o.n_defines = a->defs.n;
	o.dry_run = a->dry_run;
	o.use_cache = a->use_cache;
	o.confirm = a->confirm;
	o.report = report_event;
	o.report_ctx = rep;
	return o;
}

/* Applies p; with --confirm, starts the waiter too. */
static enum apply_status run(struct apply_options *o, const struct policy *p, struct apply_result *r)
{
	o->policy = p;
	apply_result_free(r);
	if (apply_policy(o, r) != APPLY_ERROR && o->confirm)
		confirm_start_waiter(o, r);
	return r->status;
}

/* --format json: the document of what r says (the shortcut's mode read from the kernel,
 * since the shortcut compiles nothing). */
static int print_json(const struct apply_options *o, const struct apply_result *r, bool dry_run,
		      const struct diags *d)
{
	struct apply_record rec;
	apply_record_init(&rec);
	apply_record_from(&rec, r, o->session);
	int ret = apply_record_print(&rec, dry_run, d, stdout);
	apply_record_free(&rec);
	return ret;
}

int cmd_apply(int argc, char **argv)
{
	struct apply_args a = { .use_cache = true };
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct report rep = { .cmd = "apply", .d = d };
	struct apply_result r = { 0 };
	int parsed = d ? parse_args(argc, argv, &a) : -1;
	int ret = parsed > 0 ? 0 : 1, error_status = 1;
	struct apply_options o = options(&a, &rep);
	rep.quiet = a.quiet || a.json;
	rep.json = a.json;	/* stdout is the document's */
	if (parsed != 0)
		goto out;
	ret = error_status = a.dry_run ? 2 : 1;
	/* before anything is read from it (the cache decides what apply believes) */
	if (cli_state_check("apply", &o, !a.dry_run) < 0)
		goto out;
	if ((o.session = nl_session_open()) && apply_unchanged(&o, &r)) {
		ret = 0;
		goto out;
	}
	if (!(p = cli_compile(a.rules, &a.defs, d)) || cli_require_params(p, "apply") < 0 ||
	    (!o.session && !(o.session = cli_session_open("apply"))))
		goto out;
	enum apply_status out = run(&o, p, &r);
	if (a.dry_run)
		ret = out == APPLY_ERROR ? 2 : out == APPLY_CHANGED ? 1 : 0;
	else
		ret = out == APPLY_ERROR ? 1 : 0;
out:
	if (d)
		cli_render(d);
	if (r.diags)
		cli_render(r.diags);
	if (r.rejected)
		fprintf(stderr, "pinhole apply: %s: the kernel takes a batch whole or not at all\n",
			a.dry_run ? "the kernel rejects this batch" : "nothing was applied");
	if (parsed == 0 && a.json && print_json(&o, &r, a.dry_run, d) < 0) {
		fprintf(stderr, "pinhole apply: cannot write the JSON document: %s\n", strerror(errno));
		ret = error_status;
	}
	apply_result_free(&r);
	nl_session_close(o.session);
	policy_free(p);
	diags_free(d);
	return ret;
}
