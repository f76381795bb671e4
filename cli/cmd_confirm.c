/* cmd_confirm.c — commit confirmed: `pinhole apply --confirm` (the snapshot it takes and the
 * waiter that restores it) and `pinhole confirm`, which keeps what was applied. The pending
 * file names the waiter; removing the file first is what confirms (the waiter renames it
 * at its deadline, so exactly one of the two wins). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_apply.h"
#include "source.h"

/* ---- apply --confirm: the snapshot and the waiter ---- */

static int copy_file(const char *from, const char *to)
{
	char *text;
	size_t len;
	struct output o;
	if (source_read(from, &text, &len) < 0)
		return -1;
	int ret = cli_output_open(&o, to);
	if (ret == 0) {
		fwrite(text, 1, len, o.f);
		ret = cli_output_close(&o, true);
	}
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
	int ret = -1;
	if (!applied || nk_ruleset_from_policy(p, &want) < 0)
		goto out_path;
	if (nl_plan_make(s, &want, apply_state_dir(), true, &plan) < 0) {
		apply_plan_error("apply", p->table, errno);
		goto out_want;
	}
	if (!owns_anything(&plan.live))
		ret = apply_snapshot_write(snap, "-", NULL, true);
	else if (kernel_holds(s, applied, d))
		ret = copy_file(applied, snap);
	else
		fprintf(stderr, "pinhole apply: --confirm needs a snapshot of what the kernel holds now, and it does "
				"not hold what pinhole last applied (%s); apply once without --confirm\n", applied);
	nl_plan_free(&plan);
out_want:
	nk_ruleset_free(&want);
out_path:
	free(applied);
	return ret;
}

static void rollback(const char *snap, const struct policy *now)
{
	struct diags *d = diags_new();
	bool absent = false;
	struct policy *p = d ? apply_snapshot_compile(snap, &absent, d) : NULL;
	struct nl_session *s = nl_session_open();
	fprintf(stderr, "pinhole: not confirmed in time: restoring %s\n", snap);
	struct apply_args a = { .use_cache = true };
	enum nk_mode mode = now->mode == POLICY_MODE_SETS_ONLY ? NK_MODE_SETS_ONLY : NK_MODE_TABLE;
	if (s && p && apply_policy("confirm", s, p, &a, d) != APPLY_ERROR)
		fprintf(stderr, "pinhole: the previous rules are back\n");
	else if (s && absent && remove_owned("confirm", s, now->table, mode, false) == 0)
		fprintf(stderr, "pinhole: pinhole owned nothing before: removed what it applied\n");
	if (d)
		diags_render(d, stderr, false);
	fflush(NULL);
	nl_session_close(s);
	policy_free(p);
	diags_free(d);
}

/* The waiter lets go of everything apply's caller might wait on: the terminal, an ssh
 * session's pipes (ssh waits for every holder of them to close), the netlink socket. Its
 * output goes to the log. */
static void detach(const char *log_path)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	setsid();
	dup2(null >= 0 ? null : STDIN_FILENO, STDIN_FILENO);
	dup2(log >= 0 ? log : null, STDOUT_FILENO);
	dup2(log >= 0 ? log : null, STDERR_FILENO);
	close_range(3, ~0u, 0);
}

/* The waiter: a detached child that sleeps until the deadline, then restores the snapshot
 * unless `pinhole confirm` removed the pending file first (it also SIGTERMs us). */
static void waiter(const char *pending, const char *snap, const char *log_path, const char *unconfirmed,
		   const struct policy *now, long seconds)
{
	struct timespec ts = { seconds, 0 };
	detach(log_path);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	char *taken = NULL;
	/* rename is the commit point between us and `pinhole confirm` racing at the deadline */
	if (asprintf(&taken, "%s.rolling-back", pending) >= 0 && rename(pending, taken) == 0) {
		rollback(snap, now);
		unlink(taken);
		unlink(snap);
		unlink(unconfirmed);	/* the rules that were not confirmed */
	}
	free(taken);
	_exit(0);
}

static int start_waiter(const struct policy *p, long seconds, const char *pending, const char *snap)
{
	char *log_path = apply_snapshot_path(apply_run_dir(), p->table, "log");
	char *unconfirmed = apply_snapshot_path(apply_state_dir(), p->table, "applied.new");
	fflush(NULL);
	pid_t pid = log_path && unconfirmed ? fork() : -1;
	if (pid == 0)
		waiter(pending, snap, log_path, unconfirmed, p, seconds);
	free(log_path);
	free(unconfirmed);
	if (pid < 0)
		return -1;
	FILE *f = fopen(pending, "w");
	if (!f) {
		kill(pid, SIGTERM);
		return -1;
	}
	fprintf(f, "%ld %ld\n", (long)pid, (long)time(NULL) + seconds);
	return fclose(f);
}

