/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_confirm.c — commit confirmed: `pinhole apply --confirm` (the snapshot it takes, the
 * claim and the waiter of cli/pending.c) and `pinhole confirm [--cancel]`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"
#include "source.h"

/* ---- apply --confirm: the snapshot and the waiter ---- */

static int copy_file(const char *from, const char *to, char *why)
{
	char *text = NULL;
	size_t len = 0;
	struct safefile w;
	int fd = safefile_open(from, O_RDONLY, 0, false, why);
	if (fd < 0 || source_read_fd(fd, &text, &len) < 0) {
		if (fd >= 0)
			snprintf(why, SAFEFILE_WHY, "cannot read %s: %s", from, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (safefile_begin(&w, to, 0600, true) == 0)
		fwrite(text, 1, len, w.f);
	int ret = safefile_commit(&w, true, false);
	if (ret < 0)
		snprintf(why, SAFEFILE_WHY, "%s", w.why);
	free(text);
	return ret;
}

/* Whether pinhole owns anything in the kernel for this table and mode now. */
static bool owns_anything(const struct nk_ruleset *live)
{
	if (!live->table_exists)
		return false;
	if (live->mode == NK_MODE_TABLE)
		return live->table_marked;
	for (size_t i = 0; i < live->n_sets; i++)
		if (!live->sets[i].foreign)
			return true;
	return false;
}

/* Whether the kernel holds exactly what the snapshot file `applied` describes. */
static bool kernel_holds(struct nl_session *s, const char *applied, struct diags *d)
{
	bool absent = false, holds = false;
	struct nk_ruleset want;
	struct nl_plan check;
	struct policy *old = access(applied, R_OK) == 0 ? apply_snapshot_compile(applied, &absent, d) : NULL;
	if (old && nk_ruleset_from_policy(old, &want) == 0) {
		if (nl_plan_make(s, &want, apply_state_dir(), true, &check) == 0) {
			holds = check.delta.n_changes == 0;
			nl_plan_free(&check);
		}
		nk_ruleset_free(&want);
	}
	policy_free(old);
	return holds;
}

/* The snapshot to restore: the last applied source, provided the kernel still holds exactly
 * that; or "absent" when pinhole owns nothing yet. Written to the run directory. */
static int take_snapshot(struct nl_session *s, const struct policy *p, const char *snap, struct diags *d)
{
	struct nk_ruleset want;
	struct nl_plan plan;
	char *applied = apply_snapshot_path(apply_state_dir(), p->table, "applied");
	char why[SAFEFILE_WHY] = "";
	int ret = -1;
	if (!applied || nk_ruleset_from_policy(p, &want) < 0)
		goto out_path;
	if (nl_plan_make(s, &want, apply_state_dir(), true, &plan) < 0) {
		apply_plan_error("apply", p->table, errno);
		goto out_want;
	}
	if (!owns_anything(&plan.live))
		ret = apply_snapshot_write(snap, "-", NULL, true, why);
	else if (kernel_holds(s, applied, d))
		ret = copy_file(applied, snap, why);
	else
		fprintf(stderr, "pinhole apply: --confirm needs a snapshot of what the kernel holds now, and it does "
				"not hold what pinhole last applied (%s); apply once without --confirm\n", applied);
	if (ret < 0 && *why)
		fprintf(stderr, "pinhole apply: cannot keep a snapshot to roll back to: %s\n", why);
	nl_plan_free(&plan);
out_want:
	nk_ruleset_free(&want);
out_path:
	free(applied);
	return ret;
}

enum apply_outcome apply_confirmed(struct nl_session *s, const struct policy *p, struct apply_args *a,
				    struct diags *d)
{
	char *snap = apply_snapshot_path(apply_run_dir(), p->table, "rollback");
	char why[SAFEFILE_WHY];
	enum nk_mode mode = p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
	struct pending_claim c = { .dirfd = -1, .fd = -1 };
	enum apply_outcome out = APPLY_ERROR;
	if (!snap || pending_settle("apply", p->table) < 0)
		goto out;
	if (pending_claim(&c, p->table, mode, a->confirm, why) < 0) {
		fprintf(stderr, "pinhole apply: %s\n", why);
		goto out;
	}
	if (take_snapshot(s, p, snap, d) < 0 || (out = apply_policy("apply", s, p, a, d)) == APPLY_ERROR) {
		out = APPLY_ERROR;
		pending_release(&c, true);
		goto out;
	}
	if (pending_start(&c, mode, a->confirm) < 0) {
		fprintf(stderr, "pinhole apply: cannot start the rollback timer: %s; the new rules stay\n",
			strerror(errno));
		pending_release(&c, true);
		out = APPLY_ERROR;
		goto out;
	}
	if (a->record)
		apply_record_confirm(a->record, a->confirm);
	else
		printf("run 'pinhole confirm' within %ld seconds, or the previous state comes back\n", a->confirm);
out:
	free(snap);
	return out;
}

/* ---- pinhole confirm ---- */

static void confirm_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole confirm [--cancel] [-t TABLE]\n"
		     "\n"
		     "Keeps the rules that 'pinhole apply --confirm SECONDS' applied, for TABLE or every\n"
		     "table with a pending confirmation, and stops their rollback timer; with --cancel,\n"
		     "restores the previous rules now instead of at the deadline.\n"
		     "Exit status: 0 done, 1 nothing was pending (or it was too late).\n"
		     "\n"
		     "  -t, --table TABLE      only this table (family inet)\n"
		     "      --cancel           roll back now\n"
		     "  -h, --help             show this help\n");
}

#define MAX_PENDING 64

/* Every table with a pending file; the names are collected first, since confirming one
 * changes the directory being read. */
static int confirm_all(bool cancel)
{
	char why[SAFEFILE_WHY], tables[MAX_PENDING][256];
	int dirfd = safefile_dir_open(apply_run_dir(), false, why), found = 0, failed = 0;
	DIR *dir = dirfd >= 0 ? fdopendir(dirfd) : NULL;
	struct dirent *de;
	if (dirfd < 0 && errno != ENOENT) {
		fprintf(stderr, "pinhole confirm: %s\n", why);
		return -1;
	}
	while (dir && found < MAX_PENDING && (de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len <= 13 || strcmp(de->d_name + len - 8, ".pending"))
			continue;
		snprintf(tables[found++], sizeof(tables[0]), "%.*s", (int)(len - 13), de->d_name + 5);
	}
	if (dir)
		closedir(dir);
	else if (dirfd >= 0)
		close(dirfd);
	for (int i = 0; i < found; i++)
		failed += pending_confirm(tables[i], cancel) < 0;
	if (!found)
		fprintf(stderr, "pinhole confirm: nothing is waiting for a confirmation (%s)\n", apply_run_dir());
	return found && !failed ? 0 : -1;
}

int cmd_confirm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "table", required_argument, NULL, 't' }, { "cancel", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },	   { 0 },
	};
	bool cancel = false;
	int ret = 1, c;
	const char *table = NULL;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': table = optarg; break;
		case 'c': cancel = true; break;
		case 'h': confirm_usage(stdout); ret = 0; goto out;
		default: confirm_usage(stderr); goto out;
		}
	}
	if (optind != argc) {
		confirm_usage(stderr);
		goto out;
	}
	ret = (table ? pending_confirm(table, cancel) : confirm_all(cancel)) < 0 ? 1 : 0;
out:
	return ret;
}
