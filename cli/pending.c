/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pending.c — the pending confirmation of `apply --confirm`, and the waiter that rolls it
 * back at its deadline.
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
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_apply.h"

#define PENDING "pending"
#define ROLLING "rolling-back"
#define SNAPSHOT "rollback"

/* The pending file's one line: "WAITER_PID DEADLINE(epoch s) MODE". For people and for
 * messages only: no decision rests on the PID. */
struct record {
	long pid, deadline;
	enum nk_mode mode;
};

static char *name_of(const char *table, const char *suffix)
{
	char *n = NULL;
	return asprintf(&n, "inet-%s.%s", table, suffix) < 0 ? NULL : n;
}

static void record_write(int fd, const struct record *r)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%ld %ld %s\n", r->pid, r->deadline,
			 r->mode == NK_MODE_SETS_ONLY ? "sets-only" : "table");
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n)
		return;	/* the lock still says everything that matters */
}

static struct record record_read(int fd)
{
	char line[96], mode[16] = "";
	struct record r = { 0 };
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = '\0';
	if (sscanf(line, "%ld %ld %15s", &r.pid, &r.deadline, mode) != 3)
		r = (struct record){ 0 };
	r.mode = !strcmp(mode, "sets-only") ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
	return r;
}

/* Whether fd's file still has name in dirfd: the waiter's way of seeing confirm or cancel. */
static bool still_named(int dirfd, const char *name, int fd)
{
	struct stat mine, now;
	return fstat(fd, &mine) == 0 && fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	       mine.st_dev == now.st_dev && mine.st_ino == now.st_ino;
}

/* ---- the rollback ---- */

/* Applies the snapshot again, or removes what pinhole applied when it owned nothing before.
 * Prints what happened to stderr (the log, for the waiter); returns 0 when the previous
 * state is back. */
static int restore_snapshot(const char *table, enum nk_mode mode, const char *snap)
{
	struct diags *d = diags_new();
	bool absent = false;
	int ret = -1;
	struct policy *p = d ? apply_snapshot_compile(snap, &absent, d) : NULL;
	struct nl_session *s = nl_session_open();
	struct apply_args a = { .use_cache = true };
	if (s && p && apply_policy("confirm", s, p, &a, d) != APPLY_ERROR) {
		fprintf(stderr, "pinhole: the previous rules are back\n");
		ret = 0;
	} else if (s && absent && remove_owned("confirm", s, table, mode, false, NULL) == 0) {
		fprintf(stderr, "pinhole: pinhole owned nothing before: removed what it applied\n");
		ret = 0;
	} else {
		fprintf(stderr, "pinhole: could not restore the previous rules of table inet %s%s%s\n", table,
			s ? "" : ": ", s ? "" : strerror(errno));
	}
	if (d)
		diags_render(d, stderr, false);
	fflush(NULL);
	nl_session_close(s);
	policy_free(p);
	diags_free(d);
	return ret;
}

/* With the file now named rolling-back locked by the caller: restores the snapshot (when
 * there is none, the apply that made the file died before it changed anything) and
 * forgets the unconfirmed rules. The rolling-back file goes last, so that a rollback cut
 * short is found and done again. */
