/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pending.c — the pending confirmation of `apply --confirm`: the claim, and what the next
 * change of the table finds (a live waiter, a rollback under way, or a waiter that died).
 *
 * RUN/inet-TABLE.pending is the pending confirmation. The waiter holds an flock on it for
 * as long as it lives, and the kernel drops the lock however the waiter ends (kill -9, OOM,
 * a cgroup cleanup): the lock is the waiter's identity, not a PID that can be reused. So a
 * pending file that nobody holds locked belongs to a dead waiter, and whoever finds it rolls
 * back at once.
 *
 * Renaming the file to inet-TABLE.rolling-back (the waiter at its deadline, `confirm
 * --cancel`, or whoever found the waiter dead) and unlinking it (`confirm`) are the commit
 * points: exactly one of them wins the name. Nobody signals the waiter: it watches its file
 * and leaves when the file has lost its name. A rolling-back file stays, locked, until the
 * rollback is done; found unlocked, the rollback was cut short and is done again.
 *
 * While a confirmation is pending, apply, remove (and so a systemd reload or stop) refuse:
 * the rollback would undo what they did. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply_internal.h"
#include "safefile.h"

static void record_write(int fd, const struct pending_record *r)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%ld %ld %s\n", r->pid, r->deadline,
			 r->mode == NK_MODE_SETS_ONLY ? "sets-only" : "table");
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n)
		return;	/* the lock still says everything that matters */
}

struct pending_record pending_record_read(int fd)
{
	char line[96], mode[16] = "";
	struct pending_record r = { 0 };
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = '\0';
	if (sscanf(line, "%ld %ld %15s", &r.pid, &r.deadline, mode) != 3)
		r = (struct pending_record){ 0 };
	r.mode = !strcmp(mode, "sets-only") ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
	return r;
}

bool pending_still_named(int dirfd, const char *name, int fd)
{
	struct stat mine, now;
	return fstat(fd, &mine) == 0 && fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	       mine.st_dev == now.st_dev && mine.st_ino == now.st_ino;
}

int pending_take(int dirfd, const char *table)
{
	char *pending = file_name(table, SUFFIX_PENDING), *rolling = file_name(table, SUFFIX_ROLLING);
	int ret = pending && rolling ? renameat2(dirfd, pending, dirfd, rolling, RENAME_NOREPLACE) : -1;
	free(pending);
	free(rolling);
	return ret;
}

/* ---- finding the state of a table ---- */

/* A held lock: a live waiter (pending) or a rollback under way (rolling-back). */
static void say_busy(struct job *j, const char *table, const char *suffix, const struct pending_record *r)
{
	long left = r->deadline - (long)job_wall(j);
	if (!strcmp(suffix, SUFFIX_PENDING))
		say(j, (struct apply_event){ .kind = APPLY_EV_PENDING, .table = table, .n = left > 0 ? left : 0 });
	else
		say(j, (struct apply_event){ .kind = APPLY_EV_ROLLING_BACK, .table = table });
}

/* One of the table's two files (pending or rolling-back), if there: refuses while a live
 * process holds it, rolls back when its holder is dead. */
static int settle_file(struct job *j, int dirfd, const char *table, const char *suffix)
{
	char *name = file_name(table, suffix), why[SAFEFILE_WHY] = "out of memory";
	int fd = name ? safefile_openat(dirfd, j->o->run_dir, name, O_RDWR, 0, why) : -1;
	int ret = 0;
	bool missing = name && fd < 0 && errno == ENOENT;
	free(name);
	if (fd < 0) {
		if (missing)
			return 0;
		say(j, (struct apply_event){ .kind = APPLY_EV_ERROR, .text = why });
		return -1;
	}
	struct pending_record r = pending_record_read(fd);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		say_busy(j, table, suffix, &r);
		ret = -1;
	} else if (!strcmp(suffix, SUFFIX_PENDING) && pending_take(dirfd, table) < 0) {
		ret = errno == ENOENT ? 0 : -1;	/* ENOENT: confirmed meanwhile */
		if (ret < 0)
			say(j, (struct apply_event){ .kind = APPLY_EV_TAKEOVER_FAILED, .err = errno });
	} else {
		say(j, (struct apply_event){ .kind = APPLY_EV_WAITER_GONE, .table = table, .n = r.pid,
					     .flag = strcmp(suffix, SUFFIX_PENDING) != 0 });
		ret = rollback_run(j, dirfd, table, r.mode);
	}
	close(fd);
	return ret;
}

