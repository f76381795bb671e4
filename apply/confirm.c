/* SPDX-License-Identifier: GPL-2.0-or-later */
/* confirm.c — `pinhole confirm [--cancel]`: keep the pending rules (the unlink of the
 * pending file is the commit point against the waiter's rename), or restore the snapshot
 * now (the rename is, and then the waiter is waited for). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "apply_internal.h"
#include "safefile.h"

#define MAX_PENDING 64

/* Makes the confirmed source the one a later --confirm restores, renamed within the
 * checked state directory. */
static void promote_source(struct job *j, const char *table)
{
	const char *dir = j->o->state_dir;
	char why[SAFEFILE_WHY], *next = file_name(table, "applied.new"), *cur = file_name(table, "applied");
	int dirfd = safefile_dir_open(dir, false, why);
	if (dirfd < 0 && errno != ENOENT) {
		say(j, (struct apply_event){ .kind = APPLY_EV_PROMOTE_FAILED, .text = why });
	} else if (dirfd >= 0 && next && cur && renameat(dirfd, next, dirfd, cur) < 0 && errno != ENOENT) {
		int err = errno;
		char *path = file_path(dir, table, "applied");
		say(j, (struct apply_event){ .kind = APPLY_EV_PROMOTE_FAILED, .text = path, .err = err });
		free(path);
	}
	if (dirfd >= 0)
		close(dirfd);
	free(next);
	free(cur);
}

static int keep(struct job *j, int dirfd, int fd, const char *table, bool alive, const struct pending_record *r)
{
	char *pending = file_name(table, SUFFIX_PENDING), *snap = file_name(table, SUFFIX_ROLLBACK);
	int ret = -1;
	/* the commit point against the waiter's rename at its deadline; the name is checked
	 * to be still the file we looked at, as close to the unlink as the API allows */
	if (pending && snap && pending_still_named(dirfd, pending, fd) && unlinkat(dirfd, pending, 0) == 0) {
		unlinkat(dirfd, snap, 0);
		promote_source(j, table);
		say(j, (struct apply_event){ .kind = APPLY_EV_CONFIRMED, .table = table });
		if (!alive)
			say(j, (struct apply_event){ .kind = APPLY_EV_TIMER_HAD_DIED, .n = r->pid });
		ret = 0;
	} else {
		say(j, (struct apply_event){ .kind = APPLY_EV_TOO_LATE, .table = table });
	}
	free(pending);
	free(snap);
	return ret;
}

/* Takes the name first (against the waiter's own rename), then waits for the waiter to see
 * that and leave: only then is the rollback ours alone. */
static int cancel(struct job *j, int dirfd, int fd, const char *table, bool alive, const struct pending_record *r)
{
	if (pending_take(dirfd, table) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_TOO_LATE, .table = table });
		return -1;
	}
	if (alive && flock(fd, LOCK_EX) < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_WAIT_FAILED, .err = errno });
		return -1;
	}
	say(j, (struct apply_event){ .kind = APPLY_EV_CANCELLED, .table = table });
	return rollback_run(j, dirfd, table, r->mode);
}

/* What a confirm finds when there is no pending file. */
static void say_nothing(struct job *j, int dirfd, const char *table)
{
	char *rolling = file_name(table, SUFFIX_ROLLING);
	bool late = rolling && faccessat(dirfd, rolling, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	say(j, (struct apply_event){ .kind = APPLY_EV_NOTHING_PENDING, .table = table, .flag = late });
	free(rolling);
}

/* The pending file is open (fd): keep or cancel, unless it is too late. */
static int confirm_open(struct job *j, int dirfd, int fd, const char *table)
{
	struct pending_record r = pending_record_read(fd);
	bool alive = flock(fd, LOCK_EX | LOCK_NB) < 0;
	if (!alive && !j->o->cancel && job_wall(j) >= r.deadline) {
		/* dead and past its deadline: what the waiter would have done */
		close(fd);
		say(j, (struct apply_event){ .kind = APPLY_EV_LATE_AND_DEAD, .table = table });
		pending_settle(j, table);
		return -1;
	}
	int ret = j->o->cancel ? cancel(j, dirfd, fd, table, alive, &r) : keep(j, dirfd, fd, table, alive, &r);
	close(fd);
	return ret;
}

static int confirm_table(struct job *j, const char *table)
{
	const char *dir = j->o->run_dir;
	char why[SAFEFILE_WHY], *name = file_name(table, SUFFIX_PENDING);
	int dirfd = safefile_dir_open(dir, false, why), fd, ret = -1;
	if (dirfd < 0 || !name) {
		if (errno == ENOENT)
			say(j, (struct apply_event){ .kind = APPLY_EV_NOTHING_PENDING });
		else
			say(j, (struct apply_event){ .kind = APPLY_EV_ERROR, .text = why });
	} else if ((fd = safefile_openat(dirfd, dir, name, O_RDWR, 0, why)) < 0) {
		if (errno == ENOENT)
			say_nothing(j, dirfd, table);
		else
			say(j, (struct apply_event){ .kind = APPLY_EV_ERROR, .text = why });
	} else {
		ret = confirm_open(j, dirfd, fd, table);
	}
	if (dirfd >= 0)
		close(dirfd);
	free(name);
	return ret;
}

/* Every table with a pending file; the names are collected first, since confirming one
 * changes the directory being read. */
static int confirm_all(struct job *j)
{
	char why[SAFEFILE_WHY], tables[MAX_PENDING][256];
	int dirfd = safefile_dir_open(j->o->run_dir, false, why), found = 0, failed = 0;
	DIR *dir = dirfd >= 0 ? fdopendir(dirfd) : NULL;
	struct dirent *de;
	if (dirfd < 0 && errno != ENOENT) {
		say(j, (struct apply_event){ .kind = APPLY_EV_ERROR, .text = why });
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
		failed += confirm_table(j, tables[i]) < 0;
	if (!found)
		say(j, (struct apply_event){ .kind = APPLY_EV_NONE_WAITING, .text = j->o->run_dir });
	return found && !failed ? 0 : -1;
}

int apply_confirm(const struct apply_options *o, struct apply_result *r)
{
	struct job j = { .o = o, .r = r };
	result_start(r);
	int ret = o->table ? confirm_table(&j, o->table) : confirm_all(&j);
	r->status = ret < 0 ? APPLY_ERROR : APPLY_CHANGED;
	return ret;
}