static int roll_back(int dirfd, const char *table, enum nk_mode mode)
{
	char *snap = apply_snapshot_path(apply_run_dir(), table, SNAPSHOT), *snap_name = name_of(table, SNAPSHOT);
	char *rolling = name_of(table, ROLLING), *unconfirmed = apply_snapshot_path(apply_state_dir(), table, "applied.new");
	int ret = -1;
	if (snap && snap_name && rolling && unconfirmed) {
		if (faccessat(dirfd, snap_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			ret = restore_snapshot(table, mode, snap);
		} else {
			fprintf(stderr, "pinhole: the apply --confirm for table inet %s ended before it changed anything\n",
				table);
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

/* Takes the pending file's name for a rollback. 0: ours; -1 with errno ENOENT: confirm
 * (or another rollback) took it first. */
static int take_for_rollback(int dirfd, const char *table)
{
	char *pending = name_of(table, PENDING), *rolling = name_of(table, ROLLING);
	int ret = pending && rolling ? renameat2(dirfd, pending, dirfd, rolling, RENAME_NOREPLACE) : -1;
	free(pending);
	free(rolling);
	return ret;
}

/* ---- finding the state of a table ---- */

static void say_pending(const char *cmd, const char *table, const struct record *r)
{
	long left = r->deadline - (long)time(NULL);
	fprintf(stderr,
		"pinhole %s: table inet %s has a pending confirmation (apply --confirm, rolled back in %ld s unless "
		"confirmed): what %s does now would be undone by that rollback. Run 'pinhole confirm -t %s' to keep "
		"the pending rules, or 'pinhole confirm --cancel -t %s' to restore the previous ones now; then run "
		"this again\n",
		cmd, table, left > 0 ? left : 0, cmd, table, table);
}

/* One of the table's two files (pending or rolling-back), if there: refuses while a live
 * process holds it, rolls back when its holder is dead. */
static int settle_file(const char *cmd, int dirfd, const char *table, const char *suffix)
{
	char *name = name_of(table, suffix), why[SAFEFILE_WHY] = "out of memory";
	int fd = name ? safefile_openat(dirfd, apply_run_dir(), name, O_RDWR, 0, why) : -1;
	int ret = 0;
	bool missing = name && fd < 0 && errno == ENOENT;
	free(name);
	if (fd < 0) {
		if (missing)
			return 0;
		fprintf(stderr, "pinhole %s: %s\n", cmd, why);
		return -1;
	}
	struct record r = record_read(fd);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (!strcmp(suffix, PENDING))
			say_pending(cmd, table, &r);
		else
			fprintf(stderr, "pinhole %s: the rules of table inet %s are being rolled back to what they were "
					"before an apply --confirm; try again in a moment\n", cmd, table);
		ret = -1;
	} else if (!strcmp(suffix, PENDING) && take_for_rollback(dirfd, table) < 0) {
		ret = errno == ENOENT ? 0 : -1;	/* ENOENT: confirmed meanwhile */
		if (ret < 0)
			fprintf(stderr, "pinhole %s: cannot take over the pending confirmation: %s\n", cmd, strerror(errno));
	} else {
		fprintf(stderr, "pinhole %s: the rollback timer of table inet %s (pid %ld) is gone without %s: rolling "
				"back now, as it would have\n", cmd, table, r.pid,
			strcmp(suffix, PENDING) ? "finishing its rollback" : "a confirmation");
		ret = roll_back(dirfd, table, r.mode);
	}
	close(fd);
	return ret;
}

int pending_settle(const char *cmd, const char *table)
{
	char why[SAFEFILE_WHY];
	int dirfd = safefile_dir_open(apply_run_dir(), false, why);
	if (dirfd < 0 && errno == ENOENT)
		return 0;
	if (dirfd < 0) {
		fprintf(stderr, "pinhole %s: %s\n", cmd, why);
		return -1;
	}
	int ret = settle_file(cmd, dirfd, table, ROLLING);
	if (ret == 0)
		ret = settle_file(cmd, dirfd, table, PENDING);
	close(dirfd);
	return ret;
}

bool pending_any(const char *table)
{
	bool any = false;
	for (int i = 0; i < 2 && !any; i++) {
		char *path = apply_snapshot_path(apply_run_dir(), table, i ? ROLLING : PENDING);
		struct stat st;
		any = !path || lstat(path, &st) == 0;
		free(path);
	}
	return any;
}

/* ---- apply --confirm: the claim and the waiter ---- */

int pending_claim(struct pending_claim *c, const char *table, enum nk_mode mode, long seconds, char *why)
{
	char *claim = NULL, *pending = name_of(table, PENDING), *snap = name_of(table, SNAPSHOT);
	*c = (struct pending_claim){ .dirfd = -1, .fd = -1, .table = table };
	if (!pending || !snap || asprintf(&claim, "inet-%s.claim-%ld", table, (long)getpid()) < 0) {
		claim = NULL;
		snprintf(why, SAFEFILE_WHY, "out of memory");
	} else if ((c->dirfd = safefile_dir_open(apply_run_dir(), true, why)) >= 0) {
		/* made whole (locked, with its line) under a private name, then given its name
		 * only if nobody has it: two apply --confirm cannot both win */
		unlinkat(c->dirfd, claim, 0);
		c->fd = safefile_openat(c->dirfd, apply_run_dir(), claim, O_RDWR | O_CREAT | O_EXCL, 0600, why);
		if (c->fd >= 0 && flock(c->fd, LOCK_EX) == 0) {
			record_write(c->fd, &(struct record){ getpid(), (long)time(NULL) + seconds, mode });
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

void pending_release(struct pending_claim *c, bool abandon)
{
	if (abandon && c->dirfd >= 0) {
		char *pending = name_of(c->table, PENDING), *snap = name_of(c->table, SNAPSHOT);
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

/* The waiter lets go of everything apply's caller might wait on: the terminal, an ssh
 * session's pipes (ssh waits for every holder of them to close), the netlink socket. It
 * keeps its run directory (3) and its locked pending file (4); its output goes to the log. */
static void detach(struct pending_claim *c)
{
	char *log_name = name_of(c->table, "log"), why[SAFEFILE_WHY];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = log_name ? safefile_openat(c->dirfd, apply_run_dir(), log_name, O_WRONLY | O_CREAT | O_APPEND, 0600,
					     why) : -1;
	setsid();
	dup2(null >= 0 ? null : STDIN_FILENO, STDIN_FILENO);
	dup2(log >= 0 ? log : null, STDOUT_FILENO);
	dup2(log >= 0 ? log : null, STDERR_FILENO);
	/* the plan (stdout) and the messages (stderr) in the order they happen; stdout was
	 * flushed before the fork */
	setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
	/* fds 0-2 are taken, so dup's results are above them; move them to 3 and 4 */
	int dirfd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 10), fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 10);
	c->dirfd = dup3(dirfd, 3, O_CLOEXEC);
	c->fd = dup3(fd, 4, O_CLOEXEC);
	close_range(5, ~0u, 0);
	free(log_name);
}

/* Sleeps until the deadline, looking twice a second whether its file still has its name
 * (cheap, and it needs no signal from confirm); then, unless confirm or cancel took the
 * name, takes it and rolls back. */
static void waiter(struct pending_claim *c, enum nk_mode mode, long seconds)
{
	char *pending = name_of(c->table, PENDING);
	struct timespec now, end;
	detach(c);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	for (;;) {
		if (!pending || !still_named(c->dirfd, pending, c->fd))
			_exit(0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0)
			break;
		long step = left_ms < 500 ? left_ms : 500;
		nanosleep(&(struct timespec){ step / 1000, (step % 1000) * 1000000 }, NULL);
	}
	if (still_named(c->dirfd, pending, c->fd) && take_for_rollback(c->dirfd, c->table) == 0) {
		fprintf(stderr, "pinhole: not confirmed in time: restoring the rules of table inet %s\n", c->table);
		roll_back(c->dirfd, c->table, mode);
	}
	_exit(0);
}

int pending_start(struct pending_claim *c, enum nk_mode mode, long seconds)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		waiter(c, mode, seconds);
	if (pid < 0)
		return -1;
	record_write(c->fd, &(struct record){ pid, (long)time(NULL) + seconds, mode });
	/* our descriptors go; the lock stays with the waiter, which shares the open file */
	pending_release(c, false);
	return 0;
}

/* ---- pinhole confirm [--cancel] ---- */

/* Makes the confirmed source the one a later --confirm restores, renamed within the
 * checked state directory. */
static void promote_source(const char *table)
{
	char why[SAFEFILE_WHY], *next = name_of(table, "applied.new"), *cur = name_of(table, "applied");
	int dirfd = safefile_dir_open(apply_state_dir(), false, why);
	if (dirfd < 0 && errno != ENOENT)
		fprintf(stderr, "pinhole confirm: warning: cannot keep the applied rules: %s\n", why);
	else if (dirfd >= 0 && next && cur && renameat(dirfd, next, dirfd, cur) < 0 && errno != ENOENT)
		fprintf(stderr, "pinhole confirm: warning: cannot keep the applied rules in %s/%s: %s\n",
			apply_state_dir(), cur, strerror(errno));
	if (dirfd >= 0)
		close(dirfd);
	free(next);
	free(cur);
}

static int keep(int dirfd, int fd, const char *table, bool alive, const struct record *r)
{
	char *pending = name_of(table, PENDING), *snap = name_of(table, SNAPSHOT);
	int ret = -1;
	/* the commit point against the waiter's rename at its deadline; the name is checked
	 * to be still the file we looked at, as close to the unlink as the API allows */
	if (pending && snap && still_named(dirfd, pending, fd) && unlinkat(dirfd, pending, 0) == 0) {
		unlinkat(dirfd, snap, 0);
		promote_source(table);
		printf("confirmed: table inet %s keeps the rules applied last\n", table);
		if (!alive)
			fprintf(stderr, "pinhole confirm: note: its rollback timer (pid %ld) had died before the deadline\n",
				r->pid);
		ret = 0;
	} else {
		fprintf(stderr, "pinhole confirm: too late for table inet %s: the rollback has begun\n", table);
	}
	free(pending);
	free(snap);
	return ret;
}

/* Takes the name first (against the waiter's own rename), then waits for the waiter to see
 * that and leave: only then is the rollback ours alone. */
static int cancel(int dirfd, int fd, const char *table, bool alive, const struct record *r)
{
	if (take_for_rollback(dirfd, table) < 0) {
		fprintf(stderr, "pinhole confirm: too late for table inet %s: the rollback has begun\n", table);
		return -1;
	}
	if (alive && flock(fd, LOCK_EX) < 0) {
		fprintf(stderr, "pinhole confirm: cannot wait for the rollback timer: %s\n", strerror(errno));
		return -1;
	}
	fprintf(stderr, "pinhole confirm: cancelled: restoring the previous rules of table inet %s\n", table);
	return roll_back(dirfd, table, r->mode);
}

/* What a confirm finds when there is no pending file. */
static void say_nothing(int dirfd, const char *table)
{
	char *rolling = name_of(table, ROLLING);
	bool late = rolling && faccessat(dirfd, rolling, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	fprintf(stderr, "pinhole confirm: %s for table inet %s\n",
		late ? "too late: the rollback is under way" : "nothing pending (no apply --confirm, or it was rolled back)",
		table);
	free(rolling);
}

int pending_confirm(const char *table, bool cancel_it)
{
	char why[SAFEFILE_WHY], *name = name_of(table, PENDING);
	int dirfd = safefile_dir_open(apply_run_dir(), false, why), fd = -1, ret = -1;
	if (dirfd < 0 || !name) {
		fprintf(stderr, "pinhole confirm: %s\n", errno == ENOENT ? "nothing pending" : why);
	} else if ((fd = safefile_openat(dirfd, apply_run_dir(), name, O_RDWR, 0, why)) < 0) {
		if (errno == ENOENT)
			say_nothing(dirfd, table);
		else
			fprintf(stderr, "pinhole confirm: %s\n", why);
	} else {
		struct record r = record_read(fd);
		bool alive = flock(fd, LOCK_EX | LOCK_NB) < 0;
		if (!alive && !cancel_it && time(NULL) >= r.deadline) {
			/* dead and past its deadline: what the waiter would have done */
			close(fd);
			fd = -1;
			fprintf(stderr, "pinhole confirm: too late for table inet %s, and its rollback timer died:\n", table);
			pending_settle("confirm", table);
		} else {
			ret = cancel_it ? cancel(dirfd, fd, table, alive, &r) : keep(dirfd, fd, table, alive, &r);
		}
	}
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(name);
	return ret;
}
