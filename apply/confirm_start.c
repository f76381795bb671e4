/* SPDX-License-Identifier: GPL-2.0-or-later */
/* confirm_start.c — apply --confirm: the claim, the snapshot it rolls back to, the apply,
 * and the hand-over to the waiter that the caller forks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_internal.h"
#include "safefile.h"
#include "source.h"

static int copy_file(const char *from, const char *to, char *why)
{
	char *text = NULL;
	size_t len = 0;
	int fd = safefile_open(from, O_RDONLY, 0, false, why), ret = -1;
	if (fd >= 0 && source_read_fd(fd, &text, &len) < 0)
		snprintf(why, SAFEFILE_WHY, "cannot read %s: %s", from, strerror(errno));
	else if (fd >= 0)
		ret = file_replace(to, "", text, len, why);
	if (fd >= 0)
		close(fd);
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

/* Whether the kernel holds exactly what the snapshot file `applied` describes; what the
 * snapshot's compilation had to say goes to the result's diagnostics. */
static bool kernel_holds(struct job *j, struct nl_session *s, const char *applied)
{
	bool absent = false, holds = false;
	struct nk_ruleset want;
	struct nl_plan check;
	struct apply_result *r = j->r;
	if (access(applied, R_OK) < 0 || (!r->diags && !(r->diags = diags_new())))
		return false;
	struct policy *old = snapshot_compile(applied, &absent, r->diags);
	if (old && nk_ruleset_from_policy(old, &want) == 0) {
		if (nl_plan_make(s, &want, j->o->state_dir, true, &check) == 0) {
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
static int take_snapshot(struct job *j, struct nl_session *s, const char *snap)
{
	const struct policy *p = j->o->policy;
	struct nk_ruleset want;
	struct nl_plan plan;
	char *applied = file_path(j->o->state_dir, p->table, "applied");
	char why[SAFEFILE_WHY] = "";
	int ret = -1;
	if (!applied || nk_ruleset_from_policy(p, &want) < 0)
		goto out_path;
	if (nl_plan_make(s, &want, j->o->state_dir, true, &plan) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_PLAN_ERROR, .table = p->table, .err = errno });
		goto out_want;
	}
	if (!owns_anything(&plan.live))
		ret = snapshot_write(snap, "-", NULL, 0, true, why);
	else if (kernel_holds(j, s, applied))
		ret = copy_file(applied, snap, why);
	else
		say(j, (struct apply_event){ .kind = APPLY_EV_SNAPSHOT_STALE, .text = applied });
	if (ret < 0 && *why)
		say(j, (struct apply_event){ .kind = APPLY_EV_SNAPSHOT_FAILED, .text = why });
	nl_plan_free(&plan);
out_want:
	nk_ruleset_free(&want);
out_path:
	free(applied);
	return ret;
}

enum apply_status apply_confirmed(struct job *j, struct nl_session *s)
{
	const struct apply_options *o = j->o;
	const struct policy *p = o->policy;
	char *snap = file_path(o->run_dir, p->table, "rollback");
	char why[SAFEFILE_WHY];
	enum nk_mode mode = p->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
	struct apply_claim *c = &j->r->waiter;
	enum apply_status out = APPLY_ERROR;
	if (!snap)
		goto out;
	if (pending_claim(j, c, p->table, mode, o->confirm, why) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_ERROR, .text = why });
		goto out;
	}
	if (take_snapshot(j, s, snap) < 0 || (out = apply_compiled(j, s, p, 0)) == APPLY_ERROR) {
		out = APPLY_ERROR;
		pending_release(c, true);
		goto out;
	}
	j->r->confirm_deadline = job_wall(j) + o->confirm;
out:
	free(snap);
	return out;
}

void apply_waiter_started(const struct apply_options *o, struct apply_result *r, pid_t pid)
{
	struct job j = { .o = o, .r = r };
	if (pid < 0) {
		say(&j, (struct apply_event){ .kind = APPLY_EV_WAITER_FAILED, .err = errno });
		pending_release(&r->waiter, true);
		r->status = APPLY_ERROR;
		return;
	}
	r->confirm_deadline = job_wall(&j) + r->waiter.seconds;
	pending_record(&r->waiter, pid, r->confirm_deadline);
	/* our descriptors go; the lock stays with the waiter, which shares the open file */
	pending_release(&r->waiter, false);
	say(&j, (struct apply_event){ .kind = APPLY_EV_CONFIRM_BY, .n = o->confirm });
	snapshot_remember(&j, "applied.new");
}
