/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_remove.c — pinhole remove: delete exactly what pinhole owns (its table, or in
 * sets-only mode its sets), found by name and handle, in one transaction. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void print_removal(const struct nk_ruleset *live, bool dry_run)
{
	const char *verb = dry_run ? "would remove" : "removed";
	if (live->mode == NK_MODE_TABLE) {
		printf("%s table inet %s (%zu sets, %zu chains)\n", verb, live->table, live->n_sets, live->n_chains);
		return;
	}
	for (size_t i = 0; i < live->n_sets; i++)
		if (!live->sets[i].foreign)
			printf("%s set %s from table inet %s\n", verb, live->sets[i].name, live->table);
}

static bool owns(const struct nk_ruleset *live)
{
	bool any = live->table_exists && live->mode == NK_MODE_TABLE && live->table_marked;
	for (size_t i = 0; live->table_exists && i < live->n_sets; i++)
		any |= !live->sets[i].foreign;
	return any;
}

int remove_owned(const char *cmd, struct nl_session *s, const char *table, enum nk_mode mode, bool dry_run,
		 struct remove_record *rec)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct nk_ruleset live;
		struct nl_result res = { 0 };
		if (nl_ruleset_read(s, table, mode, NL_READ_OBJECTS, &live) < 0) {
			fprintf(stderr, "pinhole %s: cannot read the ruleset: %s\n", cmd, strerror(errno));
			return -1;
		}
		if (mode == NK_MODE_TABLE && !nk_table_is_ours(&live)) {
			apply_plan_error(cmd, table, ENOTEMPTY);
			nk_ruleset_free(&live);
			return -1;
		}
		if (!owns(&live)) {
			if (rec)
				remove_record_table(rec, &live, false, NULL, true);
			else
				printf("nothing of pinhole's in table inet %s\n", table);
			nk_ruleset_free(&live);
			return 0;
		}
		struct nl_commit_opts o = { .check_only = dry_run, .genid = live.genid };
		int ret = nl_remove_commit(s, &live, &o, &res);
		bool stale = ret < 0 && res.stale, done = ret == 0 || res.committed;
		if (done && !rec)
			print_removal(&live, dry_run);
		else if (!done && !stale)
			apply_report(cmd, &res, NULL);
		if (rec && (done || !stale))
			remove_record_table(rec, &live, true, &res, done);
		if (!done && !stale && !res.n_errors)
			fprintf(stderr, "pinhole %s: %s\n", cmd, strerror(errno));
		nl_result_free(&res);
		nk_ruleset_free(&live);
		if (!stale) {
			if (done && !dry_run)
				nk_cache_drop(apply_state_dir(), table);
			return done ? 0 : -1;
		}
		fprintf(stderr, "pinhole %s: the ruleset changed while reading it; reading it again\n", cmd);
	}
	return -1;
}

/* Forgets the snapshot of what was applied to table, once it is gone from the kernel. */
static void forget_applied(const char *table)
{
	char *path = apply_snapshot_path(apply_state_dir(), table, "applied");
	if (path)
		unlink(path);
	free(path);
}

/* What pinhole wrote for table in the run directory: the guard's stats and state (once that
 * guard has stopped) and the log of an old commit-confirmed apply (none is pending or rolling
 * back: its waiter still writes there). */
static void forget_run_files(const char *table)
{
	long pid;
	int guard = guard_files_forget(apply_run_dir(), table, &pid);
	if (guard == GUARD_FILES_RUNNING)
		fprintf(stderr, "pinhole remove: note: the guard of table inet %s (pid %ld) still runs; its files in %s stay\n",
			table, pid, apply_run_dir());
	else if (guard < 0)
		fprintf(stderr, "pinhole remove: cannot delete the guard's files in %s: %s\n", apply_run_dir(), strerror(errno));
	char *pending = apply_snapshot_path(apply_run_dir(), table, "pending");
	char *rolling = apply_snapshot_path(apply_run_dir(), table, "pending.rolling-back");
	char *log = apply_snapshot_path(apply_run_dir(), table, "log");
	if (pending && rolling && log && access(pending, F_OK) < 0 && access(rolling, F_OK) < 0)
		unlink(log);
	free(pending);
	free(rolling);
	free(log);
}

static int remove_one(struct nl_session *s, const char *table, enum nk_mode mode, bool dry_run,
		      struct remove_record *rec)
{
	/* a removal during a confirmation window would be undone by its rollback */
	if (!dry_run && pending_settle("remove", table) < 0)
		return -1;
	int ret = remove_owned("remove", s, table, mode, dry_run, rec);
	if (ret == 0 && !dry_run) {
		forget_applied(table);
		forget_run_files(table);
	}
	return ret;
}

/* Every policy applied before, from the snapshots in the state directory. */
static int remove_applied(struct nl_session *s, bool dry_run, bool *found, struct remove_record *rec)
{
	DIR *dir = opendir(apply_state_dir());
	struct dirent *de;
	int ret = 0;
	while (dir && (de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len < 14 || strcmp(de->d_name + len - 8, ".applied"))
			continue;
		char *path = NULL;
		bool absent = false;
		struct diags *d = diags_new();
		struct policy *p = d && asprintf(&path, "%s/%s", apply_state_dir(), de->d_name) >= 0
					   ? apply_snapshot_compile(path, &absent, d)
					   : NULL;
		if (p) {
			*found = true;
			enum nk_mode mode = p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
			ret |= remove_one(s, p->table, mode, dry_run, rec);
		} else if (d) {
			cli_render(d);
		}
		policy_free(p);
		diags_free(d);
		free(path);
	}
	if (dir)
		closedir(dir);
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
	struct nl_session *s = NULL;
	bool found = false;
	int parsed = d ? parse_args(argc, argv, &a) : -1, ret = parsed > 0 ? 0 : 1;
	if (parsed == 0 && a.json)
		rec = &record;
	if (parsed != 0 || (a.rules && !(p = cli_compile(a.rules, &a.defs, d))) || apply_state_dir_check("remove", false) < 0 ||
	    !(s = apply_session_open("remove")))
		goto out;
	if (p)
		ret = remove_one(s, p->table, p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE,
				 a.dry_run, rec);
	else if (a.table)
		ret = remove_one(s, a.table, a.sets_only ? NK_MODE_SETS_ONLY : NK_MODE_TABLE, a.dry_run, rec);
	else if ((ret = remove_applied(s, a.dry_run, &found, rec)) == 0 && !found)
		ret = remove_one(s, "pinhole", NK_MODE_TABLE, a.dry_run, rec);
	ret = ret ? 1 : 0;
out:
	if (d)
		cli_render(d);
	if (rec && remove_record_print(rec, a.dry_run, stdout) < 0) {
		fprintf(stderr, "pinhole remove: cannot write the JSON document: %s\n", strerror(errno));
		ret = 1;
	}
	nl_session_close(s);
	policy_free(p);
	diags_free(d);
	return ret;
}
