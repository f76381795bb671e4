/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_diff_live.c — pinhole diff --live RULES: what `pinhole apply RULES` would change, in
 * the review diff's words and formats, with the kernel's ruleset as the old side. Exit
 * status as diff(1): 0 no change, 1 changes, 2 error. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"
#include "diff.h"
#include "diff_format.h"

struct live_args {
	enum diff_format format;
	size_t markdown_max;
	bool exit_zero, use_cache;
	struct defines defs;
	const char *rules;
};

static void live_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole diff --live [--format text|markdown|json] [--max-size N] [--exit-zero]\n"
		     "                    [--no-cache] [-D NAME=VALUE]... RULES\n"
		     "\n"
		     "Shows what 'pinhole apply RULES' would change in the kernel, as 'pinhole diff' shows a\n"
		     "change between two rules files, with the kernel's ruleset (what pinhole owns in it) as\n"
		     "the old side. Sources of the kernel's prefixes come from the rules pinhole applied\n"
		     "last (the kernel holds no file:line); prefixes it did not apply show as unknown. The\n"
		     "kernel holds no names: a set's names count as there when its learnt sets are.\n"
		     "--format and --max-size as for 'pinhole diff' (see pinhole diff --help).\n"
		     "\n"
		     "Exit status: 0 no changes, 1 changes, 2 error.\n");
}

static int parse_args(int argc, char **argv, struct live_args *a)
{
	static const struct option longopts[] = {
		{ "live", no_argument, NULL, 'L' },	     { "format", required_argument, NULL, 'f' },
		{ "exit-zero", no_argument, NULL, 'z' },   { "define", required_argument, NULL, 'D' },
		{ "no-cache", no_argument, NULL, 'N' },    { "help", no_argument, NULL, 'h' },
		{ "max-size", required_argument, NULL, 'M' }, { 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'L': break;
		case 'f':
			if (diff_format_parse(optarg, &a->format) == 0)
				break;
			fprintf(stderr, "pinhole diff: unknown format '%s'; valid formats: text markdown json\n", optarg);
			return -1;
		case 'z': a->exit_zero = true; break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'N': a->use_cache = false; break;
		case 'M': if (cli_parse_max_size("diff", optarg, &a->markdown_max) < 0) return -1; break;
		case 'h': live_usage(stdout); return 1;
		default: live_usage(stderr); return -1;
		}
	}
	if (optind != argc - 1) {
		live_usage(stderr);
		return -1;
	}
	a->rules = argv[optind];
	return 0;
}

static bool color_for(enum diff_format format)
{
	const char *no_color = getenv("NO_COLOR");
	return format == DIFF_TEXT && isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

/* The diff of the kernel against p. In sets-only mode pinhole applies no rules, so the
 * policy's rules are left out of the comparison. */
static struct policy_diff *live_diff(struct nl_session *s, const struct policy *p, struct nl_plan *plan,
				     struct policy **live)
{
	size_t unknown = 0;
	struct policy want = *p;	/* a view: shares p's arena, never freed */
	if (p->mode == POLICY_MODE_SETS_ONLY)
		want.n_rules = 0;
	struct apply_options ao;
	cli_apply_options(&ao);
	apply_attribute(&ao, &plan->live);
	*live = nl_ruleset_policy(s, &plan->live, p, &unknown);
	if (!*live)
		return NULL;
	if (unknown)
		fprintf(stderr, "pinhole diff: note: %zu rules in table inet %s are not of a shape pinhole writes; "
				"apply would replace them\n", unknown, p->table);
	return policy_diff_compute(*live, &want);
}

/* JSON: the diff's document with "changed" made the verdict apply --dry-run would give. */
static int render_json_with(const struct policy_diff *diff, size_t kernel_changes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int ret = -1;
	struct diff_style plain = { false, 0 };
	if (mem && diff_render(diff, DIFF_JSON, &plain, mem) == 0 && fclose(mem) == 0) {
		mem = NULL;
		json_t *doc = json_loadb(text, len, 0, NULL);
		if (doc && json_object_set_new(doc, "changed", json_true()) == 0 &&
		    json_object_set_new(doc, "kernel_changes", json_integer((json_int_t)kernel_changes)) == 0)
			ret = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && putchar('\n') != EOF ? 0 : -1;
		json_decref(doc);
	}
	if (mem)
		fclose(mem);
	free(text);
	return ret;
}

/* The kernel can differ where a packet sees no difference (a learnt set to make, a rule
 * pinhole did not write): the review diff then says "no changes" while apply would change
 * something. The printed verdict says so too, in every format, so that it and the exit
 * status (and apply --dry-run) agree. */
static int render(const struct policy_diff *diff, const struct live_args *a, size_t kernel_changes)
{
	struct diff_style style = { color_for(a->format), a->markdown_max };
	if (!kernel_changes || !policy_diff_empty(diff))
		return diff_render(diff, a->format, &style, stdout);
	if (a->format == DIFF_JSON)
		return render_json_with(diff, kernel_changes);
	if (diff_render(diff, a->format, &style, stdout) < 0)
		return -1;
	return printf("%sbut apply would still make %zu changes to kernel objects that packets do not see "
		      "(pinhole apply --dry-run lists them)\n", a->format == DIFF_MARKDOWN ? "\n" : "",
		      kernel_changes) < 0 ? -1 : 0;
}

int cmd_diff_live(int argc, char **argv)
{
	struct live_args a = { .format = DIFF_TEXT, .markdown_max = DIFF_MARKDOWN_MAX_DEFAULT, .use_cache = true };
	struct diags *d = diags_new();
	struct policy *p = NULL, *live = NULL;
	struct policy_diff *diff = NULL;
	struct nl_session *s = NULL;
	struct nk_ruleset want = { 0 };
	struct nl_plan plan = { 0 };
	int ret = 2, parsed = d ? parse_args(argc, argv, &a) : -1;
	if (parsed != 0) {
		ret = parsed > 0 ? 0 : 2;
		goto out;
	}
	struct apply_options ao;
	char gens[4096];
	cli_apply_options(&ao);
	if (!(p = cli_compile(a.rules, &a.defs, d)) || cli_state_check("diff", &ao, false) < 0 ||
	    !(s = cli_session_open("diff")))
		goto out;
	struct nl_plan_opts po = apply_plan_opts(&ao, a.use_cache, gens, sizeof(gens));
	if (nk_ruleset_from_policy(p, &want) < 0 || nl_plan_make_opts(s, &want, &po, &plan) < 0) {
		report_plan_error("diff", p->table, errno);
		goto out;
	}
	if (report_plan_refused("diff", &plan))
		goto out;
	if (!(diff = live_diff(s, p, &plan, &live)) || policy_diff_label(diff, "kernel", a.rules) < 0) {
		fprintf(stderr, "pinhole diff: %s\n", strerror(errno ? errno : ENOMEM));
		goto out;
	}
	if (render(diff, &a, plan.delta.n_changes) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "pinhole diff: cannot write the diff: %s\n", strerror(errno));
		goto out;
	}
	/* the verdict render printed: the policy's changes, or the kernel's (see render) */
	ret = (policy_diff_empty(diff) && plan.delta.n_changes == 0) || a.exit_zero ? 0 : 1;
out:
	if (d)
		cli_render(d);
	policy_diff_free(diff);
	policy_free(live);
	nl_plan_free(&plan);
	nk_ruleset_free(&want);
	nl_session_close(s);
	policy_free(p);
	diags_free(d);
	return ret;
}
