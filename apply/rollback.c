/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rollback.c — putting back what the kernel held before an apply --confirm: its snapshot
 * applied again, or, when pinhole owned nothing before, what it applied removed. Done by
 * the waiter at its deadline, by `confirm --cancel`, and by whoever finds a waiter dead. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "apply_internal.h"

static void policy_free_any(void *p)
{
	policy_free(p);
}

static void diags_free_any(void *d)
{
	diags_free(d);
}

/* Applies the snapshot again, or removes what pinhole applied when it owned nothing before.
 * Its events are the rollback's (they carry the snapshot's diagnostics); returns 0 when
 * the previous state is back. */
static int restore_snapshot(struct job *j, const char *table, enum nk_mode mode, const char *snap)
{
	struct diags *d = result_own(j->r, diags_new(), diags_free_any);
	struct job rj = { .o = j->o, .r = j->r, .rollback = true, .diags = d };
	bool absent = false;
	int ret = -1;
	struct policy *p = d ? result_own(j->r, snapshot_compile(snap, &absent, d), policy_free_any) : NULL;
	struct nl_session *s = nl_session_open();
	int err = s ? 0 : errno;
	if (s && p && apply_compiled(&rj, s, p, 0) != APPLY_ERROR) {
		say(&rj, (struct apply_event){ .kind = APPLY_EV_RESTORED });
		ret = 0;
	} else if (s && absent && remove_owned(&rj, s, table, mode, false) == 0) {
		say(&rj, (struct apply_event){ .kind = APPLY_EV_RESTORED, .flag = true });
		ret = 0;
	} else {
		say(&rj, (struct apply_event){ .kind = APPLY_EV_RESTORE_FAILED, .table = table, .err = err,
					      .flag = !s });
	}
	nl_session_close(s);
	return ret;
}

/* When there is no snapshot, the apply that made the file died before it changed
 * anything. */
int rollback_run(struct job *j, int dirfd, const char *table, enum nk_mode mode)
{
	const struct apply_options *o = j->o;
	char *snap = file_path(o->run_dir, table, SUFFIX_ROLLBACK), *snap_name = file_name(table, SUFFIX_ROLLBACK);
	char *rolling = file_name(table, SUFFIX_ROLLING), *unconfirmed = file_path(o->state_dir, table, "applied.new");
	int ret = -1;
	if (snap && snap_name && rolling && unconfirmed) {
		if (faccessat(dirfd, snap_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			ret = restore_snapshot(j, table, mode, snap);
		} else {
			say(j, (struct apply_event){ .kind = APPLY_EV_NOTHING_TO_UNDO, .table = table });
			ret = 0;
		}
		unlinkat(dirfd, snap_name, 0);
		unlink(unconfirmed);
		unlinkat(dirfd, rolling, 0);
	}
	free(snap);
	free(snap_name);
	free(rolling);
	free(unconfirmed);
	return ret;
}