int pending_settle(struct job *j, const char *table)
{
	char why[SAFEFILE_WHY];
	int dirfd = safefile_dir_open(j->o->run_dir, false, why);
	if (dirfd < 0 && errno == ENOENT)
		return 0;
	if (dirfd < 0) {
		say(j, (struct apply_event){ .kind = APPLY_EV_ERROR, .text = why });
		return -1;
	}
	int ret = settle_file(j, dirfd, table, SUFFIX_ROLLING);
	if (ret == 0)
		ret = settle_file(j, dirfd, table, SUFFIX_PENDING);
	close(dirfd);
	return ret;
}

int apply_settle(const struct apply_options *o, struct apply_result *r)
{
	struct job j = { .o = o, .r = r };
	result_start(r);
	return pending_settle(&j, o->table);
}

bool pending_any(const struct apply_options *o, const char *table)
{
	bool any = false;
	for (int i = 0; i < 2 && !any; i++) {
		char *path = file_path(o->run_dir, table, i ? SUFFIX_ROLLING : SUFFIX_PENDING);
		struct stat st;
		any = !path || lstat(path, &st) == 0;
		free(path);
	}
	return any;
}

/* ---- apply --confirm: the claim ---- */

int pending_claim(struct job *j, struct apply_claim *c, const char *table, enum nk_mode mode, long seconds,
		  char *why)
{
	const char *dir = j->o->run_dir;
	char *claim = NULL, *pending = file_name(table, SUFFIX_PENDING), *snap = file_name(table, SUFFIX_ROLLBACK);
	*c = (struct apply_claim){ .dirfd = -1, .fd = -1, .table = result_own(j->r, strdup(table), free),
				   .mode = mode, .seconds = seconds };
	if (!c->table || !pending || !snap || asprintf(&claim, "inet-%s.claim-%ld", table, (long)getpid()) < 0) {
		claim = NULL;
		snprintf(why, SAFEFILE_WHY, "out of memory");
	} else if ((c->dirfd = safefile_dir_open(dir, true, why)) >= 0) {
		/* made whole (locked, with its line) under a private name, then given its name
		 * only if nobody has it: two apply --confirm cannot both win */
		unlinkat(c->dirfd, claim, 0);
		c->fd = safefile_openat(c->dirfd, dir, claim, O_RDWR | O_CREAT | O_EXCL, 0600, why);
		if (c->fd >= 0 && flock(c->fd, LOCK_EX) == 0) {
			record_write(c->fd, &(struct pending_record){ getpid(), (long)job_wall(j) + seconds, mode });
			if (renameat2(c->dirfd, claim, c->dirfd, pending, RENAME_NOREPLACE) == 0) {
				unlinkat(c->dirfd, snap, 0);	/* a stale one is not this claim's */
				free(claim), free(pending), free(snap);
				return 0;
			}
			snprintf(why, SAFEFILE_WHY, errno == EEXIST ? "another apply --confirm for table inet %s has just "
				 "begun" : "cannot claim the pending confirmation of table inet %s: %s", table, strerror(errno));
			unlinkat(c->dirfd, claim, 0);
		}
	}
	pending_release(c, false);
	free(claim), free(pending), free(snap);
	return -1;
}

void pending_record(const struct apply_claim *c, long pid, time_t deadline)
{
	record_write(c->fd, &(struct pending_record){ pid, (long)deadline, c->mode });
}

void pending_release(struct apply_claim *c, bool abandon)
{
	if (abandon && c->dirfd >= 0) {
		char *pending = file_name(c->table, SUFFIX_PENDING), *snap = file_name(c->table, SUFFIX_ROLLBACK);
		if (snap)
			unlinkat(c->dirfd, snap, 0);
		if (pending)
			unlinkat(c->dirfd, pending, 0);
		free(pending);
		free(snap);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->fd = c->dirfd = -1;
}
