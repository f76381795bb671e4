/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_remove.c — pinhole remove: the arguments, which tables (from the rules, -t, or every
 * policy applied before), and the guard's files; the removal itself is apply_remove. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "apply_json.h"
#include "cmd.h"
#include "cmd_apply.h"
#include "guard_stats.h"

static void remove_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole remove [--dry-run] [--format text|json] [-t TABLE [--sets-only]]\n"
		     "                      [-D NAME=VALUE]... [RULES]\n"
		     "\n"
		     "Deletes what pinhole owns in the kernel: the table (table mode), or only pinhole's sets\n"
		     "in the user's table (sets-only mode, sets recognized by their comment). The table and\n"
		     "mode come from RULES, from -t, or else from every policy applied before (the snapshots\n"
		     "in the state directory), or else table inet pinhole.\n"
		     "\n"
		     "  -n, --dry-run          say what would go, and have the kernel check it\n"
		     "  -t, --table TABLE      the table (family inet)\n"
		     "      --sets-only        only pinhole's sets in TABLE, not the table\n"
		     "  -D, --define NAME=VALUE  override 'define NAME' of RULES\n"
		     "  -f, --format FORMAT    text (default) or json: what was deleted, for programs\n"
		     "  -h, --help             show this help\n");
}

/* The guard's stats and state in the run directory, once that guard has stopped (apply/
 * may not know the guard: this is the command's to do). */
static void forget_guard_files(const struct apply_options *o, const char *table)
{
	long pid;
	int guard = guard_files_forget(o->run_dir, table, &pid);
	if (guard == GUARD_FILES_RUNNING)
		fprintf(stderr, "pinhole remove: note: the guard of table inet %s (pid %ld) still runs; its files in %s stay\n",
			table, pid, o->run_dir);
	else if (guard < 0)
		fprintf(stderr, "pinhole remove: cannot delete the guard's files in %s: %s\n", o->run_dir, strerror(errno));
}

/* rec: --format json's document, or NULL. */
static int remove_one(struct apply_options *o, const char *table, enum nk_mode mode, struct remove_record *rec)
{
	struct apply_result r = { 0 };
	o->table = table;
	o->mode = mode;
	int ret = apply_remove(o, &r);
	if (ret == 0 && !o->dry_run)
		forget_guard_files(o, table);
	if (rec)
		remove_record_from(rec, &r);
	apply_result_free(&r);
	return ret;
}

/* Every policy applied before, from the snapshots in the state directory. */
static int remove_applied(struct apply_options *o, bool *found, struct remove_record *rec)
{
	struct apply_applied *list;
	size_t n = apply_applied_list(o, &list);
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		if (list[i].table) {
			*found = true;
			ret |= remove_one(o, list[i].table, list[i].mode, rec);
		} else if (list[i].diags) {
			cli_render(list[i].diags);
		}
	}
	apply_applied_free(list, n);
	return ret;
}

struct remove_args {
	bool dry_run, sets_only, json;
	const char *table;		/* -t, or NULL */
	struct defines defs;
	const char *rules;		/* NULL: -t, or what was applied before */
};

/* Returns 0, 1 for --help (done), -1 after printing the problem. */
static int parse_args(int argc, char **argv, struct remove_args *a)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' }, { "table", required_argument, NULL, 't' },
		{ "sets-only", no_argument, NULL, 'S' }, { "define", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "nt:D:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': a->dry_run = true; break;
		case 't': a->table = optarg; break;
		case 'S': a->sets_only = true; break;
		case 'D': if (cli_add_define(&a->defs, optarg) < 0) return -1; break;
		case 'f':
			if (cli_format_json("remove", optarg, &a->json) < 0)
				return -1;
			break;
		case 'h': remove_usage(stdout); return 1;
		default: remove_usage(stderr); return -1;
		}
	}
	if (optind < argc - 1 || (optind == argc - 1 && (a->table || a->sets_only)) || (a->sets_only && !a->table)) {
		remove_usage(stderr);
		return -1;
	}
	a->rules = optind == argc - 1 ? argv[optind] : NULL;
	return 0;
}

int cmd_remove(int argc, char **argv)
{
	struct remove_args a = { 0 };
	struct remove_record record = { 0 }, *rec = NULL;
	struct diags *d = diags_new();
	struct policy *p = NULL;
	struct report rep = { .cmd = "remove" };
	struct apply_options o;
	bool found = false;
	int parsed = d ? parse_args(argc, argv, &a) : -1, ret = parsed > 0 ? 0 : 1;
	if (parsed == 0 && a.json)
		rec = &record;
	cli_apply_options(&o);
	o.dry_run = a.dry_run;
	o.report = report_event;
	o.report_ctx = &rep;
	rep.json = rec != NULL;	/* stdout is the document's */
	if (parsed != 0 || (a.rules && !(p = cli_compile(a.rules, &a.defs, d))) || cli_state_check("remove", &o, false) < 0 ||
	    !(o.session = cli_session_open("remove")))
		goto out;
	if (p)
		ret = remove_one(&o, p->table, p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE, rec);
	else if (a.table)
		ret = remove_one(&o, a.table, a.sets_only ? NK_MODE_SETS_ONLY : NK_MODE_TABLE, rec);
	else if ((ret = remove_applied(&o, &found, rec)) == 0 && !found)
		ret = remove_one(&o, "pinhole", NK_MODE_TABLE, rec);
	ret = ret ? 1 : 0;
out:
	if (d)
		cli_render(d);
	if (rec && remove_record_print(rec, a.dry_run, stdout) < 0) {
		fprintf(stderr, "pinhole remove: cannot write the JSON document: %s\n", strerror(errno));
		ret = 1;
	}
	nl_session_close(o.session);
	policy_free(p);
	diags_free(d);
	return ret;
}
