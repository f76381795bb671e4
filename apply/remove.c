/* SPDX-License-Identifier: GPL-2.0-or-later */
/* remove.c — delete exactly what pinhole owns (its table, or in sets-only mode its sets),
 * found by name and handle, in one transaction; and forget what was kept about it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_internal.h"

static bool owns(const struct nk_ruleset *live)
{
	bool any = live->table_exists && live->mode == NK_MODE_TABLE && live->table_marked;
	for (size_t i = 0; live->table_exists && i < live->n_sets; i++)
		any |= !live->sets[i].foreign;
	return any;
}

/* One try. Returns 0 done, 1 stale (try again), -1 failed. */
static int remove_attempt(struct job *j, struct nl_session *s, const char *table, enum nk_mode mode, bool dry_run,
			  unsigned number)
{
	struct apply_attempt *a = attempt_new(j, number);
	struct nk_ruleset *live = a ? &a->plan.live : NULL;
	if (!a) {
		say(j, (struct apply_event){ .kind = APPLY_EV_NO_MEMORY });
		return -1;
	}
	a->dry_run = dry_run;
	j->r->last = j->rollback ? j->r->last : a;
	if (nl_ruleset_read(s, table, mode, NL_READ_OBJECTS, live) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_PLAN_ERROR, .table = table, .err = errno });
		return -1;
	}
	if (mode == NK_MODE_TABLE && !nk_table_is_ours(live)) {
		say(j, (struct apply_event){ .kind = APPLY_EV_PLAN_ERROR, .table = table, .err = ENOTEMPTY });
		return -1;
	}
	if (!owns(live)) {
		say(j, (struct apply_event){ .kind = APPLY_EV_NOTHING_OWNED, .table = table, .attempt = a });
		j->r->status = j->rollback ? j->r->status : APPLY_NO_CHANGE;
		return 0;
	}
	struct nl_commit_opts co = { .check_only = dry_run, .genid = live->genid };
	int ret = nl_remove_commit(s, live, &co, &a->commit), err = errno;
	bool stale = ret < 0 && a->commit.stale, done = ret == 0 || a->commit.committed;
	if (done)
		say(j, (struct apply_event){ .kind = APPLY_EV_REMOVED, .attempt = a });
	else if (!stale && a->commit.n_errors)
		say(j, (struct apply_event){ .kind = APPLY_EV_REJECTED, .attempt = a });
	else if (!stale)
		say(j, (struct apply_event){ .kind = APPLY_EV_REMOVE_FAILED, .err = err, .attempt = a });
	if (done && !dry_run)
		nk_cache_drop(j->o->state_dir, table);
	if (done && !j->rollback)
		j->r->status = APPLY_CHANGED;
	return stale ? 1 : done ? 0 : -1;
}

int remove_owned(struct job *j, struct nl_session *s, const char *table, enum nk_mode mode, bool dry_run)
{
	for (unsigned i = 0; i < 3; i++) {
		int ret = remove_attempt(j, s, table, mode, dry_run, i);
		if (ret <= 0)
			return ret;
		say(j, (struct apply_event){ .kind = APPLY_EV_REMOVE_STALE });
	}
	return -1;
}

/* What was kept about table, once it is gone from the kernel: the snapshot of what was
 * applied, and the log of an old commit-confirmed apply (none is pending or rolling back:
 * its waiter would still write there). */
static void forget(const struct apply_options *o, const char *table)
{
	char *applied = file_path(o->state_dir, table, "applied");
	char *pending = file_path(o->run_dir, table, SUFFIX_PENDING);
	char *rolling = file_path(o->run_dir, table, SUFFIX_ROLLING);
	char *log = file_path(o->run_dir, table, "log");
	if (applied)
		unlink(applied);
	if (pending && rolling && log && access(pending, F_OK) < 0 && access(rolling, F_OK) < 0)
		unlink(log);
	free(applied);
	free(pending);
	free(rolling);
	free(log);
}

int apply_remove(const struct apply_options *o, struct apply_result *r)
{
	struct job j = { .o = o, .r = r };
	bool own;
	int ret = -1;
	result_start(r);
	r->status = APPLY_ERROR;
	struct nl_session *s = job_session(&j, &own);
	if (!s) {
		say(&j, (struct apply_event){ .kind = APPLY_EV_SESSION_ERROR, .err = errno });
		return -1;
	}
	/* a removal during a confirmation window would be undone by its rollback */
	if (o->dry_run || pending_settle(&j, o->table) == 0)
		ret = remove_owned(&j, s, o->table, o->mode, o->dry_run);
	if (ret == 0 && !o->dry_run)
		forget(o, o->table);
	if (ret < 0)
		r->status = APPLY_ERROR;
	if (own)
		nl_session_close(s);
	return ret;
}

static void applied_add(const struct apply_options *o, const char *name, struct apply_applied *e)
{
	char *path = NULL;
	bool absent = false;
	struct policy *p = NULL;
	*e = (struct apply_applied){ .diags = diags_new() };
	if (!e->diags || asprintf(&path, "%s/%s", o->state_dir, name) < 0)
		return;
	if ((p = snapshot_compile(path, &absent, e->diags))) {
		e->table = strdup(p->table);
		e->mode = p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
		diags_free(e->diags);
		e->diags = NULL;
	}
	policy_free(p);
	free(path);
}

size_t apply_applied_list(const struct apply_options *o, struct apply_applied **out)
{
	DIR *dir = opendir(o->state_dir);
	struct dirent *de;
	size_t n = 0;
	*out = NULL;
	while (dir && (de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len < 14 || strcmp(de->d_name + len - 8, ".applied"))
			continue;
		struct apply_applied *grown = realloc(*out, (n + 1) * sizeof(**out));
		if (!grown)
			break;
		*out = grown;
		applied_add(o, de->d_name, &grown[n++]);
	}
	if (dir)
		closedir(dir);
	return n;
}

void apply_applied_free(struct apply_applied *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].table);
		diags_free(list[i].diags);
	}
	free(list);
}