enum apply_outcome apply_confirmed(struct nl_session *s, const struct policy *p, struct apply_args *a,
				    struct diags *d)
{
	char *pending = apply_snapshot_path(apply_run_dir(), p->table, "pending");
	char *snap = apply_snapshot_path(apply_run_dir(), p->table, "rollback");
	enum apply_outcome out = APPLY_ERROR;
	if (!pending || !snap || (mkdir(apply_run_dir(), 0700) < 0 && errno != EEXIST)) {
		fprintf(stderr, "pinhole apply: cannot use %s: %s\n", apply_run_dir(), strerror(errno));
		goto out;
	}
	if (access(pending, F_OK) == 0) {
		fprintf(stderr, "pinhole apply: a confirmation is pending for table %s (%s); run 'pinhole confirm' "
				"first\n", p->table, pending);
		goto out;
	}
	if (take_snapshot(s, p, snap, d) < 0)
		goto out;
	out = apply_policy("apply", s, p, a, d);
	if (out == APPLY_ERROR) {
		unlink(snap);
		goto out;
	}
	if (start_waiter(p, a->confirm, pending, snap) < 0) {
		fprintf(stderr, "pinhole apply: cannot start the rollback timer: %s; the new rules stay\n",
			strerror(errno));
		out = APPLY_ERROR;
		goto out;
	}
	printf("run 'pinhole confirm' within %ld seconds, or the previous state comes back\n", a->confirm);
out:
	free(pending);
	free(snap);
	return out;
}

/* ---- pinhole confirm ---- */

static void confirm_usage(FILE *out)
{
	fprintf(out, "Usage: pinhole confirm [-t TABLE]\n"
		     "\n"
		     "Keeps the rules that 'pinhole apply --confirm SECONDS' applied, for TABLE or every\n"
		     "table with a pending confirmation, and stops their rollback timer.\n"
		     "Exit status: 0 confirmed, 1 nothing was pending (or it was too late).\n"
		     "\n"
		     "  -t, --table TABLE      only this table (family inet)\n"
		     "  -h, --help             show this help\n");
}

static void stop_waiter(const char *pending_text)
{
	long pid = strtol(pending_text, NULL, 10);
	if (pid > 1)
		kill((pid_t)pid, SIGTERM);
}

/* Makes the confirmed source the one a later --confirm restores. */
static void promote_source(const char *table)
{
	char *next = apply_snapshot_path(apply_state_dir(), table, "applied.new");
	char *cur = apply_snapshot_path(apply_state_dir(), table, "applied");
	if (next && cur && rename(next, cur) < 0 && errno != ENOENT)
		fprintf(stderr, "pinhole confirm: warning: cannot keep the applied rules in %s: %s\n", cur,
			strerror(errno));
	free(next);
	free(cur);
}

static int confirm_table(const char *table)
{
	char *pending = apply_snapshot_path(apply_run_dir(), table, "pending");
	char *snap = apply_snapshot_path(apply_run_dir(), table, "rollback");
	char text[64] = "";
	int ret = -1;
	FILE *f = pending ? fopen(pending, "r") : NULL;
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	if (!pending || !snap) {
		errno = ENOMEM;
	} else if (unlink(pending) == 0) {
		stop_waiter(text);
		unlink(snap);
		promote_source(table);
		printf("confirmed: table inet %s keeps the rules applied last\n", table);
		ret = 0;
	} else {
		fprintf(stderr, "pinhole confirm: nothing pending for table inet %s%s\n", table,
			errno == ENOENT ? " (no apply --confirm, or the rollback has already begun)" : "");
	}
	free(pending);
	free(snap);
	return ret;
}

static int confirm_all(void)
{
	DIR *dir = opendir(apply_run_dir());
	struct dirent *de;
	int found = 0, failed = 0;
	while (dir && (de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "inet-", 5) || len <= 13 || strcmp(de->d_name + len - 8, ".pending"))
			continue;
		char table[256];
		snprintf(table, sizeof(table), "%.*s", (int)(len - 13), de->d_name + 5);
		found++;
		failed += confirm_table(table) < 0;
	}
	if (dir)
		closedir(dir);
	if (!found)
		fprintf(stderr, "pinhole confirm: nothing is waiting for a confirmation (%s)\n", apply_run_dir());
	return found && !failed ? 0 : -1;
}

int cmd_confirm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "table", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int ret = 1, c;
	const char *table = NULL;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': table = optarg; break;
		case 'h': confirm_usage(stdout); ret = 0; goto out;
		default: confirm_usage(stderr); goto out;
		}
	}
	if (optind != argc) {
		confirm_usage(stderr);
		goto out;
	}
	ret = (table ? confirm_table(table) : confirm_all()) < 0 ? 1 : 0;
out:
	return ret;
}
